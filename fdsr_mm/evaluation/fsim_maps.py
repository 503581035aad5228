"""FSIM and FSIMc from piq's own steps, split into the maps of one image and their comparison.

``piq.fsim`` (piq 0.8) computes, for each of the two images, the YIQ channels, the phase
congruency (PC) of Y (log-Gabor filters, FFTs: most of the cost) and the Scharr gradient
magnitude of Y, then compares them. :func:`fsim_maps` runs the per-image half, :func:`compare_maps`
the comparison, with the same functions in the same order, so :func:`fsim_pair` equals
``piq.fsim(..., chromatic=False)`` and ``piq.fsim(..., chromatic=True)`` bit for bit (tested) while
computing each image's maps once for both numbers. :class:`ReferenceMaps` keeps an HR image's maps
while several SR results are scored against it (the cascade scores every method on the same HR
images), so each method pays only for its own images' maps.

Images are (H, W, 3) uint8 RGB arrays; piq sees them as (1, 3, H, W) float32 in [0, 1] with
``data_range=1`` and rescales them to [0, 255] itself.
"""
import functools
from typing import Dict, NamedTuple, Optional, Tuple

import numpy as np
import torch
from piq.fsim import _construct_filters, _phase_congruency
from piq.functional import gradient_map, rgb2yiq, scharr_filter, similarity_map

#: piq.fsim's defaults (the FSIM paper's constants and filter bank).
_T1, _T2, _T3, _T4, _LAMBDA = 0.85, 160, 200, 200, 0.03
_FILTER_BANK = dict(scales=4, orientations=4, min_length=6, mult=2, sigma_f=0.55,
                    delta_theta=1.2)
_NOISE_K = 2.0


def shave_image(img: np.ndarray, shave: int) -> np.ndarray:
    """``img`` without ``shave`` pixels on each border; ValueError when nothing would be left."""
    if shave <= 0:
        return img
    if min(img.shape[:2]) <= 2 * shave:
        raise ValueError(f'Image of {img.shape[:2]} is too small to shave {shave} px per side.')
    return img[shave:-shave, shave:-shave]


def piq_input(img: np.ndarray, shave: int, device: str) -> torch.Tensor:
    """(H, W, 3) uint8 RGB -> (1, 3, H - 2 shave, W - 2 shave) float32 in [0, 1] on ``device``."""
    return (torch.from_numpy(np.ascontiguousarray(shave_image(img, shave))).permute(2, 0, 1)[None]
            .to(device).float().div(255))


class FsimMaps(NamedTuple):
    """One image's half of FSIM (after piq's average pooling of images over 256 px)."""
    yiq: torch.Tensor  # (1, 3, h, w) YIQ of the [0, 255] RGB image
    pc: torch.Tensor  # phase congruency of Y
    grad: torch.Tensor  # (1, 1, h, w) Scharr gradient magnitude of Y

    @property
    def nbytes(self) -> int:
        return sum(t.element_size() * t.nelement() for t in self)


@functools.lru_cache(maxsize=8)
def _filters(h: int, w: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    """piq's log-Gabor filter bank of an h x w image (it depends on the size only)."""
    return _construct_filters(torch.empty(1, 1, h, w, dtype=dtype, device=device),
                              **_FILTER_BANK)


def fsim_maps(img: np.ndarray, shave: int = 0, device: str = 'cpu') -> FsimMaps:
    """YIQ, phase congruency and gradient magnitude of one (H, W, 3) uint8 RGB image."""
    x = piq_input(img, shave, device)
    with torch.no_grad():
        x = x / 1. * 255  # piq.fsim with data_range=1
        x = torch.nn.functional.avg_pool2d(x, max(1, round(min(x.shape[-2:]) / 256)))
        yiq = rgb2yiq(x)
        lum = yiq[:, :1]
        filters = _filters(lum.shape[-2], lum.shape[-1], lum.dtype, str(lum.device))
        pc = _phase_congruency(lum, filters=filters, scales=_FILTER_BANK['scales'],
                               orientations=_FILTER_BANK['orientations'], k=_NOISE_K)
        scharr = scharr_filter(device=lum.device, dtype=lum.dtype)
        grad = gradient_map(lum, torch.stack([scharr, scharr.transpose(-1, -2)]))
    return FsimMaps(yiq, pc, grad)


def compare_maps(x: FsimMaps, y: FsimMaps) -> Tuple[float, float]:
    """(FSIM, FSIMc) of the images with maps ``x`` (distorted) and ``y`` (reference)."""
    if x.yiq.shape != y.yiq.shape:
        raise ValueError(f'FSIM maps of different sizes: {tuple(x.yiq.shape)} and '
                         f'{tuple(y.yiq.shape)}.')
    with torch.no_grad():
        pc_max = torch.where(x.pc > y.pc, x.pc, y.pc)
        score = (similarity_map(x.grad, y.grad, _T2) * similarity_map(x.pc, y.pc, _T1)
                 * pc_max)
        s_i = similarity_map(x.yiq[:, 1:2], y.yiq[:, 1:2], _T3)
        s_q = similarity_map(x.yiq[:, 2:], y.yiq[:, 2:], _T4)
        score_c = score * torch.abs(s_i * s_q) ** _LAMBDA
        denominator = pc_max.sum(dim=[1, 2, 3])
        lum = (score.sum(dim=[1, 2, 3]) / denominator).mean()
        chroma = (score_c.sum(dim=[1, 2, 3]) / denominator).mean()
    return float(lum), float(chroma)


class ReferenceMaps:
    """HR images' :class:`FsimMaps`, kept for the next SR result scored against the same image.

    Args:
        max_bytes: Memory the kept maps may take (about 1.2 MB per 256 px image); maps of images
            beyond it are computed each time they are needed.
    """

    def __init__(self, max_bytes: int = 512 * 2**20):
        self.max_bytes, self.bytes = max_bytes, 0
        self._maps: Dict[tuple, FsimMaps] = {}

    def __len__(self) -> int:
        return len(self._maps)

    def get(self, key: str, hr: np.ndarray, shave: int, device: str) -> FsimMaps:
        """The maps of ``hr``; ``key`` must name its content (the cascade's cached file names
        carry the source file's content hash)."""
        k = (key, hr.shape, shave, str(device))
        if k not in self._maps:
            maps = fsim_maps(hr, shave, device)
            if self.bytes + maps.nbytes > self.max_bytes:
                return maps
            self._maps[k] = maps
            self.bytes += maps.nbytes
        return self._maps[k]


def fsim_pair(sr: np.ndarray, hr: np.ndarray, shave: int = 0, device: str = 'cpu',
              reference: Optional[ReferenceMaps] = None,
              key: Optional[str] = None) -> Tuple[float, float]:
    """(FSIM, FSIMc) of an SR image against its HR reference, both (H, W, 3) uint8 RGB of one
    size; the HR maps come from ``reference`` under ``key`` when both are given."""
    hr_maps = (reference.get(key, hr, shave, device) if reference is not None and key
               else fsim_maps(hr, shave, device))
    return compare_maps(fsim_maps(sr, shave, device), hr_maps)
