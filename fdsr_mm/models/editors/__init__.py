"""Restorers (MMagic ``MODELS``): FDSR, a generator trained with pixel and feature/task losses;
SR4IR, a generator and a detector trained in turns."""
from fdsr_mm.models.editors.fdsr import FDSR
from fdsr_mm.models.editors.sr4ir import SR4IR

__all__ = ['FDSR', 'SR4IR']
