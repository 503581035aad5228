"""tools/prepare_coco_sr.py on a tiny COCO-layout tree, and the COCO SR training pipeline on it."""
import json
import os.path as osp
import random
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import REPO_ROOT, load_tool

prepare = load_tool('prepare_coco_sr', 'prepare_coco_sr')

# name: (width, height, PIL mode). Both sides > 384 qualify for training.
TRAIN = {'000000000001.jpg': (400, 392, 'RGB'), '000000000002.jpg': (401, 389, 'RGB'),  # odd size
         '000000000003.jpg': (392, 400, 'L'),  # grayscale
         '000000000004.jpg': (400, 400, 'CMYK'),
         '000000000005.jpg': (384, 500, 'RGB'), '000000000006.jpg': (500, 200, 'RGB')}
VAL = {'000000000101.jpg': (61, 45, 'RGB'), '000000000102.jpg': (320, 240, 'L'),
       '000000000103.jpg': (20, 20, 'RGB')}  # too small for x4 SR evaluation
TRAIN_OK = sorted(n for n, (w, h, _) in TRAIN.items() if min(w, h) > 384)


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
    assert prepare.main([str(tmp_path / 'nowhere')]) == 2
    err = capsys.readouterr().err
    assert 'nowhere/train2017 does not exist' in err and 'cocodataset.org' in err
    assert prepare.main([str(coco_root), '--num-train', '5']) == 2
    assert 'Only 4 of 6 train images' in capsys.readouterr().err
    assert not (coco_root / 'annotations/fdsr_sr_train20k.txt').exists()  # nothing half-written


def one_error_line(err, *names):
    """The fault is one ``error:`` line naming each of ``names``; no traceback."""
    assert err.startswith('[prepare_coco_sr] error: ') and err.count('\n') == 1, err
    for name in names:
        assert str(name) in err, (name, err)


@pytest.mark.slow
def test_malformed_json_names_the_file_and_position_from_the_command_line(tmp_path):
    write_split(tmp_path, 'train2017', TRAIN, True)
    write_split(tmp_path, 'val2017', VAL, True)
    ann = tmp_path / 'annotations' / 'instances_train2017.json'
    ann.write_text('{"images": [\n  {"id": 1, "file_name": "000000000001.jpg",')  # truncated
    proc = subprocess.run([sys.executable, osp.join(REPO_ROOT, 'tools/prepare_coco_sr.py'),
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr, proc.stderr
    one_error_line(proc.stderr, ann, 'line 2 column 45', 'annotations_trainval2017.zip')
    assert not (tmp_path / 'annotations/fdsr_sr_train20k.txt').exists()


@pytest.mark.parametrize('content, why', [
    ('{"annotations": [], "categories": []}', 'no "images" list'),
    ('[1, 2]', 'no "images" list'),
    ('{"images": [{"id": 1, "file_name": "000000000001.jpg", "width": 400}]}',
     'images[0] = '),
    (b'\xff\xfe{}', 'not UTF-8 text')])
def test_json_that_is_not_coco_instances(tmp_path, capsys, content, why):
    write_split(tmp_path, 'train2017', TRAIN, True)
    write_split(tmp_path, 'val2017', VAL, True)
    ann = tmp_path / 'annotations' / 'instances_val2017.json'
    if isinstance(content, bytes):
        ann.write_bytes(content)
    else:
        ann.write_text(content)
    assert prepare.main([str(tmp_path), '--num-train', '1', '--num-val', '1']) == 2
    one_error_line(capsys.readouterr().err, ann, why)


@pytest.mark.parametrize('argv', [['--num-train', '-1'], ['--num-train', '0'],
                                  ['--num-val', '0'], ['--num-val', '-5'], ['--workers', '0']])
def test_counts_below_one_are_usage_errors(coco_root, capsys, argv):
    with pytest.raises(SystemExit) as exc:
        prepare.main([str(coco_root), *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f'argument {argv[0]}: must be at least 1, got {int(argv[1])}' in err
    assert not (coco_root / 'annotations/fdsr_sr_train20k.txt').exists()


def truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


def test_images_that_do_not_decode_are_left_out_and_named(coco_root, capsys):
    bad = ['000000000002.jpg', '000000000003.jpg']
    for name in bad:  # headers still read: only decoding finds them
        truncate(coco_root / 'train2017' / name)
    # A seed whose first draw is exactly the two bad images: both are found and replaced.
    seed = next(s for s in range(1000) if sorted(random.Random(s).sample(TRAIN_OK, 2)) == bad)
    assert prepare.main([str(coco_root), '--num-train', '2', '--num-val', '2',
                         '--seed', str(seed)]) == 0
    out, err = capsys.readouterr()
    assert read(coco_root / 'annotations/fdsr_sr_train20k.txt') == ['000000000001.jpg',
                                                                     '000000000004.jpg']
    assert 'warning: 2 train2017 images' in err and 'do not decode' in err
    for name in bad:
        assert f'{name} (image file is truncated' in err
    assert 'decoding train images: 2/2, 2 bad' in out and 'decoding val images: 2/2, 0 bad' in out

    # Asking for more than decode: an error naming the bad images, and no list is written.
    (coco_root / 'annotations/fdsr_sr_train20k.txt').unlink()
    assert prepare.main([str(coco_root), '--num-train', '3', '--num-val', '2']) == 2
    one_error_line(capsys.readouterr().err, *bad)
    assert not (coco_root / 'annotations/fdsr_sr_train20k.txt').exists()

    # --no-verify: the old behaviour, header sizes only (the same sample as a clean tree).
    assert prepare.main([str(coco_root), '--num-train', '2', '--num-val', '2',
                         '--seed', str(seed), '--no-verify']) == 0
    out, err = capsys.readouterr()
    assert read(coco_root / 'annotations/fdsr_sr_train20k.txt') == bad
    assert 'decoding' not in out and 'warning' not in err


def test_garbage_file_and_size_mismatch_in_json_mode(tmp_path, capsys):
    write_split(tmp_path, 'train2017', TRAIN, True)
    write_split(tmp_path, 'val2017', VAL, True)
    (tmp_path / 'train2017' / '000000000001.jpg').write_bytes(b'<html>not found</html>')
    Image.new('RGB', (390, 390)).save(tmp_path / 'train2017' / '000000000004.jpg')
    bad = ['000000000001.jpg', '000000000004.jpg']  # drawn first with this seed: both checked
    seed = next(s for s in range(1000) if sorted(random.Random(s).sample(TRAIN_OK, 2)) == bad)
    assert prepare.main([str(tmp_path), '--num-train', '2', '--num-val', '1',
                         '--seed', str(seed)]) == 0
    err = capsys.readouterr().err
    assert read(tmp_path / 'annotations/fdsr_sr_train20k.txt') == ['000000000002.jpg',
                                                                   '000000000003.jpg']
    assert '000000000001.jpg (cannot identify image file' in err
    assert '000000000004.jpg (390x390 px, but listed as 400x400)' in err


def test_list_that_cannot_be_written(coco_root, capsys):
    (coco_root / 'lists').write_text('a file where a folder should be')
    assert prepare.main([str(coco_root), '--num-train', '1', '--num-val', '1',
                         '--train-list', 'lists/train.txt']) == 2
    one_error_line(capsys.readouterr().err, coco_root / 'lists/train.txt')
    assert not list(coco_root.rglob('*.tmp'))


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
