"""An LR-annotated COCO set made from an HR one: degraded images + annotations scaled by 1/scale.

What the SR + detector test loop (``configs/sr_detectors/``, CocoMetric) needs when no real LR
data with boxes exists: every HR image is read as mmdet reads it (cv2 'color', EXIF applied),
mod-cropped at the top-left to a multiple of ``scale``, degraded by a registered degradation
(:mod:`fdsr_mm.datasets.degradations`, keyed by the file's base name, the same LR image the cascade
makes) and written as lossless PNG; boxes ([x, y, w, h], HR pixels) are clipped to the mod-crop
and divided by ``scale``, areas by ``scale**2``, polygons scaled. Images that do not decode are
left out with their annotations and reported.
"""
import copy
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

import numpy as np


def _scaled_annotation(ann: dict, scale: int, w_hr: int, h_hr: int) -> dict:
    """``ann`` in LR pixels, or None when nothing of its box is left after the mod-crop."""
    x, y, w, h = ann['bbox']
    x0, y0 = min(max(x, 0.), w_hr), min(max(y, 0.), h_hr)
    x1, y1 = min(max(x + w, 0.), w_hr), min(max(y + h, 0.), h_hr)
    if x1 <= x0 or y1 <= y0:
        return None
    out = copy.deepcopy(ann)
    out['bbox'] = [x0 / scale, y0 / scale, (x1 - x0) / scale, (y1 - y0) / scale]
    out['area'] = float(ann.get('area', w * h)) / scale**2
    seg = ann.get('segmentation')
    out['segmentation'] = [[float(v) / scale for v in poly] for poly in seg] \
        if isinstance(seg, list) else []  # RLE masks are not rescaled: left out
    return out


def write_lr_coco(ann_file: str, img_dir: str, out_root: str, scale: int = 4,
                  degradation: str = 'bicubic', seed: int = 0) -> Tuple[str, Dict]:
    """Write ``out_root/images/<name>.png`` and ``out_root/annotations/<ann_file's name>``.

    Args:
        ann_file: The HR COCO json; img_dir: the folder its ``file_name``s are relative to.
        scale: Downsampling factor; degradation, seed: see
            :func:`fdsr_mm.datasets.degradations.degrade`.

    Returns:
        (path of the LR json, summary: ``images``, ``annotations``, ``skipped`` [(file, why)]).
    """
    from fdsr_mm.apis.cascade.cache_io import write_png
    from fdsr_mm.apis.cascade.hr_prep import read_hr
    from fdsr_mm.evaluation.tables import atomic_write_text
    from .degradations import degrade, degradation_key
    with open(ann_file, encoding='utf-8') as f:
        coco = json.load(f)
    if not isinstance(coco, dict) or not isinstance(coco.get('images'), list):
        raise ValueError(f'{ann_file} is not a COCO detection json (no "images" list).')
    by_image: Dict[int, List[dict]] = {}
    for ann in coco.get('annotations', []):
        by_image.setdefault(ann['image_id'], []).append(ann)
    os.makedirs(osp.join(out_root, 'images'), exist_ok=True)
    images, annotations, skipped = [], [], []
    for im in coco['images']:
        path = osp.join(img_dir, im['file_name'])
        img, _, why = read_hr(path)
        if img is None:
            skipped.append((path, why))
            continue
        h, w = (img.shape[0] // scale) * scale, (img.shape[1] // scale) * scale
        if h == 0 or w == 0:
            skipped.append((path, f'smaller than the scale {scale}'))
            continue
        lr = degrade(np.ascontiguousarray(img[:h, :w]), scale, degradation, seed,
                     degradation_key(path), channel_order='rgb')
        name = osp.splitext(im['file_name'])[0] + '.png'
        write_png(osp.join(out_root, 'images', name), lr)  # lossless, atomic
        images.append(dict(im, file_name=name, width=w // scale, height=h // scale))
        for ann in by_image.get(im['id'], []):
            scaled = _scaled_annotation(ann, scale, w, h)
            if scaled is not None:
                annotations.append(scaled)
    lr_coco = dict(coco, images=images, annotations=annotations)
    lr_coco['info'] = dict(coco.get('info') or {}, fdsr_mm_lr=dict(
        source=ann_file, scale=scale, degradation=degradation, seed=seed))
    out_json = osp.join(out_root, 'annotations', osp.basename(ann_file))
    atomic_write_text(out_json, json.dumps(lr_coco))
    return out_json, dict(images=len(images), annotations=len(annotations), skipped=skipped)
