"""Small helpers shared by the package and its tools."""
from .checkpoint_safety import (MMENGINE_CHECKPOINT_TYPES, allow_mmengine_checkpoint_types,
                                load_local_checkpoint)

__all__ = ['MMENGINE_CHECKPOINT_TYPES', 'allow_mmengine_checkpoint_types', 'load_local_checkpoint']
