"""Detect on low-resolution images with an SR + detector model (``configs/sr_detectors/``).

:func:`init_sr_detector` builds any mmdet detector config (an :class:`~fdsr_mm.models.SRDetector`
config above all) with its weights; :func:`detect_folder` runs it over image files in batches,
skipping (and reporting by name) files that do not decode, draws the boxes with the config's mmdet
visualizer (on the input image, or on the SR image the detector saw) and writes COCO results.
Boxes in ``results.bbox.json`` are always in the pixels of the images passed in (an SRDetector
with ``sr_coords=True`` returns SR pixels: they are mapped back here).

Each finished image is recorded at once in ``preds/<name>.json`` (written atomically, last): a
rerun with the same model, settings and unchanged input file skips it, so an interrupted run
(Ctrl-C) continues where it stopped. Output names are distinct per input (``a.png`` and ``a.jpg``
-> ``vis/a_png.jpg``, ``vis/a_jpg.jpg``), and the output folder may not be (or be inside) an
input folder: a rerun would detect on its own drawings.
"""
import contextlib
import hashlib
import json
import logging
import os
import os.path as osp
import warnings
from typing import Dict, NamedTuple, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope

from fdsr_mm.utils.checkpoints import check_finite_state_dict, load_local_checkpoint, tag_source
from fdsr_mm.utils.io import atomic_write_text, write_png
from fdsr_mm.utils.output_names import unique_stems
from fdsr_mm.apis.sr_detect_inputs import (IMAGE_EXTENSIONS, OUTPUT_FOLDERS, SRDetectError, check_out_dir,
                               list_images, read_image)
from fdsr_mm.apis.sr_detect_results import CocoIds, coco_ids, write_results

__all__ = ['IMAGE_EXTENSIONS', 'OUTPUT_FOLDERS', 'CocoIds', 'SRDetectError', 'check_out_dir',
           'coco_ids', 'detect_folder', 'init_sr_detector', 'list_images', 'read_image',
           'write_results']

#: Version of the ``preds/<name>.json`` records (part of their key).
_RECORD_VERSION = 1


@contextlib.contextmanager
def quiet_mmengine():
    """Hide mmengine's INFO lines (e.g. one block per module from ``init_weights()``) inside."""
    from mmengine.logging import MMLogger
    loggers = [MMLogger.get_current_instance(), logging.getLogger('mmengine')]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.WARNING)
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _config_classes(cfg: Config) -> Optional[tuple]:
    """Class names a config's test dataset states (``metainfo.classes``), if any."""
    try:
        classes = cfg.test_dataloader.dataset.metainfo.classes
    except AttributeError:
        return None
    return tuple(classes) if classes else None


def _load_weights(model: torch.nn.Module, weights: str) -> dict:
    """Load a packed checkpoint into ``model``: safe unpickler, finite, every key and shape
    (``module.`` prefixes of wrapped models dropped); returns its meta."""
    if not osp.isfile(weights):
        raise SRDetectError('the weights file does not exist', f'--weights {weights}',
                            'pack it with tools/pack_sr_detector.py, or leave --weights out to '
                            'load the checkpoints the config names')
    ckpt = load_local_checkpoint(weights, map_location='cpu')  # UnsafeCheckpointError: 1 line
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise SRDetectError('not a checkpoint (no state dict of tensors)', f'--weights {weights}')
    check_finite_state_dict(state, weights)
    state = tag_source({k[len('module.'):] if k.startswith('module.') else k: v
                        for k, v in state.items()}, weights)  # errors name the file
    fix = 'pass the file tools/pack_sr_detector.py made from this config'
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as e:  # shapes that differ
        raise SRDetectError('the weights do not fit the model of the config: '
                            f'{" ".join(str(e).split())[:300]}', f'--weights {weights}',
                            fix) from None
    if missing or unexpected:
        raise SRDetectError(f'the weights do not fit the model of the config: missing '
                            f'{len(missing)} keys {missing[:3]}, unexpected {len(unexpected)} '
                            f'{unexpected[:3]}', f'--weights {weights}', fix)
    return ckpt.get('meta') or {}


