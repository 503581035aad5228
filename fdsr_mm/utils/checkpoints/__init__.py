"""Checkpoint files: safe loading (torch's ``weights_only`` with mmengine's types), the state a
model takes from restorer / bare / packed files, and the checks that it fits and is finite."""
from fdsr_mm.utils.checkpoints.finite import (NonFiniteError, check_finite_state_dict,
                                              first_non_finite)
from fdsr_mm.utils.checkpoints.fit import (WeightsMismatchError, check_state_fits, compare_state,
                                           describe_mismatch, source_of, tag_source)
from fdsr_mm.utils.checkpoints.safety import (MMENGINE_CHECKPOINT_TYPES, UnsafeCheckpointError,
                                              allow_mmengine_checkpoint_types,
                                              load_local_checkpoint)

__all__ = ['MMENGINE_CHECKPOINT_TYPES', 'NonFiniteError', 'UnsafeCheckpointError',
           'WeightsMismatchError', 'allow_mmengine_checkpoint_types', 'check_finite_state_dict',
           'check_state_fits', 'compare_state', 'describe_mismatch', 'first_non_finite',
           'load_local_checkpoint', 'source_of', 'tag_source']
