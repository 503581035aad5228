"""DBPN generator family (Haris et al., "Deep Back-Projection Networks for Super-Resolution",
CVPR 2018), registered in MMagic's ``MODELS``.

Module and parameter names follow the official PyTorch code (alterzero/DBPN-Pytorch,
``dbpn.py`` / ``dbpns.py`` + ``base_networks.py``), so an official checkpoint maps onto this
network key by key (see ``tools/convert_dbpn_official.py``).
"""
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmagic.registry import MODELS

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
    """ConvTranspose2d followed by a PReLU with one shared slope."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding):
        super().__init__()
        self.deconv = nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride, padding,
                                         bias=True)
        self.act = nn.PReLU()

    def forward(self, x):
        return self.act(self.deconv(x))


class UpProjection(nn.Module):
    """Up-projection unit: LR features (N, C*k, h, w) -> HR features (N, C, h*s, w*s).

    With ``num_inputs`` k > 1 (dense DBPN), a 1x1 ConvBlock (``conv``) first reduces the
    concatenation of the k previous LR maps to C channels.
    """

    def __init__(self, channels, kernel_size, stride, padding, num_inputs=1):
        super().__init__()
        self.conv = (ConvBlock(channels * num_inputs, channels, 1, 1, 0)
                     if num_inputs > 1 else None)
        self.up_conv1 = DeconvBlock(channels, channels, kernel_size, stride, padding)
        self.up_conv2 = ConvBlock(channels, channels, kernel_size, stride, padding)
        self.up_conv3 = DeconvBlock(channels, channels, kernel_size, stride, padding)

    def forward(self, x):
        if self.conv is not None:
            x = self.conv(x)
        h0 = self.up_conv1(x)
        l0 = self.up_conv2(h0)
        h1 = self.up_conv3(l0 - x)
        return h1 + h0


class DownProjection(nn.Module):
    """Down-projection unit: HR features (N, C*k, H, W) -> LR features (N, C, H/s, W/s)."""

    def __init__(self, channels, kernel_size, stride, padding, num_inputs=1):
        super().__init__()
        self.conv = (ConvBlock(channels * num_inputs, channels, 1, 1, 0)
                     if num_inputs > 1 else None)
        self.down_conv1 = ConvBlock(channels, channels, kernel_size, stride, padding)
        self.down_conv2 = DeconvBlock(channels, channels, kernel_size, stride, padding)
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
        geometry = PROJECTION_GEOMETRY[scale]

        self.feat0 = ConvBlock(in_channels, mid_channels, 3, 1, 1)
        self.feat1 = ConvBlock(mid_channels, base_channels, 1, 1, 0)
        for t in range(1, num_stages + 1):
            self.add_module(f'up{t}', UpProjection(base_channels, *geometry,
                                                   num_inputs=self._up_inputs(t)))
            if t < num_stages:
                self.add_module(f'down{t}', DownProjection(base_channels, *geometry,
                                                           num_inputs=self._down_inputs(t)))
        self.output_conv = ConvBlock(num_stages * base_channels, in_channels, 3, 1, 1, act=False)

    def _up_inputs(self, t: int) -> int:
        """LR maps up-projection t sees: the t-1 earlier down outputs when dense (t >= 3)."""
        return t - 1 if (self.dense and t >= 3) else 1

    def _down_inputs(self, t: int) -> int:
        """HR maps down-projection t sees: the t earlier up outputs when dense (t >= 2)."""
        return t if (self.dense and t >= 2) else 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, h, w) RGB [0, 1] -> (N, 3, h*scale, w*scale) RGB, not clamped."""
        feat = self.feat1(self.feat0(x))
        highs: List[torch.Tensor] = []  # HR maps h_t, ..., h_1 (newest first)
        lows: List[torch.Tensor] = []  # LR maps l_t, ..., l_1 (newest first)
        for t in range(1, self.num_stages + 1):
            if t == 1:
                up_in = feat
            else:
                up_in = torch.cat(lows, 1) if self._up_inputs(t) > 1 else lows[0]
            highs.insert(0, getattr(self, f'up{t}')(up_in))
            if t < self.num_stages:
                down_in = torch.cat(highs, 1) if self._down_inputs(t) > 1 else highs[0]
                lows.insert(0, getattr(self, f'down{t}')(down_in))
        out = self.output_conv(torch.cat(highs, 1))
        if self.bicubic_residual:
            out = out + F.interpolate(x, scale_factor=self.scale, mode='bicubic',
                                      align_corners=False)
        return out
