"""SRDetector: an SR generator followed by an unchanged mmdet detector, as one mmdet model.

Low-resolution (LR) images go in; detections come out in the coordinates of the image passed in.
Per image: the LR image (as the outer pipeline loaded it: BGR uint8, flipped to RGB by this
model's ``data_preprocessor``) is scaled to RGB [0, 1], super-resolved (tiled for large inputs),
quantised to uint8 exactly as a saved SR image would be (so results equal the cascade's on its
cached SR images), turned back into the BGR uint8 array mmdet's ``LoadImageFromFile`` would give,
and run through the detector's OWN test pipeline (resize, pack) and ``data_preprocessor``
(mean/std, channel order, padding). The detector's boxes (SR-image coordinates) are divided by
the SR scale, and by the outer pipeline's ``scale_factor`` if it resized the LR image.

Works with mmdet's tools: ``DetInferencer(model='configs/sr_detectors/<name>.py', weights=...)``,
its visualizer, and a Runner test loop with ``CocoMetric`` on LR-annotated data.
"""
import copy
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

from mmdet.models.detectors.base import BaseDetector
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample

#: Pipeline steps of a detector's test pipeline that SRDetector does itself (loading) or that
#: prediction does not need (ground truth).
_SKIPPED_STEPS = ('LoadImageFromFile', 'mmdet.LoadImageFromFile', 'InferencerLoader',
                  'mmdet.InferencerLoader', 'LoadAnnotations', 'mmdet.LoadAnnotations')


def build_sr_part(sr: dict) -> torch.nn.Module:
    """The generator of ``sr``: ``dict(config=..., checkpoint=...)`` or ``dict(generator=...)``.

    ``config`` is an MMagic config (path, ``mmagic::`` or ``fdsr_mm::`` name) whose
    ``model.generator`` is built; ``generator`` is a generator config dict instead (e.g.
    ``dict(type='InterpolationSR', scale=4)``). ``checkpoint`` (a restorer checkpoint with
    ``generator.*`` keys, or a bare generator state dict) is loaded with the cascade's checks
    (missing, unreadable, wrong architecture, non-finite weights); None leaves the weights to a
    packed SRDetector checkpoint. Generators map RGB [0, 1] (N, 3, h, w) to (N, 3, h*s, w*s).
    """
    from mmagic.registry import MODELS as MMAGIC_MODELS

    from fdsr_mm.apis.cascade.methods import SRMethod, _generator_state, generator_cfg
    from fdsr_mm.utils.finite_check import check_finite_state_dict
    if sr.get('config'):
        config = sr['config']
        if config.startswith('fdsr_mm::'):
            from .detector_feature_loss import _fdsr_mm_config_dir
            config = osp.join(_fdsr_mm_config_dir(), config[len('fdsr_mm::'):])
        gen_cfg, source = generator_cfg(config), config
    elif sr.get('generator'):
        gen_cfg, source = copy.deepcopy(dict(sr['generator'])), str(sr['generator'])
    else:
        raise ValueError("SRDetector: sr needs config=MMagic config (+ checkpoint=weights) or "
                         "generator=dict(type=...), e.g. dict(type='InterpolationSR', scale=4).")
    with DefaultScope.overwrite_default_scope('mmagic'):
        generator = MMAGIC_MODELS.build(gen_cfg)
    checkpoint = sr.get('checkpoint')
    if checkpoint:
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'SR checkpoint {checkpoint} does not exist: train it '
                                    '(tools/train.py) or fix model.sr.checkpoint in the config.')
        state = _generator_state(SRMethod('sr', 'model', source, checkpoint))
        check_finite_state_dict(state, checkpoint)
        missing, unexpected = generator.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise KeyError(f'{checkpoint} does not fit the SR generator of {source}: missing '
                           f'{missing[:5]}, unexpected {unexpected[:5]}.')
    return generator.eval()


