"""A study is a config (issue 20, parts 2 and 5): the default spec builds exactly the graph the
hard-coded runner built, a child spec adds a variant and its claim with no code change, a faulty
spec is one line naming the file and the key, ``--dry-run`` prints every stage and command.

``tests/data/study/old_listing.json`` is the old runner's graph (every stage's name, deps,
command, params, outputs, and the report's arguments and claims), captured by
``tests/data/study/capture_listing.py`` before ``tools/run_study.py`` read a spec."""
import json
import os.path as osp

import pytest

from conftest import REPO_ROOT, load_tool
from fdsr_mm.study.dry_run import stage_listing, topological_order
from fdsr_mm.utils import run_tool

OLD = osp.join(REPO_ROOT, 'tests', 'data', 'study', 'old_listing.json')
CHILD = osp.join(REPO_ROOT, 'configs', 'study', 'examples', 'miniature_plus_variant.py')
SETTINGS = {'default': [], 'quick': ['--quick'], 'seeds2': ['--seeds', '2']}


@pytest.fixture(scope='module')
def run_study():
    return load_tool('run_study', 'run_study')


def study_of(run_study, *args):
    return run_study.build_study(run_study.parse_args(
        [*args, '--dry-run', '--out-dir', '/nonexistent/study']))


@pytest.mark.parametrize('setting', sorted(SETTINGS))
def test_default_spec_builds_the_old_graph(run_study, setting):
    with open(OLD) as f:
        old = json.load(f)[setting]
    for stage in old:  # captured before the cascades computed intervals (the report does)
        if stage['name'].startswith('cascade_'):
            stage['cmd'] += ['--reference', 'none']
        for claim in stage.get('report', {}).get('comparisons', []):  # the paper's HR - bicubic
            if (claim['det'], claim['base'], claim['method']) == ('faster_rcnn', 'bicubic', 'hr'):
                claim['paper'] = '37.7 vs 22.3'  # was left out of the old listing by mistake
    new = json.loads(json.dumps(stage_listing(study_of(run_study, *SETTINGS[setting]))))
    assert [r['name'] for r in new] == [r['name'] for r in old]  # start order too
    for before, now in zip(old, new):
        if now['name'] == 'report':  # since: what the report judges counts among its inputs
            judged = now.pop('params')
            assert before.pop('params', {}) == {}
            assert sorted(judged) == ['resamples', 'spec'] and judged['spec']['claims']
            assert judged['resamples'] == (200 if setting == 'quick' else 1000)
        assert now == before, before['name']


def test_child_spec_adds_a_variant_and_its_claim(run_study):
    study = study_of(run_study, CHILD, '--quick')
    stage = study.stages['sr_fdsr_a05b2']
    assert stage.deps == ('sr_pretrain', 'det_c4_prior')
    cmd = stage.fn(stage)
    assert cmd[2].endswith('c4prior-a0.5b1_1xb8-300i_synthetic-coco-ft.py')
    assert cmd[-1] == 'model.feature_loss.loss_weight=2'
    assert 'model.feature_loss.checkpoint=<last checkpoint of det_c4_prior>' in cmd
    cascade = study.stages['cascade_faster_rcnn']
    assert 'fdsr_a05b2' in cascade.params['methods'] and 'sr_fdsr_a05b2' in cascade.deps
    assert 'fdsr_a05b2' not in study.stages['cascade_retinanet'].params['methods']
    claims = study.report_arguments()['comparisons']
    assert claims[-1].claim == 'FDSR beta 2 > D-DBPN fine-tune (control)'
    assert (claims[-1].det, claims[-1].base, claims[-1].method) == ('faster_rcnn', 'dbpn',
                                                                  'fdsr_a05b2')
    assert len(claims) == 19  # the miniature's 18 and this one
    assert set(study_of(run_study).stages) | {'sr_fdsr_a05b2'} == set(
        study_of(run_study, CHILD).stages)


