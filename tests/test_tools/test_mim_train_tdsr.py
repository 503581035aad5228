"""`mim train fdsr_mm` on the tiny TDSR config: pixel + task loss through a frozen SSD on a
generated VOC-format set, generator-only checkpoints, resume."""
import os.path as osp
import re

import pytest

from conftest import run_mim

pytestmark = pytest.mark.slow  # (setup.cfg: spawns processes / runs end to end)

CONFIG = 'configs/tdsr/tdsr_dbpn-tiny_x4_ssd-tiny-a1g0.1_1xb4-200i_synthetic-voc.py'


def options(voc_root, max_iters):
    return ['--cfg-options', f'train_cfg.max_iters={max_iters}',
            f'train_cfg.val_interval={max_iters}', 'default_hooks.checkpoint.interval=2',
            'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2',
            *[f'{loader}.dataset.det_dataset.data_root={voc_root}/'
              for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]]


@pytest.fixture(scope='module')
def tdsr_run(tmp_path_factory):
    from fdsr_mm.datasets.synthetic_voc import write_synthetic_voc
    voc_root = str(tmp_path_factory.mktemp('synthetic_voc'))
    write_synthetic_voc(voc_root, num_trainval=6, num_test=2, image_size=96, seed=0)
    work_dir = str(tmp_path_factory.mktemp('mim_train_tdsr'))
    proc = run_mim(['train', 'fdsr_mm', CONFIG, '--work-dir', work_dir,
                    *options(voc_root, 4)])
    return voc_root, work_dir, proc.stdout + proc.stderr


def test_logs_pixel_and_task_losses_and_saves_generator_only(tdsr_run):
    _, work_dir, log = tdsr_run
    lines = [ln for ln in log.splitlines() if 'Iter(train)' in ln]
    assert len(lines) == 4
    for ln in lines:
        pix = float(re.search(r'loss_pix: ([0-9.e-]+)', ln).group(1))
        task = float(re.search(r'loss_task: ([0-9.e-]+)', ln).group(1))
        assert pix > 0 and task > 0
        assert 'loss_feat' not in ln  # beta 0: no feature term
    from mmengine.runner import CheckpointLoader
    ckpt = CheckpointLoader.load_checkpoint(osp.join(work_dir, 'iter_4.pth'), map_location='cpu')
    assert ckpt['meta']['iter'] == 4
    keys = list(ckpt['state_dict'])
    assert keys and all(k.startswith(('generator.', 'data_preprocessor.')) for k in keys)
    assert 'psnr' in log.lower()  # validation on the VOC test split ran


def test_resume_continues(tdsr_run):
    voc_root, work_dir, _ = tdsr_run
    proc = run_mim(['train', 'fdsr_mm', CONFIG, '--work-dir', work_dir, '--resume',
                    *options(voc_root, 6)])
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 4' in log
    assert 'Iter(train) [6/6]' in log and 'loss_task' in log
    assert osp.isfile(osp.join(work_dir, 'iter_6.pth'))
