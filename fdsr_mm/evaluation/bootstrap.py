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
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from fdsr_mm.evaluation.multiple_comparisons import percentile_p_value

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
    blocks: dict = field(default_factory=dict, repr=False, compare=False)

    def score(self, image_indices: Optional[Sequence[int]] = None, key: str = 'AP'
              ) -> Optional[float]:
        """One AP number (percent) over a multiset of images; see :func:`accumulate`."""
        return accumulate(self, image_indices, (key,))[key]


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


class _Block:
    """One category x area range of a :class:`PerImageEval`, flattened over images once.

    Gathering a resample's detections is then index arithmetic, not a loop over images; the
    pooled order (drawn images in ascending index order, each image's detections in COCOeval's
    order, then a stable sort by score) is the one ``COCOeval.accumulate`` uses.
    """

    def __init__(self, records: list, max_det: int):
        self.has = np.array([e is not None for e in records])
        kept = [e for e in records if e is not None]
        self.num_dets = np.zeros(len(records), dtype=np.int64)
        self.num_dets[self.has] = [len(e['dtScores'][:max_det]) for e in kept]
        self.offsets = np.cumsum(self.num_dets) - self.num_dets
        self.num_gt = np.zeros(len(records), dtype=np.int64)
        self.num_gt[self.has] = [np.count_nonzero(np.asarray(e['gtIgnore']) == 0) for e in kept]
        cat = (lambda arrs, axis: np.concatenate(arrs, axis=axis) if arrs else None)
        self.scores = cat([np.asarray(e['dtScores'][:max_det], dtype=float) for e in kept], 0)
        self.matched = cat([e['dtMatches'][:, :max_det] for e in kept], 1)
        self.ignored = cat([e['dtIgnore'][:, :max_det] for e in kept], 1)

    def precision(self, idx: np.ndarray, rec_thrs: np.ndarray) -> Optional[np.ndarray]:
        """(T, R) interpolated precision over the images ``idx`` (sorted), or None (no GT)."""
        idx = idx[self.has[idx]]
        if idx.size == 0:
            return None
        num_gt = int(self.num_gt[idx].sum())
        if num_gt == 0:
            return None
        lens = self.num_dets[idx]
        pos = np.repeat(self.offsets[idx] - (np.cumsum(lens) - lens), lens) + np.arange(
            lens.sum())
        order = pos[np.argsort(-self.scores[pos], kind='mergesort')]
        matched, ignored = self.matched[:, order], self.ignored[:, order].astype(bool)
        tp = np.cumsum(np.logical_and(matched, ~ignored), axis=1, dtype=float)
        fp = np.cumsum(np.logical_and(~matched.astype(bool), ~ignored), axis=1, dtype=float)
        out = np.zeros((tp.shape[0], len(rec_thrs)))
        for t in range(tp.shape[0]):
            recall = tp[t] / num_gt
            prec = tp[t] / (fp[t] + tp[t] + np.spacing(1))
            prec = np.maximum.accumulate(prec[::-1])[::-1]  # COCOeval's precision envelope
            found = np.searchsorted(recall, rec_thrs, side='left')
            valid = found < len(prec)
            out[t, valid] = prec[found[valid]]
        return out


def _block(ev: PerImageEval, k: int, a: int) -> _Block:
    if (k, a) not in ev.blocks:
        base = k * len(ev.area_labels) * ev.num_images + a * ev.num_images
        ev.blocks[k, a] = _Block(ev.eval_imgs[base:base + ev.num_images], 100)
    return ev.blocks[k, a]


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
            prec = _block(ev, k, a).precision(idx, ev.rec_thrs)
            if prec is not None:
                per_cat.append(prec if iou is None else
                               prec[np.where(np.isclose(ev.iou_thrs, iou))[0]])
        values = np.concatenate([p.ravel() for p in per_cat]) if per_cat else np.zeros(0)
        out[key] = None if values.size == 0 else 100. * float(np.mean(values))
    return out


def paired_bootstrap(ev_a, ev_b, key: str = 'AP', num_resamples: int = 1000,
                     seed: int = 0) -> dict:
    """95% paired bootstrap interval of ``AP(b) - AP(a)`` over test images.

    Args:
        ev_a, ev_b: Per-image records of two methods on the same images: :class:`PerImageEval`
            (COCO) or :class:`~fdsr_mm.evaluation.voc_per_image.VOCPerImageEval` (VOC), i.e.
            anything with ``img_ids``, ``num_images`` and ``score(image_indices, key)``.
        key: One of :data:`AP_KEYS` (COCO), or ``'mAP'`` (VOC).
        num_resamples: Bootstrap resamples (the same image draw for both methods).
        seed: Seed of the draws.

    Returns:
        dict: ``diff`` (on all images), ``low``, ``high`` (2.5 / 97.5 percentiles),
        ``num_resamples``, ``num_images``, ``verdict`` (see :func:`verdict`), ``p_value``
        (two-sided, the interval inverted: :func:`~fdsr_mm.evaluation.multiple_comparisons.
        percentile_p_value`).
    """
    if ev_a.img_ids != ev_b.img_ids:
        raise ValueError('paired bootstrap needs both methods evaluated on the same images.')
    rng = np.random.default_rng(seed)
    n = ev_a.num_images
    diffs = []
    for _ in range(num_resamples):
        draw = rng.integers(0, n, n)
        a, b = ev_a.score(draw, key), ev_b.score(draw, key)
        if a is not None and b is not None:
            diffs.append(b - a)
    full_a, full_b = ev_a.score(None, key), ev_b.score(None, key)
    diff = None if full_a is None or full_b is None else full_b - full_a
    low, high = (np.percentile(diffs, [2.5, 97.5]).tolist() if diffs else (None, None))
    return dict(diff=diff, low=low, high=high, num_resamples=len(diffs), num_images=n,
                verdict=verdict(low, high), p_value=percentile_p_value(diffs))


def verdict(low: Optional[float], high: Optional[float]) -> str:
    """``'held'`` (interval above 0), ``'reversed'`` (below 0) or ``'not resolved'``."""
    if low is None or high is None:
        return 'not resolved (no interval)'
    if low > 0:
        return 'held'
    if high < 0:
        return 'reversed'
    return 'not resolved (CI includes 0)'
