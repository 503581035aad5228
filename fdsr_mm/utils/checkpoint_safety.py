"""Loading mmengine checkpoints under torch>=2.6, where ``torch.load`` is ``weights_only``.

mmengine 0.10.7 calls ``torch.load(path, map_location=...)`` without ``weights_only``, so under
torch>=2.6 the safe unpickler refuses the non-tensor objects mmengine itself writes into every
training checkpoint (the MessageHub's ``HistoryBuffer`` of logged scalars, numpy arrays and
scalars inside it). Resuming then fails with "Weights only load failed ... Unsupported global:
mmengine.logging.history_buffer.HistoryBuffer".

We keep ``weights_only=True`` (the safe default, for our checkpoints and for files users download)
and extend torch's allow-list with exactly the data types below. They only rebuild plain data
(a buffer of numbers, numpy arrays and scalars); none of them can call arbitrary code. A file that
references any other global (``os.system``, a custom class, ...) is still refused by ``torch.load``.
Importing ``fdsr_mm`` registers the list; nothing turns the safety off.
"""
from typing import List

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer


def _numpy_types() -> List[object]:
    """numpy globals a pickled ndarray / numpy scalar references (numpy 1.x module layout)."""
    from numpy.core.multiarray import _reconstruct, scalar
    dtype_classes = {type(np.dtype(t)) for t in (np.float64, np.float32, np.float16, np.int64,
                                                 np.int32, np.uint8, np.bool_)}
    return [_reconstruct, scalar, np.ndarray, np.dtype, *sorted(dtype_classes, key=str)]


MMENGINE_CHECKPOINT_TYPES: List[object] = [HistoryBuffer, *_numpy_types()]


def allow_mmengine_checkpoint_types() -> None:
    """Add :data:`MMENGINE_CHECKPOINT_TYPES` to ``torch.serialization``'s safe globals."""
    torch.serialization.add_safe_globals(MMENGINE_CHECKPOINT_TYPES)
