"""tools/prepare_coco_sr.py on a tiny COCO-layout tree, and the COCO SR training pipeline on it."""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from conftest import REPO_ROOT

spec = importlib.util.spec_from_file_location('prepare_coco_sr',
                                              osp.join(REPO_ROOT, 'tools/prepare_coco_sr.py'))
prepare = importlib.util.module_from_spec(spec)
spec.loader.exec_module(prepare)

# name: (width, height, PIL mode). Both sides > 384 qualify for training.
TRAIN = {'000000000001.jpg': (400, 392, 'RGB'), '000000000002.jpg': (401, 389, 'RGB'),  # odd size
         '000000000003.jpg': (392, 400, 'L'),  # grayscale
         '000000000004.jpg': (400, 400, 'CMYK'),
         '000000000005.jpg': (384, 500, 'RGB'), '000000000006.jpg': (500, 200, 'RGB')}
VAL = {'000000000101.jpg': (61, 45, 'RGB'), '000000000102.jpg': (320, 240, 'L'),
       '000000000103.jpg': (20, 20, 'RGB')}  # too small for x4 SR evaluation


def write_split(root, split, spec_, with_json):
    (root / split).mkdir(parents=True)
    images = []
    for i, (name, (w, h, mode)) in enumerate(spec_.items()):
        color = {'RGB': (230, 20, 30), 'L': 128, 'CMYK': (0, 255, 255, 0)}[mode]  # CMYK red
        Image.new(mode, (w, h), color).save(root / split / name, quality=95)
        images.append(dict(id=i + 1, file_name=name, width=w, height=h))
    if with_json:
        (root / 'annotations').mkdir(exist_ok=True)
        (root / 'annotations' / f'instances_{split}.json').write_text(
            json.dumps(dict(images=images, annotations=[], categories=[])))


@pytest.fixture(params=[True, False], ids=['sizes_from_json', 'sizes_from_headers'])
def coco_root(request, tmp_path):
    write_split(tmp_path, 'train2017', TRAIN, request.param)
    write_split(tmp_path, 'val2017', VAL, request.param)
    return tmp_path


def read(path):
    return path.read_text().split()


def test_selects_images_with_both_sides_above_384(coco_root):
    assert prepare.main([str(coco_root), '--num-train', '4', '--num-val', '2']) == 0
    train = read(coco_root / 'annotations/fdsr_sr_train20k.txt')
    val = read(coco_root / 'annotations/fdsr_sr_val100.txt')
    assert train == ['000000000001.jpg', '000000000002.jpg', '000000000003.jpg', '000000000004.jpg']
    assert val == ['000000000101.jpg', '000000000102.jpg']
    assert not list(coco_root.glob('annotations/*.tmp'))


def test_fixed_seed_sample_is_reproducible(coco_root):
    runs = []
    for _ in range(2):
        assert prepare.main([str(coco_root), '--num-train', '2', '--num-val', '1', '--seed', '3']) == 0
        runs.append(read(coco_root / 'annotations/fdsr_sr_train20k.txt'))
    assert runs[0] == runs[1] and len(runs[0]) == 2 and runs[0] == sorted(runs[0])
    assert set(runs[0]) <= {'000000000001.jpg', '000000000002.jpg', '000000000003.jpg',
                            '000000000004.jpg'}


def test_clear_errors(tmp_path, coco_root, capsys):
    assert prepare.main([str(tmp_path / 'nowhere')]) == 1
    err = capsys.readouterr().err
    assert 'nowhere/train2017 does not exist' in err and 'cocodataset.org' in err
    assert prepare.main([str(coco_root), '--num-train', '5']) == 1
    assert 'Only 4 of 6 train images' in capsys.readouterr().err
    assert not (coco_root / 'annotations/fdsr_sr_train20k.txt').exists()  # nothing half-written


def test_training_pipeline_reads_gray_cmyk_and_odd_sizes_as_rgb(tmp_path):
    """The paper config's dataset on the prepared list: 3-channel RGB HR crops of 160 px and LR
    of 40 px, whatever the JPEG's colour model or size parity."""
    write_split(tmp_path, 'train2017', TRAIN, True)
    write_split(tmp_path, 'val2017', VAL, True)
    assert prepare.main([str(tmp_path), '--num-train', '4', '--num-val', '2']) == 0
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import fdsr_mm  # noqa: F401
    from mmagic.registry import DATASETS
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/fdsr_x4.py'))
    cfg.train_dataloader.dataset.data_root = str(tmp_path)
    with DefaultScope.overwrite_default_scope('mmagic'):
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == 4
    for i in range(4):
        sample = dataset[i]
        name = osp.basename(sample['data_samples'].gt_path)
        gt = sample['data_samples'].gt_img.numpy()  # (3, 160, 160) uint8, RGB
        assert gt.shape == (3, 160, 160) and sample['inputs'].shape == (3, 40, 40)
        mean = gt.reshape(3, -1).mean(1)
        if TRAIN[name][2] == 'L':
            assert np.allclose(mean, 128, atol=2)
        else:  # red stays red: R high, G and B low, in RGB order
            assert mean[0] > 200 and mean[1] < 60 and mean[2] < 70, (name, mean)
