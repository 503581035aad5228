"""Names, threads and progress of the SR image cache (lossless PNGs, append-only JSON lines).

The cache is safe for concurrent runs (several detectors, or runs over different image sets,
sharing one ``cache_dir``): images are written atomically and log records appended, both by
:mod:`fdsr_mm.utils.io`; records of one file are merged on reading, and torn lines (a killed
process) are skipped. Nothing
in the cache is ever rewritten in place; what one run evaluates (its index, its derived
annotations) lives in its own results folder.
"""
import hashlib
import os
import os.path as osp
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import cv2
import numpy as np
import torch
from mmengine.utils import ProgressBar


def io_threads(beside_model: bool) -> int:
    """Threads for image decoding / PNG encoding (they release the GIL): up to 4, and beside a
    running model only the cores its torch threads leave free (at least one)."""
    cores = os.cpu_count() or 1
    if beside_model:
        cores -= torch.get_num_threads()
    return max(1, min(4, cores))


def read_png(path: str) -> np.ndarray:
    """Read a cached image as (H, W, 3) uint8 RGB."""
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise OSError(f'Cannot read cached image {path}: delete it and rerun.')
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def rel_png(hr_path: str, img_root: str) -> str:
    """Cache file name of an HR image: its path under the image root, as ``.png``."""
    rel = osp.relpath(hr_path, img_root) if img_root else osp.basename(hr_path)
    if rel.startswith('..'):
        rel = hashlib.sha1(hr_path.encode()).hexdigest()[:16] + '_' + osp.basename(hr_path)
    return osp.splitext(rel)[0] + '.png'


def content_png(hr_path: str, img_root: str, sha256: str) -> str:
    """Cache file name of one content of an HR file: ``<path under the root>.<sha256[:16]>.png``.

    Every cached image (HR, SR of every method) of a source file is named by the file's
    content, so data regenerated at the same paths gets new cache entries instead of the old
    images (the old entries stay, unused).
    """
    return osp.splitext(rel_png(hr_path, img_root))[0] + f'.{sha256[:16]}.png'


def ordered_map(pool: ThreadPoolExecutor, fn, items: Sequence, depth: int):
    """``pool.map(fn, items)`` with at most ``depth`` items in flight (bounded memory)."""
    futures = deque()
    for item in items:
        futures.append(pool.submit(fn, item))
        if len(futures) >= depth:
            yield futures.popleft().result()
    while futures:
        yield futures.popleft().result()


def progress_bar(n: int, title: str, show: bool):
    if show and n:
        print(f'{title} ({n} images)', flush=True)
        return ProgressBar(n)
    return None


def shard(items: Sequence, rank: int, world: int) -> Sequence:
    """This rank's share of ``items``."""
    return items[rank::world]
