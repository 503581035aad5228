"""Paired bootstrap of AP differences: COCOeval's numbers on every image multiset it is given."""
import contextlib
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from fdsr_mm.evaluation.bootstrap import (AP_KEYS, accumulate, evaluate_per_image, paired_bootstrap,
                                          verdict)


def _coco(tmp_path, seed=0, num_images=12):
    """GT with small/medium/large boxes of 2 categories, and two noisy detection sets."""
    rng = np.random.default_rng(seed)
    images, anns, dets = [], [], {'a': [], 'b': []}
    for i in range(1, num_images + 1):
        images.append(dict(id=i, file_name=f'{i}.png', height=200, width=200))
        for j in range(rng.integers(1, 5)):
            side = float(rng.choice([20, 60, 120]))
            x, y = rng.uniform(0, 200 - side, 2)
            cat = int(rng.integers(1, 3))
            anns.append(dict(id=len(anns) + 1, image_id=i, category_id=cat, iscrowd=0,
                             bbox=[x, y, side, side], area=side * side))
            for name, noise in (('a', 4.0), ('b', 10.0)):
                if rng.uniform() < 0.85:
                    jit = rng.normal(0, noise, 4)
                    dets[name].append(dict(image_id=i, category_id=cat,
                                           bbox=[x + jit[0], y + jit[1], side + jit[2],
                                                 side + jit[3]],
                                           score=float(rng.uniform(0.3, 1.0))))
        for name in dets:  # false positives
            dets[name].append(dict(image_id=i, category_id=int(rng.integers(1, 3)),
                                   bbox=[*rng.uniform(0, 150, 2).tolist(), 30.0, 30.0],
                                   score=float(rng.uniform(0.0, 0.6))))
    gt = dict(images=images, annotations=anns,
              categories=[dict(id=1, name='x'), dict(id=2, name='y')])
    paths = dict(gt=str(tmp_path / 'gt.json'))
    json.dump(gt, open(paths['gt'], 'w'))
    for name, d in dets.items():
        paths[name] = str(tmp_path / f'{name}.json')
        json.dump(d, open(paths[name], 'w'))
    return gt, dets, paths


def _cocoeval_stats(gt: dict, dets: list) -> dict:
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = gt
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(dets), 'bbox')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    names = ['AP', 'AP50', 'AP75', 'APS', 'APM', 'APL']
    return {k: None if ev.stats[i] < 0 else 100 * ev.stats[i] for i, k in enumerate(names)}


def _resampled(gt: dict, dets: list, draw) -> tuple:
    """The dataset that holds the drawn images (repeats as new images), and its detections."""
    ids = [im['id'] for im in sorted(gt['images'], key=lambda im: im['id'])]
    images, anns, out = [], [], []
    for new_id, i in enumerate(np.sort(draw), start=1):
        old = ids[i]
        images.append(dict(id=new_id, file_name=f'{new_id}.png', height=200, width=200))
        anns += [dict(a, id=len(anns) + n + 1, image_id=new_id) for n, a in
                 enumerate(a for a in gt['annotations'] if a['image_id'] == old)]
        out += [dict(d, image_id=new_id) for d in dets if d['image_id'] == old]
    return dict(gt, images=images, annotations=anns), out


def test_accumulate_equals_cocoeval_on_all_images(tmp_path):
    gt, dets, paths = _coco(tmp_path)
    ours = accumulate(evaluate_per_image(paths['gt'], paths['a']))
    theirs = _cocoeval_stats(gt, dets['a'])
    assert set(ours) == set(AP_KEYS)
    for key in AP_KEYS:
        assert ours[key] == pytest.approx(theirs[key], abs=1e-9), key


def test_a_fixed_resample_matches_direct_recomputation(tmp_path):
    gt, dets, paths = _coco(tmp_path, seed=1)
    ev = evaluate_per_image(paths['gt'], paths['b'])
    draw = np.random.default_rng(7).integers(0, ev.num_images, ev.num_images)
    assert len(set(draw.tolist())) < len(draw)  # the draw has repeats
    ours = accumulate(ev, draw)
    theirs = _cocoeval_stats(*_resampled(gt, dets['b'], draw))
    for key in AP_KEYS:
        if theirs[key] is None:
            assert ours[key] is None, key
        else:
            assert ours[key] == pytest.approx(theirs[key], abs=1e-9), key


def test_identical_methods_give_the_interval_zero_zero(tmp_path):
    _, _, paths = _coco(tmp_path)
    ev = evaluate_per_image(paths['gt'], paths['a'])
    res = paired_bootstrap(ev, evaluate_per_image(paths['gt'], paths['a']), num_resamples=50)
    assert (res['diff'], res['low'], res['high']) == (0.0, 0.0, 0.0)
    assert res['verdict'] == 'not resolved (CI includes 0)'


def test_differing_methods_interval_brackets_the_difference(tmp_path):
    _, _, paths = _coco(tmp_path, seed=2, num_images=20)
    ev_a, ev_b = (evaluate_per_image(paths['gt'], paths[m]) for m in 'ab')
    res = paired_bootstrap(ev_a, ev_b, 'AP50', num_resamples=200, seed=3)
    assert res['low'] <= res['diff'] <= res['high'] and res['num_resamples'] == 200
    again = paired_bootstrap(ev_a, ev_b, 'AP50', num_resamples=200, seed=3)
    assert again == res  # seeded


@pytest.mark.parametrize('low, high, expected', [
    (0.4, 2.0, 'held'), (-3.0, -0.1, 'reversed'), (-1.0, 1.0, 'not resolved (CI includes 0)'),
    (0.0, 0.0, 'not resolved (CI includes 0)')])
def test_verdict_follows_the_interval(low, high, expected):
    assert verdict(low, high) == expected
