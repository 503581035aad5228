"""`mim train fdsr_mm` on the tiny child of the paper's FDSR model: both losses, save, resume."""
import os.path as osp
import re

import pytest
import torch

from conftest import run_mim

pytestmark = pytest.mark.slow  # (setup.cfg: spawns processes / runs end to end)

CONFIG = 'configs/fdsr/fdsr_dbpn-tiny_x4_r18c4-tiny-a0.5b1_1xb4-200i_synthetic.py'


def options(root, prior_ckpt, max_iters):
    return ['--cfg-options', f'train_cfg.max_iters={max_iters}', f'train_cfg.val_interval={max_iters}',
            'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
            'train_dataloader.batch_size=2', f'model.feature_loss.checkpoint={prior_ckpt}',
            *[f'{loader}.dataset.data_root={root}'
              for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]]


@pytest.fixture(scope='module')
def fdsr_run(tmp_path_factory, synthetic_sr_root, tiny_c4_detector):
    work_dir = str(tmp_path_factory.mktemp('mim_train_fdsr'))
    proc = run_mim(['train', 'fdsr_mm', CONFIG, '--work-dir', work_dir,
                    *options(synthetic_sr_root, tiny_c4_detector[2], 4)])
    return work_dir, proc.stdout + proc.stderr


def test_logs_both_losses_and_saves_generator_only(fdsr_run):
    work_dir, log = fdsr_run
    lines = [ln for ln in log.splitlines() if 'Iter(train)' in ln]
    assert len(lines) == 4
    for ln in lines:
        pix = float(re.search(r'loss_pix: ([0-9.e-]+)', ln).group(1))
        feat = float(re.search(r'loss_feat: ([0-9.e-]+)', ln).group(1))
        assert pix > 0 and feat > 0
    assert 'loaded' in log and 'backbone tensors' in log  # the prior came from the checkpoint
    from mmengine.runner import CheckpointLoader
    ckpt = CheckpointLoader.load_checkpoint(osp.join(work_dir, 'iter_4.pth'), map_location='cpu')
    assert ckpt['meta']['iter'] == 4
    assert all(k.startswith(('generator.', 'data_preprocessor.')) for k in ckpt['state_dict'])


def test_resume_continues(fdsr_run, synthetic_sr_root, tiny_c4_detector):
    work_dir, _ = fdsr_run
    proc = run_mim(['train', 'fdsr_mm', CONFIG, '--work-dir', work_dir, '--resume',
                    *options(synthetic_sr_root, tiny_c4_detector[2], 6)])
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 4' in log
    assert 'Iter(train) [6/6]' in log and 'loss_feat' in log
    assert osp.isfile(osp.join(work_dir, 'iter_6.pth'))
    # The frozen prior file is untouched by training (bit-identical weights on disk).
    from mmengine.runner import CheckpointLoader
    prior = CheckpointLoader.load_checkpoint(tiny_c4_detector[2], map_location='cpu')['state_dict']
    detector = tiny_c4_detector[3].state_dict()
    assert all(torch.equal(prior[k], detector[k]) for k in detector)
