"""DBPN generator family (Haris et al., "Deep Back-Projection Networks for Super-Resolution",
CVPR 2018), registered in MMagic's ``MODELS``.

Module and parameter names follow the official PyTorch code (alterzero/DBPN-Pytorch,
``dbpn.py`` / ``dbpns.py`` + ``base_networks.py``), so an official checkpoint maps onto this
network key by key (see ``tools/convert_dbpn_official.py``).
"""
import math
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch.utils.checkpoint import checkpoint

from mmagic.registry import MODELS

from fdsr_mm.models.generators.phase_deconv import PhaseConvTranspose2d

# (kernel, stride, padding) of the projection convolutions per scale, as in the official code.
PROJECTION_GEOMETRY = {2: (6, 2, 2), 4: (8, 4, 2), 8: (12, 8, 2)}


class ConvBlock(nn.Module):
    """Conv2d followed by a PReLU with one shared slope (``act``), or no activation."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, act=True):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=True)
        self.act = nn.PReLU() if act else None

    def forward(self, x):
        x = self.conv(x)
        return self.act(x) if self.act is not None else x


class DeconvBlock(nn.Module):
    """ConvTranspose2d followed by a PReLU with one shared slope; the transposed convolution
    runs as phase convolutions of the same weights where ``impl`` says so
    (:class:`~fdsr_mm.models.generators.phase_deconv.PhaseConvTranspose2d`)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, impl='native'):
        super().__init__()
        self.deconv = PhaseConvTranspose2d(in_channels, out_channels, kernel_size, stride,
                                           padding, bias=True, impl=impl)
        self.act = nn.PReLU()

    def forward(self, x):
        return self.act(self.deconv(x))


class UpProjection(nn.Module):
    """Up-projection unit: LR features (N, C*k, h, w) -> HR features (N, C, h*s, w*s).

    With ``num_inputs`` k > 1 (dense DBPN), a 1x1 ConvBlock (``conv``) first reduces the
    concatenation of the k previous LR maps to C channels.
    """

    def __init__(self, channels, kernel_size, stride, padding, num_inputs=1, impl='native'):
        super().__init__()
        self.conv = (ConvBlock(channels * num_inputs, channels, 1, 1, 0)
                     if num_inputs > 1 else None)
        self.up_conv1 = DeconvBlock(channels, channels, kernel_size, stride, padding, impl)
        self.up_conv2 = ConvBlock(channels, channels, kernel_size, stride, padding)
        self.up_conv3 = DeconvBlock(channels, channels, kernel_size, stride, padding, impl)

    def forward(self, x):
        if self.conv is not None:
            x = self.conv(x)
        h0 = self.up_conv1(x)
        l0 = self.up_conv2(h0)
        h1 = self.up_conv3(l0 - x)
        return h1 + h0


class DownProjection(nn.Module):
    """Down-projection unit: HR features (N, C*k, H, W) -> LR features (N, C, H/s, W/s)."""

    def __init__(self, channels, kernel_size, stride, padding, num_inputs=1, impl='native'):
        super().__init__()
        self.conv = (ConvBlock(channels * num_inputs, channels, 1, 1, 0)
                     if num_inputs > 1 else None)
        self.down_conv1 = ConvBlock(channels, channels, kernel_size, stride, padding)
        self.down_conv2 = DeconvBlock(channels, channels, kernel_size, stride, padding, impl)
        self.down_conv3 = ConvBlock(channels, channels, kernel_size, stride, padding)

    def forward(self, x):
        if self.conv is not None:
            x = self.conv(x)
        l0 = self.down_conv1(x)
        h0 = self.down_conv2(l0)
        l1 = self.down_conv3(h0 - x)
        return l1 + l0


