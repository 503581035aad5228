"""An image classifier over a detector's backbone: the "ImageNet classifier" feature prior.

The FDSR paper (Fig. 3) compares its detector prior with classifier priors (VGG19, ResNet-50 C4
trained on ImageNet). The miniature study trains the same backbone as its C4 detector prior as a
classifier of object crops (:class:`fdsr_mm.datasets.ObjectCropDataset`); its checkpoint keeps
the detector's ``backbone.*`` keys, so ``DetectorFeatureLoss`` loads it with the detector config.
"""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from mmdet.registry import MODELS


@MODELS.register_module()
class CropClassifier(BaseModel):
    """Backbone -> global average pooling of its last output -> linear -> softmax.

    Args:
        backbone (dict): an mmdet backbone config (e.g. the C4 detector's ``model.backbone``).
        num_classes (int): number of categories.
        in_channels (int, optional): channels of the backbone's last output; None reads the
            backbone's ``feat_dim`` (mmdet ``ResNet``: that of its last stage, which is its last
            output when ``out_indices`` ends with the last stage).
        data_preprocessor (dict, optional): e.g. ``ImgDataPreprocessor`` with the detector's
            mean/std/``bgr_to_rgb``, so the backbone sees the detector's input distribution.
        init_cfg (dict, optional): of the whole model (the backbone keeps its own).
    """

    def __init__(self,
                 backbone: dict,
                 num_classes: int,
                 in_channels: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        if in_channels is None:
            in_channels = getattr(self.backbone, 'feat_dim', None)
            if in_channels is None:
                raise ValueError(f'{type(self.backbone).__name__} has no feat_dim: pass '
                                 'in_channels (channels of its last output).')
        self.head = nn.Linear(in_channels, num_classes)

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, C) pooled features of (N, 3, H, W) preprocessed images."""
        feats = self.backbone(inputs)
        last = feats[-1] if isinstance(feats, (tuple, list)) else feats
        return F.adaptive_avg_pool2d(last, 1).flatten(1)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor') -> Union[torch.Tensor, Dict[str, torch.Tensor], list]:
        """Args:
            inputs (Tensor): (N, 3, H, W), output of the data preprocessor.
            data_samples (list[BaseDataElement]): each with ``gt_label`` (1,) for ``'loss'``.
            mode (str): ``'tensor'`` -> (N, K) logits; ``'loss'`` -> ``{'loss_cls', 'acc'}``;
                ``'predict'`` -> the data samples with ``pred_score`` (K,) softmax and
                ``pred_label`` (1,).
        """
        logits = self.head(self.extract_feat(inputs))
        if mode == 'tensor':
            return logits
        if mode == 'loss':
            labels = torch.cat([s.gt_label for s in data_samples]).to(logits.device)
            acc = (logits.argmax(1) == labels).float().mean().detach() * 100
            return dict(loss_cls=F.cross_entropy(logits, labels), acc=acc)
        if mode == 'predict':
            return self.predict(logits, data_samples)
        raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got {mode!r}")

    @staticmethod
    def predict(logits: torch.Tensor,
                data_samples: Optional[List[BaseDataElement]]) -> List[BaseDataElement]:
        """Attach ``pred_score`` (K,) and ``pred_label`` (1,) to one data sample per image."""
        if data_samples is None:
            data_samples = [BaseDataElement() for _ in range(len(logits))]
        scores = logits.softmax(1).detach()
        for sample, score in zip(data_samples, scores):
            sample.pred_score = score
            sample.pred_label = score.argmax().view(1)
        return data_samples
