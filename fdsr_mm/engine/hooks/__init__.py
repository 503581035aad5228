"""Training hooks registered in MMagic's ``HOOKS`` (the runtime's default scope)."""
from fdsr_mm.engine.hooks.non_finite_loss_hook import NonFiniteLossHook

__all__ = ['NonFiniteLossHook']
