"""HR images + boxes for task-driven SR: boxes follow mmdet's resize/flip, LR is the shared bicubic,
channels stay RGB, and the boxes survive MMagic's collate + DataPreprocessor as InstanceData lists.

The data are tiny real COCO (json + PNG) and VOC (XML + JPEG + ImageSets) folders with filled
rectangles of distinct colours drawn at known places on a grey background.
"""
import copy
import json
import os
import os.path as osp
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmengine.structures import InstanceData

from fdsr_mm.datasets import bicubic_downsample
from mmagic.registry import DATASETS, MODELS
from mmdet.datasets import VOCDataset

VOC_BASE = 'configs/_base_/datasets/voc0712_tdsr_x4.py'
COCO_BASE = 'configs/_base_/datasets/coco_tdsr_x4.py'
SR_CONFIG = 'configs/dbpn/dbpn-tiny_x4_1xb4-200i_synthetic.py'
RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)  # RGB
VOC_CLASSES = VOCDataset.METAINFO['classes']


def _canvas(h, w):
    """(h, w, 3) uint8 RGB grey gradient (R = G = B, never 'red' nor 'blue')."""
    ramp = np.linspace(40, 160, w, dtype=np.float32)[None, :, None]
    return np.broadcast_to(ramp, (h, w, 3)).astype(np.uint8).copy()


def _draw(img, x, y, w, h, rgb):
    img[y:y + h, x:x + w] = rgb  # pixels x..x+w-1, y..y+h-1; continuous box [x, y, x+w, y+h]


def _write_rgb(path, img, params=()):
    assert cv2.imwrite(path, np.ascontiguousarray(img[..., ::-1]), list(params))  # RGB -> BGR


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    """a.png (200x150): red box (cat 3), blue box (cat 7), green crowd box (cat 9);
    b.png (120x100): no annotation. Category ids are not contiguous (labels 0, 1, 2)."""
    root = tmp_path_factory.mktemp('coco')
    os.makedirs(root / 'train')
    boxes = {3: ([40, 30, 80, 60], RED, 0), 7: ([130, 90, 50, 40], BLUE, 0),
             9: ([10, 100, 20, 30], GREEN, 1)}
    img = _canvas(150, 200)
    anns = []
    for i, (cat, ((x, y, w, h), rgb, crowd)) in enumerate(boxes.items()):
        _draw(img, x, y, w, h, rgb)
        anns.append(dict(id=i + 1, image_id=1, category_id=cat, bbox=[x, y, w, h], area=w * h,
                         iscrowd=crowd,
                         segmentation=[[x, y, x + w, y, x + w, y + h, x, y + h]]))
    _write_rgb(str(root / 'train' / 'a.png'), img)
    _write_rgb(str(root / 'train' / 'b.png'), _canvas(100, 120))
    coco = dict(images=[dict(id=1, file_name='a.png', width=200, height=150),
                        dict(id=2, file_name='b.png', width=120, height=100)],
                annotations=anns,
                categories=[dict(id=c, name=n) for c, n in ((3, 'red'), (7, 'blue'),
                                                              (9, 'green'))])
    (root / 'train.json').write_text(json.dumps(coco))
    return str(root)


def _voc_xml(path, w, h, objects):
    ann = ET.Element('annotation')
    size = ET.SubElement(ann, 'size')
    for k, v in (('width', w), ('height', h), ('depth', 3)):
        ET.SubElement(size, k).text = str(v)
    for name, difficult, (x0, y0, x1, y1) in objects:  # VOC: 1-based, inclusive pixels
        obj = ET.SubElement(ann, 'object')
        ET.SubElement(obj, 'name').text = name
        ET.SubElement(obj, 'difficult').text = str(difficult)
        box = ET.SubElement(obj, 'bndbox')
        for k, v in (('xmin', x0), ('ymin', y0), ('xmax', x1), ('ymax', y1)):
            ET.SubElement(box, k).text = str(v)
    ET.ElementTree(ann).write(path)


