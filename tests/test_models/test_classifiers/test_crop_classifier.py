"""CropClassifier (the study's classifier prior): outputs, accuracy metric, and a real
tools/train.py run whose checkpoint DetectorFeatureLoss loads with the C4 detector config."""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.structures import BaseDataElement

import fdsr_mm  # noqa: F401  (registers the models, datasets and the metric)
from fdsr_mm.datasets import write_synthetic_coco
from fdsr_mm.evaluation import CropAccuracy
from mmagic.registry import MODELS as MMAGIC_MODELS
from mmdet.registry import MODELS

CLS_CONFIG = 'configs/study/classifiers/r18-c16-c4_crop-cls_1xb32-800i_synthetic-coco.py'
C4_CONFIG = 'fdsr_mm::study/detectors/faster-rcnn_r18-c16-c4_1xb4-1000i_synthetic-coco.py'


def build_classifier(repo_root):
    cfg = Config.fromfile(osp.join(repo_root, CLS_CONFIG))
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MODELS.build(cfg.model)


def test_modes_give_logits_loss_and_softmax_predictions(repo_root):
    torch.manual_seed(0)
    model = build_classifier(repo_root)
    data = dict(inputs=[torch.randint(0, 256, (3, 96, 96), dtype=torch.uint8) for _ in range(3)],
                data_samples=[BaseDataElement(gt_label=torch.tensor([k])) for k in (0, 4, 2)])
    batch = model.data_preprocessor(data, training=True)
    assert batch['inputs'].shape == (3, 3, 96, 96) and batch['inputs'].dtype == torch.float32
    logits = model(batch['inputs'], mode='tensor')
    assert logits.shape == (3, 5)
    losses = model(**batch, mode='loss')
    expect = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 4, 2]))
    torch.testing.assert_close(losses['loss_cls'], expect)
    preds = model(**batch, mode='predict')
    for pred, row in zip(preds, logits.softmax(1)):
        torch.testing.assert_close(pred.pred_score, row)
        assert pred.pred_label.item() == row.argmax().item()


def test_accuracy_metric_counts_top1_overall_and_per_class():
    metric = CropAccuracy()
    metric.dataset_meta = dict(classes=('a', 'b'))
    pairs = [(0, 0), (1, 0), (1, 1), (1, 1)]  # (pred, gt)
    metric.process({}, [dict(pred_label=torch.tensor([p]), gt_label=torch.tensor([g]))
                        for p, g in pairs])
    assert metric.evaluate(len(pairs)) == {'accuracy/top1': 75., 'accuracy/a': 50.,
                                           'accuracy/b': 100.}


@pytest.fixture(scope='module')
def trained_classifier(tmp_path_factory, repo_root):
    """Work dir of 4 iterations of tools/train.py with the study's classifier config."""
    root = str(tmp_path_factory.mktemp('cls_coco'))
    write_synthetic_coco(root, num_train=4, num_val=2, image_size=128, seed=2)
    work_dir = str(tmp_path_factory.mktemp('cls_work'))
    options = ['train_cfg.max_iters=4', 'train_cfg.val_interval=4', 'param_scheduler.1.end=4',
               'default_hooks.checkpoint.interval=4', 'default_hooks.logger.interval=1',
               'train_dataloader.batch_size=4',
               *[f'{loader}.dataset.data_root={root}/'
                 for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]]
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, 'tools/train.py', CLS_CONFIG, '--work-dir', work_dir,
                           '--cfg-options', *options], cwd=repo_root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return work_dir


@pytest.mark.slow
def test_train_py_run_validates_accuracy_and_saves_a_checkpoint(trained_classifier):
    log = open(glob.glob(osp.join(trained_classifier, '*', '*.log'))[0]).read()
    assert 'accuracy/top1:' in log and 'loss_cls:' in log
    state = torch.load(osp.join(trained_classifier, 'iter_4.pth'), map_location='cpu',
                       weights_only=False)['state_dict']
    assert {k.split('.')[0] for k in state} == {'backbone', 'head'}


@pytest.mark.slow
def test_checkpoint_loads_into_feature_loss_with_the_c4_detector_config(trained_classifier):
    ckpt = osp.join(trained_classifier, 'iter_4.pth')
    state = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
    loss = MMAGIC_MODELS.build(dict(type='DetectorFeatureLoss', detector_config=C4_CONFIG,
                                    checkpoint=ckpt, strict=True))
    ours = loss.extractor['backbone'].state_dict()
    theirs = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    assert ours.keys() == theirs.keys()  # every backbone tensor, nothing left at random init
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    # Trained BN statistics arrived (a fresh init has running_mean 0 everywhere).
    assert ours['bn1.running_mean'].abs().sum() > 0
