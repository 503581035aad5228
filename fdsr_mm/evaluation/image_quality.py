"""Image-quality metrics of an SR result against its HR reference: PSNR (RGB, Y), SSIM, FSIM(c).

Every metric takes the two images exactly as they would be saved: (H, W, 3) uint8 RGB arrays of
the same size (the SR result quantised to uint8, the mod-cropped HR image). PSNR and SSIM are
MMagic's functions (``mmagic.evaluation.metrics.psnr`` / ``ssim``: [0, 255] range, ``crop_border``
pixels shaved on every side, Y = ITU-R BT.601 luma of MMagic's ``rgb2ycbcr``), i.e. the numbers an
MMagic ``PSNR``/``SSIM`` metric reports with ``crop_border=scale``. FSIM (luminance, the YIQ ``Y``
channel) and FSIMc (with the chromatic I, Q channels) are ``piq.fsim`` on the same shaved images;
:func:`image_quality` gets both from one pass of piq's own steps
(:func:`fdsr_mm.evaluation.fsim_maps.fsim_pair`, equal to the two ``piq.fsim`` calls bit for bit),
with the HR image's maps reused across SR results when given a ``reference`` store.

PSNR of identical images is ``inf`` (MSE 0); means over images containing an ``inf`` are ``inf``.
"""
import math
from typing import Dict, Iterable, Optional, Sequence

import numpy as np
import piq
import torch

from mmagic.evaluation.metrics import psnr as mmagic_psnr
from mmagic.evaluation.metrics import ssim as mmagic_ssim

from fdsr_mm.evaluation.fsim_maps import ReferenceMaps, fsim_pair, piq_input

#: Metric names, in table order.
IQ_METRICS = ('psnr', 'psnr_y', 'ssim', 'fsim', 'fsimc')


def _check_pair(sr: np.ndarray, hr: np.ndarray) -> None:
    for name, img in (('sr', sr), ('hr', hr)):
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f'{name} must be an (H, W, 3) uint8 RGB image, got '
                             f'{img.dtype} {img.shape}.')
    if sr.shape != hr.shape:
        raise ValueError(f'SR {sr.shape} and HR {hr.shape} differ in size: the SR result must '
                         'have the size of the mod-cropped HR image.')


def psnr_rgb(sr: np.ndarray, hr: np.ndarray, shave: int = 0) -> float:
    """PSNR (dB) over the three RGB channels.

    Args:
        sr, hr: (H, W, 3) uint8 RGB images.
        shave: Pixels ignored on each border (the SR convention is ``shave = scale``).

    Returns:
        float: PSNR in dB; ``inf`` for identical images.
    """
    _check_pair(sr, hr)
    return float(mmagic_psnr(sr, hr, crop_border=shave, channel_order='rgb'))


def psnr_y(sr: np.ndarray, hr: np.ndarray, shave: int = 0) -> float:
    """PSNR (dB) on the BT.601 luma Y (MMagic ``convert_to='Y'``, range [16, 235])."""
    _check_pair(sr, hr)
    return float(mmagic_psnr(sr, hr, crop_border=shave, convert_to='Y', channel_order='rgb'))


def ssim_rgb(sr: np.ndarray, hr: np.ndarray, shave: int = 0) -> float:
    """SSIM (11x11 Gaussian window, sigma 1.5) averaged over the RGB channels, in [-1, 1]."""
    _check_pair(sr, hr)
    return float(mmagic_ssim(sr, hr, crop_border=shave, channel_order='rgb'))


def fsim(sr: np.ndarray, hr: np.ndarray, shave: int = 0, chromatic: bool = False,
         device: str = 'cpu') -> float:
    """FSIM (``chromatic=False``, luminance) or FSIMc (``chromatic=True``) via ``piq.fsim``.

    Args:
        sr, hr: (H, W, 3) uint8 RGB images; passed to piq as (1, 3, H, W) float32 in [0, 1]
            (``data_range=1``; piq rescales to [0, 255], converts RGB to YIQ and uses Y for the
            luminance FSIM).
        shave: Pixels ignored on each border.
        chromatic: Include the I, Q chromatic similarity (FSIMc).
        device: Where piq runs (its phase congruency is FFT-heavy: ~0.1 s per 256 px image on
            a CPU core, far more than a GPU SR forward, so the cascade passes its SR device).

    Returns:
        float: Similarity, 1.0 for identical images.
    """
    _check_pair(sr, hr)
    x, y = piq_input(sr, shave, device), piq_input(hr, shave, device)
    with torch.no_grad():
        return float(piq.fsim(x, y, data_range=1., chromatic=chromatic))


def image_quality(sr: np.ndarray, hr: np.ndarray, shave: int = 0,
                  metrics: Sequence[str] = IQ_METRICS, device: str = 'cpu',
                  reference: Optional[ReferenceMaps] = None,
                  key: Optional[str] = None) -> Dict[str, float]:
    """The requested metrics of one SR/HR pair.

    Args:
        sr, hr: (H, W, 3) uint8 RGB images of the same size.
        shave: Pixels ignored on each border (``scale`` in the FDSR protocol).
        metrics: Names from :data:`IQ_METRICS`.
        device: Device of the FSIM computations (PSNR/SSIM are MMagic's NumPy functions).
        reference, key: A store of HR images' FSIM maps and the name of ``hr``'s content in it
            (a file name carrying a content hash), to reuse them across SR results.

    Returns:
        dict: ``{name: value}``.
    """
    unknown = set(metrics) - set(IQ_METRICS)
    if unknown:
        raise ValueError(f'Unknown image-quality metrics {sorted(unknown)}; '
                         f'choose from {IQ_METRICS}.')
    out = {}
    if 'fsim' in metrics or 'fsimc' in metrics:  # one pass gives both
        _check_pair(sr, hr)
        out['fsim'], out['fsimc'] = fsim_pair(sr, hr, shave, device, reference, key)
    funcs = dict(psnr=psnr_rgb, psnr_y=psnr_y, ssim=ssim_rgb)
    for name in metrics:
        if name not in out:
            out[name] = funcs[name](sr, hr, shave)
    return {name: out[name] for name in metrics}


def mean_metric(values: Iterable[float]) -> float:
    """Mean over images; ``inf`` if any value is ``inf`` (identical images), ``nan`` if empty."""
    values = list(values)
    if not values:
        return float('nan')
    if any(math.isinf(v) for v in values):
        return float('inf')
    return float(np.mean(values))
