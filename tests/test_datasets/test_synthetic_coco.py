"""The synthetic COCO detection benchmark: valid COCO, deterministic, the x4 problem is real."""
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from pycocotools.coco import COCO

from fdsr_mm.datasets import SYNTHETIC_COCO_CLASSES, bicubic_downsample, write_synthetic_coco

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic_coco'))
    info = write_synthetic_coco(root, num_train=40, num_val=12, image_size=256, seed=3)
    return root, info


def test_layout_and_return_value(coco_root):
    root, info = coco_root
    assert info['train_ann_file'] == osp.join(root, 'annotations', 'instances_train.json')
    assert info['val_ann_file'] == osp.join(root, 'annotations', 'instances_val.json')
    assert info['num_train_images'] == 40 and info['num_val_images'] == 12
    assert len(os.listdir(osp.join(root, 'train'))) == 40  # no temporary files left behind
    assert sorted(os.listdir(osp.join(root, 'val')))[0] == '000000.png'
    img = cv2.imread(osp.join(root, 'val', '000000.png'), cv2.IMREAD_UNCHANGED)
    assert img.shape == (256, 256, 3) and img.dtype == np.uint8


def test_pycocotools_loads_valid_annotations(coco_root):
    root, info = coco_root
    coco = COCO(info['train_ann_file'])
    cats = coco.loadCats(coco.getCatIds())
    assert [c['id'] for c in cats] == list(range(1, len(SYNTHETIC_COCO_CLASSES) + 1))
    assert tuple(c['name'] for c in cats) == SYNTHETIC_COCO_CLASSES
    assert len(coco.getAnnIds()) == info['num_train_annotations'] > 40
    for ann in coco.loadAnns(coco.getAnnIds()):
        img = coco.loadImgs(ann['image_id'])[0]
        x, y, w, h = ann['bbox']
        assert ann['area'] > 0 and w > 0 and h > 0 and ann['iscrowd'] == 0
        assert x >= 0 and y >= 0 and x + w <= img['width'] and y + h <= img['height']
        poly = ann['segmentation'][0]
        assert len(poly) >= 6 and len(poly) % 2 == 0 and all(isinstance(v, float) for v in poly)
        mask = coco.annToMask(ann)
        assert abs(int(mask.sum()) - ann['area']) <= 0.25 * ann['area'] + 20
    # Every category occurs.
    assert all(coco.getAnnIds(catIds=[c]) for c in coco.getCatIds())


def test_mmdet_coco_dataset_loads_it_with_the_study_config_classes(coco_root):
    from mmdet.datasets import CocoDataset
    root, _ = coco_root
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/study/_base_/synthetic-coco_detection.py'))
    assert tuple(cfg.metainfo['classes']) == SYNTHETIC_COCO_CLASSES
    ds = CocoDataset(data_root=root, ann_file='annotations/instances_val.json',
                     data_prefix=dict(img='val/'), metainfo=cfg.metainfo, test_mode=True,
                     pipeline=[])
    assert len(ds) == 12
    item = ds[0]
    assert item['img_path'].endswith(osp.join('val', '000000.png'))
    assert item['instances'] and all(0 <= i['bbox_label'] < 5 for i in item['instances'])


def test_same_seed_gives_identical_files_and_other_seed_does_not(tmp_path):
    a = write_synthetic_coco(str(tmp_path / 'a'), num_train=3, num_val=2, image_size=128, seed=7)
    b = write_synthetic_coco(str(tmp_path / 'b'), num_train=3, num_val=2, image_size=128, seed=7)
    c = write_synthetic_coco(str(tmp_path / 'c'), num_train=3, num_val=2, image_size=128, seed=8)
    for key in ('train_ann_file', 'val_ann_file'):
        assert open(a[key], 'rb').read() == open(b[key], 'rb').read()
        assert open(a[key], 'rb').read() != open(c[key], 'rb').read()
    for name in ('train/000002.png', 'val/000001.png'):
        assert (tmp_path / 'a' / name).read_bytes() == (tmp_path / 'b' / name).read_bytes()
    # Train and val are independent streams.
    assert (tmp_path / 'a' / 'train/000000.png').read_bytes() != \
        (tmp_path / 'a' / 'val/000000.png').read_bytes()


def test_small_medium_and_large_objects_all_occur(coco_root):
    _, info = coco_root
    areas = np.array([a['area'] for a in json.load(open(info['train_ann_file']))['annotations']])
    small, large = (areas < 32**2).mean(), (areas > 96**2).mean()
    medium = 1 - small - large
    assert small > 0.15 and medium > 0.25 and large > 0.05, (small, medium, large)


def _detail_energy(img: np.ndarray, mask: np.ndarray) -> float:
    """Mean squared deviation from the 5x5 local mean inside ``mask`` (fine-detail energy)."""
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float64)
    high = gray - cv2.blur(gray, (5, 5))
    return float((high[mask] ** 2).mean())


def test_x4_bicubic_destroys_the_category_detail(coco_root):
    # The categories differ only inside the objects; measure the fine-detail energy inside each
    # object (away from its outline) on HR and on x4 bicubic down + bicubic up images.
    root, info = coco_root
    coco = COCO(info['val_ann_file'])
    ratios = {name: [] for name in SYNTHETIC_COCO_CLASSES}
    kernel = np.ones((7, 7), np.uint8)
    for img_info in coco.loadImgs(coco.getImgIds()):
        hr = cv2.cvtColor(cv2.imread(osp.join(root, 'val', img_info['file_name'])),
                          cv2.COLOR_BGR2RGB)
        up = cv2.resize(bicubic_downsample(hr, 4), hr.shape[1::-1], interpolation=cv2.INTER_CUBIC)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_info['id']))
        for i, ann in enumerate(anns):
            mask = coco.annToMask(ann)
            for later in anns[i + 1:]:  # only what is visible
                mask[coco.annToMask(later) > 0] = 0
            inner = cv2.erode(mask, kernel) > 0
            if inner.sum() < 30:
                continue
            ratios[SYNTHETIC_COCO_CLASSES[ann['category_id'] - 1]].append(
                _detail_energy(up, inner) / _detail_energy(hr, inner))
    for name, values in ratios.items():
        assert values, f'no unoccluded {name} object large enough to measure'
        # x4 bicubic leaves < 20% of the detail energy (measured medians: striped 12%, dotted 4%,
        # the 1-2 px patterns < 2%).
        assert np.median(values) < 0.2, (name, np.median(values))


@pytest.mark.slow
def test_cli_writes_the_dataset(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([REPO_ROOT, os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'make_synthetic_coco.py'), str(tmp_path),
         '--train', '2', '--val', '1', '--size', '128', '--seed', '5'],
        env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'wrote 2 train images' in proc.stdout
    ann = json.load(open(tmp_path / 'annotations' / 'instances_val.json'))
    assert len(ann['images']) == 1 and ann['images'][0]['width'] == 128
    bad = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'make_synthetic_coco.py'), str(tmp_path),
         '--size', '130'], env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and 'multiple of 4' in bad.stderr