def init_sr_detector(config: str, weights: Optional[str] = None, device: str = 'cpu',
                     cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build the model of an mmdet config and load ``weights`` (a packed checkpoint) if given.

    Without ``weights`` an SRDetector loads the checkpoints its config names. The model's
    ``dataset_meta`` (class names) comes from ``weights``' meta, else from the detector
    checkpoint, else the config's ``test_dataloader.dataset.metainfo``, else COCO's classes
    (with a warning). ``model.cfg`` is the loaded config. mmengine's INFO lines of the build are
    not printed.
    """
    from mmdet.registry import MODELS
    if not osp.isfile(config):
        raise SRDetectError(f'Config {config} does not exist', None, 'e.g. '
                            'configs/sr_detectors/fdsr-x4_faster-rcnn_r50_fpn_coco.py')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    with quiet_mmengine():
        model = MODELS.build(cfg.model)
        if weights:
            meta = _load_weights(model, weights).get('dataset_meta')
            if meta:
                model.dataset_meta = meta
    if not getattr(model, 'dataset_meta', None) and _config_classes(cfg):
        model.dataset_meta = {'classes': _config_classes(cfg)}
    if not getattr(model, 'dataset_meta', None):
        from mmdet.evaluation import get_classes
        print('WARNING: no class names in the checkpoints or the config; using COCO classes.',
              flush=True)
        model.dataset_meta = {'classes': get_classes('coco')}
    model.cfg = cfg
    return model.to(device).eval()


def _inference_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline, loading from an in-memory BGR array instead of a file."""
    steps = [dict(t) for t in cfg.test_dataloader.dataset.pipeline
             if t['type'] not in ('LoadAnnotations', 'mmdet.LoadAnnotations')]
    for t in steps:
        if t['type'] in ('LoadImageFromFile', 'mmdet.LoadImageFromFile'):
            t.clear()
            t['type'] = 'mmdet.LoadImageFromNDArray'
        if t['type'].endswith('PackDetInputs') and 'meta_keys' in t:
            t['meta_keys'] = tuple(k for k in t['meta_keys'] if k != 'img_id')
    return Compose(steps)


# ---------------------------------------------------------------------------------------------
# One image: boxes in input pixels, drawing, SR image, record
# ---------------------------------------------------------------------------------------------
def run_key(model: torch.nn.Module, settings: dict) -> str:
    """A hash of the model (config text and every weight) and ``settings``: records made under
    another key are redone."""
    h = hashlib.sha1(json.dumps([_RECORD_VERSION, settings], sort_keys=True).encode())
    h.update(json.dumps(model.cfg.to_dict(), sort_keys=True, default=str).encode())
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()


def _file_key(key: str, file: str) -> str:
    """``key`` and the input file's path, size and modification time."""
    st = os.stat(file)
    return hashlib.sha1(f'{key}|{osp.abspath(file)}|{st.st_size}|{st.st_mtime_ns}'.encode()
                        ).hexdigest()


def input_pixel_boxes(model: torch.nn.Module, sample) -> torch.Tensor:
    """(n, 4) x1, y1, x2, y2 boxes of ``sample.pred_instances`` in the input image's pixels.

    An SRDetector with ``sr_coords=True`` returns SR-image pixels (of the LR image as the outer
    pipeline left it): they are divided by the SR scale and the outer ``scale_factor``.
    """
    boxes = sample.pred_instances.bboxes
    if getattr(model, 'sr_coords', False):
        boxes = boxes / sample.metainfo.get('sr_scale', model.scale)
        if sample.metainfo.get('scale_factor') is not None:
            boxes = boxes / boxes.new_tensor(sample.metainfo['scale_factor']).repeat((1, 2))
    return boxes


def sr_image(model: torch.nn.Module, packed: dict) -> np.ndarray:
    """The SR image (H*s, W*s, 3) BGR uint8 the SRDetector's detector sees for one packed input
    (the model's preprocessor, then :meth:`SRDetector.super_resolve`; computed again)."""
    data = model.data_preprocessor(pseudo_collate([packed]), False)
    h, w = data['data_samples'][0].img_shape[:2]
    with torch.no_grad():
        return model.super_resolve(data['inputs'][0][:, :h, :w].float())


def _draw(visualizer, name: str, img_bgr: np.ndarray, boxes: torch.Tensor, sample,
          score_thr: float, out_file: str) -> None:
    """Draw ``boxes`` (pixels of ``img_bgr``, clipped to it) with the sample's scores and labels.

    mmengine warns for every box, polygon or label that touches the right or bottom border
    (its bound is ``x < width``; boxes end at ``x <= width``): those notices are not shown.
    """
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    pred = sample.pred_instances
    h, w = img_bgr.shape[:2]
    boxes = torch.stack([boxes[:, 0].clamp(0, w), boxes[:, 1].clamp(0, h),
                         boxes[:, 2].clamp(0, w), boxes[:, 3].clamp(0, h)], dim=1)
    shown = DetDataSample(pred_instances=InstanceData(bboxes=boxes, scores=pred.scores,
                                                      labels=pred.labels))
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message=r'Warning: The \w+ is out of bounds')
        visualizer.add_datasample(name, img_bgr[..., ::-1], shown, draw_gt=False, show=False,
                                  pred_score_thr=score_thr, out_file=out_file)


