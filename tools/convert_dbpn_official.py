"""Convert an official D-DBPN checkpoint (alterzero/DBPN-Pytorch) into an fdsr_mm checkpoint.

    python tools/convert_dbpn_official.py DBPN_x4.pth checkpoints/dbpn_x4_official.pth
    python tools/convert_dbpn_official.py SRC DST --config configs/dbpn/<config>.py

The generator to check against is D-DBPN x4 by default, or ``model.generator`` of ``--config``
(or ``--scale``). Every key and shape is checked; on any mismatch nothing is written and the
error names the first bad key and what the file looks like. The output is an mmengine
checkpoint ``{'meta': ..., 'state_dict': {'generator.<key>': tensor}}``, usable as
``load_from=DST`` in a restorer config or as the generator's
``init_cfg=dict(type='Pretrained', checkpoint=DST, prefix='generator.')``.
"""
import argparse
import os
import os.path as osp
import sys
import zipfile

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmagic.registry import MODELS

from fdsr_mm.utils.dbpn_checkpoint import DBPNCheckpointMismatch, convert_official_dbpn


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='official checkpoint (.pth state_dict)')
    parser.add_argument('dst', help='output mmengine checkpoint (.pth)')
    parser.add_argument('--config', help='fdsr_mm config whose model.generator is the DBPN')
    parser.add_argument('--scale', type=int, default=4, choices=[2, 4, 8],
                        help='scale of the default D-DBPN when no --config is given')
    return parser.parse_args(argv)


def load_official(path):
    """Load tensors only (weights_only=True): an official file holds nothing else."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist: pass the official D-DBPN .pth file.')
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except (RuntimeError, EOFError, zipfile.BadZipFile) as err:
        raise DBPNCheckpointMismatch(
            f'{path} could not be read as a torch checkpoint ({err}). The file is probably '
            'truncated or corrupt: download it again.') from err
    if isinstance(ckpt, dict) and 'state_dict' in ckpt and isinstance(ckpt['state_dict'], dict):
        ckpt = ckpt['state_dict']
    if not isinstance(ckpt, dict) or not all(torch.is_tensor(v) for v in ckpt.values()):
        raise DBPNCheckpointMismatch(f'{path} is not a state_dict of tensors.')
    return ckpt


def build_generator(args):
    if args.config:
        cfg = Config.fromfile(args.config)
        gen_cfg = cfg.model.generator
    else:
        gen_cfg = dict(type='DBPN', scale=args.scale)
    gen_cfg = dict(gen_cfg, init_cfg=None)
    with DefaultScope.overwrite_default_scope('mmagic'):
        return MODELS.build(gen_cfg), gen_cfg


def convert(src, dst, generator, gen_cfg):
    """Convert and write ``dst`` atomically; return the converted generator state_dict."""
    state = convert_official_dbpn(load_official(src), generator, source=src)
    out = dict(meta=dict(source=osp.abspath(src), converter='tools/convert_dbpn_official.py',
                         generator=dict(gen_cfg)),
               state_dict={f'generator.{k}': v for k, v in state.items()})
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    tmp = f'{dst}.tmp'
    torch.save(out, tmp)
    os.replace(tmp, dst)
    return state


def main(argv=None):
    args = parse_args(argv)
    import fdsr_mm  # noqa: F401  (registers DBPN)
    generator, gen_cfg = build_generator(args)
    try:
        state = convert(args.src, args.dst, generator, gen_cfg)
    except DBPNCheckpointMismatch as err:
        print(f'ERROR: {err}', file=sys.stderr)
        return 1
    n_params = sum(v.numel() for v in state.values())
    print(f'converted {len(state)} tensors ({n_params:,} values) from {args.src} -> {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
