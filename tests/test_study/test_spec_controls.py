"""The study's controls from a spec (issue 21, study integration), as dry runs: ``lr_native`` as a
built-in method of an evaluator, a detector trained from another detector's weights
(``start_from``), claims across two evaluators of the same images (``evaluator_b``)."""
import os.path as osp

import pytest

from conftest import REPO_ROOT, load_tool
from fdsr_mm.study.dry_run import stage_command, topological_order
from fdsr_mm.utils import run_tool

MINIATURE = osp.join(REPO_ROOT, 'configs', 'study', 'miniature.py')
CONTROLS = osp.join(REPO_ROOT, 'configs', 'study', 'examples', 'miniature_lr_controls.py')
LR_NATIVE = """
evaluators = dict(retinanet=dict(methods=['hr', 'bicubic', 'lr_native', 'dbpn_pretrained', 'dbpn',
                                          'fdsr']))
claims = {'retinanet:bicubic>lr_native': dict(evaluator='retinanet', a='lr_native', b='bicubic',
                                              text='bicubic > the LR image itself')}
"""


@pytest.fixture(scope='module')
def run_study():
    return load_tool('run_study', 'run_study')


def child_spec(tmp_path, body: str, base: str = MINIATURE) -> str:
    spec = tmp_path / 'child.py'
    spec.write_text(f'_base_ = [{base!r}]\n{body}\n')
    return str(spec)


def study_of(run_study, spec: str, *args):
    return run_study.build_study(run_study.parse_args(
        [spec, *args, '--dry-run', '--out-dir', '/nonexistent/study']))


def spec_error(run_study, spec: str, capsys) -> str:
    """The one line a faulty spec fails with."""
    code = run_tool('run_study', lambda: run_study.main([spec, '--dry-run']))
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    return err


def test_lr_native_is_a_fixed_method_of_an_evaluator(run_study, tmp_path):
    study = study_of(run_study, child_spec(tmp_path, LR_NATIVE), '--seeds', '2')
    stage = study.stages['cascade_retinanet']
    assert 'lr_native' in stage.params['methods']
    assert 'sr_lr_native' not in study.stages and not any('lr_native' in d for d in stage.deps)
    cmd = stage_command(study, 'cascade_retinanet')
    methods = cmd[cmd.index('--methods') + 1:cmd.index('--out-dir')]
    assert methods[:3] == ['hr', 'bicubic', 'lr_native']
    # not trained, so not repeated with the seeds
    assert 'lr_native_s1' not in study.stages['cascade_retinanet_s1'].params['methods']
    claim = next(c for c in study.report_arguments()['comparisons']
                 if c.claim == 'bicubic > the LR image itself')
    assert (claim.det, claim.base, claim.method) == ('retinanet', 'lr_native', 'bicubic')


def test_a_seeded_built_in_method_is_refused(run_study, tmp_path, capsys):
    spec = child_spec(tmp_path, "evaluators = dict(retinanet=dict(methods=['hr', 'lr_native'], "
                                "seeded=['lr_native']))")
    err = spec_error(run_study, spec, capsys)
    assert f'({spec}: evaluators.retinanet.seeded)' in err
    assert "unknown fine-tune 'lr_native'" in err


def test_a_detector_starts_from_another_detectors_last_checkpoint(run_study):
    study = study_of(run_study, CONTROLS, '--quick')
    stage = study.stages['det_faster_rcnn_lr']
    assert stage.deps == ('data', 'det_faster_rcnn')
    cmd = stage_command(study, 'det_faster_rcnn_lr')
    assert cmd[2].endswith('lr_adapted/faster-rcnn_r18-c16-fpn_1xb4-300i_synthetic-coco-lr-'
                           'adapted.py')
    assert cmd[-1] == 'load_from=<last checkpoint of det_faster_rcnn>'
    assert 'train_cfg.max_iters=20' in cmd and 'randomness.seed=0' in cmd
    assert any(a.startswith('train_dataloader.dataset.data_root=') for a in cmd)
    order = topological_order(study)
    assert order.index('det_faster_rcnn') < order.index('det_faster_rcnn_lr')
    # it is an evaluator like any other: its cascade runs its own last checkpoint
    cascade = study.stages['cascade_faster_rcnn_lr']
    assert 'det_faster_rcnn_lr' in cascade.deps
    assert stage_command(study, 'cascade_faster_rcnn_lr')[3] == (
        '<last checkpoint of det_faster_rcnn_lr>')


