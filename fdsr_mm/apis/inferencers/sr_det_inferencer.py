"""SRDetInferencer: mmdet's ``DetInferencer`` for an SR + detector model on low-resolution images.

Used like ``DetInferencer``::

    inferencer = SRDetInferencer('configs/sr_detectors/<name>.py', weights=None, device='cpu')
    result = inferencer('lr_images/', out_dir='out', pred_score_thr=0.3)

mmdet's flow with these override points:

* model (``_init_model`` / ``_load_weights_to_model``): mmengine builds the model and loads
  ``weights`` (a packed file of ``tools/pack_sr_detector.py``, or none: the checkpoints the config
  names) through fdsr_mm's safe loader; every load is strict, complete and finite (see
  :mod:`~fdsr_mm.apis.inferencers.sr_det_model`); class names fall back to the config's.
* ``_init_pipeline``: the config's test pipeline on decoded BGR uint8 arrays.
* ``preprocess``: decodes each file (files that do not decode are skipped and reported by name).
* ``forward``: ``model.test_step``, plus the SR image each detector saw when it is drawn or saved.
* ``visualize``: draws boxes (input pixels) on the input or the SR image, writes ``vis/``.
* ``postprocess`` / ``pred2dict``: writes ``sr/`` and the per-image record ``preds/`` (last),
  returns mmdet-style dicts with boxes in input pixels.
* ``__call__``: lists inputs (files, folders, globs), refuses bad output folders, skips images an
  earlier run with the same model and settings finished, and writes ``results.bbox.json`` (COCO
  results, input pixels) and ``images.json`` (:mod:`~fdsr_mm.apis.inferencers.sr_det_results`).
"""
import itertools
import json
import os
import warnings
from typing import List, Optional

import cv2
import numpy as np
import torch
from mmdet.apis import DetInferencer
from rich.progress import track
from mmengine.dataset import pseudo_collate
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from fdsr_mm.utils.io import atomic_write_bytes, atomic_write_text, write_png
from fdsr_mm.apis.inferencers.sr_det_inputs import SRDetectError, list_images, read_image
from fdsr_mm.apis.inferencers.sr_det_model import (check_weights, check_weights_file, class_names,
                                                   inference_pipeline, load_config, palette_of,
                                                   quiet_mmengine)
from fdsr_mm.apis.inferencers.sr_det_records import make_record
from fdsr_mm.apis.inferencers.sr_det_run import Run, start_run

_VISUALIZER_IDS = itertools.count()


