"""The adapted-detector control trains through tools/train.py as a user runs it: from a trained
detector's weights (`load_from`), on degraded-and-upsampled images, for its own schedule."""
import os.path as osp

import pytest
import torch

from fdsr_mm.datasets import write_synthetic_coco
from helpers.train_cli_testlib import last_checkpoint, run_train

CHILD = ('configs/study/detectors/lr_adapted/'
         'faster-rcnn_r18-c16-fpn_1xb4-300i_synthetic-coco-lr-adapted.py')
PARENT = 'configs/study/detectors/faster-rcnn_r18-c16-fpn_1xb4-1000i_synthetic-coco.py'


@pytest.mark.slow
def test_adapted_detector_fine_tunes_from_the_parents_weights(tmp_path):
    data = tmp_path / 'coco'
    write_synthetic_coco(str(data), num_train=8, num_val=4, image_size=128, seed=0)
    roots = [f'{loader}.dataset.data_root={data}/' for loader in
             ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    roots += [f'{e}_evaluator.ann_file={data}/annotations/instances_val.json'
              for e in ('val', 'test')]
    parent_dir, child_dir = str(tmp_path / 'parent'), str(tmp_path / 'child')
    short = ['train_cfg.max_iters=2', 'train_cfg.val_interval=2',
             'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1']
    proc = run_train([PARENT, '--work-dir', parent_dir, '--cfg-options', *short, *roots])
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    start = last_checkpoint(parent_dir)
    proc = run_train([CHILD, '--work-dir', child_dir, '--cfg-options', f'load_from={start}',
                      'randomness.seed=0', *short, *roots])
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    log = proc.stdout + proc.stderr
    assert 'SimulateLowResolution' in log and f'Load checkpoint from {start}' in log
    before = torch.load(start, map_location='cpu', weights_only=False)['state_dict']
    after = torch.load(last_checkpoint(child_dir), map_location='cpu',
                       weights_only=False)['state_dict']
    assert before.keys() == after.keys()
    assert not torch.equal(before['rpn_head.rpn_conv.weight'], after['rpn_head.rpn_conv.weight'])
    assert osp.basename(last_checkpoint(child_dir)) == 'iter_2.pth'
