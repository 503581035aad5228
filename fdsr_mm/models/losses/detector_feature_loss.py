"""The FDSR feature-driven loss: distance between frozen detector-backbone features of SR and HR.

FDSR (Eq. 2 of the paper) compares ``F(G(LR))`` with ``F(HR)`` where ``F`` is the backbone of a
trained detector (Mask R-CNN R50-C4 in the paper), frozen. Gradients flow through ``F`` into the
SR image and on into the generator; ``F`` itself never changes.
"""
import os.path as osp
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine import MMLogger
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmagic.registry import MODELS

from fdsr_mm.models.losses.frozen_networks import FrozenNetworkLoss
from fdsr_mm.utils.checkpoints.detector import load_detector_state_dict
from fdsr_mm.utils.configs import config_path, load_config

_CRITERIA = ('mse', 'frobenius')


def load_extractor_config(config: str, cfg_options: Optional[dict] = None) -> Config:
    """Load a detector (or feature-extractor) config by path, ``mmdet::`` or ``fdsr_mm::`` name.

    Args:
        config (str): e.g. ``'mmdet::mask_rcnn/mask-rcnn_r50-caffe-c4_1x_coco.py'``,
            ``'fdsr_mm::_base_/feature_extractors/vgg19-54_imagenet.py'`` or a file path.
        cfg_options (dict, optional): overrides merged like ``--cfg-options``, e.g.
            ``{'model.backbone.depth': 18}``.

    Returns:
        Config: the full config; its ``model`` must hold ``backbone`` and ``data_preprocessor``.
    """
    path = config_path(config)
    if '::' not in path and not osp.isfile(path):
        raise FileNotFoundError(
            f'Feature-extractor config {config!r} does not exist ({path}). Pass a detector '
            "config path (relative to where you run), an mmdet name such as 'mmdet::"
            "faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py' or an fdsr_mm name such as "
            "'fdsr_mm::_base_/feature_extractors/vgg19-54_imagenet.py'.")
    cfg = load_config(config)
    if cfg_options:
        cfg.merge_from_dict(dict(cfg_options))
    return cfg


def detector_input_transform(model_cfg) -> Tuple[bool, torch.Tensor, torch.Tensor]:
    """Read how a detector's ``data_preprocessor`` turns a loaded image into network input.

    MMDetection loads images as BGR uint8. ``DetDataPreprocessor`` flips them to RGB when
    ``bgr_to_rgb`` (or ``rgb_to_bgr``) is set, then applies ``(x - mean) / std`` with mean/std
    given in the channel order after that flip. Caffe-style models (``bgr_to_rgb=False``) thus
    see BGR in [0, 255] minus the BGR mean with std 1; PyTorch-style models see RGB.

    Returns:
        tuple: ``(wants_bgr, mean, std)``; ``mean``/``std`` are (3,) tensors in 0-255 units,
        in the network's channel order.
    """
    pre = model_cfg.get('data_preprocessor', None)
    if pre is None:
        raise KeyError('The feature-extractor config has no model.data_preprocessor; it is '
                       'needed to know the channel order and mean/std the backbone was trained with.')
    flip = bool(pre.get('bgr_to_rgb', False) or pre.get('rgb_to_bgr', False))
    mean = torch.tensor(pre.get('mean') or [0., 0., 0.], dtype=torch.float32)
    std = torch.tensor(pre.get('std') or [1., 1., 1.], dtype=torch.float32)
    return not flip, mean, std


