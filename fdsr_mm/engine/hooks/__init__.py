"""Training hooks registered in MMagic's ``HOOKS`` (the runtime's default scope)."""
from .non_finite_loss_hook import NonFiniteLossHook

__all__ = ['NonFiniteLossHook']
