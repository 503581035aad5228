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
its visualizer, and a Runner test loop with ``CocoMetric`` on LR-annotated data. Every way weights
reach it (``sr.checkpoint``, ``detector_checkpoint``, ``weights=`` / ``load_from`` / any
``load_state_dict``) is strict, complete and finite, whatever the caller's ``strict``: a file of
another model is one error line naming it, never detections of a half-loaded model.
"""
import copy
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

from mmdet.models.detectors.base import BaseDetector
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample

from fdsr_mm.models.generators.builder import build_sr_generator
from fdsr_mm.models.generators.tiled_inference import (AMP_DTYPES, quantise,
                                                       super_resolve_tensor)
from fdsr_mm.utils.checkpoints.detector import read_checked_detector_state
from fdsr_mm.utils.checkpoints.finite import check_finite_state_dict
from fdsr_mm.utils.checkpoints.fit import WeightsMismatchError, check_state_fits, source_of

#: Pipeline steps of a detector's test pipeline that SRDetector does itself (loading) or that
#: prediction does not need (ground truth).
_SKIPPED_STEPS = ('LoadImageFromFile', 'mmdet.LoadImageFromFile', 'InferencerLoader',
                  'mmdet.InferencerLoader', 'LoadAnnotations', 'mmdet.LoadAnnotations')
_DETECTOR_FIX = ('pass the mmdet checkpoint trained with this detector config (the model-zoo '
                 'file its README names)')
_PACKED_FIX = ('pass a file written by tools/pack_sr_detector.py for this config, or the mmdet '
               'checkpoint of its detector (with model.sr.checkpoint set)')


@MODELS.register_module()
class SRDetector(BaseDetector):
    """Super-resolve, then detect with an unchanged mmdet detector (inference only).

    Args:
        detector (dict): The mmdet model config of the detector (``model`` of its config).
        detector_test_pipeline (list[dict]): The detector's own test pipeline (its config's
            ``test_pipeline``); its loading and annotation steps are dropped, the rest (resize,
            pack) runs on every SR image.
        sr (dict): The SR part: ``config`` (MMagic config whose ``model.generator`` is built) and
            ``checkpoint`` (its weights; None leaves them to a packed SRDetector checkpoint), or
            ``generator`` (a generator config dict instead), built by
            :func:`fdsr_mm.models.generators.build_sr_generator`; plus ``scale`` (int, the
            generator's
            factor), ``tile`` (LR tile size or None for whole images), ``tile_pad`` (LR context
            pixels; None: the generator's receptive field, which makes tiles exact) and ``amp``
            (None: float32; ``'bfloat16'``/``'float16'``: the SR runs under autocast of that
            type, see :func:`~fdsr_mm.models.generators.tiled_inference.super_resolve_tensor`).
        detector_checkpoint (str, optional): mmdet checkpoint of ``detector`` (exactly the
            detector's weights, all finite). None when the weights come from a packed SRDetector
            checkpoint (``DetInferencer(..., weights=...)``, ``load_from``).
        sr_coords (bool): Return boxes in SR-image coordinates instead of the input's.
        data_preprocessor (dict): Of the LR input: keep mean 0 / std 1 (values stay 0-255),
            ``bgr_to_rgb=True`` (the loader gives BGR; generators take RGB).
    """

    #: Every load of weights is checked by :meth:`_load_from_state_dict` (strict, complete,
    #: finite), so ``fdsr_mm.engine.CheckpointFitHook`` leaves this model to it.
    checks_loaded_weights = True

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
        self.tile, self.tile_pad = sr.get('tile', None), sr.get('tile_pad', None)
        self.amp = sr.get('amp', None)
        if self.amp is not None and self.amp not in AMP_DTYPES:
            raise ValueError(f"SRDetector: sr['amp'] must be None or one of {tuple(AMP_DTYPES)}, "
                             f'got {self.amp!r}.')
        self.sr_coords = sr_coords
        self.generator = build_sr_generator(sr.get('config'), sr.get('checkpoint'),
                                            sr.get('generator'), 'model.sr.checkpoint')
        self._generator_loaded = bool(sr.get('checkpoint'))
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
        """Load ``model.detector_checkpoint``: every detector weight, nothing else, all finite."""
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'Detector checkpoint {checkpoint} does not exist: download '
                                    'the model-zoo file named in the detector config, or fix '
                                    'model.detector_checkpoint.')
        state, meta = read_checked_detector_state(
            self.detector.state_dict(), checkpoint, 'model.detector',
            'model.detector_checkpoint', _DETECTOR_FIX)
        self.detector.load_state_dict(state, strict=False)  # checked: only num_batches_tracked
        if meta.get('dataset_meta'):
            self.dataset_meta = meta['dataset_meta']  # class names for visualizers and metrics

    def _has_generator_weights(self) -> bool:
        """Whether the generator's weights were loaded (or it has none, e.g. bicubic)."""
        return self._generator_loaded or not self.generator.state_dict()

    def _checked_state(self, given: Dict[str, Any], source: str) -> Dict[str, Any]:
        """The complete, checked SRDetector state dict (no prefix) for weights ``given``.

        ``given`` is a packed SRDetector state dict (``generator.*`` / ``detector.*`` keys) or a
        bare detector checkpoint (the mmdet model-zoo file of ``detector``: its keys go under
        ``detector.``, the generator keeps the weights of ``sr.checkpoint``).

        Raises:
            WeightsMismatchError: a missing, unexpected or mis-shaped weight, or a bare detector
                file while the generator has no weights; one line naming ``source``.
            NonFiniteError: a NaN/Inf weight (a diverged run), naming ``source`` and the key.
        """
        if not given:
            raise WeightsMismatchError('the weights hold no tensor', source, _PACKED_FIX)
        packed = any(k.startswith(('detector.', 'generator.')) for k in given)
        if packed:
            hint = ''
            if not any(k.startswith('detector.') for k in given):
                hint = ' (it holds an SR model only: no detector.* weights)'
            check_state_fits(self.state_dict(), given, source,
                             f'the weights are not those of this SR + detector model{hint}',
                             _PACKED_FIX)
            state = dict(given)
        else:
            generator_keys = set(self.generator.state_dict())
            hint = ''
            if generator_keys and len(generator_keys & set(given)) >= len(given) / 2:
                hint = ' (it looks like a bare SR generator file)'
            check_state_fits(self.detector.state_dict(), given, source,
                             'the weights are neither a packed SR + detector checkpoint '
                             f'(generator.*, detector.*) nor the detector\'s{hint}',
                             _PACKED_FIX)
            if not self._has_generator_weights():
                raise WeightsMismatchError(
                    'the file holds the detector\'s weights only and the SR generator has none '
                    '(model.sr.checkpoint is not set)', source,
                    'set model.sr.checkpoint to the SR training checkpoint, or pass a packed '
                    'file (tools/pack_sr_detector.py)')
            state = {f'detector.{k}': v for k, v in given.items()}
            state.update({f'generator.{k}': v for k, v in self.generator.state_dict().items()})
        check_finite_state_dict(state, source)
        return state

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Every load of weights into an SRDetector is strict, complete and finite.

        mmdet's ``DetInferencer(weights=...)``, ``load_from`` / ``tools/test.py`` and
        ``load_checkpoint`` load non-strictly (a mismatch is only logged); this check runs first
        whatever the caller asked for. Accepted: a packed SRDetector checkpoint
        (``tools/pack_sr_detector.py``: ``generator.*`` + ``detector.*``, exactly this model's
        weights) or the bare detector checkpoint (the mmdet model-zoo file: its keys go under
        ``detector.`` and the generator keeps the weights of ``sr.checkpoint``, so
        ``DetInferencer(model=CFG, weights=<zoo file>)`` also takes its class names). Anything
        else (another architecture, an SR checkpoint, an x2 generator, NaN weights) raises one
        line naming the file (see :meth:`_checked_state`).
        """
        source = source_of(local_metadata, 'the state dict loaded into SRDetector')
        given = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
        state = self._checked_state(given, source)
        for k in [k for k in state_dict if k.startswith(prefix)]:
            del state_dict[k]
        state_dict.update({prefix + k: v for k, v in state.items()})
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)
        self._generator_loaded = True

    def super_resolve(self, lr: torch.Tensor) -> np.ndarray:
        """One LR image (3, h, w) RGB float 0-255 -> SR (h*s, w*s, 3) BGR uint8 (a loaded file)."""
        sr = quantise(super_resolve_tensor(self.generator, lr[None] / 255., self.scale,
                                           self.tile, self.tile_pad, self.amp))[0]
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
