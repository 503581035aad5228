"""An LR-annotated COCO set made from an HR one: degraded images + annotations scaled by 1/scale.

What the SR + detector test loop (``configs/sr_detectors/``, CocoMetric) needs when no real LR
data with boxes exists: every HR image is read as mmdet reads it (cv2 'color', EXIF applied),
mod-cropped at the top-left to a multiple of ``scale``, degraded by a registered degradation
(:mod:`fdsr_mm.datasets.transforms.degradations`, keyed by the file's base name, the same LR
image the cascade
makes) and written as lossless PNG; boxes ([x, y, w, h], HR pixels) are clipped to the mod-crop
and divided by ``scale``, polygons divided by ``scale``, RLE masks (crowd regions) cropped and
downscaled (see :func:`downscale_rle`). ``area`` stays the HR area, as in the cascade's
annotations: COCOeval's small / medium / large bins (32**2, 96**2) then put every object in the
bin it has on the HR set, so APS/APM/APL compare with the cascade's and the paper's (the json's
``info['fdsr_mm_lr']['area']`` says so). COCOeval bins an UNMATCHED detection by its own area,
which ``loadRes`` computes from its LR box: score LR sets with :class:`HRAreaCocoMetric`
(``test_evaluator.type='HRAreaCocoMetric'``), which gives detections HR-equivalent areas too, so
APS/APM/APL equal the cascade's. Images that do not decode are left out with their annotations
and reported.

The output must not overlap the input (``out_root`` equal to, inside or containing the HR image
folder, or holding the HR json): that would overwrite or mix in the HR data, and is refused.
"""
import copy
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np

from fdsr_mm.datasets.image_io import read_hr
from fdsr_mm.datasets.transforms.degradations import degrade, degradation_key
from fdsr_mm.utils.cli_errors import ToolError
from fdsr_mm.utils.io import atomic_write_text, write_png
from fdsr_mm.utils.output_names import is_within, overlaps, unique_stems

#: What ``info['fdsr_mm_lr']['area']`` of an LR json says.
AREA_NOTE = ('area is the HR-equivalent area (HR pixels, as in the source json): COCO '
             'small/medium/large bins classify objects as on the HR set')


