"""Write the random initialisation of an mmdet detector as a checkpoint (a "random" feature prior).

    python tools/init_detector_checkpoint.py CONFIG OUT --seed S [--cfg-options k=v ...]

Builds ``model`` of CONFIG (a path, ``mmdet::...`` or ``fdsr_mm::...`` name) in the config's
default scope, after seeding Python, NumPy and torch with S, and runs its ``init_weights()``
exactly as mmengine's Runner does before training; ``Pretrained`` init_cfgs are dropped first, so
no weights are downloaded or read. The output is an mmengine checkpoint
``{'meta': {...seed, config...}, 'state_dict': {...}}`` with the detector's keys
(``backbone.*``, ...), which ``DetectorFeatureLoss(detector_config=CONFIG, checkpoint=OUT)``
loads: the miniature study's Fig. 3 "random" prior, reproducible from its seed. The same seed
gives identical tensors.

Every fault (a missing or unreadable config, an output path that is a folder or cannot be
written) is one ``error:`` line naming the file, exit code 2. OUT is written to a temp file in
its own folder and renamed into place; the temp file is removed on any failure.
"""
import argparse
import os
import os.path as osp
import sys

from quiet_imports import quiet_third_party_warnings  # stdlib only

quiet_third_party_warnings()  # before the stack is imported: a tool prints its own lines

# mmengine/mmdet/fdsr_mm are imported once the paths are checked (seconds of imports and
# third-party warnings are not what a wrong path deserves).

PROG = 'init_detector_checkpoint'


class InitError(Exception):
    """A fault of the command line's files: reported as one line, exit code 2."""


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='mmdet detector config (path, mmdet:: or fdsr_mm:: name)')
    parser.add_argument('out', help='output checkpoint (.pth)')
    parser.add_argument('--seed', type=int, required=True, help='random seed of the init')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value pairs')
    return parser.parse_args(argv)


def check_paths(config, out):
    """Fail before any work when ``config`` is no file or ``out`` is a folder."""
    if '::' not in config and not osp.isfile(config):
        raise InitError(f'{config} does not exist: pass an mmdet detector config file (or an '
                        "mmdet::/fdsr_mm:: config name).")
    if osp.isdir(out) or out.endswith(('/', os.sep)):
        raise InitError(f'{out} is a folder: pass the output file path, e.g. '
                        f'{osp.join(out, "random_init_seed0.pth")}.')


def drop_pretrained(cfg):
    """Remove every ``init_cfg`` of type ``Pretrained`` (and ``pretrained=``) in a model config,
    so that modules fall back to their own random initialisation."""
    if isinstance(cfg, (list, tuple)):
        for item in cfg:
            drop_pretrained(item)
    if not isinstance(cfg, dict):
        return
    init = cfg.get('init_cfg', None)
    inits = init if isinstance(init, (list, tuple)) else [init]
    if any(isinstance(i, dict) and i.get('type') == 'Pretrained' for i in inits):
        cfg['init_cfg'] = None
    if cfg.get('pretrained', None) is not None:
        cfg['pretrained'] = None
    for value in cfg.values():
        drop_pretrained(value)


def build_random_detector(config, seed, cfg_options=None):
    """(model, cfg) of ``config``'s ``model``, seeded with ``seed`` and ``init_weights()``-ed."""
    from mmengine.registry import MODELS, DefaultScope
    from mmengine.runner import set_random_seed

    from fdsr_mm.models.losses.detector_feature_loss import load_extractor_config
    try:
        cfg = load_extractor_config(config, cfg_options)
    except FileNotFoundError as err:
        raise InitError(str(err)) from err
    except Exception as err:  # noqa: BLE001  a config can fail in many ways; name the file
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise InitError(f'{config} could not be read as a config ({type(err).__name__}: '
                        f'{first}).') from err
    if cfg.get('model', None) is None:
        raise InitError(f'{config} has no model: pass an mmdet detector config.')
    drop_pretrained(cfg.model)
    scope = cfg.get('default_scope', 'mmdet')
    set_random_seed(seed)
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(cfg.model)
    model.init_weights()
    return model, cfg


def save_atomic(obj, out):
    """Write ``obj`` to ``out`` atomically (:func:`fdsr_mm.utils.io.torch_save_atomic`)."""
    from fdsr_mm.utils.io import AtomicWriteError, torch_save_atomic
    try:
        torch_save_atomic(obj, out)
    except AtomicWriteError as err:
        raise InitError(str(err)) from err


def main(argv=None):
    """Exit code 0 on success; 2 with one ``error:`` line (naming the file) on a fault."""
    args = parse_args(argv)
    try:
        check_paths(args.config, args.out)
        import mmdet
        import mmengine

        import fdsr_mm  # noqa: F401  (registers the study's modules; seconds)
        model, _ = build_random_detector(args.config, args.seed, args.cfg_options)
        meta = dict(seed=args.seed, config=args.config, cfg_options=args.cfg_options or {},
                    tool='tools/init_detector_checkpoint.py', init='random (init_weights)',
                    mmdet_version=mmdet.__version__, mmengine_version=mmengine.__version__)
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        save_atomic(dict(meta=meta, state_dict=state), args.out)
    except InitError as err:
        print(f'{PROG}: error: {err}', file=sys.stderr)
        return 2
    n_values = sum(v.numel() for v in state.values())
    print(f'wrote the seed-{args.seed} random init of {args.config} ({len(state)} tensors, '
          f'{n_values:,} values) to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