def _record(key: str, file: str, img: np.ndarray, boxes: torch.Tensor, sample,
            score_thr: float) -> dict:
    """The ``preds/<name>.json`` record: boxes [x, y, w, h] (input pixels) with score and class
    index (into the model's classes), detections with score >= ``score_thr``."""
    scores = sample.pred_instances.scores.cpu().numpy()
    labels = sample.pred_instances.labels.cpu().numpy()
    dets = [dict(bbox=[round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2)],
                 score=round(float(s), 5), label=int(c))
            for (x0, y0, x1, y1), s, c in zip(boxes.cpu().numpy().astype(float), scores, labels)
            if s >= score_thr]
    return dict(key=key, file_name=file, width=int(img.shape[1]), height=int(img.shape[0]),
                detections=dets)


def _load_record(path: str, key: str) -> Optional[dict]:
    """The record at ``path`` if it was made under ``key``, else None."""
    try:
        with open(path, encoding='utf-8') as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get('key') == key else None


class _Outputs(NamedTuple):
    """Per-image output paths under ``out_dir`` (None: not written)."""
    pred: str
    vis: Optional[str]
    sr: Optional[str]


def _outputs(out_dir: str, stem: str, draw: bool, save_sr: bool) -> _Outputs:
    return _Outputs(osp.join(out_dir, 'preds', stem + '.json'),
                    osp.join(out_dir, 'vis', stem + '.jpg') if draw else None,
                    osp.join(out_dir, 'sr', stem + '.png') if save_sr else None)


def _finished(out: _Outputs, key: str) -> Optional[dict]:
    """The record of an image finished under ``key`` with all its outputs, else None."""
    if any(p and not osp.isfile(p) for p in (out.vis, out.sr)):
        return None
    return _load_record(out.pred, key)


def _finish_image(model, visualizer, out: _Outputs, key: str, file: str, img: np.ndarray,
                  packed: dict, sample, score_thr: float, draw_on: str) -> dict:
    """Write one detected image's outputs (SR image, drawing, then its record) and return the
    record. ``img``: the input, BGR uint8; ``packed``: its pipeline output; ``sample``: the
    model's prediction for it."""
    boxes = input_pixel_boxes(model, sample)
    drawn_on_sr = visualizer is not None and draw_on == 'sr'
    sr = sr_image(model, packed) if out.sr or drawn_on_sr else None
    if out.sr:
        write_png(out.sr, np.ascontiguousarray(sr[..., ::-1]))  # lossless, atomic
    if visualizer is not None:
        shown, shown_boxes = img, boxes
        if drawn_on_sr:  # input pixels -> SR pixels
            shown, shown_boxes = sr, boxes * boxes.new_tensor(
                [sr.shape[1] / img.shape[1], sr.shape[0] / img.shape[0]] * 2)
        name = osp.basename(out.vis)
        _draw(visualizer, name, shown, shown_boxes, sample, score_thr, out.vis)
    record = _record(key, file, img, boxes, sample, score_thr)
    atomic_write_text(out.pred, json.dumps(record))  # last: marks the image finished
    return record


