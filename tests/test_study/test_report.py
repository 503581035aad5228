"""The study's verdicts come from the numbers: paired bootstrap CIs over the cascade's images."""
import json
import os
import os.path as osp

import numpy as np

from fdsr_mm.study.report import write_study_report
from fdsr_mm.study.verdicts import Comparison, run_comparisons, study_comparisons, verdict_text
from fdsr_mm.utils.io import dump_json
from helpers.fake_cascade_results import fake_ground_truth, write_jittered_detections

# method -> box jitter (px) and share of objects found: hr best, bicubic worst, fdsr < dbpn
QUALITY = dict(hr=(1.0, 1.0), bicubic=(14.0, 0.4), dbpn=(2.0, 0.9), fdsr=(9.0, 0.6),
               fdsr_a0b1=(9.0, 0.6))


def _cascade_run(root, num_images=40, seed=0):
    """A cascade out-dir as run_cascade writes it: results.json, methods/<m>/detections."""
    gt = fake_ground_truth(num_images, np.random.default_rng(seed))
    anns = gt['annotations']
    os.makedirs(osp.join(root, 'eval_inputs'))
    ann_file = osp.join(root, 'eval_inputs', 'ann.json')
    json.dump(gt, open(ann_file, 'w'))
    methods = {}
    for m, (jitter, found) in QUALITY.items():
        m_rng = np.random.default_rng(seed + 1)  # fdsr_a0b1 == fdsr, detection for detection
        methods[m] = write_jittered_detections(root, m, anns, m_rng, jitter, found)
    result = dict(detector=dict(name='det', config='det.py', checkpoint='det.pth'),
                  metric='coco', scale=4,
                  dataset=dict(num_images=num_images, num_evaluated=num_images,
                               evaluated_ann_file=ann_file), methods=methods, timing={})
    dump_json(result, osp.join(root, 'results.json'))
    return osp.join(root, 'results.json')


def test_verdicts_follow_the_intervals_and_a_worse_fdsr_is_reversed(tmp_path):
    files = dict(det=_cascade_run(str(tmp_path / 'run')))
    comps = study_comparisons(['det'], priors={'fdsr_clsprior': 'classifier'})
    rows = {r['claim']: r for r in run_comparisons(comps, files, num_resamples=300)}
    assert rows['HR > bicubic (the x4 problem)']['verdict'] == 'held'
    assert rows['D-DBPN fine-tune > bicubic']['verdict'] == 'held'
    fdsr = rows['FDSR > D-DBPN fine-tune (control)']
    assert fdsr['verdict'] == 'reversed' and fdsr['high'] < 0 <= -fdsr['diff']
    same = rows['mixed (a0.5 b1) > feature-only (a0 b1)']  # identical detections
    assert (same['low'], same['high'], same['verdict']) == (0.0, 0.0,
                                                           'not resolved (CI includes 0)')
    for claim in ('FDSR > D-DBPN pre-trained (no fine-tune)', 'detector prior > classifier prior'):
        assert rows[claim]['verdict'] == 'could not be checked (method not evaluated)'
    assert verdict_text(fdsr).startswith('FDSR > D-DBPN fine-tune (control): reversed (AP -')


def test_missing_per_image_records_are_reported_not_guessed(tmp_path):
    files = dict(det=_cascade_run(str(tmp_path / 'run'), num_images=8))
    os.remove(str(tmp_path / 'run' / 'methods' / 'dbpn' / 'detections.bbox.json'))
    row, = run_comparisons([Comparison('det', 'FDSR > DBPN', 'dbpn', 'fdsr')], files, 20)
    assert row['verdict'].startswith('could not be checked (no per-image records')
    assert row['diff'] is None and 'detections.bbox.json' in row['verdict']


def test_report_states_each_verdict_with_its_interval(tmp_path):
    files = dict(det=_cascade_run(str(tmp_path / 'run')))
    out = str(tmp_path / 'report')
    paths = write_study_report(out, files, {'dbpn': (0.5, 0.), 'fdsr': (0.5, 1.)},
                               num_resamples=200, extra_sections=['## Seeds\n\nnone\n'])
    rows = json.load(open(paths['verdicts']))
    summary = open(paths['summary']).read()
    for row in rows:
        assert verdict_text(row) in summary
    fdsr = next(r for r in rows if r['claim'] == 'FDSR > D-DBPN fine-tune (control)')
    assert fdsr['verdict'] == 'reversed'
    assert f'[{fdsr["low"]:+.1f}, {fdsr["high"]:+.1f}]' in open(paths['differences.md']).read()
    assert 'Paired differences' in open(paths['table2.markdown']).read()
    assert '## Seeds' in summary and osp.getsize(paths['fig3']) > 0
