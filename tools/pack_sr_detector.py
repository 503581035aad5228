"""Pack an SR + detector config's two checkpoints into one file that mmdet tools load.

    python tools/pack_sr_detector.py CONFIG OUT [--cfg-options k=v ...]

Builds the SRDetector of CONFIG (configs/sr_detectors/*.py), which loads the SR checkpoint
(``model.sr.checkpoint``) and the detector checkpoint (``model.detector_checkpoint``) with their
checks, and writes ``{'meta': {'dataset_meta': <class names>, 'config': CONFIG}, 'state_dict':
{generator.*, detector.*}}`` atomically to OUT. Then, on any machine:

    DetInferencer(model=CONFIG_WITHOUT_CHECKPOINT_PATHS, weights=OUT)
    python tools/sr_detect.py CONFIG lr_images/ --weights OUT --out-dir out/ \\
        --cfg-options model.detector_checkpoint=None model.sr.checkpoint=None

Faults (missing, refused or mismatching checkpoints, an unwritable OUT) are one
``pack_sr_detector: error:`` line, exit 2.
"""
import argparse
import sys

from quiet_imports import quiet_third_party_warnings  # stdlib only

quiet_third_party_warnings()  # before the stack is imported: a tool prints its own lines

from mmengine.config import DictAction  # noqa: E402

from fdsr_mm.utils.cli_errors import run_tool  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='SR + detector config (configs/sr_detectors/*.py)')
    parser.add_argument('out', help='output checkpoint (.pth)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value pairs')
    args = parser.parse_args(argv)

    import fdsr_mm  # noqa: F401  (registers SRDetector)
    from fdsr_mm.apis.inferencers import init_sr_detector
    from fdsr_mm.utils.io import torch_save_atomic
    model = init_sr_detector(args.config, None, 'cpu', args.cfg_options)
    meta = dict(dataset_meta=model.dataset_meta, config=args.config)
    torch_save_atomic(dict(meta=meta, state_dict=model.state_dict()), args.out)
    print(f'packed {len(model.state_dict())} tensors of {args.config} -> {args.out}')
    return 0


def extra_faults() -> tuple:
    """Besides run_tool's faults: an unwritable OUT, a missing registry name or weight."""
    from fdsr_mm.utils.io import AtomicWriteError
    return (AtomicWriteError, KeyError)


if __name__ == '__main__':
    sys.exit(run_tool('pack_sr_detector', main, extra_faults()))
