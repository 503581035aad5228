"""The report with the study's controls (issue 21): ``lr_native`` (no image quality: empty IQ
cells), claims across two detectors' runs on the same images (B's records from the other run)."""
import json
import os
import os.path as osp

import numpy as np

from fdsr_mm.evaluation.bootstrap import evaluate_per_image, paired_bootstrap
from fdsr_mm.evaluation.hierarchical_bootstrap import hierarchical_bootstrap
from fdsr_mm.study.report import write_study_report
from fdsr_mm.study.verdicts import Comparison, run_comparisons
from fdsr_mm.utils.io import dump_json
from helpers.fake_cascade_results import fake_ground_truth, write_jittered_detections

#: method -> (box jitter px, share found)
QUALITY = dict(hr=(1.0, 1.0), bicubic=(6.0, 0.7), lr_native=(14.0, 0.4), fdsr=(3.0, 0.85))


def cascade_run(root: str, ann_file: str, anns: list, methods, name='det', seed=0) -> str:
    """A cascade out-dir as run_cascade writes it (results.json, methods/<m>/detections) with
    ``methods`` of :data:`QUALITY` (``<m>_s<k>``: seed k's run of ``m``), scored on the ground
    truth ``ann_file``."""
    entries = {m: write_jittered_detections(root, m, anns, np.random.default_rng(seed + i),
                                            *QUALITY[m.split('_s')[0]])
               for i, m in enumerate(methods)}
    num = len({a['image_id'] for a in anns})
    dump_json(dict(detector=dict(name=name, config=f'{name}.py', checkpoint=f'{name}.pth'),
                   metric='coco', scale=4, dataset=dict(num_images=num, num_evaluated=num,
                                                        evaluated_ann_file=ann_file),
                   methods=entries, timing={}), osp.join(root, 'results.json'))
    return osp.join(root, 'results.json')


def ground_truth(root: str, num_images: int = 30, seed: int = 0) -> tuple:
    """(annotation file, annotations) of a generated COCO ground truth under ``root``."""
    gt = fake_ground_truth(num_images, np.random.default_rng(seed))
    os.makedirs(root, exist_ok=True)
    ann_file = osp.join(root, f'ann_{seed}.json')
    json.dump(gt, open(ann_file, 'w'))
    return ann_file, gt['annotations']


def test_report_shows_lr_native_with_empty_image_quality_cells(tmp_path):
    ann_file, anns = ground_truth(str(tmp_path))
    files = dict(det=cascade_run(str(tmp_path / 'run'), ann_file, anns, list(QUALITY)))
    paths = write_study_report(
        str(tmp_path / 'report'), files, {}, num_resamples=100,
        table_methods=('hr', 'bicubic', 'lr_native', 'fdsr'),
        comparisons=[Comparison('det', 'bicubic > the LR image itself', 'lr_native', 'bicubic')])
    table1 = open(paths['table1.md']).read().splitlines()
    assert table1[0] == '| Method | hr | bicubic | lr_native | fdsr |'
    psnr = next(line for line in table1 if line.startswith('| PSNR |'))
    assert psnr == '| PSNR | - | 25.00 | - | 25.00 |'
    assert '| det | AP | 0.0 | 0.0 | 0.0 | 0.0 |' in open(paths['table2.markdown']).read()
    row, = json.load(open(paths['verdicts']))
    assert row['verdict'] == 'held' and row['low'] > 0
    assert 'bicubic > the LR image itself: held' in open(paths['summary']).read()


def records(run_file: str, method: str):
    """The per-image records of ``method`` in a cascade run, computed here by hand."""
    result = json.load(open(run_file))
    return evaluate_per_image(result['dataset']['evaluated_ann_file'], osp.join(
        osp.dirname(run_file), 'methods', method, 'detections.bbox.json'))


def two_detectors(root: str, num_images_b: int = 30) -> dict:
    """Runs of two detectors on one image set: ``det_lr`` (bicubic, lr_native), ``det`` (fdsr);
    ``num_images_b`` < 30: ``det`` scored other images."""
    ann_file, anns = ground_truth(root)
    ann_b, anns_b = (ann_file, anns) if num_images_b == 30 else ground_truth(root, num_images_b, 1)
    return dict(det_lr=cascade_run(osp.join(root, 'lr'), ann_file, anns, ['bicubic', 'lr_native'],
                                   'det_lr'),
                det=cascade_run(osp.join(root, 'plain'), ann_b, anns_b, ['fdsr'], 'det', 7))


CROSS = Comparison('det_lr', 'FDSR (plain) > bicubic (adapted)', 'bicubic', 'fdsr', det_b='det')


