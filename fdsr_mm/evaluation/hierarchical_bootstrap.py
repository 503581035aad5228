"""Bootstrap intervals of a difference that cover training seeds *and* test images.

With ``--seeds N`` each trained SR method exists N times (training seeds 0..N-1), each scored
on the same test images. The paired bootstrap over images
(:func:`fdsr_mm.evaluation.bootstrap.paired_bootstrap`) of one seed's run says how sure the
difference is for *that* training run; the claim is about the method. :func:`hierarchical_bootstrap`
resamples both sources of variation, in each draw:

1. the training seeds, S of S with replacement (one draw of seed indices for both methods:
   seed k of A is paired with seed k of B where both were trained with seeds; a method without
   training randomness, e.g. bicubic, has one record used for every seed);
2. the test images, n of n with replacement: one draw for both methods and every drawn seed
   (seeds and images are crossed: every seed's run sees the same test images);

and the statistic is the mean over the drawn seeds of ``score(B_k, images) - score(A_k, images)``.
The point estimate is that mean on all seeds and all images; the interval is the 2.5 / 97.5
percentiles of the draws. Resampling both factors of a crossed design counts the seed x image
interaction twice, so the interval errs on the wide side (McCullagh 2000, Bernoulli 6:285), never
on the narrow one. The seed level knows only the seeds there are: with 3 seeds there are 10
distinct seed draws, and the interval shows the spread those seeds had, no more. With one seed every seed draw is [0] and the image draws are those of the paired
bootstrap with the same ``seed`` (the two use separate random streams), so the result is the paired
bootstrap's, number for number.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np

from fdsr_mm.evaluation.bootstrap import verdict
from fdsr_mm.evaluation.multiple_comparisons import percentile_p_value

#: What an interval covers (the report says it per claim).
COVERS_IMAGES = 'test images'
COVERS_SEEDS_AND_IMAGES = 'training seeds and test images'


def _mean_diff(evs_a: Sequence, evs_b: Sequence, seeds: np.ndarray,
               images: Optional[np.ndarray], key: str, ref: Optional[tuple] = None
               ) -> Optional[float]:
    """Mean over ``seeds`` of ``score(B_k) - score(A_k)`` on ``images``, minus the same on the
    ``ref`` records (``(refs_a, refs_b)``) where given; each distinct record is scored once (an
    unseeded method's one record stands for every seed)."""
    cache: Dict[int, Optional[float]] = {}

    def score(ev):
        if id(ev) not in cache:
            cache[id(ev)] = ev.score(images, key)
        return cache[id(ev)]

    diffs = []
    pairs = [(evs_a, evs_b, 1.)] + ([(ref[0], ref[1], -1.)] if ref else [])
    for k in seeds:
        d = 0.
        for recs_a, recs_b, sign in pairs:
            a, b = score(recs_a[k % len(recs_a)]), score(recs_b[k % len(recs_b)])
            if a is None or b is None:
                return None
            d += sign * (b - a)
        diffs.append(d)
    return float(np.mean(diffs))


def _check(evs_a: Sequence, evs_b: Sequence) -> int:
    """The number of seeds S; raises ValueError unless the records fit a crossed design."""
    if not evs_a or not evs_b:
        raise ValueError('hierarchical bootstrap needs records of both methods.')
    num = max(len(evs_a), len(evs_b))
    if any(len(evs) not in (1, num) for evs in (evs_a, evs_b)):
        raise ValueError(f'paired seeds: {len(evs_a)} and {len(evs_b)} records (one record, or '
                         'one per seed, for each method).')
    ids = evs_a[0].img_ids
    if any(ev.img_ids != ids for ev in list(evs_a) + list(evs_b)):
        raise ValueError('hierarchical bootstrap needs every seed of both methods evaluated on '
                         'the same images.')
    return num


def hierarchical_bootstrap(evs_a: Sequence, evs_b: Sequence, key: str = 'AP',
                           num_resamples: int = 1000, seed: int = 0,
                           ref: Optional[tuple] = None) -> dict:
    """95% interval of the seed-mean ``score(B) - score(A)``, over training seeds and test images.

    With ``ref = (refs_a, refs_b)`` (the same methods' records in another run of the same images,
    e.g. through the detector they were trained with) the statistic is the difference in
    differences ``[score(B) - score(A)] - [score(B_ref) - score(A_ref)]``, every record on the
    same draw: above 0, B loses less than A from the reference run to this one.

    Args:
        evs_a, evs_b: Per-image records of each method, one per training seed (index k: seed k;
            paired across the methods) or a single record for a method without training
            randomness: :class:`~fdsr_mm.evaluation.bootstrap.PerImageEval` (COCO) or
            :class:`~fdsr_mm.evaluation.voc_per_image.VOCPerImageEval` (VOC), all on the same
            images.
        key: One of the COCO ``AP_KEYS``, or ``'mAP'`` (VOC).
        num_resamples: Bootstrap draws (seeds, then images).
        seed: Seed of the draws (the image draws use the paired bootstrap's stream).

    Returns:
        dict: as :func:`~fdsr_mm.evaluation.bootstrap.paired_bootstrap` (``diff``, ``low``,
        ``high``, ``num_resamples``, ``num_images``, ``verdict``, ``p_value``), plus
        ``num_seeds`` and ``covers`` (what the interval covers).
    """
    num_seeds = _check(evs_a, evs_b)
    if ref is not None and (_check(*ref) != num_seeds or
                            ref[0][0].img_ids != evs_a[0].img_ids):
        raise ValueError('the reference records need the same seeds and the same images.')
    image_rng = np.random.default_rng(seed)  # the paired bootstrap's stream of image draws
    seed_rng = np.random.default_rng([seed, 1])
    n = evs_a[0].num_images
    diffs: List[float] = []
    for _ in range(num_resamples):
        seeds = seed_rng.integers(0, num_seeds, num_seeds)
        d = _mean_diff(evs_a, evs_b, seeds, image_rng.integers(0, n, n), key, ref)
        if d is not None:
            diffs.append(d)
    diff = _mean_diff(evs_a, evs_b, np.arange(num_seeds), None, key, ref)
    low, high = (np.percentile(diffs, [2.5, 97.5]).tolist() if diffs else (None, None))
    return dict(diff=diff, low=low, high=high, num_resamples=len(diffs), num_images=n,
                verdict=verdict(low, high), p_value=percentile_p_value(diffs), num_seeds=num_seeds,
                covers=COVERS_SEEDS_AND_IMAGES if num_seeds > 1 else COVERS_IMAGES)
