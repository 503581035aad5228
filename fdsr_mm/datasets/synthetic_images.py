"""Deterministic synthetic RGB images with fine detail, for SR training and tests.

The images mix smooth gradients, sharp-edged solid shapes and the kind of content x4 bicubic
downsampling blurs or destroys (strokes, stripes, checker textures, text), so an SR network has
something to learn. They
stand in for real photographs (COCO, DIV2K), which cannot be downloaded on these machines.
"""
import os
import os.path as osp
from typing import List, Tuple

import cv2
import numpy as np

from fdsr_mm.utils.io import write_png


def synthetic_image(rng: np.random.Generator, size: Tuple[int, int]) -> np.ndarray:
    """Draw one image.

    Args:
        rng: Random generator; the image is a pure function of its state.
        size: (height, width) in pixels.

    Returns:
        np.ndarray: (H, W, 3) uint8, RGB.
    """
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    t = (xx / max(w - 1, 1) * rng.uniform(0, 1) + yy / max(h - 1, 1) * rng.uniform(0, 1)) / 2
    img = (c0 * (1 - t[..., None]) + c1 * t[..., None]).astype(np.float32)
    for _ in range(int(rng.integers(4, 9))):
        kind = rng.integers(0, 5)
        color = rng.uniform(0, 255, 3).tolist()
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        bw, bh = int(rng.integers(w // 8, w // 2 + 1)), int(rng.integers(h // 8, h // 2 + 1))
        mask = np.zeros((h, w), np.uint8)
        if kind == 0:  # stripes inside a rectangle
            cv2.rectangle(mask, (x0, y0), (x0 + bw, y0 + bh), 1, -1)
            period = int(rng.integers(2, 9))
            stripes = ((xx + yy * rng.integers(0, 2)) // period % 2).astype(bool)
            img[(mask > 0) & stripes] = color
        elif kind == 1:  # checker texture inside an ellipse
            cv2.ellipse(mask, (x0, y0), (bw // 2, bh // 2), float(rng.uniform(0, 180)), 0, 360,
                        1, -1)
            cell = int(rng.integers(2, 9))
            checker = ((xx // cell + yy // cell) % 2).astype(bool)
            img[(mask > 0) & checker] = color
        elif kind == 2:  # thin strokes
            for _ in range(int(rng.integers(3, 8))):
                p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
                p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
                cv2.line(img, p1, p2, color, int(rng.integers(1, 4)), cv2.LINE_AA)
        elif kind == 3:  # text
            text = ''.join(chr(int(c)) for c in rng.integers(65, 91, int(rng.integers(2, 6))))
            cv2.putText(img, text, (x0, y0), cv2.FONT_HERSHEY_SIMPLEX,
                        float(rng.uniform(0.3, 1.2)), color, int(rng.integers(1, 3)), cv2.LINE_AA)
        else:  # solid polygon with sharp edges
            pts = np.stack([rng.integers(x0 - bw // 2, x0 + bw // 2 + 1, 5),
                            rng.integers(y0 - bh // 2, y0 + bh // 2 + 1, 5)], 1)
            cv2.fillPoly(img, [cv2.convexHull(pts.astype(np.int32))], color)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_synthetic_images(out_dir: str, num_images: int, size: Tuple[int, int] = (128, 128),
                           seed: int = 0) -> List[str]:
    """Write ``num_images`` PNG images ``{index:05d}.png`` (RGB content) to ``out_dir``.

    Deterministic: the same (num_images, size, seed) give byte-identical files. Existing files of
    the same name are replaced atomically (write to a temporary name, then rename).

    Returns:
        list[str]: Paths of the written images, in index order.
    """
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for index in range(num_images):
        rng = np.random.default_rng([seed, index])
        img = synthetic_image(rng, size)
        path = osp.join(out_dir, f'{index:05d}.png')
        write_png(path, img, compression=None)  # cv2's defaults: the files of earlier versions
        paths.append(path)
    return paths
