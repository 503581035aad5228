"""Verdicts adjusted for the number of claims in one report: Holm-Bonferroni over the family.

A report states m claims "B > A", each read off a two-sided 95% percentile bootstrap interval of
``d = score(B) - score(A)``: **held** (interval above 0), **reversed** (below 0), **not resolved**.
At 95% each, a family of ~18 claims has a good chance of at least one held or reversed claim
whose true difference is 0. The adjusted verdict runs Holm's step-down procedure over the
family:

1. **Each claim's p-value inverts its interval.** ``p`` is the smallest level ``a`` at which the
   two-sided ``(1 - a)`` percentile interval of the bootstrap differences (``np.percentile``'s
   linear interpolation, as the raw 95% interval) excludes 0: with ``t_low`` the percentile rank
   at which the sorted differences cross 0 from below (``t_high`` the same from above),
   ``p = min(1, 2 t_low, 2 t_high)`` (:func:`percentile_p_value`), a two-sided test of ``d = 0``
   per claim (``t_low`` is about the bootstrap p-value of "d <= 0", the one-sided test of the
   claim "B > A"; the factor 2 pays for reading the direction off the data). B resamples
   cannot show a p-value below ``2 / (B + 1)`` (every resample on one side; Davison & Hinkley
   1997, 4.4), so ``p`` is floored there rather than read off the extreme resamples. So
   ``p < 0.05`` exactly when the raw 95% interval excludes 0 (for B >= 40), and an interval
   beyond the resamples' resolution is never trusted: with 1000 resamples the floor is 0.002,
   below the first Holm threshold 0.05/18 of an 18-claim family; with 200 it is 0.00995, and a
   family of 18 then holds nothing after adjustment (``--quick``: the plumbing only).
2. **Holm (1979)** (:func:`holm`): sort the m p-values ascending, ``p_(1) <= ... <= p_(m)``;
   claim ``(k)`` is rejected if ``p_(j) <= alpha / (m - j + 1)`` for every ``j <= k`` (step
   down; stop at the first that fails). Equivalently, the adjusted p-value is
   ``max_{j <= k} min(1, (m - j + 1) p_(j))`` and a claim is rejected when it is ``<= alpha``. By
   step 1 this is the same as reading claim ``(k)`` off its ``(1 - alpha / (m - k + 1))``
   interval, in that order (the first claim on a 1 - 0.05/m interval, the last on the 95% one),
   as far as the resamples resolve such an interval (the floor above).
3. **The adjusted verdict** (:func:`adjusted_verdict`) is the raw verdict where Holm rejects
   (the direction is the side of 0 its interval is on), else "not resolved". Adjusted p >= raw
   p, so an adjusted "held" is always a raw "held"; never the other way round.

What it guarantees: given valid per-claim p-values (the bootstrap's are approximate, as its
intervals are), Holm controls the family-wise error rate in the strong sense under any
dependence between the claims (they share test images and methods): the probability that any
claim whose true difference is 0 reads held or reversed is at most alpha. That the *sign* of a
declared difference is also right (no held claim whose true difference is below 0) is Holm with
directional decisions: shown for independent tests (Shaffer 1980, JASA 75:380) and under some
forms of dependence (Finner 1999, Ann. Stat. 27:274), not proven for every dependence; a single
claim's sign error has at most half its two-sided threshold. The family is the claims that could
be tested (rows with an interval); claims that could not be checked decide nothing and are not
counted.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

#: The adjusted verdict of a claim whose interval Holm does not let stand.
NOT_RESOLVED_HOLM = 'not resolved (after Holm)'


def _crossing_rank(sorted_diffs: np.ndarray) -> float:
    """The percentile rank t in [0, 1] where the interpolated percentile of the (ascending)
    differences stops being <= 0: ``np.percentile(d, 100 t') > 0`` for every ``t' > t``."""
    n = len(sorted_diffs)
    below = np.flatnonzero(sorted_diffs <= 0)
    if below.size == 0:
        return 0.0
    i = int(below[-1])
    if i == n - 1:
        return 1.0
    lo, hi = sorted_diffs[i], sorted_diffs[i + 1]
    return (i + (0.0 - lo) / (hi - lo)) / (n - 1)


def percentile_p_value(diffs: Sequence[float]) -> Optional[float]:
    """Two-sided p-value of ``d = 0`` by inverting the percentile bootstrap interval.

    Args:
        diffs: The bootstrap differences ``score(B) - score(A)`` of one claim.

    Returns:
        The smallest ``a`` at which the ``(1 - a)`` percentile interval excludes 0 (1 when no
        interval does, e.g. identical methods), at least ``2 / (B + 1)`` for B differences;
        None without differences.
    """
    d = np.sort(np.asarray(diffs, dtype=float))
    if d.size == 0:
        return None
    if d.size == 1:
        return 1.0
    t_low = _crossing_rank(d)  # the interval's lower end is above 0 for a/2 > t_low
    t_high = _crossing_rank(np.sort(-d))  # its upper end is below 0 for a/2 > t_high
    return float(min(1.0, max(2 / (d.size + 1), min(2 * t_low, 2 * t_high))))


def holm(pvalues: Sequence[float], alpha: float = 0.05) -> Tuple[np.ndarray, np.ndarray]:
    """Holm-Bonferroni step-down adjustment of a family of p-values.

    Args:
        pvalues: The m p-values of the family (any order).
        alpha: The family-wise error rate.

    Returns:
        (adjusted p-values, rejections), both in the input order: adjusted
        ``p~_(k) = max_{j <= k} min(1, (m - j + 1) p_(j))`` over the ascending order, and
        ``p~ <= alpha`` (the same as Holm's step-down rule on the raw p-values).
    """
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    order = np.argsort(p, kind='mergesort')
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled) if m else scaled
    return adjusted, adjusted <= alpha


def adjusted_verdict(raw_verdict: str, adjusted_p: Optional[float], alpha: float = 0.05) -> str:
    """The raw verdict where Holm rejects (held / reversed), else :data:`NOT_RESOLVED_HOLM`;
    rows without a test keep their raw verdict ("could not be checked ...")."""
    if adjusted_p is None:
        return raw_verdict
    if adjusted_p <= alpha and raw_verdict in ('held', 'reversed'):
        return raw_verdict
    return NOT_RESOLVED_HOLM