def test_a_claim_across_detectors_is_the_bootstrap_of_both_runs_records(tmp_path):
    files = two_detectors(str(tmp_path))
    row, = run_comparisons([CROSS], files, num_resamples=150, seed=3)
    ev_a, ev_b = records(files['det_lr'], 'bicubic'), records(files['det'], 'fdsr')
    by_hand = paired_bootstrap(ev_a, ev_b, 'AP', 150, 3)
    assert by_hand == {k: v for k, v in hierarchical_bootstrap([ev_a], [ev_b], 'AP', 150, 3).items()
                       if k in by_hand}
    for k in ('diff', 'low', 'high', 'num_resamples', 'num_images', 'verdict', 'p_value'):
        assert row[k] == by_hand[k], k
    assert (row['det'], row['det_b'], row['covers']) == ('det_lr', 'det', 'test images')
    # the same methods on one run only: the other run's records are not used
    plain, = run_comparisons([Comparison('det_lr', 'x', 'bicubic', 'fdsr')], files, 150, 3)
    assert plain['verdict'] == 'could not be checked (method not evaluated)'


def test_seeded_b_across_detectors_uses_its_own_runs_seeds(tmp_path):
    files = two_detectors(str(tmp_path))
    ann_file = json.load(open(files['det']))['dataset']['evaluated_ann_file']
    anns = json.load(open(ann_file))['annotations']
    seeded = [files['det']] + [
        cascade_run(str(tmp_path / f'plain_s{k}'), ann_file, anns, [f'fdsr_s{k}'], 'det', 7 + k)
        for k in (1, 2)]
    row, = run_comparisons([CROSS], files, 120, 5, seeded_files=dict(det=seeded))
    evs_b = [records(seeded[0], 'fdsr')] + [records(seeded[k], f'fdsr_s{k}') for k in (1, 2)]
    by_hand = hierarchical_bootstrap([records(files['det_lr'], 'bicubic')], evs_b, 'AP', 120, 5)
    assert row['num_seeds'] == 3 and row['covers'] == 'training seeds and test images'
    for k in ('diff', 'low', 'high', 'verdict', 'p_value'):
        assert row[k] == by_hand[k], k


def test_runs_on_other_images_are_not_paired(tmp_path):
    files = two_detectors(str(tmp_path), num_images_b=20)
    row, = run_comparisons([CROSS], files, 50)
    assert row['diff'] is None and row['p_value'] is None
    assert row['verdict'] == ('could not be checked (det_lr and det scored different images: 30 '
                              'and 20, 20 in common)')


def test_report_names_both_detectors_of_a_claim_across_them(tmp_path):
    files = two_detectors(str(tmp_path))
    paths = write_study_report(str(tmp_path / 'report'), files, {}, num_resamples=80,
                               comparisons=[CROSS])
    table = open(paths['differences.md']).read()
    assert '| det_lr / det | FDSR (plain) > bicubic (adapted) | AP |' in table
    row, = json.load(open(paths['verdicts']))
    assert 'FDSR (plain) > bicubic (adapted): ' + row['verdict'] in open(paths['summary']).read()


def test_a_loses_less_claim_is_the_difference_in_differences_of_two_runs(tmp_path):
    """relative_to: [fdsr - bicubic] on det_off minus the same on det_ref, one draw for all."""
    ann_file, anns = ground_truth(str(tmp_path))
    files = dict(det_ref=cascade_run(str(tmp_path / 'ref'), ann_file, anns, ['bicubic', 'fdsr'],
                                     'det_ref', 0),
                 det_off=cascade_run(str(tmp_path / 'off'), ann_file, anns, ['bicubic', 'fdsr'],
                                     'det_off', 9))
    claim = Comparison('det_off', 'fdsr loses less', 'bicubic', 'fdsr', det_ref='det_ref')
    row, = run_comparisons([claim], files, num_resamples=120, seed=2)
    by_hand = hierarchical_bootstrap(
        [records(files['det_off'], 'bicubic')], [records(files['det_off'], 'fdsr')], 'AP', 120, 2,
        ref=([records(files['det_ref'], 'bicubic')], [records(files['det_ref'], 'fdsr')]))
    for k in ('diff', 'low', 'high', 'verdict', 'p_value'):
        assert row[k] == by_hand[k], k
    assert row['det_ref'] == 'det_ref'
    # a reference run without one of the methods: not checked, never a silent plain claim
    files['det_ref'] = cascade_run(str(tmp_path / 'ref2'), ann_file, anns, ['bicubic'], 'det_ref')
    row, = run_comparisons([claim], files, num_resamples=50, seed=2)
    assert row['verdict'] == 'could not be checked (method not evaluated)'
