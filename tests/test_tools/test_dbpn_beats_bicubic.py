"""A small DBPN trained a few hundred iterations with `mim train` beats bicubic on held-out images."""
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from mmagic.datasets.transforms import MATLABLikeResize
from mmagic.evaluation.metrics.psnr import psnr

from conftest import run_mim
from fdsr_mm.datasets import bicubic_downsample
from fdsr_mm.datasets.synthetic_images import write_synthetic_images

pytestmark = pytest.mark.slow  # (setup.cfg: spawns processes / runs end to end)

CONFIG = 'configs/dbpn/dbpn-tiny_x4_1xb4-200i_synthetic.py'


def bicubic_psnr(val_dir, scale=4):
    """Mean PSNR (RGB, shave = scale) of MATLAB-like bicubic x4 up of the x1/4 LR images."""
    values = []
    for path in sorted(glob.glob(osp.join(val_dir, '*.png'))):
        hr = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
        lr = bicubic_downsample(hr, scale)
        up = MATLABLikeResize(keys=['img'], scale=scale).transform(
            dict(img=lr.astype(np.float32)))['img']
        up = np.clip(np.round(up), 0, 255)
        values.append(psnr(hr.astype(np.float64), up, crop_border=scale))
    return float(np.mean(values))


def test_trained_tiny_dbpn_beats_bicubic(tmp_path):
    root = tmp_path / 'data'
    write_synthetic_images(str(root / 'train'), 16, (96, 96), seed=10)
    write_synthetic_images(str(root / 'val'), 4, (96, 96), seed=11)
    data = [f'{k}.dataset.data_root={root}'
            for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    work_dir = tmp_path / 'work'
    run_mim(['train', 'fdsr_mm', CONFIG, '--work-dir', str(work_dir), '--cfg-options',
             'train_cfg.max_iters=400', 'train_cfg.val_interval=400', 'param_scheduler.milestones=[350]', 'train_dataloader.batch_size=8',
             'default_hooks.checkpoint.interval=400', *data])
    out = tmp_path / 'metrics.json'
    run_mim(['test', 'fdsr_mm', CONFIG, '--checkpoint', str(work_dir / 'iter_400.pth'),
             '--work-dir', str(work_dir), '--out', str(out), '--cfg-options', *data])
    sr_psnr = json.loads(out.read_text())['PSNR']
    baseline = bicubic_psnr(str(root / 'val'))
    assert sr_psnr > baseline + 0.2, (sr_psnr, baseline)
