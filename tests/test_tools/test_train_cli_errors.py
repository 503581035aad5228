"""tools/train.py: a fault the user can fix is one ``train: error: <what> (<where>): <fix>`` line
and exit code 2, never a traceback (issue 18).

Each case calls the tool's ``main`` through ``run_tool`` as its ``__main__`` does, in this process
(fast); the CLI wiring itself (exit code 2, the ``train: error:`` line on stderr) runs in
subprocesses in tests/test_engine/test_resume.py and test_engine/test_hooks/test_non_finite_loss_hook.py.
"""
import os.path as osp
import sys

import pytest
import torch
from mmengine.logging import MMLogger

from conftest import REPO_ROOT, load_tool
from fdsr_mm.utils import run_tool
from fdsr_mm.utils.train_checks import registry_fault, worker_message

CONFIG = 'configs/dbpn/dbpn-tiny_x4_1xb4-200i_synthetic.py'
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def tiny_options(root, *extra):
    """--cfg-options for a 1-iteration run of the tiny config on the data under ``root``."""
    return ['--cfg-options', 'train_cfg.max_iters=1', 'train_cfg.val_interval=1',
            'train_dataloader.batch_size=1', *[f'{lo}.dataset.data_root={root}' for lo in LOADERS],
            *extra]


def one_error_line(rc, stderr, *parts):
    """Check exit code 2 and one ``train: error:`` line holding ``parts``; return the line."""
    assert rc == 2, stderr[-3000:]
    assert 'Traceback' not in stderr, stderr[-3000:]
    line = stderr.strip().splitlines()[-1]
    assert line.startswith('train: error: '), stderr[-3000:]
    for part in parts:
        assert part in line, (part, line)
    return line


@pytest.fixture(scope='module')
def train_tool():
    """tools/train.py as a module (its main is what the CLI runs)."""
    return load_tool('train')


@pytest.fixture
def train_in_process(train_tool, monkeypatch, capsys, restore_default_scope):
    """Run ``train.py ARGS`` through run_tool in this process; (exit code, stderr)."""
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.setenv('LOCAL_RANK', '0')

    def run(*args):
        monkeypatch.setattr(sys, 'argv', ['tools/train.py', *args])
        loggers = set(MMLogger._instance_dict)
        try:
            code = run_tool('train', train_tool.main, train_tool.EXTRA_FAULTS)
        finally:
            # a Runner's logger writes to this test's captured stderr: never reuse it (two
            # Runners of one config in the same second share the logger's name)
            for name in set(MMLogger._instance_dict) - loggers:
                for handler in MMLogger._instance_dict.pop(name).handlers:
                    handler.close()
        return code, capsys.readouterr().err
    return run


def test_missing_config_names_the_nearest_config(train_in_process):
    typo = 'configs/dbpn/dbpn-tiny_x4_1xb4-200i_synthetc.py'
    rc, err = train_in_process(typo)
    one_error_line(rc, err, 'config file not found', f'({typo})', f'did you mean {CONFIG} or ')


def test_missing_data_root_names_the_command_that_makes_it(train_in_process, tmp_path,
                                                          monkeypatch):
    """The README's first training command on a fresh clone, before the data exist: one line
    naming the folder, the config key and the generator (not a traceback 480 lines in)."""
    monkeypatch.chdir(tmp_path)
    rc, err = train_in_process(osp.join(REPO_ROOT, CONFIG), '--work-dir', str(tmp_path / 'wd'))
    one_error_line(rc, err, 'dataset path data/synthetic_sr does not exist',
                   'train_dataloader.dataset.data_root',
                   '`python tools/make_synthetic_sr.py data/synthetic_sr`')
    assert not (tmp_path / 'wd').exists()  # refused before the Runner made anything


@pytest.mark.skipif(torch.cuda.is_available(), reason='AMP runs on a GPU')
def test_a_configs_amp_optim_wrapper_on_a_cpu_is_refused_with_one_line(
        train_in_process, synthetic_sr_root, tmp_path):
    rc, err = train_in_process(CONFIG, '--work-dir', str(tmp_path),
                               *tiny_options(synthetic_sr_root,
                                             'optim_wrapper.type=AmpOptimWrapper'))
    one_error_line(rc, err, 'needs a GPU', '(optim_wrapper.type=AmpOptimWrapper of the config)',
                   'BF16AutocastOptimWrapper')


def test_auto_scale_lr_without_the_config_setting(train_in_process, synthetic_sr_root, tmp_path):
    rc, err = train_in_process(CONFIG, '--auto-scale-lr', '--work-dir', str(tmp_path),
                               *tiny_options(synthetic_sr_root))
    one_error_line(rc, err, '--auto-scale-lr needs auto_scale_lr in the config', f'({CONFIG})',
                   'base_batch_size')


def test_registry_typo_suggests_the_registered_name(train_in_process, synthetic_sr_root,
                                                    tmp_path):
    rc, err = train_in_process(CONFIG, '--work-dir', str(tmp_path),
                               *tiny_options(synthetic_sr_root, 'model.generator.type=DBPNN'))
    one_error_line(rc, err, "unknown model type 'DBPNN'", "did you mean 'DBPN'")


def test_registry_suggestion_searches_the_parent_registries():
    """'Adam' is registered in mmengine's optimizer registry, the parent of MMagic's."""
    err = KeyError('Adamm is not in the mmagic::optimizer registry. Please check whether the '
                   'value of `Adamm` is correct or it was registered as expected.')
    fault = registry_fault(err, 'my_config.py')
    assert fault is not None and "did you mean 'Adam'" in str(fault), fault
    assert '(type=\'Adamm\' in my_config.py)' in str(fault)
    assert registry_fault(KeyError('some_key'), 'my_config.py') is None  # other KeyErrors stay


def test_worker_message_keeps_only_the_original_line():
    from fdsr_mm.datasets.transforms.loading import ImageDecodeError
    wrapped = ImageDecodeError('Caught ImageDecodeError in DataLoader worker process 0.\n'
                               'Original Traceback (most recent call last):\n  File "x.py", '
                               'line 1\nfdsr_mm.datasets.transforms.loading.ImageDecodeError: Cannot decode '
                               'image a.png: bad.')
    assert worker_message(wrapped) == 'Cannot decode image a.png: bad.'


def test_corrupt_training_image_is_one_line_naming_it(train_in_process, tmp_path):
    """A corrupt image read in a DataLoader worker: the message exists, now without the
    worker's and the Runner's tracebacks."""
    from fdsr_mm.datasets.synthetic_images import write_synthetic_images
    root = tmp_path / 'data'
    write_synthetic_images(str(root / 'val'), 1, (32, 32), seed=1)
    (root / 'train').mkdir()
    bad = root / 'train' / 'broken.png'
    bad.write_bytes(b'\x89PNG\r\n\x1a\n' + b'\0' * 64)
    rc, err = train_in_process(CONFIG, '--work-dir', str(tmp_path / 'wd'),
                               *tiny_options(str(root), 'train_dataloader.num_workers=1'))
    one_error_line(rc, err, 'Cannot decode image', str(bad))
