"""VOC per-image records: mmdet VOCMetric's mAP on every image multiset; paired bootstrap on it."""
import pickle

import numpy as np
import pytest
import torch
from mmdet.evaluation.functional import eval_map

from fdsr_mm.evaluation.bootstrap import paired_bootstrap
from fdsr_mm.evaluation.voc_per_image import DumpVOCPerImage, evaluate_voc_per_image

CLASSES = ('a', 'b', 'c')


def _samples(rng, num_images=15, noise=4.0):
    """mmdet data samples (as VOCMetric.process gets them) with GT, ignored GT and detections."""
    samples = []
    for i in range(num_images):
        n = int(rng.integers(1, 4))
        xy = rng.uniform(0, 150, (n, 2))
        wh = rng.choice([12., 40., 90.], (n, 1))
        gt = np.hstack([xy, xy + wh]).astype(np.float32)
        labels = rng.integers(0, 2, n)  # class 'c' never has GT: excluded from mAP
        keep = rng.uniform(size=n) < 0.8
        det = (gt[keep] + rng.normal(0, noise, (int(keep.sum()), 4))).astype(np.float32)
        det = np.vstack([det, np.array([[5, 5, 40, 40]], np.float32)])  # a false positive
        det_labels = np.concatenate([labels[keep], rng.integers(0, 3, 1)])
        scores = rng.uniform(0.05, 1, len(det)).round(2).astype(np.float32)  # ties on purpose
        samples.append(dict(
            img_id=f'{i:06d}',
            gt_instances=dict(bboxes=torch.from_numpy(gt), labels=torch.from_numpy(labels)),
            ignored_instances=dict(bboxes=torch.zeros(0, 4), labels=torch.zeros(0).long()),
            pred_instances=dict(bboxes=torch.from_numpy(det), scores=torch.from_numpy(scores),
                                labels=torch.from_numpy(det_labels))))
    return samples


def _dump(tmp_path, name, samples, eval_mode='11points', iou_thrs=0.5):
    metric = DumpVOCPerImage(out_file=str(tmp_path / f'{name}.pkl'), eval_mode=eval_mode,
                             iou_thrs=iou_thrs)
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, samples[:7])
    metric.process({}, samples[7:])
    assert metric.compute_metrics(metric.results) == {}
    return metric.out_file


def _mmdet_map(dump_file, indices=None):
    with open(dump_file, 'rb') as f:
        payload = pickle.load(f)
    gts, dets = zip(*payload['results'])
    idx = range(len(gts)) if indices is None else sorted(indices)
    maps = [eval_map([dets[i] for i in idx], [gts[i] for i in idx], iou_thr=thr, dataset='voc',
                     eval_mode=payload['eval_mode'], use_legacy_coordinate=True, nproc=1,
                     logger='silent')[0]
            for thr in payload['iou_thrs']]
    return 100 * float(np.mean(maps))


@pytest.mark.parametrize('eval_mode,iou_thrs', [('11points', 0.5), ('area', [0.5, 0.75])])
def test_voc_records_give_vocmetric_map_on_all_images_and_on_a_resample(
        tmp_path, eval_mode, iou_thrs):
    dump = _dump(tmp_path, 'a', _samples(np.random.default_rng(0)), eval_mode, iou_thrs)
    with open(dump, 'rb') as f:
        assert pickle.load(f)['img_ids'] == [f'{i:06d}' for i in range(15)]
    ev = evaluate_voc_per_image(dump)
    full = ev.score()
    assert 5 < full < 100
    assert full == pytest.approx(_mmdet_map(dump), abs=1e-9)
    draw = np.random.default_rng(3).integers(0, 15, 15)  # with repeats
    assert len(set(draw)) < 15
    assert ev.score(draw) == pytest.approx(_mmdet_map(dump, draw), abs=1e-9)
    with pytest.raises(KeyError, match='mAP only'):
        ev.score(None, 'AP50')


def test_voc_paired_bootstrap_identical_is_zero_and_a_worse_method_is_reversed(tmp_path):
    rng = np.random.default_rng(1)
    good = _samples(np.random.default_rng(5), num_images=30, noise=1.0)
    bad = _samples(np.random.default_rng(5), num_images=30, noise=1.0)
    for s in bad:  # the same images, detections shifted off their objects
        s['pred_instances']['bboxes'] = s['pred_instances']['bboxes'] + 25.
    ev_good = evaluate_voc_per_image(_dump(tmp_path, 'good', good))
    ev_bad = evaluate_voc_per_image(_dump(tmp_path, 'bad', bad))
    same = paired_bootstrap(ev_good, ev_good, 'mAP', num_resamples=50, seed=int(rng.integers(9)))
    assert (same['diff'], same['low'], same['high']) == (0.0, 0.0, 0.0)
    worse = paired_bootstrap(ev_good, ev_bad, 'mAP', num_resamples=200)
    assert worse['diff'] < 0 and worse['high'] < 0 and worse['verdict'] == 'reversed'
    assert worse['low'] <= worse['diff'] <= worse['high']
