"""Convert an official D-DBPN checkpoint (alterzero/DBPN-Pytorch) into an fdsr_mm checkpoint.

    python tools/convert_dbpn_official.py DBPN_x4.pth checkpoints/dbpn_x4_official.pth
    python tools/convert_dbpn_official.py SRC DST --config configs/dbpn/<config>.py

The generator to check against is D-DBPN x4 by default, or ``model.generator`` of ``--config``
(or ``--scale``). Every key and shape is checked; on any mismatch nothing is written and the
error names the first bad key and what the file looks like. The output is an mmengine
checkpoint ``{'meta': ..., 'state_dict': {'generator.<key>': tensor}}``, usable as
``load_from=DST`` in a restorer config or as the generator's
``init_cfg=dict(type='Pretrained', checkpoint=DST, prefix='generator.')``.

Every fault (a source that is missing, a folder, not a torch checkpoint or a pickle that
references code, a key or shape mismatch, an output path that is a folder, the source itself or
cannot be written) is one ``error:`` line naming the file, exit code 2. DST is written to a temp
file in its own folder and renamed into place; the temp file is removed on any failure, Ctrl-C
included.
"""
import argparse
import os
import os.path as osp
import pickle
import sys

from quiet_imports import quiet_third_party_warnings  # stdlib only

quiet_third_party_warnings()  # before the stack is imported: a tool prints its own lines

import torch  # noqa: E402

# mmengine, mmagic and fdsr_mm are imported once the files are checked: importing them takes
# seconds and prints third-party deprecation warnings, neither of which a wrong path deserves.


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='official checkpoint (.pth state_dict)')
    parser.add_argument('dst', help='output mmengine checkpoint (.pth)')
    parser.add_argument('--config', help='fdsr_mm config whose model.generator is the DBPN')
    parser.add_argument('--scale', type=int, default=4, choices=[2, 4, 8],
                        help='scale of the default D-DBPN when no --config is given')
    return parser.parse_args(argv)


class ConvertError(Exception):
    """A fault of the command line's files: reported as one line, exit code 2."""


def check_paths(src, dst, config=None):
    """Fail before any work when ``src`` cannot be the input or ``dst`` cannot be written."""
    if config and not osp.isfile(config):
        raise ConvertError(f'{config} does not exist: pass an fdsr_mm config whose '
                           'model.generator is the DBPN (e.g. configs/fdsr_x4.py).')
    if osp.isdir(src):
        raise ConvertError(f'{src} is a folder: pass the official D-DBPN .pth file itself.')
    if not osp.isfile(src):
        raise ConvertError(f'{src} does not exist: pass the official D-DBPN .pth file '
                           '(DBPN_x4.pth from alterzero/DBPN-Pytorch).')
    if osp.isdir(dst) or dst.endswith(('/', os.sep)):
        raise ConvertError(f'{dst} is a folder: pass the output file path, e.g. '
                           f'{osp.join(dst, "dbpn_x4_official.pth")}.')
    if osp.exists(dst) and osp.samefile(src, dst):
        raise ConvertError(f'{dst} is the source file itself: writing it would replace the '
                           'official checkpoint; pass another output path, e.g. '
                           f'{osp.join(osp.dirname(dst) or ".", "dbpn_x4_fdsr_mm.pth")}.')
    why = _sniff(src)
    if why:
        raise ConvertError(_not_a_checkpoint(src, why))


def _not_a_checkpoint(path, why):
    return (f'{path} is not a torch checkpoint: {why}. Pass the official D-DBPN .pth file '
            '(download it again if this is the file you downloaded).')


def _sniff(path):
    """Why ``path`` cannot be a torch checkpoint from its first bytes, or None if it may be one."""
    try:
        with open(path, 'rb') as f:
            head = f.read(64)
    except OSError as err:
        raise ConvertError(f'cannot read {path}: {err.strerror or err}.') from err
    if not head:
        return 'it is empty'
    if head.startswith(b'PK\x03\x04') or head[:1] == b'\x80':  # zip archive / pickle protocol 2+
        return None
    if head.lstrip().lower().startswith((b'<!doctype html', b'<html')):
        return 'it is an HTML page (a download link that returned a web page?)'
    if all(32 <= b < 127 or b in b'\t\r\n' for b in head):
        return f'it is a text file starting with {head[:32].decode("ascii")!r}'
    return f'it starts with {head[:16]!r}, not a zip archive or a pickle'


