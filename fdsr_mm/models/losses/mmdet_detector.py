"""A whole mmdet detector built from its config inside an MMagic model, and all its weights
loaded from a checkpoint: shared by the frozen task network of TDSR
(:class:`DetectorTaskLoss`) and the trained detector of SR4IR
(:func:`fdsr_mm.models.editors.trainable_detector.build_trainable_detector`)."""
import torch.nn as nn
from mmengine import MMLogger
from mmengine.registry import DefaultScope

from fdsr_mm.utils.checkpoints.detector import load_detector_state_dict


def build_mmdet_detector(model_cfg, config: str, keep_init_cfg: bool = False) -> nn.Module:
    """The detector of ``model_cfg`` (the ``model`` of ``config``), refusing mask heads.

    Args:
        keep_init_cfg: keep the config's ``init_cfg`` (e.g. an ImageNet backbone) for a Runner's
            ``init_weights`` later; False: weights come from a checkpoint, never a hub: the
            ``init_cfg``\\ s are dropped and ``init_weights()`` runs now (else SSD's
            ``L2Norm.weight`` is garbage memory), which marks the detector initialised.
    """
    from mmdet.registry import MODELS as MMDET_MODELS
    model_cfg = model_cfg.copy()
    if not keep_init_cfg:
        model_cfg.backbone = dict(model_cfg.backbone, init_cfg=None)
        model_cfg.pop('init_cfg', None)  # nor a detector-level 'Pretrained' in init_weights()
    with DefaultScope.overwrite_default_scope('mmdet'):
        detector = MMDET_MODELS.build(model_cfg)
        if not keep_init_cfg:
            detector.init_weights()
    if getattr(getattr(detector, 'roi_head', None), 'with_mask', False):
        raise ValueError(
            f'{config} has a mask head; its loss needs ground-truth masks, which the box '
            'interface does not carry. Use the Faster R-CNN config of the same backbone with the '
            'same checkpoint (the mask head keys are ignored).')
    return detector


def load_all_detector_weights(detector: nn.Module, checkpoint: str, config: str, what: str,
                              option: str) -> None:
    """Load every weight of ``detector`` from ``checkpoint`` (a missing one is a KeyError; keys
    the detector lacks are only reported). ``what``/``option`` name it in messages."""
    logger = MMLogger.get_current_instance()
    state = load_detector_state_dict(checkpoint, config, what, option)
    result = detector.load_state_dict(state, strict=False)
    if result.missing_keys:
        raise KeyError(
            f'{checkpoint}: {len(result.missing_keys)} detector weights missing, e.g. '
            f'{result.missing_keys[:5]}. Is this a checkpoint of the same architecture as '
            f'{config}?')
    if result.unexpected_keys:
        logger.info(f'{checkpoint}: ignored {len(result.unexpected_keys)} keys not in the '
                    f'detector, e.g. {result.unexpected_keys[:5]}')
    logger.info(f'{what}: loaded {len(state) - len(result.unexpected_keys)} detector tensors '
                f'from {checkpoint}')
