"""The two-step cascade on a tiny synthetic COCO set with a tiny random RetinaNet (CPU, fast).

Random detector weights give a small but non-zero AP (score_thr=0 keeps low-score boxes); what is
tested is the plumbing: identical SR images give identical AP, AP is pycocotools' COCOeval on the
dumped detections, guards report bad images, and the SR cache resumes to the same table.
"""
import gc
import json
import math
import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from helpers import cascade_testlib as lib
from fdsr_mm.apis import SRMethod, parse_method, run_cascade
from fdsr_mm.evaluation import load_results
from fdsr_mm.evaluation.visualize import precision_recall_at_50


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp('cascade')
    data = str(root / 'data')
    lib.make_dataset(data, num_val=4, image_hw=(64, 72))
    cfg, ckpt = lib.make_detector(str(root / 'det'), data)
    return dict(root=root, data=data, cfg=cfg, ckpt=ckpt)


def _coco_eval_ap(ann_file, det_file):
    gt = COCO(ann_file)
    with open(det_file) as f:
        dets = json.load(f)
    ev = COCOeval(gt, gt.loadRes(dets), 'bbox')
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return ev.stats


def test_identical_sr_images_give_identical_ap_and_ap_is_cocoeval(setup):
    """Scale 1: hr, bicubic (x1 is the identity) and an identity generator see the same images."""
    out = str(setup['root'] / 'x1')
    ident = SRMethod('identity', generator=lib.ScaleOneIdentity(), cache_key='identity')
    res = run_cascade(setup['cfg'], setup['ckpt'], ['hr', 'bicubic', ident], out, scale=1,
                      iq_metrics=['psnr', 'fsim'], progress=False)
    aps = {m: r['det'] for m, r in res['methods'].items()}
    assert aps['hr'] == aps['bicubic'] == aps['identity']
    for r in res['methods'].values():  # each method's own runner.test(), timed by its hook
        assert 0 < r['det_iter_seconds'] < r['det_seconds']
    for m in ('bicubic', 'identity'):
        assert math.isinf(res['methods'][m]['iq']['psnr'])
        assert res['methods'][m]['iq']['fsim'] == pytest.approx(1.0)
    dets = {m: json.load(open(osp.join(out, 'methods', m, 'detections.bbox.json')))
            for m in aps}
    assert len(dets['hr']) > 0  # score_thr=0: a random detector still reports boxes
    assert dets['hr'] == dets['identity'] == dets['bicubic']
    # cross-check: pycocotools directly on the same detections and the evaluated annotations
    stats = _coco_eval_ap(res['dataset']['evaluated_ann_file'],
                          osp.join(out, 'methods', 'hr', 'detections.bbox.json'))
    for i, key in enumerate(['AP', 'AP50', 'AP75', 'APS']):
        assert aps['hr'][key] == pytest.approx(round(100 * round(stats[i], 3), 1))
    # the markdown table is written, and reads like the paper's Table 1
    md = open(osp.join(out, 'table1.md')).read()
    assert md.startswith('| Method | hr | bicubic | identity |')
    assert load_results(osp.join(out, 'results.json'))['dataset']['num_evaluated'] == 4


