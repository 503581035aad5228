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
