"""The TDSR task loss: a frozen MMDetection detector's own training loss on SR images.

Task-driven SR (TDSR, Haris et al., "Task-Driven Super Resolution: Object Detection in
Low-resolution Images", 2018) trains the generator through the full detector: the detector's
loss of the SR image with the HR image's ground-truth boxes. The FDSR paper (Table 3) compares
its feature loss against it. The detector never changes; gradients flow into the SR image only.
"""
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine import MMLogger
from mmengine.structures import InstanceData

from mmagic.registry import MODELS

from fdsr_mm.models.losses.detector_feature_loss import (detector_input_transform,
                                                         load_extractor_config)
from fdsr_mm.models.losses.detector_inputs import det_data_samples, to_detector_input
from fdsr_mm.models.losses.mmdet_detector import build_mmdet_detector, load_all_detector_weights
from fdsr_mm.models.losses.frozen_networks import FrozenNetworkLoss


def _keeps_eval_mode(module: nn.Module) -> bool:
    """Layers that must run as at inference inside the frozen detector.

    Normalisation layers with running statistics (BN, SyncBN, InstanceNorm with
    ``track_running_stats``: anything holding ``running_mean``/``running_var``) would update
    them in training mode; dropout-like layers (``nn.Dropout*``, mmcv ``DropPath``, mmdet
    ``DropBlock``) would randomly alter the frozen network that judges the SR images.
    """
    from mmcv.cnn.bricks.drop import DropPath
    from mmdet.models.layers import DropBlock
    if isinstance(module, (nn.modules.batchnorm._NormBase, nn.modules.dropout._DropoutNd,
                           DropPath, DropBlock)):
        return True
    return getattr(module, 'running_mean', None) is not None or \
        getattr(module, 'running_var', None) is not None


def set_loss_mode(detector: nn.Module) -> nn.Module:
    """Put a frozen detector in "loss mode": training flags on, except the layers of
    :func:`_keeps_eval_mode` (norm layers with running statistics, dropout), which are in eval.

    mmdet heads read ``self.training`` in their forward (FCOS/VFNet/RepPoints scale or refine
    box predictions only outside training, DINO/DDQ add denoising queries only in training), so
    their ``loss()`` is only right with ``training=True``; the running statistics must stay
    fixed. Returns ``detector``.
    """
    detector.train(True)  # also lets backbones apply their own frozen_stages / norm_eval
    for module in detector.modules():
        if _keeps_eval_mode(module):
            module.eval()
    return detector


#: Detector configs whose "untrained task network" warning this process has logged.
_WARNED_UNTRAINED = set()


def warn_untrained(detector_config: str) -> bool:
    """Log, once per process and detector config, one WARNING line: the task network is a
    randomly initialised (untrained) detector, and what that means for the SR metrics.

    Returns:
        bool: Whether the line was logged now (False: already logged for this config).
    """
    if detector_config in _WARNED_UNTRAINED:
        return False
    _WARNED_UNTRAINED.add(detector_config)
    MMLogger.get_current_instance().warning(
        f'DetectorTaskLoss: the task network ({detector_config}) is randomly initialised '
        '(UNTRAINED: no task_loss.checkpoint), so the task loss pulls the SR images toward '
        'whatever a random detector responds to and PSNR/SSIM stay low (about 12 dB PSNR on '
        'the tiny smoke config): expected for a smoke test, meaningless as a TDSR result; set '
        'task_loss.checkpoint to a trained detector for real numbers.')
    return True


def check_boxes_have_area(gt_instances: List[InstanceData]) -> None:
    """Refuse boxes without area before they reach the detector.

    A zero-size (or inverted, or non-finite) target box makes the detector's box regression
    loss inf (``log(0)`` in the delta encoding), which would stop training as a "non-finite
    loss" that looks like a learning-rate problem.

    Args:
        gt_instances: per image ``bboxes`` (K, 4) xyxy in pixels.

    Raises:
        ValueError: naming the batch image, the number of such boxes and one of them.
    """
    for i, inst in enumerate(gt_instances):
        boxes = inst.bboxes.reshape(-1, 4)
        bad = ~torch.isfinite(boxes).all(dim=1) | (boxes[:, 2] <= boxes[:, 0]) | \
            (boxes[:, 3] <= boxes[:, 1])
        if bool(bad.any()):
            raise ValueError(
                f'DetectorTaskLoss: image {i} of the batch has {int(bad.sum())} target boxes '
                f'without area, e.g. {[round(float(v), 2) for v in boxes[bad][0]]} (xyxy): the '
                "detector's box loss of such a target is inf. Clip or drop them in the data "
                '(SRDetectionDataset does so for the annotation files; check transforms that '
                'move boxes).')


