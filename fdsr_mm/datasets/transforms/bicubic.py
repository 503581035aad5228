"""The SR degradation shared by training and evaluation: MATLAB-like bicubic x1/scale.

SR papers (DBPN, EDSR, RCAN, FDSR) make LR images with MATLAB's ``imresize(HR, 1/scale,
'bicubic')`` (antialiased bicubic) and save them as 8-bit images. Two operators:

* :func:`bicubic_downsample` (the ``bicubic`` degradation, the project's numbers): MATLAB's
  antialiased cubic kernel (Keys, a = -0.5, widened by ``scale``), applied along rows then
  columns in single precision (MMagic's ``MATLABLikeResize``: float32 weights, products and
  sums, float32 intermediate), with ONE rounding (half to even) and clip to uint8 at the end.
  This is ``imresize`` on a *double* image, rounded once, up to float32 precision (within
  4e-5 of it: only an exact value within that of a .5 boundary, e.g. a tie in a two-tone flat
  region, may round the other way).
* :func:`bicubic_downsample_matlab_uint8` (the ``bicubic-matlab-uint8`` degradation): exactly
  what ``imresize`` does on a *uint8* image: the same weights, but the result of the first 1-D
  pass is stored as uint8 (rounded half away from zero, saturated to [0, 255]) before the
  second pass. The two differ by 1 grey level on a fraction of the LR pixels (about 10% of
  natural-image pixels at x4), never by more.
"""
import numpy as np
from mmcv.transforms import BaseTransform

from mmagic.datasets.transforms import MATLABLikeResize
from mmagic.registry import TRANSFORMS


def check_hr_for_downsampling(img: np.ndarray, scale: int, who: str) -> None:
    """Raise unless ``img`` is uint8 with H and W multiples of ``scale`` (``who`` is named)."""
    if img.dtype != np.uint8:
        raise TypeError(f'{who} expects a uint8 image, got {img.dtype}.')
    h, w = img.shape[:2]
    if h % scale or w % scale:
        raise ValueError(f'Image size {h}x{w} is not a multiple of the scale {scale}: mod-crop it '
                         'first (mmagic ModCrop, or a crop size that is a multiple of the scale).')


def bicubic_downsample(img: np.ndarray, scale: int) -> np.ndarray:
    """MATLAB-like antialiased bicubic downsampling by an integer factor, rounded once.

    What it computes: MATLAB's antialiased cubic kernel (a = -0.5, width ``4 * scale`` HR
    pixels, mirrored borders; MMagic's ``MATLABLikeResize``) along rows then columns, in
    float32 (weights, products, sums and the intermediate image), then ONE rounding (half to
    even) and clip to uint8. This equals MATLAB's ``imresize`` of ``double(img)`` rounded to
    uint8, up to float32 precision (the unrounded values agree to 4e-5; an exact value within
    that of a .5 boundary may round the other way). MATLAB's ``imresize`` of the uint8 image
    itself also rounds between the two passes and differs by 1 on some pixels: that operator
    is :func:`bicubic_downsample_matlab_uint8`.

    Args:
        img: (H, W, C) or (H, W) uint8, any channel order (channels are independent); H and W
            must be multiples of ``scale`` (mod-crop first).
        scale: Integer downsampling factor.

    Returns:
        np.ndarray: (H/scale, W/scale[, C]) uint8, rounded and clipped to [0, 255].
    """
    check_hr_for_downsampling(img, scale, 'bicubic_downsample')
    resized = MATLABLikeResize(keys=['img'], scale=1 / scale).transform(
        dict(img=img.astype(np.float32)))['img']
    if img.ndim == 2:
        resized = resized[..., 0]
    return np.clip(np.round(resized), 0, 255).astype(np.uint8)


