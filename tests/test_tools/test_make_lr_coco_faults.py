"""make_lr_coco faults of issue 18: HR-equivalent areas (item 4), an output overlapping the input
(item 7), two inputs with the same stem (item 8), crowd RLE masks, the seed and the help texts.

Tiny HR sets written by the tests themselves (cv2 PNG/JPEG files + a COCO json); the LR images
are checked against :func:`fdsr_mm.datasets.transforms.degradations.degrade` of their own source.
"""
import hashlib
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from conftest import load_tool

make_lr_coco = load_tool('make_lr_coco')

#: One box per COCO size bin (HR pixels): 20x20 = 400 (small, < 32**2), 50x50 = 2500 (medium),
#: 120x120 = 14400 (large, > 96**2). Divided by 4**2 all three would be "small".
BOXES = [[10., 10., 20., 20.], [60., 40., 50., 50.], [30., 110., 120., 120.]]


def _image(seed, hw=(240, 200)):
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (hw[0] // 8, hw[1] // 8, 3), dtype=np.uint8)
    return np.ascontiguousarray(small.repeat(8, 0).repeat(8, 1))


def write_hr_set(root, names=('a.png', 'b.png'), hw=(240, 200), extra_anns=()):
    """``root/hr/<names>`` (different content each) and ``root/ann/instances.json`` with the
    three BOXES on every image (areas w*h), plus ``extra_anns`` (dicts without ids)."""
    img_dir, ann_dir = osp.join(root, 'hr'), osp.join(root, 'ann')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(ann_dir, exist_ok=True)
    images, anns = [], []
    for i, name in enumerate(names):
        assert cv2.imwrite(osp.join(img_dir, name), _image(i, hw),
                           [cv2.IMWRITE_JPEG_QUALITY, 100])
        images.append(dict(id=100 + i, file_name=name, height=hw[0], width=hw[1]))
        for box in BOXES:
            anns.append(dict(image_id=100 + i, category_id=1, bbox=box, area=box[2] * box[3],
                             iscrowd=0, segmentation=[]))
    for extra in extra_anns:
        anns.append(dict(extra))
    for k, a in enumerate(anns):
        a['id'] = k + 1
    ann_file = osp.join(ann_dir, 'instances.json')
    with open(ann_file, 'w') as f:
        json.dump(dict(images=images, annotations=anns,
                       categories=[dict(id=1, name='thing')]), f)
    return ann_file, img_dir


def size_bins(coco_dict, tmp_path, tag):
    """COCOeval's (bbox) non-ignored ground-truth ids per area range, the detections being the
    ground-truth boxes themselves: {'small': {ann ids}, 'medium': ..., 'large': ...}."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    path = str(tmp_path / f'{tag}.json')
    with open(path, 'w') as f:
        json.dump(coco_dict, f)
    gt = COCO(path)
    dets = gt.loadRes([dict(image_id=a['image_id'], category_id=a['category_id'],
                            bbox=a['bbox'], score=1.0) for a in coco_dict['annotations']])
    ev = COCOeval(gt, dets, 'bbox')
    ev.evaluate()
    bins = {}
    for e in ev.evalImgs:
        if e is None:
            continue
        label = ev.params.areaRngLbl[ev.params.areaRng.index(e['aRng'])]
        kept = {g for g, ign in zip(e['gtIds'], e['gtIgnore']) if not ign}
        bins.setdefault(label, set()).update(kept)
    return {k: v for k, v in bins.items() if k != 'all'}


def cascade_json(tmp_path, ann_file, img_dir, hw) -> str:
    """The cascade's route: the HR annotations of the prepared (mod-cropped to ``hw``,
    unresized) HR images, written by the cascade's own ``derive_coco_ann``."""
    from fdsr_mm.apis.cascade.dataset import derive_coco_ann
    hr = json.load(open(ann_file))
    data_list = [dict(img_id=im['id'], img_path=osp.join(img_dir, im['file_name']))
                 for im in hr['images']]
    index = {d['img_path']: dict(hw=hw, fx=1.0, fy=1.0) for d in data_list}
    path = str(tmp_path / 'cascade.json')
    derive_coco_ann(hr, index, data_list, path)
    return path


