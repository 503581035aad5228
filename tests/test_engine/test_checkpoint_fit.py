"""`load_from` and `--resume` checkpoints must fit the model (issue 18, item 11 and the resume
fault): a detector checkpoint as an SR model's `load_from` trained from random initialisation
with a log line only; a resume after a model change ended in a traceback. Both are now one
`error:` line naming the file (exit 2); `load_from_partial = True` states an intended partial
load."""
import os
import os.path as osp
import shutil

import pytest
import torch

from fdsr_mm.engine import check_optimizer_fits
from fdsr_mm.utils.checkpoints.fit import WeightsMismatchError
from helpers.train_cli_testlib import checkpoint_iters, run_train

CONFIG = 'configs/dbpn/dbpn-tiny_x4_1xb4-200i_synthetic.py'


def options(root, max_iters, *extra):
    return ['--cfg-options', f'train_cfg.max_iters={max_iters}',
            f'train_cfg.val_interval={max_iters}', 'default_hooks.checkpoint.interval=2',
            'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2',
            *[f'{loader}.dataset.data_root={root}'
              for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')], *extra]


def assert_one_line_error(proc, *parts):
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith('train: error: '), proc.stderr[-3000:]
    for part in parts:
        assert part in line, (part, line)


def tiny_dbpn_checkpoint(path, drop=()):
    """A restorer checkpoint (``generator.*``) of the config's tiny DBPN, without ``drop``."""
    from mmagic.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    cfg = Config.fromfile(CONFIG)
    with DefaultScope.overwrite_default_scope('mmagic'):
        generator = MODELS.build(cfg.model.generator)
    state = {f'generator.{k}': v for k, v in generator.state_dict().items() if k not in drop}
    torch.save({'meta': {}, 'state_dict': state}, str(path))
    return str(path)


@pytest.mark.slow
def test_detector_checkpoint_as_load_from_is_refused(tiny_c4_detector, synthetic_sr_root,
                                                     tmp_path):
    ckpt = tiny_c4_detector[2]
    work_dir = str(tmp_path / 'run')
    proc = run_train([CONFIG, '--work-dir', work_dir,
                      *options(synthetic_sr_root, 2, f'load_from={ckpt}')])
    assert_one_line_error(proc, ckpt, 'load_from does not fit the model', 'model weights missing',
                          'unexpected', 'load_from_partial=True')
    assert checkpoint_iters(work_dir) == []  # nothing trained from random weights


@pytest.mark.slow
def test_partial_load_from_needs_the_config_to_state_it(synthetic_sr_root, tmp_path):
    ckpt = tiny_dbpn_checkpoint(tmp_path / 'partial.pth', drop=('output_conv.conv.weight', ))
    proc = run_train([CONFIG, '--work-dir', str(tmp_path / 'strict'),
                      *options(synthetic_sr_root, 1, f'load_from={ckpt}')])
    assert_one_line_error(proc, ckpt, '1 of ', 'output_conv.conv.weight')
    proc = run_train([CONFIG, '--work-dir', str(tmp_path / 'partial'),
                      *options(synthetic_sr_root, 1, f'load_from={ckpt}',
                               'load_from_partial=True')])
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert f'load_from_partial=True: loading {ckpt} partially' in log
    assert 'output_conv.conv.weight' in log


@pytest.mark.slow
def test_partial_load_of_a_file_that_fits_nothing_is_still_refused(tiny_c4_detector,
                                                                   synthetic_sr_root, tmp_path):
    ckpt = tiny_c4_detector[2]
    proc = run_train([CONFIG, '--work-dir', str(tmp_path / 'run'),
                      *options(synthetic_sr_root, 1, f'load_from={ckpt}',
                               'load_from_partial=True')])
    assert_one_line_error(proc, ckpt, "fits none of the model's weights")


@pytest.fixture(scope='module')
def trained(tmp_path_factory, synthetic_sr_root):
    """2 iterations of the tiny DBPN with a checkpoint at 2."""
    work_dir = str(tmp_path_factory.mktemp('checkpoint_fit') / 'a')
    proc = run_train([CONFIG, '--work-dir', work_dir, *options(synthetic_sr_root, 2)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return work_dir


@pytest.mark.slow
def test_resume_after_a_model_change_is_one_line(trained, synthetic_sr_root, tmp_path):
    work_dir = str(tmp_path / 'run')
    shutil.copytree(trained, work_dir)
    proc = run_train([CONFIG, '--work-dir', work_dir, '--resume',
                      *options(synthetic_sr_root, 4, 'model.generator.base_channels=8')])
    assert_one_line_error(proc, osp.join(work_dir, 'iter_2.pth'),
                          'holds another model than the config builds', 'of another shape')
    assert checkpoint_iters(work_dir) == [2]
    # a change that keeps the model (here the schedule) resumes as before
    proc = run_train([CONFIG, '--work-dir', work_dir, '--resume',
                      *options(synthetic_sr_root, 4)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert checkpoint_iters(work_dir) == [2, 4]


def test_resumed_optimizer_state_of_another_type_is_refused():
    """torch's Optimizer.load_state_dict would put SGD's settings into Adam (a traceback at its
    first step); the check names the file and both settings."""
    params = [torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(2))]
    saved = torch.optim.SGD(params, lr=0.1, momentum=0.9).state_dict()
    with pytest.raises(WeightsMismatchError) as err:
        check_optimizer_fits(saved, torch.optim.Adam(params, lr=1e-3), 'work/iter_2.pth')
    text = str(err.value)
    assert 'another optimizer type' in text and 'work/iter_2.pth' in text
    assert "'momentum'" in text and "'betas'" in text
    check_optimizer_fits(saved, torch.optim.SGD(params, lr=0.5, momentum=0.5), 'x')  # lr: ok
    with pytest.raises(WeightsMismatchError, match='parameter groups of'):
        check_optimizer_fits(saved, torch.optim.SGD(params[:1], lr=0.1, momentum=0.9), 'x')


@pytest.mark.slow
def test_tools_test_refuses_a_checkpoint_of_another_model(tiny_c4_detector, synthetic_sr_root,
                                                          tmp_path):
    """`tools/test.py SR_CONFIG X` scored a random generator when X was a detector checkpoint."""
    import subprocess
    import sys

    from conftest import REPO_ROOT
    ckpt = tiny_c4_detector[2]
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', CONFIG, ckpt, '--work-dir', str(tmp_path / 'test'),
         *options(synthetic_sr_root, 1)], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=300, env=dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1'))
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith('test: error: load_from does not fit the model') and ckpt in line
