"""Small helpers shared by the package and its tools."""
from .checkpoint_safety import (MMENGINE_CHECKPOINT_TYPES, UnsafeCheckpointError,
                                allow_mmengine_checkpoint_types, load_local_checkpoint)
from .finite_check import NonFiniteError, check_finite_state_dict, first_non_finite

__all__ = ['MMENGINE_CHECKPOINT_TYPES', 'NonFiniteError', 'UnsafeCheckpointError',
           'allow_mmengine_checkpoint_types', 'check_finite_state_dict', 'first_non_finite',
           'load_local_checkpoint']