def detect_folder(model, files: Sequence[str], out_dir: str, batch_size: int = 1,
                  score_thr: float = 0.3, draw: bool = True, progress: bool = True,
                  draw_on: str = 'lr', save_sr: bool = False,
                  ann_file: Optional[str] = None) -> Dict:
    """Detect on every file; write ``preds/``, ``vis/`` (``sr/``), ``results.bbox.json`` and
    ``images.json``.

    Args:
        model: From :func:`init_sr_detector`. files: image paths (:func:`list_images`).
        draw_on: ``'lr'`` draws on the input image, ``'sr'`` on the SR image the detector saw
            (SRDetector only; readable labels on small inputs). save_sr: also write the SR image
            losslessly to ``sr/<name>.png`` (SRDetector only).
        ann_file: COCO json giving the image and category ids, see :func:`coco_ids`.

    ``results.bbox.json``: COCO results (``image_id``, ``category_id``, ``bbox`` [x, y, w, h] in
    input pixels, ``score``, ``file_name``) for detections with score >= ``score_thr``, ready for
    ``COCO.loadRes`` + ``COCOeval`` against ``ann_file``. ``images.json``: the images (id,
    file_name, width, height), the categories (id, name), how the ids were made (``ids``) and
    the skipped files with their reasons. Images finished by an earlier run with the same model
    and settings are not redone (their ``preds/<name>.json`` is reused).

    Returns:
        dict: ``images`` (with results), ``reused`` (of them, from an earlier run), ``skipped``
        ([(file, reason)]), ``detections``.
    """
    from mmdet.registry import VISUALIZERS
    from mmengine.utils import ProgressBar
    if draw_on not in ('lr', 'sr'):
        raise SRDetectError(f"draw_on must be 'lr' or 'sr', got {draw_on!r}", '--draw-on')
    if (save_sr or (draw and draw_on == 'sr')) and not hasattr(model, 'super_resolve'):
        raise SRDetectError('the model makes no SR image (not an SRDetector)',
                            '--draw-on sr / --save-sr', 'use a configs/sr_detectors/ config')
    check_out_dir(out_dir, files)
    classes = tuple(model.dataset_meta.get('classes', ()))
    ids = coco_ids(files, classes, ann_file)  # refuse a bad --ann-file before any work
    os.makedirs(out_dir, exist_ok=True)
    key = run_key(model, dict(score_thr=score_thr, draw=draw, draw_on=draw_on, save_sr=save_sr))
    root = osp.commonpath([osp.dirname(osp.abspath(f)) for f in files])
    stems = unique_stems([osp.relpath(osp.abspath(f), root) for f in files])
    outs = {f: _outputs(out_dir, s, draw, save_sr) for f, s in zip(files, stems)}
    keys = {f: _file_key(key, f) for f in files}
    records = {f: r for f in files if (r := _finished(outs[f], keys[f])) is not None}
    todo = [f for f in files if f not in records]
    reused = len(records)

    pipeline = _inference_pipeline(model.cfg)
    visualizer = None
    if draw and todo:
        stamp = f'sr_detect_{os.getpid()}_{id(files)}'  # visualizers are named instances
        visualizer = VISUALIZERS.build(dict(model.cfg.visualizer, name=stamp,
                                            vis_backends=None, save_dir=None))
        visualizer.dataset_meta = model.dataset_meta
    skipped = []
    bar = ProgressBar(len(todo)) if progress and todo else None
    for start in range(0, len(todo), batch_size):
        batch = []
        for file in todo[start:start + batch_size]:
            img, why = read_image(file)
            if img is None:
                skipped.append((file, why))
                print(f'\nskipped {file}: {why}', flush=True)
            else:
                batch.append((file, img, pipeline(dict(img=img, img_path=file))))
        if batch:
            with torch.no_grad():
                samples = model.test_step(pseudo_collate([p for _, _, p in batch]))
            for (file, img, packed), sample in zip(batch, samples):
                records[file] = _finish_image(model, visualizer, outs[file], keys[file], file,
                                              img, packed, sample, score_thr, draw_on)
        if bar is not None:
            bar.update(len(todo[start:start + batch_size]))
    return write_results(out_dir, files, records, skipped, ids, classes, reused)
