"""The benchmark's transfer matrix: each cell is the evaluator's AP of that SR model with its
interval against the evaluator's reference, the diagonal is marked, and the heatmap is written."""
import os.path as osp

from fdsr_mm.evaluation.interval_tables import interval_cell
from fdsr_mm.study.transfer import transfer_table, write_transfer
from fdsr_mm.utils.io import dump_json

ROWS = {'fdsr_a': ('FDSR', 'det_a'), 'tdsr_a': ('TDSR', 'det_a'), 'fdsr': ('FDSR, C4', None)}


def result(name, aps):
    pairs = [dict(a='bicubic', b=m, metric='AP', diff=ap - 10., low=ap - 11., high=ap - 9.)
             for m, ap in aps.items()]
    return dict(detector=dict(name=name), metric='coco',
                methods={m: dict(det=dict(AP=ap)) for m, ap in dict(aps, bicubic=10.).items()},
                intervals=dict(reference='bicubic', pairs=pairs))


RESULTS = {'det_a': result('det_a', dict(fdsr_a=20., tdsr_a=25., fdsr=18.)),
           'det_b': result('det_b', dict(fdsr_a=15., tdsr_a=12.5, fdsr=16.))}


def test_cells_are_the_evaluators_ap_with_the_interval_against_its_reference():
    t = transfer_table(RESULTS, ROWS, ['det_a', 'det_b'])
    assert t['values'] == [[20., 15.], [25., 12.5], [18., 16.]]
    pair = next(p for p in RESULTS['det_b']['intervals']['pairs'] if p['b'] == 'tdsr_a')
    assert t['rows'][1] == ['TDSR (tdsr_a)', 'det_a', '25.0* (+15.0 [+14.0, +16.0])',
                            f'12.5 ({interval_cell(pair)})']
    assert t['rows'][2][1] == '-' and '*' not in ''.join(t['rows'][2])  # trained with neither
    assert t['header'][2] == 'det_a AP (bicubic diff [95% CI])'


def test_write_transfer_writes_tables_and_the_heatmap(tmp_path):
    files = {}
    for det, res in RESULTS.items():
        files[det] = str(tmp_path / f'{det}.json')
        dump_json(res, files[det])
    out = str(tmp_path / 'report')
    section = write_transfer(out, files, dict(rows=ROWS, evaluators=['det_a', 'det_b']))
    assert section.startswith('## Transfer matrix')
    assert '| FDSR (fdsr_a) | det_a | 20.0* (+10.0 [+9.0, +11.0]) |' in section
    for name in ('transfer.md', 'transfer.csv', 'transfer_heatmap.png'):
        assert osp.getsize(osp.join(out, name)) > 0
