"""Restorers (MMagic ``MODELS``): FDSR, a generator trained with pixel and feature/task losses."""
from fdsr_mm.models.editors.fdsr import FDSR

__all__ = ['FDSR']
