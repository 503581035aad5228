"""The weights ``load_from``, ``--resume`` and ``tools/test.py`` load must fit the model.

mmengine's Runner loads ``load_from`` non-strictly: a checkpoint that does not fit (a detector
checkpoint as the SR generator's ``load_from``, a x2 generator for a x4 config) only logs the
missing keys, and training (or testing) goes on from random weights. :class:`CheckpointFitHook`
checks each checkpoint the runner loads (``after_load_checkpoint``) before it reaches the model:

* ``load_from`` (training, ``tools/test.py``): every model weight must be in the file, with the
  model's shape, and nothing else; a config that sets ``load_from_partial = True`` states that a
  partial load is intended (e.g. fine-tuning a generator with a new upsampler): then the
  mismatch is logged as a warning, and only a file that fits no weight at all is refused.
* ``--resume``: always exact (``load_from_partial`` does not apply). A resume after a config
  change is accepted as long as the model and the optimizer type are unchanged; it continues
  the checkpoint's optimizer and scheduler state (learning rates included: a changed ``lr`` in
  the config does not apply to a resumed run). A changed model (other architecture, scale,
  channels) or another optimizer type is refused with one line naming the file.
* Every loaded weight must be finite (a NaN/Inf weight raises ``NonFiniteError``).

Models that check their own loads (``checks_loaded_weights = True``, e.g. ``SRDetector``,
which also accepts a bare detector checkpoint) are left to themselves.
"""
import re
from typing import Any, Dict, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict

from fdsr_mm.utils.checkpoints.finite import check_finite_state_dict
from fdsr_mm.utils.checkpoints.fit import (WeightsMismatchError, compare_state, describe_mismatch,
                                           source_of)

#: Config key stating that ``load_from`` may fit the model only partially.
LOAD_FROM_PARTIAL = 'load_from_partial'

#: Optimizer hyper-parameters that do not tell optimizer types apart.
_GROUP_KEYS_ANY_TYPE = {'params', 'initial_lr', 'lr'}


def _model_state(checkpoint: Any) -> Optional[Dict[str, Any]]:
    """The state dict of a loaded checkpoint, with mmengine's ``module.`` revision applied."""
    if not isinstance(checkpoint, dict):
        return None
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, dict):
        return None
    return {re.sub(r'^module\.', '', k): v for k, v in state.items()}


def _source(checkpoint: dict, default: str) -> str:
    state = checkpoint.get('state_dict', checkpoint)
    metadata = getattr(state, '_metadata', None) or {}
    return source_of(metadata.get(''), default)


def check_optimizer_fits(saved: Any, optimizer, source: str) -> None:
    """Raise if a checkpoint's optimizer state is of another optimizer type or parameter layout.

    torch's ``Optimizer.load_state_dict`` replaces the current groups' settings with the saved
    ones (so SGD settings would silently reach Adam, which then fails on its first step) and
    only refuses a different number of groups.

    Args:
        saved: ``checkpoint['optimizer']`` (an ``OptimWrapper.state_dict()``).
        optimizer: the runner's ``torch.optim.Optimizer``.
        source (str): the checkpoint file, named in the error.
    """
    groups = (saved or {}).get('param_groups') if isinstance(saved, dict) else None
    if not groups:
        return
    fix = ('resume with the config the checkpoint was trained with (the copy in its work dir), '
           f'or start a new work dir with load_from={source}')
    current = optimizer.param_groups
    sizes = [len(g.get('params', ())) for g in groups]
    if sizes != [len(g['params']) for g in current]:
        raise WeightsMismatchError(
            f'the optimizer state in the checkpoint has parameter groups of {sizes} tensors, the '
            f'config\'s optimizer {[len(g["params"]) for g in current]} (was the config changed?)',
            source, fix)
    saved_keys = set(groups[0]) - _GROUP_KEYS_ANY_TYPE
    current_keys = set(current[0]) - _GROUP_KEYS_ANY_TYPE
    if saved_keys != current_keys:
        raise WeightsMismatchError(
            'the optimizer state in the checkpoint is of another optimizer type than the '
            f'config\'s {type(optimizer).__name__} (settings only in the checkpoint: '
            f'{sorted(saved_keys - current_keys)}, only in the config: '
            f'{sorted(current_keys - saved_keys)})', source, fix)


class CheckpointFitHook(Hook):
    """Refuse checkpoints that do not fit the runner's model (see the module docstring)."""

    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Check ``checkpoint`` (as read, before mmengine loads it into the model)."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        state = _model_state(checkpoint)
        if state is None or getattr(model, 'checks_loaded_weights', False):
            return
        resuming = bool(getattr(runner, '_resume', False))
        source = _source(checkpoint, str(getattr(runner, '_load_from', None) or 'the checkpoint'))
        expected = model.state_dict()
        missing, unexpected, shapes = compare_state(expected, state)
        detail = describe_mismatch(missing, unexpected, shapes, len(expected))
        if resuming and detail:
            raise WeightsMismatchError(
                f'the checkpoint to resume from holds another model than the config builds '
                f'(was the config changed?): {detail}', source,
                'resume with the config the checkpoint was trained with (the copy in its work '
                f'dir), or start a new work dir with load_from={source} and '
                f'{LOAD_FROM_PARTIAL}=True')
        if detail:
            fitting = len(expected) - len(missing) - len(shapes)
            partial = bool(runner.cfg.get(LOAD_FROM_PARTIAL, False))
            if not partial or fitting <= 0:
                why = ('it fits none of the model\'s weights' if partial else
                       'load_from does not fit the model')
                raise WeightsMismatchError(
                    f'{why}: {detail}', source,
                    'pass a checkpoint of this model (same architecture and scale)' + (
                        '' if partial else f', or set {LOAD_FROM_PARTIAL}=True in the config if '
                        'a partial load is intended'))
            runner.logger.warning(f'{LOAD_FROM_PARTIAL}=True: loading {source} partially '
                                  f'({detail}); the other weights keep their initialisation')
        check_finite_state_dict({k: v for k, v in state.items() if k in expected}, source)
        if resuming and 'optimizer' in checkpoint:
            _check_optimizers(runner.optim_wrapper, checkpoint['optimizer'], source)


def _check_optimizers(wrapper, saved, source: str) -> None:
    """:func:`check_optimizer_fits` for an ``OptimWrapper``, or for each optimizer of an
    ``OptimWrapperDict`` (models that train several networks, e.g. SR4IR) against its entry."""
    if isinstance(wrapper, OptimWrapperDict):
        for name, sub in wrapper.items():
            if name not in (saved or {}):
                raise WeightsMismatchError(
                    f'the checkpoint holds no state of the {name!r} optimizer (its optimizers: '
                    f'{sorted(saved or {})})', source,
                    'resume with the config the checkpoint was trained with')
            check_optimizer_fits(saved[name], sub.optimizer, source)
        return
    optimizer = getattr(wrapper, 'optimizer', None)
    if optimizer is not None and hasattr(optimizer, 'param_groups'):
        check_optimizer_fits(saved, optimizer, source)


def install_checkpoint_fit_check(runner) -> None:
    """Register :class:`CheckpointFitHook` on ``runner`` (``tools/train.py``, ``tools/test.py``)."""
    runner.register_hook(CheckpointFitHook())
