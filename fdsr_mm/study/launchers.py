"""How a study's training stages start: one process, ``torchrun`` on this machine, or ``srun``.

:func:`train_command` is the argv of ``tools/train.py`` under a launcher (``dict(type, gpus,
gpus_per_node, partition, cpus_per_task)``, the spec's ``launcher`` or ``run_study.py
--launcher``), the commands the README's multi-GPU recipes give:

    none     python tools/train.py CONFIG ...
    pytorch  python -m torch.distributed.run --standalone --nproc_per_node GPUS tools/train.py
             CONFIG ... --launcher pytorch        (without CUDA: gloo CPU processes, same path)
    slurm    srun -p PARTITION --job-name STAGE --gres=gpu:G --ntasks GPUS --ntasks-per-node G
             --cpus-per-task C --kill-on-bad-exit=1 python -u tools/train.py CONFIG ...
             --launcher slurm                     (G: gpus_per_node, at most GPUS)

``--standalone`` lets torchrun pick a free port, so two training stages can run side by side.
"""
from typing import List, Optional

DEFAULTS = dict(type='none', gpus=1, gpus_per_node=8, partition=None, cpus_per_task=5)


def launcher_settings(spec_launcher: Optional[dict] = None, **overrides) -> dict:
    """The spec's launcher with the command line's settings (those not None) on top."""
    out = dict(DEFAULTS, **(spec_launcher or {}))
    out.update({k: v for k, v in overrides.items() if v is not None})
    return out


def train_command(python: str, args: List[str], launcher: dict, job: str) -> List[str]:
    """``tools/train.py ARGS`` under ``launcher``; ``args`` start with the config and hold no
    ``--launcher`` (it is added before ``--cfg-options``, which takes every later argument)."""
    kind = launcher.get('type', 'none')
    if kind == 'none':
        return [python, 'tools/train.py', *args]
    if '--cfg-options' in args:
        i = args.index('--cfg-options')
        args = [*args[:i], '--launcher', kind, *args[i:]]
    else:
        args = [*args, '--launcher', kind]
    gpus = int(launcher['gpus'])
    if kind == 'pytorch':
        return [python, '-m', 'torch.distributed.run', '--standalone',
                f'--nproc_per_node={gpus}', 'tools/train.py', *args]
    per_node = min(gpus, int(launcher['gpus_per_node']))
    return ['srun', '-p', str(launcher['partition']), f'--job-name={job}',
            f'--gres=gpu:{per_node}', f'--ntasks={gpus}', f'--ntasks-per-node={per_node}',
            f'--cpus-per-task={launcher["cpus_per_task"]}', '--kill-on-bad-exit=1', python, '-u',
            'tools/train.py', *args]
