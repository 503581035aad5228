"""Training safeguards: the non-finite loss hook, the resume checks of ``tools/train.py`` and the
check that loaded checkpoints fit the model."""
from fdsr_mm.engine.checkpoint_fit import (LOAD_FROM_PARTIAL, CheckpointFitHook,
                                           check_optimizer_fits, install_checkpoint_fit_check)
from fdsr_mm.engine.hooks import NonFiniteLossHook
from fdsr_mm.engine.resume import (ResumeError, checkpoint_problem, latest_intact_checkpoint,
                                   resolve_resume)

__all__ = ['LOAD_FROM_PARTIAL', 'CheckpointFitHook', 'NonFiniteLossHook', 'ResumeError',
           'check_optimizer_fits', 'checkpoint_problem', 'install_checkpoint_fit_check',
           'latest_intact_checkpoint', 'resolve_resume']
