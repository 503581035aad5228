"""Holm-Bonferroni over a report's claims, and each claim's p-value from its bootstrap interval."""
import numpy as np
import pytest

from fdsr_mm.evaluation.bootstrap import verdict
from fdsr_mm.evaluation.multiple_comparisons import (NOT_RESOLVED_HOLM, adjusted_verdict, holm,
                                                      percentile_p_value)


def test_holm_matches_a_hand_computation():
    # Four claims, alpha 0.05. Ascending: 0.005 (claim 3), 0.010 (claim 0), 0.030 (claim 2),
    # 0.040 (claim 1). Step down against alpha / (m - j + 1):
    #   j=1: 0.005 <= 0.05/4 = 0.0125   reject claim 3
    #   j=2: 0.010 <= 0.05/3 = 0.0167   reject claim 0
    #   j=3: 0.030 >  0.05/2 = 0.025    stop: claims 2 and 1 stand (0.040 < 0.05 alone would
    #                                   have passed its own threshold; step-down stops first)
    # Adjusted p = running max of (m - j + 1) p_(j), capped at 1:
    #   4 x 0.005 = 0.02; max(0.02, 3 x 0.010 = 0.03) = 0.03;
    #   max(0.03, 2 x 0.030 = 0.06) = 0.06; max(0.06, 1 x 0.040 = 0.04) = 0.06.
    adjusted, reject = holm([0.010, 0.040, 0.030, 0.005], alpha=0.05)
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-12)
    assert reject.tolist() == [True, False, False, True]
    # the cap at 1, and ties keep their order: 3 x 0.4 = 1.2 -> 1
    adjusted, reject = holm([0.4, 0.4, 0.9])
    assert adjusted.tolist() == [1.0, 1.0, 1.0] and not reject.any()
    # a family of one is the raw test
    adjusted, reject = holm([0.049])
    assert adjusted.tolist() == [0.049] and reject.tolist() == [True]
    assert holm([])[0].size == 0


def test_p_value_inverts_the_percentile_interval():
    rng = np.random.default_rng(0)
    for shift in np.linspace(-0.5, 3.0, 40):
        diffs = rng.normal(shift, 1.0, 400)
        p = percentile_p_value(diffs)
        low, high = np.percentile(diffs, [2.5, 97.5])
        # p < 0.05 exactly when the 95% interval excludes 0 (the raw verdict)
        assert (p < 0.05) == (verdict(low, high) != 'not resolved (CI includes 0)'), shift
        if 2 / 401 < p < 1:  # at level 1 - p the interval's end touches 0
            ends = np.percentile(diffs, [50 * p, 100 - 50 * p])
            assert min(abs(ends)) == pytest.approx(0, abs=1e-9), shift


def test_p_value_identical_one_sided_and_floored():
    assert percentile_p_value(np.zeros(200)) == 1.0  # identical methods
    assert percentile_p_value(np.linspace(1, 2, 200)) == pytest.approx(2 / 201)  # the floor
    assert percentile_p_value(-np.linspace(1, 2, 999)) == pytest.approx(2 / 1000)
    assert percentile_p_value([]) is None


def test_adjusted_verdict_never_stronger_than_the_raw_one():
    assert adjusted_verdict('held', 0.01) == 'held'
    assert adjusted_verdict('reversed', 0.04) == 'reversed'
    assert adjusted_verdict('held', 0.2) == NOT_RESOLVED_HOLM
    assert adjusted_verdict('not resolved (CI includes 0)', 0.01) == NOT_RESOLVED_HOLM
    assert adjusted_verdict('could not be checked (x)', None) == 'could not be checked (x)'
