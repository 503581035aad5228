"""A transposed convolution computed as phase-decomposed (sub-pixel) convolutions of the SAME
weights: every output pixel of a stride-s transposed convolution belongs to one of s x s phases,
and each phase is an ordinary convolution of the input with a subset of the kernel taps.

Why: issue 22 measured ``conv_transpose2d`` on CPUs far below the rate of an ordinary
convolution (D-DBPN's 8x8 stride-4 up-projections at 34 GFLOP/s against 75 for a convolution on
the 2-core test machine). Phases that read the same input window are stacked into one
convolution (D-DBPN x4: 4 convolutions of 2x2 taps with 4 x C outputs each), so no zero tap is
computed and the FLOPs are exactly those of the transposed convolution. Whether it is faster
depends on the machine and the size: ``benchmarks/bench_efficiency.py`` measures both paths in
one run, and the native operator stays the default until a measurement says otherwise.

Exact up to float rounding (the sums run in another order): tested against
``F.conv_transpose2d`` to 1e-5 on random and on official-layout D-DBPN weights. Weights,
parameter names and checkpoints are those of ``nn.ConvTranspose2d``.
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

#: How :class:`PhaseConvTranspose2d` computes its forward: ``'native'`` (``conv_transpose2d``)
#: or ``'phase'`` (phase convolutions of the same weights).
IMPLS = ('native', 'phase')


def _phases(kernel: int, stride: int, padding: int) -> Dict[Tuple[int, int], List[Tuple[int, int]]]:
    """Per dimension: (window offset a, taps T) -> [(phase r, first tap k0)] of the phases that
    read input ``q + a .. q + a + T - 1`` for output ``s*q + r``."""
    groups: Dict[Tuple[int, int], List[Tuple[int, int]]] = {}
    for r in range(stride):
        k0 = (r + padding) % stride
        taps = len(range(k0, kernel, stride))
        if taps == 0:
            continue
        c = (r + padding - k0) // stride
        groups.setdefault((c - taps + 1, taps), []).append((r, k0))
    return groups


def _group_weight(weight: torch.Tensor, stride: int, gy: tuple, gx: tuple) -> torch.Tensor:
    """The stacked conv weight (phases x C_out, C_in, T_y, T_x) of one 2-D window group."""
    (ty, phases_y), (tx, phases_x) = gy, gx
    blocks = []
    for _, ky in phases_y:
        rows = [ky + stride * (ty - 1 - j) for j in range(ty)]
        for _, kx in phases_x:
            cols = [kx + stride * (tx - 1 - j) for j in range(tx)]
            w = weight[:, :, rows][:, :, :, cols]  # (C_in, C_out, T_y, T_x)
            blocks.append(w.transpose(0, 1))
    return torch.cat(blocks, 0)


def phase_conv_transpose2d(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor],
                           stride: int, padding: int) -> torch.Tensor:
    """``F.conv_transpose2d(x, weight, bias, stride, padding)`` (square kernel, no output
    padding, dilation or groups) as phase convolutions.

    Args:
        x: (N, C_in, H, W). weight: (C_in, C_out, K, K). bias: (C_out,) or None.

    Returns:
        Tensor: (N, C_out, (H-1)*s - 2p + K, (W-1)*s - 2p + K).
    """
    n, _, h, w = x.shape
    k, c_out = weight.shape[-1], weight.shape[1]
    out_h, out_w = (h - 1) * stride - 2 * padding + k, (w - 1) * stride - 2 * padding + k
    qh, qw = -(-out_h // stride), -(-out_w // stride)
    groups = _phases(k, stride, padding)
    if sum(len(phases) for phases in groups.values()) < stride:
        raise NotImplementedError('phase_conv_transpose2d needs kernel >= stride (phases with '
                                  'no tap)')
    lo = max(0, -min(a for a, _ in groups))
    hi_h = max(0, max(qh - 1 + a + t for a, t in groups) - (h - 1))
    hi_w = max(0, max(qw - 1 + a + t for a, t in groups) - (w - 1))
    xp = F.pad(x, (lo, hi_w, lo, hi_h))
    rows, order_y = [], []
    for (ay, ty), phases_y in groups.items():
        cols, order_x = [], []
        for (ax, tx), phases_x in groups.items():
            wt = _group_weight(weight, stride, (ty, phases_y), (tx, phases_x))
            b = None if bias is None else bias.repeat(len(phases_y) * len(phases_x))
            win = xp[:, :, lo + ay:lo + ay + qh + ty - 1, lo + ax:lo + ax + qw + tx - 1]
            cols.append(F.conv2d(win, wt, b).view(n, len(phases_y), len(phases_x), c_out, qh,
                                                  qw))
            order_x += [r for r, _ in phases_x]
        rows.append(torch.cat(cols, 2))
        order_y += [r for r, _ in phases_y]
    out = torch.cat(rows, 1)  # (N, phases_y, phases_x, C_out, qh, qw), groups' phase order
    if order_y != sorted(order_y):
        out = out[:, torch.as_tensor(order_y).argsort()]
    if order_x != sorted(order_x):
        out = out[:, :, torch.as_tensor(order_x).argsort()]
    y = out.permute(0, 3, 4, 1, 5, 2).reshape(n, c_out, qh * stride, qw * stride)
    return y[:, :, :out_h, :out_w]


class PhaseConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` (same parameters and state dict) that computes its forward as
    phase convolutions when ``impl='phase'`` (:data:`IMPLS`).

    Only square kernels, strides and paddings with no output padding, dilation or groups take
    the phase path; anything else runs the native operator.
    """

    def __init__(self, *args, impl: str = 'native', **kwargs):
        super().__init__(*args, **kwargs)
        if impl not in IMPLS:
            raise ValueError(f'impl must be one of {IMPLS}, got {impl!r}')
        self.impl = impl

    def _phase_ok(self) -> bool:
        square = (len(set(self.kernel_size)) == 1 and len(set(self.stride)) == 1
                  and len(set(self.padding)) == 1)
        plain = self.output_padding == (0, 0) and self.dilation == (1, 1) and self.groups == 1
        return square and plain and self.padding_mode == 'zeros' and \
            self.kernel_size[0] >= self.stride[0]

    def use_phase(self, x: torch.Tensor) -> bool:
        return self.impl == 'phase' and self._phase_ok()

    def forward(self, x: torch.Tensor, output_size=None) -> torch.Tensor:
        if output_size is None and self.use_phase(x):
            return phase_conv_transpose2d(x, self.weight, self.bias, self.stride[0],
                                          self.padding[0])
        return super().forward(x, output_size)

    def extra_repr(self) -> str:
        return super().extra_repr() + f', impl={self.impl!r}'
