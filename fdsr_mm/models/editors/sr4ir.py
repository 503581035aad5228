"""SR4IR (Kim et al., "Beyond Image Super-Resolution for Image Recognition with Task-Driven
Perceptual Loss", CVPR 2024) for detection: an SR network and a detector trained in turns.

Written from the paper and the behaviour of the authors' public code (its detection options,
``014_SR4IR_edsr_x4.yml``); the steps of one iteration:

(a) the SR network, with ``alpha * L1(SR, HR) + TDP``: TDP is the distance between the detector's
    own features of SR and HR (:class:`TaskDrivenPerceptualLoss`), the detector in eval mode and
    frozen for this step (from iteration ``tdp_start_iter`` on: the authors turn it on after
    3 warm-up epochs);
(b) the detector, with its own training loss on the SR image of the updated SR network
    (detached), on the HR image and on their cross-quality mix (:func:`cross_quality_mix`),
    weighted 0.34 each.

Two optimizers, as MMagic's GAN models hold them: an ``OptimWrapperDict`` with ``generator`` and
``detector`` (``MultiOptimWrapperConstructor``). Checkpoints hold both networks (``generator.*``,
``detector.*``): the cascade scores the SR part with any detector (``NAME=CONFIG:CHECKPOINT``) and
the pair with the detector's config and the same file; an ``SRDetector`` of the pair loads it as
its ``weights``. Inference (val/test) is plain SR, as for every MMagic restorer.
"""
import contextlib
from typing import Dict, List, Optional

import torch
from mmengine import MessageHub
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict

from mmagic.models import BaseEditModel
from mmagic.registry import MODELS

from fdsr_mm.models.editors.cqmix import cqmix_mask, cross_quality_mix
from fdsr_mm.models.editors.fdsr import to_unit_rgb
from fdsr_mm.models.editors.trainable_detector import build_trainable_detector
from fdsr_mm.models.losses.detector_inputs import det_data_samples, to_detector_input
from fdsr_mm.models.losses.detector_task_loss import check_boxes_have_area

DET_TERMS = ('sr', 'hr', 'cqmix')


def _bare(module: torch.nn.Module) -> torch.nn.Module:
    return module.module if is_model_wrapper(module) else module