def test_a_detector_starts_from_given_weights(run_study, tmp_path):
    spec = child_spec(tmp_path, """
detectors = dict(zoo=dict(config='configs/study/detectors/faster-rcnn_*-fpn_*.py', data='data',
                          checkpoint='/given/zoo.pth'),
                 faster_rcnn_lr=dict(start_from='zoo'))""", base=CONTROLS)
    study = study_of(run_study, spec)
    stage = study.stages['det_faster_rcnn_lr']
    assert stage.deps == ('data', ) and stage.reads == ['/given/zoo.pth']
    assert stage.fn(stage)[-1] == 'load_from=/given/zoo.pth'


BAD_START = {
    'unknown': ("detectors = dict(faster_rcnn_lr=dict(start_from='yolo'))",
                'faster_rcnn_lr', "unknown detector 'yolo'"),
    'itself': ("detectors = dict(faster_rcnn_lr=dict(start_from='faster_rcnn_lr'))",
               'faster_rcnn_lr', "detector 'faster_rcnn_lr' starts from itself"),
    'cycle': ("detectors = dict(faster_rcnn=dict(start_from='faster_rcnn_lr'))",
              'faster_rcnn', 'start_from cycle faster_rcnn -> faster_rcnn_lr -> faster_rcnn'),
    'given': ("detectors = dict(faster_rcnn_lr=dict(checkpoint='/given/x.pth'))",
              'faster_rcnn_lr', 'a detector with given weights (checkpoint) is not trained'),
}


@pytest.mark.parametrize('fault', sorted(BAD_START))
def test_a_bad_start_from_is_one_line_naming_the_key(run_study, tmp_path, capsys, fault):
    body, det, what = BAD_START[fault]
    spec = child_spec(tmp_path, body, base=CONTROLS)
    err = spec_error(run_study, spec, capsys)
    assert what in err and f'({spec}: detectors.{det}.start_from)' in err, err


def test_a_claim_across_two_evaluators_names_both(run_study, capsys):
    study = study_of(run_study, CONTROLS)
    claims = {c.claim: c for c in study.report_arguments()['comparisons']}
    cross = claims['FDSR through the plain detector > bicubic through the LR-adapted one']
    assert (cross.det, cross.base, cross.det_b, cross.method) == (
        'faster_rcnn_lr', 'bicubic', 'faster_rcnn', 'fdsr')
    assert cross.method_det == 'faster_rcnn'
    same = claims['FDSR > bicubic (LR-adapted detector)']
    assert same.det_b is None and same.method_det == 'faster_rcnn_lr'
    code = run_tool('run_study', lambda: run_study.main([CONTROLS, '--dry-run', '--out-dir',
                                                        '/nonexistent/study']))
    assert code == 0
    assert ('claim [faster_rcnn_lr / faster_rcnn] FDSR through the plain detector > bicubic '
            'through the LR-adapted one: fdsr > bicubic on AP') in capsys.readouterr().out


BAD_CLAIM = {
    'evaluator_b': ("a='bicubic', evaluator_b='yolo', b='fdsr'", 'evaluator_b',
                    "unknown evaluator 'yolo'"),
    'other data': ("a='bicubic', evaluator_b='ssd', b='fdsr'", 'evaluator_b',
                   "ssd evaluates data 'data_voc', faster_rcnn_lr 'data'"),
    'not run by b': ("a='bicubic', evaluator_b='faster_rcnn', b='fdsr_a0b1x'", 'b',
                     "unknown method of the faster_rcnn cascade 'fdsr_a0b1x'"),
    'not run by a': ("a='dbpn', evaluator_b='faster_rcnn', b='fdsr'", 'a',
                     "unknown method of the faster_rcnn_lr cascade 'dbpn'"),
}


@pytest.mark.parametrize('fault', sorted(BAD_CLAIM))
def test_a_bad_claim_across_evaluators_is_one_line_naming_the_key(run_study, tmp_path, capsys,
                                                                  fault):
    fields, key, what = BAD_CLAIM[fault]
    spec = child_spec(tmp_path, f"claims = {{'x': dict(evaluator='faster_rcnn_lr', {fields})}}",
                      base=CONTROLS)
    err = spec_error(run_study, spec, capsys)
    assert what in err and f'({spec}: claims.x.{key})' in err, err
