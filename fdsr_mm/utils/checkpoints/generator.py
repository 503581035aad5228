"""The SR generator's weights in a checkpoint file: restorer (``generator.*``) or bare."""
from typing import Dict

import torch
from mmengine.runner import CheckpointLoader

from fdsr_mm.utils.checkpoints.fit import WeightsMismatchError


def read_generator_state(checkpoint: str) -> Dict[str, torch.Tensor]:
    """The generator weights of ``checkpoint`` (``generator.`` prefix removed, if any).

    A restorer checkpoint (``mim train``: ``state_dict`` with ``generator.*`` and frozen-loss
    keys) gives its ``generator.*`` weights; any other state dict is returned whole (a bare
    generator file). Read with torch's ``weights_only`` loader.

    Raises:
        WeightsMismatchError: The file is truncated, not a torch checkpoint, or holds no state
            dict (one line naming it).
    """
    try:
        ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    except (RuntimeError, EOFError, OSError) as e:  # truncated zip, not a checkpoint, ...
        first = str(e).splitlines()[0] if str(e) else ''
        raise WeightsMismatchError(
            f'SR checkpoint cannot be read ({type(e).__name__}: {first})', checkpoint,
            'it is truncated or not a torch checkpoint: pass an intact one') from None
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise WeightsMismatchError('SR checkpoint holds no state dict', checkpoint,
                                   'pass a checkpoint written by tools/train.py')
    if any(k.startswith('generator.') for k in state):
        state = {k[len('generator.'):]: v for k, v in state.items() if k.startswith('generator.')}
    return state