def test_dry_run_prints_the_graph_and_every_command(run_study, capsys):
    code = run_tool('run_study', lambda: run_study.main(
        [CHILD, '--quick', '--dry-run', '--out-dir', '/nonexistent/study']))
    out = capsys.readouterr().out
    assert code == 0 and not osp.exists('/nonexistent/study')
    study = study_of(run_study, CHILD, '--quick')
    order = topological_order(study)
    assert order[-1] == 'report' and len(order) == len(study.stages)
    for name in order:
        assert f'. {name}  <- ' in out
    assert out.count('tools/train.py') == sum(n.startswith(('det_', 'sr_', 'prior_c'))
                                              for n in order)
    assert out.count('tools/cascade_eval.py') == 4
    assert 'claim [faster_rcnn] FDSR beta 2 > D-DBPN fine-tune (control)' in out


BAD = {
    'claims': ("claims = {'x': dict(evaluator='faster_rcnn', a='dbpn', b='nope')}",
               'claims.x.b', "unknown method of the faster_rcnn cascade 'nope'"),
    'evaluator': ("claims = {'x': dict(evaluator='yolo', a='dbpn', b='fdsr')}",
                  'claims.x.evaluator', "unknown evaluator 'yolo'"),
    'config': ("sr_variants = dict(v=dict(config='configs/study/sr/none.py', alpha=0, beta=1, "
               "prior=None))", 'sr_variants.v.config', 'expected one config file matching'),
    'stage': ("sr_variants = dict(v=dict(config='configs/study/sr/dbpn-small_x4_a0.5b0_1xb8-300i"
              "_synthetic-coco-ft.py', alpha=0, beta=0, prior=None, start_from='sr_x'))",
              'sr_variants.v.start_from', "unknown stage 'sr_x'"),
    'key': ('evaluatorz = dict()', 'evaluatorz', 'unknown key'),
    'field': ("detectors = dict(yolo=dict(config='configs/study/detectors/ssd*.py'))",
              'detectors.yolo', 'no data'),
}


@pytest.mark.parametrize('fault', sorted(BAD))
def test_a_faulty_spec_is_one_line_naming_file_and_key(run_study, tmp_path, capsys, fault):
    body, key, what = BAD[fault]
    spec = tmp_path / 'bad.py'
    spec.write_text(f"_base_ = [{osp.join(REPO_ROOT, 'configs/study/miniature.py')!r}]\n{body}\n")
    code = run_tool('run_study', lambda: run_study.main([str(spec), '--dry-run']))
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith('run_study: error: ') and what in err and f'({spec}: {key})' in err


def test_a_missing_spec_is_one_line(run_study, tmp_path, capsys):
    code = run_tool('run_study', lambda: run_study.main([str(tmp_path / 'none.py'), '--dry-run']))
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith('run_study: error: no such study spec')


def test_a_fine_tune_of_a_fine_tune_starts_from_the_same_seed(run_study, tmp_path):
    child = tmp_path / 'chained.py'
    child.write_text(f'_base_ = [{CHILD!r}]\nsr_variants = dict(fdsr_a05b2=dict('
                     "start_from='sr_fdsr'))\n")
    study = study_of(run_study, str(child), '--seeds', '2')
    for sfx in ('', '_s1'):
        stage = study.stages[f'sr_fdsr_a05b2{sfx}']
        assert stage.deps[0] == f'sr_fdsr{sfx}'
        assert f'load_from=<last checkpoint of sr_fdsr{sfx}>' in stage.fn(stage)
    # a start that is not seeded is shared by every seed
    child.write_text(f'_base_ = [{CHILD!r}]\nsr_variants = dict(fdsr=dict(seeded=False), '
                     "fdsr_a05b2=dict(start_from='sr_fdsr'))\n")
    study = study_of(run_study, str(child), '--seeds', '2')
    assert study.stages['sr_fdsr_a05b2_s1'].deps[0] == 'sr_fdsr'


def test_cascades_wait_for_each_other_only_on_the_same_data(run_study):
    study = study_of(run_study, '--seeds', '2')
    running = {'cascade_faster_rcnn': None}
    assert not study._may_start('cascade_retinanet', running)  # same images: the SR cache
    assert not study._may_start('cascade_retinanet_s1', running)
    assert study._may_start('cascade_ssd', running)  # VOC-format data: side by side
    assert study._may_start('sr_fdsr', running)
    assert not study._may_start('cascade_ssd', {'cascade_ssd_s1': None})
    assert not study._may_start('cascade_ssd', {'cascade_faster_rcnn': None, 'sr_dbpn': None})
