"""A corrupt image in an SR training list: the loader names the file (issue 15).

MMagic's own ``LoadImageFromFile`` fails inside OpenCV (``!_src.empty()``) without the file name;
the SR dataset configs use fdsr_mm's ``CheckedLoadImageFromFile`` instead.
"""
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

import fdsr_mm  # noqa: F401  (registers the transform)
from conftest import REPO_ROOT
from fdsr_mm.datasets import CheckedLoadImageFromFile, ImageDecodeError
from fdsr_mm.datasets.synthetic_images import write_synthetic_images

TINY_FDSR = 'configs/fdsr/fdsr_dbpn-tiny_x4_r18c4-tiny-a0.5b1_1xb4-200i_synthetic.py'
SR_CONFIGS = [TINY_FDSR, 'configs/fdsr_x4.py', 'configs/dbpn/dbpn-tiny_x4_1xb4-200i_synthetic.py',
              'configs/dbpn/ddbpn_x4_1xb8-2000k_coco20k.py']


def _random_bytes_png(path: str, size: int = 2048, seed: int = 0) -> str:
    """A file named ``*.png`` holding random bytes (no PNG signature)."""
    with open(path, 'wb') as f:
        f.write(np.random.RandomState(seed).bytes(size))
    return path


def _training_tree(root: str) -> str:
    """3 good 64x64 PNGs and one corrupt one in ``root/train``, all listed in ``root/train.txt``.

    Returns:
        str: the corrupt file's name.
    """
    write_synthetic_images(osp.join(root, 'train'), 3, (64, 64), seed=0)
    bad = 'zz_corrupt.png'
    _random_bytes_png(osp.join(root, 'train', bad))
    names = sorted(os.listdir(osp.join(root, 'train')))
    with open(osp.join(root, 'train.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    return bad


@pytest.mark.parametrize('num_workers', [0, 1])
def test_training_loader_names_the_corrupt_file(tmp_path, num_workers):
    """The tiny FDSR config's train dataloader, built by the Runner, on a list with one corrupt
    PNG: the error names that file and says what to do."""
    from mmengine.runner import Runner
    bad = _training_tree(str(tmp_path))
    cfg = Config.fromfile(osp.join(REPO_ROOT, TINY_FDSR))
    loader_cfg = cfg.train_dataloader
    loader_cfg.batch_size = 1
    loader_cfg.num_workers = num_workers
    loader_cfg.dataset.data_root = str(tmp_path)
    loader_cfg.dataset.ann_file = 'train.txt'
    with DefaultScope.overwrite_default_scope('mmagic'):
        loader = Runner.build_dataloader(loader_cfg, seed=0)
        with pytest.raises(Exception) as info:
            it = iter(loader)
            for _ in range(4):  # the infinite sampler's first pass visits every index once
                next(it)
    msg = str(info.value)
    assert osp.join(str(tmp_path), 'train', bad) in msg
    assert 'ImageDecodeError' in msg or info.type is ImageDecodeError
    assert 'Remove it from the dataset list' in msg and 'prepare_coco_sr.py' in msg


@pytest.mark.parametrize('channel_order', ['rgb', 'bgr'])
@pytest.mark.parametrize('content', ['random', 'empty', 'truncated'])
def test_undecodable_files_raise_image_decode_error(tmp_path, channel_order, content):
    """Random bytes, an empty file and a PNG cut in half: ImageDecodeError with the path, in
    both channel orders (MMagic fails in cv2.cvtColor for RGB, with AttributeError for BGR)."""
    path = str(tmp_path / f'{content}.png')
    if content == 'random':
        _random_bytes_png(path)
    elif content == 'empty':
        open(path, 'wb').close()
    else:
        good = write_synthetic_images(str(tmp_path / 'good'), 1, (64, 64), seed=0)[0]
        with open(good, 'rb') as f:
            data = f.read()
        with open(path, 'wb') as f:
            f.write(data[:len(data) // 2])
    load = CheckedLoadImageFromFile(key='gt', channel_order=channel_order, imdecode_backend='cv2')
    with pytest.raises(ImageDecodeError, match='Cannot decode image .*' + content):
        load(dict(gt_path=path))


def test_good_images_load_like_mmagic_and_missing_files_keep_their_error(tmp_path):
    from mmagic.datasets.transforms import LoadImageFromFile
    kwargs = dict(key='gt', color_type='color', channel_order='rgb', imdecode_backend='cv2')
    for path in write_synthetic_images(str(tmp_path), 2, (48, 64), seed=3):
        ours = CheckedLoadImageFromFile(**kwargs)(dict(gt_path=path))
        theirs = LoadImageFromFile(**kwargs)(dict(gt_path=path))
        assert ours.keys() == theirs.keys()
        assert ours['gt'].shape == (48, 64, 3) and np.array_equal(ours['gt'], theirs['gt'])
        assert ours['gt_channel_order'] == 'rgb'
    with pytest.raises(FileNotFoundError):
        CheckedLoadImageFromFile(key='gt')(dict(gt_path=str(tmp_path / 'missing.png')))


@pytest.mark.parametrize('config', SR_CONFIGS)
def test_sr_dataset_configs_use_the_checked_loader(config):
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        types = [t['type'] for t in cfg[loader].dataset.pipeline]
        assert 'LoadImageFromFile' not in types and types[0] == 'CheckedLoadImageFromFile'
