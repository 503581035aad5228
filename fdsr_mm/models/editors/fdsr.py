"""The FDSR restorer: an SR generator trained with a pixel loss, a frozen-detector feature loss
and, optionally, a frozen detector's task loss (TDSR)."""
from typing import Dict, List, Optional

import torch
from mmengine.model import BaseModel

from mmagic.models import BaseEditModel
from mmagic.registry import MODELS
from mmagic.structures import DataSample


def _loss_weight(cfg: Optional[dict]) -> float:
    return 0. if cfg is None else float(cfg.get('loss_weight', 1.0))


def _build_weighted(cfg: Optional[dict]) -> Optional[torch.nn.Module]:
    """The loss module of ``cfg``, or None for no term (no config, or a zero weight)."""
    return MODELS.build(cfg) if _loss_weight(cfg) else None


def to_unit_rgb(data_preprocessor, x: torch.Tensor) -> torch.Tensor:
    """Undo an MMagic data preprocessor's normalisation: (N, 3, H, W) -> RGB in [0, 1]."""
    if getattr(data_preprocessor, '_enable_normalize', False):
        x = x * data_preprocessor.std.view(1, -1, 1, 1) + data_preprocessor.mean.view(1, -1, 1, 1)
        return x / 255.
    return x


@MODELS.register_module()
class FDSR(BaseEditModel):
    """Feature-Driven Super-Resolution (FDSR) for object detection.

    ``L = alpha * L1(G(LR), HR) + beta * D(F(G(LR)), F(HR)) + gamma * L_det(G(LR), boxes)``
    with ``F`` a frozen detector backbone (:class:`DetectorFeatureLoss`) and ``L_det`` a frozen
    detector's own training loss with the HR ground-truth boxes (:class:`DetectorTaskLoss`).
    ``alpha``, ``beta`` and ``gamma`` are the ``loss_weight`` of ``pixel_loss``,
    ``feature_loss`` and ``task_loss``. A term whose weight is 0 (or whose config is None) is
    neither built nor computed, so a zero weight removes exactly that term: ``beta=0`` and no
    task loss train like the pixel-only ``BaseEditModel``; task-driven SR (TDSR, Haris et al.,
    2018) is ``beta=0, gamma>0``. At least one weight must be non-zero.

    Inference is plain SR (the paper's two-step protocol: no detector at test time), so FDSR
    checkpoints hold the generator only and load into ``BaseEditModel`` configs as well.

    Value ranges: the generator works on the data preprocessor's output (RGB [0, 1] with the
    usual ``DataPreprocessor(mean=0, std=255)``); before the feature loss the SR and HR batches
    are mapped back to RGB [0, 1] with that preprocessor's mean/std, whatever they are.

    Args:
        generator (dict): SR generator config (e.g. ``DBPN``).
        pixel_loss (dict, optional): pixel loss config, e.g. ``L1Loss`` with ``loss_weight=alpha``;
            None (or a zero weight): no pixel term (``self.pixel_loss`` is None).
        feature_loss (dict, optional): ``DetectorFeatureLoss`` config with ``loss_weight=beta``.
        task_loss (dict, optional): ``DetectorTaskLoss`` config with ``loss_weight=gamma``; the
            training ``data_samples`` then carry ``gt_instances`` (see :meth:`forward_train`).
        train_cfg, test_cfg, init_cfg, data_preprocessor: as in ``BaseEditModel``.
    """

    def __init__(self,
                 generator: dict,
                 pixel_loss: Optional[dict] = None,
                 feature_loss: Optional[dict] = None,
                 task_loss: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None):
        if not any(_loss_weight(cfg) for cfg in (pixel_loss, feature_loss, task_loss)):
            raise ValueError('FDSR needs at least one non-zero weight: alpha '
                             '(pixel_loss.loss_weight), beta (feature_loss.loss_weight) or '
                             'gamma (task_loss.loss_weight).')
        # BaseEditModel.__init__ requires and builds a pixel loss; FDSR's is optional (alpha may
        # be 0). So FDSR sets up what that __init__ does itself (train_cfg, test_cfg, generator,
        # pixel_loss), with each term either built or None: None is the one "no such term" state
        # (no zero-weight module built, no key in the loss dict). FDSR.forward_train, which
        # replaces BaseEditModel's (the only user there of pixel_loss), checks each term.
        BaseModel.__init__(self, init_cfg=init_cfg, data_preprocessor=data_preprocessor)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.generator = MODELS.build(generator)
        self.pixel_loss = _build_weighted(pixel_loss)
        self.feature_loss = _build_weighted(feature_loss)
        self.task_loss = _build_weighted(task_loss)

    def _to_unit_rgb(self, x: torch.Tensor) -> torch.Tensor:
        return to_unit_rgb(self.data_preprocessor, x)

    def forward_train(self,
                      inputs: torch.Tensor,
                      data_samples: Optional[List[DataSample]] = None,
                      **kwargs) -> Dict[str, torch.Tensor]:
        """Training losses.

        Args:
            inputs (Tensor): (N, 3, h, w) LR batch from the data preprocessor (RGB).
            data_samples (DataSample): stacked samples; ``gt_img`` is the (N, 3, H, W) HR batch
                normalised like ``inputs``; with a task loss, ``gt_instances`` is a list of N
                ``InstanceData(bboxes=(K, 4) float xyxy in HR pixels, labels=(K,) long)``.

        Returns:
            dict: those of ``loss_pix`` (alpha * pixel loss), ``loss_feat`` (beta * feature
            loss) and ``loss_task`` (gamma * task loss) whose weight is non-zero.
        """
        sr = self.forward_tensor(inputs, data_samples, **kwargs)
        hr = data_samples.gt_img
        losses = dict()
        if self.pixel_loss is not None:
            losses['loss_pix'] = self.pixel_loss(sr, hr)
        if self.feature_loss is not None:
            losses['loss_feat'] = self.feature_loss(self._to_unit_rgb(sr), self._to_unit_rgb(hr))
        if self.task_loss is not None:
            if 'gt_instances' not in data_samples:
                raise KeyError('task_loss needs the HR boxes: each training sample must carry '
                               'gt_instances (InstanceData with bboxes and labels); use an SR '
                               'dataset with detection annotations.')
            losses['loss_task'] = self.task_loss(self._to_unit_rgb(sr), data_samples.gt_instances)
        return losses
