"""The FDSR restorer: an SR generator trained with a pixel loss plus a frozen-detector feature loss."""
from typing import Dict, List, Optional

import torch

from mmagic.models import BaseEditModel
from mmagic.registry import MODELS
from mmagic.structures import DataSample


def _loss_weight(cfg: Optional[dict]) -> float:
    return 0. if cfg is None else float(cfg.get('loss_weight', 1.0))


@MODELS.register_module()
class FDSR(BaseEditModel):
    """Feature-Driven Super-Resolution (FDSR) for object detection.

    ``L = alpha * L1(G(LR), HR) + beta * D(F(G(LR)), F(HR))`` with ``F`` a frozen detector
    backbone (:class:`DetectorFeatureLoss`). ``alpha`` is ``pixel_loss.loss_weight`` and
    ``beta`` is ``feature_loss.loss_weight``. A term whose weight is 0 (or whose config is None)
    is neither built nor computed, so ``alpha=0`` / ``beta=0`` remove exactly that term and a
    ``beta=0`` model trains like the pixel-only ``BaseEditModel``.

    Inference is plain SR (the paper's two-step protocol: no detector at test time), so FDSR
    checkpoints hold the generator only and load into ``BaseEditModel`` configs as well.

    Value ranges: the generator works on the data preprocessor's output (RGB [0, 1] with the
    usual ``DataPreprocessor(mean=0, std=255)``); before the feature loss the SR and HR batches
    are mapped back to RGB [0, 1] with that preprocessor's mean/std, whatever they are.

    Args:
        generator (dict): SR generator config (e.g. ``DBPN``).
        pixel_loss (dict, optional): pixel loss config, e.g. ``L1Loss`` with ``loss_weight=alpha``.
        feature_loss (dict, optional): ``DetectorFeatureLoss`` config with ``loss_weight=beta``.
        train_cfg, test_cfg, init_cfg, data_preprocessor: as in ``BaseEditModel``.
    """

    def __init__(self,
                 generator: dict,
                 pixel_loss: Optional[dict] = None,
                 feature_loss: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None):
        if _loss_weight(pixel_loss) == 0 and _loss_weight(feature_loss) == 0:
            raise ValueError('FDSR needs alpha (pixel_loss.loss_weight) or beta '
                             '(feature_loss.loss_weight) to be non-zero.')
        # BaseEditModel always builds a pixel loss; a zero-weight one is dropped right after.
        super().__init__(
            generator=generator,
            pixel_loss=pixel_loss or dict(type='L1Loss', loss_weight=0.),
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            init_cfg=init_cfg,
            data_preprocessor=data_preprocessor)
        if _loss_weight(pixel_loss) == 0:
            self.pixel_loss = None
        self.feature_loss = MODELS.build(feature_loss) if _loss_weight(feature_loss) else None

    def _to_unit_rgb(self, x: torch.Tensor) -> torch.Tensor:
        """Undo the data preprocessor's normalisation: (N, 3, H, W) -> RGB in [0, 1]."""
        pre = self.data_preprocessor
        if getattr(pre, '_enable_normalize', False):
            x = x * pre.std.view(1, -1, 1, 1) + pre.mean.view(1, -1, 1, 1)
            return x / 255.
        return x

    def forward_train(self,
                      inputs: torch.Tensor,
                      data_samples: Optional[List[DataSample]] = None,
                      **kwargs) -> Dict[str, torch.Tensor]:
        """Training losses.

        Args:
            inputs (Tensor): (N, 3, h, w) LR batch from the data preprocessor (RGB).
            data_samples (DataSample): stacked samples; ``gt_img`` is the (N, 3, H, W) HR batch
                normalised like ``inputs``.

        Returns:
            dict: ``loss_pix`` (alpha * pixel loss) and/or ``loss_feat`` (beta * feature loss).
        """
        sr = self.forward_tensor(inputs, data_samples, **kwargs)
        hr = data_samples.gt_img
        losses = dict()
        if self.pixel_loss is not None:
            losses['loss_pix'] = self.pixel_loss(sr, hr)
        if self.feature_loss is not None:
            losses['loss_feat'] = self.feature_loss(self._to_unit_rgb(sr), self._to_unit_rgb(hr))
        return losses
