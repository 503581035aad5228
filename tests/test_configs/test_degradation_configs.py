"""The realistic-degradation FDSR config is its parent with only the training degradation
swapped (a registered, buildable transform that degrades a real patch)."""
import os.path as osp

import numpy as np
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmagic.registry import TRANSFORMS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PARENT = 'configs/fdsr/fdsr_ddbpn-x4_maskrcnn-r50c4-a0.5b1_1xb8-2000k_coco20k.py'
CHILD = 'configs/fdsr/fdsr_ddbpn-x4_maskrcnn-r50c4-a0.5b1-realistic_1xb8-2000k_coco20k.py'


def test_realistic_child_swaps_only_the_train_degradation():
    parent = Config.fromfile(osp.join(REPO_ROOT, PARENT)).to_dict()
    child = Config.fromfile(osp.join(REPO_ROOT, CHILD)).to_dict()
    pipe, parent_pipe = child['train_dataloader']['dataset']['pipeline'], \
        parent['train_dataloader']['dataset']['pipeline']
    assert child['train_pipeline'] == pipe
    swapped = [i for i, (a, b) in enumerate(zip(pipe, parent_pipe)) if a != b]
    assert len(pipe) == len(parent_pipe) and len(swapped) == 1
    assert parent_pipe[swapped[0]] == dict(type='BicubicDegradation', scale=4)
    assert pipe[swapped[0]] == dict(type='Degradation', scale=4, name='realistic',
                                    per_call_random=True)
    # everything else (model, schedule, val/test pipelines, ...) is the parent's
    for cfg in (parent, child):
        cfg['train_dataloader']['dataset'].pop('pipeline')
        cfg.pop('train_pipeline')
    assert child == parent

    with DefaultScope.overwrite_default_scope('mmagic'):
        t = TRANSFORMS.build(pipe[swapped[0]])
    gt = np.random.default_rng(0).integers(0, 256, (160, 160, 3), dtype=np.uint8)
    out = t(dict(gt=gt, gt_path='data/coco/train2017/000000000009.jpg', gt_channel_order='rgb'))
    assert out['img'].shape == (40, 40, 3) and out['img'].dtype == np.uint8
