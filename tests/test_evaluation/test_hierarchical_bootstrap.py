"""Hierarchical bootstrap over training seeds and test images, on COCOeval's per-image records of
generated ground truth and detections (one detection file per method and training seed)."""
import json

import numpy as np
import pytest

from fdsr_mm.evaluation.bootstrap import evaluate_per_image, paired_bootstrap
from fdsr_mm.evaluation.hierarchical_bootstrap import (COVERS_IMAGES, COVERS_SEEDS_AND_IMAGES,
                                                       hierarchical_bootstrap)
from fdsr_mm.evaluation.multiple_comparisons import holm


def _gt(tmp_path, num_images=16):
    rng = np.random.default_rng(0)
    images, anns = [], []
    for i in range(1, num_images + 1):
        images.append(dict(id=i, file_name=f'{i}.png', height=200, width=200))
        for _ in range(int(rng.integers(1, 4))):
            side = float(rng.choice([40, 80]))
            x, y = rng.uniform(0, 200 - side, 2)
            anns.append(dict(id=len(anns) + 1, image_id=i, category_id=int(rng.integers(1, 3)),
                             iscrowd=0, bbox=[x, y, side, side], area=side * side))
    path = str(tmp_path / 'gt.json')
    json.dump(dict(images=images, annotations=anns,
                   categories=[dict(id=1, name='x'), dict(id=2, name='y')]), open(path, 'w'))
    return path, anns


def _records(tmp_path, gt, name, jitter, found, seed):
    """COCOeval's per-image records of a method: each GT box found with probability ``found``,
    its box moved by N(0, jitter) px; ``seed`` stands for the training seed."""
    path, anns = gt
    rng = np.random.default_rng(seed)
    dets = [dict(image_id=a['image_id'], category_id=a['category_id'],
                 bbox=(np.array(a['bbox']) + rng.normal(0, jitter, 4)).tolist(),
                 score=float(rng.uniform(0.2, 1.0))) for a in anns if rng.uniform() < found]
    out = str(tmp_path / f'{name}_s{seed}.json')
    json.dump(dets, open(out, 'w'))
    return evaluate_per_image(path, out)


@pytest.fixture(scope='module')
def gt(tmp_path_factory):
    return _gt(tmp_path_factory.mktemp('gt'))


def test_one_seed_is_the_paired_bootstrap_number_for_number(tmp_path, gt):
    a = _records(tmp_path, gt, 'a', 3.0, 0.9, 0)
    b = _records(tmp_path, gt, 'b', 8.0, 0.7, 0)
    plain = paired_bootstrap(a, b, 'AP', num_resamples=150, seed=4)
    hier = hierarchical_bootstrap([a], [b], 'AP', num_resamples=150, seed=4)
    assert {k: hier[k] for k in plain} == plain
    assert hier['num_seeds'] == 1 and hier['covers'] == COVERS_IMAGES


def test_identical_methods_give_zero_zero_over_seeds(tmp_path, gt):
    seeds = [_records(tmp_path, gt, 'a', 2.0 + 3 * k, 0.9, k) for k in range(3)]
    same = [_records(tmp_path, gt, 'a', 2.0 + 3 * k, 0.9, k) for k in range(3)]
    res = hierarchical_bootstrap(seeds, same, 'AP', num_resamples=100, seed=1)
    assert (res['diff'], res['low'], res['high']) == (0.0, 0.0, 0.0)
    assert res['verdict'] == 'not resolved (CI includes 0)' and res['p_value'] == 1.0
    assert res['covers'] == COVERS_SEEDS_AND_IMAGES and res['num_seeds'] == 3


def test_a_method_worse_in_every_seed_reads_reversed_raw_and_adjusted(tmp_path, gt):
    good = [_records(tmp_path, gt, 'good', 1.0, 0.95, k) for k in range(3)]
    bad = [_records(tmp_path, gt, 'bad', 12.0, 0.5, 10 + k) for k in range(3)]
    res = hierarchical_bootstrap(good, bad, 'AP', num_resamples=300, seed=0)
    assert res['diff'] < 0 and res['high'] < 0 and res['verdict'] == 'reversed'
    assert res['low'] <= res['diff'] <= res['high']
    adjusted, reject = holm([res['p_value'], 0.5, 0.8])  # a family of three claims
    assert reject.tolist() == [True, False, False] and adjusted[0] == 3 * res['p_value']
    # an unseeded base (bicubic-like, one record) against the seeded method
    res1 = hierarchical_bootstrap(good[:1], bad, 'AP', num_resamples=100, seed=0)
    assert res1['num_seeds'] == 3 and res1['verdict'] == 'reversed'


def test_seeds_that_disagree_widen_the_interval(tmp_path, gt):
    # B beats A in seed 0, loses in seed 1, ties-ish in seed 2: the method's difference is
    # uncertain although each seed's own interval over images is narrow.
    a = [_records(tmp_path, gt, 'a', j, 0.9, k) for k, j in enumerate((8.0, 1.0, 4.0))]
    b = [_records(tmp_path, gt, 'b', j, 0.9, 20 + k) for k, j in enumerate((1.0, 8.0, 4.0))]
    single = paired_bootstrap(a[0], b[0], 'AP', num_resamples=200, seed=2)
    hier = hierarchical_bootstrap(a, b, 'AP', num_resamples=200, seed=2)
    assert single['verdict'] == 'held'
    assert hier['high'] - hier['low'] > 2 * (single['high'] - single['low'])
    assert hier['low'] < 0 < hier['high'] and hier['verdict'] == 'not resolved (CI includes 0)'
    per_seed = [bk.score(None, 'AP') - ak.score(None, 'AP') for ak, bk in zip(a, b)]
    assert hier['diff'] == pytest.approx(np.mean(per_seed))


def test_records_that_do_not_pair_are_refused(tmp_path, gt):
    a = [_records(tmp_path, gt, 'a', 2.0, 0.9, k) for k in range(3)]
    with pytest.raises(ValueError, match='paired seeds'):
        hierarchical_bootstrap(a, a[:2])


def test_difference_in_differences_is_computed_on_one_draw_for_all_four_records(tmp_path, gt):
    """``ref``: [B - A] here minus [B - A] in the reference run, the same image draw for all
    four records; checked against the loop written out by hand (one seed)."""
    a, b = (_records(tmp_path, gt, n, j, f, 0) for n, j, f in (('a', 3., .9), ('b', 8., .7)))
    ra, rb = (_records(tmp_path, gt, n, j, f, 5) for n, j, f in (('ra', 2., .95),
                                                                 ('rb', 4., .9)))
    res = hierarchical_bootstrap([a], [b], 'AP', num_resamples=120, seed=3, ref=([ra], [rb]))
    rng = np.random.default_rng(3)
    draws = []
    for _ in range(120):
        idx = rng.integers(0, a.num_images, a.num_images)
        draws.append((b.score(idx, 'AP') - a.score(idx, 'AP'))
                     - (rb.score(idx, 'AP') - ra.score(idx, 'AP')))
    full = ((b.score(None, 'AP') - a.score(None, 'AP'))
            - (rb.score(None, 'AP') - ra.score(None, 'AP')))
    assert res['diff'] == pytest.approx(full, abs=1e-9)
    assert [res['low'], res['high']] == pytest.approx(np.percentile(draws, [2.5, 97.5]).tolist(),
                                                      abs=1e-9)
    # against itself as the reference: exactly no change, whatever the draw
    same = hierarchical_bootstrap([a], [b], 'AP', num_resamples=50, seed=3, ref=([a], [b]))
    assert (same['diff'], same['low'], same['high']) == (0., 0., 0.)
