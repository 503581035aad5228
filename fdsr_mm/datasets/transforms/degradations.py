"""Degradations that make the LR image from the HR image, by name, seeded per (seed, file).

* ``bicubic`` (the FDSR paper's, default; cache tag ``bicubic-matlab``):
  :func:`~fdsr_mm.datasets.transforms.bicubic.bicubic_downsample`, MATLAB's antialiased cubic kernel
  (a = -0.5) x1/scale computed in float32 with ONE rounding to uint8 at the end (= MATLAB
  ``imresize`` of the image as double, then rounded, up to float32 precision); deterministic
  (no randomness).
* ``bicubic-matlab-uint8`` (cache tag ``bicubic-matlab-uint8``):
  :func:`~fdsr_mm.datasets.transforms.bicubic.bicubic_downsample_matlab_uint8`, exactly MATLAB
  ``imresize`` of the uint8 image: the same kernel, rows first, rounded and saturated to uint8
  between the two 1-D passes and at the end. Differs from ``bicubic`` by 1 grey level on a
  fraction of the pixels (about 10% of natural-image pixels at x4); deterministic.
* ``realistic``: a first-order chain in the spirit of Real-ESRGAN / BSRGAN, with milder ranges
  (see :func:`sample_realistic_params`): blur -> resize to exactly (H/scale, W/scale) -> noise ->
  8-bit rounding -> JPEG.

Every image's random parameters and noise come from a ``numpy.random.Generator`` seeded by
``sha256(f'{seed}:{key}')`` where ``key`` is the image file's base name
(:func:`degradation_key`): every method and every run sees the same LR image for a file, different
files (and seeds) get different draws. The same file name gives the same LR in the cascade and in
a :class:`Degradation` evaluation pipeline (bit-identical on the same software stack: cv2 resize,
filter and libjpeg are deterministic there).

Images are uint8 (H, W, 3) or (H, W), any channel order; ``channel_order`` only tells the JPEG
step which channel is blue (cv2's encoder expects BGR): an RGB image stays RGB either way, the
order only decides which colour gets the chroma weighting of a real JPEG.
"""
import hashlib
import os.path as osp
from dataclasses import dataclass
from typing import Callable, Dict, Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmagic.registry import TRANSFORMS

from fdsr_mm.datasets.transforms.bicubic import (bicubic_downsample,
                                                 bicubic_downsample_matlab_uint8,
                                                 check_hr_for_downsampling, set_lq_meta)


@dataclass(frozen=True)
class DegradationSpec:
    """A registered degradation.

    Args:
        name: Its name (``--degradation``, ``Degradation(name=...)``).
        fn: ``fn(img, scale, rng, channel_order) -> lr``: (H, W, C) uint8 -> (H/scale, W/scale,
            C) uint8, C in {1, 3}.
        cache_tag: The name in SR cache keys; change it when the operator's numbers change.
        seeded: Whether ``fn`` draws from ``rng`` (the cache key then names the seed).
    """
    name: str
    fn: Callable
    cache_tag: str
    seeded: bool


DEGRADATIONS: Dict[str, DegradationSpec] = {}


def register_degradation(name: str, cache_tag: str, seeded: bool = True):
    """Decorator: register ``fn(img, scale, rng, channel_order)`` under ``name``."""
    def wrap(fn):
        if name in DEGRADATIONS:
            raise KeyError(f'Degradation {name!r} is already registered.')
        DEGRADATIONS[name] = DegradationSpec(name, fn, cache_tag, seeded)
        return fn
    return wrap


def get_degradation(name: str) -> DegradationSpec:
    if name not in DEGRADATIONS:
        raise KeyError(f'Unknown degradation {name!r}: choose from {", ".join(DEGRADATIONS)}.')
    return DEGRADATIONS[name]


def degradation_key(path: str) -> str:
    """The per-file key of the randomness: the file's base name (``'000000397133.jpg'``)."""
    return osp.basename(path)


