"""An mmdet detector built from its config to be trained inside an MMagic model (SR4IR's task
network), with what its ``DetDataPreprocessor`` does to an image (read from the same config)."""
from typing import Optional

from fdsr_mm.models.losses.detector_feature_loss import (detector_input_transform,
                                                         load_extractor_config)
from fdsr_mm.models.losses.mmdet_detector import build_mmdet_detector, load_all_detector_weights


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
    cfg = load_extractor_config(config, cfg_options)
    wants_bgr, mean, std = detector_input_transform(cfg.model)
    pre = cfg.model.data_preprocessor
    input_cfg = dict(wants_bgr=wants_bgr, mean=mean, std=std,
                     pad_size_divisor=int(pre.get('pad_size_divisor', 1)),
                     pad_value=float(pre.get('pad_value', 0)))
    detector = build_mmdet_detector(cfg.model, config, keep_init_cfg=not checkpoint)
    if checkpoint:  # initialised and loaded now: a Runner's init_weights keeps the weights
        load_all_detector_weights(detector, checkpoint, config, 'Detector',
                                  f'{option}.checkpoint')
    return detector, input_cfg

