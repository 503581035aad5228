"""Files of the SR image cache: lossless PNGs and append-only JSON-lines logs.

The cache is safe for concurrent runs (several detectors, or runs over different image sets,
sharing one ``cache_dir``): images are written to a temporary file and renamed; log records are
single ``write`` calls in append mode (atomic against other appenders on a local file system);
records of one file are merged on reading, and torn lines (a killed process) are skipped. Nothing
in the cache is ever rewritten in place; what one run evaluates (its index, its derived
annotations) lives in its own results folder.
"""
import glob
import hashlib
import json
import os
import os.path as osp
import tempfile
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, Hashable, Optional, Sequence

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


def read_jsonl(pattern: str, key: Optional[Callable[[dict], Hashable]] = None) -> Dict:
    """Records of every ``*.jsonl`` matching ``pattern``, merged per ``key(record)``.

    ``key`` defaults to the record's ``file``. Bad lines are skipped (a killed run may leave a
    torn last line); later records of a key add to earlier ones (a rerun with more image-quality
    metrics appends only the new ones).
    """
    out = {}
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding='utf-8') as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(rec, dict) and 'file' in rec:
                    out.setdefault(rec['file'] if key is None else key(rec), {}).update(rec)
    return out


def append_jsonl(path: str, rec: dict) -> None:
    """Append one record line, first ending a torn last line a killed run may have left.

    Not fsync'ed (~1 ms per image): what a killed process wrote is in the OS already; a machine
    crash can lose the last lines, whose images are then simply super-resolved again.
    """
    torn = False
    if osp.isfile(path) and os.path.getsize(path):
        with open(path, 'rb') as f:
            f.seek(-1, os.SEEK_END)
            torn = f.read(1) != b'\n'
    with open(path, 'a', encoding='utf-8') as f:
        f.write(('\n' if torn else '') + json.dumps(rec) + '\n')


def write_png(path: str, img_rgb: np.ndarray) -> None:
    """Write (H, W, 3) uint8 RGB losslessly, atomically (temporary file + rename)."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(path), suffix='.png')
    os.close(fd)
    try:
        if not cv2.imwrite(tmp, cv2.cvtColor(img_rgb, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_PNG_COMPRESSION, 1]):
            raise OSError(f'cv2 could not write {tmp}')
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


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


def file_sha256(path: str) -> Optional[str]:
    """SHA-256 (hex) of a file's bytes, or None when it cannot be read.

    Memoised within the process per (path, inode, size, mtime_ns, ctime_ns): any write or
    replacement of the file changes one of them (ctime cannot be set back by copy tools).
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    memo_key = (osp.abspath(path), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if memo_key not in _SHA_MEMO:
        h = hashlib.sha256()
        try:
            with open(path, 'rb') as f:
                for chunk in iter(lambda: f.read(1 << 20), b''):
                    h.update(chunk)
        except OSError:
            return None
        _SHA_MEMO[memo_key] = h.hexdigest()
    return _SHA_MEMO[memo_key]


_SHA_MEMO: Dict[tuple, str] = {}


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
