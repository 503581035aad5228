"""Paired bootstrap intervals between the methods of one cascade run (``results['intervals']``).

For each pair ``(a, b)`` of SR methods of a run (every method against the reference, default
``bicubic``, and each pair asked for), the run's test images are resampled with replacement, the
same draw for both methods, and AP, AP50, AP75, APS, APM, APL (COCO) or mAP (VOC) is recomputed
for each; the 2.5 / 97.5 percentiles of ``b - a`` give a 95% interval. The numbers are those of
:func:`fdsr_mm.evaluation.bootstrap.paired_bootstrap` called per pair and metric with the run's
seed (the same draws: ``default_rng(seed).integers(0, n, n)`` per resample); here each method is
scored once per draw and metric, and every pair reuses those scores.

The per-image records are those the run kept in ``<out_dir>/methods/<name>/``:
``detections.bbox.json`` with the run's derived annotation file (COCO) or ``voc_per_image.pkl``
(VOC, :class:`~fdsr_mm.evaluation.voc_per_image.DumpVOCPerImage`); under several processes both
are written by rank 0 from the gathered results, so they hold every evaluated image.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from fdsr_mm.evaluation.bootstrap import evaluate_per_image, verdict
from fdsr_mm.evaluation.voc_per_image import evaluate_voc_per_image

#: The metrics bootstrapped per pair: COCO's summary APs, VOC's mAP.
INTERVAL_KEYS = dict(coco=('AP', 'AP50', 'AP75', 'APS', 'APM', 'APL'), voc=('mAP', ))


def interval_pairs(methods: Sequence[str], reference: Optional[str],
                   compare: Sequence[Tuple[str, str]] = ()) -> List[Tuple[str, str]]:
    """``(reference, m)`` for every other method ``m``, then each ``compare`` pair (once)."""
    pairs = [(reference, m) for m in methods if reference is not None and m != reference]
    for pair in compare:
        if tuple(pair) not in pairs:
            pairs.append(tuple(pair))
    return pairs


def method_records(result: dict, out_dir: str, method: str):
    """The per-image records of ``method`` in the run written to ``out_dir``, or None."""
    method_dir = osp.join(out_dir, 'methods', method)
    if result['metric'] == 'voc':
        dump = osp.join(method_dir, 'voc_per_image.pkl')
        return evaluate_voc_per_image(dump) if osp.isfile(dump) else None
    dets = osp.join(method_dir, 'detections.bbox.json')
    ann = result['dataset'].get('evaluated_ann_file')
    if not ann or not osp.isfile(ann) or not osp.isfile(dets):
        return None
    return evaluate_per_image(ann, dets)


class _Scores:
    """Each method's metric on all images and on every resample (the draws of
    :func:`~fdsr_mm.evaluation.bootstrap.paired_bootstrap`), computed once per method."""

    def __init__(self, records: Dict[str, object], num_resamples: int, seed: int):
        self.records, self._cache = records, {}
        sizes = {ev.num_images for ev in records.values() if ev is not None}
        n = sizes.pop() if len(sizes) == 1 else 0
        rng = np.random.default_rng(seed)
        self.draws = [rng.integers(0, n, n) for _ in range(num_resamples)] if n else []

    def get(self, method: str, key: str) -> Tuple[Optional[float], List[Optional[float]]]:
        if (method, key) not in self._cache:
            ev = self.records[method]
            self._cache[method, key] = (ev.score(None, key),
                                        [ev.score(draw, key) for draw in self.draws])
        return self._cache[method, key]


def _pair_row(a: str, b: str, key: str, scores: _Scores) -> dict:
    row = dict(a=a, b=b, metric=key, diff=None, low=None, high=None, num_resamples=0)
    ev_a, ev_b = scores.records[a], scores.records[b]
    if ev_a is None or ev_b is None:
        missing = ', '.join(m for m, ev in ((a, ev_a), (b, ev_b)) if ev is None)
        return dict(row, verdict=f'could not be checked (no per-image records of {missing})')
    if ev_a.img_ids != ev_b.img_ids:
        return dict(row, verdict='could not be checked (the methods saw different images)')
    (full_a, res_a), (full_b, res_b) = scores.get(a, key), scores.get(b, key)
    diffs = [y - x for x, y in zip(res_a, res_b) if x is not None and y is not None]
    low, high = np.percentile(diffs, [2.5, 97.5]).tolist() if diffs else (None, None)
    return dict(row, diff=None if full_a is None or full_b is None else full_b - full_a,
                low=low, high=high, num_resamples=len(diffs), verdict=verdict(low, high))


def cascade_intervals(result: dict, out_dir: str, pairs: Sequence[Tuple[str, str]],
                      reference: Optional[str], num_resamples: int = 1000,
                      seed: int = 0) -> dict:
    """Paired bootstrap of ``b - a`` for every pair and metric of a cascade result.

    Args:
        result: The run's result (``metric``, ``dataset.evaluated_ann_file``).
        out_dir: The run's results folder (``methods/<name>/`` holds the records).
        pairs: ``(a, b)`` method names.
        reference: The reference method (recorded only), or None.
        num_resamples, seed: Of :func:`~fdsr_mm.evaluation.bootstrap.paired_bootstrap`.

    Returns:
        dict: ``reference``, ``resamples``, ``seed``, ``num_images`` and ``pairs``: one
        ``dict(a, b, metric, diff, low, high, num_resamples, verdict)`` per pair and metric, in
        percentage points; None where a number is undefined (no ground truth of that kind).
    """
    records: Dict[str, object] = {}
    for a, b in pairs:
        for m in (a, b):
            if m not in records:
                records[m] = method_records(result, out_dir, m)
    scores = _Scores(records, num_resamples, seed)
    rows = [_pair_row(a, b, key, scores) for a, b in pairs
            for key in INTERVAL_KEYS[result['metric']]]
    sizes = {ev.num_images for ev in records.values() if ev is not None}
    num_images = sizes.pop() if len(sizes) == 1 else result['dataset'].get('num_evaluated')
    return dict(reference=reference, resamples=num_resamples, seed=seed,
                num_images=num_images, pairs=rows)