def test_x4_guards_cache_resume_and_panels(setup):
    root = setup['root']
    data = str(root / 'data_bad')
    shutil.copytree(setup['data'], data)
    names = lib.add_bad_images(data)
    cfg, ckpt = lib.make_detector(str(root / 'det_bad'), data)
    sr_cfg, sr_ckpt = lib.write_sr_model(str(root))
    methods = ['hr', 'bicubic', f'dbpn={sr_cfg}:{sr_ckpt}']
    cache = str(root / 'cache')
    out1 = str(root / 'x4_first')
    res = run_cascade(cfg, ckpt, methods, out1, scale=4, cache_dir=cache,
                      show_dir=str(root / 'show'), show_score_thr=0.0, progress=False)
    ds = res['dataset']
    failed = {osp.basename(f['file']): f['reason'] for f in ds['failed_images']}
    assert set(failed) == {names['corrupt'], names['small']}
    assert failed[names['corrupt']].startswith('corrupt') and 'too small' in failed[names['small']]
    assert (ds['num_images'], ds['num_evaluated']) == (8, 6)
    assert ds['grayscale_images'] == 1 and ds['modcropped_images'] == 1
    md = open(osp.join(out1, 'table1.md')).read()
    assert '6 of 8 images evaluated' in md and names['corrupt'] in md
    # the derived annotations: failed images gone, odd.png mod-cropped to 60x68, its box clipped
    derived = json.load(open(res['dataset']['evaluated_ann_file']))
    odd = next(im for im in derived['images'] if im['file_name'] == names['odd'])
    assert (odd['height'], odd['width']) == (60, 68)
    box = next(a['bbox'] for a in derived['annotations'] if a['image_id'] == odd['id'])
    assert box[0] + box[2] <= 68 and box[1] + box[3] <= 60
    assert len(derived['images']) == 6
    # every method produced HR-size images; DBPN is a real (random) model: finite PSNR
    for m in ('bicubic', 'dbpn'):
        assert math.isfinite(res['methods'][m]['iq']['psnr'])
        assert 0 < res['methods'][m]['iq']['fsim'] < 1
    assert res['methods']['dbpn']['sr_seconds'] > 0
    # Fig. 1 panels: three methods side by side, one panel per evaluated image
    panels = sorted(os.listdir(root / 'show'))
    assert len(panels) == 6
    import cv2
    assert cv2.imread(str(root / 'show' / panels[0])).shape[1] == 3 * 72

    # a second detector reuses the cache: no SR forward, same image quality
    cfg2, ckpt2 = lib.make_detector(str(root / 'det_bad2'), data, seed=1)
    res2 = run_cascade(cfg2, ckpt2, methods, str(root / 'x4_det2'), scale=4, cache_dir=cache,
                       progress=False)
    assert all(r['sr_seconds'] == 0 for r in res2['methods'].values())
    assert res2['methods']['dbpn']['iq'] == res['methods']['dbpn']['iq']

    # one dataset and one evaluator serve all methods of a run: the order of the methods, i.e.
    # what the previous method left in them, changes nothing (and the methods do differ here)
    out_rev = str(root / 'x4_reversed')
    res_rev = run_cascade(cfg, ckpt, methods[::-1], out_rev, scale=4, cache_dir=cache,
                          show_dir=str(root / 'show2'), show_num=2, progress=False)
    assert len(os.listdir(root / 'show2')) == 2  # --show-num: the first 2 evaluated images
    for m in ('hr', 'bicubic', 'dbpn'):
        assert res_rev['methods'][m]['det'] == res['methods'][m]['det']
        assert json.load(open(osp.join(out_rev, 'methods', m, 'detections.bbox.json'))) == \
            json.load(open(osp.join(out1, 'methods', m, 'detections.bbox.json')))
    assert json.load(open(osp.join(out1, 'methods', 'hr', 'detections.bbox.json'))) != \
        json.load(open(osp.join(out1, 'methods', 'bicubic', 'detections.bbox.json')))
    assert gc.get_freeze_count() == 0  # the run's GC freeze is undone

    # resume after a killed run: half of DBPN's images and metric lines gone + a torn last line
    method_dir = res['methods']['dbpn']['spec']['cache']
    log = osp.join(method_dir, 'iq.rank0.jsonl')
    lines = open(log).read().splitlines()
    for rec in map(json.loads, lines[3:]):
        os.remove(osp.join(method_dir, rec['file']))
    with open(log, 'w') as f:
        f.write('\n'.join(lines[:3]) + '\n{"file": "torn')
    res3 = run_cascade(cfg, ckpt, methods, str(root / 'x4_resumed'), scale=4, cache_dir=cache,
                       progress=False)
    assert res3['methods']['dbpn']['sr_seconds'] > 0  # the missing images were redone
    for m in ('hr', 'bicubic', 'dbpn'):
        assert res3['methods'][m]['iq'] == res['methods'][m]['iq']
        assert res3['methods'][m]['det'] == res['methods'][m]['det']
    assert open(osp.join(str(root / 'x4_resumed'), 'table1.md')).read() == \
        md.replace(out1, str(root / 'x4_resumed'))


def test_method_specs():
    m = parse_method('fdsr=mmagic::edsr/x.py:work_dirs/a/iter_10.pth')
    assert (m.name, m.kind, m.config, m.checkpoint) == (
        'fdsr', 'model', 'mmagic::edsr/x.py', 'work_dirs/a/iter_10.pth')
    assert parse_method('hr').kind == 'hr' and parse_method('bicubic').kind == 'bicubic'
    with pytest.raises(ValueError, match='NAME=CONFIG:CHECKPOINT'):
        parse_method('dbpn')
    with pytest.raises(ValueError, match='reserved'):
        SRMethod('hr', 'model', 'a.py', 'b.pth')


def test_precision_recall_at_iou_50():
    gt = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float)
    pred = np.array([[0, 0, 10, 11], [0, 0, 10, 10], [50, 50, 60, 60]], float)
    p, r = precision_recall_at_50(pred, np.array([0, 0, 0]), np.array([.9, .8, .7]), gt,
                                  np.array([0, 0]))
    assert (p, r) == (pytest.approx(1 / 3), 0.5)  # the duplicate is a false positive
    assert precision_recall_at_50(pred[:0], np.zeros(0), np.zeros(0), gt, np.array([0, 0])) == \
        (1.0, 0.0)


def test_load_cascade_image_maps_path_and_boxes(tmp_path):
    """HR path -> cached SR image; raw GT boxes through resize (fx, fy) + mod-crop clipping."""
    import cv2
    from mmengine.registry import DefaultScope

    from mmdet.registry import TRANSFORMS
    img = np.zeros((60, 68, 3), np.uint8)
    cv2.imwrite(str(tmp_path / 'a.png'), img)
    index = {'/data/val/a.jpg': dict(file='a.png', fx=0.5, fy=2.0, hw=[60, 68])}
    (tmp_path / 'index.json').write_text(json.dumps(index))
    with DefaultScope.overwrite_default_scope('mmdet'):
        t = TRANSFORMS.build(dict(type='LoadCascadeImage', index_file=str(tmp_path / 'index.json'),
                                  image_dir=str(tmp_path)))
    res = t(dict(img_path='/data/val/a.jpg', instances=[
        dict(bbox=[10, 10, 20, 20], bbox_label=0, ignore_flag=0),
        dict(bbox=[100, 10, 200, 40], bbox_label=1, ignore_flag=0),
        dict(bbox=[150, 0, 160, 5], bbox_label=1, ignore_flag=0)]))
    assert res['img'].shape == (60, 68, 3) and res['img_path'] == str(tmp_path / 'a.png')
    assert res['instances'][0]['bbox'] == [5, 20, 10, 40]
    assert res['instances'][1]['bbox'] == [50, 20, 68, 60]  # clipped to the mod-cropped size
    assert res['instances'][2]['ignore_flag'] == 1  # nothing of it left in the image
    with pytest.raises(KeyError, match='not in the SR cache index'):
        t(dict(img_path='/data/val/b.jpg'))
