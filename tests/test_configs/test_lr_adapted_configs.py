"""The adapted-detector controls differ from their parent detector configs only in the training
pipeline (SimulateLowResolution after LoadAnnotations) and the schedule (issue 21)."""
import os.path as osp

import pytest
from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STUDY = 'configs/study/detectors'
PAIRS = [
    (f'{STUDY}/lr_adapted/faster-rcnn_r18-c16-fpn_1xb4-300i_synthetic-coco-lr-adapted.py',
     f'{STUDY}/faster-rcnn_r18-c16-fpn_1xb4-1000i_synthetic-coco.py',
     {'train_cfg', 'optim_wrapper', 'param_scheduler', 'default_hooks', 'max_iters'}),
    ('configs/detectors/lr_adapted/faster-rcnn_r50_fpn_lr-adapted-1x_coco.py',
     'configs/detectors/faster-rcnn_r50_fpn_1x_coco.py', {'optim_wrapper', 'load_from'}),
]


@pytest.mark.parametrize('child,parent,schedule', PAIRS)
def test_only_pipeline_and_schedule_differ(child, parent, schedule):
    c = Config.fromfile(osp.join(REPO_ROOT, child)).to_dict()
    p = Config.fromfile(osp.join(REPO_ROOT, parent)).to_dict()
    differ = {k for k in set(c) | set(p) if c.get(k) != p.get(k)}
    assert differ <= {'train_dataloader', 'train_pipeline'} | schedule, differ
    assert c['model'] == p['model']
    assert c['test_dataloader'] == p['test_dataloader'] and c['val_evaluator'] == p['val_evaluator']
    c_train, p_train = dict(c['train_dataloader']), dict(p['train_dataloader'])
    c_ds, p_ds = c_train.pop('dataset'), p_train.pop('dataset')
    assert c_train == p_train
    c_pipe, p_pipe = c_ds.pop('pipeline'), p_ds.pop('pipeline')
    assert c_ds == p_ds
    types = [t['type'] for t in c_pipe]
    at = types.index('SimulateLowResolution')
    assert types[at - 1] == 'LoadAnnotations'  # after the boxes, before any resize or flip
    assert c_pipe[:at] + c_pipe[at + 1:] == p_pipe  # the parent's pipeline, one step added
    assert c_pipe[at]['scale'] == 4 and c_pipe[at]['degradation'] == 'bicubic'


def test_study_children_keep_the_sr_finetune_budget():
    for child, _, _ in PAIRS[:1]:
        cfg = Config.fromfile(osp.join(REPO_ROOT, child))
        assert cfg.train_cfg.max_iters == 300  # the SR fine-tunes' iterations
        assert cfg.default_hooks.checkpoint.interval == 300
        assert [s['type'] for s in cfg.param_scheduler] == ['ConstantLR']