def results_key(results: dict, name: str, path_keys: Sequence[str], per_call_random: bool,
                owner: str) -> str:
    """A transform's per-image key (:func:`degradation_key`) of the degradation ``name``: ''
    for a deterministic one; else the base name of the first path of ``path_keys`` in
    ``results``, with ``per_call_random`` a fresh ``#<draw>`` appended (new draws every call).

    Raises:
        KeyError: a seeded degradation and none of ``path_keys`` in ``results`` (``owner``: the
            transform, named in the message).
    """
    if not get_degradation(name).seeded:
        return ''
    path = next((results[k] for k in path_keys if results.get(k) is not None), None)
    if path is None:
        raise KeyError(f'{owner} keys its randomness by the file name: the results have no '
                       + ' or '.join(repr(k) for k in path_keys) + '.')
    key = degradation_key(path)
    if per_call_random:
        key += f'#{np.random.randint(2**31 - 1)}'
    return key


def degradation_rng(seed: int, key: str) -> np.random.Generator:
    """The generator of one image: seeded by ``sha256(f'{seed}:{key}')`` (all 256 bits)."""
    digest = hashlib.sha256(f'{seed}:{key}'.encode()).digest()
    return np.random.default_rng(int.from_bytes(digest, 'big'))


@register_degradation('bicubic', cache_tag='bicubic-matlab', seeded=False)
def _bicubic(img: np.ndarray, scale: int, rng, channel_order: str) -> np.ndarray:
    """(H, W[, C]) uint8 -> (H/scale, W/scale[, C]) uint8: float32 MATLAB-kernel resize, one
    rounding (:func:`~fdsr_mm.datasets.transforms.bicubic.bicubic_downsample`)."""
    return bicubic_downsample(img, scale)


def sample_realistic_params(rng: np.random.Generator) -> dict:
    """Draw the parameters of one ``realistic`` degradation (ranges vs Real-ESRGAN's first order).

    * blur (always): isotropic Gaussian (p 0.5), sigma ~ U[0.2, 2.0] HR px, or anisotropic,
      sigma_x, sigma_y ~ U[0.2, 2.0], rotation ~ U[-pi, pi] (Real-ESRGAN: sigma [0.2, 3]);
      kernel side 2 * ceil(3 * max sigma) + 1 <= 13.
    * resize to (H/scale, W/scale): bicubic, bilinear or area, each p 1/3.
    * noise: Gaussian (p 0.5), sigma ~ U[1, 15] (of 255; Real-ESRGAN [1, 30]), or Poisson,
      scale ~ U[0.05, 1.5] (Real-ESRGAN [0.05, 3]); the same noise on every channel (gray) with
      p 0.4.
    * JPEG quality ~ U{50, ..., 95} (Real-ESRGAN [30, 95]).

    ``sample_realistic_params(degradation_rng(seed, key))`` are the parameters
    :func:`degrade` uses for that file (they are its generator's first draws).
    """
    p = dict(isotropic=bool(rng.random() < 0.5))
    if p['isotropic']:
        p['sigma_x'] = p['sigma_y'] = float(rng.uniform(0.2, 2.0))
        p['theta'] = 0.0
    else:
        p['sigma_x'], p['sigma_y'] = (float(v) for v in rng.uniform(0.2, 2.0, size=2))
        p['theta'] = float(rng.uniform(-np.pi, np.pi))
    p['resize'] = ('bicubic', 'bilinear', 'area')[int(rng.integers(3))]
    p['noise'] = 'gaussian' if rng.random() < 0.5 else 'poisson'
    p['noise_level'] = float(rng.uniform(1, 15) if p['noise'] == 'gaussian'
                             else rng.uniform(0.05, 1.5))
    p['gray_noise'] = bool(rng.random() < 0.4)
    p['jpeg_quality'] = int(rng.integers(50, 96))
    return p