def downscale_rle(seg: dict, scale: int, h_hr: int, w_hr: int) -> dict:
    """A COCO RLE mask of the HR image -> the compressed RLE of the LR image.

    Args:
        seg: ``{'size': [H, W], 'counts': ...}``, compressed (str) or uncompressed (list).
        scale: The downsampling factor; h_hr, w_hr: the mod-cropped HR size (multiples of it).

    Returns:
        ``{'size': [h_hr // scale, w_hr // scale], 'counts': str}``: an LR pixel is in the mask
        when at least half of its ``scale x scale`` HR block is (the mask outside the mod-crop is
        cut off; a mask smaller than the crop is padded with background).
    """
    from pycocotools import mask as mask_utils
    h, w = (int(v) for v in seg['size'])
    rle = mask_utils.frPyObjects(seg, h, w) if isinstance(seg['counts'], list) else \
        dict(seg, counts=seg['counts'].encode('ascii') if isinstance(seg['counts'], str)
             else seg['counts'])
    full = mask_utils.decode(rle)  # (H, W) uint8 in {0, 1}
    crop = np.zeros((h_hr, w_hr), np.float32)
    crop[:min(h, h_hr), :min(w, w_hr)] = full[:h_hr, :w_hr]
    blocks = crop.reshape(h_hr // scale, scale, w_hr // scale, scale).mean(axis=(1, 3))
    out = mask_utils.encode(np.asfortranarray((blocks >= 0.5).astype(np.uint8)))
    return dict(size=[int(v) for v in out['size']], counts=out['counts'].decode('ascii'))


def _scaled_annotation(ann: dict, scale: int, w_hr: int, h_hr: int) -> Optional[dict]:
    """``ann`` in LR pixels (``area`` kept in HR pixels), or None when nothing of its box is left
    after the mod-crop to ``w_hr`` x ``h_hr``."""
    x, y, w, h = ann['bbox']
    x0, y0 = min(max(x, 0.), w_hr), min(max(y, 0.), h_hr)
    x1, y1 = min(max(x + w, 0.), w_hr), min(max(y + h, 0.), h_hr)
    if x1 <= x0 or y1 <= y0:
        return None
    out = copy.deepcopy(ann)
    out['bbox'] = [x0 / scale, y0 / scale, (x1 - x0) / scale, (y1 - y0) / scale]
    out['area'] = float(ann.get('area', w * h))  # HR-equivalent, as the cascade's json
    seg = ann.get('segmentation')
    if isinstance(seg, dict) and 'counts' in seg and 'size' in seg:
        out['segmentation'] = downscale_rle(seg, scale, h_hr, w_hr)
    elif isinstance(seg, list):
        out['segmentation'] = [[float(v) / scale for v in poly] for poly in seg]
    else:
        out['segmentation'] = []
    return out


def check_lr_coco_args(ann_file: str, img_dir: str, out_root: str, scale: int,
                       seed: int) -> None:
    """Refuse a scale < 1, a negative seed, and an ``out_root`` that overlaps the input.

    Raises:
        ToolError: naming the option or folder and what to do instead.
    """
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ToolError(f'the scale must be an integer >= 1, got {scale!r}', '--scale')
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        # the same rule as cascade_eval: its LR images must be the ones made here
        raise ToolError(f'degradation_seed must be an integer >= 0, got {seed!r}',
                        '--degradation-seed', 'use the seed cascade_eval is given (default 0)')
    if overlaps(out_root, img_dir) or is_within(ann_file, out_root):
        raise ToolError(
            'the output overlaps the input: it would overwrite or mix with the HR images or '
            f'annotations (HR images {img_dir}, HR json {ann_file})', f'OUT_ROOT {out_root}',
            'choose an output folder outside the HR image folder that does not hold the HR json')


def _read_coco_json(ann_file: str) -> dict:
    """The HR COCO json, or a ToolError naming it (missing, not json, no ``images`` list)."""
    if not osp.isfile(ann_file):
        raise ToolError('the annotation file does not exist', ann_file,
                        'pass the HR COCO json (e.g. annotations/instances_val2017.json)')
    with open(ann_file, encoding='utf-8') as f:
        try:
            coco = json.load(f)
        except json.JSONDecodeError as e:
            raise ToolError(f'not a json file: {e}', ann_file) from None
    if not isinstance(coco, dict) or not isinstance(coco.get('images'), list):
        raise ToolError('not a COCO detection json (no "images" list)', ann_file)
    return coco


def _write_lr_image(path: str, im: dict, stem: str, out_root: str, scale: int,
                    degradation: str, seed: int):
    """Degrade one HR image (mod-cropped) and write ``images/<stem>.png`` (RGB, lossless).

    Returns:
        The LR image entry (``im`` with the LR name and size, ``hr_file_name``), or why the
        image was skipped (str).
    """
    img, _, why = read_hr(path)
    if img is None:
        return why
    h, w = (img.shape[0] // scale) * scale, (img.shape[1] // scale) * scale
    if h == 0 or w == 0:
        return f'smaller than the scale {scale}'
    lr = degrade(np.ascontiguousarray(img[:h, :w]), scale, degradation, seed,
                 degradation_key(path), channel_order='rgb')
    name = stem + '.png'
    write_png(osp.join(out_root, 'images', name), lr)  # lossless, atomic
    return dict(im, file_name=name, hr_file_name=im['file_name'], width=w // scale,
                height=h // scale)


def write_lr_coco(ann_file: str, img_dir: str, out_root: str, scale: int = 4,
                  degradation: str = 'bicubic', seed: int = 0) -> Tuple[str, Dict]:
    """Write ``out_root/images/<name>.png`` and ``out_root/annotations/<ann_file's name>``.

    ``<name>`` is the HR ``file_name`` without its extension, made distinct where two HR files
    share it (``a.png`` + ``a.jpg`` -> ``a_png.png``, ``a_jpg.png``, see
    :func:`fdsr_mm.utils.output_names.unique_stems`); each LR image entry keeps its HR name as
    ``hr_file_name``.

    Args:
        ann_file: The HR COCO json; img_dir: the folder its ``file_name``s are relative to.
        scale: Downsampling factor; degradation, seed: see
            :func:`fdsr_mm.datasets.transforms.degradations.degrade`.

    Returns:
        (path of the LR json, summary: ``images``, ``annotations``, ``rle_masks`` (RLE masks
        downscaled), ``skipped`` [(file, why)]).

    Raises:
        ToolError: a bad scale or seed, an output overlapping the input, a json that is not a
            COCO detection json.
    """
    check_lr_coco_args(ann_file, img_dir, out_root, scale, seed)
    coco = _read_coco_json(ann_file)
    by_image: Dict[int, List[dict]] = {}
    for ann in coco.get('annotations', []):
        by_image.setdefault(ann['image_id'], []).append(ann)
    os.makedirs(osp.join(out_root, 'images'), exist_ok=True)
    names = unique_stems([im['file_name'] for im in coco['images']])
    images, annotations, skipped, rle_masks = [], [], [], 0
    for im, stem in zip(coco['images'], names):
        path = osp.join(img_dir, im['file_name'])
        entry = _write_lr_image(path, im, stem, out_root, scale, degradation, seed)
        if isinstance(entry, str):
            skipped.append((path, entry))
            continue
        images.append(entry)
        w, h = entry['width'] * scale, entry['height'] * scale
        for ann in by_image.get(im['id'], []):
            scaled = _scaled_annotation(ann, scale, w, h)
            if scaled is not None:
                annotations.append(scaled)
                rle_masks += isinstance(scaled['segmentation'], dict)
    lr_coco = dict(coco, images=images, annotations=annotations)
    lr_coco['info'] = dict(coco.get('info') or {}, fdsr_mm_lr=dict(
        source=ann_file, scale=scale, degradation=degradation, seed=seed, area=AREA_NOTE))
    out_json = osp.join(out_root, 'annotations', osp.basename(ann_file))
    atomic_write_text(out_json, json.dumps(lr_coco))
    return out_json, dict(images=len(images), annotations=len(annotations),
                          rle_masks=rle_masks, skipped=skipped)