def test_lr_set_keeps_the_hr_size_bins_of_the_cascade(tmp_path):
    """Item 4: the LR json's areas are HR areas (said in its info), so COCOeval puts every object
    in the same small / medium / large bin as on the cascade's HR annotations."""
    from fdsr_mm.datasets.lr_coco import AREA_NOTE, write_lr_coco
    ann_file, img_dir = write_hr_set(str(tmp_path))
    out_json, summary = write_lr_coco(ann_file, img_dir, str(tmp_path / 'lr'), scale=4)
    lr = json.load(open(out_json))
    assert lr['info']['fdsr_mm_lr']['area'] == AREA_NOTE and 'HR' in AREA_NOTE
    cascade = json.load(open(cascade_json(tmp_path, ann_file, img_dir, (240, 200))))
    hr_bins, lr_bins = size_bins(cascade, tmp_path, 'hr'), size_bins(lr, tmp_path, 'lr')
    assert hr_bins == lr_bins
    assert all(len(hr_bins[b]) == 2 for b in ('small', 'medium', 'large'))  # one per image


def test_hr_area_coco_metric_gives_the_cascades_aps_apm_apl(tmp_path):
    """The same detections scored on the LR set (LR boxes, HRAreaCocoMetric) and on the HR set
    (HR boxes, COCOeval against the cascade's json) give the same APS / APM / APL, also with
    unmatched detections of every size (binned by their HR-equivalent area); mmdet's plain
    CocoMetric bins those by their LR area and does not."""
    from mmdet.evaluation.metrics import CocoMetric
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from fdsr_mm.datasets.lr_coco import write_lr_coco
    from fdsr_mm.evaluation.hr_area_coco_metric import HRAreaCocoMetric
    hw = (400, 320)
    ann_file, img_dir = write_hr_set(str(tmp_path), hw=hw)
    lr_json, _ = write_lr_coco(ann_file, img_dir, str(tmp_path / 'lr'), scale=4)
    # unmatched boxes away from the objects: 24**2 small, 56**2 medium, 100**2 large (HR)
    false_pos = [[160., 4., 24., 24.], [140., 40., 56., 56.], [200., 250., 100., 100.]]
    hr_dets = [dict(image_id=100 + i, category_id=1, bbox=b, score=s)
               for i in range(2) for b, s in [(b, 0.5) for b in BOXES] +
               [(b, 0.9 - 0.1 * k) for k, b in enumerate(false_pos)]]
    gt = COCO(cascade_json(tmp_path, ann_file, img_dir, hw))
    ev = COCOeval(gt, gt.loadRes(hr_dets), 'bbox')
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    want = [round(float(v), 3) for v in ev.stats[3:6]]
    assert min(want) > 0 and max(want) < 1  # every bin has objects and false positives

    def lr_route(metric_type):
        metric = metric_type(ann_file=lr_json, metric='bbox')
        metric.dataset_meta = dict(classes=('thing',))
        for i in range(2):
            dets = [d for d in hr_dets if d['image_id'] == 100 + i]
            boxes = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in
                                  (d['bbox'] for d in dets)]) / 4
            metric.process({}, [dict(img_id=100 + i, ori_shape=(hw[0] // 4, hw[1] // 4),
                                     pred_instances=dict(
                                         bboxes=boxes, labels=torch.zeros(len(dets), dtype=int),
                                         scores=torch.tensor([d['score'] for d in dets])))])
        res = metric.compute_metrics(metric.results)
        return [res[f'bbox_mAP_{k}'] for k in ('s', 'm', 'l')]

    assert lr_route(HRAreaCocoMetric) == want
    assert lr_route(CocoMetric) != want, (want, lr_route(CocoMetric))


@pytest.mark.parametrize('out', ['root', 'img_dir', 'inside_img_dir'])
def test_output_overlapping_the_input_is_refused_and_nothing_is_written(tmp_path, capsys,
                                                                        out):
    """Item 7: OUT_ROOT equal to the HR root (holding the HR json), to the image folder or
    inside it would overwrite or mix with the HR data: one error line, every HR file unchanged."""
    from fdsr_mm.utils import run_tool
    ann_file, img_dir = write_hr_set(str(tmp_path))
    out_root = dict(root=str(tmp_path), img_dir=img_dir,
                    inside_img_dir=osp.join(img_dir, 'lr'))[out]

    def snapshot():
        return {osp.relpath(osp.join(r, f), str(tmp_path)):
                hashlib.sha1(open(osp.join(r, f), 'rb').read()).hexdigest()
                for r, _, fs in os.walk(str(tmp_path)) for f in fs}

    before = snapshot()
    rc = run_tool('make_lr_coco', lambda: make_lr_coco.main([ann_file, img_dir, out_root]))
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and 'overlaps the input' in err[0], err
    assert snapshot() == before


def test_two_hr_files_with_the_same_stem_get_two_lr_files(tmp_path):
    """Item 8: a.png and a.jpg (different images) give a_png.png and a_jpg.png, each the LR of
    its own source, with its own annotations."""
    from fdsr_mm.datasets.image_io import read_hr
    from fdsr_mm.datasets.transforms.degradations import degrade
    from fdsr_mm.datasets.lr_coco import write_lr_coco
    ann_file, img_dir = write_hr_set(str(tmp_path), names=('a.png', 'a.jpg', 'b.png'))
    out_json, summary = write_lr_coco(ann_file, img_dir, str(tmp_path / 'lr'), scale=4)
    lr = json.load(open(out_json))
    names = {im['hr_file_name']: im['file_name'] for im in lr['images']}
    assert names == {'a.png': 'a_png.png', 'a.jpg': 'a_jpg.png', 'b.png': 'b.png'}
    assert sorted(os.listdir(str(tmp_path / 'lr' / 'images'))) == sorted(names.values())
    for im in lr['images']:
        src = osp.join(img_dir, im['hr_file_name'])
        want = degrade(np.ascontiguousarray(read_hr(src)[0]), 4, key=osp.basename(src))
        got = cv2.imread(str(tmp_path / 'lr' / 'images' / im['file_name']))[..., ::-1]
        assert np.array_equal(got, want), im
        assert sum(a['image_id'] == im['id'] for a in lr['annotations']) == len(BOXES)


def _rect_mask(hw, y0, y1, x0, x1):
    m = np.zeros(hw, np.uint8)
    m[y0:y1, x0:x1] = 1
    return m


def _uncompressed_rle(mask):
    """COCO's crowd format: counts as a list of run lengths (column-major), starting with 0s."""
    flat = mask.flatten(order='F')
    runs, cur, n = [], 0, 0
    for v in flat:
        if v != cur:
            runs.append(n)
            cur, n = v, 0
        n += 1
    runs.append(n)
    return dict(size=list(mask.shape), counts=[int(r) for r in runs])


def test_crowd_rle_masks_are_downscaled(tmp_path, capsys):
    """Crowd regions (RLE, compressed or not) become LR RLE masks: a rectangle on a 4-pixel grid
    is that rectangle / 4; the mod-crop cuts what lies beyond it."""
    from pycocotools import mask as mask_utils
    hw = (242, 203)  # mod-cropped to 240 x 200
    crowd = _rect_mask(hw, 40, 120, 20, 100)
    edge = _rect_mask(hw, 200, 242, 160, 203)  # reaches past the crop
    packed = mask_utils.encode(np.asfortranarray(edge))
    extra = [dict(image_id=100, category_id=1, bbox=[20., 40., 80., 80.], area=6400.,
                  iscrowd=1, segmentation=_uncompressed_rle(crowd)),
             dict(image_id=100, category_id=1, bbox=[160., 200., 43., 42.], area=1806.,
                  iscrowd=1, segmentation=dict(size=list(hw),
                                               counts=packed['counts'].decode('ascii')))]
    ann_file, img_dir = write_hr_set(str(tmp_path), names=('a.png',), hw=hw, extra_anns=extra)
    assert make_lr_coco.main([ann_file, img_dir, str(tmp_path / 'lr')]) == 0
    assert '(2 RLE masks downscaled)' in capsys.readouterr().out
    lr = json.load(open(str(tmp_path / 'lr' / 'annotations' / 'instances.json')))
    rles = [a for a in lr['annotations'] if a['iscrowd']]
    assert [a['area'] for a in rles] == [6400., 1806.]  # HR areas
    got = [mask_utils.decode(dict(a['segmentation'], counts=a['segmentation']['counts']
                                  .encode('ascii'))) for a in rles]
    assert np.array_equal(got[0], _rect_mask((60, 50), 10, 30, 5, 25))
    assert np.array_equal(got[1], _rect_mask((60, 50), 50, 60, 40, 50))


def test_negative_seed_is_refused_like_cascade_eval_and_options_have_help(tmp_path, capsys):
    from fdsr_mm.apis.cascade.options import CascadeError, CascadeOptions
    from fdsr_mm.utils import run_tool
    with pytest.raises(CascadeError, match='degradation_seed'):
        CascadeOptions('c.py', 'c.pth', ['hr'], 'o', degradation_seed=-1)
    ann_file, img_dir = write_hr_set(str(tmp_path))
    argv = [ann_file, img_dir, str(tmp_path / 'lr'), '--degradation-seed', '-1']
    assert run_tool('make_lr_coco', lambda: make_lr_coco.main(argv)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'must be an integer >= 0, got -1' in err[0] \
        and '--degradation-seed' in err[0]
    assert not osp.exists(str(tmp_path / 'lr'))
    with pytest.raises(SystemExit):
        make_lr_coco.parse_args(['--help'])
    usage = capsys.readouterr().out
    for option, words in (('--scale', 'downsampling factor'), ('--degradation-seed', '>= 0')):
        assert words in usage.split(option, 2)[-1].split('--')[0], option