@MODELS.register_module()
class DetectorTaskLoss(FrozenNetworkLoss):
    """Task loss of TDSR (Haris et al., 2018): a frozen mmdet detector's own ``loss()``.

    The whole detector (backbone, neck, heads) is built from ANY mmdet detector config and ALL
    its weights are loaded from ``checkpoint`` (a missing key is an error; keys the detector
    does not have, e.g. a Mask R-CNN file's mask head under a Faster R-CNN config, are only
    reported). Loading, config names and error messages follow :class:`DetectorFeatureLoss`.

    Frozen for good (:class:`FrozenNetworkLoss`): no parameter requires grad and the detector
    is held outside this module's parameter tree (``parameters()``, ``state_dict()``, the
    optimizer and DDP never see it; it is rebuilt from ``detector_config`` + ``checkpoint`` at
    construction), and it moves with the module. Its mode is fixed whatever ``train()`` says: the training flags are ON
    (mmdet heads such as FCOS, VFNet, RepPoints or DINO compute their loss right only with
    ``training=True``) while every layer with running statistics (BN, SyncBN, ...) and every
    dropout-like layer is in eval mode, so BN statistics never change (see
    :func:`set_loss_mode`). SSD, RetinaNet and Faster R-CNN give the same loss in plain eval
    mode (tested): their ``loss()`` never reads ``self.training`` and two-stage detectors
    take the RPN proposal settings from ``train_cfg.rpn_proposal`` in either mode.

    Input mapping: SR in RGB [0, 1] -> x255, BGR for BGR-trained (caffe) models,
    ``(x - mean) / std`` from the config's ``data_preprocessor``, zero-padded (its
    ``pad_value``) at the bottom/right to its ``pad_size_divisor``, as ``DetDataPreprocessor``
    does. Its ``batch_augments`` (training-time random resizing etc.) are not applied. The boxes
    become ``DetDataSample``s with the metainfo mmdet's pipeline sets for an un-resized image of
    the SR size (``img_shape = ori_shape = (H, W)``, ``scale_factor = (1, 1)``, no flip,
    ``pad_shape``, ``batch_input_shape``) and empty ``ignored_instances``.

    Loss: the detector's own ``parse_losses`` sum of its ``loss()`` dict (every key containing
    ``'loss'``; a list of per-image/per-level tensors is summed; each tensor averaged), times
    ``loss_weight`` (gamma). Terms per family:

    - SSD (``SSDHead``): ``loss_cls`` (softmax CE with 3:1 hard-negative mining) + ``loss_bbox``.
    - Two-stage (Faster R-CNN, Cascade R-CNN): ``loss_rpn_cls`` + ``loss_rpn_bbox`` + RoI head
      ``loss_cls`` + ``loss_bbox`` (per stage for cascades, ``s{i}.loss_*``); ``acc`` excluded.
    - One-stage (RetinaNet, FCOS, ATSS, ...): the head's terms, e.g. ``loss_cls`` +
      ``loss_bbox`` (+ ``loss_centerness`` for FCOS/ATSS).

    Stochastic: two-stage detectors draw random RPN and RoI samples (``RandomSampler``) on
    each call, so the loss of the same image varies from call to call (seed torch's RNG to
    reproduce it). SSD (hard-negative mining) and RetinaNet (``PseudoSampler``) are
    deterministic. Detectors whose loss needs masks (Mask R-CNN, HTC) are refused: the box
    interface carries no masks; use the Faster R-CNN config with the same checkpoint.

    Args:
        detector_config (str): mmdet detector config path, ``'mmdet::...'`` or
            ``'fdsr_mm::...'`` name, e.g. ``'fdsr_mm::detectors/ssd300_voc0712.py'``.
        detector_cfg_options (dict, optional): ``--cfg-options``-style overrides of that
            config, e.g. a small test backbone.
        checkpoint (str, optional): model-zoo checkpoint holding every detector weight. None
            keeps the random init (smoke tests only; :func:`warn_untrained` logs one WARNING
            line saying so and what it means for PSNR; ``self.trained`` is False).
        loss_weight (float): gamma.
    """

    def __init__(self,
                 detector_config: str,
                 detector_cfg_options: Optional[dict] = None,
                 checkpoint: Optional[str] = None,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.detector_config = detector_config
        self.checkpoint = checkpoint
        self.loss_weight = float(loss_weight)
        cfg = load_extractor_config(detector_config, detector_cfg_options)
        wants_bgr, mean, std = detector_input_transform(cfg.model)
        pre = cfg.model.data_preprocessor
        self.wants_bgr = wants_bgr
        self.pad_size_divisor = int(pre.get('pad_size_divisor', 1))
        self.pad_value = float(pre.get('pad_value', 0))
        if pre.get('batch_augments', None):
            MMLogger.get_current_instance().warning(
                f'DetectorTaskLoss: the batch_augments of {detector_config} are not applied.')
        # Buffers: move with the module; not persistent (rebuilt from the config).
        self.register_buffer('mean', mean.view(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', std.view(1, 3, 1, 1), persistent=False)

        detector = build_mmdet_detector(cfg.model, detector_config)
        #: Whether the task network holds trained weights (``checkpoint`` loaded).
        self.trained = checkpoint is not None
        if self.trained:
            load_all_detector_weights(detector, checkpoint, detector_config, 'Task-detector',
                                      'task_loss.checkpoint')
        else:
            warn_untrained(detector_config)
        set_loss_mode(self.hold_frozen('detector', detector))

    @property
    def detector(self) -> nn.Module:
        """The frozen mmdet detector, in the loss mode of :func:`set_loss_mode`."""
        return self.frozen_networks['detector']

    def train(self, mode: bool = True) -> 'DetectorTaskLoss':
        """Set this module's mode; the frozen detector always stays in its loss mode."""
        super().train(mode)
        set_loss_mode(self.detector)
        return self

    def to_detector_input(self, img: torch.Tensor) -> torch.Tensor:
        """Map RGB [0, 1] images to what the detector's ``DetDataPreprocessor`` gives it.

        Args:
            img (Tensor): (N, 3, H, W), RGB, [0, 1] (values outside are kept, not clamped).

        Returns:
            Tensor: (N, 3, H', W'), 0-255 scale, BGR for BGR-trained (caffe) models, then
            ``(x - mean) / std``; H', W' are H, W rounded up to ``pad_size_divisor``, the
            padding (bottom/right) filled with ``pad_value``.
        """
        return to_detector_input(img, self.wants_bgr, self.mean, self.std,
                                 self.pad_size_divisor, self.pad_value)

    def data_samples(self, gt_instances: List[InstanceData], img_shape: tuple,
                     batch_input_shape: tuple, device: torch.device) -> list:
        """mmdet ``DetDataSample``s for images of ``img_shape`` (H, W) with the given boxes.

        Args:
            gt_instances (list[InstanceData]): per image ``bboxes`` (K, 4) float xyxy in pixels
                of the (H, W) image and ``labels`` (K,) long, 0-based detector classes.
            img_shape (tuple): (H, W) of the SR images.
            batch_input_shape (tuple): (H', W') of the padded detector input.
            device (torch.device | str): where the boxes go (the SR images' device).

        Returns:
            list[DetDataSample]: one per image, as mmdet's pipeline + preprocessor make them.
        """
        return det_data_samples(gt_instances, img_shape, batch_input_shape, device)

    def detector_losses(self, sr: torch.Tensor,
                        gt_instances: List[InstanceData]) -> Dict[str, torch.Tensor]:
        """The detector's raw ``loss()`` dict on SR images (unweighted), gradients kept.

        Args and shapes as in :meth:`forward`.
        """
        if len(gt_instances) != sr.shape[0]:
            raise ValueError(f'{sr.shape[0]} SR images but {len(gt_instances)} gt_instances')
        check_boxes_have_area(gt_instances)
        inputs = self.to_detector_input(sr)
        samples = self.data_samples(gt_instances, tuple(sr.shape[-2:]),
                                    tuple(inputs.shape[-2:]), sr.device)
        return self.detector.loss(inputs, samples)

    def forward(self, sr: torch.Tensor, gt_instances: List[InstanceData]) -> torch.Tensor:
        """Weighted detector loss of SR images with the HR ground-truth boxes.

        Args:
            sr (Tensor): (N, 3, H, W) SR images, RGB in [0, 1]; gradients flow back into it.
            gt_instances (list[InstanceData]): N items, each with ``bboxes`` (K, 4) float xyxy
                in the HR (= SR) image's pixel coordinates and ``labels`` (K,) long, 0-based
                class indices of the detector; any device (moved to ``sr``'s).

        Returns:
            Tensor: scalar, ``loss_weight`` x the sum of the detector's loss terms (see the
            class docstring).
        """
        total, _ = self.detector.parse_losses(self.detector_losses(sr, gt_instances))
        return self.loss_weight * total

    def extra_repr(self) -> str:
        return (f'detector_config={self.detector_config!r}, checkpoint={self.checkpoint!r}, '
                f'loss_weight={self.loss_weight}, frozen detector: '
                f'{type(self.detector).__name__}')
