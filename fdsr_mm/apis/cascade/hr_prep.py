"""SR pass, part 0: read, check, resize and mod-crop the HR images; cache them as PNG.

Every image of the detector's test dataset is decoded as mmdet's loader does (cv2 'color', EXIF
applied) to RGB uint8; corrupt or too-small files are recorded with a reason and excluded for
every method. The usable image is optionally resized to a fixed HR size (the paper's 300x300 VOC
setting), mod-cropped to a multiple of ``scale`` and cached under ``<prep_dir>/hr/``. Records
go to ``<prep_dir>/prepare.rank<r>.jsonl``.

Cache entries are keyed by the source file's content: a record holds the file's SHA-256 and the
cached name carries it (:func:`~.cache_io.content_png`), so the SR images and image-quality
records of every method (named like the HR image) follow the content too. Data regenerated at
the same paths (another seed, a re-exported dataset) is therefore prepared, super-resolved and
scored anew, never from the old images. Failure records are never final: a failed image is
retried on every run (a fixed file is then used). Each file is hashed once per run to find
what is done (SHA-256, ~1 GB/s, memoised per file version), and an image being prepared once
more from the very bytes it is decoded from (so its record names the content it holds).

An image whose decoded size disagrees with its annotation's ``height``/``width`` beyond the
mod-crop (the LR copies of an HR-annotated set, say) makes :func:`prepare_hr` report it in
``size_mismatch``; the run refuses such a set, naming the images.
"""
import os
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np
from mmengine.dist import barrier, get_dist_info

from fdsr_mm.apis.cascade.cache_io import content_png, io_threads, ordered_map, progress_bar, shard
from fdsr_mm.datasets.image_io import read_hr_with_digest
from fdsr_mm.utils.io import append_jsonl, file_sha256, read_jsonl, write_png


def _record_key(rec: dict) -> Tuple[str, Optional[str]]:
    """Records are keyed by (HR path, SHA-256 of its content); older records lack the hash."""
    return rec['file'], rec.get('sha256')


def read_records(prep_dir: str) -> Dict[Tuple[str, Optional[str]], dict]:
    """Every rank's preparation records, ``{(HR path, sha256): record}``."""
    return read_jsonl(osp.join(prep_dir, 'prepare.rank*.jsonl'), key=_record_key)


def source_digests(paths: List[str]) -> Dict[str, Optional[str]]:
    """SHA-256 of each file's current content (None: unreadable), hashed in threads."""
    with ThreadPoolExecutor(max_workers=io_threads(beside_model=False)) as pool:
        return dict(zip(paths, pool.map(file_sha256, paths)))


def prepare_todo(data_list: List[dict], prep_dir: str) -> List[dict]:
    """This rank's images without a prepared HR image of their current content in ``prep_dir``.

    Done means: a success record for (path, SHA-256 of the file now) and its cached PNG. Failed
    images (and images whose content changed) are always to do.
    """
    rank, world = get_dist_info()
    mine = shard(data_list, rank, world)
    records = read_records(prep_dir)
    digests = source_digests([d['img_path'] for d in mine])

    def prepared(d):
        sha = digests[d['img_path']]
        rec = records.get((d['img_path'], sha)) if sha else None
        return (rec is not None and rec.get('reason') is None
                and osp.isfile(osp.join(prep_dir, 'hr', rec['cached'])))

    return [d for d in mine if not prepared(d)]


def size_disagreement(d: dict, src_hw, scale: int) -> Optional[str]:
    """Why an image's decoded (H, W) ``src_hw`` disagrees with its annotation, or None.

    They agree when both mod-crop to the same size (the annotation of an image or of its
    mod-cropped copy); an annotation without ``height``/``width`` is not checked.
    """
    ann_h, ann_w = d.get('height'), d.get('width')
    if not ann_h or not ann_w or src_hw is None:
        return None
    h, w = src_hw

    def crop(v):
        return int(v) - int(v) % scale

    if (crop(ann_h), crop(ann_w)) == (crop(h), crop(w)):
        return None
    turned = (crop(ann_h), crop(ann_w)) == (crop(w), crop(h))
    return (f'size mismatch: the file is {w}x{h} (WxH), its annotation says '
            f'{int(ann_w)}x{int(ann_h)}' + (
                ' (turned: the file is decoded with its EXIF orientation applied, as mmdet '
                'loads it, and the annotation describes the stored pixels)' if turned else ''))


def prepare_one(d: dict, prep_dir: str, scale: int, hr_size: Optional[Tuple[int, int]],
                img_root: str) -> Tuple[dict, Optional[np.ndarray]]:
    """Read, check, resize (``hr_size``) and mod-crop one HR image; cache it as PNG.

    Returns:
        (record, image): the ``prepare.rank*.jsonl`` record (``reason`` is None when usable;
        ``sha256`` of the bytes decoded; ``src_hw`` the decoded (H, W); ``cached`` the
        content-keyed PNG name) and the mod-cropped (H, W, 3) uint8 RGB image (None when not
        usable).
    """
    path = d['img_path']
    img, gray, reason, sha = read_hr_with_digest(path)
    rec = dict(file=path, sha256=sha, cached=None, reason=reason, gray=gray, modcropped=False)
    if img is None:
        return rec, None
    h0, w0 = img.shape[:2]
    rec.update(src_hw=[h0, w0], cached=content_png(path, img_root, sha))
    rec['reason'] = size_disagreement(d, (h0, w0), scale)
    if rec['reason']:  # the run is refused (prepare_hr reports it): no HR, no SR for it
        return rec, None
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
        ``size_mismatch`` ([dict(file, reason)]: images whose size disagrees with their
        annotation, see :func:`size_disagreement`), ``grayscale`` and ``modcropped`` counts.
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
    done = read_records(prep_dir)
    digests = source_digests([d['img_path'] for d in data_list])
    index, failed, mismatch, recs = {}, [], [], []
    for d in data_list:
        path = d['img_path']
        rec = done.get((path, digests[path]))
        if digests[path] is None:  # unreadable now: never an (older) success record
            rec = dict(file=path, reason=(rec or {}).get('reason') or 'unreadable',
                       gray=False, modcropped=False)
        elif rec is None:  # replaced after this run prepared it (or a rank lost its records)
            rec = dict(file=path, reason='changed while this run prepared it: rerun',
                       gray=False, modcropped=False)
        recs.append(rec)
        why = size_disagreement(d, rec.get('src_hw'), scale)
        if why:
            mismatch.append(dict(file=path, reason=why))
        elif rec['reason'] is None:
            index[path] = dict(file=rec['cached'], fx=rec['fx'], fy=rec['fy'], hw=rec['hw'])
        else:
            failed.append(dict(file=path, reason=rec['reason']))
    return dict(index=index, failed=failed, size_mismatch=mismatch,
                grayscale=sum(bool(r.get('gray')) for r in recs),
                modcropped=sum(bool(r.get('modcropped')) for r in recs))
