"""The benchmark spec (configs/study/benchmark.py) as a dry run: joint fine-tunes (SR4IR) whose
detector is an evaluator, detector priors with their own detector's config, config globs
resolved to one file, and the transfer matrix's checks."""
import os.path as osp

import pytest

from conftest import REPO_ROOT, load_tool
from fdsr_mm.study.dry_run import stage_command
from fdsr_mm.utils import run_tool

BENCHMARK = osp.join(REPO_ROOT, 'configs', 'study', 'benchmark.py')
FRCNN = 'configs/study/detectors/faster-rcnn_r18-c16-fpn_1xb4-1000i_synthetic-coco.py'
RETINA = 'configs/study/detectors/retinanet_r18-c16-fpn_1xb4-2000i_synthetic-coco.py'


@pytest.fixture(scope='module')
def run_study():
    return load_tool('run_study', 'run_study')


@pytest.fixture(scope='module')
def study(run_study):
    return run_study.build_study(run_study.parse_args(
        [BENCHMARK, '--dry-run', '--out-dir', '/nonexistent/bench']))


def options(cmd):
    return cmd[cmd.index('--cfg-options') + 1:]


def test_the_joint_fine_tune_starts_from_the_pretrained_sr_and_the_trained_detector(study):
    stage = study.stages['sr_sr4ir']
    assert set(stage.deps) == {'sr_pretrain', 'det_faster_rcnn', 'data'}
    cmd = stage_command(study, 'sr_sr4ir')
    assert cmd[2] == 'configs/study/sr/sr4ir_dbpn-small_x4_frcnn_1xb4-300i_synthetic-coco-ft.py'
    opts = options(cmd)
    assert 'load_from=<last checkpoint of sr_pretrain>' in opts
    assert f'model.detector.config={FRCNN}' in opts
    assert 'model.detector.checkpoint=<last checkpoint of det_faster_rcnn>' in opts
    assert any(o.startswith('train_dataloader.dataset.det_dataset.data_root=') for o in opts)


def test_the_pair_is_an_evaluator_with_the_joint_checkpoint(study):
    assert 'det_sr4ir' not in study.stages
    stage = study.stages['cascade_sr4ir']
    assert 'sr_sr4ir' in stage.deps and len(stage.deps) == len(set(stage.deps))
    cmd = stage_command(study, 'cascade_sr4ir')
    assert cmd[2:4] == [FRCNN, '<last checkpoint of sr_sr4ir>']
    assert any(m.startswith('sr4ir=configs/study/sr/sr4ir_') and
               m.endswith(':<last checkpoint of sr_sr4ir>') for m in cmd)
    # SR4IR's SR through the other detectors too
    assert 'sr4ir' in study.stages['cascade_retinanet'].params['methods']


def test_detector_priors_use_their_own_detectors_config(study):
    for stage, config, det in (('sr_fdsr_retina', RETINA, 'retinanet'),
                               ('sr_fdsr_frcnn', FRCNN, 'faster_rcnn')):
        opts = options(stage_command(study, stage))
        assert f'model.feature_loss.detector_config={config}' in opts
        assert f'model.feature_loss.checkpoint=<last checkpoint of det_{det}>' in opts
    c4 = options(stage_command(study, 'sr_fdsr'))
    assert any(o.endswith('faster-rcnn_r18-c16-c4_1xb4-1000i_synthetic-coco.py') for o in c4)


def test_task_fine_tune_globs_name_one_file(study):
    cmd = stage_command(study, 'sr_tdsr_retina')
    assert cmd[2] == ('configs/study/sr/'
                      'tdsr_dbpn-small_x4_retinanet-a1g0.1_1xb4-300i_synthetic-coco-ft.py')
    assert f'model.task_loss.detector_config={RETINA}' in options(cmd)


def test_the_adapted_detector_claim_pairs_two_evaluators(study):
    claims = {c.claim: c for c in study.report_arguments()['comparisons']}
    c = claims['FDSR > the detector adapted to LR (bicubic input)']
    assert (c.det, c.base, c.det_b, c.method) == ('faster_rcnn_lr', 'bicubic', 'faster_rcnn',
                                                  'fdsr')


@pytest.mark.parametrize('body, key', [
    ("joint_finetunes = dict(retinanet=dict(config='configs/study/sr/sr4ir_*.py', "
     "detector='faster_rcnn'))", 'joint_finetunes.retinanet'),
    ("joint_finetunes = dict(sr4ir=dict(config='configs/study/sr/sr4ir_*.py', "
     "detector='nope'))", 'joint_finetunes.sr4ir.detector'),
    ("report = dict(transfer=dict(rows=dict(_delete_=True, tdsr_frcnn=('TDSR', 'faster_rcnn')), "
     "evaluators=['faster_rcnn_lr']))", 'report.transfer.rows.tdsr_frcnn'),
])
def test_spec_faults_name_the_key(run_study, tmp_path, capsys, body, key):
    spec = tmp_path / 'child.py'
    spec.write_text(f'_base_ = [{BENCHMARK!r}]\n{body}\n')
    code = run_tool('run_study', lambda: run_study.main([str(spec), '--dry-run']))
    err = capsys.readouterr().err.strip()
    assert code == 2 and f': {key}): ' in err, err


def test_loses_less_claims_name_their_reference_run(study):
    claims = {c.det_ref: c for c in study.report_arguments()['comparisons'] if c.det_ref}
    assert (claims['faster_rcnn'].det, claims['faster_rcnn'].base,
            claims['faster_rcnn'].method) == ('retinanet', 'tdsr_frcnn', 'fdsr_frcnn')
    assert claims['retinanet'].det == 'faster_rcnn'


def test_a_claim_takes_evaluator_b_or_relative_to(run_study, tmp_path, capsys):
    spec = tmp_path / 'child.py'
    spec.write_text(f'_base_ = [{BENCHMARK!r}]\nclaims = {{"x": dict(evaluator="retinanet", '
                    'a="tdsr_frcnn", b="fdsr_frcnn", evaluator_b="faster_rcnn", '
                    'relative_to="faster_rcnn")}\n')
    code = run_tool('run_study', lambda: run_study.main([str(spec), '--dry-run']))
    err = capsys.readouterr().err.strip()
    assert code == 2 and ': claims.x.relative_to): ' in err and 'evaluator_b or relative_to' in err


def test_a_changed_claim_makes_the_report_rerun(run_study, study, tmp_path):
    spec = tmp_path / 'child.py'
    spec.write_text(f'_base_ = [{BENCHMARK!r}]\nclaims = {{"x": dict(evaluator="retinanet", '
                    'a="bicubic", b="fdsr")}\n')
    child = run_study.build_study(run_study.parse_args(
        [str(spec), '--dry-run', '--out-dir', '/nonexistent/bench']))
    before, after = study.stages['report'], child.stages['report']
    assert 'x' in after.params['spec']['claims'] and before.params != after.params
    assert child.stages['cascade_retinanet'].params == study.stages['cascade_retinanet'].params
