"""Training stops at the first NaN/Inf loss; no checkpoint of NaN/Inf weights is ever written."""
import os.path as osp

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, Runner
from torch.utils.data import DataLoader

from fdsr_mm.utils import NonFiniteError, check_finite_state_dict
from helpers.train_cli_testlib import checkpoint_iters, last_checkpoint, run_train

FDSR_CONFIG = 'configs/fdsr/fdsr_dbpn-tiny_x4_r18c4-tiny-a0.5b1_1xb4-200i_synthetic.py'


@pytest.mark.slow
def test_diverging_fdsr_training_stops_and_keeps_the_last_finite_checkpoint(
        tmp_path, synthetic_sr_root):
    work_dir = str(tmp_path / 'diverged')
    proc = run_train([FDSR_CONFIG, '--work-dir', work_dir, '--cfg-options',
                      'optim_wrapper.optimizer.lr=1e6', 'train_cfg.max_iters=6',
                      'train_cfg.val_interval=6', 'default_hooks.checkpoint.interval=1',
                      'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2',
                      *[f'{loader}.dataset.data_root={synthetic_sr_root}'
                        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]])
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr
    error = proc.stderr.strip().splitlines()[-1]
    assert error.startswith('train: error: non-finite '), error
    assert 'training stopped' in error and '--resume' in error
    saved = checkpoint_iters(work_dir)
    assert saved and max(saved) < 6  # it stopped early
    if error.startswith('train: error: non-finite loss'):
        assert f'at iteration {max(saved) + 1}: loss=' in error
        assert 'loss_pix=' in error and 'loss_feat=' in error
    for it in saved:  # every checkpoint on disk holds finite weights and optimizer state
        path = osp.join(work_dir, f'iter_{it}.pth')
        ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
        check_finite_state_dict({k: ckpt[k] for k in ('state_dict', 'optimizer')}, path)
    assert last_checkpoint(work_dir) == osp.join(osp.abspath(work_dir), f'iter_{max(saved)}.pth')
    assert last_checkpoint(work_dir) in error


class ToyModel(BaseModel):
    """loss_a = mean|w * x| (x comes from the data), loss_b = 1e-6 mean(w^2), optionally Inf."""

    def __init__(self, inf_loss_at=None):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(2))
        self.inf_loss_at = inf_loss_at
        self.calls = 0

    def forward(self, inputs, data_samples=None, mode='loss'):
        self.calls += 1
        loss_b = 1e-6 * self.w.pow(2).mean()
        if self.calls == self.inf_loss_at:
            loss_b = loss_b * float('inf')
        return dict(loss_a=(self.w * inputs).abs().mean(), loss_b=loss_b)


def train_toy(work_dir, model, inputs, name):
    """A real mmengine Runner in the mmagic scope with the runtime's hook, one checkpoint/iter."""
    loader = DataLoader([dict(inputs=torch.tensor([x])) for x in inputs], batch_size=1)
    runner = Runner(
        model=model, work_dir=str(work_dir), experiment_name=name, default_scope='mmagic',
        train_dataloader=loader, train_cfg=dict(by_epoch=False, max_iters=len(inputs)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=1e3)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False)),
        custom_hooks=[dict(type='NonFiniteLossHook')])
    with pytest.raises(NonFiniteError) as info:
        runner.train()
    return str(info.value)


def test_inf_loss_stops_before_its_checkpoint(tmp_path):
    message = train_toy(tmp_path, ToyModel(inf_loss_at=3), [1e-4] * 5, 'toy_inf_loss')
    assert message.startswith('non-finite loss at iteration 3: loss=inf, loss_a=')
    assert 'loss_b=inf' in message
    assert checkpoint_iters(tmp_path) == [1, 2]
    assert last_checkpoint(tmp_path) == str(tmp_path / 'iter_2.pth')
    assert f'the last checkpoint written before it is {tmp_path / "iter_2.pth"}' in message


def test_weights_that_overflow_after_a_finite_loss_are_not_saved(tmp_path):
    # Iteration 2's loss is finite (~5e37) but its SGD step (lr 1e3) overflows the weights.
    message = train_toy(tmp_path, ToyModel(), [1e-3, 1e38, 1e-3], 'toy_inf_weights')
    assert message.startswith('non-finite weights at iteration 2: state_dict.w holds 0 NaN, '
                              '2 Inf of 2 values; not saving them')
    assert checkpoint_iters(tmp_path) == [1]
    assert last_checkpoint(tmp_path) == str(tmp_path / 'iter_1.pth')
