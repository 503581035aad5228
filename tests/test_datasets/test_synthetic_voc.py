"""The synthetic VOC-format set: mmdet's VOC layout and box convention, deterministic, generator
settings that differ from the COCO-format set, and the study's SSD trains and tests on it."""
import inspect
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from fdsr_mm.datasets import (SYNTHETIC_COCO_CLASSES, SYNTHETIC_VOC_GENERATOR, write_synthetic_coco,
                              write_synthetic_voc)
from fdsr_mm.datasets.synthetic_coco import synthetic_detection_image
from fdsr_mm.datasets.synthetic_voc import _STREAM_TAG

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASE_CFG = osp.join(REPO_ROOT, 'configs/study/_base_/synthetic-voc_detection.py')
SSD_CFG = osp.join(REPO_ROOT,
                   'configs/study/detectors/ssd300_r18-c16_1xb8-1000i_synthetic-voc.py')


@pytest.fixture(scope='module')
def voc_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic_voc'))
    return root, write_synthetic_voc(root, num_trainval=10, num_test=4, seed=3)


def _voc_dataset(root, split, **kwargs):
    from mmdet.datasets import VOCDataset
    cfg = Config.fromfile(BASE_CFG)
    return VOCDataset(data_root=root, ann_file=f'VOC2007/ImageSets/Main/{split}.txt',
                      data_prefix=dict(sub_data_root='VOC2007/'), metainfo=cfg.metainfo,
                      pipeline=[], **kwargs)


def test_layout_and_return_value(voc_root):
    root, info = voc_root
    voc = osp.join(root, 'VOC2007')
    assert info['voc_dir'] == voc and info['image_size'] == (300, 300)
    assert len(info['trainval_ids']) == 10 and len(info['test_ids']) == 4
    assert not set(info['trainval_ids']) & set(info['test_ids'])
    for split in ('trainval', 'test'):
        with open(osp.join(voc, 'ImageSets', 'Main', f'{split}.txt')) as f:
            assert f.read().split() == info[f'{split}_ids']
    assert len(os.listdir(osp.join(voc, 'JPEGImages'))) == 14  # no temporary files left
    assert len(os.listdir(osp.join(voc, 'Annotations'))) == 14
    img = cv2.imread(osp.join(voc, 'JPEGImages', info['test_ids'][0] + '.jpg'))
    assert img.shape == (300, 300, 3)
    assert info['num_trainval_objects'] >= 2 * 10 and info['num_test_objects'] >= 2 * 4


def test_mmdet_voc_dataset_reads_the_drawn_boxes_and_labels(voc_root):
    root, info = voc_root
    ds = _voc_dataset(root, 'trainval')
    assert len(ds) == 10 and ds.metainfo['dataset_type'] == 'VOC2007'
    seen = set()
    for index, item in enumerate(ds):  # regenerate each image from its random stream
        rng = np.random.default_rng([3, _STREAM_TAG, 0, index])
        img, objects = synthetic_detection_image(rng, (300, 300), **SYNTHETIC_VOC_GENERATOR)
        assert item['img_path'].endswith(osp.join('VOC2007', 'JPEGImages', f'{index:06d}.jpg'))
        assert (item['height'], item['width']) == (300, 300)
        assert [i['bbox_label'] for i in item['instances']] == [o['label'] for o in objects]
        for inst, obj in zip(item['instances'], objects):
            assert inst['ignore_flag'] == 0
            x0, y0, x1, y1 = inst['bbox']  # mmdet: 0-based, xmax/ymax = last object pixel
            ys, xs = np.nonzero(obj['mask'])
            assert (x0, y0, x1, y1) == (xs.min(), ys.min(), xs.max(), ys.max())
            inside = np.zeros_like(obj['mask'])
            inside[y0:y1 + 1, x0:x1 + 1] = True
            assert not (obj['mask'] & ~inside).any()  # the box covers the drawn object
            seen.add(inst['bbox_label'])
        # The JPEG on disk is that image (quality 95, 4:4:4: only small coding errors).
        disk = cv2.cvtColor(cv2.imread(item['img_path']), cv2.COLOR_BGR2RGB)
        mse = np.mean((disk.astype(np.float64) - img) ** 2)
        assert 10 * np.log10(255 ** 2 / mse) > 32
    assert len(seen) >= 4
    names = {SYNTHETIC_COCO_CLASSES[label] for label in seen}
    assert names <= set(Config.fromfile(BASE_CFG).metainfo['classes'])


