"""Loading mmengine checkpoints under torch>=2.6, where ``torch.load`` is ``weights_only``.

mmengine 0.10.7 calls ``torch.load(path, map_location=...)`` without ``weights_only``, so under
torch>=2.6 the safe unpickler refuses the non-tensor objects mmengine itself writes into every
training checkpoint: the MessageHub's ``HistoryBuffer`` of logged scalars (holding numpy arrays and
scalars, and its statistics methods pickled as ``getattr(buffer, 'mean')``). Resuming then fails
with "Weights only load failed ... Unsupported global: ...HistoryBuffer".

What we do, deliberately:

* ``weights_only=True`` stays on for every file (ours, or one a user downloaded).
* mmengine's loader for local files (``CheckpointLoader`` scheme ``''``, used by ``load_from``,
  ``--resume`` and ``init_cfg=dict(type='Pretrained')``) is replaced by
  :func:`load_local_checkpoint`, which extends torch's allow-list with exactly
  :data:`MMENGINE_CHECKPOINT_TYPES` for the duration of that one load
  (``torch.serialization.safe_globals``). Plain ``torch.load`` elsewhere in the process keeps torch's
  own allow-list.
* The extra types only rebuild data. ``builtins.getattr`` is the one callable: under torch's
  unpickler a pickle may call only allow-listed globals, so attributes it fetches with ``getattr``
  can never be called by the file itself. A file referencing anything else (``os.system``, a custom
  class, ...) is still refused, with an :class:`UnsafeCheckpointError` naming the file and the
  refused global (and not torch's advice to retry with ``weights_only=False``).
"""
import os.path as osp
import pickle
import re
from typing import List

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader
from numpy.core.multiarray import _reconstruct, scalar

from fdsr_mm.utils.checkpoints.fit import tag_source

# The globals `torch.serialization.get_unsafe_globals_in_checkpoint` reports for an mmengine
# 0.10.7 training checkpoint (numpy 1.26 pickle layout), plus the numpy dtype classes whose state
# the unpickler must BUILD (e.g. numpy.dtypes.Float64DType for float64 arrays), and nothing else.
_NUMPY_DTYPE_CLASSES = sorted({type(np.dtype(t)) for t in (
    np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8,
    np.bool_)}, key=str)
MMENGINE_CHECKPOINT_TYPES: List[object] = [
    HistoryBuffer, np.ndarray, np.dtype, *_NUMPY_DTYPE_CLASSES, _reconstruct, scalar, getattr]


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint refused by the safe loader (it references a global outside the allow-list)."""


def _refusal_reason(message: str) -> str:
    """The cause in torch's weights-only error, without its ``weights_only=False`` advice."""
    found = re.search(r'GLOBAL (\S+) was not an allowed global', message)
    if found:
        return f'it references the global `{found.group(1)}`, which is not an allowed type'
    found = re.search(r'GLOBAL (\S+) whose module (\S+) is blocked', message)
    if found:
        return (f'it references the global `{found.group(1)}`, from the blocked module '
                f'{found.group(2)}')
    detail = message.split('WeightsUnpickler error:')[-1]
    detail = detail.split('Check the documentation of torch.load')[0]
    for boilerplate in (getattr(torch.serialization, 'UNSAFE_MESSAGE', None),
                        'Weights only load failed.',
                        'Please file an issue with the following so that we can make '
                        '`weights_only=True` compatible with your use case:'):
        if boilerplate:
            detail = detail.replace(boilerplate, '')
    sentences = [s for s in re.split(r'(?<=\.)\s+', ' '.join(detail.split()))
                 if s and 'weights_only` set to `False' not in s]
    return ' '.join(sentences) or 'the safe unpickler refused it'


def refuses_a_global(err: BaseException) -> bool:
    """Whether torch's ``weights_only`` error ``err`` refused a global (vs. unreadable bytes)."""
    return bool(re.search(r'GLOBAL \S+ (was not an allowed global|whose module \S+ is blocked)',
                          str(err)))


def unpickling_reason(err: BaseException) -> str:
    """The cause in torch's ``weights_only`` error ``err``, without its unsafe advice."""
    return _refusal_reason(str(err))


def refused_checkpoint_error(filename: str, err: BaseException) -> UnsafeCheckpointError:
    """The one-line error for a file torch's ``weights_only`` unpickler refused (``err``).

    It names the file and the refused global, and leaves out torch's advice to retry with
    ``weights_only=False`` (which would run whatever the file holds).
    """
    return UnsafeCheckpointError(
        f'{filename}: refused to load: {_refusal_reason(str(err))}; a checkpoint should hold '
        'tensors and plain data only: use another file, or, if you trust this one and the '
        'type is plain data, allow exactly it with torch.serialization.add_safe_globals')


def load_local_checkpoint(filename: str, map_location=None):
    """``torch.load(filename, weights_only=True)`` accepting the mmengine checkpoint types.

    Drop-in for mmengine's ``load_from_local``. The state dict's ``_metadata`` records
    ``filename`` (:func:`fdsr_mm.utils.checkpoints.fit.tag_source`).

    Raises:
        FileNotFoundError: no such file.
        UnsafeCheckpointError: (an ``UnpicklingError``) the file references a global outside the
            allow-list; the message names the file and the global.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    try:
        with torch.serialization.safe_globals(MMENGINE_CHECKPOINT_TYPES):
            checkpoint = torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise refused_checkpoint_error(filename, err) from None
    # the file's name travels with its state dict, so that a model refusing the weights
    # (e.g. SRDetector) names it (fdsr_mm.utils.checkpoints.fit)
    return tag_source(checkpoint, filename)


def allow_mmengine_checkpoint_types() -> None:
    """Make mmengine load local checkpoints through :func:`load_local_checkpoint`.

    Process-wide on purpose (``import fdsr_mm`` calls it): mmengine reads ``load_from``,
    ``--resume`` and ``Pretrained`` files through this one scheme table, whoever runs the config;
    the loader accepts what torch's default ``weights_only`` loader accepts plus the data types
    above, for that load only. README "Checkpoints and torch's weights_only" gives the reasons.
    """
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
