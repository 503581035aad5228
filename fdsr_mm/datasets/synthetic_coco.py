"""Deterministic synthetic COCO-format detection benchmark where x4 bicubic downsampling hurts.

The paper's problem in miniature: object categories that share shape, size and colour statistics
and differ only by fine interior detail (2-4 px textures, 1 px strokes, small marks). At the HR
resolution the categories are easy to tell apart; after x4 bicubic downsampling the detail is
averaged away and every category looks like a flat blob of its mean colour, so a detector trained
on HR images loses accuracy on bicubic-upsampled LR images unless super-resolution restores the
detail.

Each image has a smooth gradient background with low-contrast noise, textured clutter (thin random
lines and unannotated distractor blobs with coarse stripes, which x4 downsampling keeps) and 3-8
annotated objects whose square-root area is log-uniform over 16-160 px at ``image_size=256``
(scaled with the image size), so COCO small (< 32^2), medium and large (> 96^2) objects all occur.
Objects are drawn in sequence, later ones over earlier ones (occlusion); a placement is rejected
when it would leave less than 45% of an earlier object visible.

Annotations are amodal: ``segmentation`` is the full object polygon (one list of floats ``[x1, y1,
x2, y2, ...]`` in pixel coordinates), ``area`` the number of pixels of that polygon's
rasterization (> 0), ``bbox`` ``[x, y, w, h]`` its pixel extent, always inside the image.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from fdsr_mm.utils.io import atomic_write_text, write_png

#: Category names, in the order of the json ``categories`` (ids 1..K).
SYNTHETIC_COCO_CLASSES = ('striped', 'checkered', 'dotted', 'scribbled', 'ringed')

_MIN_VISIBLE = 0.45  # an earlier object must keep this fraction of its pixels visible
_MIN_CONTRAST = 90.0  # min. luminance difference between an object's body and detail colours


def _luma(color: np.ndarray) -> float:
    return float(0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2])


def _two_colors(rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Body and detail colours (RGB float) with at least ``_MIN_CONTRAST`` luminance apart."""
    while True:
        body, detail = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        if abs(_luma(body) - _luma(detail)) >= _MIN_CONTRAST:
            return body, detail


