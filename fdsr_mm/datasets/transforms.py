"""The SR degradation shared by training and evaluation: MATLAB-like bicubic x1/scale.

SR papers (DBPN, EDSR, RCAN, FDSR) make LR images with MATLAB's ``imresize(HR, 1/scale,
'bicubic')`` (antialiased bicubic) and save them as 8-bit images. :func:`bicubic_downsample`
reproduces that with MMagic's MATLAB-like resize, then rounds and clips to uint8 exactly as a saved
LR image would be (MMagic's ``MATLABLikeResize`` returns unclipped float64 instead).
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
    """MATLAB-like antialiased bicubic downsampling by an integer factor.

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
