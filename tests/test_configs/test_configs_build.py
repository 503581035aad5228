"""Every experiment config under configs/ loads and builds its model (cheap: no training).

SR configs run in MMagic's scope; detector configs (``configs/detectors/``, ``configs/study/``
detectors) run in MMDetection's scope and are built with mmdet's registry.
"""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmagic.registry import MODELS
from mmdet.registry import MODELS as MMDET_MODELS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: Study specs (configs/study/*.py, configs/study/examples/) describe a study, not a model: their
#: checks are tests/test_study/test_spec_graph.py's.
STUDY_SPECS = ('configs/study', 'configs/study/examples')
CONFIGS = sorted(
    osp.relpath(p, REPO_ROOT)
    for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p.split(osp.sep)
    and osp.dirname(osp.relpath(p, REPO_ROOT)) not in STUDY_SPECS)


def test_there_are_configs():
    assert CONFIGS


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds_its_model(config):
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    assert cfg.default_scope in ('mmagic', 'mmdet')
    assert 'fdsr_mm' in cfg.custom_imports['imports']
    registry = MODELS if cfg.default_scope == 'mmagic' else MMDET_MODELS
    if cfg.model.get('feature_loss'):
        # Model-zoo weights are not available here: build the frozen prior with random init.
        cfg.model.feature_loss.checkpoint = None
    if cfg.model.get('task_loss'):
        cfg.model.task_loss.checkpoint = None  # the TDSR task detector, likewise
    if cfg.model.type == 'SRDetector':  # SR + detector: its FDSR and model-zoo weights, likewise
        cfg.model.sr.checkpoint = cfg.model.detector_checkpoint = None
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = registry.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0


def test_edsr_config_uses_mmagic_edsr_generator_unchanged():
    from mmengine.hub import get_config
    ours = Config.fromfile(osp.join(REPO_ROOT, 'configs/edsr/edsr_x4c64b16_1xb8-2000k_coco20k.py'))
    mmagic_cfg = get_config('mmagic::edsr/edsr_x4c64b16_1xb16-300k_div2k.py')
    assert ours.model.generator.to_dict() == mmagic_cfg.model.generator.to_dict()


def test_ddbpn_paper_configs_schedule_and_init():
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/dbpn/ddbpn_x4_1xb8-2000k_coco20k.py'))
    assert cfg.train_cfg.max_iters == 2_000_000
    assert cfg.train_dataloader.batch_size == 8
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, tuple(opt.betas), opt.eps) == ('Adam', 1e-4, (0.9, 0.999), 1e-8)
    assert cfg.model.generator.init_cfg.prefix == 'generator.'
    assert cfg.scale == 4 and cfg.model.generator.scale == 4
    div2k = Config.fromfile(osp.join(REPO_ROOT, 'configs/dbpn/ddbpn_x4_1xb16-1000k_div2k.py'))
    assert div2k.train_cfg.max_iters == 1_000_000 and div2k.model.generator.init_cfg is None


def test_fdsr_x4_is_the_papers_setting():
    """Sec. 3.1 of the paper, read back from the loaded short-name config."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/fdsr_x4.py'))
    model = cfg.model
    assert model.type == 'FDSR'
    gen = model.generator
    assert (gen.type, gen.scale, gen.get('mid_channels', 256), gen.get('num_stages', 7)) == \
        ('DBPN', 4, 256, 7)
    assert gen.init_cfg.checkpoint == 'checkpoints/dbpn_x4_official.pth'
    assert (model.pixel_loss.type, model.pixel_loss.loss_weight) == ('L1Loss', 0.5)  # alpha
    feat = model.feature_loss
    assert (feat.type, feat.loss_weight, feat.criterion) == ('DetectorFeatureLoss', 1.0, 'mse')
    assert feat.detector_config == 'mmdet::mask_rcnn/mask-rcnn_r50-caffe-c4_1x_coco.py'
    assert feat.checkpoint.endswith('faster_rcnn_r50_caffe_c4_1x_coco_20220316_150152-3f885b85.pth')
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, tuple(opt.betas), opt.eps) == ('Adam', 1e-4, (0.9, 0.999), 1e-8)
    assert cfg.train_dataloader.batch_size == 8 and cfg.train_cfg.max_iters == 2_000_000
    assert cfg.train_dataloader.dataset.ann_file == 'annotations/fdsr_sr_train20k.txt'
    assert cfg.train_dataloader.dataset.data_root == 'data/coco'


@pytest.mark.parametrize('name,alpha,beta', [
    ('fdsr/fdsr_ddbpn-x4_maskrcnn-r50c4-a0b1_1xb8-2000k_coco20k.py', 0., 1.),
    ('fdsr/fdsr_ddbpn-x4_maskrcnn-r50c4-a0.25b1_1xb8-2000k_coco20k.py', 0.25, 1.),
    ('fdsr/fdsr_ddbpn-x4_maskrcnn-r50c4-a1b1_1xb8-2000k_coco20k.py', 1., 1.),
    ('fdsr/fdsr_ddbpn-x4_maskrcnn-r50c4-a1b0.5_1xb8-2000k_coco20k.py', 1., 0.5),
    ('dbpn/ddbpn_x4_1xb8-2000k_coco20k.py', 0.5, 0.),
])
def test_fig3_ablations_change_only_alpha_beta(name, alpha, beta):
    """A Fig. 3 ablation differs from the paper config in the two loss weights and nothing else."""
    paper = Config.fromfile(osp.join(REPO_ROOT, 'configs/fdsr_x4.py')).to_dict()
    child = Config.fromfile(osp.join(REPO_ROOT, 'configs', name)).to_dict()
    assert child['model']['pixel_loss']['loss_weight'] == alpha
    assert child['model']['feature_loss']['loss_weight'] == beta
    for cfg in (paper, child):
        cfg['model']['pixel_loss'].pop('loss_weight')
        cfg['model']['feature_loss'].pop('loss_weight')
    assert child == paper
