"""With --seeds N the study's verdicts on seeded methods come from the interval over training
seeds and test images, every report states what each interval covers, and each verdict has its
Holm-adjusted twin over the report's family of claims."""
import json
import os
import os.path as osp

import numpy as np

from fdsr_mm.study.report import _by_detector, write_study_report
from fdsr_mm.study.verdicts import Comparison, run_comparisons, verdict_text
from fdsr_mm.utils.io import dump_json
from helpers.fake_cascade_results import fake_ground_truth, write_jittered_detections

#: method -> (box jitter px, share found) per training seed; hr/bicubic have no training seeds
QUALITY = dict(hr=[(1.0, 1.0)], bicubic=[(14.0, 0.4)],
               dbpn=[(4.0, 0.8), (4.5, 0.8), (3.5, 0.8)],
               fdsr=[(3.0, 0.85), (6.0, 0.8), (2.0, 0.85)])


def _runs(root, num_images=30):
    """Seed 0's cascade run (all methods) and seed k's (``<m>_s<k>`` of the seeded methods), as
    run_cascade writes them, on one generated ground truth."""
    gt = fake_ground_truth(num_images, np.random.default_rng(0))
    anns = gt['annotations']
    os.makedirs(root)
    ann_file = osp.join(root, 'ann.json')
    json.dump(gt, open(ann_file, 'w'))
    files = []
    for k in range(3):
        run, methods = osp.join(root, f'run_s{k}'), {}
        for m, per_seed in QUALITY.items():
            if k and len(per_seed) == 1:
                continue
            name, (jitter, found) = m + (f'_s{k}' if k else ''), per_seed[k % len(per_seed)]
            m_rng = np.random.default_rng(100 * k + len(m))
            methods[name] = write_jittered_detections(run, name, anns, m_rng, jitter, found)
        dump_json(dict(detector=dict(name='det', config='det.py', checkpoint='det.pth'),
                       metric='coco', scale=4,
                       dataset=dict(num_images=num_images, num_evaluated=num_images,
                                    evaluated_ann_file=ann_file),
                       methods=methods, timing={}), osp.join(run, 'results.json'))
        files.append(osp.join(run, 'results.json'))
    return files


COMPS = [Comparison('det', 'HR > bicubic', 'bicubic', 'hr'),
         Comparison('det', 'DBPN > bicubic', 'bicubic', 'dbpn'),
         Comparison('det', 'FDSR > DBPN', 'dbpn', 'fdsr'),
         Comparison('det', 'TDSR > DBPN', 'dbpn', 'tdsr')]


def test_seeded_claims_use_the_interval_over_seeds_and_images(tmp_path):
    files = _runs(str(tmp_path / 'study'))
    rows = {r['claim']: r for r in run_comparisons(COMPS, dict(det=files[0]), 150,
                                                   seeded_files=dict(det=files))}
    assert rows['HR > bicubic']['covers'] == 'test images'
    assert rows['HR > bicubic']['num_seeds'] == 1
    for claim in ('DBPN > bicubic', 'FDSR > DBPN'):
        assert rows[claim]['covers'] == 'training seeds and test images', claim
        assert rows[claim]['num_seeds'] == 3
        assert '3 training seeds x 30 test images' in verdict_text(rows[claim])
    # without the seeded runs the same claim is judged on seed 0's images only
    plain = {r['claim']: r for r in run_comparisons(COMPS, dict(det=files[0]), 150)}
    fdsr, fdsr0 = rows['FDSR > DBPN'], plain['FDSR > DBPN']
    assert fdsr0['covers'] == 'test images' and fdsr0['verdict'] == 'held'
    assert fdsr['high'] - fdsr['low'] > fdsr0['high'] - fdsr0['low']
    # the family: the three claims that could be tested; Holm's verdict beside each raw one
    assert {r['family_size'] for r in rows.values()} == {3}
    tdsr = rows['TDSR > DBPN']
    assert tdsr['verdict'].startswith('could not be checked') and tdsr['p_holm'] is None
    hr = rows['HR > bicubic']
    assert hr['verdict'] == hr['verdict_holm'] == 'held' and hr['p_holm'] >= hr['p_value']
    assert 'Holm, family of 3: held' in verdict_text(hr)


def test_report_states_family_method_and_coverage(tmp_path):
    files = _runs(str(tmp_path / 'study'))
    seeded = {'det': files}
    paths = write_study_report(str(tmp_path / 'report'), dict(det=files[0]),
                               {'dbpn': (0.5, 0.), 'fdsr': (0.5, 1.)}, num_resamples=120,
                               seeded_files=seeded)
    rows = json.load(open(paths['verdicts']))
    summary = open(paths['summary']).read()
    m = rows[0]['family_size']
    assert m == sum(r['p_value'] is not None for r in rows) >= 3
    assert f'Holm-Bonferroni over the family of {m} claims' in summary
    assert 'training seeds and test images' in summary
    for r in rows:
        assert verdict_text(r) in summary
        assert {'covers', 'p_value', 'p_holm', 'verdict_holm', 'family_size', 'adjustment'} <= set(r)
    table = open(paths['differences.md']).read()
    assert f'| Adjusted (Holm, family of {m} claims) |' in table
    assert '| Interval covers |' in table and '3 training seeds x 30 test images' in table
    assert 'Adjusted (Holm):' in summary


def test_seeded_lists_follow_their_detector_by_seed_zero_file(tmp_path):
    voc = str(tmp_path / 'cascade_ssd' / 'results.json')
    out = _by_detector({'ssd': [voc, 'b'], 'det': ['x']}, {'ssd300_voc': voc, 'det': 'x'})
    assert out == {'ssd300_voc': [voc, 'b'], 'det': ['x']}
