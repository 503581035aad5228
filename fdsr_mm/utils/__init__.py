"""Small helpers shared by the package and its tools."""
from fdsr_mm.utils.checkpoints.safety import (MMENGINE_CHECKPOINT_TYPES, UnsafeCheckpointError,
                                              allow_mmengine_checkpoint_types,
                                              load_local_checkpoint)
from fdsr_mm.utils.cli_errors import ToolError, format_error, run_tool
from fdsr_mm.utils.checkpoints.finite import (NonFiniteError, check_finite_state_dict,
                                              first_non_finite)

__all__ = ['MMENGINE_CHECKPOINT_TYPES', 'NonFiniteError', 'ToolError', 'UnsafeCheckpointError',
           'allow_mmengine_checkpoint_types', 'check_finite_state_dict', 'first_non_finite',
           'format_error', 'load_local_checkpoint', 'run_tool']