def gaussian_kernel(sigma_x: float, sigma_y: float, theta: float) -> np.ndarray:
    """(k, k) float32 (an)isotropic Gaussian kernel summing to 1, rotated by ``theta``."""
    half = int(np.ceil(3 * max(sigma_x, sigma_y)))
    ax = np.arange(-half, half + 1, dtype=np.float64)
    xx, yy = np.meshgrid(ax, ax)
    c, s = np.cos(theta), np.sin(theta)
    u, v = c * xx + s * yy, -s * xx + c * yy  # coordinates along the kernel's axes
    k = np.exp(-0.5 * ((u / sigma_x) ** 2 + (v / sigma_y) ** 2))
    return (k / k.sum()).astype(np.float32)


_RESIZE = dict(bicubic=cv2.INTER_CUBIC, bilinear=cv2.INTER_LINEAR, area=cv2.INTER_AREA)


def _add_noise(x: np.ndarray, p: dict, rng: np.random.Generator) -> np.ndarray:
    """x: (h, w, C) float32 in [0, 255] -> noisy, same shape (unclipped)."""
    shape = x.shape[:2] + (1, ) if p['gray_noise'] else x.shape
    if p['noise'] == 'gaussian':
        return x + rng.normal(0.0, p['noise_level'], shape).astype(np.float32)
    # Poisson (shot) noise of an 8-bit signal: photon counts x (255 counts at white)
    base = x.mean(axis=2, keepdims=True) if p['gray_noise'] else x
    shot = rng.poisson(np.clip(base, 0, 255)).astype(np.float32) - np.clip(base, 0, 255)
    return x + shot * p['noise_level']


