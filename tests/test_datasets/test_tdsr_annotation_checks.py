"""TDSR data (SRDetectionDataset) checks its annotations: boxes outside their image are clipped
or dropped with a count (a zero-size target makes the task loss inf), objects of classes outside
the config's are counted in a warning, an unparsable XML is refused naming the file, and a COCO
json whose categories are ordered unlike the config's classes is refused (mmdet would give the
boxes another class's label). Data: the project's synthetic VOC / COCO generators, edited."""
import copy
import json
import logging
import os.path as osp
import uuid
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from mmengine import MMLogger
from mmengine.config import Config
from mmengine.registry import DefaultScope

import fdsr_mm  # noqa: F401  (registers the datasets and transforms)
from fdsr_mm.datasets.annotation_checks import clip_instances
from fdsr_mm.datasets.synthetic_coco import SYNTHETIC_COCO_CLASSES, write_synthetic_coco
from fdsr_mm.datasets.synthetic_voc import write_synthetic_voc
from fdsr_mm.utils import ToolError
from mmagic.registry import DATASETS

VOC_CONFIG = 'configs/_base_/datasets/synthetic-voc_tdsr_x4.py'


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def warnings_logged():
    """The WARNING messages logged to mmengine's current logger during the test."""
    logger = MMLogger.get_instance(f'test_tdsr_data_{uuid.uuid4().hex}')  # the current one now
    handler = _Records()
    logger.addHandler(handler)
    return lambda: [r.getMessage() for r in handler.records if r.levelno == logging.WARNING]


def _add_objects(xml_path, objects):
    """Append (name, (xmin, ymin, xmax, ymax)) objects (VOC 1-based) to an annotation file."""
    tree = ET.parse(xml_path)
    for name, box in objects:
        obj = ET.SubElement(tree.getroot(), 'object')
        ET.SubElement(obj, 'name').text = name
        ET.SubElement(obj, 'difficult').text = '0'
        bnd = ET.SubElement(obj, 'bndbox')
        for key, value in zip(('xmin', 'ymin', 'xmax', 'ymax'), box):
            ET.SubElement(bnd, key).text = str(value)
    tree.write(xml_path)


def _voc(tmp_path, n=3):
    info = write_synthetic_voc(str(tmp_path / 'voc'), num_trainval=n, num_test=1, image_size=64)
    return info['root'] + '/', osp.join(info['voc_dir'], 'Annotations')


def _voc_train_dataset(repo_root, data_root):
    """The synthetic-VOC TDSR training dataset of the configs, on ``data_root``."""
    cfg = copy.deepcopy(Config.fromfile(osp.join(repo_root, VOC_CONFIG)).train_dataloader.dataset)
    cfg.det_dataset.data_root = data_root
    with DefaultScope.overwrite_default_scope('mmagic'):
        return DATASETS.build(cfg)


def _all_boxes(dataset):
    return [np.asarray(i['bbox'], float) for k in range(len(dataset))
            for i in dataset.get_data_info(k)['instances']]


def test_voc_boxes_outside_the_image_are_dropped_or_clipped_with_counts(
        repo_root, tmp_path, warnings_logged):
    root, ann = _voc(tmp_path)
    # 64x64 images: one box entirely outside (mmdet's Resize would clip it to a zero-width box
    # at x = 64, an inf task loss), one partly outside, one of zero width (xmin = xmax: mmdet's
    # minus-one convention gives x1 == x0).
    _add_objects(osp.join(ann, '000000.xml'), [('striped', (100, 10, 120, 30)),
                                               ('dotted', (41, 5, 90, 20))])
    _add_objects(osp.join(ann, '000001.xml'), [('ringed', (30, 30, 30, 50))])
    dataset = _voc_train_dataset(repo_root, root)
    boxes = _all_boxes(dataset)
    assert all(b[2] > b[0] and b[3] > b[1] for b in boxes)
    assert all(b.min() >= 0 and b[[0, 2]].max() <= 64 and b[[1, 3]].max() <= 64 for b in boxes)
    assert any(np.allclose(b, [40, 4, 64, 19]) for b in boxes)  # the clipped one
    lines = [m for m in warnings_logged() if 'clipped' in m]
    assert len(lines) == 1, warnings_logged()
    assert 'clipped 1 boxes' in lines[0] and 'dropped 2 boxes' in lines[0]
    assert 'in 2 files' in lines[0] and '000000.xml' in lines[0] and '000001.xml' in lines[0]
    # every sample the pipeline makes still has positive-size targets only
    for k in range(len(dataset)):
        b = dataset[k]['data_samples'].gt_instances.bboxes
        assert bool(((b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])).all())


def test_clip_instances_counts():
    info = dict(width=10, height=8, instances=[
        dict(bbox=[1, 1, 5, 5]), dict(bbox=[-2, 3, 4, 12]), dict(bbox=[11, 0, 20, 5]),
        dict(bbox=[3, 3, 3, 6]), dict(bbox=[0, 0, float('nan'), 2])])
    assert clip_instances(info) == (1, 3)
    assert [i['bbox'] for i in info['instances']] == [[1, 1, 5, 5], [0., 3., 4., 8.]]


def test_clean_annotations_log_no_warning(repo_root, tmp_path, warnings_logged):
    root, _ = _voc(tmp_path, n=2)
    assert len(_voc_train_dataset(repo_root, root)) == 2
    assert not [m for m in warnings_logged() if 'SRDetectionDataset' in m]


