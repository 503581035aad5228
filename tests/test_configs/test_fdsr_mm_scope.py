"""``_base_ = ['fdsr_mm::<path under configs/>']`` loads and builds (issue 18): mmengine knows the
package (``MODULE2PACKAGE``), finds ``fdsr_mm/.mim/model-index.yml`` and ``.mim/configs``, and
builds the inherited dicts (tagged ``_scope_='fdsr_mm'``) from ``fdsr_mm.registry``, whose
registries fall back to MMagic's and mmengine's."""
import os.path as osp

from mmengine.config import Config
from mmengine.registry import MODELS, VISUALIZERS, DefaultScope

import fdsr_mm  # noqa: F401  (registers the scope)
from conftest import REPO_ROOT

BASE = 'dbpn/dbpn-tiny_x4_1xb4-200i_synthetic.py'


def test_readme_shows_the_scoped_base():
    with open(osp.join(REPO_ROOT, 'README.md')) as f:
        assert f"_base_ = ['fdsr_mm::{BASE}']" in f.read()


def test_scoped_base_loads_as_the_original_and_builds(tmp_path, restore_default_scope):
    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = ['fdsr_mm::{BASE}']\ntrain_cfg = dict(max_iters=2)\n")
    cfg = Config.fromfile(str(child))
    original = Config.fromfile(osp.join(REPO_ROOT, 'configs', BASE))
    assert cfg.model._scope_ == 'fdsr_mm'
    assert {k: v for k, v in cfg.model.items() if k != '_scope_'} == original.model.to_dict()
    assert cfg.train_cfg.max_iters == 2 and cfg.train_cfg.type == original.train_cfg.type
    DefaultScope.get_instance('test_fdsr_mm_scope', scope_name='mmagic')
    model = MODELS.build(cfg.model)  # BaseEditModel from MMagic, DBPN from fdsr_mm
    assert type(model).__name__ == 'BaseEditModel' and type(model.generator).__name__ == 'DBPN'
    # a lazily imported MMagic module is found through the fdsr_mm scope's registry
    from fdsr_mm.registry import VISUALIZERS as SCOPED
    assert SCOPED.parent is VISUALIZERS._search_child('mmagic')
    assert SCOPED.get(cfg.visualizer.type).__name__ == 'ConcatImageVisualizer'