def jpeg_compress(img: np.ndarray, quality: int, channel_order: str = 'rgb') -> np.ndarray:
    """JPEG encode + decode with cv2: (H, W, 3) or (H, W, 1) uint8, channel order kept."""
    bgr = img[..., ::-1] if img.shape[2] == 3 and channel_order == 'rgb' else img
    ok, buf = cv2.imencode('.jpg', np.ascontiguousarray(bgr), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError('cv2.imencode could not encode the image as JPEG.')
    flag = cv2.IMREAD_COLOR if img.shape[2] == 3 else cv2.IMREAD_GRAYSCALE
    out = cv2.imdecode(buf, flag).reshape(img.shape)
    return np.ascontiguousarray(out[..., ::-1]) if bgr is not img else out


@register_degradation('realistic', cache_tag='realistic-v1')
def realistic_degradation(img: np.ndarray, scale: int, rng: np.random.Generator,
                          channel_order: str = 'rgb') -> np.ndarray:
    """Blur, resize, noise, JPEG (:func:`sample_realistic_params`).

    Args:
        img: (H, W, C) uint8, C in {1, 3}; H, W multiples of ``scale``.
        rng: The image's generator (:func:`degradation_rng`).
        channel_order: 'rgb' or 'bgr' (for the JPEG step only).

    Returns:
        (H/scale, W/scale, C) uint8.
    """
    p = sample_realistic_params(rng)
    h, w, c = img.shape
    x = cv2.filter2D(img.astype(np.float32), -1,
                     gaussian_kernel(p['sigma_x'], p['sigma_y'], p['theta']),
                     borderType=cv2.BORDER_REFLECT_101).reshape(h, w, c)
    x = cv2.resize(x, (w // scale, h // scale), interpolation=_RESIZE[p['resize']])
    x = _add_noise(x.reshape(h // scale, w // scale, c), p, rng)
    lr = np.clip(np.round(x), 0, 255).astype(np.uint8)
    return jpeg_compress(lr, p['jpeg_quality'], channel_order)


@register_degradation('bicubic-matlab-uint8', cache_tag='bicubic-matlab-uint8', seeded=False)
def _bicubic_matlab_uint8(img: np.ndarray, scale: int, rng, channel_order: str) -> np.ndarray:
    """(H, W[, C]) uint8 -> (H/scale, W/scale[, C]) uint8: MATLAB ``imresize`` on uint8, rounded
    between the passes
    (:func:`~fdsr_mm.datasets.transforms.bicubic.bicubic_downsample_matlab_uint8`)."""
    return bicubic_downsample_matlab_uint8(img, scale)


def degrade(img: np.ndarray, scale: int, name: str = 'bicubic', seed: int = 0, key: str = '',
            channel_order: str = 'rgb', rng: np.random.Generator = None) -> np.ndarray:
    """Make the LR image of one HR image with the degradation ``name``.

    Args:
        img: (H, W, 3) or (H, W) uint8 in [0, 255], any channel order; H and W multiples of
            ``scale`` (mod-crop first).
        scale: Integer downsampling factor.
        name: A registered degradation (``DEGRADATIONS``): 'bicubic', 'realistic' or
            'bicubic-matlab-uint8'.
        seed, key: Seed and per-file key (:func:`degradation_key`) of the image's generator.
        channel_order: 'rgb' or 'bgr', the order of ``img`` (used by JPEG only).
        rng: A generator to draw from instead of ``(seed, key)``'s.

    Returns:
        np.ndarray: (H/scale, W/scale[, 3]) uint8 in [0, 255], same channel order.
    """
    spec = get_degradation(name)
    check_hr_for_downsampling(img, scale, 'degrade')
    if channel_order not in ('rgb', 'bgr'):
        raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}.")
    if not spec.seeded:
        return spec.fn(img, scale, None, channel_order)
    rng = rng if rng is not None else degradation_rng(seed, key)
    lr = spec.fn(img.reshape(img.shape[0], img.shape[1], -1), scale, rng, channel_order)
    return lr.reshape(lr.shape[:2] + img.shape[2:])


@TRANSFORMS.register_module()
class Degradation(BaseTransform):
    """Make the LR input from the HR target with a registered degradation (any ``name``).

    Required keys: ``gt_key`` ((H, W, 3) uint8, H and W multiples of ``scale``) and, unless
    ``name`` is deterministic, ``{gt_key}_path`` (or ``img_path``): its base name keys the draws.
    Added keys: ``lq_key`` ((H/scale, W/scale, 3) uint8, same channel order), ``scale``, and
    ``{lq_key}_channel_order`` / ``{lq_key}_color_type`` copied from the HR image's (as
    :class:`~fdsr_mm.datasets.BicubicDegradation`). ``{gt_key}_channel_order`` (default 'bgr',
    MMagic's) tells the JPEG step the order.

    Args:
        scale (int): Downsampling factor.
        name (str): A registered degradation ('bicubic', 'realistic', 'bicubic-matlab-uint8').
            Default: 'realistic'.
        seed (int): Seed of the per-file generators. Default: 0.
        per_call_random (bool): False (evaluation): the draws depend on (seed, file) only, so
            every run and the cascade see the same LR image of a file. True (training): every
            call also draws a number from numpy's global generator (seeded per dataloader worker
            by mmengine from ``randomness.seed``), so each crop of a file gets fresh blur, noise
            and JPEG parameters every epoch. Default: False.
        gt_key (str): Key of the HR image. Default: 'gt'.
        lq_key (str): Key the LR image is written to. Default: 'img'.
    """

    def __init__(self, scale: int = 4, name: str = 'realistic', seed: int = 0,
                 per_call_random: bool = False, gt_key: str = 'gt', lq_key: str = 'img'):
        get_degradation(name)
        self.scale, self.name, self.seed = scale, name, seed
        self.per_call_random = per_call_random
        self.gt_key, self.lq_key = gt_key, lq_key

    def transform(self, results: dict) -> dict:
        order = results.get(f'{self.gt_key}_channel_order', 'bgr')
        key = results_key(results, self.name, (f'{self.gt_key}_path', 'img_path'),
                          self.per_call_random, f'Degradation({self.name!r})')
        results[self.lq_key] = degrade(results[self.gt_key], self.scale, self.name, self.seed,
                                       key, channel_order=order)
        return set_lq_meta(results, self.scale, self.gt_key, self.lq_key)

    def __repr__(self):
        return (f'{self.__class__.__name__}(scale={self.scale}, name={self.name!r}, '
                f'seed={self.seed}, per_call_random={self.per_call_random}, '
                f'gt_key={self.gt_key!r}, lq_key={self.lq_key!r})')
