"""Run an SR generator on a batch of any size, whole or in tiles (RGB [0, 1] tensors).

Tiling bounds peak memory for large images: the LR image is cut into ``tile`` x ``tile`` cores,
each run with ``tile_pad`` LR pixels of real image context on every side (less at the image
border, where whole-image inference sees the same zero padding), and only the core's x``scale``
output is kept. When ``tile_pad`` covers the generator's receptive field, every kept output pixel
sees exactly the inputs it sees in whole-image inference, so the two agree to float rounding
(different summation order inside convolutions); with a smaller pad, they differ near tile seams.

The rule for the pad (``tile_pad=None``, the default, applies it):

* A generator that declares ``receptive_field`` (an int: how many LR pixels away an input pixel
  still changes an output pixel; :class:`fdsr_mm.models.DBPN` does, 21 for D-DBPN x4) is tiled
  with exactly that pad, and tiled output equals whole-image output to float rounding.
* A generator without it (MMagic's SwinIR, RCAN, EDSR, ...) is tiled with
  :data:`DEFAULT_TILE_PAD` LR pixels and the tiles are an approximation near the seams: RCAN's
  channel attention pools the whole image and SwinIR's shifted windows spread across it, so no
  pad makes them exact. :func:`measure_receptive_field` measures a convolutional generator's
  field (pass it as ``tile_pad``, or set the attribute); whole-image inference (``tile=None``)
  is exact for every generator.
"""
import copy
from typing import Optional

import torch

#: LR pad of tiles of a generator that declares no ``receptive_field`` (approximate tiling).
DEFAULT_TILE_PAD = 16


def declared_receptive_field(generator: torch.nn.Module) -> Optional[int]:
    """The generator's ``receptive_field`` attribute (LR pixels), or None where it has none."""
    rf = getattr(generator, 'receptive_field', None)
    return None if rf is None else int(rf)


def default_tile_pad(generator: torch.nn.Module) -> int:
    """The tile pad of the rule above: the declared receptive field, else
    :data:`DEFAULT_TILE_PAD`."""
    rf = declared_receptive_field(generator)
    return DEFAULT_TILE_PAD if rf is None else rf


def measure_receptive_field(generator: torch.nn.Module, scale: int, max_radius: int = 48,
                            seed: int = 0) -> Optional[int]:
    """Measure how far (in LR pixels) the LR inputs of one output pixel reach.

    A float64 copy of the generator runs on a random (1, 3, n, n) RGB [0, 1] LR image with
    n = 2 * ``max_radius`` + 3; the gradient of the centre LR cell's output (its ``scale`` x
    ``scale`` HR block, all channels) is nonzero exactly at the inputs it depends on. Far
    inputs of a deep network change the output by less than a float64 ulp (a perturbation
    would miss them) but still give a nonzero gradient, so the result is the structural field
    of the architecture (barring weights that are exactly zero).

    Returns:
        int: the largest Chebyshev distance (LR pixels) from the centre to an input it depends
        on, i.e. the smallest exact ``tile_pad``; None when the dependence reaches the border of
        the probe (a global operation such as channel attention, or a field larger than
        ``max_radius``).
    """
    net = copy.deepcopy(generator).cpu().double().eval()
    n = 2 * max_radius + 3
    c = n // 2
    g = torch.Generator().manual_seed(seed)
    lr = torch.rand(1, 3, n, n, generator=g, dtype=torch.float64, requires_grad=True)
    with torch.enable_grad():
        out = net(lr)
        _check_shape(out, 1, n * scale, n * scale)
        out[..., c * scale:(c + 1) * scale, c * scale:(c + 1) * scale].sum().backward()
    cells = (lr.grad[0] != 0).any(0).nonzero()
    if len(cells) == 0:
        return 0
    radius = int((cells - c).abs().max())
    return None if radius > max_radius else radius


#: The autocast types of ``super_resolve_tensor(amp=...)``.
AMP_DTYPES = {'bfloat16': torch.bfloat16, 'float16': torch.float16}


@torch.no_grad()
def super_resolve_tensor(generator: torch.nn.Module, lr: torch.Tensor, scale: int,
                         tile: Optional[int] = None,
                         tile_pad: Optional[int] = None,
                         amp: Optional[str] = None) -> torch.Tensor:
    """Run ``generator`` on ``lr``, whole or in tiles.

    Args:
        generator: Maps (N, 3, h, w) RGB [0, 1] to (N, 3, h*scale, w*scale) RGB (not clamped).
        lr: (N, 3, h, w), RGB in [0, 1], any h, w (no divisibility needed).
        scale: The generator's upscaling factor.
        tile: LR tile size, or None for whole-image inference.
        tile_pad: LR pixels of context around each tile; None: :func:`default_tile_pad` (the
            generator's declared receptive field, which makes tiling exact, else 16).
        amp: None (float32), or ``'bfloat16'`` / ``'float16'``: the generator runs under
            ``torch.autocast`` of that type on ``lr``'s device (:data:`AMP_DTYPES`); the output is
            float32 again. ``benchmarks/bench_amp.py`` reports its speed and PSNR cost.

    Returns:
        Tensor: (N, 3, h*scale, w*scale), float32 RGB, as the generator returns it (not clamped).
    """
    if amp is not None:
        if amp not in AMP_DTYPES:
            raise ValueError(f'amp must be None or one of {tuple(AMP_DTYPES)}, got {amp!r}')
        with torch.autocast(lr.device.type, dtype=AMP_DTYPES[amp]):
            return super_resolve_tensor(generator, lr, scale, tile, tile_pad).float()
    n, c, h, w = lr.shape
    if tile is None or (h <= tile and w <= tile):
        out = generator(lr)
        _check_shape(out, n, h * scale, w * scale)
        return out
    if tile_pad is None:
        tile_pad = default_tile_pad(generator)
    if tile <= 0 or tile_pad < 0:
        raise ValueError(f'tile must be > 0 and tile_pad >= 0, got {tile}, {tile_pad}.')
    out = lr.new_zeros(n, c, h * scale, w * scale)
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
            py0, px0 = max(y0 - tile_pad, 0), max(x0 - tile_pad, 0)
            py1, px1 = min(y1 + tile_pad, h), min(x1 + tile_pad, w)
            patch = generator(lr[:, :, py0:py1, px0:px1])
            _check_shape(patch, n, (py1 - py0) * scale, (px1 - px0) * scale)
            oy, ox = (y0 - py0) * scale, (x0 - px0) * scale
            out[:, :, y0 * scale:y1 * scale, x0 * scale:x1 * scale] = \
                patch[:, :, oy:oy + (y1 - y0) * scale, ox:ox + (x1 - x0) * scale]
    return out


def quantise(sr: torch.Tensor) -> torch.Tensor:
    """A generator's output (RGB, ~[0, 1], any shape) as a saved 8-bit image holds it: clamped to
    [0, 1], x255, rounded, uint8 (same shape and channel order, same device)."""
    return sr.clamp(0, 1).mul(255).round().to(torch.uint8)


def _check_shape(out: torch.Tensor, n: int, h: int, w: int) -> None:
    if out.shape[0] != n or out.shape[-2:] != (h, w):
        raise ValueError(f'The generator returned {tuple(out.shape)} where (N={n}, 3, {h}, {w}) '
                         'was expected: check the scale passed to super_resolve.')
