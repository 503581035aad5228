"""tools/train.py is bit-reproducible across processes: the same ``randomness.seed`` gives the
same weights whatever PYTHONHASHSEED is; another seed gives other weights.

The run is the tiny TDSR config (frozen random SSD with its L2Norm, task loss) with the feature
loss switched on as well (frozen random ResNet-18 C4 prior): pixel + feature + task loss, so
every randomly built frozen network is covered. Before the fix, the SSD's ``L2Norm.weight`` was
never initialised (``torch.Tensor(n)``: whatever memory the process handed back), so the loss,
and the weights after one step, changed with PYTHONHASHSEED.
"""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from conftest import REPO_ROOT

pytestmark = pytest.mark.slow  # (setup.cfg: spawns processes / runs end to end)

CONFIG = osp.join(REPO_ROOT,
                  'configs/tdsr/tdsr_dbpn-tiny_x4_ssd-tiny-a1g0.1_1xb4-200i_synthetic-voc.py')
# The tiny TDSR run plus the tiny FDSR config's feature loss (beta 1, random R18-C4 prior).
WITH_FEATURE_LOSS = f"""_base_ = [{CONFIG!r}]
model = dict(feature_loss=dict(
    loss_weight=1.0, checkpoint=None,
    detector_cfg_options={{'model.backbone.depth': 18, 'model.backbone.base_channels': 16}}))
"""
ITERS = 2
# (PYTHONHASHSEED, randomness.seed) of the three runs.
RUNS = {'hash1_seed0': ('1', 0), 'hash2_seed0': ('2', 0), 'hash2_seed1': ('2', 1)}


def train_command(config, voc_root, work_dir, seed):
    return [sys.executable, osp.join(REPO_ROOT, 'tools/train.py'), config, '--work-dir', work_dir,
            '--cfg-options', f'randomness.seed={seed}', f'train_cfg.max_iters={ITERS}',
            f'train_cfg.val_begin={ITERS + 1}', f'default_hooks.checkpoint.interval={ITERS}',
            'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2',
            *[f'{loader}.dataset.det_dataset.data_root={voc_root}/'
              for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]]


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """The three runs, concurrently, each in its own process; their final checkpoints."""
    from fdsr_mm.datasets.synthetic_voc import write_synthetic_voc
    root = tmp_path_factory.mktemp('train_reproducible')
    voc_root = str(root / 'voc')
    write_synthetic_voc(voc_root, num_trainval=4, num_test=2, image_size=96, seed=0)
    config = root / 'tdsr_fdsr_tiny.py'
    config.write_text(WITH_FEATURE_LOSS)
    procs = {}
    for name, (hash_seed, seed) in RUNS.items():
        env = dict(os.environ, PYTHONHASHSEED=hash_seed, OMP_NUM_THREADS='1',
                   MKL_NUM_THREADS='1')
        cmd = train_command(str(config), voc_root, str(root / name), seed)
        procs[name] = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
    ckpts = {}
    for name, proc in procs.items():
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, f'{name} failed ({proc.returncode}):\n{out[-4000:]}'
        assert out.count('Iter(train)') == ITERS and 'loss_feat' in out and 'loss_task' in out
        ckpts[name] = torch.load(str(root / name / f'iter_{ITERS}.pth'), map_location='cpu',
                                 weights_only=False)
    return ckpts


def tensors(ckpt):
    """Every tensor of the checkpoint: model weights and the optimizer's state, by name."""
    out = {f'state_dict.{k}': v for k, v in ckpt['state_dict'].items()}
    for pid, state in ckpt['optimizer']['state'].items():
        out.update({f'optimizer.{pid}.{k}': v for k, v in state.items()
                    if isinstance(v, torch.Tensor)})
    return out


def test_same_seed_other_hash_seed_is_bit_identical(checkpoints):
    a, b = tensors(checkpoints['hash1_seed0']), tensors(checkpoints['hash2_seed0'])
    assert a.keys() == b.keys() and any(k.startswith('optimizer.') for k in a)
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    assert not differ, f'{len(differ)} of {len(a)} tensors differ, e.g. {differ[:5]}'
    assert all(torch.isfinite(v).all() for v in a.values() if v.is_floating_point())


def test_other_seed_gives_other_weights(checkpoints):
    a = checkpoints['hash2_seed0']['state_dict']
    b = checkpoints['hash2_seed1']['state_dict']
    assert a.keys() == b.keys()
    assert any(not torch.equal(a[k], b[k]) for k in a if k.startswith('generator.'))