def load_official(path):
    """Load tensors only (weights_only=True): an official file holds nothing else."""
    from fdsr_mm.models.generators.dbpn_checkpoint import DBPNCheckpointMismatch
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist: pass the official D-DBPN .pth file.')
    why = _sniff(path)
    if why:
        raise DBPNCheckpointMismatch(_not_a_checkpoint(path, why))
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:  # never torch's advice to use weights_only=False
        from fdsr_mm.utils.checkpoints.safety import (refused_checkpoint_error, refuses_a_global,
                                                      unpickling_reason)
        if refuses_a_global(err):
            raise DBPNCheckpointMismatch(str(refused_checkpoint_error(path, err))) from None
        raise DBPNCheckpointMismatch(
            f'{path} could not be read as a torch checkpoint (UnpicklingError: '
            f'{unpickling_reason(err)}). The file is probably truncated or corrupt: download it '
            'again.') from None
    except Exception as err:  # noqa: BLE001  torch.load raises many types on bad bytes
        first_line = (str(err).strip().splitlines() or [''])[0]
        raise DBPNCheckpointMismatch(
            f'{path} could not be read as a torch checkpoint ({type(err).__name__}: '
            f'{first_line}). The file is probably truncated or corrupt: download it again.'
        ) from err
    if isinstance(ckpt, dict) and 'state_dict' in ckpt and isinstance(ckpt['state_dict'], dict):
        ckpt = ckpt['state_dict']
    if not isinstance(ckpt, dict) or not all(torch.is_tensor(v) for v in ckpt.values()):
        raise DBPNCheckpointMismatch(f'{path} is not a state_dict of tensors.')
    return ckpt


def build_generator(args):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from mmagic.registry import MODELS
    if args.config:
        cfg = Config.fromfile(args.config)
        gen_cfg = cfg.model.generator
    else:
        gen_cfg = dict(type='DBPN', scale=args.scale)
    gen_cfg = dict(gen_cfg, init_cfg=None)
    with DefaultScope.overwrite_default_scope('mmagic'):
        return MODELS.build(gen_cfg), gen_cfg


def save_atomic(obj, dst):
    """Write ``obj`` to ``dst`` atomically (:func:`fdsr_mm.utils.io.torch_save_atomic`)."""
    from fdsr_mm.utils.io import AtomicWriteError, torch_save_atomic
    try:
        torch_save_atomic(obj, dst, '; free some space or pick another output path')
    except AtomicWriteError as err:
        raise ConvertError(str(err)) from err


def convert(official, src, dst, generator, gen_cfg):
    """Check ``official`` (read from ``src``) against ``generator``, write ``dst`` atomically;
    return the converted generator state_dict."""
    from fdsr_mm.models.generators.dbpn_checkpoint import convert_official_dbpn
    state = convert_official_dbpn(official, generator, source=src)
    out = dict(meta=dict(source=osp.abspath(src), converter='tools/convert_dbpn_official.py',
                         generator=dict(gen_cfg)),
               state_dict={f'generator.{k}': v for k, v in state.items()})
    save_atomic(out, dst)
    return state


def main(argv=None):
    """Exit code 0 on success; 2 with one ``error:`` line (naming the file) on a fault."""
    args = parse_args(argv)
    try:
        check_paths(args.src, args.dst, args.config)
    except ConvertError as err:
        print(f'convert_dbpn_official: error: {err}', file=sys.stderr)
        return 2
    import fdsr_mm  # noqa: F401  (registers DBPN; seconds)
    from fdsr_mm.models.generators.dbpn_checkpoint import DBPNCheckpointMismatch
    try:
        official = load_official(args.src)  # before building the network: fail fast
        generator, gen_cfg = build_generator(args)
        state = convert(official, args.src, args.dst, generator, gen_cfg)
    except (ConvertError, DBPNCheckpointMismatch) as err:
        print(f'convert_dbpn_official: error: {err}', file=sys.stderr)
        return 2
    n_params = sum(v.numel() for v in state.values())
    print(f'converted {len(state)} tensors ({n_params:,} values) from {args.src} -> {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