@MODELS.register_module()
class SR4IR(BaseEditModel):
    """An SR generator and an mmdet detector trained in turns (see the module docstring).

    Value ranges: the generator works on the data preprocessor's output (RGB [0, 1] with
    ``DataPreprocessor(mean=0, std=255)``); SR and HR go to the detector as RGB [0, 1] mapped by
    the detector config's own ``data_preprocessor`` (x255, channel order, mean/std, padding).

    Args:
        generator (dict): SR generator config (SR4IR: EDSR-baseline, ``EDSRNet``).
        detector (dict): ``config`` (mmdet detector config), optional ``cfg_options`` and
            ``checkpoint`` (weights to start from; None: the config's init, e.g. ImageNet).
        pixel_loss (dict): pixel loss of step (a), e.g. ``L1Loss`` with ``loss_weight=1.0``.
        tdp_loss (dict, optional): :class:`TaskDrivenPerceptualLoss` config; None: no TDP.
        det_loss_weights (dict): ``sr``, ``hr``, ``cqmix`` -> weight of the detector's loss on
            that image in step (b); a zero weight skips the term. SR4IR: 0.34 each.
        cqmix (dict): ``grid`` and ``p`` of :func:`cqmix_mask` (SR4IR: 8, 0.5).
        tdp_start_iter (int): the first iteration (0-based, the Runner's) with the TDP term.
        train_cfg, test_cfg, init_cfg, data_preprocessor: as in ``BaseEditModel``.
    """

    def __init__(self, generator: dict, detector: dict, pixel_loss: dict,
                 tdp_loss: Optional[dict] = None,
                 det_loss_weights: Optional[dict] = None, cqmix: Optional[dict] = None,
                 tdp_start_iter: int = 0, train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None, init_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None):
        super().__init__(generator=generator, pixel_loss=pixel_loss, train_cfg=train_cfg,
                         test_cfg=test_cfg, init_cfg=init_cfg,
                         data_preprocessor=data_preprocessor)
        self.detector, input_cfg = build_trainable_detector(
            detector['config'], detector.get('cfg_options'), detector.get('checkpoint'))
        self.register_buffer('det_mean', input_cfg.pop('mean').view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer('det_std', input_cfg.pop('std').view(1, 3, 1, 1), persistent=False)
        self.det_input_cfg = input_cfg
        self.tdp_loss = MODELS.build(tdp_loss) if tdp_loss else None
        weights = dict(dict(sr=0.34, hr=0.34, cqmix=0.34), **(det_loss_weights or {}))
        if set(weights) != set(DET_TERMS) or not any(weights.values()):
            raise ValueError(f'SR4IR: det_loss_weights takes {DET_TERMS}, at least one non-zero; '
                             f'got {det_loss_weights}.')
        self.det_loss_weights = {k: float(v) for k, v in weights.items()}
        self.cqmix = dict(dict(grid=8, p=0.5), **(cqmix or {}))
        self.tdp_start_iter = int(tdp_start_iter)

    # -- the detector's view of RGB [0, 1] images -----------------------------------------------
    def detector_input(self, unit_rgb: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) RGB [0, 1] -> the detector's normalised, padded input batch."""
        return to_detector_input(unit_rgb, self.det_input_cfg['wants_bgr'], self.det_mean,
                                 self.det_std, self.det_input_cfg['pad_size_divisor'],
                                 self.det_input_cfg['pad_value'])

    @contextlib.contextmanager
    def _frozen_detector(self):
        """The detector in eval mode with no parameter requiring grad (restored after)."""
        det = _bare(self.detector)
        was_training = det.training
        flags = [p.requires_grad for p in det.parameters()]
        det.eval()
        for p in det.parameters():
            p.requires_grad_(False)
        try:
            yield det
        finally:
            for p, flag in zip(det.parameters(), flags):
                p.requires_grad_(flag)
            det.train(was_training)

    # -- step (a): the SR network ----------------------------------------------------------------
    def tdp_active(self) -> bool:
        it = MessageHub.get_current_instance().get_info('iter')
        return self.tdp_loss is not None and (it or 0) >= self.tdp_start_iter

    def sr_losses(self, sr: torch.Tensor, hr: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Step (a)'s terms: ``loss_pix`` and, when active, ``loss_tdp`` (gradients reach the
        generator only). ``sr``, ``hr``: (N, 3, H, W), the data preprocessor's scale."""
        losses = dict(loss_pix=self.pixel_loss(sr, hr))
        if self.tdp_active():
            pre = self.data_preprocessor
            with self._frozen_detector() as det:
                feats_sr = det.extract_feat(self.detector_input(to_unit_rgb(pre, sr)))
                with torch.no_grad():
                    feats_hr = det.extract_feat(self.detector_input(to_unit_rgb(pre, hr)))
            losses['loss_tdp'] = self.tdp_loss(feats_sr, feats_hr)
        return losses

    # -- step (b): the detector ------------------------------------------------------------------
    def detector_losses(self, sr: torch.Tensor, hr: torch.Tensor,
                        gt_instances: List) -> Dict[str, torch.Tensor]:
        """Step (b)'s terms ``loss_det_sr``, ``loss_det_hr``, ``loss_det_cqmix``: each the
        weighted sum of the detector's own ``loss()`` terms on that (N, 3, H, W) RGB [0, 1]
        batch with the HR boxes (``gt_instances``: xyxy in HR pixels, 0-based labels)."""
        check_boxes_have_area(gt_instances)
        images = dict(sr=sr.detach(), hr=hr)
        if self.det_loss_weights['cqmix']:
            mask = cqmix_mask(sr.shape[0], sr.shape[-2:], device=sr.device, **self.cqmix)
            images['cqmix'] = cross_quality_mix(images['sr'], hr, mask)
        losses = {}
        for term, weight in self.det_loss_weights.items():
            if not weight:
                continue
            x = self.detector_input(images[term])
            samples = det_data_samples(gt_instances, tuple(sr.shape[-2:]), tuple(x.shape[-2:]),
                                       sr.device)
            total, _ = _bare(self.detector).parse_losses(self.detector(x, samples, mode='loss'))
            losses[f'loss_det_{term}'] = weight * total
        return losses

    # -- one iteration ----------------------------------------------------------------------------
    def train_generator(self, inputs: torch.Tensor, hr: torch.Tensor,
                        optim_wrapper) -> Dict[str, torch.Tensor]:
        """Step (a): one update of the generator; the detector is only read (eval mode, no
        gradient). ``inputs``/``hr``: the preprocessed LR/HR batches. Returns the log variables."""
        with optim_wrapper.optim_context(self.generator):
            losses = self.sr_losses(self.generator(inputs), hr)
        loss, log = self.parse_losses(losses)
        optim_wrapper.update_params(loss)
        log['loss_sr'] = log.pop('loss')
        return log

    def train_detector(self, inputs: torch.Tensor, hr: torch.Tensor, gt_instances: List,
                       optim_wrapper) -> Dict[str, torch.Tensor]:
        """Step (b): one update of the detector on the current generator's (detached) SR, HR and
        CQMix images; the generator runs without gradient. Returns the log variables."""
        pre = self.data_preprocessor
        with optim_wrapper.optim_context(self.detector):
            with torch.no_grad():  # the updated SR network's output, as the authors' code
                sr = self.generator(inputs)
            losses = self.detector_losses(to_unit_rgb(pre, sr), to_unit_rgb(pre, hr),
                                          gt_instances)
        loss, log = self.parse_losses(losses)
        optim_wrapper.update_params(loss)
        log['loss_det'] = log.pop('loss')
        return log

    def train_step(self, data: dict, optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """Step (a) with ``optim_wrapper['generator']``, then step (b) with
        ``optim_wrapper['detector']``. Returns the log variables of both."""
        if not isinstance(optim_wrapper, OptimWrapperDict) or \
                set(optim_wrapper.keys()) != {'generator', 'detector'}:
            raise TypeError('SR4IR trains two networks: optim_wrapper must be a dict of '
                            "'generator' and 'detector' optimizers with constructor="
                            "'MultiOptimWrapperConstructor' (see configs/sr4ir/).")
        data = self.data_preprocessor(data, True)
        inputs, samples = data['inputs'], data['data_samples']
        if 'gt_instances' not in samples:
            raise KeyError('SR4IR needs the HR boxes: each training sample must carry '
                           'gt_instances; use an SR dataset with detection annotations '
                           '(SRDetectionDataset, as the TDSR configs).')
        log = self.train_generator(inputs, samples.gt_img, optim_wrapper['generator'])
        log.update(self.train_detector(inputs, samples.gt_img, samples.gt_instances,
                                       optim_wrapper['detector']))
        return log

    def forward_train(self, inputs, data_samples=None, **kwargs):
        raise NotImplementedError('SR4IR trains through train_step (two networks, two '
                                  'optimizers); forward(mode="loss") has no single loss.')
