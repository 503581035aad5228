"""Two-process FDSR training on CPU: `torchrun tools/train.py CONFIG --launcher pytorch` (gloo).

The code path a GPU user gets with nccl (mmengine Runner, MMDistributedDataParallel, the
distributed sampler), with the gloo backend and no CUDA. A hook written into the test's config
dumps, on each rank before and after training, the frozen feature prior (the backbone of
``DetectorFeatureLoss``) and the generator.
"""
import datetime
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

from conftest import REPO_ROOT

pytestmark = pytest.mark.slow  # (setup.cfg: spawns processes / runs end to end)

CONFIG = 'configs/fdsr/fdsr_dbpn-tiny_x4_r18c4-tiny-a0.5b1_1xb4-200i_synthetic.py'
MAX_ITERS = 4

HOOK_MODULE = '''
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class DumpRankStateHook(Hook):
    """Save this rank's prior and generator state before and after training."""

    def __init__(self, out_dir):
        self.out_dir = out_dir

    def _dump(self, runner, tag):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        prior = model.feature_loss.extractor
        state = dict(
            prior={k: v.detach().clone() for k, v in prior.state_dict().items()},
            prior_training=prior.training,
            prior_requires_grad=any(p.requires_grad for p in prior.parameters()),
            generator={k: v.detach().clone() for k, v in model.generator.state_dict().items()},
            wrapper=type(runner.model).__name__,
            backend=torch.distributed.get_backend(),
            rank=runner.rank, world_size=runner.world_size)
        torch.save(state, f'{self.out_dir}/{tag}_rank{runner.rank}.pth')

    def before_train(self, runner):
        self._dump(runner, 'before')

    def after_train(self, runner):
        self._dump(runner, 'after')
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _write_config(tmp: str) -> str:
    """A child of the tiny FDSR config that adds the state-dumping hook (module in ``tmp``)."""
    with open(osp.join(tmp, 'dump_rank_state_hook.py'), 'w') as f:
        f.write(HOOK_MODULE)
    path = osp.join(tmp, 'fdsr_tiny_dist.py')
    with open(path, 'w') as f:
        f.write(f"_base_ = [{osp.join(REPO_ROOT, CONFIG)!r}]\n"
                "custom_imports = dict(imports=['fdsr_mm', 'dump_rank_state_hook'], "
                "allow_failed_imports=False)\n"
                f"custom_hooks = [dict(type='DumpRankStateHook', out_dir={tmp!r})]\n")
    return path


@pytest.fixture(scope='module')
def dist_run(tmp_path_factory, synthetic_sr_root, tiny_c4_detector):
    """(work dir, dump dir, log) of a 2-process CPU training run of 4 iterations."""
    tmp = str(tmp_path_factory.mktemp('train_dist_cpu'))
    work_dir = osp.join(tmp, 'work')
    options = [f'train_cfg.max_iters={MAX_ITERS}', f'train_cfg.val_interval={MAX_ITERS}',
               f'default_hooks.checkpoint.interval={MAX_ITERS}', 'default_hooks.logger.interval=1',
               'train_dataloader.batch_size=2',
               f'model.feature_loss.checkpoint={tiny_c4_detector[2]}',
               *[f'{loader}.dataset.data_root={synthetic_sr_root}'
                 for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]]
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
           '--master_addr', '127.0.0.1', '--master_port', str(_free_port()),
           'tools/train.py', _write_config(tmp), '--launcher', 'pytorch', '--work-dir', work_dir,
           '--cfg-options', *options]
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='',
               PYTHONPATH=os.pathsep.join([tmp, os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'torchrun failed ({proc.returncode}):\n{log[-6000:]}'
    return work_dir, tmp, log


def _dumps(tmp, tag):
    return [torch.load(osp.join(tmp, f'{tag}_rank{r}.pth'), map_location='cpu') for r in (0, 1)]


def _equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_two_gloo_ranks_train_fdsr_with_ddp(dist_run):
    work_dir, tmp, log = dist_run
    after = _dumps(tmp, 'after')
    for r, state in enumerate(after):
        assert (state['rank'], state['world_size']) == (r, 2)
        assert state['backend'] == 'gloo' and state['wrapper'] == 'MMDistributedDataParallel'
    assert f'Iter(train) [{MAX_ITERS}/{MAX_ITERS}]' in log and 'loss_feat' in log
    # DDP: the ranks start from rank 0's generator and stay in step; training changed it.
    before = _dumps(tmp, 'before')
    assert _equal(before[0]['generator'], before[1]['generator'])
    assert _equal(after[0]['generator'], after[1]['generator'])
    assert not _equal(before[0]['generator'], after[0]['generator'])


def test_frozen_prior_is_identical_on_both_ranks_and_unchanged(dist_run, tiny_c4_detector):
    _, tmp, _ = dist_run
    loaded = {k: v for k, v in tiny_c4_detector[3].state_dict().items()
              if k.startswith('backbone.')}  # the extractor is a ModuleDict(backbone=...)
    for state in _dumps(tmp, 'before') + _dumps(tmp, 'after'):
        assert _equal(state['prior'], loaded)  # the detector's weights, exactly, on every rank
        assert not state['prior_training'] and not state['prior_requires_grad']


def test_checkpoint_holds_the_generator_only(dist_run):
    from mmengine.runner import CheckpointLoader
    work_dir, tmp, _ = dist_run
    ckpt = CheckpointLoader.load_checkpoint(osp.join(work_dir, f'iter_{MAX_ITERS}.pth'),
                                            map_location='cpu')
    assert ckpt['meta']['iter'] == MAX_ITERS
    keys = list(ckpt['state_dict'])
    assert keys and all(k.startswith(('generator.', 'data_preprocessor.')) for k in keys)
    assert not any('feature_loss' in k or 'backbone' in k or k.startswith('module.')
                   for k in keys)
    generator = _dumps(tmp, 'after')[0]['generator']
    assert _equal({k[len('generator.'):]: v for k, v in ckpt['state_dict'].items()
                   if k.startswith('generator.')}, generator)


def _cfg(**kwargs):
    from mmengine.config import Config
    return Config(dict(launcher='pytorch', env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60)),
                       **kwargs))


def test_setup_cpu_distributed_switches_to_gloo_and_ddp_without_device_ids(monkeypatch):
    import fdsr_mm.utils.dist_env as dist_env
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(dist_env.dist, 'is_initialized', lambda: True)  # no group is joined here
    cfg = _cfg(find_unused_parameters=True)
    assert dist_env.setup_cpu_distributed(cfg)
    assert cfg.env_cfg.dist_cfg == dict(backend='gloo', timeout=60)
    assert cfg.model_wrapper_cfg == dict(type='MMDistributedDataParallel', broadcast_buffers=False,
                                         find_unused_parameters=True, device_ids=None)
    # a config's own DDP wrapper keeps its settings; a non-DDP wrapper is left alone
    cfg = _cfg(model_wrapper_cfg=dict(type='MMDistributedDataParallel', broadcast_buffers=True))
    dist_env.setup_cpu_distributed(cfg)
    assert cfg.model_wrapper_cfg == dict(type='MMDistributedDataParallel', broadcast_buffers=True,
                                         device_ids=None)
    cfg = _cfg(model_wrapper_cfg=dict(type='MMFullyShardedDataParallel'))
    dist_env.setup_cpu_distributed(cfg)
    assert cfg.model_wrapper_cfg == dict(type='MMFullyShardedDataParallel')
    assert dist_env._gloo_init_kwargs(dict(backend='nccl', init_backend='torch', timeout=60)) == \
        dict(timeout=datetime.timedelta(seconds=60))


def test_setup_cpu_distributed_leaves_gpu_and_single_process_runs_alone(monkeypatch):
    import fdsr_mm.utils.dist_env as dist_env
    monkeypatch.setattr(dist_env.dist, 'init_process_group', None)  # must not be called
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = _cfg()
    assert not dist_env.setup_cpu_distributed(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'nccl' and cfg.get('model_wrapper_cfg') is None
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = _cfg()
    cfg.launcher = 'none'
    assert not dist_env.setup_cpu_distributed(cfg)
    cfg.launcher = 'slurm'
    with pytest.raises(RuntimeError, match='torchrun'):
        dist_env.setup_cpu_distributed(cfg)


def test_two_gloo_ranks_test_the_checkpoint_like_one_process(dist_run, synthetic_sr_root,
                                                             tiny_c4_detector, tmp_path):
    """`torchrun tools/test.py ... --launcher pytorch` on CPU: the metrics of one process."""
    import json
    work_dir, tmp, _ = dist_run
    ckpt = osp.join(work_dir, f'iter_{MAX_ITERS}.pth')
    options = [f'model.feature_loss.checkpoint={tiny_c4_detector[2]}',
               f'test_dataloader.dataset.data_root={synthetic_sr_root}']
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='',
               PYTHONPATH=os.pathsep.join([tmp, os.environ.get('PYTHONPATH', '')]))
    outs = {}
    for procs in (1, 2):
        out = str(tmp_path / f'metrics{procs}.json')
        launch = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', str(procs),
                  '--master_addr', '127.0.0.1', '--master_port', str(_free_port())]
        cmd = [*launch, 'tools/test.py', osp.join(REPO_ROOT, CONFIG), ckpt, '--launcher',
               'pytorch', '--work-dir', str(tmp_path / f'test{procs}'), '--out', out,
               '--cfg-options', *options]
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
        outs[procs] = json.load(open(out))
    # only rank 0 writes --out (two ranks renaming one '<out>.tmp' raced: FileNotFoundError)
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith('.tmp')]
    assert outs[1] and outs[1].keys() == outs[2].keys()
    for k in outs[1]:
        assert outs[2][k] == pytest.approx(outs[1][k], rel=1e-6)