@MODELS.register_module()
class DetectorFeatureLoss(FrozenNetworkLoss):
    """Feature loss over the frozen backbone (optionally + neck) of an MMDetection detector.

    The extractor is built from ANY mmdet detector config (``model.backbone``, optional
    ``model.neck``, ``model.data_preprocessor``); only the ``backbone.`` (and ``neck.``) weights
    of ``checkpoint`` are loaded. The config is stored as a string so that mmdet's runtime
    settings never merge into the MMagic training config.

    Frozen for good (:class:`FrozenNetworkLoss`): no parameter requires grad and the extractor
    is held outside this module's parameter tree (``parameters()``, ``state_dict()``, the
    optimizer and DDP never see it; it is rebuilt from ``detector_config`` + ``checkpoint`` at
    construction), it moves with the module (``.to``/``.cuda``), and it stays in ``eval()`` mode
    (BN statistics fixed) whatever ``train()`` is called with.

    Loss (``criterion``), with ``f`` = feature level ``l``, ``N`` images, level weights ``w_l``:

    - ``'mse'`` (default): ``sum_l w_l * mean_{n,c,h,w} (f_l(SR) - f_l(HR))^2`` — the mean
      squared error over every feature element, ``F.mse_loss`` (the "MSE" of the paper's text).
    - ``'frobenius'``: ``sum_l w_l * (1/N) sum_n ||f_l(SR_n) - f_l(HR_n)||_F`` — Eq. 2 taken
      literally: the (non-squared) Frobenius norm of each image's (C, H, W) feature difference,
      averaged over the images of the batch.

    The result is multiplied by ``loss_weight`` (the paper's beta).

    Args:
        detector_config (str): mmdet detector config path, ``'mmdet::...'`` or
            ``'fdsr_mm::...'`` name (or a feature-extractor config with the same ``model`` keys,
            e.g. the ImageNet priors in ``configs/_base_/feature_extractors/``).
        detector_cfg_options (dict, optional): ``--cfg-options``-style overrides of that config,
            e.g. ``{'model.backbone.depth': 18}`` for a small test backbone.
        checkpoint (str, optional): model-zoo checkpoint to take the weights from. None keeps
            the random init (tests only; a warning is logged).
        checkpoint_prefix (str): key prefix of the backbone weights in ``checkpoint``:
            ``'backbone.'`` for mmdet/mmpretrain files, ``''`` for torchvision classifiers.
        use_neck (bool): append the config's neck (e.g. FPN) and take its outputs.
        feature_levels (Sequence[int], optional): indices into the tuple of extractor outputs;
            None uses all of them.
        level_weights (Sequence[float], optional): one weight per selected level (default 1).
        criterion (str): ``'mse'`` or ``'frobenius'``, see above.
        loss_weight (float): beta.
        strict (bool): raise if backbone weights are missing from ``checkpoint`` (unexpected
            keys are always only reported).
    """

    def __init__(self,
                 detector_config: str,
                 detector_cfg_options: Optional[dict] = None,
                 checkpoint: Optional[str] = None,
                 checkpoint_prefix: str = 'backbone.',
                 use_neck: bool = False,
                 feature_levels: Optional[Sequence[int]] = None,
                 level_weights: Optional[Sequence[float]] = None,
                 criterion: str = 'mse',
                 loss_weight: float = 1.0,
                 strict: bool = True) -> None:
        super().__init__()
        if criterion not in _CRITERIA:
            raise ValueError(f'criterion must be one of {_CRITERIA}, got {criterion!r}')
        self.detector_config = detector_config
        self.checkpoint = checkpoint
        self.criterion = criterion
        self.loss_weight = float(loss_weight)
        self.feature_levels = None if feature_levels is None else tuple(feature_levels)
        if level_weights is not None:
            if self.feature_levels is None or len(level_weights) != len(self.feature_levels):
                raise ValueError('level_weights needs feature_levels of the same length, got '
                                 f'{level_weights} for levels {self.feature_levels}')
        self.level_weights = None if level_weights is None else tuple(map(float, level_weights))

        cfg = load_extractor_config(detector_config, detector_cfg_options)
        wants_bgr, mean, std = detector_input_transform(cfg.model)
        self.wants_bgr = wants_bgr
        # Buffers: move with the module; not persistent (rebuilt from the config).
        self.register_buffer('mean', mean.view(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', std.view(1, 3, 1, 1), persistent=False)

        extractor = self._build_extractor(cfg.model, use_neck)
        if checkpoint is not None:
            self._load_weights(extractor, checkpoint, checkpoint_prefix, use_neck, strict)
        else:
            MMLogger.get_current_instance().warning(
                f'DetectorFeatureLoss: no checkpoint for {detector_config}; the feature prior '
                'is a RANDOMLY initialised backbone (only meaningful in tests).')
        self.hold_frozen('extractor', extractor).eval()

    @property
    def extractor(self) -> nn.Module:
        """The frozen backbone (+ neck), an ``nn.Sequential``-like module in eval mode."""
        return self.frozen_networks['extractor']

    @staticmethod
    def _build_extractor(model_cfg, use_neck: bool) -> nn.Module:
        from mmdet.registry import MODELS as MMDET_MODELS
        backbone_cfg = model_cfg.backbone.copy()
        backbone_cfg.pop('init_cfg', None)  # weights come from `checkpoint`, never from a hub
        parts = {}
        with DefaultScope.overwrite_default_scope('mmdet'):
            parts['backbone'] = MMDET_MODELS.build(backbone_cfg)
            if use_neck:
                if model_cfg.get('neck', None) is None:
                    raise KeyError('use_neck=True but the detector config has no model.neck')
                neck_cfg = model_cfg.neck.copy()
                neck_cfg.pop('init_cfg', None)
                parts['neck'] = MMDET_MODELS.build(neck_cfg)
            for part in parts.values():  # else SSD's L2Norm.weight is garbage memory, per process
                if hasattr(part, 'init_weights'):  # mmengine BaseModule (plain nn.Module: at init)
                    part.init_weights()
        return nn.ModuleDict(parts)

    def _load_weights(self, extractor: nn.ModuleDict, checkpoint: str, prefix: str,
                      use_neck: bool, strict: bool) -> None:
        logger = MMLogger.get_current_instance()
        state = load_detector_state_dict(checkpoint, self.detector_config, 'Feature-extractor',
                                         'feature_loss.checkpoint')
        wanted = {'backbone': prefix}
        if use_neck:
            wanted['neck'] = 'neck.'
        for part, pre in wanted.items():
            sub = {k[len(pre):]: v for k, v in state.items() if k.startswith(pre)}
            if not sub:
                raise KeyError(
                    f'{checkpoint} holds no {part} weights (no keys starting with {pre!r}). '
                    'Pass an mmdet detector checkpoint, or set checkpoint_prefix (\'\' for '
                    'torchvision classifier weights).')
            result = extractor[part].load_state_dict(sub, strict=False)
            if result.missing_keys:
                msg = (f'{checkpoint}: {len(result.missing_keys)} {part} weights missing, '
                       f'e.g. {result.missing_keys[:5]}')
                if strict:
                    raise KeyError(msg + '. Is this a checkpoint of the same architecture as '
                                   f'{self.detector_config}?')
                logger.warning(msg)
            if result.unexpected_keys:
                logger.info(f'{checkpoint}: ignored {len(result.unexpected_keys)} {part}-prefixed '
                            f'keys not in the extractor, e.g. {result.unexpected_keys[:5]}')
            logger.info(f'DetectorFeatureLoss: loaded {len(sub) - len(result.unexpected_keys)} '
                        f'{part} tensors from {checkpoint}')

    def train(self, mode: bool = True) -> 'DetectorFeatureLoss':
        """Set this module's mode; the frozen extractor always stays in eval mode."""
        super().train(mode)
        self.extractor.eval()
        return self

    def to_detector_input(self, img: torch.Tensor) -> torch.Tensor:
        """Map RGB [0, 1] images to what the detector's data_preprocessor gives the backbone.

        Args:
            img (Tensor): (N, 3, H, W), RGB, [0, 1] (values outside are kept, not clamped).

        Returns:
            Tensor: (N, 3, H, W), 0-255 scale, BGR for BGR-trained (caffe) models, then
            ``(x - mean) / std`` with the detector's own mean/std.
        """
        x = img * 255.
        if self.wants_bgr:
            x = x.flip(1)
        return (x - self.mean) / self.std

    def extract(self, img: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Selected feature levels of RGB [0, 1] images (N, 3, H, W), gradients kept."""
        feats = self.extractor['backbone'](self.to_detector_input(img))
        if 'neck' in self.extractor:
            feats = self.extractor['neck'](feats)
        feats = tuple(feats) if isinstance(feats, (tuple, list)) else (feats, )
        if self.feature_levels is not None:
            feats = tuple(feats[i] for i in self.feature_levels)
        return feats

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        """Weighted feature distance.

        Args:
            sr (Tensor): (N, 3, H, W) SR images, RGB in [0, 1]; gradients flow back into it.
            hr (Tensor): (N, 3, H, W) HR images, RGB in [0, 1]; features taken without grad.

        Returns:
            Tensor: scalar, ``loss_weight`` x the criterion of the class docstring.
        """
        with torch.no_grad():
            hr_feats = self.extract(hr)
        sr_feats = self.extract(sr)
        weights = self.level_weights or (1., ) * len(sr_feats)
        total = sr.new_zeros(())
        for w, fs, fh in zip(weights, sr_feats, hr_feats):
            if self.criterion == 'mse':
                dist = F.mse_loss(fs, fh)
            else:
                dist = (fs - fh).flatten(1).norm(dim=1).mean()
            total = total + w * dist
        return self.loss_weight * total

    def extra_repr(self) -> str:
        return (f'detector_config={self.detector_config!r}, checkpoint={self.checkpoint!r}, '
                f'criterion={self.criterion!r}, loss_weight={self.loss_weight}, '
                f'levels={self.feature_levels}, frozen extractor: {type(self.extractor["backbone"]).__name__}')