@pytest.fixture(scope='module')
def voc_root(tmp_path_factory):
    """VOC2007 and VOC2012 each with 000001.jpg (400x320: red 'dog' at pixels x 80..199,
    y 64..159; blue difficult 'cat') and 000002.jpg (no object), listed in trainval.txt."""
    root = tmp_path_factory.mktemp('VOCdevkit')
    img = _canvas(320, 400)
    _draw(img, 80, 64, 120, 96, RED)
    _draw(img, 260, 200, 100, 80, BLUE)
    for year in ('VOC2007', 'VOC2012'):
        voc = root / year
        for d in ('JPEGImages', 'Annotations', 'ImageSets/Main'):
            os.makedirs(voc / d)
        _write_rgb(str(voc / 'JPEGImages' / '000001.jpg'), img,
                   (cv2.IMWRITE_JPEG_QUALITY, 100))
        _write_rgb(str(voc / 'JPEGImages' / '000002.jpg'), _canvas(240, 320))
        _voc_xml(str(voc / 'Annotations' / '000001.xml'), 400, 320,
                 [('dog', 0, (81, 65, 200, 160)), ('cat', 1, (261, 201, 360, 280))])
        _voc_xml(str(voc / 'Annotations' / '000002.xml'), 320, 240, [])
        for split in ('trainval', 'test'):
            (voc / 'ImageSets' / 'Main' / f'{split}.txt').write_text('000001\n000002\n')
    return str(root) + '/'


def _build(cfg):
    with DefaultScope.overwrite_default_scope('mmagic'):
        return DATASETS.build(cfg)


def _coco_dataset(repo_root, coco_root, flip_prob):
    pipeline = copy.deepcopy(Config.fromfile(osp.join(repo_root, VOC_BASE)).train_pipeline)
    pipeline[3]['prob'] = flip_prob
    return _build(dict(type='SRDetectionDataset', pipeline=pipeline,
                       det_dataset=dict(type='CocoDataset', data_root=coco_root,
                                        ann_file='train.json', data_prefix=dict(img='train/'),
                                        metainfo=dict(classes=('red', 'blue', 'green')))))


def _hflip(box, width=300):
    x0, y0, x1, y1 = box
    return np.array([width - x1, y0, width - x0, y1])


def _extent(gt_img, rgb):
    """(x0, y0, x1, y1) continuous extent of the pixels closer to ``rgb`` than to grey."""
    img = gt_img.permute(1, 2, 0).numpy().astype(np.int32)
    ch = int(np.argmax(rgb))
    mask = (img[..., ch] - np.delete(img, ch, axis=2).max(axis=2)) > 127
    ys, xs = np.nonzero(mask)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


@pytest.mark.parametrize('flip', [0, 1])
def test_coco_boxes_follow_resize_and_flip_onto_the_drawn_rectangles(repo_root, coco_root, flip):
    sample = _coco_dataset(repo_root, coco_root, float(flip))[0]
    ds = sample['data_samples']
    assert ds.gt_img.shape == (3, 300, 300) and ds.gt_img.dtype == torch.uint8
    # 200x150 -> 300x300: x * 1.5, y * 2; flip: x -> 300 - x.
    red, blue = np.array([60, 60, 180, 180.]), np.array([195, 180, 270, 260.])
    if flip:
        red, blue = _hflip(red), _hflip(blue)
    inst = ds.gt_instances
    assert isinstance(inst, InstanceData) and inst.bboxes.dtype == torch.float32
    assert inst.labels.dtype == torch.int64 and inst.labels.tolist() == [0, 1]
    np.testing.assert_allclose(inst.bboxes.numpy(), np.stack([red, blue]), atol=1e-4)
    np.testing.assert_allclose(inst.bboxes[0].numpy(), _extent(ds.gt_img, RED), atol=1)
    np.testing.assert_allclose(inst.bboxes[1].numpy(), _extent(ds.gt_img, BLUE), atol=1)
    # The crowd box is not a target (mmdet's ignore flag), it is kept apart as in PackDetInputs.
    assert ds.ignored_instances.labels.tolist() == [2]
    assert ds.metainfo['flip'] is bool(flip)


