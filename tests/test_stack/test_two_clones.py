"""Two clones on one shared environment each run their own code (issue 15).

`tools/install.sh` keeps the heavy environment (torch, compiled mmcv, mmdet, mmagic, openmim) in
$FDSR_MM_HOME/envs/<key>, shared by every clone, and gives each clone its own `.venv` layer with a
development install of that clone. This test copies the working tree twice, runs the working
tree's install.sh in both copies against the real, already built shared environment
(FDSR_MM_REUSE_ONLY=1: it never builds one; the test is skipped when none is complete), marks each
copy's fdsr_mm and tools/train.py, and checks that `python`, `mim train`, `python tools/train.py`
and `python -m pytest` of each copy's .venv run that copy's code, whichever copy installed last.
It never touches this checkout's .venv.
"""
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow  # (setup.cfg: spawns processes / runs end to end)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'configs/fdsr/fdsr_dbpn-tiny_x4_r18c4-tiny-a0.5b1_1xb4-200i_synthetic.py'
# install.sh on a complete shared environment: a venv, a `setup.py develop`, an import check.
WARM_INSTALL_LIMIT_S = 120
TRAIN_MARKER = '''import importlib.util, os, sys  # test_two_clones: marker, stops here
print('TRAIN-MARKER', {label!r}, os.path.realpath(__file__),
      os.path.realpath(importlib.util.find_spec('fdsr_mm').origin), flush=True)
sys.exit(0)
'''
PYTEST_MARKER = '''import importlib.util, os.path as osp


def test_this_clone_is_imported():
    origin = osp.realpath(importlib.util.find_spec('fdsr_mm').origin)
    assert origin == osp.join({root!r}, 'fdsr_mm', '__init__.py'), origin
    with open(osp.join(osp.dirname(origin), 'version.py')) as f:
        assert "CLONE_MARKER = {label!r}" in f.read()
'''


def base_env():
    """The caller's environment minus anything that would point at this checkout's .venv."""
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    for key in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV'):
        env.pop(key, None)
    own_bins = {osp.realpath(osp.join(REPO_ROOT, '.venv', 'bin')),
                osp.realpath(osp.dirname(sys.executable))}
    env['PATH'] = os.pathsep.join(p for p in env.get('PATH', '').split(os.pathsep)
                                  if p and osp.realpath(p) not in own_bins)
    # The interpreter the shared environment was made from (same Python version: same key).
    env.setdefault('FDSR_MM_PYTHON', getattr(sys, '_base_executable', sys.executable))
    return env


def copy_working_tree(dst):
    """Tracked and untracked, not ignored files as they are on disk (no .venv, no build output)."""
    try:
        out = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                             cwd=REPO_ROOT, capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f'needs a git checkout to copy the working tree: {exc}')
    for rel in sorted(set(os.fsdecode(p) for p in out.split(b'\0') if p)):
        src = osp.join(REPO_ROOT, rel)
        if not osp.lexists(src) or osp.isdir(src):  # deleted in the working tree, or a submodule
            continue
        os.makedirs(osp.join(dst, osp.dirname(rel)), exist_ok=True)
        shutil.copy2(src, osp.join(dst, rel), follow_symlinks=False)


def run(args, cwd, env, timeout=300):
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    return proc, proc.stdout + proc.stderr


def check_ok(proc, log, what):
    assert proc.returncode == 0, f'{what} failed with exit code {proc.returncode}:\n{log[-6000:]}'


def install(clone, env):
    start = time.monotonic()
    proc, log = run(['bash', 'tools/install.sh'], clone, dict(env, FDSR_MM_REUSE_ONLY='1'),
                    timeout=900)
    if proc.returncode == 3:
        pytest.skip('no complete shared environment for these pins (FDSR_MM_HOME='
                    f'{env.get("FDSR_MM_HOME", "~/.cache/fdsr_mm")}): run tools/install.sh first '
                    f'(~25 min the first time). install.sh said: {proc.stderr.strip()[-500:]}')
    check_ok(proc, log, f'tools/install.sh in {clone}')
    return time.monotonic() - start, log


def add_markers(clone, label):
    with open(osp.join(clone, 'fdsr_mm', 'version.py'), 'a') as f:
        f.write(f'\nCLONE_MARKER = {label!r}  # test_two_clones\n')
    train = osp.join(clone, 'tools', 'train.py')
    with open(train) as f:
        code = f.read()
    with open(train, 'w') as f:
        f.write(TRAIN_MARKER.format(label=label) + code)
    with open(osp.join(clone, 'tests', 'test_clone_marker.py'), 'w') as f:
        f.write(PYTEST_MARKER.format(root=osp.realpath(clone), label=label))


