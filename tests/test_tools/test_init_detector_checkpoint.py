"""tools/init_detector_checkpoint.py: the seeded random-init "random" prior as a file."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.registry import DefaultScope

import fdsr_mm  # noqa: F401  (registers the feature loss)
from conftest import load_tool
from mmagic.registry import MODELS

C4_CONFIG = 'configs/study/detectors/faster-rcnn_r18-c16-c4_1xb4-1000i_synthetic-coco.py'


def load_init_tool(repo_root):
    return load_tool('init_detector_checkpoint', 'init_detector_checkpoint')


def state_of(path):
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


@pytest.fixture(scope='module')
def written(tmp_path_factory, repo_root):
    """Paths of the C4 detector's random init written with seeds 0, 0 and 1."""
    tool, out = load_init_tool(repo_root), tmp_path_factory.mktemp('init')
    paths = [str(out / name) for name in ('a.pth', 'b.pth', 'c.pth')]
    cwd = os.getcwd()
    os.chdir(repo_root)
    try:
        for path, seed in zip(paths, (0, 0, 1)):
            assert tool.main([C4_CONFIG, path, '--seed', str(seed)]) == 0
    finally:
        os.chdir(cwd)
    return paths


def test_same_seed_gives_identical_tensors_another_seed_different(written):
    a, b, c = map(state_of, written)
    assert a.keys() == b.keys() == c.keys() and any(k.startswith('backbone.') for k in a)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a['backbone.conv1.weight'], c['backbone.conv1.weight'])
    meta = torch.load(written[0], map_location='cpu', weights_only=False)['meta']
    assert meta['seed'] == 0 and meta['config'] == C4_CONFIG
    assert not [p for p in os.listdir(osp.dirname(written[0])) if p.endswith('.tmp')]


def test_feature_loss_loads_the_file_with_the_c4_config(written, repo_root):
    with DefaultScope.overwrite_default_scope('mmagic'):  # an earlier test may leave 'mmdet'
        loss = MODELS.build(dict(type='DetectorFeatureLoss',
                                 detector_config=osp.join(repo_root, C4_CONFIG),
                                 checkpoint=written[1], strict=True))
    ours = loss.extractor['backbone'].state_dict()
    theirs = {k[len('backbone.'):]: v for k, v in state_of(written[1]).items()
              if k.startswith('backbone.')}
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)


def run_cli(repo_root, *args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, 'tools/init_detector_checkpoint.py', *args],
                          cwd=repo_root, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_missing_config_is_one_error_line_exit_2(repo_root, tmp_path):
    proc = run_cli(repo_root, 'configs/no_such_detector.py', str(tmp_path / 'x.pth'), '--seed', '0')
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith(
        'init_detector_checkpoint: error: configs/no_such_detector.py does not exist')
    assert not os.listdir(tmp_path)


@pytest.mark.slow
def test_unwritable_or_folder_output_is_exit_2_naming_it(repo_root, tmp_path):
    tool = load_init_tool(repo_root)
    blocker = tmp_path / 'a_file'
    blocker.write_text('not a folder')
    bad_out = str(blocker / 'prior.pth')  # its "folder" is a file
    with pytest.raises(tool.InitError, match=f'cannot write {bad_out}'):
        tool.save_atomic({'state_dict': {}}, bad_out)
    with pytest.raises(tool.InitError, match=f'{tmp_path} is a folder'):
        tool.check_paths(osp.join(repo_root, C4_CONFIG), str(tmp_path))
    proc = run_cli(repo_root, C4_CONFIG, str(tmp_path), '--seed', '0')
    assert proc.returncode == 2 and f'{tmp_path} is a folder' in proc.stderr
    assert os.listdir(tmp_path) == ['a_file']
