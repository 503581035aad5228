"""`mim train fdsr_mm` with MMagic's SwinIRNet as the FDSR generator (tiny config): both losses,
a generator-only checkpoint, resume, and the trained checkpoint as a cascade SR method."""
import os.path as osp
import re

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from conftest import REPO_ROOT, run_mim
from helpers.train_cli_testlib import checkpoint_iters
from test_mim_train_fdsr import options  # (same folder)

pytestmark = pytest.mark.slow  # (setup.cfg: spawns processes / runs end to end)

CONFIG = 'configs/fdsr/fdsr_swinir-tiny_x4_r18c4-tiny-a0.5b1_1xb4-200i_synthetic.py'


def swinir_keys():
    """The state-dict keys of the config's SwinIRNet, built on its own."""
    from mmagic.registry import MODELS
    gen_cfg = Config.fromfile(osp.join(REPO_ROOT, CONFIG)).model.generator.to_dict()
    with DefaultScope.overwrite_default_scope('mmagic'):
        return set(MODELS.build(gen_cfg).state_dict())


@pytest.fixture(scope='module')
def swinir_run(tmp_path_factory, synthetic_sr_root, tiny_c4_detector):
    work_dir = str(tmp_path_factory.mktemp('mim_train_swinir'))
    proc = run_mim(['train', 'fdsr_mm', CONFIG, '--work-dir', work_dir,
                    *options(synthetic_sr_root, tiny_c4_detector[2], 4)])
    return work_dir, proc.stdout + proc.stderr


def test_trains_with_both_losses_and_saves_swinir_generator_only(swinir_run):
    work_dir, log = swinir_run
    lines = [ln for ln in log.splitlines() if 'Iter(train)' in ln]
    assert len(lines) == 4
    for ln in lines:
        assert float(re.search(r'loss_pix: ([0-9.e-]+)', ln).group(1)) > 0
        assert float(re.search(r'loss_feat: ([0-9.e-]+)', ln).group(1)) > 0
    assert checkpoint_iters(work_dir) == [2, 4]
    from mmengine.runner import CheckpointLoader
    state = CheckpointLoader.load_checkpoint(osp.join(work_dir, 'iter_4.pth'),
                                             map_location='cpu')['state_dict']
    gen = {k[len('generator.'):] for k in state if k.startswith('generator.')}
    assert gen == swinir_keys()  # SwinIR's own keys, every one of them
    assert all(k.startswith(('generator.', 'data_preprocessor.')) for k in state)  # no detector


def test_resume_continues(swinir_run, synthetic_sr_root, tiny_c4_detector):
    work_dir, _ = swinir_run
    proc = run_mim(['train', 'fdsr_mm', CONFIG, '--work-dir', work_dir, '--resume',
                    *options(synthetic_sr_root, tiny_c4_detector[2], 6)])
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 4' in log
    assert 'Iter(train) [6/6]' in log and 'loss_feat' in log
    assert checkpoint_iters(work_dir) == [2, 4, 6]


def test_trained_checkpoint_is_a_cascade_method(swinir_run):
    from fdsr_mm.apis import super_resolve_image
    from fdsr_mm.apis.cascade.methods import build_method_generator, parse_method
    work_dir, _ = swinir_run
    method = parse_method(f'swinir={CONFIG}:{osp.join(work_dir, "iter_4.pth")}')
    generator = build_method_generator(method)  # loads strictly: no missing or unexpected key
    assert type(generator).__name__ == 'SwinIRNet' and not generator.training
    img = np.random.default_rng(0).integers(0, 256, (13, 17, 3), dtype=np.uint8)
    for tile in (None, 8):
        sr = super_resolve_image(generator, img, scale=4, tile=tile, tile_pad=4)
        assert sr.shape == (52, 68, 3) and sr.dtype == np.uint8
