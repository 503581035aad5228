"""Parameter-free upsampling "generators": the interpolation baselines of an SR + detector model.

``InterpolationSR(scale=4, mode='bicubic')`` is what a detector sees when low-resolution images
are simply resized (the paper's "Bicubic" row, up to the operator: torch's bicubic, not
MATLAB's); ``scale=1`` is the identity, which makes an :class:`~fdsr_mm.models.SRDetector`
behave exactly like its bare detector.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmagic.registry import MODELS

_MODES = ('nearest', 'bilinear', 'bicubic', 'area')


@MODELS.register_module()
class InterpolationSR(nn.Module):
    """Upsample by ``scale`` with torch interpolation (no weights; nothing to load).

    Args:
        scale (int): Upscaling factor (>= 1; 1 returns the input unchanged).
        mode (str): ``'nearest'``, ``'bilinear'``, ``'bicubic'`` or ``'area'``.

    Shapes and ranges: (N, 3, h, w) RGB [0, 1] -> (N, 3, h*scale, w*scale) RGB, not clamped
    (bicubic overshoots slightly, as a trained generator may; consumers clamp).
    """

    def __init__(self, scale: int = 4, mode: str = 'bicubic'):
        super().__init__()
        if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
            raise ValueError(f'InterpolationSR: scale must be an integer >= 1, got {scale!r}.')
        if mode not in _MODES:
            raise ValueError(f'InterpolationSR: mode must be one of {_MODES}, got {mode!r}.')
        self.scale = scale
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.scale == 1:
            return x
        kwargs = {} if self.mode in ('nearest', 'area') else dict(align_corners=False)
        return F.interpolate(x, scale_factor=self.scale, mode=self.mode, **kwargs)

    def extra_repr(self) -> str:
        return f'scale={self.scale}, mode={self.mode!r}'
