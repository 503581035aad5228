"""``tools/train.py --amp`` picks the mixed precision this machine runs (issue 22): bfloat16
autocast without CUDA, mmengine's float16 AmpOptimWrapper with it, on every optimizer of a
multi-optimizer config (SR4IR)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from fdsr_mm.engine import enable_amp
from test_train_cli_errors import (CONFIG, tiny_options, train_in_process,  # noqa: F401
                                   train_tool)  # (same folder; fixtures)

SR4IR = 'configs/sr4ir/sr4ir_edsr-tiny-x4_faster-rcnn-r18-c16_1xb4-20i_synthetic-coco.py'


@pytest.mark.skipif(torch.cuda.is_available(), reason='without CUDA --amp is bfloat16')
def test_amp_on_a_cpu_trains_in_bfloat16_and_saves_float32_weights(
        train_in_process, synthetic_sr_root, tmp_path):  # noqa: F811
    rc, err = train_in_process(CONFIG, '--amp', '--work-dir', str(tmp_path),
                               *tiny_options(synthetic_sr_root))
    assert rc == 0, err[-3000:]
    dumped = Config.fromfile(tmp_path / osp.basename(CONFIG))
    assert dumped.optim_wrapper.type == 'BF16AutocastOptimWrapper'
    assert 'loss_scale' not in dumped.optim_wrapper  # bfloat16 needs no loss scale
    ckpt = torch.load(glob.glob(str(tmp_path / 'iter_*.pth'))[0], weights_only=False)
    weights = [v for v in ckpt['state_dict'].values() if v.is_floating_point()]
    assert weights and all(v.dtype == torch.float32 and torch.isfinite(v).all() for v in weights)


@pytest.mark.parametrize('cuda', [False, True])
def test_enable_amp_switches_every_optimizer_of_a_multi_optimizer_config(cuda):
    cfg = Config.fromfile(SR4IR)
    assert cfg.optim_wrapper.constructor == 'MultiOptimWrapperConstructor'
    line = enable_amp(cfg, cuda)
    chosen = 'AmpOptimWrapper' if cuda else 'BF16AutocastOptimWrapper'
    assert chosen in line
    for part in ('generator', 'detector'):
        assert cfg.optim_wrapper[part].type == chosen
        assert ('loss_scale' in cfg.optim_wrapper[part]) == cuda
    assert enable_amp(cfg, cuda) == 'AMP training is already enabled in the config.'


def test_enable_amp_on_a_single_optimizer_config():
    cfg = Config.fromfile(CONFIG)
    assert 'BF16AutocastOptimWrapper' in enable_amp(cfg, cuda=False)
    assert cfg.optim_wrapper.type == 'BF16AutocastOptimWrapper'
