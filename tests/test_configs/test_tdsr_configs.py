"""TDSR configs state only their difference from the FDSR paper config (issue 12): the loss
weights, the task network and the data; generator, optimizer, schedule and runtime are shared."""
import glob
import os.path as osp

from mmengine.config import Config

from conftest import REPO_ROOT

FDSR = 'configs/fdsr/fdsr_ddbpn-x4_maskrcnn-r50c4-a0.5b1_1xb8-2000k_coco20k.py'
TDSR = 'configs/tdsr/tdsr_ddbpn-x4_ssd300-voc0712-a1g0.1_1xb8-2000k_voc0712.py'
#: Settings a TDSR config may change: loss weights + task network, and the data (its dataset
#: base file's variables, loaders and evaluators).
ALLOWED = ('model.pixel_loss.loss_weight', 'model.feature_loss.loss_weight', 'model.task_loss',
           'train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator',
           'test_evaluator', 'train_pipeline', 'test_pipeline', 'data_root', 'metainfo',
           'hr_size', 'train_list', 'val_list', 'gt_patch_size')


def _flat(obj, prefix=''):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(_flat(v, f'{prefix}.{k}' if prefix else k))
        return out
    return {prefix: obj}


def _load(path):
    return _flat(Config.fromfile(osp.join(REPO_ROOT, path)).to_dict())


def test_tdsr_differs_from_fdsr_only_in_loss_weights_task_network_and_data():
    fdsr, tdsr = _load(FDSR), _load(TDSR)
    changed = {k for k in fdsr.keys() | tdsr.keys() if fdsr.get(k, '<absent>') != tdsr.get(k)}
    assert changed, 'the configs are identical'
    outside = sorted(k for k in changed if not k.startswith(ALLOWED))
    assert not outside, f'TDSR changes more than loss weights / task network / data: {outside}'
    # what makes it TDSR: beta 0, gamma > 0 through a detector task loss, and the VOC data
    assert tdsr['model.feature_loss.loss_weight'] == 0 and tdsr['model.task_loss.loss_weight'] > 0
    assert tdsr['model.task_loss.type'] == 'DetectorTaskLoss'
    assert 'ssd300_voc0712' in tdsr['model.task_loss.detector_config']
    for key in ('model.generator.type', 'model.generator.init_cfg.checkpoint', 'train_cfg.max_iters',
                'optim_wrapper.optimizer.lr', 'model.data_preprocessor.std'):
        assert tdsr[key] == fdsr[key], key


def test_tdsr_ablations_are_one_line_children():
    children = [p for p in glob.glob(osp.join(REPO_ROOT, 'configs', 'tdsr', 'tdsr_ddbpn-*.py'))
                if osp.basename(p) != osp.basename(TDSR)]
    assert children
    base = _load(TDSR)
    for path in children:
        cfg = _load(osp.relpath(path, REPO_ROOT))
        changed = {k for k in base.keys() | cfg.keys() if base.get(k) != cfg.get(k)}
        assert changed == {'model.task_loss.loss_weight'}, (path, changed)
