"""Shared fixtures: tiny generated data, paths, and a runner for the real `mim` executable."""
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MIM = osp.join(osp.dirname(sys.executable), 'mim')


@pytest.fixture(scope='session')
def repo_root():
    return REPO_ROOT


@pytest.fixture(scope='session')
def synthetic_sr_root(tmp_path_factory):
    """A tiny synthetic SR dataset: 8 train and 2 val HR images of 64x64 (RGB PNG)."""
    from fdsr_mm.datasets.synthetic_images import write_synthetic_images
    root = tmp_path_factory.mktemp('synthetic_sr')
    write_synthetic_images(str(root / 'train'), 8, (64, 64), seed=0)
    write_synthetic_images(str(root / 'val'), 2, (64, 64), seed=1)
    return str(root)


def run_mim(args, timeout=600):
    """Run the real `mim` console script from the repository root; fail with its output."""
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    proc = subprocess.run([MIM, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f'mim {" ".join(args)} failed with exit code {proc.returncode}:\n'
                             f'{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}')
    return proc
