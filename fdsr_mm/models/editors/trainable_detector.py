"""An mmdet detector built from its config to be trained inside an MMagic model (SR4IR's task
network), with what its ``DetDataPreprocessor`` does to an image (read from the same config)."""
from typing import Optional

import torch.nn as nn
from mmengine import MMLogger
from mmengine.registry import DefaultScope

from fdsr_mm.models.losses.detector_feature_loss import (detector_input_transform,
                                                         load_extractor_config)
from fdsr_mm.utils.checkpoints.detector import load_detector_state_dict


def build_trainable_detector(config: str, cfg_options: Optional[dict] = None,
                             checkpoint: Optional[str] = None, option: str = 'model.detector'):
    """Build the detector of ``config`` and initialise it.

    Args:
        config (str): mmdet detector config (path, ``mmdet::`` or ``fdsr_mm::`` name).
        cfg_options (dict, optional): ``--cfg-options``-style overrides of that config.
        checkpoint (str, optional): a detector checkpoint to start from (every weight must be
            in it); None: the config's own ``init_cfg`` (e.g. an ImageNet backbone).
        option (str): the config key of this detector (named in errors).

    Returns:
        tuple: ``(detector, input_cfg)``; ``input_cfg`` holds ``wants_bgr``, ``mean``, ``std``
        ((3,) tensors, 0-255 units, the network's channel order), ``pad_size_divisor`` and
        ``pad_value`` of the config's ``data_preprocessor``. With a ``checkpoint`` the
        detector is initialised and loaded now (``is_init``: a Runner's ``init_weights`` leaves
        it alone); without, the Runner's ``init_weights`` applies the config's ``init_cfg``
        (mmdet's own behaviour; building the model downloads nothing).
    """
    from mmdet.registry import MODELS as MMDET_MODELS
    cfg = load_extractor_config(config, cfg_options)
    wants_bgr, mean, std = detector_input_transform(cfg.model)
    pre = cfg.model.data_preprocessor
    input_cfg = dict(wants_bgr=wants_bgr, mean=mean, std=std,
                     pad_size_divisor=int(pre.get('pad_size_divisor', 1)),
                     pad_value=float(pre.get('pad_value', 0)))
    model_cfg = cfg.model.copy()
    if checkpoint:  # weights come from the file: no hub download for the backbone
        model_cfg.backbone = dict(model_cfg.backbone, init_cfg=None)
        model_cfg.pop('init_cfg', None)
    with DefaultScope.overwrite_default_scope('mmdet'):
        detector = MMDET_MODELS.build(model_cfg)
        if checkpoint:
            detector.init_weights()  # then the file's weights (marked initialised: kept)
    if getattr(getattr(detector, 'roi_head', None), 'with_mask', False):
        raise ValueError(f'{config} has a mask head; its loss needs ground-truth masks, which '
                         'the SR + box data does not carry. Use the Faster R-CNN config of the '
                         'same backbone.')
    if checkpoint:
        _load(detector, checkpoint, config, option)
    return detector, input_cfg


def _load(detector: nn.Module, checkpoint: str, config: str, option: str) -> None:
    state = load_detector_state_dict(checkpoint, config, 'Detector', f'{option}.checkpoint')
    result = detector.load_state_dict(state, strict=False)
    if result.missing_keys:
        raise KeyError(f'{checkpoint}: {len(result.missing_keys)} detector weights missing, e.g. '
                       f'{result.missing_keys[:5]}. Is it a checkpoint of {config}?')
    MMLogger.get_current_instance().info(
        f'{option}: loaded {len(state) - len(result.unexpected_keys)} detector tensors from '
        f'{checkpoint}' + (f' ({len(result.unexpected_keys)} other keys ignored)'
                           if result.unexpected_keys else ''))
