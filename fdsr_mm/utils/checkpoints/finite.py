"""Refuse non-finite (NaN/Inf) weights: a diverged model must never look like a trained one."""
from typing import Any, Optional, Tuple

import torch


class NonFiniteError(ValueError):
    """A loss or tensor holds NaN or Inf."""


def first_non_finite(tree: Any, prefix: str = '') -> Optional[Tuple[str, torch.Tensor]]:
    """The first floating-point tensor holding NaN/Inf in a (nested) dict/list/tuple of tensors.

    Args:
        tree: a tensor, or dicts/lists/tuples of them (a state dict, a whole checkpoint, an
            optimizer state); other leaves are ignored.
        prefix (str): the key path of ``tree`` itself.

    Returns:
        tuple | None: ``(dotted key, tensor)``, or None when every tensor is finite.
    """
    if isinstance(tree, torch.Tensor):
        if (tree.is_floating_point() or tree.is_complex()) and not bool(torch.isfinite(tree).all()):
            return prefix, tree
        return None
    if isinstance(tree, dict):
        items = tree.items()
    elif isinstance(tree, (list, tuple)):
        items = enumerate(tree)
    else:
        return None
    for key, value in items:
        found = first_non_finite(value, f'{prefix}.{key}' if prefix else str(key))
        if found is not None:
            return found
    return None


def describe_non_finite(tensor: torch.Tensor) -> str:
    """``'3 NaN, 1 Inf of 64 values'``."""
    n_nan = int(torch.isnan(tensor).sum())
    n_inf = int(torch.isinf(tensor).sum())
    return f'{n_nan} NaN, {n_inf} Inf of {tensor.numel()} values'


def check_finite_state_dict(state_dict: Any, source: str) -> None:
    """Raise if any floating-point tensor of ``state_dict`` holds NaN or Inf.

    Args:
        state_dict: a model state dict (or any nesting of dicts/lists of tensors, e.g. a whole
            checkpoint).
        source (str): where it comes from, e.g. the checkpoint file; named in the error.

    Raises:
        NonFiniteError: (a ``ValueError``) naming ``source`` and the first non-finite key.
    """
    found = first_non_finite(state_dict)
    if found is not None:
        key, tensor = found
        raise NonFiniteError(
            f'{source}: tensor {key!r} holds non-finite values ({describe_non_finite(tensor)}); '
            'these weights come from a diverged training run: use a checkpoint written before '
            'the loss became NaN/Inf')
