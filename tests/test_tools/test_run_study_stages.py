"""tools/run_study.py --seeds N: which stages exist, what they depend on, which seed they train
with, and what the report makes of per-seed results (the stages run end to end in test_run_study.py
with one seed and in the committed full-study record with three)."""

import pytest

from conftest import load_tool
from fdsr_mm.study.extras import seeds_section
from fdsr_mm.utils.io import dump_json


@pytest.fixture(scope='module')
def run_study():
    return load_tool('run_study', 'run_study')


def test_seeds_add_seeded_fine_tunes_and_cascades(run_study, tmp_path):
    study = run_study.build_study(run_study.parse_args(
        ['--quick', '--seeds', '3', '--seed', '5', '--out-dir', str(tmp_path)]))
    names = list(study.stages)
    for k in (1, 2):
        for variant in study.spec.sr_variants:
            stage = study.stages[f'sr_{variant}_s{k}']
            assert stage.params['seed'] == 5 + k and 'sr_pretrain' in stage.deps
        assert study.stages[f'sr_tdsr_s{k}'].params['seed'] == 5 + k
        for det in study.spec.evaluators:
            methods = study.spec.seeded_methods(det)
            cascade = study.stages[f'cascade_{det}_s{k}']
            assert cascade.params['methods'] == tuple(f'{m}_s{k}' for m in methods)
            assert {f'sr_{m}_s{k}' for m in methods} <= set(cascade.deps)
    # seed k's cascades are preferred over seed k+1's training when both could start
    assert names.index('cascade_faster_rcnn_s1') < names.index('sr_dbpn_s2')
    assert study.stages['sr_fdsr'].params['seed'] == 5
    assert study.stages['sr_fdsr_randprior_s2'].deps == ('sr_pretrain', 'prior_random')
    assert set(study.stages['report'].deps) >= {'cascade_ssd_s2', 'cascade_faster_rcnn'}
    # every training stage has its seed on the command line
    cmd = study.stages['det_faster_rcnn'].cmd
    assert cmd[cmd.index('--cfg-options') + 1] == 'randomness.seed=5'
    with pytest.raises(SystemExit):
        run_study.parse_args(['--seeds', '0'])


def test_seeds_section_states_per_seed_values_and_spread(tmp_path):
    files = []
    for k, (dbpn, fdsr) in enumerate([(10.0, 15.0), (11.0, 15.5), (9.0, 16.5)]):
        sfx = f'_s{k}' if k else ''
        path = str(tmp_path / f'r{k}.json')
        dump_json(dict(metric='coco', methods={f'dbpn{sfx}': dict(det=dict(AP=dbpn)),
                                               f'fdsr{sfx}': dict(det=dict(AP=fdsr))}), path)
        files.append(path)
    text = seeds_section({'faster_rcnn': files}, {'faster_rcnn': ('dbpn', 'fdsr')}, base_seed=3)
    assert 'seeds 3, 4, 5' in text
    assert '| faster_rcnn | dbpn | 10.0, 11.0, 9.0 | 10.0 +- 1.0 |' in text
    assert '| faster_rcnn | fdsr | 15.0, 15.5, 16.5 | 15.7 +- 0.8 |' in text
    assert ('FDSR - D-DBPN fine-tune: +5.0, +4.5, +7.5 (mean +- std 5.7 +- 1.6; positive in 3 '
            'of 3 seeds)') in text
    one = seeds_section({'faster_rcnn': files[:1]}, {'faster_rcnn': ('dbpn', 'fdsr')})
    assert 'One training seed (0)' in one and '+-' not in one.split('N seeds')[0]
