"""Detect on low-resolution images with an SR + detector model (``configs/sr_detectors/``).

:func:`init_sr_detector` builds any mmdet detector config (an :class:`~fdsr_mm.models.SRDetector`
config above all) with its weights; :func:`detect_folder` runs it over image files in batches,
skipping (and reporting by name) files that do not decode, draws the boxes with the config's mmdet
visualizer and writes COCO-style results. Boxes are in the pixels of the images passed in.
"""
import glob
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


class SRDetectError(ValueError):
    """A bad input of ``tools/sr_detect.py`` (no images, bad config or weights): one line."""


def list_images(inputs: Sequence[str]) -> List[str]:
    """Image files named by ``inputs``: files, folders (recursively) or glob patterns, sorted."""
    files = []
    for item in inputs:
        if osp.isdir(item):
            found = [osp.join(root, f) for root, _, names in os.walk(item) for f in names
                     if f.lower().endswith(IMAGE_EXTENSIONS)]
        elif osp.isfile(item):
            found = [item]
        else:
            found = [p for p in glob.glob(item, recursive=True) if osp.isfile(p)]
            if not found:
                raise SRDetectError(f'{item}: no such file or folder, and no file matches it as '
                                    'a glob pattern. Pass an image, a folder or a quoted glob.')
        files.extend(sorted(found))
    if not files:
        raise SRDetectError(f'No image files ({", ".join(IMAGE_EXTENSIONS)}) in {list(inputs)}.')
    return list(dict.fromkeys(files))


def init_sr_detector(config: str, weights: Optional[str] = None, device: str = 'cpu',
                     cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build the model of an mmdet config and load ``weights`` (a packed checkpoint) if given.

    Without ``weights`` an SRDetector loads the checkpoints its config names. The model's
    ``dataset_meta`` (class names) comes from ``weights``' meta, else from the detector
    checkpoint, else COCO's classes (with a warning). ``model.cfg`` is the loaded config.
    """
    from mmdet.registry import MODELS
    from mmengine.runner import load_checkpoint
    if not osp.isfile(config):
        raise SRDetectError(f'Config {config} does not exist (e.g. '
                            'configs/sr_detectors/fdsr-x4_faster-rcnn_r50_fpn_coco.py).')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model = MODELS.build(cfg.model)
    if weights:
        if not osp.isfile(weights):
            raise SRDetectError(f'Weights {weights} do not exist: pack them with '
                                'tools/pack_sr_detector.py, or leave --weights out to load the '
                                'checkpoints the config names.')
        ckpt = load_checkpoint(model, weights, map_location='cpu', strict=True)
        meta = ckpt.get('meta', {}).get('dataset_meta')
        if meta:
            model.dataset_meta = meta
    if not getattr(model, 'dataset_meta', None):
        from mmdet.evaluation import get_classes
        print('WARNING: no class names in the checkpoints; using COCO classes.', flush=True)
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


def read_image(path: str) -> Tuple[Optional[np.ndarray], Optional[str]]:
    """(BGR uint8 image, None) as mmdet's loader reads it, or (None, why it is unusable).

    The cascade's reader (:func:`fdsr_mm.apis.cascade.hr_prep.read_hr`): PIL decodes the whole
    file first, so a truncated JPEG that cv2 would half-decode is refused too.
    """
    from fdsr_mm.apis.cascade.hr_prep import read_hr
    img, _, why = read_hr(path)
    return (None, why) if img is None else (np.ascontiguousarray(img[..., ::-1]), None)


def _coco_records(image_id: int, file: str, pred, score_thr: float) -> List[dict]:
    boxes = pred.bboxes.cpu().numpy().astype(float)
    scores, labels = pred.scores.cpu().numpy(), pred.labels.cpu().numpy()
    return [dict(image_id=image_id, file_name=file, category_id=int(label),
                 bbox=[round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2)],
                 score=round(float(score), 5))
            for (x0, y0, x1, y1), score, label in zip(boxes, scores, labels)
            if score >= score_thr]


def _draw(visualizer, name: str, img_bgr: np.ndarray, sample, score_thr: float,
          out_file: str) -> None:
    visualizer.add_datasample(name, img_bgr[..., ::-1], sample, draw_gt=False, show=False,
                              pred_score_thr=score_thr, out_file=out_file)


def detect_folder(model, files: Sequence[str], out_dir: str, batch_size: int = 1,
                  score_thr: float = 0.3, draw: bool = True, progress: bool = True) -> Dict:
    """Detect on every file; write ``vis/<name>`` drawings, ``results.bbox.json``, ``images.json``.

    ``results.bbox.json``: COCO results (``image_id``, ``category_id`` = class index into
    ``images.json['categories']``, ``bbox`` [x, y, w, h] in input pixels, ``score``,
    ``file_name``) for detections with score >= ``score_thr``. ``images.json``: the images
    (id, file_name, width, height), the categories and the skipped files with their reasons.

    Returns:
        dict: ``images`` (detected), ``skipped`` ([(file, reason)]), ``detections``.
    """
    from mmdet.registry import VISUALIZERS
    from mmengine.utils import ProgressBar

    from fdsr_mm.evaluation.tables import atomic_write_text
    os.makedirs(out_dir, exist_ok=True)
    pipeline = _inference_pipeline(model.cfg)
    root = osp.commonpath([osp.dirname(osp.abspath(f)) for f in files])
    visualizer = None
    if draw:
        stamp = f'sr_detect_{os.getpid()}_{id(files)}'  # visualizers are named instances
        visualizer = VISUALIZERS.build(dict(model.cfg.visualizer, name=stamp))
        visualizer.dataset_meta = model.dataset_meta
    images, skipped, records = [], [], []
    bar = ProgressBar(len(files)) if progress else None
    for start in range(0, len(files), batch_size):
        batch = []
        for file in files[start:start + batch_size]:
            img, why = read_image(file)
            if img is None:
                skipped.append((file, why))
                print(f'\nskipped {file}: {why}', flush=True)
            else:
                batch.append((file, img))
        if batch:
            data = pseudo_collate([pipeline(dict(img=img, img_path=f)) for f, img in batch])
            with torch.no_grad():
                samples = model.test_step(data)
            for (file, img), sample in zip(batch, samples):
                image_id = len(images) + 1
                name = osp.relpath(osp.abspath(file), root)
                images.append(dict(id=image_id, file_name=file, width=int(img.shape[1]),
                                   height=int(img.shape[0])))
                records.extend(_coco_records(image_id, file, sample.pred_instances, score_thr))
                if visualizer is not None:
                    out = osp.join(out_dir, 'vis', osp.splitext(name)[0] + '.jpg')
                    _draw(visualizer, name, img, sample, score_thr, out)
        if bar is not None:
            bar.update(len(files[start:start + batch_size]))
    classes = model.dataset_meta.get('classes', ())
    atomic_write_text(osp.join(out_dir, 'results.bbox.json'), json.dumps(records))
    atomic_write_text(osp.join(out_dir, 'images.json'), json.dumps(dict(
        images=images, categories=[dict(id=i, name=c) for i, c in enumerate(classes)],
        skipped=[dict(file_name=f, reason=r) for f, r in skipped]), indent=1))
    return dict(images=len(images), skipped=skipped, detections=len(records))