def test_unknown_class_names_are_counted_in_one_warning(repo_root, tmp_path, warnings_logged):
    root, ann = _voc(tmp_path)
    _add_objects(osp.join(ann, '000000.xml'), [('bicycle', (2, 2, 20, 20)),
                                               ('bicycle', (5, 5, 30, 30))])
    _add_objects(osp.join(ann, '000002.xml'), [('car', (2, 2, 20, 20))])
    dataset = _voc_train_dataset(repo_root, root)
    labels = {i['bbox_label'] for k in range(len(dataset))
              for i in dataset.get_data_info(k)['instances']}
    assert labels <= set(range(5))
    lines = [m for m in warnings_logged() if 'classes not in' in m]
    assert len(lines) == 1, warnings_logged()
    assert "left out 3 objects" in lines[0] and "'bicycle': 2" in lines[0]
    assert "'car': 1" in lines[0] and 'in 2 files' in lines[0]
    assert '000000.xml' in lines[0] and '000002.xml' in lines[0]


def test_malformed_xml_is_refused_naming_the_file(repo_root, tmp_path):
    root, ann = _voc(tmp_path)
    bad = osp.join(ann, '000001.xml')
    with open(bad, 'r+') as f:
        text = f.read()
        f.seek(0)
        f.write(text[:len(text) // 2])
        f.truncate()
    with pytest.raises(ToolError, match=r'cannot parse the annotation \(ParseError: .*\) \(.*'
                                        r'VOC2007/Annotations/000001\.xml\)'):
        _voc_train_dataset(repo_root, root)


def test_xml_object_without_bndbox_is_refused_naming_the_file(repo_root, tmp_path):
    root, ann = _voc(tmp_path)
    path = osp.join(ann, '000002.xml')
    tree = ET.parse(path)
    obj = tree.getroot().find('object')
    obj.remove(obj.find('bndbox'))
    tree.write(path)
    with pytest.raises(ToolError, match=r'000002\.xml'):
        _voc_train_dataset(repo_root, root)


def _coco_dataset(root, ann_file, classes):
    cfg = dict(type='SRDetectionDataset', pipeline=[],
               det_dataset=dict(type='CocoDataset', data_root=root, ann_file=ann_file,
                                data_prefix=dict(img='train/'), metainfo=dict(classes=classes)))
    with DefaultScope.overwrite_default_scope('mmagic'):
        return DATASETS.build(cfg)


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('coco'))
    info = write_synthetic_coco(root, num_train=3, num_val=1, image_size=64)
    return root, info['train_ann_file']


def _labels_by_name(dataset, ann_file):
    """{category name in the json: set of labels the dataset gave its boxes}."""
    data = json.load(open(ann_file))
    cat_name = {c['id']: c['name'] for c in data['categories']}
    by_box = {tuple(round(v, 3) for v in (a['bbox'][0], a['bbox'][1])): cat_name[a['category_id']]
              for a in data['annotations']}
    out = {}
    for k in range(len(dataset)):
        for inst in dataset.get_data_info(k)['instances']:
            name = by_box[tuple(round(v, 3) for v in inst['bbox'][:2])]
            out.setdefault(name, set()).add(inst['bbox_label'])
    return out


def test_coco_categories_in_another_order_than_the_classes_are_refused(coco, tmp_path):
    root, ann_file = coco
    data = json.load(open(ann_file))
    data['categories'] = data['categories'][::-1]  # same ids and names, listed in reverse
    reordered = str(tmp_path / 'reversed.json')
    with open(reordered, 'w') as f:
        json.dump(data, f)
    json_order = [c['name'] for c in data['categories']]
    with pytest.raises(ToolError) as err:
        _coco_dataset(root, reordered, SYNTHETIC_COCO_CLASSES)
    message = str(err.value)
    assert 'reversed.json' in message and str(json_order) in message
    assert str(list(SYNTHETIC_COCO_CLASSES)) in message
    # the config's classes listed in the json's order: accepted, every box keeps its class
    dataset = _coco_dataset(root, reordered, tuple(json_order))
    for name, labels in _labels_by_name(dataset, reordered).items():
        assert labels == {json_order.index(name)}
    # and the original file with the config's classes, as before
    dataset = _coco_dataset(root, ann_file, SYNTHETIC_COCO_CLASSES)
    for name, labels in _labels_by_name(dataset, ann_file).items():
        assert labels == {SYNTHETIC_COCO_CLASSES.index(name)}


def test_coco_class_missing_from_the_json_is_refused(coco):
    root, ann_file = coco
    with pytest.raises(ToolError, match=r"not in the json: \['zebra'\]"):
        _coco_dataset(root, ann_file, ('striped', 'zebra', 'checkered', 'dotted', 'scribbled',
                                       'ringed'))


def test_coco_subset_of_classes_counts_the_other_categories(coco, warnings_logged):
    root, ann_file = coco
    data = json.load(open(ann_file))
    names = {c['id']: c['name'] for c in data['categories']}
    others = [names[a['category_id']] for a in data['annotations']
              if names[a['category_id']] not in ('striped', 'checkered')]
    _coco_dataset(root, ann_file, ('striped', 'checkered'))
    lines = [m for m in warnings_logged() if 'classes not in' in m]
    assert len(lines) == 1 and f'left out {len(others)} objects' in lines[0]
    assert 'instances_train.json, image' in lines[0]