@pytest.mark.parametrize('flip', [0, 1])
def test_hr_is_the_cascades_bicubic_resize_and_lr_the_shared_bicubic(repo_root, coco_root, flip):
    sample = _coco_dataset(repo_root, coco_root, float(flip))[0]
    hr = sample['data_samples'].gt_img.permute(1, 2, 0).numpy()
    src = cv2.imread(osp.join(coco_root, 'train', 'a.png'))[..., ::-1]  # RGB
    expected = cv2.resize(np.ascontiguousarray(src), (300, 300), interpolation=cv2.INTER_CUBIC)
    np.testing.assert_array_equal(hr, expected[:, ::-1] if flip else expected)
    lr = sample['inputs']
    assert lr.shape == (3, 75, 75) and lr.dtype == torch.uint8
    np.testing.assert_array_equal(lr.permute(1, 2, 0).numpy(),
                                  bicubic_downsample(np.ascontiguousarray(hr), 4))


def test_channel_order_red_stays_in_the_r_channel(repo_root, coco_root):
    sample = _coco_dataset(repo_root, coco_root, 0.)[0]
    ds = sample['data_samples']
    assert ds.gt_img[:, 120, 120].tolist() == list(RED)  # inside the red box [60, 180)^2
    assert sample['inputs'][:, 30, 30].tolist() == list(RED)  # LR pixel 30 = HR 120..123
    assert ds.metainfo['gt_channel_order'] == ds.metainfo['img_channel_order'] == 'rgb'
    assert ds.metainfo['gt_path'] == ds.metainfo['img_path'] == osp.join(coco_root, 'train/a.png')


def test_image_without_boxes(repo_root, coco_root):
    ds = _coco_dataset(repo_root, coco_root, 0.5)[1]['data_samples']
    assert ds.gt_img.shape == (3, 300, 300)
    assert ds.gt_instances.bboxes.shape == (0, 4) and ds.gt_instances.labels.shape == (0,)
    assert ds.gt_instances.bboxes.dtype == torch.float32
    assert ds.gt_instances.labels.dtype == torch.int64


def test_runner_dataloader_and_data_preprocessor_give_lists_of_instances(repo_root, coco_root):
    """Batch = [image with boxes, image without]: the real mmengine dataloader (pseudo_collate)
    and the SR model's own DataPreprocessor (mean 0, std 255), then its loss."""
    cfg = dict(batch_size=2, num_workers=1, persistent_workers=False,
               sampler=dict(type='DefaultSampler', shuffle=False),
               dataset=dict(type='SRDetectionDataset',
                            pipeline=Config.fromfile(osp.join(repo_root, VOC_BASE)).train_pipeline,
                            det_dataset=dict(type='CocoDataset', data_root=coco_root,
                                             ann_file='train.json', data_prefix=dict(img='train/'),
                                             metainfo=dict(classes=('red', 'blue', 'green')))))
    model_cfg = Config.fromfile(osp.join(repo_root, SR_CONFIG)).model
    with DefaultScope.overwrite_default_scope('mmagic'):
        batch = next(iter(Runner.build_dataloader(cfg, seed=0)))
        model = MODELS.build(model_cfg)
    data = model.data_preprocessor(batch, training=True)
    inputs, samples = data['inputs'], data['data_samples']
    assert inputs.shape == (2, 3, 75, 75) and inputs.dtype == torch.float32
    assert samples.gt_img.shape == (2, 3, 300, 300) and float(samples.gt_img.max()) <= 1
    # RGB in [0, 1]: the red pixel of image 0 (box at x 60..180 unflipped, 120..240 flipped).
    assert inputs[0, :, 30, 37].tolist() == [1., 0., 0.]
    assert samples.gt_img[0, :, 120, 150].tolist() == [1., 0., 0.]
    inst = samples.gt_instances
    assert isinstance(inst, list) and len(inst) == 2
    assert all(isinstance(i, InstanceData) for i in inst)
    assert inst[0].labels.tolist() == [0, 1] and inst[0].bboxes.shape == (2, 4)
    assert inst[1].bboxes.shape == (0, 4) and inst[1].labels.shape == (0,)
    assert [len(i) for i in samples.ignored_instances] == [1, 0]
    assert torch.isfinite(model(inputs, samples, mode='loss')['loss'])  # the SR model trains on it


def _voc_cfg(repo_root, voc_root, key):
    """The base config's ``key`` dataloader on the tiny VOC folder."""
    cfg = Config.fromfile(osp.join(repo_root, VOC_BASE))[key]
    sets = cfg.dataset.datasets if cfg.dataset.type == 'ConcatDataset' else [cfg.dataset]
    for d in sets:
        d.det_dataset.data_root = voc_root
    return cfg


