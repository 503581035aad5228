"""`mim train fdsr_mm` / `mim test fdsr_mm` with the real mim executable, checkpoint and resume."""
import glob
import os.path as osp

import pytest

from conftest import run_mim

pytestmark = pytest.mark.slow  # (setup.cfg: spawns processes / runs end to end)

CONFIG = 'configs/dbpn/dbpn-tiny_x4_1xb4-200i_synthetic.py'


def data_options(root):
    return [f'{loader}.dataset.data_root={root}'
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]


def load_own_checkpoint(path):
    """Load an mmengine checkpoint the way mmengine's Runner does (weights_only under torch 2.14)."""
    import fdsr_mm  # noqa: F401  (installs the scoped checkpoint loader)
    from mmengine.runner import CheckpointLoader
    return CheckpointLoader.load_checkpoint(path, map_location='cpu')


@pytest.fixture(scope='module')
def trained_work_dir(tmp_path_factory, synthetic_sr_root):
    """4 iterations with checkpoints at 2 and 4, through `mim train`."""
    work_dir = str(tmp_path_factory.mktemp('mim_train'))
    run_mim(['train', 'fdsr_mm', CONFIG, '--work-dir', work_dir, '--cfg-options',
             'train_cfg.max_iters=4', 'train_cfg.val_interval=4',
             'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
             'train_dataloader.batch_size=2', *data_options(synthetic_sr_root)])
    return work_dir


def test_mim_train_writes_checkpoints(trained_work_dir):
    assert osp.isfile(osp.join(trained_work_dir, 'iter_2.pth'))
    ckpt = load_own_checkpoint(osp.join(trained_work_dir, 'iter_4.pth'))
    assert ckpt['meta']['iter'] == 4
    assert any(k.startswith('generator.') for k in ckpt['state_dict'])
    adam_steps = {float(s['step']) for s in ckpt['optimizer']['state'].values()}
    assert adam_steps == {4.0}


def test_mim_train_resume_continues_iterations_and_optimizer(trained_work_dir,
                                                              synthetic_sr_root):
    proc = run_mim(['train', 'fdsr_mm', CONFIG, '--work-dir', trained_work_dir, '--resume',
                    '--cfg-options', 'train_cfg.max_iters=6', 'train_cfg.val_interval=6',
                    'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
                    'train_dataloader.batch_size=2', *data_options(synthetic_sr_root)])
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 4' in log
    ckpt = load_own_checkpoint(osp.join(trained_work_dir, 'iter_6.pth'))
    assert ckpt['meta']['iter'] == 6
    # Adam's per-parameter step counter continued from the saved 4, not from 0.
    adam_steps = {float(s['step']) for s in ckpt['optimizer']['state'].values()}
    assert adam_steps == {6.0}
    # The iterations after the resume were logged as 5 and 6 (not 1 and 2).
    assert 'Iter(train) [5/6]' in log and 'Iter(train) [6/6]' in log


def test_mim_test_evaluates_a_checkpoint(trained_work_dir, synthetic_sr_root, tmp_path):
    out = tmp_path / 'metrics.json'
    run_mim(['test', 'fdsr_mm', CONFIG, '--checkpoint', osp.join(trained_work_dir, 'iter_4.pth'),
             '--work-dir', str(tmp_path), '--out', str(out), '--cfg-options',
             *data_options(synthetic_sr_root)])
    import json
    metrics = json.loads(out.read_text())
    psnr = [v for k, v in metrics.items() if k.endswith('PSNR')]
    assert len(psnr) == 1 and 5 < psnr[0] < 60, metrics
    assert not glob.glob(str(tmp_path / '*.tmp'))