def test_same_seed_gives_identical_files_and_other_seed_does_not(tmp_path):
    kw = dict(num_trainval=3, num_test=2, image_size=128)
    a = write_synthetic_voc(str(tmp_path / 'a'), seed=7, **kw)
    write_synthetic_voc(str(tmp_path / 'b'), seed=7, **kw)
    write_synthetic_voc(str(tmp_path / 'c'), seed=8, **kw)
    for image_id in a['trainval_ids'] + a['test_ids']:
        for name in (f'JPEGImages/{image_id}.jpg', f'Annotations/{image_id}.xml'):
            data = {k: (tmp_path / k / 'VOC2007' / name).read_bytes() for k in 'abc'}
            assert data['a'] == data['b'] and data['a'] != data['c']
    jpg = tmp_path / 'a' / 'VOC2007' / 'JPEGImages'
    assert (jpg / f'{a["trainval_ids"][0]}.jpg').read_bytes() != \
        (jpg / f'{a["test_ids"][0]}.jpg').read_bytes()  # independent split streams


def test_generator_settings_differ_from_the_coco_format_set(tmp_path):
    coco_defaults = {k: p.default for k, p in
                     inspect.signature(synthetic_detection_image).parameters.items()
                     if k in SYNTHETIC_VOC_GENERATOR}
    assert coco_defaults == dict(num_objects=(3, 8), object_side=(16.0, 160.0))
    assert SYNTHETIC_VOC_GENERATOR['num_objects'] != coco_defaults['num_objects']
    assert SYNTHETIC_VOC_GENERATOR['object_side'] != coco_defaults['object_side']
    assert inspect.signature(write_synthetic_voc).parameters['image_size'].default == (300, 300)
    assert inspect.signature(write_synthetic_coco).parameters['image_size'].default == 256
    # Same seed, same size: still other images (other random streams, other settings).
    coco = write_synthetic_coco(str(tmp_path / 'coco'), num_train=1, num_val=0, image_size=128)
    voc = write_synthetic_voc(str(tmp_path / 'voc'), num_trainval=12, num_test=0,
                              image_size=128)
    coco_img = cv2.imread(osp.join(coco['train_img_dir'], '000000.png'))
    voc_img = cv2.imread(osp.join(voc['voc_dir'], 'JPEGImages', '000000.jpg'))
    assert np.abs(coco_img.astype(int) - voc_img).mean() > 20
    ds = _voc_dataset(voc['root'], 'trainval')
    counts = [len(ds[i]['instances']) for i in range(12)]
    assert 2 <= min(counts) and max(counts) <= 6


@pytest.mark.slow
def test_cli_writes_the_set_and_rejects_sizes_not_multiple_of_4(tmp_path):
    tool = osp.join(REPO_ROOT, 'tools', 'make_synthetic_voc.py')
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    bad = subprocess.run([sys.executable, tool, str(tmp_path), '--size', '150'],
                         capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and 'multiple of 4' in bad.stderr
    ok = subprocess.run([sys.executable, tool, str(tmp_path), '--trainval', '2', '--test', '1',
                         '--size', '96', '128'], capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    assert 'wrote 2 trainval images' in ok.stdout
    img = cv2.imread(str(tmp_path / 'VOC2007' / 'JPEGImages' / '1000000.jpg'))
    assert img.shape == (96, 128, 3)


@pytest.mark.slow
def test_study_ssd_trains_one_iteration_and_tests_on_a_tiny_set(voc_root, tmp_path):
    import torch
    from mmengine.runner import Runner
    torch.set_num_threads(1)
    root, _ = voc_root
    cfg = Config.fromfile(SSD_CFG)
    assert cfg.model.bbox_head.type == 'FixedSSDHead' and cfg.model.backbone.init_cfg is None
    assert tuple(cfg.cascade_hr_size) == (300, 300)
    assert cfg.test_evaluator.type == 'VOCMetric'
    cfg.merge_from_dict({
        'work_dir': str(tmp_path / 'work'), 'train_cfg.max_iters': 1,
        'train_cfg.val_interval': 1, 'param_scheduler.1.end': 1,
        'default_hooks.checkpoint.interval': 1, 'train_dataloader.batch_size': 2,
        'train_dataloader.dataset.data_root': root, 'val_dataloader.batch_size': 2,
        'val_dataloader.dataset.data_root': root, 'test_dataloader.dataset.data_root': root})
    runner = Runner.from_cfg(cfg)
    runner.train()  # one iteration, then one validation pass over the 4 test images
    metrics = runner.test()
    assert 0.0 <= metrics['pascal_voc/mAP'] <= 1.0
    assert osp.isfile(osp.join(str(tmp_path / 'work'), 'iter_1.pth'))
