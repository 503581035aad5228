"""lr_native: the detector on the LR image itself, through its own test resize, with its boxes on
the HR annotation scale (issue 21's first control), checked against the same detector run by hand
on the cached LR image with mmdet's plain test pipeline."""
import json
import os.path as osp
import pickle

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

from helpers import cascade_testlib as lib
from fdsr_mm.apis import parse_method, run_cascade
from fdsr_mm.apis.cascade.detect_pass import replace_loader
from fdsr_mm.apis.cascade.options import CascadeError
from fdsr_mm.datasets.transforms import RescaleToHR
from mmdet.registry import MODELS

HR_HW = (64, 72)


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp('lr_native')
    data = str(root / 'data')
    lib.make_dataset(data, num_val=4, image_hw=HR_HW)
    cfg, ckpt = lib.make_detector(str(root / 'det'), data)
    out = str(root / 'out')
    res = run_cascade(cfg, ckpt, ['hr', 'bicubic', 'lr_native'], out, scale=4,
                      show_dir=str(root / 'show'), show_score_thr=0.0, progress=False)
    return dict(root=root, data=data, cfg=cfg, ckpt=ckpt, out=out, res=res)


def _predictions(out, method):
    with open(osp.join(out, 'methods', method, 'predictions.pkl'), 'rb') as f:
        return {p['img_id']: p['pred_instances'] for p in pickle.load(f)}


def test_lr_native_is_a_builtin_method_of_kind_lr():
    m = parse_method('lr_native')
    assert (m.name, m.kind) == ('lr_native', 'lr')
    with pytest.raises(ValueError, match='reserved'):
        parse_method('lr_native=a.py:b.pth')


def test_boxes_are_the_detector_on_the_lr_image_times_the_scale(run):
    """By hand: the cached LR PNG through mmdet's own test pipeline (LoadImageFromFile, the
    config's resize, packing) and the detector: boxes on the LR image. The cascade's lr_native
    boxes are those times 4, i.e. on the HR annotation scale."""
    res = run['res']['methods']['lr_native']
    cache = res['spec']['cache']
    cfg = Config.fromfile(run['cfg'])
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model)
        load_checkpoint(model, run['ckpt'], map_location='cpu', logger='silent')
        model.eval()
        pipeline = Compose([t for t in cfg.test_pipeline if t['type'] != 'LoadAnnotations'])
    ours = _predictions(run['out'], 'lr_native')
    assert run['res']['dataset']['num_evaluated'] == 4 and len(ours) == 4
    with open(osp.join(run['out'], 'eval_inputs', 'index.0.json')) as f:
        index = json.load(f)  # HR path -> the cached file of that image
    with open(osp.join(run['data'], 'annotations', 'instances_val.json')) as f:
        images = json.load(f)['images']
    for image in images:
        entry = index[osp.join(run['data'], 'val', image['file_name'])]
        lr_file = osp.join(cache, entry['file'])
        with DefaultScope.overwrite_default_scope('mmdet'):
            data = pipeline(dict(img_path=lr_file, img_id=image['id']))
            with torch.no_grad():
                by_hand = model.test_step(pseudo_collate([data]))[0].pred_instances
        lr_hw = data['data_samples'].ori_shape
        assert tuple(lr_hw) == (HR_HW[0] // 4, HR_HW[1] // 4)  # the LR image was detected
        got = ours[image['id']]
        np.testing.assert_allclose(got['scores'].numpy(), by_hand.scores.numpy(), rtol=1e-4)
        np.testing.assert_allclose(got['bboxes'].numpy(), 4 * by_hand.bboxes.numpy(),
                                   rtol=1e-5, atol=1e-3)
        assert float(got['bboxes'][:, 2].max()) > lr_hw[1]  # beyond the LR width: HR scale
        assert float(got['bboxes'][:, 2].max()) <= HR_HW[1] + 1e-3


def test_lr_native_row_has_detection_numbers_and_no_image_quality(run):
    methods = run['res']['methods']
    assert methods['lr_native']['iq'] == {} and methods['bicubic']['iq']
    assert set(methods['lr_native']['det']) >= {'AP', 'AP50', 'AP75'}
    dets = {m: json.load(open(osp.join(run['out'], 'methods', m, 'detections.bbox.json')))
            for m in ('bicubic', 'lr_native')}
    assert dets['lr_native'] and dets['lr_native'] != dets['bicubic']  # another input
    table = open(osp.join(run['out'], 'table1.md')).read()
    assert table.startswith('| Method | hr | bicubic | lr_native |')
    panels = sorted((run['root'] / 'show').iterdir())
    assert cv2.imread(str(panels[0])).shape[1] == 3 * HR_HW[1]  # LR shown at HR size


def test_loader_and_rescale_steps():
    pipe = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(128, 128)),
            dict(type='LoadAnnotations', with_bbox=True), dict(type='PackDetInputs')]
    out = replace_loader(pipe, 'index.json', 'cache', lr_scale=4)
    assert [t['type'] for t in out] == ['LoadCascadeImage', 'Resize', 'LoadAnnotations',
                                        'RescaleToHR', 'PackDetInputs']
    assert out[0]['lr_scale'] == 4 and out[3]['scale'] == 4
    assert replace_loader(pipe, 'index.json', 'cache') == [
        dict(type='LoadCascadeImage', index_file='index.json', image_dir='cache')] + pipe[1:]
    with pytest.raises(ValueError, match='packing step'):
        replace_loader(pipe[:-1], 'index.json', 'cache', lr_scale=4)
    r = RescaleToHR(4)(dict(scale_factor=(8.0, 6.0), ori_shape=(16, 18)))
    assert r['scale_factor'] == (2.0, 1.5) and r['ori_shape'] == (64, 72)


def test_no_packing_step_fails_with_the_inputs_before_any_sr_work(run, tmp_path):
    """lr_native on a test pipeline without packing: refused by check_inputs (one CascadeError
    naming the pipeline), before the HR images are prepared or any method's images made."""
    pipeline = [t for t in Config.fromfile(run['cfg']).test_dataloader.dataset.pipeline
                if 'Pack' not in t['type']]
    cache = tmp_path / 'cache'
    with pytest.raises(CascadeError, match=r"lr_native needs a packing step \(PackDetInputs\) "
                                           r"in the detector test pipeline: \['LoadImageFromFile'"):
        run_cascade(run['cfg'], run['ckpt'], ['bicubic', 'lr_native'], str(tmp_path / 'out'),
                    scale=4, cache_dir=str(cache), progress=False,
                    cfg_options={'test_dataloader.dataset.pipeline': pipeline})
    assert not (cache.exists() and any(p.is_file() for p in cache.rglob('*')))
    assert not (tmp_path / 'out' / 'eval_inputs').exists()
