"""Every experiment config under configs/ loads and builds its model (cheap: no training)."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmagic.registry import MODELS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    osp.relpath(p, REPO_ROOT)
    for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p.split(osp.sep))


def test_there_are_configs():
    assert CONFIGS


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds_its_model(config):
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    assert cfg.default_scope == 'mmagic'
    assert 'fdsr_mm' in cfg.custom_imports['imports']
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model)
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
