"""SR methods of the cascade: specs, configs, cache keys and generators.

A method is ``hr`` (the mod-cropped HR image itself), ``bicubic`` (MATLAB-like bicubic upsampling
of the LR image), ``lr_native`` (the LR image itself, through the detector's own test resize;
kind ``'lr'``) or a model: ``NAME=CONFIG:CHECKPOINT`` where CONFIG is an MMagic config (path or
``mmagic::...``) whose ``model.generator`` is built and CHECKPOINT an mmengine checkpoint of the
restorer (``generator.*`` keys) or of the bare generator. Generators map RGB [0, 1]
(N, 3, h, w) to RGB [0, 1] (N, 3, h*scale, w*scale).
"""
import hashlib
import json
from dataclasses import dataclass, field
from typing import Optional, Union

import torch

from fdsr_mm.models.generators.builder import build_sr_generator, generator_cfg
from fdsr_mm.utils.cli_errors import format_error
from fdsr_mm.utils.io import file_sha256
from fdsr_mm.apis.cascade.options import (BUILTIN_KINDS, DEGRADATION, METHOD_NAME,
                                          RESERVED_METHODS, CascadeError)


@dataclass
class SRMethod:
    """One SR method of the cascade.

    Args:
        name: Column name in the tables, folder name under ``out_dir/methods`` and cache folder
            prefix: letters, digits, ``_.+-``, starting with a letter or digit.
        kind: ``'hr'``, ``'bicubic'``, ``'lr'`` (``lr_native``) or ``'model'``.
        config: MMagic config (path or ``mmagic::...``) of a ``'model'`` method.
        checkpoint: Its checkpoint (restorer or bare-generator state dict).
        generator: Alternatively, a ready generator module (RGB [0, 1] (N, 3, h, w) ->
            (N, 3, h*scale, w*scale)); its cache key is ``cache_key`` (required then).
        cache_key: Overrides the automatic (config, checkpoint) hash.
    """
    name: str
    kind: str = 'model'
    config: Optional[str] = None
    checkpoint: Optional[str] = None
    generator: Optional[torch.nn.Module] = field(default=None, repr=False)
    cache_key: Optional[str] = None

    def __post_init__(self):
        if self.kind not in ('hr', 'bicubic', 'lr', 'model'):
            raise CascadeError(f'Unknown SR method kind {self.kind!r}.')
        if not isinstance(self.name, str) or not METHOD_NAME.match(self.name):
            raise CascadeError(
                f'Bad SR method name {self.name!r}: it names a folder under the results folder, '
                "so use letters, digits and '_.+-', starting with a letter or digit "
                '(e.g. fdsr=CONFIG:CHECKPOINT).')
        if self.kind == 'model':
            if self.name in RESERVED_METHODS:
                raise CascadeError(f'{self.name!r} is reserved for the built-in method.')
            if self.generator is None and (not self.config or not self.checkpoint):
                raise CascadeError(f'SR method {self.name!r} needs CONFIG:CHECKPOINT '
                                   f'(e.g. {self.name}=configs/x.py:work_dirs/x/iter_1000.pth).')
            if self.generator is not None and not self.cache_key:
                raise CascadeError(f'SR method {self.name!r} with a generator module needs a '
                                   'cache_key naming its weights.')


def parse_method(spec: Union[str, SRMethod]) -> SRMethod:
    """``'hr'`` | ``'bicubic'`` | ``'lr_native'`` | ``'NAME=CONFIG:CHECKPOINT'`` ->
    :class:`SRMethod`."""
    if isinstance(spec, SRMethod):
        return spec
    if spec in RESERVED_METHODS:
        return SRMethod(spec, kind=BUILTIN_KINDS[spec])
    if '=' not in spec or ':' not in spec.split('=', 1)[1]:
        raise CascadeError(f'Bad SR method {spec!r}: use hr, bicubic, lr_native or '
                           'NAME=CONFIG:CHECKPOINT.')
    name, rest = spec.split('=', 1)
    config, checkpoint = rest.rsplit(':', 1)
    return SRMethod(name, 'model', config, checkpoint)


def method_generator_cfg(method: SRMethod) -> dict:
    """``model.generator`` of a model method's config (:func:`generator_cfg`), or CascadeError."""
    try:
        return generator_cfg(method.config)
    except (FileNotFoundError, ValueError) as e:
        raise CascadeError(f'SR method {method.name!r}: {e}') from None


