"""tools/make_lr_coco.py: an LR-annotated COCO set (degraded images, boxes / scale) that the SR +
detector test loop scores with CocoMetric."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from conftest import load_tool
from helpers import cascade_testlib as lib
from helpers.sr_detector_testlib import tiny_setup, write_sr_detector_config

make_lr_coco = load_tool('make_lr_coco')

# mmdet's inference APIs set the default scope process-wide: undo it after each test
pytestmark = pytest.mark.usefixtures('restore_default_scope')


@pytest.fixture(scope='module')
def lr_set(tmp_path_factory):
    setup = tiny_setup(tmp_path_factory.mktemp('make_lr_coco'))
    bad = lib.add_bad_images(setup['data'])  # corrupt, gray, 20x30, 63x70 (box at the border)
    out = str(setup['root'] / 'lr')
    ann = osp.join(setup['data'], 'annotations', 'instances_val.json')
    assert make_lr_coco.main([ann, osp.join(setup['data'], 'val'), out]) == 0
    return dict(setup, bad=bad, out=out, hr=json.load(open(ann)),
                lr=json.load(open(osp.join(out, 'annotations', 'instances_val.json'))))


def test_images_are_the_cascades_lr_and_boxes_are_divided_by_the_scale(lr_set):
    from fdsr_mm.datasets.image_io import read_hr
    from fdsr_mm.datasets.transforms.degradations import degrade
    hr, lr = lr_set['hr'], lr_set['lr']
    assert [im['file_name'] for im in lr['images']] == [
        osp.splitext(im['file_name'])[0] + '.png' for im in hr['images']
        if im['file_name'] != lr_set['bad']['corrupt']]  # the corrupt file is left out
    sizes = {im['id']: (im['height'], im['width']) for im in lr['images']}
    assert sizes[1] == (16, 18) and sizes[max(sizes)] == (15, 17)  # 63x70 mod-cropped to 60x68
    for im in lr['images'][:2] + lr['images'][-1:]:
        src = osp.join(lr_set['data'], 'val', next(h['file_name'] for h in hr['images']
                                                    if h['id'] == im['id']))
        img = read_hr(src)[0]
        h, w = im['height'] * 4, im['width'] * 4
        want = degrade(np.ascontiguousarray(img[:h, :w]), 4, key=osp.basename(src))
        got = cv2.cvtColor(cv2.imread(osp.join(lr_set['out'], 'images', im['file_name'])),
                           cv2.COLOR_BGR2RGB)
        assert np.array_equal(got, want)
    hr_boxes = {a['id']: a['bbox'] for a in hr['annotations']}
    for a in lr['annotations']:
        x, y, w, h = hr_boxes[a['id']]
        H, W = sizes[a['image_id']]
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, W * 4), min(y + h, H * 4)
        assert a['bbox'] == pytest.approx([x0 / 4, y0 / 4, (x1 - x0) / 4, (y1 - y0) / 4])
    # the border box of the 63x70 image is clipped to the 60x68 crop
    odd = max(sizes)
    (box,) = [a['bbox'] for a in lr['annotations'] if a['image_id'] == odd]
    assert box[0] + box[2] == pytest.approx(17) and box[1] + box[3] == pytest.approx(15)
    assert lr['info']['fdsr_mm_lr']['degradation'] == 'bicubic'


def test_sr_detector_test_loop_scores_the_lr_set_with_coco_metric(lr_set):
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(write_sr_detector_config(lr_set['root'] / 'loop.py', lr_set['det_cfg'],
                                                   lr_set['ckpt'], scale=4))
    cfg.merge_from_dict({
        'test_dataloader.dataset.data_root': lr_set['out'],
        'test_dataloader.dataset.data_prefix.img': 'images/',
        'test_evaluator.type': 'HRAreaCocoMetric',  # detections' areas in HR pixels too
        'test_evaluator.ann_file': osp.join(lr_set['out'], 'annotations', 'instances_val.json')})
    cfg.work_dir = str(lr_set['root'] / 'work')
    metrics = Runner.from_cfg(cfg).test()
    assert 0 <= metrics['coco/bbox_mAP_50'] <= 1  # defined: LR boxes exist and were matched


def _run(argv):
    """tools/make_lr_coco.py as its __main__ runs it: faults are one line, exit code 2."""
    from fdsr_mm.utils import run_tool
    return run_tool('make_lr_coco', lambda: make_lr_coco.main(argv))


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('make_lr_coco: error: '), err
    return err[0]


def test_bad_inputs_exit_2(lr_set, tmp_path, capsys):
    assert _run([str(tmp_path / 'none.json'), '.', str(tmp_path / 'o')]) == 2
    assert 'none.json' in _one_error_line(capsys)
    bad = tmp_path / 'bad.json'
    bad.write_text('{"annotations": []}')
    assert _run([str(bad), '.', str(tmp_path / 'o')]) == 2
    assert 'not a COCO detection json' in _one_error_line(capsys)
    ann = osp.join(lr_set['data'], 'annotations', 'instances_val.json')
    assert _run([ann, '.', str(tmp_path / 'o'), '--degradation', 'nope']) == 2
    assert "'nope'" in _one_error_line(capsys)
