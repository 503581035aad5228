"""Training safeguards (the non-finite loss hook, the resume checks of ``tools/train.py``, the
check that loaded checkpoints fit the model) and the bfloat16 autocast optimizer wrapper."""
from fdsr_mm.engine.amp_switch import enable_amp
from fdsr_mm.engine.bf16_optim_wrapper import BF16AutocastOptimWrapper
from fdsr_mm.engine.checkpoint_fit import (LOAD_FROM_PARTIAL, CheckpointFitHook,
                                           check_optimizer_fits, install_checkpoint_fit_check)
from fdsr_mm.engine.hooks import NonFiniteLossHook
from fdsr_mm.engine.resume import (ResumeError, checkpoint_problem, latest_intact_checkpoint,
                                   resolve_resume)

__all__ = ['BF16AutocastOptimWrapper', 'LOAD_FROM_PARTIAL', 'CheckpointFitHook',
           'NonFiniteLossHook', 'ResumeError', 'check_optimizer_fits', 'checkpoint_problem',
           'enable_amp', 'install_checkpoint_fit_check', 'latest_intact_checkpoint',
           'resolve_resume']
