"""ObjectCropDataset: one sample per object, crops equal the box region of the loaded image."""
import json
import math
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from PIL import Image

import fdsr_mm  # noqa: F401  (registers the dataset and transforms)
from fdsr_mm.datasets import SYNTHETIC_COCO_CLASSES, write_synthetic_coco
from fdsr_mm.datasets.object_crops import context_region
from mmdet.registry import DATASETS

CLS_CONFIG = 'configs/study/classifiers/r18-c16-c4_crop-cls_1xb32-800i_synthetic-coco.py'


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('crops_coco'))
    write_synthetic_coco(root, num_train=5, num_val=2, image_size=128, seed=11)
    return root


def build(root, pipeline, split='train'):
    with DefaultScope.overwrite_default_scope('mmdet'):
        return DATASETS.build(dict(
            type='ObjectCropDataset', data_root=root,
            ann_file=f'annotations/instances_{split}.json', data_prefix=dict(img=f'{split}/'),
            metainfo=dict(classes=SYNTHETIC_COCO_CLASSES), pipeline=pipeline))


def test_one_sample_per_object_in_json_order_labelled_by_category(coco_root):
    with open(osp.join(coco_root, 'annotations/instances_train.json')) as f:
        coco = json.load(f)
    names = {c['id']: c['name'] for c in coco['categories']}
    expect = [(img['id'], [a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                           a['bbox'][1] + a['bbox'][3]],
               SYNTHETIC_COCO_CLASSES.index(names[a['category_id']]))
              for img in coco['images'] for a in coco['annotations'] if a['image_id'] == img['id']]
    dataset = build(coco_root, [])
    got = [(d['img_id'], d['bbox'], d['gt_label']) for d in map(dataset.get_data_info,
                                                                 range(len(dataset)))]
    assert len(expect) > 10 and got == expect
    assert {label for *_, label in got} == set(range(len(SYNTHETIC_COCO_CLASSES)))
    again = build(coco_root, [])  # deterministic order
    assert [again.get_data_info(i)['bbox'] for i in range(len(again))] == [b for _, b, _ in got]


def test_crop_is_the_box_region_of_the_bgr_uint8_image(coco_root):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='CropObjectBox', margin=0.),
                dict(type='PackCropInputs')]
    dataset = build(coco_root, pipeline)
    for idx in range(0, len(dataset), 3):
        info, out = dataset.get_data_info(idx), dataset[idx]
        rgb = np.asarray(Image.open(info['img_path']).convert('RGB'))
        x1, y1, x2, y2 = info['bbox']
        window = (math.floor(x1), math.floor(y1), math.ceil(x2), math.ceil(y2))
        assert out['data_samples'].crop_region == window
        crop = rgb[window[1]:window[3], window[0]:window[2], ::-1]  # BGR, [0, 255]
        assert out['inputs'].dtype == torch.uint8
        np.testing.assert_array_equal(out['inputs'].numpy().transpose(1, 2, 0), crop)
        assert out['data_samples'].gt_label.tolist() == [info['gt_label']]


def test_context_margin_grows_the_window_and_stops_at_the_image_border():
    assert context_region([10, 20, 30, 60], 0.1, 100, 100) == (8, 16, 32, 64)
    assert context_region([2, 0.5, 98, 40.2], 0.25, 50, 100) == (0, 0, 100, 50)
    with pytest.raises(ValueError, match='outside'):
        context_region([120, 10, 130, 20], 0., 100, 100)


def test_config_pipeline_gives_fixed_size_resized_crops(coco_root, repo_root):
    cfg = Config.fromfile(osp.join(repo_root, CLS_CONFIG))
    size = cfg.crop_size
    dataset = build(coco_root, cfg.test_pipeline, split='val')
    margin = cfg.test_pipeline[1].margin
    for idx in (0, len(dataset) - 1):
        info, out = dataset.get_data_info(idx), dataset[idx]
        bgr = mmcv.imread(info['img_path'])
        x1, y1, x2, y2 = context_region(info['bbox'], margin, *bgr.shape[:2])
        expect = mmcv.imresize(bgr[y1:y2, x1:x2], (size, size))  # bilinear, as mmdet Resize
        assert tuple(out['inputs'].shape) == (3, size, size)
        np.testing.assert_array_equal(out['inputs'].numpy().transpose(1, 2, 0), expect)
        assert out['data_samples'].gt_label.item() == info['gt_label']