def matlab_cubic(x: np.ndarray) -> np.ndarray:
    """MATLAB's ``cubic`` kernel (Keys 1981, a = -0.5): float64, same shape, zero for |x| > 2."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    inner = (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
    outer = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return inner + outer


def matlab_contributions(in_length: int, out_length: int, scale: float):
    """The weights and input indices of MATLAB ``imresize``'s antialiased cubic resize of one axis.

    MATLAB's ``contributions``: output pixel k (1-based) sits at input coordinate
    ``u = k / scale + 0.5 * (1 - 1 / scale)``; for ``scale < 1`` the kernel is
    ``scale * cubic(scale * x)`` of width ``4 / scale``; the weights of each output pixel are
    normalised to sum to 1 (summed left to right); indices outside the axis are mirrored
    (symmetric padding, ``[1..L, L..1]``); all-zero weight columns are dropped.

    Returns:
        tuple: ``weights`` (out_length, P) float64 and ``indices`` (out_length, P) int64,
        0-based input indices.
    """
    width = 4.0 / scale if scale < 1 else 4.0
    k = np.arange(1, out_length + 1, dtype=np.float64)
    u = k / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    taps = int(np.ceil(width)) + 2
    indices = left[:, None] + np.arange(taps)[None, :]  # 1-based, may be outside [1, L]
    dist = u[:, None] - indices
    weights = scale * matlab_cubic(scale * dist) if scale < 1 else matlab_cubic(dist)
    total = weights[:, 0].copy()
    for p in range(1, taps):  # sequential sum (fixed order, as a plain loop)
        total += weights[:, p]
    weights = weights / total[:, None]
    mirror = np.concatenate([np.arange(in_length), np.arange(in_length - 1, -1, -1)])
    indices = mirror[np.mod(indices.astype(np.int64) - 1, 2 * in_length)]
    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], indices[:, keep]


def _resize_axis_to_uint8(img: np.ndarray, axis: int, scale: float) -> np.ndarray:
    """One 1-D pass of MATLAB's imresize on uint8: (..) uint8 -> uint8, ``axis`` scaled.

    Each output value is the weighted sum of its taps accumulated in float64 left to right,
    then stored as MATLAB stores a double in a uint8 array: saturated to [0, 255] and rounded
    half away from zero.
    """
    length = img.shape[axis]
    out_length = int(np.ceil(length * scale))
    weights, indices = matlab_contributions(length, out_length, scale)
    x = np.moveaxis(img, axis, 0).astype(np.float64)
    acc = np.zeros((out_length, ) + x.shape[1:], np.float64)
    extra = (1, ) * (x.ndim - 1)
    for p in range(weights.shape[1]):
        acc += weights[:, p].reshape((-1, ) + extra) * x[indices[:, p]]
    out = np.floor(np.clip(acc, 0, 255) + 0.5).astype(np.uint8)
    return np.moveaxis(out, 0, axis)


def bicubic_downsample_matlab_uint8(img: np.ndarray, scale: int) -> np.ndarray:
    """MATLAB ``imresize(img, 1/scale)`` (bicubic, antialiased) on a uint8 image, bit-exactly.

    The rows (dimension 1) are resized first, then the columns (MATLAB resizes the dimension
    with the smaller scale factor first; for equal factors its stable sort keeps rows first);
    the intermediate image is uint8, i.e. rounded half away from zero and saturated between the
    two passes, as is the result. Weights: :func:`matlab_contributions`. (Sums that fall within
    a few ulps of a .5 boundary may round differently from MATLAB's own summation order.)

    Args:
        img: (H, W, C) or (H, W) uint8 in [0, 255], any channel order (channels are
            independent); H and W multiples of ``scale``.
        scale: Integer downsampling factor.

    Returns:
        np.ndarray: (H/scale, W/scale[, C]) uint8 in [0, 255], same channel order.
    """
    check_hr_for_downsampling(img, scale, 'bicubic_downsample_matlab_uint8')
    rows_done = _resize_axis_to_uint8(img, 0, 1 / scale)
    return _resize_axis_to_uint8(rows_done, 1, 1 / scale)


def bicubic_upsample(img: np.ndarray, scale: int) -> np.ndarray:
    """MATLAB-like bicubic upsampling by an integer factor: the cascade's ``bicubic`` method.

    MMagic's ``MATLABLikeResize`` (the cubic kernel of :func:`bicubic_downsample`, no
    antialiasing widening when enlarging) on the image as float32, then rounded (half to even)
    and clipped to uint8.

    Args:
        img: (h, w, C) or (h, w) uint8, any channel order.
        scale: Integer upsampling factor.

    Returns:
        np.ndarray: (h*scale, w*scale[, C]) uint8 in [0, 255], same channel order.
    """
    if img.dtype != np.uint8:
        raise TypeError(f'bicubic_upsample expects a uint8 image, got {img.dtype}.')
    up = MATLABLikeResize(keys=['img'], scale=scale).transform(
        dict(img=img.astype(np.float32)))['img']
    if img.ndim == 2 and up.ndim == 3:
        up = up[..., 0]
    return np.clip(np.round(up), 0, 255).astype(np.uint8)


def set_lq_meta(results: dict, scale: int, gt_key: str, lq_key: str) -> dict:
    """After writing ``results[lq_key]``: set ``scale`` and copy the HR image's
    ``{gt_key}_channel_order`` / ``{gt_key}_color_type`` to the LR image's keys (MMagic's
    DataPreprocessor reads them to put outputs in the channel order of ``gt_img``)."""
    results['scale'] = scale
    for meta in ('channel_order', 'color_type'):
        if f'{gt_key}_{meta}' in results:
            results[f'{lq_key}_{meta}'] = results[f'{gt_key}_{meta}']
    return results


@TRANSFORMS.register_module()
class BicubicDegradation(BaseTransform):
    """Make the LR input from the HR target on the fly: ``lq_key = bicubic_downsample(gt_key)``.

    Required keys: ``gt_key`` ((H, W, 3) uint8, H and W multiples of ``scale``).
    Added keys: ``lq_key`` ((H/scale, W/scale, 3) uint8, same channel order), ``scale``, and the
    LR image's ``{lq_key}_channel_order`` / ``{lq_key}_color_type`` copied from the HR image's.
    MMagic's DataPreprocessor reads the latter to put the SR output in the same channel order as
    ``gt_img`` before metrics (without them it assumes BGR and PSNR compares swapped channels).

    Args:
        scale (int): Downsampling factor (4 in the FDSR paper).
        gt_key (str): Key of the HR image. Default: 'gt'.
        lq_key (str): Key the LR image is written to. Default: 'img'.
    """

    def __init__(self, scale: int = 4, gt_key: str = 'gt', lq_key: str = 'img'):
        self.scale = scale
        self.gt_key = gt_key
        self.lq_key = lq_key

    def transform(self, results: dict) -> dict:
        results[self.lq_key] = bicubic_downsample(results[self.gt_key], self.scale)
        return set_lq_meta(results, self.scale, self.gt_key, self.lq_key)

    def __repr__(self):
        return (f'{self.__class__.__name__}(scale={self.scale}, gt_key={self.gt_key!r}, '
                f'lq_key={self.lq_key!r})')