def build_method_generator(method: SRMethod, device: str = 'cpu') -> torch.nn.Module:
    """The generator of a model method in eval mode on ``device``, built and loaded by
    :func:`fdsr_mm.models.generators.build_sr_generator` (every weight check included).

    Raises:
        CascadeError: The checkpoint is missing, unreadable, does not fit the generator, or holds
            non-finite weights (a training run that diverged); the message names the method.
    """
    if method.generator is not None:
        return method.generator.to(device).eval()
    try:
        generator = build_sr_generator(
            method.config, method.checkpoint,
            option=f'the path in --methods {method.name}=CONFIG:CHECKPOINT')
    except (FileNotFoundError, ValueError) as e:  # WeightsMismatchError, NonFiniteError
        raise CascadeError(f'SR method {method.name!r}: {e}') from None
    return generator.to(device)


def method_key(method: SRMethod, degradation: str = DEGRADATION,
               tiling: Optional[str] = None) -> str:
    """Cache folder name: method, weights hash (config + checkpoint), degradation and tiling.

    ``degradation`` is :attr:`CascadeOptions.degradation_tag` (``'bicubic-matlab'``,
    ``'realistic-v1-seed0'``); the ``hr`` method does not depend on it. ``tiling`` is a model
    method's inference tag (:func:`~.sr_pass.sr_tiling`: ``'whole'`` or ``'tile200pad21'``):
    tiled and whole-image SR differ (near seams, or by float rounding), so images made with one
    setting are never reused under another; ``hr`` and ``bicubic`` do not depend on it.
    """
    if method.kind == 'hr':
        return 'hr'
    if method.kind in ('bicubic', 'lr'):
        return f'{method.kind}-{degradation}'
    if method.cache_key:
        digest = method.cache_key
    else:
        gen_cfg = method_generator_cfg(method)
        checkpoint_sha = file_sha256(method.checkpoint)  # memoised per file version
        if checkpoint_sha is None:
            raise FileNotFoundError(f'SR checkpoint {method.checkpoint} of method '
                                    f'{method.name!r} cannot be read.')
        h = hashlib.sha256(checkpoint_sha.encode())
        h.update(json.dumps(gen_cfg, sort_keys=True, default=str).encode())
        digest = h.hexdigest()[:12]
    return f'{method.name}-{digest}-{degradation}' + (f'-{tiling}' if tiling else '')


#: Keys of an MMagic generator config that state its upscaling factor (DBPN, SwinIR, RCAN/EDSR).
SCALE_KEYS = ('scale', 'upscale', 'upscale_factor')


def check_config_scale(method: SRMethod, scale: int) -> None:
    """Refuse a model method whose config states another upscaling factor than ``scale``."""
    if method.kind != 'model' or method.generator is not None:
        return
    gen_cfg = method_generator_cfg(method)
    for key in SCALE_KEYS:
        if isinstance(gen_cfg.get(key), int) and gen_cfg[key] != scale:
            raise CascadeError(format_error(
                f'the SR scale {scale} disagrees with the x{gen_cfg[key]} generator of method '
                f'{method.name!r} (model.generator.{key}={gen_cfg[key]} in {method.config})',
                '--scale', f'pass --scale {gen_cfg[key]}, or an x{scale} SR model'))


@torch.no_grad()
def check_generator_scale(method: SRMethod, generator: torch.nn.Module, scale: int,
                          device: str) -> None:
    """Run the generator once on an (1, 3, 8, 8) LR probe (the smallest LR image the cascade
    feeds it) and refuse it unless the output is (1, 3, 8*scale, 8*scale)."""
    check_config_scale(method, scale)
    out = generator(torch.zeros(1, 3, 8, 8, device=device))
    if tuple(out.shape[-2:]) != (8 * scale, 8 * scale):
        factor = out.shape[-1] / 8
        raise CascadeError(format_error(
            f'the SR scale {scale} disagrees with the generator of method {method.name!r}, '
            f'which upscales x{factor:g} (an 8x8 LR probe gave {tuple(out.shape[-2:])})',
            '--scale', f'pass --scale {factor:g}, or an x{scale} SR model'))
