"""The report with the study's controls (issue 21): ``lr_native`` (no image quality: empty IQ
cells)."""
import json
import os
import os.path as osp

import numpy as np

from fdsr_mm.study.report import write_study_report
from fdsr_mm.study.verdicts import Comparison
from fdsr_mm.utils.io import dump_json
from helpers.fake_cascade_results import fake_ground_truth, write_jittered_detections

#: method -> (box jitter px, share found)
QUALITY = dict(hr=(1.0, 1.0), bicubic=(6.0, 0.7), lr_native=(14.0, 0.4), fdsr=(3.0, 0.85))


def cascade_run(root: str, ann_file: str, anns: list, methods, name='det', seed=0) -> str:
    """A cascade out-dir as run_cascade writes it (results.json, methods/<m>/detections) with
    ``methods`` of :data:`QUALITY`, scored on the ground truth ``ann_file``."""
    entries = {m: write_jittered_detections(root, m, anns, np.random.default_rng(seed + i),
                                            *QUALITY[m]) for i, m in enumerate(methods)}
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
