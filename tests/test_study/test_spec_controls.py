"""The study's controls from a spec (issue 21, study integration), as dry runs: ``lr_native`` as a
built-in method of an evaluator."""
import os.path as osp

import pytest

from conftest import REPO_ROOT, load_tool
from fdsr_mm.study.dry_run import stage_command
from fdsr_mm.utils import run_tool

MINIATURE = osp.join(REPO_ROOT, 'configs', 'study', 'miniature.py')
LR_NATIVE = """
evaluators = dict(retinanet=dict(methods=['hr', 'bicubic', 'lr_native', 'dbpn_pretrained', 'dbpn',
                                          'fdsr']))
claims = {'retinanet:bicubic>lr_native': dict(evaluator='retinanet', a='lr_native', b='bicubic',
                                              text='bicubic > the LR image itself')}
"""


@pytest.fixture(scope='module')
def run_study():
    return load_tool('run_study', 'run_study')


def child_spec(tmp_path, body: str, name: str = 'child.py') -> str:
    spec = tmp_path / name
    spec.write_text(f'_base_ = [{MINIATURE!r}]\n{body}\n')
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
