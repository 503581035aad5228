"""mmdet detector checkpoints (model-zoo files): where to get a missing one, and its state dict.

Files are read with torch's ``weights_only`` loader (mmengine's ``CheckpointLoader``, with the
types of :mod:`fdsr_mm.utils.checkpoints.safety` allowed); ``module.`` prefixes of wrapped
models are removed.
"""
import os.path as osp
import re
from typing import Dict, Mapping, Tuple

import torch
from mmengine.runner import CheckpointLoader

from fdsr_mm.utils.checkpoints.finite import check_finite_state_dict
from fdsr_mm.utils.checkpoints.fit import WeightsMismatchError, compare_state, describe_mismatch

#: torchvision's weight files are ``<arch>-<first 8 hex digits of their sha256>.pth``; mmdet's
#: model-zoo files add a date: ``<config>_<yyyymmdd>-<8 hex>.pth``.
_TORCHVISION_FILE = re.compile(r'^[a-z0-9_]+-[0-9a-f]{8}\.pth$')
_MMDET_ZOO_FILE = re.compile(r'_\d{8}-[0-9a-f]{8}\.pth$')


def where_to_get_checkpoint(checkpoint: str, config: str = '') -> str:
    """Where the missing weight file ``checkpoint`` (of ``config``) comes from, as advice.

    torchvision ImageNet files (``vgg19-dcbb9e9d.pth``, ``resnet50-0676ba61.pth``) are
    downloaded from download.pytorch.org; mmdet detector weights from the MMDetection model zoo.
    """
    name = osp.basename(checkpoint)
    if _TORCHVISION_FILE.match(name) and not _MMDET_ZOO_FILE.search(name):
        return (f'it is a torchvision ImageNet file: download https://download.pytorch.org/'
                f'models/{name} and put it there')
    of = f' of {config}' if config else ''
    return (f'download the detector weights{of} from the MMDetection model zoo (the URL is in '
            'the mmdet config\'s README / metafile) and put the file there, or train them')


def load_detector_checkpoint(checkpoint: str, detector_config: str, what: str,
                             option: str) -> Tuple[Dict[str, torch.Tensor], dict]:
    """The state dict (``module.`` prefixes off) and meta of an mmdet model-zoo checkpoint.

    Args:
        checkpoint (str): the file (read with torch's ``weights_only`` loader).
        detector_config (str): the config it belongs to (named in the error).
        what (str): e.g. ``'Feature-extractor'``; option (str): the config key naming the file.

    Returns:
        tuple: ``(state_dict, meta)``; ``meta`` is ``{}`` when the file has none. From a joint
        SR + detector checkpoint (SR4IR), the detector part (:func:`joint_detector_part`).
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'{what} checkpoint {checkpoint!r} not found: '
            f'{where_to_get_checkpoint(checkpoint, detector_config)}, or set {option} in your '
            'config.')
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'{what} checkpoint {checkpoint!r} holds no state dict.')
    meta = ckpt.get('meta') if isinstance(ckpt.get('meta'), dict) else {}
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    return joint_detector_part(state), meta


def joint_detector_part(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """The detector of a joint SR + detector checkpoint, or ``state`` unchanged.

    A model that holds an SR network and a detector side by side (SR4IR's training checkpoints,
    a packed ``SRDetector``) saves ``generator.*`` and ``detector.*`` keys (at most also its data
    preprocessor's); its detector is the ``detector.*`` part, prefix removed. Any other state dict (an mmdet
    model-zoo file) is returned as it is.
    """
    if state and any(k.startswith('detector.') for k in state) and \
            all(k.startswith(('detector.', 'generator.', 'data_preprocessor.')) for k in state):
        return {k[len('detector.'):]: v for k, v in state.items() if k.startswith('detector.')}
    return state


def load_detector_state_dict(checkpoint: str, detector_config: str, what: str,
                             option: str) -> Dict[str, torch.Tensor]:
    """The state dict of :func:`load_detector_checkpoint` (same arguments and errors)."""
    return load_detector_checkpoint(checkpoint, detector_config, what, option)[0]


def read_checked_detector_state(expected: Mapping[str, torch.Tensor], checkpoint: str,
                                config: str, option: str, fix: str, allow_extra: bool = False
                                ) -> Tuple[Dict[str, torch.Tensor], dict]:
    """The state dict and meta of a detector checkpoint, checked against the model's.

    Every weight of ``expected`` (the detector's ``state_dict()``) must be in the file with its
    shape, and all must be finite; keys the model lacks are refused unless ``allow_extra``
    (model-zoo files of a config with extra heads). mmengine only logs missing keys, so without
    this a checkpoint of another architecture would leave an untrained detector that still
    produces numbers.

    Args:
        config: The detector's config, named in the error; option: the argument or config key
            that named ``checkpoint``; fix: what the user should do.

    Raises:
        FileNotFoundError: No such file. WeightsMismatchError: unreadable (truncated, not a
            torch checkpoint), or not this detector's weights. NonFiniteError: NaN/Inf weights.
    """
    try:
        state, meta = load_detector_checkpoint(checkpoint, config, 'Detector', option)
    except FileNotFoundError:
        raise
    except (RuntimeError, EOFError, OSError, ValueError) as e:  # truncated, not a checkpoint
        first = str(e).splitlines()[0] if str(e) else ''
        raise WeightsMismatchError(
            f'detector checkpoint cannot be read ({type(e).__name__}: {first})', checkpoint,
            'it is truncated or not a torch checkpoint: pass an intact one') from None
    missing, unexpected, shapes = compare_state(expected, state)
    detail = describe_mismatch(missing, [] if allow_extra else unexpected, shapes, len(expected))
    if detail:
        raise WeightsMismatchError(f'detector checkpoint ({option}) does not hold the weights '
                                   f'of {config}: {detail}', checkpoint, fix)
    check_finite_state_dict(state, checkpoint)
    return state, meta