class SRDetInferencer(DetInferencer):
    """DetInferencer for SR + detector configs (``configs/sr_detectors/``; any mmdet detector config
    works too, without ``draw_on='sr'`` / ``save_sr``).

    Args:
        model (str | Config): an SR + detector config file or Config (or an mmdet model name).
        weights (str, optional): a packed SRDetector checkpoint; None: the config's checkpoints.
        device (str, optional): 'cpu', 'cuda', ...; None: cuda when available.
        scope (str): default scope. palette (str): as DetInferencer's.
        show_progress (bool): a progress bar over the batches.
        cfg_options (dict, optional): ``key=value`` overrides merged into the config.
    """

    visualize_kwargs: set = DetInferencer.visualize_kwargs | {'draw_on'}
    postprocess_kwargs: set = DetInferencer.postprocess_kwargs | {'save_sr'}

    def __init__(self, model=None, weights: Optional[str] = None, device: Optional[str] = None,
                 scope: Optional[str] = 'mmdet', palette: str = 'none',
                 show_progress: bool = True, cfg_options: Optional[dict] = None) -> None:
        model = load_config(model, cfg_options)
        check_weights_file(weights)
        self._weights = weights
        self._run: Optional[Run] = None
        super().__init__(model=model, weights=weights, device=device, scope=scope,
                         palette=palette, show_progress=show_progress)

    def __call__(self, inputs, batch_size: int = 1, return_vis: bool = False, show: bool = False,
                 wait_time: int = 0, no_save_vis: bool = False, draw_pred: bool = True,
                 pred_score_thr: float = 0.3, return_datasamples: bool = False,
                 print_result: bool = False, no_save_pred: bool = False, out_dir: str = '',
                 draw_on: str = 'lr', save_sr: bool = False,
                 ann_file: Optional[str] = None) -> dict:
        """Detect on ``inputs`` (an image file, folder or glob, or a list of them) in batches.

        As DetInferencer's, plus: ``draw_on`` ('lr': drawings on the input image, 'sr': on the
        SR image the detector saw), ``save_sr`` (write the SR images to ``out_dir/sr/``),
        ``ann_file`` (COCO json whose image and category ids ``results.bbox.json`` uses). With
        ``out_dir`` (which must not be, or be inside, an input folder) it writes ``vis/``,
        ``sr/``, ``preds/`` (unless ``no_save_pred``: then a rerun redoes every image),
        ``results.bbox.json`` and ``images.json``, and reuses the images an earlier call with
        the same model and settings finished there.

        Returns:
            dict: ``predictions`` (per image detected by this call, in input order:
            :meth:`pred2dict` dicts, or DetDataSamples with ``return_datasamples``),
            ``visualization`` (RGB uint8 drawings, with ``return_vis``) and ``summary``
            (``images``, ``reused``, ``skipped`` [(file, reason)], ``detections``).
        """
        files = self._inputs_to_list(inputs, out_dir)
        draw = bool(out_dir) and not no_save_vis
        self._run = run = start_run(self.model, files, out_dir, pred_score_thr, draw, draw_on,
                                    save_sr, not no_save_pred, ann_file)
        try:
            todo = run.todo
            batches = self.preprocess(todo, batch_size=batch_size)
            if self.show_progress and todo:
                batches = track(batches, description='Inference',
                                total=-(-len(todo) // batch_size))
            result = dict(predictions=[], visualization=[])
            for images, data in batches:
                if data is None:
                    continue
                preds = self.forward(data, return_sr=save_sr or (draw_on == 'sr' and (
                    draw or show or return_vis)))
                vis = self.visualize(images, preds, return_vis, show, wait_time, draw_pred,
                                     pred_score_thr, no_save_vis, out_dir, draw_on=draw_on)
                res = self.postprocess(preds, vis, return_datasamples, print_result,
                                       no_save_pred, out_dir, save_sr=save_sr)
                result['predictions'].extend(res['predictions'])
                result['visualization'].extend(res['visualization'] or [])
            result['summary'] = run.finish()
        finally:
            self._run = None
        return result

    # -- model, pipeline, visualizer -------------------------------------------------------------
    def _init_model(self, cfg, weights, device='cpu') -> torch.nn.Module:
        """mmengine's build and load, without its INFO lines."""
        with quiet_mmengine():
            return super()._init_model(cfg, weights, device)

    def _load_weights_to_model(self, model, checkpoint, cfg) -> None:
        """Load ``checkpoint`` (checked, see :func:`check_weights`) the way mmengine does; set the
        class names (:func:`class_names`) and palette."""
        if checkpoint is not None:
            check_weights(model, checkpoint, self._weights)
            _load_checkpoint_to_model(model, checkpoint)  # SRDetector checks every load itself
        model.dataset_meta = class_names(model, checkpoint, cfg)
        model.dataset_meta['palette'] = palette_of(cfg, self.palette, model.dataset_meta)

    def _init_pipeline(self, cfg):
        """The test pipeline on a decoded BGR uint8 (H, W, 3) array (``dict(img=...)``)."""
        return inference_pipeline(cfg)

    def _init_collate(self, cfg):
        """The config's ``test_dataloader.collate_fn``, else ``pseudo_collate`` (without
        mmengine's warning about a registry look-up of a function the config does not name)."""
        if cfg.get('test_dataloader', {}).get('collate_fn') is None:
            return pseudo_collate
        return super()._init_collate(cfg)

    def _init_visualizer(self, cfg):
        """The config's visualizer, without backends (outputs are written by this class)."""
        if 'visualizer' not in cfg:
            return None
        from mmdet.registry import VISUALIZERS
        name = f"{cfg.visualizer.get('name', 'visualizer')}_sr_det_{os.getpid()}_" \
               f'{next(_VISUALIZER_IDS)}'
        visualizer = VISUALIZERS.build(dict(cfg.visualizer, name=name, vis_backends=None,
                                            save_dir=None))
        visualizer.dataset_meta = self.model.dataset_meta
        return visualizer

    # -- the steps -------------------------------------------------------------------------------
    def _inputs_to_list(self, inputs, out_dir: str = '') -> List[str]:
        """Image files of ``inputs`` (a path or a list of paths: files, folders searched
        recursively, glob patterns), sorted; with ``out_dir``, refusing one that is a file or
        inside an input folder (:func:`list_images`). Arrays are not taken: outputs and records
        are named after the files."""
        inputs = [inputs] if isinstance(inputs, str) else list(inputs)
        if not all(isinstance(i, str) for i in inputs):
            raise SRDetectError('inputs must be image paths, folders or glob patterns (not '
                                'arrays): outputs and records are named after the files')
        return list_images(inputs, out_dir=out_dir or None)

    def preprocess(self, inputs: List[str], batch_size: int = 1, **kwargs):
        """Yield ``(images, data)`` per batch of ``inputs`` (file paths): ``images`` the decoded
        BGR uint8 (H, W, 3) arrays, ``data`` the collated pipeline outputs (None if no file of
        the batch decodes). Files that do not decode are printed, recorded in the run's
        ``skipped`` and left out."""
        for start in range(0, len(inputs), batch_size):
            images, packed = [], []
            for file in inputs[start:start + batch_size]:
                img, why = read_image(file)
                if img is None:
                    if self._run is not None:
                        self._run.skipped.append((file, why))
                    print(f'\nskipped {file}: {why}', flush=True)
                    continue
                images.append(img)
                packed.append(self.pipeline(dict(img=img)))
                packed[-1]['data_samples'].set_metainfo(dict(img_path=file))  # the loader's is None
            yield images, (self.collate_fn(packed) if packed else None)

    @torch.no_grad()
    def forward(self, inputs: dict, return_sr: bool = False, **kwargs) -> list:
        """``model.test_step``; with ``return_sr`` each sample also gets ``sr_img``: the SR image
        (H*s, W*s, 3) BGR uint8 the detector saw (computed again from the batch)."""
        preds = self.model.test_step(inputs)
        if return_sr:
            if not hasattr(self.model, 'super_resolve'):
                raise SRDetectError('the model makes no SR image (not an SRDetector)',
                                    '--draw-on sr / --save-sr', 'use a configs/sr_detectors/ '
                                    'config')
            data = self.model.data_preprocessor(inputs, False)
            for lr, sample, pred in zip(data['inputs'], data['data_samples'], preds):
                h, w = sample.img_shape[:2]
                pred.sr_img = self.model.super_resolve(lr[:, :h, :w].float())
        return preds

    def input_pixel_boxes(self, pred) -> torch.Tensor:
        """(n, 4) x1, y1, x2, y2 boxes of ``pred.pred_instances`` in the input image's pixels (an
        SRDetector with ``sr_coords=True`` returns SR pixels: divided by the SR scale and the
        outer pipeline's ``scale_factor``)."""
        boxes = pred.pred_instances.bboxes
        if getattr(self.model, 'sr_coords', False):
            boxes = boxes / pred.metainfo.get('sr_scale', self.model.scale)
            if pred.metainfo.get('scale_factor') is not None:
                boxes = boxes / boxes.new_tensor(pred.metainfo['scale_factor']).repeat((1, 2))
        return boxes

    def visualize(self, inputs: List[np.ndarray], preds, return_vis: bool = False,
                  show: bool = False, wait_time: int = 0, draw_pred: bool = True,
                  pred_score_thr: float = 0.3, no_save_vis: bool = False,
                  img_out_dir: str = '', draw_on: str = 'lr', **kwargs):
        """Draw each prediction (score >= ``pred_score_thr``) on its input image (``inputs``:
        BGR uint8 (H, W, 3)) or, with ``draw_on='sr'``, on ``pred.sr_img``; write the drawing
        to the run's ``vis/<name>.jpg`` when ``img_out_dir`` is set. Returns the drawings (RGB
        uint8) or None when nothing is shown, saved or returned."""
        outs = self._run.outs if self._run is not None and img_out_dir else {}
        if not show and not return_vis and (no_save_vis or not outs):
            return None
        if self.visualizer is None:
            raise ValueError('Visualization needs the "visualizer" term defined in the config.')
        drawings = []
        for img, pred in zip(inputs, preds):
            boxes = self.input_pixel_boxes(pred)
            if draw_on == 'sr':  # input pixels -> SR pixels
                sr = pred.sr_img
                boxes = boxes * boxes.new_tensor(
                    [sr.shape[1] / img.shape[1], sr.shape[0] / img.shape[0]] * 2)
                img = sr
            out = outs.get(pred.img_path, None)
            name = os.path.basename(out.vis) if out and out.vis else pred.img_path
            drawn = self._draw(name, img, boxes, pred, pred_score_thr, show, wait_time, draw_pred)
            if out and out.vis and not no_save_vis:
                atomic_write_bytes(out.vis, cv2.imencode('.jpg', drawn[..., ::-1])[1].tobytes())
            drawings.append(drawn)
        return drawings

    def _draw(self, name: str, img_bgr: np.ndarray, boxes: torch.Tensor, pred, score_thr: float,
              show: bool, wait_time: int, draw_pred: bool) -> np.ndarray:
        """The drawing (RGB uint8) of ``boxes`` (pixels of ``img_bgr``, clipped to it) with the
        prediction's scores and labels.

        mmengine warns for every box or label that touches the right or bottom border (its
        bound is ``x < width``; boxes end at ``x <= width``): those notices are not shown.
        """
        from mmdet.structures import DetDataSample
        from mmengine.structures import InstanceData
        p = pred.pred_instances
        h, w = img_bgr.shape[:2]
        boxes = torch.stack([boxes[:, 0].clamp(0, w), boxes[:, 1].clamp(0, h),
                             boxes[:, 2].clamp(0, w), boxes[:, 3].clamp(0, h)], dim=1)
        shown = DetDataSample(pred_instances=InstanceData(bboxes=boxes, scores=p.scores,
                                                          labels=p.labels))
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message=r'Warning: The \w+ is out of bounds')
            self.visualizer.add_datasample(name, np.ascontiguousarray(img_bgr[..., ::-1]), shown,
                                           draw_gt=False, draw_pred=draw_pred, show=show,
                                           wait_time=wait_time, pred_score_thr=score_thr)
        self.num_visualized_imgs += 1
        return self.visualizer.get_image()

    def postprocess(self, preds, visualization=None, return_datasamples: bool = False,
                    print_result: bool = False, no_save_pred: bool = False,
                    pred_out_dir: str = '', save_sr: bool = False, **kwargs) -> dict:
        """Per prediction: write the run's ``sr/<name>.png`` (``save_sr``: ``pred.sr_img``,
        lossless), then its record ``preds/<name>.json`` (atomic, last: the image is finished);
        return ``predictions`` (:meth:`pred2dict` dicts, or the samples) and ``visualization``."""
        results = []
        for pred in preds:
            out = self._run.outs.get(pred.img_path) if self._run and pred_out_dir else None
            if out and out.sr and save_sr:
                write_png(out.sr, pred.sr_img, channel_order='bgr')
            if self._run is not None:
                self._run.records[pred.img_path] = record = self._record(pred)
                if out and out.pred and not no_save_pred:
                    atomic_write_text(out.pred, json.dumps(record))
            results.append(pred if return_datasamples else self.pred2dict(pred))
        if print_result:
            print(results)
        return dict(predictions=results, visualization=visualization)

    def _record(self, pred) -> dict:
        """The run's record of one prediction (see :func:`make_record`)."""
        h, w = pred.ori_shape[:2]
        p = pred.pred_instances
        return make_record(self._run.file_keys[pred.img_path], pred.img_path, w, h,
                           self.input_pixel_boxes(pred), p.scores, p.labels, self._run.score_thr)

    def pred2dict(self, data_sample, pred_out_dir: str = '') -> dict:
        """``file_name``, ``labels`` (class indices), ``scores`` ([0, 1]) and ``bboxes`` (x1, y1,
        x2, y2 in input pixels) of every detection; files are written by :meth:`postprocess`."""
        p = data_sample.pred_instances
        return dict(file_name=data_sample.img_path, labels=p.labels.tolist(),
                    scores=p.scores.tolist(), bboxes=self.input_pixel_boxes(data_sample).tolist())


def init_sr_detector(config, weights: Optional[str] = None, device: str = 'cpu',
                     cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """The model of :class:`SRDetInferencer` (eval mode on ``device``): an mmdet detector config
    (an SRDetector config above all) with ``weights`` (a packed checkpoint) or the checkpoints
    the config names, checked as the inferencer checks them. ``model.cfg`` is the loaded config,
    ``model.dataset_meta`` holds the class names (see :func:`class_names`)."""
    return SRDetInferencer(config, weights, device, show_progress=False,
                           cfg_options=cfg_options).model
