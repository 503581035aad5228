"""Train an fdsr_mm (MMagic) model with the mmengine Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--cfg-options k=v]
    mim train fdsr_mm CONFIG [same arguments] [--launcher pytorch --gpus N | --launcher slurm ...]

``--amp`` trains in float16 with a loss scale on a GPU, in bfloat16 autocast on a CPU.
A fault the user can fix (missing config or dataset folder, AmpOptimWrapper without a GPU,
--auto-scale-lr without auto_scale_lr, a registry typo, an undecodable image, a refused or
corrupt checkpoint, a NaN loss) is one line, ``train: error: <what> (<where>): <fix>``, and exit
code 2; Ctrl-C is one line and exit code 130 (``fdsr_mm.utils.run_tool``).
"""
import argparse
import os
import os.path as osp
import sys

from quiet_imports import quiet_third_party_warnings  # stdlib only

quiet_third_party_warnings()  # before the stack is imported: a tool prints its own lines

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import fdsr_mm  # noqa: F401,E402  (registers the modules and the checkpoint allow-list)
from fdsr_mm.datasets.transforms.loading import ImageDecodeError  # noqa: E402
from fdsr_mm.engine import (  # noqa: E402
    ResumeError, enable_amp, install_checkpoint_fit_check, resolve_resume)
from fdsr_mm.utils import ToolError, run_tool  # noqa: E402
from fdsr_mm.utils.dist_env import setup_cpu_distributed  # noqa: E402
from fdsr_mm.utils.train_checks import (  # noqa: E402
    check_amp, check_config_file, check_data_roots, enable_auto_scale_lr, registry_fault,
    worker_message)
from fdsr_mm.utils.cpu_malloc import tune_cpu_malloc  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Train an fdsr_mm model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint; without a path, from the latest checkpoint in '
        'the work dir')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the learning rate by the real batch size (needs auto_scale_lr in the config)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value pairs, e.g. train_cfg.max_iters=10')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    # torch.distributed.launch passes --local-rank (torch>=2.0) or --local_rank (older).
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


# Faults of this tool reported as one `train: error: ...` line and exit code 2 (besides the
# shared ones of fdsr_mm.utils.cli_errors: ToolError, missing files, refused pickles, NaN/Inf).
EXTRA_FAULTS = (ResumeError, )


def build_and_train(cfg, init_from=None, config_path=''):
    """Check the checkpoint to resume from, build the runner and train.

    ``init_from`` is the config's ``load_from`` that a plain ``--resume`` replaced: with no
    checkpoint to resume yet, training starts from it (a fine-tune keeps its initial weights).

    A known fault (corrupt or foreign resume checkpoint, a ``load_from`` / resume checkpoint
    that does not fit the model, refused pickle, NaN/Inf loss) propagates to :func:`run_tool`
    (one ``error:`` line, exit 2); a registry typo and an undecodable image become a
    :class:`ToolError` here.
    """
    try:
        notes = resolve_resume(cfg, init_from)
        runner = Runner.from_cfg(cfg)
        install_checkpoint_fit_check(runner)  # load_from / --resume must fit the model
        for note in notes:
            runner.logger.info(note)
        runner.train()
    except KeyError as err:
        fault = registry_fault(err, config_path)
        if fault is None:
            raise
        raise fault from None
    except ImageDecodeError as err:  # also when re-raised from a DataLoader worker
        raise ToolError(worker_message(err)) from None


def apply_amp(cfg, amp: bool) -> None:
    """``--amp``: mixed precision for every optimizer wrapper (float16 with a loss scale on a GPU,
    bfloat16 autocast on a CPU: ``fdsr_mm.engine.amp_switch``); a config's own mmengine
    ``AmpOptimWrapper`` without CUDA is refused in one line, not the Runner's assertion."""
    import torch
    if amp:
        print(enable_amp(cfg, torch.cuda.is_available()))
    check_amp(cfg, '--amp' if amp else 'optim_wrapper.type=AmpOptimWrapper of the config')


def main():
    args = parse_args()
    check_config_file(args.config)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir priority: CLI > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    apply_amp(cfg, args.amp)
    if args.auto_scale_lr:
        enable_auto_scale_lr(cfg, args.config)

    init_from = None
    if args.resume == 'auto':
        cfg.resume = True
        init_from, cfg.load_from = cfg.get('load_from'), None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    check_data_roots(cfg, args.config)
    setup_cpu_distributed(cfg)  # --launcher without CUDA: gloo, DDP without device ids
    build_and_train(cfg, init_from, args.config)


if __name__ == '__main__':
    tune_cpu_malloc()  # freed tensor memory stays in the process (FDSR_MM_MALLOC=default: off)
    sys.exit(run_tool('train', main, extra_faults=EXTRA_FAULTS))
