"""`--resume` refuses corrupt, empty and foreign checkpoints with one clear line (exit code 2)."""
import os
import os.path as osp
import shutil

import pytest
import torch
from mmengine.config import Config

from fdsr_mm.engine import ResumeError, checkpoint_problem, resolve_resume
from helpers.train_cli_testlib import last_checkpoint, run_train

CONFIG = 'configs/dbpn/dbpn-tiny_x4_1xb4-200i_synthetic.py'


def options(root, max_iters):
    return ['--cfg-options', f'train_cfg.max_iters={max_iters}',
            f'train_cfg.val_interval={max_iters}', 'default_hooks.checkpoint.interval=2',
            'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2',
            *[f'{loader}.dataset.data_root={root}'
              for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]]


def truncate(path):
    size = osp.getsize(path)
    with open(path, 'r+b') as f:
        f.truncate(size // 2)


def assert_one_line_error(proc, *parts):
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith('train: error: '), proc.stderr[-3000:]
    for part in parts:
        assert part in lines[-1], (part, lines[-1])


# ---- the resolver on small checkpoint files (fast) ----

@pytest.fixture
def work_dir(tmp_path):
    """A work dir as mmengine leaves it: iter_2/iter_4.pth and last_checkpoint (absolute path)."""
    wd = tmp_path / 'a'
    wd.mkdir()
    for it in (2, 4):
        torch.save({'meta': {'iter': it}, 'state_dict': {'w': torch.ones(64)}},
                   wd / f'iter_{it}.pth')
    (wd / 'last_checkpoint').write_text(str(wd / 'iter_4.pth'))
    return wd


def resume_cfg(work_dir, load_from=None):
    return Config(dict(work_dir=str(work_dir), resume=True, load_from=load_from))


def test_intact_latest_checkpoint_is_used(work_dir):
    cfg = resume_cfg(work_dir)
    assert resolve_resume(cfg) == []
    assert cfg.load_from == str(work_dir / 'iter_4.pth')


def test_truncated_latest_names_the_previous_intact_one(work_dir):
    truncate(work_dir / 'iter_4.pth')
    assert 'truncated or corrupt' in checkpoint_problem(str(work_dir / 'iter_4.pth'))
    with pytest.raises(ResumeError, match=rf'iter_4\.pth \(named by .*last_checkpoint\) is '
                       rf'truncated or corrupt.*--resume {work_dir / "iter_2.pth"}$'):
        resolve_resume(resume_cfg(work_dir))


def test_altered_bytes_fail_the_crc_check(work_dir):
    # torch.load itself reads such a file without complaint.
    path = work_dir / 'iter_4.pth'
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert 'fails its CRC check' in checkpoint_problem(str(path))


def test_explicit_truncated_resume_path_is_refused_too(work_dir):
    truncate(work_dir / 'iter_4.pth')
    with pytest.raises(ResumeError, match=r'given to --resume\) is truncated'):
        resolve_resume(resume_cfg(work_dir, load_from=str(work_dir / 'iter_4.pth')))


def test_empty_last_checkpoint_says_what_it_is_and_how_to_fix(work_dir):
    (work_dir / 'last_checkpoint').write_text('')
    with pytest.raises(ResumeError, match=r'last_checkpoint is empty: .*--resume PATH .*'
                       r'iter_4\.pth.*or delete the file'):
        resolve_resume(resume_cfg(work_dir))


def test_missing_named_checkpoint(work_dir):
    os.remove(work_dir / 'iter_4.pth')
    with pytest.raises(ResumeError, match=r'iter_4\.pth \(named by .*\) does not exist; '
                       r'resume from the latest intact checkpoint with --resume .*iter_2\.pth'):
        resolve_resume(resume_cfg(work_dir))


def test_copied_work_dir_uses_its_own_files(work_dir):
    copy = work_dir.parent / 'b'
    shutil.copytree(work_dir, copy)
    cfg = resume_cfg(copy)
    notes = resolve_resume(cfg)
    assert cfg.load_from == str(copy / 'iter_4.pth')
    assert notes == [f'{copy / "last_checkpoint"} names {work_dir / "iter_4.pth"}, outside this '
                     f'work dir (a copied work dir?); resuming from {copy / "iter_4.pth"} instead']


def test_copied_work_dir_without_the_file_refuses_the_original(work_dir):
    copy = work_dir.parent / 'b'
    shutil.copytree(work_dir, copy)
    os.remove(copy / 'iter_4.pth')
    with pytest.raises(ResumeError, match=rf'names {work_dir / "iter_4.pth"}, outside this work '
                       rf'dir {copy} .*pass --resume {work_dir / "iter_4.pth"} to continue from '
                       'that file on purpose'):
        resolve_resume(resume_cfg(copy))


# ---- tools/train.py end to end on the tiny DBPN ----

@pytest.fixture(scope='module')
def trained(tmp_path_factory, synthetic_sr_root):
    """4 iterations of the tiny DBPN with checkpoints at 2 and 4."""
    work_dir = str(tmp_path_factory.mktemp('resume_checks') / 'a')
    proc = run_train([CONFIG, '--work-dir', work_dir, *options(synthetic_sr_root, 4)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return work_dir


@pytest.mark.slow
def test_cli_truncated_latest_checkpoint(trained, synthetic_sr_root, tmp_path):
    work_dir = str(tmp_path / 'run')
    shutil.copytree(trained, work_dir)
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work_dir, 'iter_4.pth'))
    truncate(osp.join(work_dir, 'iter_4.pth'))
    proc = run_train([CONFIG, '--work-dir', work_dir, '--resume', *options(synthetic_sr_root, 6)])
    assert_one_line_error(proc, 'iter_4.pth', 'truncated or corrupt',
                          f'--resume {osp.join(work_dir, "iter_2.pth")}')


@pytest.mark.slow
def test_cli_empty_last_checkpoint(trained, synthetic_sr_root, tmp_path):
    work_dir = str(tmp_path / 'run')
    shutil.copytree(trained, work_dir)
    open(osp.join(work_dir, 'last_checkpoint'), 'w').close()
    proc = run_train([CONFIG, '--work-dir', work_dir, '--resume', *options(synthetic_sr_root, 6)])
    assert_one_line_error(proc, 'last_checkpoint is empty', '--resume PATH', 'delete the file')


@pytest.mark.slow
def test_cli_copied_work_dir_resumes_from_the_copy(trained, synthetic_sr_root, tmp_path):
    copy = str(tmp_path / 'b')
    shutil.copytree(trained, copy)
    before = sorted(os.listdir(trained))
    proc = run_train([CONFIG, '--work-dir', copy, '--resume', *options(synthetic_sr_root, 6)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert f'resuming from {osp.join(copy, "iter_4.pth")} instead' in log
    assert 'resumed epoch: 0, iter: 4' in log and 'Iter(train) [6/6]' in log
    assert last_checkpoint(copy) == osp.join(copy, 'iter_6.pth')
    assert sorted(os.listdir(trained)) == before  # the original folder was not touched


@pytest.mark.slow
def test_cli_refused_pickle_is_one_line(trained, synthetic_sr_root, tmp_path):
    evil = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'meta': {}, 'payload': os.system}, evil)
    proc = run_train([CONFIG, '--work-dir', str(tmp_path / 'run'), '--resume', evil,
                      *options(synthetic_sr_root, 6)])
    assert_one_line_error(proc, f'{evil}: refused to load: it references the global `',
                          'system')
    assert 'weights_only=False' not in proc.stderr
    assert 'weights_only` set to `False' not in proc.stderr


def test_resume_before_any_checkpoint_keeps_the_configs_init_weights(tmp_path):
    """`--resume` on a fine-tune with nothing saved yet: once trained from scratch, silently."""
    wd = tmp_path / 'fresh'
    wd.mkdir()
    cfg = resume_cfg(wd)
    notes = resolve_resume(cfg, init_from='checkpoints/pretrained.pth')
    assert (cfg.resume, cfg.load_from) == (False, 'checkpoints/pretrained.pth')
    assert 'checkpoints/pretrained.pth' in notes[0]
    cfg = resume_cfg(wd)
    assert resolve_resume(cfg) == [] and cfg.load_from is None  # no init weights: from scratch
