"""Paired bootstrap intervals in the cascade's results (tiny synthetic COCO / VOC sets, a tiny
random RetinaNet, real mmdet): a method against itself, an independent recomputation, VOC mAP."""
import os.path as osp

import pytest
import torch

from helpers import cascade_testlib as lib
from fdsr_mm.apis import CascadeError, CascadeOptions, run_cascade
from fdsr_mm.datasets import write_synthetic_voc
from fdsr_mm.evaluation import load_results
from fdsr_mm.evaluation.bootstrap import evaluate_per_image, paired_bootstrap
from fdsr_mm.evaluation.voc_per_image import evaluate_voc_per_image

COCO_KEYS = ('AP', 'AP50', 'AP75', 'APS', 'APM', 'APL')

TINY_VOC = '''
_base_ = {base!r}
test_dataloader = dict(dataset=dict(
    _delete_=True, type='VOCDataset', data_root={root!r},
    ann_file='VOC2007/ImageSets/Main/test.txt', data_prefix=dict(sub_data_root='VOC2007/'),
    metainfo=dict(classes={{{{_base_.classes}}}}), pipeline={{{{_base_.test_pipeline}}}},
    test_mode=True))
test_evaluator = dict(_delete_=True, type='VOCMetric', metric='mAP', eval_mode='11points')
'''


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp('intervals')
    data = str(root / 'data')
    lib.make_dataset(data, num_val=4, image_hw=(64, 72))
    cfg, ckpt = lib.make_detector(str(root / 'det'), data)
    out = str(root / 'out')
    res = run_cascade(cfg, ckpt, ['hr', 'bicubic'], out, iq_metrics=['psnr'], progress=False,
                      compare=['hr:hr', 'hr:bicubic'], resamples=50, bootstrap_seed=3)
    return dict(root=root, cfg=cfg, ckpt=ckpt, out=out, res=res)


def _rows(res, a, b):
    return {r['metric']: r for r in res['intervals']['pairs'] if (r['a'], r['b']) == (a, b)}


def test_a_method_against_itself_is_exactly_zero(coco):
    rows = _rows(coco['res'], 'hr', 'hr')
    assert set(rows) == set(COCO_KEYS)
    ap = rows['AP']
    assert (ap['diff'], ap['low'], ap['high']) == (0.0, 0.0, 0.0)
    assert ap['verdict'] == 'not resolved (CI includes 0)'
    for key, r in rows.items():  # undefined APs (no GT of that size) stay None
        defined = coco['res']['methods']['hr']['det'][key] is not None
        assert (r['diff'] == 0.0) if defined else (r['diff'] is None)


def test_intervals_equal_a_direct_paired_bootstrap_on_the_same_records(coco):
    res, out = coco['res'], coco['out']
    iv = load_results(osp.join(out, 'results.json'))['intervals']
    assert (iv['reference'], iv['resamples'], iv['seed'], iv['num_images']) == \
        ('bicubic', 50, 3, 4)
    assert [(r['a'], r['b']) for r in iv['pairs'][::len(COCO_KEYS)]] == \
        [('bicubic', 'hr'), ('hr', 'hr'), ('hr', 'bicubic')]
    ann = res['dataset']['evaluated_ann_file']
    ev = {m: evaluate_per_image(ann, osp.join(out, 'methods', m, 'detections.bbox.json'))
          for m in ('hr', 'bicubic')}
    for r in iv['pairs']:
        boot = paired_bootstrap(ev[r['a']], ev[r['b']], r['metric'], 50, 3)
        assert {k: r[k] for k in ('diff', 'low', 'high', 'verdict', 'num_resamples')} == \
            {k: boot[k] for k in ('diff', 'low', 'high', 'verdict', 'num_resamples')}
    md = open(osp.join(out, 'table1.md')).read()
    assert '| AP - bicubic [95% CI] | ' in md and '| AP - hr [95% CI] | ' in md
    assert 'bootstrap over the 4 test images' in md and '50 resamples, seed 3' in md
    assert 'AP - bicubic [95% CI]' in open(osp.join(out, 'table1.csv')).read()


def test_unknown_method_names_are_refused_before_any_work(coco, tmp_path):
    for kwargs, what in ((dict(compare=['hr:nosuch']), "unknown method 'nosuch'"),
                         (dict(reference='nosuch'), "unknown reference method 'nosuch'"),
                         (dict(compare=['hr']), "bad method pair 'hr'")):
        with pytest.raises(CascadeError, match=what):
            run_cascade(CascadeOptions(coco['cfg'], coco['ckpt'], ['hr', 'bicubic'],
                                       str(tmp_path / 'o'), progress=False, **kwargs))
        assert not osp.exists(tmp_path / 'o')


def test_voc_run_gives_map_intervals(coco, tmp_path):
    data = str(tmp_path / 'voc')
    write_synthetic_voc(data, num_trainval=0, num_test=4, image_size=(64, 64))
    cfg = str(tmp_path / 'tiny_voc.py')
    with open(cfg, 'w') as f:
        f.write(TINY_VOC.format(base=coco['cfg'], root=data + '/'))
    res = run_cascade(cfg, coco['ckpt'], ['hr', 'bicubic'], str(tmp_path / 'out'),
                      iq_metrics=['psnr'], progress=False, resamples=50)
    assert res['metric'] == 'voc'
    (row, ) = res['intervals']['pairs']
    assert (row['a'], row['b'], row['metric']) == ('bicubic', 'hr', 'mAP')
    ev = {m: evaluate_voc_per_image(str(tmp_path / 'out' / 'methods' / m / 'voc_per_image.pkl'))
          for m in ('hr', 'bicubic')}
    boot = paired_bootstrap(ev['bicubic'], ev['hr'], 'mAP', 50, 0)
    assert (row['diff'], row['low'], row['high']) == (boot['diff'], boot['low'], boot['high'])
    assert row['diff'] == pytest.approx(res['methods']['hr']['det']['mAP'] -
                                        res['methods']['bicubic']['det']['mAP'], abs=0.02)
    md = open(tmp_path / 'out' / 'table3.md').read()
    assert '| Method | PSNR | FSIM | mAP | PSNR-Y | SSIM | FSIMc | mAP - bicubic [95% CI] |' in md
