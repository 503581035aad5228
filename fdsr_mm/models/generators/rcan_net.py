"""RCAN generator (Zhang et al., "Image Super-Resolution Using Very Deep Residual Channel Attention
Networks", ECCV 2018), registered in MMagic's ``MODELS`` (MMagic 1.2.0 ships no RCAN).

Module names follow the authors' code (yulunzhang/RCAN, EDSR-PyTorch style: ``sub_mean``,
``head.0``, ``body.<group>.body.<block>.body.{0,2,3}``, ``tail.0.<k>``, ``tail.1``, ``add_mean``), so the
released ``RCAN_BIX4.pt`` state_dict loads with ``load_state_dict`` as is.
"""
import math

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmagic.registry import MODELS

DIV2K_RGB_MEAN = (0.4488, 0.4371, 0.4040)


class MeanShift(nn.Conv2d):
    """Fixed 1x1 conv adding (sign=+1) or subtracting (sign=-1) ``rgb_range * mean`` per channel."""

    def __init__(self, rgb_range: float, rgb_mean, sign: int):
        super().__init__(3, 3, kernel_size=1)
        self.weight.data = torch.eye(3).view(3, 3, 1, 1)
        self.bias.data = sign * rgb_range * torch.tensor(rgb_mean, dtype=torch.float32)
        for p in self.parameters():
            p.requires_grad = False


class ChannelAttention(nn.Module):
    """Squeeze-and-excitation: global average pool, 1x1 down (``conv_du.0``), ReLU, 1x1 up, sigmoid."""

    def __init__(self, channels: int, reduction: int):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_du = nn.Sequential(
            nn.Conv2d(channels, channels // reduction, 1), nn.ReLU(inplace=True),
            nn.Conv2d(channels // reduction, channels, 1), nn.Sigmoid())

    def forward(self, x):
        return x * self.conv_du(self.avg_pool(x))


class RCAB(nn.Module):
    """Residual channel attention block: x + CA(conv(ReLU(conv(x))))."""

    def __init__(self, channels: int, reduction: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1), ChannelAttention(channels, reduction))

    def forward(self, x):
        return x + self.body(x)


class ResidualGroup(nn.Module):
    """``num_blocks`` RCABs and a 3x3 conv, with a skip connection."""

    def __init__(self, channels: int, reduction: int, num_blocks: int):
        super().__init__()
        self.body = nn.Sequential(*[RCAB(channels, reduction) for _ in range(num_blocks)],
                                  nn.Conv2d(channels, channels, 3, padding=1))

    def forward(self, x):
        return x + self.body(x)


@MODELS.register_module()
class RCANNet(BaseModule):
    """RCAN: residual-in-residual groups of channel-attention blocks, pixel-shuffle upsampling.

    Defaults are the paper's RCAN: 10 groups x 20 blocks, 64 channels, reduction 16.

    Args:
        scale (int): Upscaling factor, a power of 2 or 3.
        mid_channels (int): Feature channels.
        num_groups (int): Residual groups.
        num_blocks (int): RCABs per group.
        reduction (int): Channel-attention squeeze factor.
        rgb_mean (tuple[float]): Mean removed before and added after, in [0, 1] units.
        rgb_range (float): Value range the network works in internally (255 for the released
            weights, which were trained on [0, 255] images).
        init_cfg (dict, optional): mmengine initialisation config.

    Input: (N, 3, h, w) RGB in [0, 1]. Output: (N, 3, h*scale, w*scale) RGB in [0, 1] (not clamped).
    """

    def __init__(self, scale: int = 4, mid_channels: int = 64, num_groups: int = 10,
                 num_blocks: int = 20, reduction: int = 16, rgb_mean=DIV2K_RGB_MEAN,
                 rgb_range: float = 255., init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.scale = scale
        self.rgb_range = rgb_range
        self.sub_mean = MeanShift(rgb_range, rgb_mean, -1)
        self.head = nn.Sequential(nn.Conv2d(3, mid_channels, 3, padding=1))
        self.body = nn.Sequential(
            *[ResidualGroup(mid_channels, reduction, num_blocks) for _ in range(num_groups)],
            nn.Conv2d(mid_channels, mid_channels, 3, padding=1))
        self.tail = nn.Sequential(self._upsampler(scale, mid_channels),
                                  nn.Conv2d(mid_channels, 3, 3, padding=1))
        self.add_mean = MeanShift(rgb_range, rgb_mean, 1)

    @staticmethod
    def _upsampler(scale: int, channels: int) -> nn.Sequential:
        layers = []
        if scale & (scale - 1) == 0:  # 2^n: n x (conv to 4C, pixel shuffle 2)
            for _ in range(int(math.log2(scale))):
                layers += [nn.Conv2d(channels, 4 * channels, 3, padding=1), nn.PixelShuffle(2)]
        elif scale == 3:
            layers += [nn.Conv2d(channels, 9 * channels, 3, padding=1), nn.PixelShuffle(3)]
        else:
            raise ValueError(f'RCAN supports scales 2^n and 3, got {scale}.')
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, h, w) RGB [0, 1] -> (N, 3, h*scale, w*scale) RGB [0, 1], not clamped."""
        x = self.head(self.sub_mean(x * self.rgb_range))
        x = x + self.body(x)
        return self.add_mean(self.tail(x)) / self.rgb_range