@MODELS.register_module()
class SRDetector(BaseDetector):
    """Super-resolve, then detect with an unchanged mmdet detector (inference only).

    Args:
        detector (dict): The mmdet model config of the detector (``model`` of its config).
        detector_test_pipeline (list[dict]): The detector's own test pipeline (its config's
            ``test_pipeline``); its loading and annotation steps are dropped, the rest (resize,
            pack) runs on every SR image.
        sr (dict): The SR part, see :func:`build_sr_part`, plus ``scale`` (int, the generator's
            factor), ``tile`` (LR tile size or None for whole images) and ``tile_pad``.
        detector_checkpoint (str, optional): mmdet checkpoint of ``detector`` (every detector
            weight must be in it). None when the weights come from a packed SRDetector
            checkpoint (``DetInferencer(..., weights=...)``, ``load_from``).
        sr_coords (bool): Return boxes in SR-image coordinates instead of the input's.
        data_preprocessor (dict): Of the LR input: keep mean 0 / std 1 (values stay 0-255),
            ``bgr_to_rgb=True`` (the loader gives BGR; generators take RGB).
    """

    def __init__(self, detector: dict, detector_test_pipeline: Sequence[dict], sr: dict,
                 detector_checkpoint: Optional[str] = None, sr_coords: bool = False,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='DetDataPreprocessor', bgr_to_rgb=True)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        pre = self.data_preprocessor
        if getattr(pre, '_enable_normalize', False) or not getattr(pre, '_channel_conversion',
                                                                   True):
            raise ValueError('SRDetector.data_preprocessor must keep LR values in 0-255 (no '
                             'mean/std) and set bgr_to_rgb=True: the SR generator takes RGB '
                             '[0, 1]; the detector normalises its own input.')
        self.scale = int(sr.get('scale', 1))
        if self.scale < 1:
            raise ValueError(f"SRDetector: sr['scale'] must be >= 1, got {sr.get('scale')}.")
        self.tile, self.tile_pad = sr.get('tile', None), int(sr.get('tile_pad', 16))
        self.sr_coords = sr_coords
        self.generator = build_sr_part(sr)
        detector = copy.deepcopy(dict(detector))
        detector.pop('init_cfg', None)
        if isinstance(detector.get('backbone'), dict):
            detector['backbone'] = dict(detector['backbone'], init_cfg=None)  # no hub download
        with DefaultScope.overwrite_default_scope('mmdet'):
            self.detector = MODELS.build(detector)
            self.detector.init_weights()
            steps = [t for t in detector_test_pipeline if t.get('type') not in _SKIPPED_STEPS]
            self.detector_pipeline = Compose(copy.deepcopy(steps))
        if detector_checkpoint:
            self._load_detector(detector_checkpoint)

    def _load_detector(self, checkpoint: str) -> None:
        """The cascade's loader: the file must hold every detector weight, in the right shape."""
        from fdsr_mm.apis.cascade.preflight import load_detector_weights
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'Detector checkpoint {checkpoint} does not exist: download '
                                    'the model-zoo file named in the detector config, or fix '
                                    'model.detector_checkpoint.')
        meta = load_detector_weights(self.detector, checkpoint, 'model.detector',
                                     'model.detector_checkpoint')
        if meta.get('dataset_meta'):
            self.dataset_meta = meta['dataset_meta']  # class names for visualizers and metrics

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Also accept a bare detector checkpoint (``backbone.*``, ... keys, no ``detector.``).

        Its keys are moved under ``detector.`` and the generator keeps its weights, so
        ``DetInferencer(model=CFG, weights=<the mmdet model-zoo file>)`` loads the detector (and
        its class names) while the SR weights come from ``sr.checkpoint``. A packed SRDetector
        checkpoint (``generator.*`` + ``detector.*``) loads as it is.
        """
        ours = [k for k in state_dict if k.startswith(prefix)]
        if ours and not any(k[len(prefix):].startswith(('detector.', 'generator.'))
                            for k in ours):
            for k in ours:
                state_dict[f'{prefix}detector.{k[len(prefix):]}'] = state_dict.pop(k)
            for k, v in self.generator.state_dict().items():
                state_dict.setdefault(f'{prefix}generator.{k}', v)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def super_resolve(self, lr: torch.Tensor) -> np.ndarray:
        """One LR image (3, h, w) RGB float 0-255 -> SR (h*s, w*s, 3) BGR uint8 (a loaded file)."""
        from fdsr_mm.apis.super_resolve import quantise, super_resolve_tensor
        sr = quantise(super_resolve_tensor(self.generator, lr[None] / 255., self.scale,
                                           self.tile, self.tile_pad))[0]
        return np.ascontiguousarray(sr.flip(0).permute(1, 2, 0).cpu().numpy())

    def _detector_batch(self, batch_inputs: torch.Tensor,
                        batch_data_samples: Optional[List[DetDataSample]]) -> dict:
        """SR + the detector's pipeline and preprocessor for each image of the LR batch (without
        samples, each image is the whole padded input)."""
        if not batch_data_samples:
            shape = tuple(batch_inputs.shape[-2:])
            batch_data_samples = [DetDataSample(metainfo=dict(img_shape=shape))
                                  for _ in range(batch_inputs.shape[0])]
        inputs, samples = [], []
        for lr, ds in zip(batch_inputs, batch_data_samples):
            h, w = ds.img_shape[:2]
            img = self.super_resolve(lr[:, :h, :w].float())
            packed = self.detector_pipeline(dict(
                img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2],
                img_id=ds.metainfo.get('img_id', 0), img_path=ds.metainfo.get('img_path', '')))
            inputs.append(packed['inputs'])
            samples.append(packed['data_samples'])
        return self.detector.data_preprocessor(dict(inputs=inputs, data_samples=samples), False)

    @torch.no_grad()
    def predict(self, batch_inputs: torch.Tensor, batch_data_samples: List[DetDataSample],
                rescale: bool = True) -> List[DetDataSample]:
        """LR batch -> the input samples with ``pred_instances`` (boxes in input coordinates).

        ``batch_inputs``: (N, 3, H, W) RGB float 0-255 (padded batch; each image's own size is
        its ``img_shape``). Boxes: the input image's pixels (``rescale=True`` also undoes a resize
        of the outer pipeline), or SR pixels when ``sr_coords``.
        """
        data = self._detector_batch(batch_inputs, batch_data_samples)
        results = self.detector.predict(data['inputs'], data['data_samples'], rescale=True)
        for ds, res in zip(batch_data_samples, results):
            pred = res.pred_instances
            ds.set_metainfo(dict(sr_shape=tuple(res.ori_shape[:2]), sr_scale=self.scale))
            if not self.sr_coords:
                pred.bboxes = pred.bboxes / self.scale
                if rescale and ds.metainfo.get('scale_factor') is not None:
                    pred.bboxes = pred.bboxes / pred.bboxes.new_tensor(
                        ds.scale_factor).repeat((1, 2))
            ds.pred_instances = pred
        return batch_data_samples

    def extract_feat(self, batch_inputs: torch.Tensor):
        """The detector's features of the SR images of an LR batch (no data samples needed)."""
        data = self._detector_batch(batch_inputs, None)
        return self.detector.extract_feat(data['inputs'])

    def _forward(self, batch_inputs: torch.Tensor, batch_data_samples=None):
        data = self._detector_batch(batch_inputs, batch_data_samples)
        return self.detector._forward(data['inputs'], data['data_samples'])

    def loss(self, batch_inputs, batch_data_samples):
        raise NotImplementedError(
            'SRDetector is for inference. Train the SR part with an FDSR config (mim train '
            'fdsr_mm configs/fdsr_x4.py) and the detector with mmdet, then combine them here.')
