"""`mim train fdsr_mm` on the tiny SR4IR config: both networks trained in turns on a generated
COCO-format set, the TDP term from its start iteration, one checkpoint with both, `--resume`."""
import os.path as osp
import re

import pytest
import torch

from conftest import run_mim
from helpers.sr4ir_testlib import CONFIG, LOADERS, write_coco

pytestmark = pytest.mark.slow  # (setup.cfg: spawns processes / runs end to end)


def options(coco_root, max_iters):
    return ['--cfg-options', f'train_cfg.max_iters={max_iters}',
            f'train_cfg.val_interval={max_iters}', 'default_hooks.checkpoint.interval=2',
            'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2',
            'model.tdp_start_iter=1',
            *[f'{loader}.dataset.det_dataset.data_root={coco_root}/' for loader in LOADERS]]


def test_mim_train_and_resume(tmp_path):
    coco_root = write_coco(tmp_path / 'coco')
    work_dir = str(tmp_path / 'work')
    log = run_mim(['train', 'fdsr_mm', CONFIG, '--work-dir', work_dir,
                   *options(coco_root, 2)]).stdout
    lines = [ln for ln in log.splitlines() if 'Iter(train)' in ln]
    assert len(lines) == 2 and 'loss_tdp' not in lines[0] and 'loss_tdp' in lines[1]
    for ln in lines:
        for term in ('loss_pix', 'loss_det_sr', 'loss_det_hr', 'loss_det_cqmix'):
            assert float(re.search(rf'{term}: ([0-9.e-]+)', ln).group(1)) > 0, term
    state = torch.load(osp.join(work_dir, 'iter_2.pth'), map_location='cpu',
                       weights_only=False)
    assert {k.split('.', 1)[0] for k in state['state_dict']} == {'generator', 'detector'}
    assert set(state['optimizer']) == {'generator', 'detector'}
    proc = run_mim(['train', 'fdsr_mm', CONFIG, '--work-dir', work_dir, '--resume',
                    *options(coco_root, 3)])
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 2' in log and 'Iter(train) [3/3]' in log
    assert osp.isfile(osp.join(work_dir, 'iter_3.pth'))
