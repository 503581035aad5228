"""Helpers of the tools/train.py tests: run the CLI, list a work dir's checkpoints."""
import glob
import os
import os.path as osp
import subprocess
import sys

from conftest import REPO_ROOT


def run_train(args, timeout=300):
    """Run tools/train.py in a subprocess (the CLI path users take); return the process."""
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    return subprocess.run([sys.executable, 'tools/train.py', *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def checkpoint_iters(work_dir):
    """The N of every ``iter_N.pth`` in ``work_dir``, sorted."""
    return sorted(int(osp.basename(p)[5:-4]) for p in glob.glob(osp.join(work_dir, 'iter_*.pth')))


def last_checkpoint(work_dir):
    """The path mmengine's ``work_dir/last_checkpoint`` names."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()
