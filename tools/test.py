"""Test (evaluate) an fdsr_mm (MMagic) model checkpoint with the mmengine Runner.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE] [--cfg-options k=v]
    mim test fdsr_mm CONFIG --checkpoint CHECKPOINT [same arguments]

CHECKPOINT must fit the config's model exactly (every weight, nothing else, finite): metrics of a
random or half-loaded model are never printed. Faults (a missing or refused file, weights of
another model) are one ``test: error:`` line, exit code 2.
"""
import argparse
import os
import os.path as osp
import sys

from quiet_imports import quiet_third_party_warnings  # stdlib only

quiet_third_party_warnings()  # before the stack is imported: a tool prints its own lines

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.dist import is_main_process  # noqa: E402
from mmengine.fileio import dump  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import fdsr_mm  # noqa: F401,E402  (registers the modules and the checkpoint allow-list)
from fdsr_mm.engine import install_checkpoint_fit_check  # noqa: E402
from fdsr_mm.utils.cli_errors import run_tool  # noqa: E402
from fdsr_mm.utils.io import atomic_write_bytes  # noqa: E402
from fdsr_mm.utils.dist_env import setup_cpu_distributed  # noqa: E402
from fdsr_mm.utils.cpu_malloc import tune_cpu_malloc  # noqa: E402


class CollectTestMetrics(Hook):
    """Keep the metrics the test loop reports (mmagic's MultiTestLoop.run returns None)."""

    priority = 'LOWEST'

    def __init__(self):
        self.metrics = None

    def after_test_epoch(self, runner, metrics=None):
        self.metrics = metrics


def dump_atomic(metrics, out: str) -> None:
    """Dump ``metrics`` to ``out`` (json/yaml/pkl by its suffix) through a unique temp file.

    Only the main process calls it: under ``--launcher pytorch`` every rank holds the same
    metrics, and ranks sharing one ``<out>.tmp`` name raced each other's ``os.replace``.
    """
    ext = osp.splitext(out)[1].lstrip('.')
    text = dump(metrics, file_format=ext)  # str (json, yaml) or bytes (pkl)
    atomic_write_bytes(out, text.encode('utf-8') if isinstance(text, str) else text)


def parse_args():
    parser = argparse.ArgumentParser(description='Test an fdsr_mm model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument('--out', help='dump the metrics to this json/yaml/pkl file')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value pairs')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'Checkpoint {args.checkpoint} does not exist: pass the .pth file '
                                'written by training (e.g. work_dirs/<config>/iter_N.pth).')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint

    setup_cpu_distributed(cfg)  # --launcher without CUDA: gloo, as tools/train.py
    runner = Runner.from_cfg(cfg)
    install_checkpoint_fit_check(runner)  # the checkpoint must fit the model
    collector = CollectTestMetrics()
    runner.register_hook(collector)
    metrics = runner.test()
    if metrics is None:
        metrics = collector.metrics
    if args.out and is_main_process():
        dump_atomic(metrics, args.out)
    print(metrics)


if __name__ == '__main__':
    tune_cpu_malloc()  # freed tensor memory stays in the process (FDSR_MM_MALLOC=default: off)
    sys.exit(run_tool('test', main))
