"""tools/cascade_eval.py and tools/merge_cascade_tables.py, and every detector config under
configs/detectors/ (built with random weights) running one image through the cascade."""
import glob
import json
import os
import os.path as osp
import xml.etree.ElementTree as ET

import cv2
import pytest
import torch

from conftest import REPO_ROOT, load_tool
from helpers import cascade_testlib as lib

pytestmark = pytest.mark.slow  # (setup.cfg: spawns processes / runs end to end)

cascade_eval = load_tool('cascade_eval')
merge_cascade_tables = load_tool('merge_cascade_tables')

DETECTOR_CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'detectors', '*.py')))


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp('cascade_tool')
    data = str(root / 'data')
    lib.make_dataset(data, num_val=3, image_hw=(64, 64))
    cfg, ckpt = lib.make_detector(str(root / 'det'), data)
    cfg2, ckpt2 = lib.make_detector(str(root / 'det2'), data, seed=1)
    return dict(root=root, data=data, dets=[(cfg, ckpt), (cfg2, ckpt2)])


def test_cli_tables_and_merge(tiny, capsys):
    root = tiny['root']
    outs = []
    for i, (cfg, ckpt) in enumerate(tiny['dets']):
        out = str(root / f'out{i}')
        assert cascade_eval.main([cfg, ckpt, '--methods', 'hr', 'bicubic', '--out-dir', out,
                                  '--cache-dir', str(root / 'cache'), '--limit', '2',
                                  '--iq-metrics', 'psnr', 'fsim', '--resamples', '50',
                                  '--compare', 'hr:bicubic']) == 0
        res = json.load(open(osp.join(out, 'results.json')))
        assert res['dataset']['num_images'] == 2 and res['dataset']['num_listed'] == 3
        assert set(res['methods']['bicubic']['iq']) == {'psnr', 'fsim'}
        assert {'results.json', 'table1.csv', 'table1.md', 'methods'} <= set(os.listdir(out))
        outs.append(osp.join(out, 'results.json'))
        iv = res['intervals']
        assert (iv['reference'], iv['resamples'], iv['seed'], iv['num_images']) == \
            ('bicubic', 50, 0, 2)
        ap = {(r['a'], r['b']): r for r in iv['pairs'] if r['metric'] == 'AP'}
        assert set(ap) == {('bicubic', 'hr'), ('hr', 'bicubic')}
        # the printed intervals: both pairs, with the numbers of results.json
        printed = capsys.readouterr().out
        assert '| PSNR | - |' in printed and '| AP - bicubic [95% CI] | ' in printed
        for (a, b), r in ap.items():
            line = (f"  {b} - {a}: AP {r['diff']:+.1f} [{r['low']:+.1f}, {r['high']:+.1f}] "
                    f"(95% CI), {r['verdict']} (2 images, ")
            assert line in printed
    t2 = str(root / 'table2')
    assert merge_cascade_tables.main([*outs, '--out-dir', t2]) == 0
    printed = capsys.readouterr().out
    md = open(osp.join(t2, 'table2.md')).read()
    assert printed.startswith(md)
    lines = md.splitlines()
    assert lines[0] == '| Detector | Metric | hr | bicubic |' and len(lines) == 15
    assert lines[5].startswith('Every row: scale x4; degradation bicubic-matlab;')
    assert lines[7] == ('| Detector | Reference | hr - reference [95% CI] | '
                        'bicubic - reference [95% CI] |')
    for row, res_file in zip(lines[9:11], outs):
        r = next(p for p in json.load(open(res_file))['intervals']['pairs']
                 if (p['a'], p['b'], p['metric']) == ('bicubic', 'hr', 'AP'))
        assert row == (f"| tiny_retinanet | bicubic | {r['diff']:+.1f} [{r['low']:+.1f}, "
                       f"{r['high']:+.1f}] | - |")
    assert lines[-1] == '- tiny_retinanet: 2 images, 50 resamples, seed 0'
    merged = json.load(open(osp.join(t2, 'table2.json')))
    assert merged['intervals'] == [json.load(open(f))['intervals'] for f in outs]
    assert 'hr - reference [95% CI]' in open(osp.join(t2, 'table2.csv')).readline()


def test_cli_clear_errors(tiny, capsys):
    cfg, ckpt = tiny['dets'][0]
    out = str(tiny['root'] / 'err')
    assert cascade_eval.main([cfg, '/no/such.pth', '--out-dir', out]) == 2
    assert 'Detector checkpoint /no/such.pth does not exist' in capsys.readouterr().err
    coco_cfg = osp.join(REPO_ROOT, 'configs', 'detectors', 'retinanet_r50_fpn_1x_coco.py')
    assert cascade_eval.main([coco_cfg, ckpt, '--out-dir', out,
                              '--data-root', '/no/coco/']) == 2
    err = capsys.readouterr().err
    assert '/no/coco/annotations/instances_val2017.json does not exist' in err
    assert '--data-root' in err


@pytest.mark.parametrize('extra, expected', [
    (['--limit', '0'], 'limit (--limit) must be an integer >= 1'),
    (['--limit', '-1'], 'limit (--limit) must be an integer >= 1'),
    (['--scale', '0'], 'scale must be an integer >= 1'),
    (['--methods', '../x=a.py:b.pth'], "Bad SR method name '../x'"),
    (['--methods', '=a.py:b.pth'], "Bad SR method name ''"),
    (['--compare', 'hr:nosuch'], "unknown method 'nosuch' in the pair hr:nosuch"),
    (['--compare', 'hr-bicubic'], "bad method pair 'hr-bicubic'"),
    (['--reference', 'dbpn'], "unknown reference method 'dbpn'"),
    (['--resamples', '0'], 'resamples (--resamples) must be an integer >= 1')])
