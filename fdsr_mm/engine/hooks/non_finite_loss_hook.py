"""Stop training at the first non-finite loss; never write a checkpoint of non-finite weights."""
import math
import os.path as osp
from typing import Optional

import torch
from mmagic.registry import HOOKS
from mmengine.dist import all_reduce, is_distributed
from mmengine.hooks import Hook

from fdsr_mm.utils.checkpoints.finite import NonFiniteError, describe_non_finite, first_non_finite


def _last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``work_dir/last_checkpoint`` names (what ``--resume`` continues from)."""
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return f.read().strip() or None


def _scalar(value) -> Optional[float]:
    if isinstance(value, torch.Tensor):
        value = value.detach()
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):  # not a single number
        return None


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training at the first NaN/Inf loss; refuse to save NaN/Inf weights.

    After every training iteration the loss terms (the ``loss*`` entries of the train step's
    log variables, e.g. ``loss``, ``loss_pix``, ``loss_feat``) are checked; with several processes
    one flag is all-reduced so that every rank stops at the same iteration. Before any checkpoint
    is written its ``state_dict`` and ``optimizer`` tensors are checked. Either fault raises
    :class:`NonFiniteError` (logged first), so ``last_checkpoint`` keeps naming the last finite
    checkpoint, the one to resume from.

    It runs before ``LoggerHook`` and ``CheckpointHook`` (priority NORMAL), so nothing is saved
    for the iteration whose loss is non-finite.
    """

    priority = 'NORMAL'

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Raise if a loss term of this iteration (on any rank) is NaN/Inf."""
        terms = {k: _scalar(v) for k, v in (outputs or {}).items() if 'loss' in k}
        terms = {k: v for k, v in terms.items() if v is not None}
        bad_here = not all(math.isfinite(v) for v in terms.values())
        bad = bad_here
        if is_distributed():
            flag = torch.tensor(float(bad_here))
            all_reduce(flag, op='max')
            bad = bool(flag.item())
        if bad:
            values = ', '.join(f'{k}={v:.4g}' for k, v in terms.items())
            self._stop(runner, f'non-finite loss at iteration {runner.iter + 1}: '
                       + (values if bad_here else 'on another rank'))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Raise instead of writing a checkpoint whose weights or optimizer state hold NaN/Inf."""
        found = first_non_finite({k: checkpoint.get(k) for k in ('state_dict', 'optimizer')})
        if found is not None:
            key, tensor = found
            step = checkpoint.get('meta', {}).get('iter', runner.iter + 1)
            self._stop(runner, f'non-finite weights at iteration {step}: {key} holds '
                       f'{describe_non_finite(tensor)}; not saving them')

    @staticmethod
    def _stop(runner, problem: str) -> None:
        last = _last_checkpoint(runner.work_dir)
        advice = (f'the last checkpoint written before it is {last}: resume from it with --resume '
                  'after fixing the cause (e.g. a lower learning rate)' if last else
                  'no checkpoint was written before it: fix the cause (e.g. a lower learning '
                  'rate) and train again')
        message = f'{problem}; training stopped; {advice}'
        runner.logger.error(message)
        raise NonFiniteError(message)
