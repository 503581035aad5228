"""Map official D-DBPN checkpoints (alterzero/DBPN-Pytorch) onto :class:`fdsr_mm.models.DBPN`.

The official files are plain ``state_dict``s saved from ``nn.DataParallel`` (keys
``module.feat0.conv.weight``, ...) or from the bare network. Our DBPN uses the official module
names, so conversion strips ``module.`` and then checks every key and shape against the target
network; nothing is loaded partially.
"""
from collections import OrderedDict
from typing import Dict, Mapping, Optional

import torch

from fdsr_mm.models.generators.dbpn_net import PROJECTION_GEOMETRY


class DBPNCheckpointMismatch(ValueError):
    """The checkpoint does not match the DBPN it should be loaded into."""


def _strip_prefix(state_dict: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Drop a DataParallel ``module.`` prefix (and accept mmengine ``generator.`` checkpoints)."""
    out = OrderedDict()
    for key, value in state_dict.items():
        for prefix in ('module.', 'generator.'):
            if key.startswith(prefix):
                key = key[len(prefix):]
                break
        out[key] = value
    return out


def describe_dbpn_state_dict(state_dict: Mapping[str, torch.Tensor]) -> str:
    """Human description of the network a (prefix-free) DBPN state_dict comes from."""
    parts = []
    deconv = state_dict.get('up1.up_conv1.deconv.weight')
    if deconv is not None and deconv.dim() == 4:
        kernel_to_scale = {k: s for s, (k, _, _) in PROJECTION_GEOMETRY.items()}
        scale = kernel_to_scale.get(deconv.shape[-1])
        parts.append(f'x{scale}' if scale else f'unknown scale (kernel {deconv.shape[-1]})')
        parts.append(f'base_channels={deconv.shape[0]}')
    feat0 = state_dict.get('feat0.conv.weight')
    if feat0 is not None and feat0.dim() == 4:
        parts.append(f'mid_channels={feat0.shape[0]}')
    stages = sum(1 for k in state_dict if k.startswith('up') and k.endswith('up_conv1.deconv.weight'))
    parts.append(f'num_stages={stages}')
    parts.append('dense' if any(k.endswith('.conv.conv.weight') and k.startswith(('up', 'down'))
                                for k in state_dict) else 'not dense')
    return ', '.join(parts)


def convert_official_dbpn(state_dict: Mapping[str, torch.Tensor], generator: torch.nn.Module,
                          source: Optional[str] = None) -> 'OrderedDict[str, torch.Tensor]':
    """Check an official DBPN state_dict against ``generator`` and return it with our keys.

    Args:
        state_dict: The official checkpoint's tensors (with or without ``module.``).
        generator: The :class:`DBPN` the weights are meant for (its config decides scale/variant).
        source: File name used in error messages.

    Returns:
        OrderedDict: ``generator``'s keys (no prefix) -> tensors, in ``generator``'s order.

    Raises:
        DBPNCheckpointMismatch: naming the first missing, unexpected or mis-shaped key and what the
            checkpoint looks like (scale, channels, stages), so the right config can be chosen.
    """
    where = f' in {source}' if source else ''
    src = _strip_prefix(state_dict)
    expected = generator.state_dict()
    found = describe_dbpn_state_dict(src)
    wanted = describe_dbpn_state_dict(expected)
    hint = (f'The checkpoint looks like DBPN({found}); the target network is DBPN({wanted}). '
            'Pick the generator settings (scale, channels, num_stages, dense) that match the '
            'checkpoint, or the checkpoint that matches the config.')
    for key, target in expected.items():
        if key not in src:
            raise DBPNCheckpointMismatch(
                f'Missing key {key!r}{where} (the file may be truncated or from another '
                f'network). {hint}')
        if tuple(src[key].shape) != tuple(target.shape):
            raise DBPNCheckpointMismatch(
                f'Shape mismatch for {key!r}{where}: checkpoint {tuple(src[key].shape)}, '
                f'network {tuple(target.shape)}. {hint}')
    unexpected = [k for k in src if k not in expected]
    if unexpected:
        raise DBPNCheckpointMismatch(
            f'Unexpected key {unexpected[0]!r}{where} ({len(unexpected)} unexpected in all). '
            f'{hint}')
    return OrderedDict((k, src[k].detach().clone().to(expected[k].dtype)) for k in expected)
