"""Training safeguards: the non-finite loss hook and the resume checks of ``tools/train.py``."""
from .hooks import NonFiniteLossHook
from .resume import ResumeError, checkpoint_problem, latest_intact_checkpoint, resolve_resume

__all__ = ['NonFiniteLossHook', 'ResumeError', 'checkpoint_problem', 'latest_intact_checkpoint',
           'resolve_resume']
