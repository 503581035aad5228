"""Checks that run before the SR pass: output folders, detector weights, image geometry.

Every input the cascade can check is checked before the SR pass spends hours, and a bad one is
a :class:`~.options.CascadeError` naming the file and the fix, never a table of wrong numbers.
"""
import copy
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.model import is_model_wrapper
from mmengine.registry import DefaultScope
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from fdsr_mm.utils.checkpoints.detector import read_checked_detector_state
from fdsr_mm.utils.io import probe_writable
from fdsr_mm.utils.cli_errors import format_error
from fdsr_mm.apis.cascade.options import CascadeError

#: Images whose long side is at least this many times their short side are also run through the
#: detector itself (a zero image) before the SR pass; all shapes go through its test pipeline.
EXTREME_ASPECT = 4.0


def check_writable(folder: str, what: str, option: str) -> None:
    """Create ``folder`` if needed and prove a file can be written into it."""
    try:
        probe_writable(folder)
    except OSError as e:
        raise CascadeError(f'The {what} {folder} is not writable ({e.strerror or e}): choose '
                           f'another one ({option}) or fix its permissions.') from None


CONFIG_SUFFIXES = ('.py', '.json', '.yaml', '.yml')
CHECKPOINT_SUFFIXES = ('.pth', '.pt', '.ckpt', '.bin', '.tar')


def _is_torch_file(path: str) -> bool:
    """A checkpoint by name or content: a torch zip archive (``PK``) or a pickle (``0x80``)."""
    if path.lower().endswith(CHECKPOINT_SUFFIXES):
        return True
    try:
        with open(path, 'rb') as f:
            head = f.read(4)
    except OSError:
        return False
    return head.startswith(b'PK\x03\x04') or head[:1] == b'\x80'


def check_detector_arguments(config: str, checkpoint: str) -> None:
    """Refuse the detector CONFIG and CHECKPOINT given the wrong way round (or a config file
    given as the checkpoint, a checkpoint as the config), before anything is loaded."""
    ckpt_is_config = checkpoint.lower().endswith(CONFIG_SUFFIXES) or '::' in checkpoint
    config_is_ckpt = '::' not in config and _is_torch_file(config)
    if ckpt_is_config and config_is_ckpt:
        raise CascadeError(format_error(
            'the detector config and checkpoint are swapped', f'CONFIG {config}, CHECKPOINT '
            f'{checkpoint}', f'pass the config first: cascade_eval {checkpoint} {config} ...'))
    if ckpt_is_config:
        raise CascadeError(format_error(
            'the detector checkpoint is a config file', f'CHECKPOINT {checkpoint}',
            'pass the mmdet config first and its trained weights (.pth) second'))
    if config_is_ckpt:
        raise CascadeError(format_error(
            'the detector config is a checkpoint file', f'CONFIG {config}',
            'pass the mmdet config (.py) first and its trained weights (.pth) second'))


def load_detector_weights(model: torch.nn.Module, path: str, config: str,
                          option: str = "the cascade's CHECKPOINT") -> dict:
    """Load a detector checkpoint into ``model``: every model weight in the file, all finite.

    mmengine only logs missing keys, so a checkpoint of another architecture (an SR checkpoint,
    say) would leave an untrained detector that still produces a table.

    Returns:
        dict: the checkpoint's ``meta`` (``dataset_meta`` holds the class names), or ``{}``.
    """
    model = model.module if is_model_wrapper(model) else model
    try:  # callers check that the file exists first
        state, meta = read_checked_detector_state(
            model.state_dict(), path, config, option,
            'pass the checkpoint trained with this config', allow_extra=True)
    except ValueError as e:  # WeightsMismatchError, NonFiniteError
        raise CascadeError(str(e)) from None
    _load_checkpoint_to_model(model, dict(state_dict=state), strict=False)
    return meta


def _loader_position(pipeline: List[dict]) -> int:
    for i, t in enumerate(pipeline):
        if 'LoadImageFromFile' in t['type'] or t['type'] == 'LoadCascadeImage':
            return i
    raise ValueError('The detector test pipeline has no LoadImageFromFile: '
                     f'{[t["type"] for t in pipeline]}.')


def _probe_shape(model, after_loader, info: dict, hw, with_model: bool) -> None:
    from mmengine.dataset import pseudo_collate
    h, w = hw
    img = np.zeros((h, w, 3), np.uint8)
    data = after_loader(dict(copy.deepcopy(info), img=img, img_shape=(h, w), ori_shape=(h, w)))
    if data is None:
        raise ValueError('the test pipeline dropped it')
    if with_model:
        with torch.no_grad():
            model.test_step(pseudo_collate([data]))


def probe_detector_geometry(model: torch.nn.Module, pipeline: List[dict], data_list: List[dict],
                            index: Dict[str, dict], lr_scale: Optional[int] = None) -> List[dict]:
    """Prepared image shapes the detector cannot take (e.g. 32x16000), found before the SR pass.

    Each distinct prepared (H, W) goes through the detector's test pipeline with a zero image;
    extreme aspect ratios (>= :data:`EXTREME_ASPECT`) also through the detector. With
    ``lr_scale`` (``lr_native`` runs), the LR shapes (H/lr_scale, W/lr_scale) too, always through
    the detector (a tiny image can break a network the pipeline lets through). Returns
    ``[dict(file, reason)]`` of the images to exclude (for every method).
    """
    from mmengine.dataset import Compose
    with DefaultScope.overwrite_default_scope('mmdet'):
        after_loader = Compose(pipeline[_loader_position(pipeline) + 1:])
    shapes: Dict[tuple, List[dict]] = {}
    for d in data_list:
        if d['img_path'] in index:
            h, w = index[d['img_path']]['hw']
            shapes.setdefault((h, w, False), []).append(d)
            if lr_scale:
                shapes.setdefault((h // lr_scale, w // lr_scale, True), []).append(d)
    failed, excluded = [], set()
    model.eval()
    for (h, w, is_lr), infos in shapes.items():
        hw = (h, w)
        try:
            with DefaultScope.overwrite_default_scope('mmdet'):
                _probe_shape(model, after_loader, infos[0], hw,
                             is_lr or max(hw) >= EXTREME_ASPECT * min(hw))
        except Exception as e:  # noqa: BLE001 (whatever fails, the image cannot be evaluated)
            what = 'LR image (lr_native)' if is_lr else 'prepared image'
            reason = (f'the detector cannot take its {hw[0]}x{hw[1]} {what} '
                      f'({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""})')
            failed += [dict(file=d['img_path'], reason=reason) for d in infos
                       if d['img_path'] not in excluded]
            excluded.update(d['img_path'] for d in infos)
    return failed
