"""SR pass, part 0: read, check, resize and mod-crop the HR images; cache them as PNG.

Every image of the detector's test dataset is decoded as mmdet's loader does (cv2 'color', EXIF
applied) to RGB uint8; corrupt or too-small files are recorded with a reason and excluded for
every method. The usable image is optionally resized to a fixed HR size (the paper's 300x300 VOC
setting), mod-cropped to a multiple of ``scale`` and cached under ``<prep_dir>/hr/``. Records
go to ``<prep_dir>/prepare.rank<r>.jsonl``.
"""
import io
import os
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Optional, Tuple

import cv2
import numpy as np
from mmengine.dist import barrier, get_dist_info

from .cache_io import (append_jsonl, io_threads, ordered_map, progress_bar, read_jsonl, rel_png,
                       shard, write_png)


def read_hr(path: str) -> Tuple[Optional[np.ndarray], bool, Optional[str]]:
    """Decode an HR file as mmdet's loader does (cv2 'color', EXIF applied) -> RGB uint8.

    Returns:
        (img or None, is_grayscale, failure reason or None)
    """
    from PIL import Image
    import mmcv
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        return None, False, f'unreadable: {e}'
    try:
        pil = Image.open(io.BytesIO(data))
        gray = pil.mode in ('1', 'L', 'LA', 'I', 'I;16', 'F')
        pil.load()  # raises on truncated / corrupt data that cv2 may half-decode silently
    except Exception as e:  # noqa: BLE001 (any decoder error means a corrupt file)
        return None, False, f'corrupt: {type(e).__name__}: {e}'
    img = mmcv.imfrombytes(data, flag='color', channel_order='rgb', backend='cv2')
    if img is None:
        return None, gray, 'corrupt: cv2 could not decode it'
    return img, gray, None


def prepare_todo(data_list: List[dict], prep_dir: str) -> List[dict]:
    """This rank's images without a prepared HR image (or a failure record) in ``prep_dir``."""
    rank, world = get_dist_info()
    done = read_jsonl(osp.join(prep_dir, 'prepare.rank*.jsonl'))

    def prepared(d):
        rec = done.get(d['img_path'])
        return rec is not None and (rec.get('reason') is not None or osp.isfile(
            osp.join(prep_dir, 'hr', rec['cached'])))

    return [d for d in shard(data_list, rank, world) if not prepared(d)]


def prepare_one(d: dict, prep_dir: str, scale: int, hr_size: Optional[Tuple[int, int]],
                img_root: str) -> Tuple[dict, Optional[np.ndarray]]:
    """Read, check, resize (``hr_size``) and mod-crop one HR image; cache it as PNG.

    Returns:
        (record, image): the ``prepare.rank*.jsonl`` record (``reason`` is None when usable) and
        the mod-cropped (H, W, 3) uint8 RGB image (None when not usable).
    """
    path = d['img_path']
    rec = dict(file=path, cached=rel_png(path, img_root), reason=None, gray=False,
               modcropped=False)
    img, rec['gray'], rec['reason'] = read_hr(path)
    if img is None:
        return rec, None
    h0, w0 = img.shape[:2]
    if hr_size is not None:
        img = cv2.resize(img, tuple(hr_size), interpolation=cv2.INTER_CUBIC)
    h1, w1 = img.shape[:2]
    min_side = 8 * scale
    if min(h1, w1) < min_side:
        rec['reason'] = (f'too small: {h1}x{w1} < {min_side} px (8 x scale) on a side, its '
                         f'x{scale} LR image would be under 8 px')
        return rec, None
    hc, wc = h1 - h1 % scale, w1 - w1 % scale
    rec['modcropped'] = (hc, wc) != (h1, w1)
    img = np.ascontiguousarray(img[:hc, :wc])
    write_png(osp.join(prep_dir, 'hr', rec['cached']), img)
    rec.update(fx=w1 / w0, fy=h1 / h0, hw=[hc, wc])
    return rec, img


def prepared_stream(todo: List[dict], prep_dir: str, scale: int,
                    hr_size: Optional[Tuple[int, int]], img_root: str,
                    make_lr: Optional[Callable[[np.ndarray, str], np.ndarray]] = None):
    """Prepare ``todo`` in background threads; yield ``(record, hr, lr)`` in order, logged.

    Decoding and PNG encoding release the GIL, so the threads keep the other cores busy while
    the consumer (the SR model, or nothing) works. ``lr`` is ``make_lr(hr, HR file path)`` (the
    run's degradation, :func:`~.sr_pass.make_lr`) when ``make_lr`` is given (the consumer is a
    model: fewer threads, see :func:`io_threads`) and the image is usable, else None.
    """
    rank, _ = get_dist_info()
    log = osp.join(prep_dir, f'prepare.rank{rank}.jsonl')

    def work(d):
        rec, hr = prepare_one(d, prep_dir, scale, hr_size, img_root)
        lr = make_lr(hr, d['img_path']) if make_lr is not None and hr is not None else None
        return rec, hr, lr

    os.makedirs(osp.join(prep_dir, 'hr'), exist_ok=True)
    threads = io_threads(beside_model=make_lr is not None)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for rec, hr, lr in ordered_map(pool, work, todo, 2 * threads):
            append_jsonl(log, rec)
            yield rec, hr, lr


def prepare_hr(data_list: List[dict], prep_dir: str, scale: int,
               hr_size: Optional[Tuple[int, int]], img_root: str, progress: bool = True) -> dict:
    """The mod-cropped HR images (the ``hr`` method) and the run's index.

    Every rank prepares its slice (what :func:`~.sr_pass.prepare_and_super_resolve` left, if it
    ran); afterwards all ranks read the merged records.

    Returns:
        dict: ``index`` ({HR path: dict(file, fx, fy, hw)}), ``failed`` ([dict(file, reason)]),
        ``grayscale`` and ``modcropped`` counts.
    """
    rank, _ = get_dist_info()
    todo = prepare_todo(data_list, prep_dir)
    bar = progress_bar(len(todo), f'Preparing x{scale} HR images', progress and rank == 0)
    for _ in prepared_stream(todo, prep_dir, scale, hr_size, img_root):
        if bar:
            bar.update()
    if bar:
        print(flush=True)
    barrier()
    done = read_jsonl(osp.join(prep_dir, 'prepare.rank*.jsonl'))
    index, failed = {}, []
    for d in data_list:
        rec = done[d['img_path']]
        if rec['reason'] is None:
            index[d['img_path']] = dict(file=rec['cached'], fx=rec['fx'], fy=rec['fy'],
                                        hw=rec['hw'])
        else:
            failed.append(dict(file=d['img_path'], reason=rec['reason']))
    recs = [done[d['img_path']] for d in data_list]
    return dict(index=index, failed=failed, grayscale=sum(r['gray'] for r in recs),
                modcropped=sum(r['modcropped'] for r in recs))