def test_cli_bad_options_one_line(tiny, capsys, extra, expected):
    cfg, ckpt = tiny['dets'][0]
    out = str(tiny['root'] / 'bad_opts')
    assert cascade_eval.main([cfg, ckpt, '--out-dir', out, *extra]) == 2
    err = capsys.readouterr().err
    assert expected in err and 'Traceback' not in err and len(err.strip().splitlines()) == 1
    assert not osp.exists(osp.join(out, 'x')) and not osp.exists(osp.join(out, 'results.json'))


def test_cli_wrong_detector_checkpoint_exit_2_before_sr(tiny, capsys):
    """An SR checkpoint given as the detector's: exit 2 naming the file and missing keys."""
    cfg, _ = tiny['dets'][0]
    _, sr_ckpt = lib.write_sr_model(str(tiny['root']))
    out = str(tiny['root'] / 'wrong_det')
    assert cascade_eval.main([cfg, sr_ckpt, '--out-dir', out, '--methods', 'hr', 'bicubic']) == 2
    err = capsys.readouterr().err
    assert sr_ckpt in err and 'missing' in err and 'backbone.' in err
    assert glob.glob(osp.join(out, '**', '*.png'), recursive=True) == []


def _coco_one_image(root, src_png):
    """One synthetic image annotated with COCO category names (all 80 categories listed)."""
    from mmdet.datasets import CocoDataset
    os.makedirs(osp.join(root, 'val2017'), exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    img = cv2.imread(src_png)
    cv2.imwrite(osp.join(root, 'val2017', '000001.jpg'), img)
    h, w = img.shape[:2]
    cats = [dict(id=i + 1, name=n) for i, n in enumerate(CocoDataset.METAINFO['classes'])]
    coco = dict(images=[dict(id=1, file_name='000001.jpg', height=h, width=w)],
                annotations=[dict(id=1, image_id=1, category_id=1, bbox=[8.0, 8.0, 30.0, 40.0],
                                  area=1200.0, iscrowd=0, segmentation=[])],
                categories=cats)
    with open(osp.join(root, 'annotations', 'instances_val2017.json'), 'w') as f:
        json.dump(coco, f)
    return root


def _voc_one_image(root, src_png):
    voc = osp.join(root, 'VOC2007')
    for d in ('JPEGImages', 'Annotations', 'ImageSets/Main'):
        os.makedirs(osp.join(voc, d), exist_ok=True)
    img = cv2.imread(src_png)
    cv2.imwrite(osp.join(voc, 'JPEGImages', '000001.jpg'), img)
    ann = ET.Element('annotation')
    size = ET.SubElement(ann, 'size')
    for k, v in (('width', img.shape[1]), ('height', img.shape[0]), ('depth', 3)):
        ET.SubElement(size, k).text = str(v)
    obj = ET.SubElement(ann, 'object')
    ET.SubElement(obj, 'name').text = 'dog'
    ET.SubElement(obj, 'difficult').text = '0'
    box = ET.SubElement(obj, 'bndbox')
    for k, v in (('xmin', 8), ('ymin', 8), ('xmax', 40), ('ymax', 50)):
        ET.SubElement(box, k).text = str(v)
    ET.ElementTree(ann).write(osp.join(voc, 'Annotations', '000001.xml'))
    with open(osp.join(voc, 'ImageSets', 'Main', 'test.txt'), 'w') as f:
        f.write('000001\n')
    return root


@pytest.mark.parametrize('config', DETECTOR_CONFIGS, ids=osp.basename)
def test_detector_config_runs_one_image(config, tiny, tmp_path):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from fdsr_mm.apis import run_cascade
    from mmdet.registry import MODELS
    cfg = Config.fromfile(config)
    assert cfg.default_scope == 'mmdet' and 'fdsr_mm' in cfg.custom_imports['imports']
    cfg.model.backbone.init_cfg = None  # no model-zoo download: random weights
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model)
        model.init_weights()  # SSD's L2Norm scale is torch.empty until then (NaN at times)
    ckpt = str(tmp_path / 'random.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    del model
    src = osp.join(tiny['data'], 'val', '000000.png')
    if cfg.test_evaluator.type == 'VOCMetric':
        dataset = dict(data_root=_voc_one_image(str(tmp_path / 'VOCdevkit'), src) + '/')
    else:
        dataset = dict(data_root=_coco_one_image(str(tmp_path / 'coco'), src) + '/')
    res = run_cascade(config, ckpt, ['hr', 'bicubic'], str(tmp_path / 'out'), dataset=dataset,
                      iq_metrics=['psnr'], progress=False)
    assert res['dataset']['num_evaluated'] == 1
    for m in ('hr', 'bicubic'):
        det = res['methods'][m]['det']
        assert set(det) >= ({'mAP'} if res['metric'] == 'voc' else {'AP', 'AP50', 'APL'})
    if cfg.get('cascade_hr_size'):  # SSD300/VOC: HR resized to 300x300 first (paper Table 3)
        assert res['hr_size'] == [300, 300]
        index = json.load(open(osp.join(tmp_path, 'out', 'eval_inputs', 'index.0.json')))
        cached = next(iter(index.values()))['file']  # content-keyed: 000001.<sha256[:16]>.png
        assert cached.startswith('000001.')
        assert cv2.imread(osp.join(res['methods']['hr']['spec']['cache'], cached)).shape \
            == (300, 300, 3)
