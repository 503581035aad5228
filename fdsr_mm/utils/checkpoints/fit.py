"""Does a state dict fit a model exactly? Missing, unexpected and mis-shaped weights, one line.

mmengine loads checkpoints non-strictly (``load_from``, ``DetInferencer(weights=...)``,
``tools/test.py``): a file of another architecture only logs warnings and leaves a random or
half-loaded model that still produces numbers. These helpers compare a state dict with the one a
module expects and raise :class:`WeightsMismatchError`, one line naming the file, instead.

The file a state dict was read from travels with it: :func:`tag_source` (called by the local
checkpoint loader of :mod:`fdsr_mm.utils.checkpoints.safety`) records it in the state dict's
``_metadata`` (which mmengine keeps through its key revisions and hands to the root module's
``_load_from_state_dict`` as ``local_metadata``), and :func:`source_of` reads it back there.
"""
from collections import OrderedDict
from typing import Any, List, Mapping, Optional, Tuple

from fdsr_mm.utils.cli_errors import ToolError

#: Key of the root entry of a state dict's ``_metadata`` that names the file it was read from.
SOURCE_KEY = 'fdsr_mm_source_file'


class WeightsMismatchError(ToolError, ValueError):
    """Weights that do not fit the model they are loaded into (one ``error:`` line)."""


def tag_source(checkpoint: Any, filename: str) -> Any:
    """Record ``filename`` in the ``_metadata`` of ``checkpoint``'s state dict; return it.

    ``checkpoint`` is what ``torch.load`` returned: ``{'state_dict': ..., ...}`` or a bare
    state dict. A plain ``dict`` state dict becomes an ``OrderedDict`` (it cannot carry the
    attribute); anything else is returned unchanged.
    """
    if not isinstance(checkpoint, dict):
        return checkpoint
    nested = isinstance(checkpoint.get('state_dict'), dict)
    state = checkpoint['state_dict'] if nested else checkpoint
    if not state:
        return checkpoint
    if type(state) is dict:  # noqa: E721 - exactly dict: no attribute slot
        state = OrderedDict(state)
        if nested:
            checkpoint['state_dict'] = state
        else:
            checkpoint = state
    metadata = getattr(state, '_metadata', None)
    if metadata is None:
        metadata = OrderedDict()
        state._metadata = metadata
    metadata[''] = dict(metadata.get('', {}), **{SOURCE_KEY: str(filename)})
    return checkpoint


def source_of(local_metadata: Optional[Mapping], default: str) -> str:
    """The file :func:`tag_source` recorded (from a root module's ``local_metadata``)."""
    return str((local_metadata or {}).get(SOURCE_KEY) or default)


def _ignored(key: str) -> bool:
    # BatchNorm step counters: absent from old checkpoints, never used at inference
    return key.endswith('num_batches_tracked')


def compare_state(expected: Mapping[str, Any], given: Mapping[str, Any]
                  ) -> Tuple[List[str], List[str], List[str]]:
    """``(missing, unexpected, mis-shaped)`` keys of ``given`` against ``expected``.

    Args:
        expected: the model's own ``state_dict()`` (key -> tensor).
        given: the weights to load (key -> tensor), with the same key prefixes.

    Returns:
        tuple: missing keys (in ``expected`` only; BatchNorm ``num_batches_tracked`` ignored),
        unexpected keys (in ``given`` only) and ``'key (file shape) vs (model shape)'`` texts.
    """
    missing = [k for k in expected if k not in given and not _ignored(k)]
    unexpected = [k for k in given if k not in expected]
    shapes = [f'{k} {tuple(given[k].shape)} vs {tuple(v.shape)}'
              for k, v in expected.items()
              if k in given and hasattr(given[k], 'shape') and hasattr(v, 'shape')
              and tuple(given[k].shape) != tuple(v.shape)]
    return missing, unexpected, shapes


def describe_mismatch(missing: List[str], unexpected: List[str], shapes: List[str],
                      n_expected: int) -> str:
    """``'3 of 40 model weights missing (first: a, b); 2 unexpected (first: c)'`` or ``''``."""
    parts = []
    if missing:
        parts.append(f'{len(missing)} of {n_expected} model weights missing (first: '
                     f'{", ".join(missing[:3])})')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected (first: {", ".join(unexpected[:3])})')
    if shapes:
        parts.append(f'{len(shapes)} of another shape (first: {shapes[0]})')
    return '; '.join(parts)


def check_state_fits(expected: Mapping[str, Any], given: Mapping[str, Any], source: str,
                     what: str, fix: str) -> None:
    """Raise unless ``given`` holds exactly the keys and shapes of ``expected``.

    Args:
        expected: the model's ``state_dict()``; given: the weights to load (same prefixes).
        source (str): the file ``given`` comes from (the ``where`` of the error line).
        what (str): what they should be, e.g. ``'not the weights of the SR generator of X'``.
        fix (str): what the user should do.

    Raises:
        WeightsMismatchError: ``<what>: <details> (<source>): <fix>``, one line.
    """
    detail = describe_mismatch(*compare_state(expected, given), len(expected))
    if detail:
        raise WeightsMismatchError(f'{what}: {detail}', source, fix)
