"""``tools/train.py --amp``: which mixed precision a config trains with on this machine.

- With CUDA: mmengine's ``AmpOptimWrapper`` (float16 autocast, dynamic loss scale), as
  ``mmdet``/``mmagic``'s own ``--amp``.
- Without: :class:`~fdsr_mm.engine.bf16_optim_wrapper.BF16AutocastOptimWrapper` (bfloat16
  autocast, no loss scale), which runs on any CPU torch supports (fast where the CPU has bf16
  instructions, e.g. AVX512-BF16 or AMX; ``benchmarks/bench_amp.py`` measures it).

A config with several optimizers (``MultiOptimWrapperConstructor``, e.g. SR4IR's generator and
detector) gets the switch on each of its wrappers.
"""
from typing import List

#: The wrapper types that already train in mixed precision.
AMP_TYPES = ('AmpOptimWrapper', 'BF16AutocastOptimWrapper')


def _wrappers(optim_wrapper) -> List[dict]:
    """The optimizer-wrapper dicts of ``cfg.optim_wrapper`` (one, or one per sub-model)."""
    if optim_wrapper.get('constructor') == 'MultiOptimWrapperConstructor':
        return [v for v in optim_wrapper.values() if isinstance(v, dict) and 'optimizer' in v]
    return [optim_wrapper]


def enable_amp(cfg, cuda: bool) -> str:
    """Switch every optimizer wrapper of ``cfg`` to mixed precision; returns what was chosen
    (a line for the log), or that the config already had it."""
    chosen = 'AmpOptimWrapper' if cuda else 'BF16AutocastOptimWrapper'
    wrappers = _wrappers(cfg.optim_wrapper)
    if all(w.get('type', 'OptimWrapper') in AMP_TYPES for w in wrappers):
        return 'AMP training is already enabled in the config.'
    for w in wrappers:
        if w.get('type', 'OptimWrapper') in AMP_TYPES:
            continue
        w['type'] = chosen
        if cuda:
            w['loss_scale'] = 'dynamic'
    what = 'float16 autocast with a dynamic loss scale' if cuda else 'bfloat16 autocast (no CUDA)'
    return f'--amp: {chosen}, {what}.'
