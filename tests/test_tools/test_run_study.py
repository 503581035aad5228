"""tools/run_study.py --quick: every stage connects, the tables are complete and sane, each verdict
is the one its interval gives, reruns skip (the --seeds stages: test_run_study_stages.py)."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

pytestmark = pytest.mark.slow  # (setup.cfg: spawns processes / runs end to end)

METHODS = ('hr', 'bicubic', 'dbpn_pretrained', 'dbpn', 'fdsr')
FIG3 = ('dbpn', 'fdsr_a0b1', 'fdsr', 'fdsr_a1b1', 'fdsr_randprior', 'fdsr_clsprior')


def run_study(out_dir):
    proc = subprocess.run([sys.executable, 'tools/run_study.py', '--quick', '--out-dir', out_dir],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope='module')
def study(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('study'))
    return out, run_study(out)


def load(path):
    from fdsr_mm.evaluation.tables import load_results
    return load_results(path)


def test_every_stage_ran_and_reported_its_time(study):
    out, log = study
    timings = json.load(open(osp.join(out, 'report', 'timings.json')))
    stages = set(timings['stages'])
    assert {'data', 'sr_pretrain', 'sr_dbpn', 'sr_fdsr', 'cascade_faster_rcnn'} <= stages
    assert all(timings['stages'][s] > 0 for s in stages) and timings['total_seconds'] > 0
    for s in stages:
        assert f'{s}: done in' in log
    report = osp.join(out, 'report')
    assert {'data_voc', 'det_ssd', 'sr_tdsr', 'cascade_ssd'} <= stages  # Table 3
    assert {'prior_random', 'prior_classifier', 'sr_fdsr_randprior', 'sr_fdsr_clsprior'} <= stages
    for name in ('table1.md', 'table1.csv', 'table2.md', 'table2.csv', 'summary.md',
                 'fig3_alpha_beta.png', 'table3.md', 'table3.csv', 'differences.md',
                 'verdicts.json'):
        assert osp.getsize(osp.join(report, name)) > 0, name
    # --quick asks for 2 Fig. 1 panels (the cascade's --show-num), not one per val image
    assert len(os.listdir(osp.join(report, 'fig1_panels'))) == 2


def test_tables_are_complete_and_hr_beats_bicubic(study):
    out, _ = study
    with open(osp.join(out, 'data', 'synthetic_coco', 'annotations', 'instances_val.json')) as f:
        areas = [a['area'] for a in json.load(f)['annotations']]
    has = dict(APS=any(a < 32**2 for a in areas), APM=any(32**2 <= a < 96**2 for a in areas),
               APL=any(a >= 96**2 for a in areas))
    for det in ('faster_rcnn', 'retinanet', 'cascade_rcnn'):
        result = load(osp.join(out, f'cascade_{det}', 'results.json'))
        methods = METHODS + (FIG3 if det == 'faster_rcnn' else ())
        assert set(methods) <= set(result['methods'])
        for m in methods:
            det_numbers = result['methods'][m]['det']
            for key in ('AP', 'AP50', 'AP75') + tuple(k for k, v in has.items() if v):
                assert det_numbers[key] is not None and 0 <= det_numbers[key] <= 100, (det, m, key)
            if m != 'hr':
                iq = result['methods'][m]['iq']
                assert 5 < iq['psnr'] < 60 and 0 < iq['fsim'] <= 1, (det, m, iq)
    # Tiny training: the numbers prove the plumbing, not the paper. What must hold is that each
    # stated verdict is the one its bootstrap interval gives, and that the summary states it.
    from fdsr_mm.evaluation.bootstrap import verdict
    from fdsr_mm.study.verdicts import verdict_text
    rows = json.load(open(osp.join(out, 'report', 'verdicts.json')))
    summary = open(osp.join(out, 'report', 'summary.md')).read()
    claims = {(r['det'], r['claim']) for r in rows}
    assert ('faster_rcnn', 'detector prior > random-init backbone prior') in claims
    assert ('faster_rcnn', 'FDSR > D-DBPN pre-trained (no fine-tune)') in claims
    for r in rows:
        assert r['low'] is not None and r['low'] <= r['diff'] <= r['high'], r
        assert r['verdict'] == verdict(r['low'], r['high']) and verdict_text(r) in summary, r
    assert '## Training seeds' in summary and 'One training seed (0)' in summary
    assert '## Scale of the two loss terms' in summary


def test_rerun_skips_and_deleting_a_stage_recomputes_only_its_dependents(study):
    out, _ = study
    shutil.rmtree(osp.join(out, 'sr_fdsr_a1b1'))
    log = run_study(out)
    ran = {ln.split('] ')[1].split(':')[0] for ln in log.splitlines() if ': done in' in ln}
    skipped = {ln.split('] ')[1].split(':')[0] for ln in log.splitlines() if 'up to date' in ln}
    assert ran == {'sr_fdsr_a1b1', 'cascade_faster_rcnn', 'report'}, log
    assert {'data', 'det_faster_rcnn', 'sr_pretrain', 'sr_fdsr', 'cascade_retinanet'} <= skipped


def test_table3_has_the_paper_rows_and_a_verdict_from_the_numbers(study):
    out, _ = study
    result = load(osp.join(out, 'cascade_ssd', 'results.json'))
    assert result['metric'] == 'voc' and result['hr_size'] == [300, 300]
    assert list(result['methods']) == ['hr', 'bicubic', 'dbpn_pretrained', 'dbpn', 'tdsr', 'fdsr']
    for m, r in result['methods'].items():
        assert r['det']['mAP'] is not None and 0 <= r['det']['mAP'] <= 100, m
        if m != 'hr':
            assert 5 < r['iq']['psnr'] < 60 and 0 < r['iq']['fsim'] <= 1, m
    rows = open(osp.join(out, 'report', 'table3.md')).read().splitlines()
    assert rows[0].startswith('| Method | PSNR | FSIM | mAP |')
    assert [r.split('|')[1].strip() for r in rows[2:8]] == list(result['methods'])
    verdicts = json.load(open(osp.join(out, 'report', 'verdicts.json')))
    t3 = next(r for r in verdicts if r['claim'] == 'FDSR > TDSR (paper: equal)')
    fdsr, tdsr = result['methods']['fdsr']['det']['mAP'], result['methods']['tdsr']['det']['mAP']
    assert t3['key'] == 'mAP' and abs(t3['diff'] - (fdsr - tdsr)) < 0.01  # table: 2 decimals