def test_voc_config_boxes_difficult_and_empty_images(repo_root, voc_root):
    train = _voc_cfg(repo_root, voc_root, 'train_dataloader')
    for d in train.dataset.datasets:
        d.pipeline[3]['prob'] = 1.0
    dataset = _build(train.dataset)
    assert len(dataset) == 2  # VOC07 + VOC12; filter_empty_gt drops 000002 (as mmdet's SSD)
    ds = dataset[0]['data_samples']
    assert ds.gt_img.shape == (3, 300, 300) and dataset[0]['inputs'].shape == (3, 75, 75)
    # Drawn x 80..199, y 64..159 of 400x320 -> x * 0.75, y * 0.9375, flipped: [150, 60, 240, 150].
    # mmdet reads VOC's inclusive 1-based (81, 65, 200, 160) as (80, 64, 199, 159): 1 px short.
    np.testing.assert_allclose(ds.gt_instances.bboxes.numpy(),
                               [[300 - 199 * 0.75, 60, 240, 159 * 0.9375]], atol=1e-4)
    np.testing.assert_allclose(ds.gt_instances.bboxes[0].numpy(), _extent(ds.gt_img, RED),
                               atol=1)
    assert ds.gt_instances.labels.tolist() == [VOC_CLASSES.index('dog')]
    # The difficult 'cat' is no target: ignored, as mmdet's VOC training does.
    assert ds.ignored_instances.labels.tolist() == [VOC_CLASSES.index('cat')]
    r, g, b = ds.gt_img[:, 100, 200].tolist()  # inside the flipped box; JPEG q100: +-2
    assert r >= 250 and g <= 5 and b <= 5
    val = _build(_voc_cfg(repo_root, voc_root, 'val_dataloader').dataset)
    assert len(val) == 2 and val[1]['data_samples'].gt_instances.bboxes.shape == (0, 4)
    assert 'flip' not in val[0]['data_samples'].metainfo  # no RandomFlip in the val pipeline
    assert dataset.metainfo['classes'] == VOC_CLASSES and val.metainfo['task_name'] == 'sisr'


def test_coco_config_parses(repo_root):
    cfg = Config.fromfile(osp.join(repo_root, COCO_BASE))
    assert cfg.train_dataloader.dataset.det_dataset.type == 'CocoDataset'
    assert cfg.train_dataloader.dataset.pipeline == cfg.train_pipeline
    assert cfg.val_dataloader.dataset.det_dataset.ann_file.endswith('instances_val2017.json')


def test_pipeline_inside_det_dataset_is_refused(coco_root):
    with pytest.raises(ValueError, match='give the pipeline to SRDetectionDataset'):
        _build(dict(type='SRDetectionDataset', pipeline=[],
                    det_dataset=dict(type='CocoDataset', data_root=coco_root,
                                     ann_file='train.json', pipeline=[dict(type='Foo')])))


def test_base_config_loaders_train_and_validate_an_sr_model(repo_root, voc_root, tmp_path):
    """The VOC TDSR data (ConcatDataset of 07 + 12, InfiniteSampler, a worker) in a real Runner:
    2 training iterations and a PSNR/SSIM validation of the tiny DBPN."""
    cfg = Config.fromfile(osp.join(repo_root, SR_CONFIG))
    for key in ('train_dataloader', 'val_dataloader', 'val_evaluator'):
        cfg[key] = _voc_cfg(repo_root, voc_root, key) if 'loader' in key else \
            Config.fromfile(osp.join(repo_root, VOC_BASE))[key]
    cfg.train_dataloader.update(batch_size=2, num_workers=1, persistent_workers=False)
    cfg.val_dataloader.update(num_workers=0)
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2)
    cfg.param_scheduler = []
    cfg.work_dir = str(tmp_path)
    cfg.default_hooks.checkpoint.interval = 100
    runner = Runner.from_cfg(cfg)
    runner.train()  # validates at iteration 2
    scalars = runner.message_hub.log_scalars
    assert np.isfinite(scalars['train/loss'].current())
    assert np.isfinite(scalars['val/PSNR'].current()) and 0 < scalars['val/SSIM'].current() <= 1