def _background(rng: np.random.Generator, h: int, w: int, yy: np.ndarray,
                xx: np.ndarray) -> np.ndarray:
    """Smooth gradient + coarse low-contrast noise, (H, W, 3) float32 RGB in [0, 255]."""
    c0, c1 = rng.uniform(30, 225, 3), rng.uniform(30, 225, 3)
    t = (xx / max(w - 1, 1) * rng.uniform(0, 1) + yy / max(h - 1, 1) * rng.uniform(0, 1)) / 2
    img = c0 * (1 - t[..., None]) + c1 * t[..., None]
    coarse = rng.normal(0, 12, (max(h // 16, 2), max(w // 16, 2), 3)).astype(np.float32)
    img += cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return img.astype(np.float32)


def _shape_polygon(rng: np.random.Generator, cx: float, cy: float, side: float) -> np.ndarray:
    """A blob outline (ellipse, rotated rectangle or convex polygon) of about ``side**2`` area.

    Returns:
        np.ndarray: (N, 2) int32 vertices (x, y).
    """
    aspect = float(np.exp(rng.uniform(np.log(0.6), np.log(1.6))))
    bw, bh = side * np.sqrt(aspect), side / np.sqrt(aspect)
    angle = float(rng.uniform(0, 180))
    kind = int(rng.integers(0, 3))
    if kind == 0:  # ellipse with the same area as the bw x bh rectangle
        axes = (max(int(round(bw / np.sqrt(np.pi))), 2), max(int(round(bh / np.sqrt(np.pi))), 2))
        pts = cv2.ellipse2Poly((int(round(cx)), int(round(cy))), axes, int(angle), 0, 360, 10)
    elif kind == 1:  # rotated rectangle
        pts = cv2.boxPoints(((cx, cy), (bw, bh), angle))
    else:  # convex polygon from points on a jittered ellipse
        n = int(rng.integers(5, 9))
        theta = np.sort(rng.uniform(0, 2 * np.pi, n))
        r = rng.uniform(0.75, 1.0, n) * 0.62
        pts = np.stack([cx + r * bw * np.cos(theta), cy + r * bh * np.sin(theta)], 1)
        pts = cv2.convexHull(pts.astype(np.float32))[:, 0]
    return np.round(pts).astype(np.int32).reshape(-1, 2)


def _detail_mask(rng: np.random.Generator, label: int, h: int, w: int, yy: np.ndarray,
                 xx: np.ndarray, box: Tuple[int, int, int, int]) -> np.ndarray:
    """Where the category's fine detail is painted, (H, W) bool (only ``box`` is filled).

    'checkered' (2 px cells), 'scribbled' (1 px strokes) and 'ringed' (5-7 px rings of a 1 px
    line) are made of detail finer than the LR pixel, which x4 bicubic downsampling averages away;
    'striped' and 'dotted' repeat every 8 px, the Nyquist period of the LR image, so they survive
    downsampling only as a faint blur that bicubic upsampling cannot sharpen (an SR model can).
    """
    x0, y0, x1, y1 = box
    sy, sx = slice(y0, y1), slice(x0, x1)
    out = np.zeros((h, w), bool)
    Y, X = yy[sy, sx], xx[sy, sx]
    name = SYNTHETIC_COCO_CLASSES[label]
    if name == 'striped':  # 4 px on / 4 px off (the LR Nyquist period), 4 orientations
        direction = int(rng.integers(0, 4))
        coord = (X, Y, X + Y, X - Y + 4096)[direction]
        period = 8 if direction < 2 else 11
        out[sy, sx] = (coord // (period / 2)) % 2 == 1
    elif name == 'checkered':  # 2 px cells
        out[sy, sx] = ((X // 2 + Y // 2) % 2) == 1
    elif name == 'dotted':  # 3x3 px dots on an 8 px grid (the LR Nyquist period)
        ox, oy = int(rng.integers(0, 8)), int(rng.integers(0, 8))
        out[sy, sx] = (((X + ox) % 8) < 3) & (((Y + oy) % 8) < 3)
    elif name == 'scribbled':  # short 1 px strokes (3-7 px long) in random directions
        canvas = np.zeros((y1 - y0, x1 - x0), np.uint8)
        bw, bh = x1 - x0, y1 - y0
        for _ in range(3 + (bw * bh) // 30):
            p1 = np.array([rng.integers(0, bw), rng.integers(0, bh)])
            theta, length = rng.uniform(0, np.pi), rng.uniform(3, 7)
            p2 = np.round(p1 + length * np.array([np.cos(theta), np.sin(theta)])).astype(int)
            cv2.line(canvas, (int(p1[0]), int(p1[1])), (int(p2[0]), int(p2[1])), 1, 1,
                     cv2.LINE_8)
        out[sy, sx] = canvas > 0
    else:  # 'ringed': small hollow rings (radius 2-3 px, 1 px line) scattered over the body
        canvas = np.zeros((y1 - y0, x1 - x0), np.uint8)
        bw, bh = x1 - x0, y1 - y0
        for _ in range(2 + (bw * bh) // 50):
            c = (int(rng.integers(0, bw)), int(rng.integers(0, bh)))
            cv2.circle(canvas, c, int(rng.integers(2, 4)), 1, 1, cv2.LINE_8)
        out[sy, sx] = canvas > 0
    return out


def _draw_clutter(rng: np.random.Generator, img: np.ndarray, yy: np.ndarray, xx: np.ndarray,
                  scale: float) -> None:
    """Draw the unannotated clutter into ``img`` (H, W, 3) float32, in place."""
    h, w = img.shape[:2]
    # Clutter (not annotated): distractor blobs with coarse stripes (a 10-20 px period, which
    # survives x4 downsampling, unlike the categories' detail) and thin lines.
    for _ in range(int(rng.integers(1, 4))):
        side = float(np.exp(rng.uniform(np.log(16), np.log(90)))) * scale
        pts = _shape_polygon(rng, rng.uniform(0, w), rng.uniform(0, h), side)
        blob = np.zeros((h, w), np.uint8)
        cv2.fillPoly(blob, [pts], 1)
        body, detail = _two_colors(rng)
        theta, period = rng.uniform(0, np.pi), rng.uniform(10, 20)
        coarse_stripes = ((xx * np.cos(theta) + yy * np.sin(theta)) // (period / 2)) % 2 == 1
        img[blob > 0] = body
        img[(blob > 0) & coarse_stripes] = detail
    for _ in range(int(rng.integers(2, 7))):
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.line(img, p1, p2, rng.uniform(0, 255, 3).tolist(), int(rng.integers(1, 3)),
                 cv2.LINE_AA)


def _place_object(rng: np.random.Generator, objects: List[Dict], side: float, h: int, w: int,
                  max_tries: int) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """A polygon of about ``side`` px that leaves every earlier object visible enough:
    ``(polygon (N, 2) int32 x, y; its (h, w) bool mask)``, or None after ``max_tries``."""
    for _try in range(max_tries):
        half = side * 0.75
        if 2 * half >= min(h, w) - 2:
            side *= 0.8
            continue
        cx, cy = rng.uniform(half, w - half), rng.uniform(half, h - half)
        pts = _shape_polygon(rng, cx, cy, side)
        pts[:, 0] = np.clip(pts[:, 0], 0, w - 1)
        pts[:, 1] = np.clip(pts[:, 1], 0, h - 1)
        mask8 = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask8, [pts], 1)
        mask = mask8 > 0
        if mask.sum() < 16:
            continue
        if all((o['visible'] & ~mask).sum() >= _MIN_VISIBLE * o['area'] for o in objects):
            return pts, mask
    return None


def _paint_object(rng: np.random.Generator, img: np.ndarray, label: int, pts: np.ndarray,
                  mask: np.ndarray, yy: np.ndarray, xx: np.ndarray) -> None:
    """Paint an object of class ``label`` into ``img`` ((H, W, 3) float RGB, [0, 255])."""
    h, w = mask.shape
    x0, y0 = int(pts[:, 0].min()), int(pts[:, 1].min())
    x1, y1 = int(pts[:, 0].max()) + 1, int(pts[:, 1].max()) + 1
    body, detail = _two_colors(rng)
    img[mask] = body
    img[mask & _detail_mask(rng, label, h, w, yy, xx, (x0, y0, x1, y1))] = detail
    # A 3 px outline in the detail colour: a coarse 'this is an object' cue that survives x4
    # downsampling (distractors have none), so LR objects can still be found but lose the
    # detail that tells their category.
    outline = np.zeros((h, w), np.uint8)
    cv2.polylines(outline, [pts], True, 1, 3)
    img[(outline > 0) & mask] = detail


def synthetic_detection_image(rng: np.random.Generator, size: Tuple[int, int],
                              max_tries: int = 20, num_objects: Tuple[int, int] = (3, 8),
                              object_side: Tuple[float, float] = (16.0, 160.0)
                              ) -> Tuple[np.ndarray, List[Dict]]:
    """Draw one image and its objects.

    Args:
        rng: Random generator; the result is a pure function of its state.
        size: (height, width) in pixels.
        max_tries: Placement attempts per object before it is dropped.
        num_objects: Inclusive (min, max) number of annotated objects to place.
        object_side: (min, max) square-root area of an object in pixels at 256 px (scaled with
            ``min(size) / 256``), drawn log-uniform. The defaults are the synthetic COCO set's.

    Returns:
        tuple: ``img`` (H, W, 3) uint8 RGB and a list of objects, each a dict with ``label``
        (0-based index into ``SYNTHETIC_COCO_CLASSES``), ``polygon`` ((N, 2) int32 x, y) and
        ``mask`` ((H, W) bool, the polygon's rasterization).
    """
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = _background(rng, h, w, yy, xx)
    scale = min(h, w) / 256.0

    _draw_clutter(rng, img, yy, xx, scale)

    objects: List[Dict] = []
    for _ in range(int(rng.integers(num_objects[0], num_objects[1] + 1))):
        label = int(rng.integers(0, len(SYNTHETIC_COCO_CLASSES)))
        side = float(np.exp(rng.uniform(np.log(object_side[0]), np.log(object_side[1])))) * scale
        placed = _place_object(rng, objects, side, h, w, max_tries)
        if placed is None:
            continue
        pts, mask = placed
        _paint_object(rng, img, label, pts, mask, yy, xx)
        for o in objects:
            o['visible'] &= ~mask
        objects.append(dict(label=label, polygon=pts, mask=mask, visible=mask.copy(),
                            area=int(mask.sum())))

    img += rng.normal(0, 2.0, img.shape).astype(np.float32)
    for o in objects:
        o.pop('visible')
        o.pop('area')
    return np.clip(np.round(img), 0, 255).astype(np.uint8), objects


def _write_split(root: str, split: str, num_images: int, size: Tuple[int, int],
                 seed: int) -> Tuple[str, int]:
    img_dir = osp.join(root, split)
    os.makedirs(img_dir, exist_ok=True)
    split_id = {'train': 0, 'val': 1}[split]
    images, annotations = [], []
    for index in range(num_images):
        rng = np.random.default_rng([seed, split_id, index])
        img, objects = synthetic_detection_image(rng, size)
        file_name = f'{index:06d}.png'
        write_png(osp.join(img_dir, file_name), img, compression=None)  # cv2 defaults
        image_id = index + 1
        images.append(dict(id=image_id, file_name=file_name, height=size[0], width=size[1]))
        for o in objects:
            ys, xs = np.nonzero(o['mask'])
            x0, y0 = int(xs.min()), int(ys.min())
            annotations.append(dict(
                id=len(annotations) + 1, image_id=image_id, category_id=o['label'] + 1,
                bbox=[float(x0), float(y0), float(xs.max() + 1 - x0), float(ys.max() + 1 - y0)],
                area=float(len(xs)),
                segmentation=[[float(v) for v in o['polygon'].reshape(-1)]],
                iscrowd=0))
    ann_file = osp.join(root, 'annotations', f'instances_{split}.json')
    atomic_write_text(ann_file, json.dumps(dict(
        info=dict(description=f'fdsr_mm synthetic COCO ({split}, seed {seed})', version='1.0'),
        licenses=[], images=images, annotations=annotations,
        categories=[dict(id=i + 1, name=name, supercategory='blob')
                    for i, name in enumerate(SYNTHETIC_COCO_CLASSES)])))
    return ann_file, len(annotations)


def write_synthetic_coco(root: str, num_train: int = 1000, num_val: int = 200,
                         image_size: int = 256, seed: int = 0,
                         image_hw: Optional[Tuple[int, int]] = None) -> Dict:
    """Write the synthetic COCO-format detection dataset under ``root``.

    Layout: ``root/annotations/instances_{train,val}.json`` and RGB PNG images
    ``root/{train,val}/{index:06d}.png``. Deterministic: the same arguments give byte-identical
    json and images; train and val use independent random streams. Every file is written
    atomically (temporary name, then rename).

    Args:
        root: Output folder (created if missing).
        num_train: Number of training images.
        num_val: Number of validation images.
        image_size: Side of the square images in pixels; a multiple of 4 so x4 bicubic
            downsampling needs no mod-crop.
        seed: Random seed.
        image_hw: Optional (height, width) overriding ``image_size`` for non-square images.

    Returns:
        dict: ``root``, ``train_ann_file``, ``val_ann_file``, ``train_img_dir``, ``val_img_dir``
        (paths), ``num_train_images``, ``num_val_images``, ``num_train_annotations``,
        ``num_val_annotations`` and ``classes`` (``SYNTHETIC_COCO_CLASSES``).
    """
    size = tuple(image_hw) if image_hw is not None else (image_size, image_size)
    if min(size) < 64:
        raise ValueError(f'image size {size} is too small: use at least 64 px per side.')
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    train_ann, n_train_ann = _write_split(root, 'train', num_train, size, seed)
    val_ann, n_val_ann = _write_split(root, 'val', num_val, size, seed)
    return dict(root=root, train_ann_file=train_ann, val_ann_file=val_ann,
                train_img_dir=osp.join(root, 'train'), val_img_dir=osp.join(root, 'val'),
                num_train_images=num_train, num_val_images=num_val,
                num_train_annotations=n_train_ann, num_val_annotations=n_val_ann,
                classes=SYNTHETIC_COCO_CLASSES)
