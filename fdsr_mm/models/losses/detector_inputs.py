"""What an mmdet detector's ``DetDataPreprocessor`` and pipeline would give it, made from SR-side
tensors: the normalised, padded input batch and the ``DetDataSample``\\ s of HR boxes.

Shared by the frozen task loss (TDSR, :class:`DetectorTaskLoss`) and the jointly trained
detector of SR4IR (:class:`fdsr_mm.models.editors.SR4IR`).
"""
from typing import List

import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData


def to_detector_input(img: torch.Tensor, wants_bgr: bool, mean: torch.Tensor, std: torch.Tensor,
                      pad_size_divisor: int = 1, pad_value: float = 0.) -> torch.Tensor:
    """Map RGB [0, 1] images to what the detector's ``DetDataPreprocessor`` gives it.

    Args:
        img (Tensor): (N, 3, H, W), RGB, [0, 1] (values outside are kept, not clamped).
        wants_bgr (bool): the detector was trained on BGR (caffe-style) input.
        mean, std (Tensor): (1, 3, 1, 1), 0-255 units, in the detector's channel order.
        pad_size_divisor, pad_value: as the preprocessor's.

    Returns:
        Tensor: (N, 3, H', W'), 0-255 scale, BGR for BGR-trained models, then
        ``(x - mean) / std``; H', W' are H, W rounded up to ``pad_size_divisor``, the padding
        (bottom/right) filled with ``pad_value``.
    """
    x = img * 255.
    if wants_bgr:
        x = x.flip(1)
    x = (x - mean) / std
    h, w = x.shape[-2:]
    pad_h, pad_w = (-h) % pad_size_divisor, (-w) % pad_size_divisor
    if pad_h or pad_w:
        x = F.pad(x, (0, pad_w, 0, pad_h), value=pad_value)
    return x


def det_data_samples(gt_instances: List[InstanceData], img_shape: tuple,
                     batch_input_shape: tuple, device) -> list:
    """mmdet ``DetDataSample``\\ s for un-resized images of ``img_shape`` with the given boxes.

    Args:
        gt_instances (list[InstanceData]): per image ``bboxes`` (K, 4) float xyxy in pixels of
            the (H, W) image and ``labels`` (K,) long, 0-based detector classes.
        img_shape (tuple): (H, W) of the images.
        batch_input_shape (tuple): (H', W') of the padded detector input.
        device (torch.device | str): where the boxes go (the images' device).

    Returns:
        list[DetDataSample]: one per image, as mmdet's pipeline + preprocessor make them
        (``img_shape = ori_shape``, ``scale_factor = (1, 1)``, no flip, empty
        ``ignored_instances``).
    """
    from mmdet.structures import DetDataSample
    samples = []
    for inst in gt_instances:
        sample = DetDataSample(metainfo=dict(
            img_shape=tuple(img_shape), ori_shape=tuple(img_shape), scale_factor=(1., 1.),
            flip=False, flip_direction=None, pad_shape=tuple(batch_input_shape),
            batch_input_shape=tuple(batch_input_shape)))
        sample.gt_instances = InstanceData(
            bboxes=inst.bboxes.to(device=device, dtype=torch.float32).reshape(-1, 4),
            labels=inst.labels.to(device=device, dtype=torch.long).reshape(-1))
        sample.ignored_instances = InstanceData(
            bboxes=torch.zeros(0, 4, device=device), labels=torch.zeros(
                0, dtype=torch.long, device=device))
        samples.append(sample)
    return samples
