"""Paired bootstrap confidence intervals of COCO AP differences between two SR methods.

Two methods of one cascade run are scored on the same test images. To say how sure "FDSR beats
DBPN" is, the images are resampled with replacement (the same resample for both methods), AP is
recomputed for each method on each resample, and the 2.5 / 97.5 percentiles of the differences
give a 95% interval. COCOeval's per-image evaluation (``evaluate()``: matching of each image's
detections to its ground truth) does not depend on the other images, so it runs once per
method; each resample only re-accumulates the per-image records of the drawn images, exactly as
``COCOeval.accumulate`` does for a dataset holding those images (a drawn image twice counts
twice). :func:`accumulate` equals ``COCOeval.accumulate`` + ``summarize`` on the full image set.
"""
import contextlib
import io
import json
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

#: summary name -> (IoU threshold or None for the mean over 0.50:0.95, area range label)
AP_KEYS = dict(AP=(None, 'all'), AP50=(0.5, 'all'), AP75=(0.75, 'all'), APS=(None, 'small'),
               APM=(None, 'medium'), APL=(None, 'large'))


@dataclass
class PerImageEval:
    """COCOeval's per-image records of one method (bbox, maxDets 100).

    Attributes:
        eval_imgs: ``COCOeval.evalImgs`` (category-major, then area range, then image).
        num_images: Number of images (``params.imgIds``), in COCOeval's order.
        num_cats, area_labels: Categories evaluated, area range labels in COCOeval's order.
        iou_thrs, rec_thrs: COCOeval's IoU and recall thresholds.
        img_ids: The image ids, in COCOeval's order (resample indices refer to it).
    """
    eval_imgs: list
    num_images: int
    num_cats: int
    area_labels: List[str]
    iou_thrs: np.ndarray
    rec_thrs: np.ndarray
    img_ids: List[int]


def evaluate_per_image(ann_file: str, det_file: str) -> PerImageEval:
    """Run COCOeval's per-image evaluation (bbox) of one method's detections, once.

    Args:
        ann_file: The COCO json the cascade evaluated (``results['dataset']
            ['evaluated_ann_file']``).
        det_file: The method's ``detections.bbox.json`` (COCO results format).
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(ann_file)
        with open(det_file, encoding='utf-8') as f:
            dets = json.load(f)
        dt = gt.loadRes(dets) if dets else COCO()
        ev = COCOeval(gt, dt, 'bbox')
        ev.evaluate()
    p = ev.params
    return PerImageEval(ev.evalImgs, len(p.imgIds), len(p.catIds), list(p.areaRngLbl),
                        np.asarray(p.iouThrs), np.asarray(p.recThrs), list(p.imgIds))


def _precision(records: list, rec_thrs: np.ndarray, max_det: int) -> Optional[np.ndarray]:
    """(T, R) interpolated precision of one category and area range, or None (no GT)."""
    records = [e for e in records if e is not None]
    if not records:
        return None
    scores = np.concatenate([e['dtScores'][:max_det] for e in records])
    order = np.argsort(-scores, kind='mergesort')
    matched = np.concatenate([e['dtMatches'][:, :max_det] for e in records], axis=1)[:, order]
    ignored = np.concatenate([e['dtIgnore'][:, :max_det] for e in records], axis=1)[:, order]
    num_gt = np.count_nonzero(np.concatenate([e['gtIgnore'] for e in records]) == 0)
    if num_gt == 0:
        return None
    tp = np.cumsum(np.logical_and(matched, ~ignored.astype(bool)), axis=1, dtype=float)
    fp = np.cumsum(np.logical_and(~matched.astype(bool), ~ignored.astype(bool)), axis=1,
                   dtype=float)
    out = np.zeros((tp.shape[0], len(rec_thrs)))
    for t in range(tp.shape[0]):
        recall = tp[t] / num_gt
        prec = tp[t] / (fp[t] + tp[t] + np.spacing(1))
        prec = np.maximum.accumulate(prec[::-1])[::-1]  # COCOeval's precision envelope
        idx = np.searchsorted(recall, rec_thrs, side='left')
        valid = idx < len(prec)
        out[t, valid] = prec[idx[valid]]
    return out


def accumulate(ev: PerImageEval, image_indices: Optional[Sequence[int]] = None,
               keys: Sequence[str] = tuple(AP_KEYS)) -> Dict[str, Optional[float]]:
    """COCO AP numbers (in percent, unrounded) over a multiset of images.

    Args:
        ev: The per-image records of one method.
        image_indices: Indices into ``ev.img_ids`` (repeats allowed); default all images.
        keys: Which of :data:`AP_KEYS`.

    Returns:
        dict: key -> AP in percent, None where COCOeval gives -1 (no ground truth of that kind).
    """
    idx = np.sort(np.arange(ev.num_images) if image_indices is None else
                  np.asarray(image_indices))
    out = {}
    for key in keys:
        iou, area = AP_KEYS[key]
        a = ev.area_labels.index(area)
        per_cat = []
        for k in range(ev.num_cats):
            base = k * len(ev.area_labels) * ev.num_images + a * ev.num_images
            prec = _precision([ev.eval_imgs[base + i] for i in idx], ev.rec_thrs, 100)
            if prec is not None:
                per_cat.append(prec if iou is None else
                               prec[np.where(np.isclose(ev.iou_thrs, iou))[0]])
        values = np.concatenate([p.ravel() for p in per_cat]) if per_cat else np.zeros(0)
        out[key] = None if values.size == 0 else 100. * float(np.mean(values))
    return out


def paired_bootstrap(ev_a: PerImageEval, ev_b: PerImageEval, key: str = 'AP',
                     num_resamples: int = 1000, seed: int = 0) -> dict:
    """95% paired bootstrap interval of ``AP(b) - AP(a)`` over test images.

    Args:
        ev_a, ev_b: Per-image records of two methods on the same images.
        key: One of :data:`AP_KEYS`.
        num_resamples: Bootstrap resamples (the same image draw for both methods).
        seed: Seed of the draws.

    Returns:
        dict: ``diff`` (on all images), ``low``, ``high`` (2.5 / 97.5 percentiles),
        ``num_resamples``, ``num_images``, ``verdict`` (see :func:`verdict`).
    """
    if ev_a.img_ids != ev_b.img_ids:
        raise ValueError('paired bootstrap needs both methods evaluated on the same images.')
    rng = np.random.default_rng(seed)
    n = ev_a.num_images
    diffs = []
    for _ in range(num_resamples):
        draw = rng.integers(0, n, n)
        a, b = accumulate(ev_a, draw, (key,))[key], accumulate(ev_b, draw, (key,))[key]
        if a is not None and b is not None:
            diffs.append(b - a)
    full_a, full_b = accumulate(ev_a, keys=(key,))[key], accumulate(ev_b, keys=(key,))[key]
    diff = None if full_a is None or full_b is None else full_b - full_a
    low, high = (np.percentile(diffs, [2.5, 97.5]).tolist() if diffs else (None, None))
    return dict(diff=diff, low=low, high=high, num_resamples=len(diffs), num_images=n,
                verdict=verdict(low, high))


def verdict(low: Optional[float], high: Optional[float]) -> str:
    """``'held'`` (interval above 0), ``'reversed'`` (below 0) or ``'not resolved'``."""
    if low is None or high is None:
        return 'not resolved (no interval)'
    if low > 0:
        return 'held'
    if high < 0:
        return 'reversed'
    return 'not resolved (CI includes 0)'