@MODELS.register_module()
class DBPN(BaseModule):
    """Deep Back-Projection Network: D-DBPN and its smaller variants from one code path.

    Defaults give D-DBPN x4 of the paper (10,426,358 parameters): ``feat0`` 3x3 conv 3->256,
    ``feat1`` 1x1 conv 256->64, T=7 up-projections with 6 down-projections between them, dense
    connections (each unit sees the concatenation of all earlier outputs of the other kind,
    newest first, reduced by a 1x1 ConvBlock from stage 2 on), and a 3x3 reconstruction conv
    over the concatenation of all T HR maps (7*64 = 448 -> 3 channels).

    ``dense=False`` gives the DBPN-S/M/L style networks of ``dbpns.py``/``dbpnll.py``: a plain chain
    of projection units; the reconstruction still sees every HR map.

    Args:
        in_channels (int): Image channels (3 for RGB).
        mid_channels (int): Channels of ``feat0`` (256 in D-DBPN).
        base_channels (int): Channels inside the projection units (64 in D-DBPN).
        num_stages (int): Number T of up-projection units (7 in D-DBPN).
        scale (int): Upscaling factor, one of 2, 4, 8.
        dense (bool): Dense connections between projection units (D-DBPN) or a plain chain.
        bicubic_residual (bool): Add the bicubic upsampling of the input to the output. The
            released D-DBPN does not; keep False to load official weights.
        deconv_impl (str): How the transposed convolutions run: ``'native'``
            (``conv_transpose2d``) or ``'phase'`` (phase convolutions of the same weights, equal
            to 1e-5: :mod:`fdsr_mm.models.generators.phase_deconv`; which is faster depends on
            the machine, ``benchmarks/bench_efficiency.py``). Weights and checkpoints are the
            same either way.
        channels_last (bool): Run the feature maps in channels-last (NHWC) memory order; the
            output is returned in the usual contiguous NCHW order either way, and weights and
            checkpoints are the same. On the 2-core test CPU it makes D-DBPN's forward 1.3x and a
            small DBPN's training step 1.2x faster (oneDNN's NHWC convolutions, and no copy
            behind every transposed convolution); outputs equal the NCHW ones to float
            rounding (about 1e-7). The phase path is measured slower in NHWC: with
            ``deconv_impl='phase'`` the maps stay NCHW.
        with_cp (bool): Activation checkpointing (as mmdet's ``with_cp``): in training, each
            projection unit keeps only its input and recomputes its inner maps in the backward
            pass, trading about a third more compute for memory
            (``benchmarks/bench_memory.py`` measures both). Same outputs and gradients.
        init_cfg (dict, optional): mmengine initialisation config (e.g. a ``Pretrained`` one).

    Input: (N, 3, h, w), RGB in [0, 1]. Output: (N, 3, h*scale, w*scale), RGB, nominally in
    [0, 1] and not clamped (clamp before quantising to an image).
    """

    def __init__(self,
                 in_channels: int = 3,
                 mid_channels: int = 256,
                 base_channels: int = 64,
                 num_stages: int = 7,
                 scale: int = 4,
                 dense: bool = True,
                 bicubic_residual: bool = False,
                 deconv_impl: str = 'native',
                 channels_last: bool = True,
                 with_cp: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if scale not in PROJECTION_GEOMETRY:
            raise ValueError(f'DBPN supports scale 2, 4 or 8, got {scale}.')
        if num_stages < 1:
            raise ValueError(f'num_stages must be >= 1, got {num_stages}.')
        self.scale = scale
        self.num_stages = num_stages
        self.dense = dense
        self.bicubic_residual = bicubic_residual
        self.channels_last = channels_last and deconv_impl == 'native'
        self.with_cp = with_cp
        geometry = PROJECTION_GEOMETRY[scale]

        self.feat0 = ConvBlock(in_channels, mid_channels, 3, 1, 1)
        self.feat1 = ConvBlock(mid_channels, base_channels, 1, 1, 0)
        for t in range(1, num_stages + 1):
            self.add_module(f'up{t}', UpProjection(base_channels, *geometry,
                                                   num_inputs=self._up_inputs(t),
                                                   impl=deconv_impl))
            if t < num_stages:
                self.add_module(f'down{t}', DownProjection(base_channels, *geometry,
                                                           num_inputs=self._down_inputs(t),
                                                           impl=deconv_impl))
        self.output_conv = ConvBlock(num_stages * base_channels, in_channels, 3, 1, 1, act=False)

    @property
    def receptive_field(self) -> int:
        """How many LR pixels away an input pixel still changes an output pixel (21 for x4, T=7).

        The smallest exact ``tile_pad`` of tiled inference
        (:func:`fdsr_mm.models.generators.tiled_inference.super_resolve_tensor`); it depends on
        ``scale``,
        ``num_stages`` and ``bicubic_residual`` only, and :func:`_receptive_field` derives it
        from the layer geometry (pinned against a measurement in the tests).
        """
        return _receptive_field(self.scale, self.num_stages, self.dense, self.bicubic_residual)

    def _up_inputs(self, t: int) -> int:
        """LR maps up-projection t sees: the t-1 earlier down outputs when dense (t >= 3)."""
        return t - 1 if (self.dense and t >= 3) else 1

    def _down_inputs(self, t: int) -> int:
        """HR maps down-projection t sees: the t earlier up outputs when dense (t >= 2)."""
        return t if (self.dense and t >= 2) else 1

    def _unit(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """Run projection unit ``name``, checkpointed when ``with_cp`` and training."""
        unit = getattr(self, name)
        if self.with_cp and self.training and torch.is_grad_enabled():
            return checkpoint(unit, x, use_reentrant=False)
        return unit(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, h, w) RGB [0, 1] -> (N, 3, h*scale, w*scale) RGB, not clamped, contiguous."""
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        feat = self.feat1(self.feat0(x))
        highs: List[torch.Tensor] = []  # HR maps h_t, ..., h_1 (newest first)
        lows: List[torch.Tensor] = []  # LR maps l_t, ..., l_1 (newest first)
        for t in range(1, self.num_stages + 1):
            if t == 1:
                up_in = feat
            else:
                up_in = torch.cat(lows, 1) if self._up_inputs(t) > 1 else lows[0]
            highs.insert(0, self._unit(f'up{t}', up_in))
            if t < self.num_stages:
                down_in = torch.cat(highs, 1) if self._down_inputs(t) > 1 else highs[0]
                lows.insert(0, self._unit(f'down{t}', down_in))
        out = self.output_conv(torch.cat(highs, 1))
        if self.bicubic_residual:
            out = out + F.interpolate(x, scale_factor=self.scale, mode='bicubic',
                                      align_corners=False)
        return out.contiguous()


def _receptive_field(scale: int, num_stages: int, dense: bool = True,
                     bicubic_residual: bool = False) -> int:
    """The LR receptive field (Chebyshev radius) of a DBPN, from its layer geometry.

    Each map's dependence on the LR input is an interval of LR offsets per output phase: an LR
    map ``{0: (lo, hi)}`` (position i depends on inputs i+lo .. i+hi), an HR map
    ``{r: (lo, hi)}`` for r in 0..scale-1 (HR pixel ``scale*q + r`` depends on inputs
    q+lo .. q+hi). Rows and columns are alike, so one axis suffices.
    """
    k, s, p = PROJECTION_GEOMETRY[scale]

    def union(*maps):
        return {r: (min(m[r][0] for m in maps), max(m[r][1] for m in maps)) for r in maps[0]}

    def up(lr):  # ConvTranspose2d(k, s, p): HR j = s*i - p + t, 0 <= t < k
        lo, hi = lr[0]
        return {r: (lo - ((k - 1 - r - p) // s), hi + (r + p) // s) for r in range(s)}

    def down(hr):  # Conv2d(k, s, p): LR o sees HR s*o - p .. s*o - p + k - 1
        offs = [((j // s) + hr[j % s][0], (j // s) + hr[j % s][1]) for j in range(-p, k - p)]
        return {0: (min(o[0] for o in offs), max(o[1] for o in offs))}

    def up_unit(lr):  # h0 = up(x); h1 = up(down(h0) - x); h1 + h0
        h0 = up(lr)
        return union(up(union(down(h0), lr)), h0)

    def down_unit(hr):  # l0 = down(x); l1 = down(up(l0) - x); l1 + l0
        l0 = down(hr)
        return union(down(union(up(l0), hr)), l0)

    lows, highs = [], []
    feat = {0: (-1, 1)}  # feat0 3x3 (pad 1), feat1 1x1
    for t in range(1, num_stages + 1):
        up_in = feat if t == 1 else (union(*lows) if dense else lows[-1])
        highs.append(up_unit(up_in))
        if t < num_stages:
            lows.append(down_unit(union(*highs) if dense else highs[-1]))
    hr = union(*highs)
    # output_conv: 3x3 (pad 1) on the HR maps: HR j sees HR j-1 .. j+1
    out = {r: (min((r + d) // s + hr[(r + d) % s][0] for d in (-1, 0, 1)),
               max((r + d) // s + hr[(r + d) % s][1] for d in (-1, 0, 1))) for r in range(s)}
    if bicubic_residual:  # bicubic x s (align_corners=False): taps floor(x)-1 .. floor(x)+2
        taps = {r: (math.floor((r + 0.5) / s - 0.5) - 1, math.floor((r + 0.5) / s - 0.5) + 2)
                for r in range(s)}
        out = union(out, taps)
    return max(max(-lo, hi) for lo, hi in out.values())
