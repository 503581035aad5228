"""The one SR-generator builder: ``model.generator`` of an MMagic config, with checked weights.

Used by the cascade (:mod:`fdsr_mm.apis.cascade.methods`, per SR method) and by
:class:`~fdsr_mm.models.SRDetector` (its ``sr`` part). The weights come from a restorer
checkpoint (``generator.*`` keys, as ``mim train`` writes) or a bare generator state dict; they
must be readable, hold exactly the generator's weights (keys and shapes) and be finite, else one
error line names the file. Generators map RGB [0, 1] (N, 3, h, w) to (N, 3, h*s, w*s).
"""
import copy
import os
import os.path as osp
from typing import Dict, Optional

import torch
from mmengine.registry import DefaultScope

from mmagic.registry import MODELS

from fdsr_mm.utils.checkpoints.finite import check_finite_state_dict
from fdsr_mm.utils.checkpoints.fit import check_state_fits
from fdsr_mm.utils.checkpoints.generator import read_generator_state
from fdsr_mm.utils.configs import config_path, load_config

_CFG_MEMO: Dict[tuple, dict] = {}


def generator_cfg(config: str) -> dict:
    """``model.generator`` of an MMagic config without ``init_cfg``, as a fresh plain dict.

    ``config`` is a path or a ``fdsr_mm::`` / ``mmagic::`` name. A run needs it several times per
    method (cache keys, generator build); a config with ``mmagic::`` bases takes ~0.2 s to
    load, so each file version is loaded once per process.

    Raises:
        FileNotFoundError: No such config. ValueError: It has no ``model.generator``.
    """
    path = config_path(config)
    key = (path, os.stat(path).st_mtime_ns if osp.isfile(path) else None)
    if key not in _CFG_MEMO:
        cfg = load_config(config)
        if 'generator' not in cfg.get('model', {}):
            raise ValueError(f'SR config {config} has no model.generator: pass an MMagic '
                             'restorer config (e.g. configs/fdsr_x4.py).')
        gen_cfg = cfg.model.generator.to_dict()
        gen_cfg.pop('init_cfg', None)  # weights come from the checkpoint
        _CFG_MEMO[key] = gen_cfg
    return copy.deepcopy(_CFG_MEMO[key])


def load_generator_weights(generator: torch.nn.Module, checkpoint: str, source: str,
                           option: Optional[str] = None) -> None:
    """Load ``checkpoint`` into ``generator`` after checking that it fits exactly and is finite.

    Args:
        source: What the generator was built from (a config), named in the error.
        option: Where the user named the file (e.g. ``'model.sr.checkpoint'``), for the fix.

    Raises:
        FileNotFoundError, WeightsMismatchError (unreadable, another model), NonFiniteError.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'SR checkpoint {checkpoint} does not exist: train it '
                                f'(tools/train.py) or fix {option or "its path"}.')
    state = read_generator_state(checkpoint)
    check_state_fits(
        generator.state_dict(), state, checkpoint,
        'SR checkpoint' + (f' ({option})' if option else '') +
        f' does not fit the generator of {source}',
        'pass the checkpoint trained with this SR config (same scale and architecture)')
    check_finite_state_dict(state, checkpoint)
    generator.load_state_dict(state, strict=False)  # checked above: only BN counters may lack


def build_sr_generator(config: Optional[str] = None, checkpoint: Optional[str] = None,
                       generator: Optional[dict] = None,
                       option: Optional[str] = None) -> torch.nn.Module:
    """Build an SR generator in eval mode, from ``config`` (its ``model.generator``) or from a
    generator config dict ``generator`` (e.g. ``dict(type='InterpolationSR', scale=4)``).

    ``checkpoint`` (None: keep the initial weights, e.g. for a packed checkpoint loaded later)
    is loaded by :func:`load_generator_weights`.
    """
    if config:
        gen_cfg, source = generator_cfg(config), config
    elif generator:
        gen_cfg, source = copy.deepcopy(dict(generator)), str(generator)
    else:
        raise ValueError('an SR generator needs config=MMagic config (+ checkpoint=weights) or '
                         "generator=dict(type=...), e.g. dict(type='InterpolationSR', scale=4).")
    with DefaultScope.overwrite_default_scope('mmagic'):
        built = MODELS.build(gen_cfg)
    if checkpoint:
        load_generator_weights(built, checkpoint, source, option)
    return built.eval()