def assert_runs_own_code(clone, label, env, elsewhere):
    root = osp.realpath(clone)
    py, mim = osp.join(clone, '.venv', 'bin', 'python'), osp.join(clone, '.venv', 'bin', 'mim')
    own = osp.join(root, 'fdsr_mm')

    # import and mim's view of the package, from a folder outside every clone (no cwd help)
    code = ('import fdsr_mm, fdsr_mm.version as v; from mim.utils import get_installed_path; '
            "print(fdsr_mm.__file__); print(v.CLONE_MARKER); print(get_installed_path('fdsr_mm'))")
    proc, log = run([py, '-c', code], elsewhere, env)
    check_ok(proc, log, f'import fdsr_mm in clone {label}')
    file_, marker, mim_path = proc.stdout.strip().splitlines()[-3:]
    assert osp.realpath(file_) == osp.join(own, '__init__.py'), log
    assert marker == label, log
    assert osp.realpath(mim_path) == own, log
    assert osp.realpath(osp.join(mim_path, '.mim', 'tools', 'train.py')) == \
        osp.join(root, 'tools', 'train.py')

    expected = f"TRAIN-MARKER {label} {osp.join(root, 'tools', 'train.py')} {own}/__init__.py"
    # `mim train fdsr_mm ...`, also from outside the clone: runs <package>/.mim/tools/train.py
    proc, log = run([mim, 'train', 'fdsr_mm', osp.join(clone, CONFIG), '--work-dir',
                     osp.join(elsewhere, f'work_{label}')], elsewhere, env)
    check_ok(proc, log, f'mim train in clone {label}')
    assert expected in log, log

    # python tools/train.py from the clone root
    proc, log = run([py, 'tools/train.py', CONFIG], clone, env)
    check_ok(proc, log, f'python tools/train.py in clone {label}')
    assert expected in log, log

    # python -m pytest from the clone root (only the marker test: --noconftest keeps it light)
    proc, log = run([py, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--noconftest',
                     'tests/test_clone_marker.py'], clone, env)
    check_ok(proc, log, f'python -m pytest in clone {label}')
    assert '1 passed' in log, log


def test_two_clones_each_run_their_own_code(tmp_path):
    env = base_env()
    clone_a, clone_b = str(tmp_path / 'clone_a'), str(tmp_path / 'clone_b')
    elsewhere = str(tmp_path / 'elsewhere')
    os.makedirs(elsewhere)
    copy_working_tree(clone_a)
    shutil.copytree(clone_a, clone_b, symlinks=True)
    # clone B starts with an old-style .venv link: install.sh replaces the link, not its target
    old_target = tmp_path / 'old_style_env'
    (old_target / 'bin').mkdir(parents=True)
    (old_target / 'keep').write_text('untouched')
    os.symlink(old_target, osp.join(clone_b, '.venv'))

    first_s, _ = install(clone_a, env)
    second_s, log_b = install(clone_b, env)
    assert 'it is an old-style link' in log_b, log_b
    assert (old_target / 'keep').read_text() == 'untouched'
    # Rerun in A after B installed: idempotent, and fast on a complete shared environment.
    rerun_s, log_a = install(clone_a, env)
    assert 'refreshing this clone\'s layer .venv' in log_a, log_a
    print(f'install.sh: clone A {first_s:.1f} s, clone B {second_s:.1f} s, clone A again '
          f'{rerun_s:.1f} s')
    assert rerun_s < WARM_INSTALL_LIMIT_S, log_a

    shared = None
    for clone in (clone_a, clone_b):
        venv = osp.join(clone, '.venv')
        assert osp.isdir(venv) and not osp.islink(venv)
        with open(osp.join(venv, 'fdsr_mm-layer.cfg')) as f:
            cfg = dict(line.split(' = ', 1) for line in f.read().splitlines())
        assert cfg['layer'] == osp.join(osp.realpath(clone), '.venv')
        assert shared in (None, cfg['shared'])
        shared = cfg['shared']
    # Nothing of the clones went into the shared environment. (It may still hold the development
    # install of a checkout that an older install.sh put there, kept while that checkout exists.)
    site = glob.glob(osp.join(shared, 'lib', 'python3*', 'site-packages'))[0]
    for path in glob.glob(osp.join(site, '*fdsr*')) + glob.glob(osp.join(site, '*.pth')):
        if osp.isfile(path):
            with open(path, errors='replace') as f:
                text = f.read()
            assert str(tmp_path) not in text and osp.realpath(tmp_path) not in text, path

    add_markers(clone_a, 'A')
    add_markers(clone_b, 'B')
    assert_runs_own_code(clone_b, 'B', env, elsewhere)
    assert_runs_own_code(clone_a, 'A', env, elsewhere)
