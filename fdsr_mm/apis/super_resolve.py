"""Super-resolve whole uint8 images of any size with any MMagic SR generator, optionally tiled.

The tiling and its exactness rule (the generator's receptive field as pad) are those of
:mod:`fdsr_mm.models.generators.tiled_inference`, which works on RGB [0, 1] tensors.
"""
from typing import Optional

import numpy as np
import torch

from fdsr_mm.models.generators.tiled_inference import quantise, super_resolve_tensor


def super_resolve_image(generator: torch.nn.Module, img: np.ndarray, scale: int,
                        tile: Optional[int] = None, tile_pad: Optional[int] = None,
                        device: str = 'cpu', amp: Optional[str] = None) -> np.ndarray:
    """Super-resolve one uint8 image and quantise the result as a saved image would be.

    Args:
        img: (h, w, 3) uint8, RGB (or (h, w) grayscale, replicated to 3 channels).
        scale, tile, tile_pad, amp: see :func:`super_resolve_tensor`.
        device: Where to run the generator (the generator must already be there).

    Returns:
        np.ndarray: (h*scale, w*scale, 3) uint8, RGB; clamped to [0, 1] then rounded x255.
    """
    if img.dtype != np.uint8:
        raise TypeError(f'Expected a uint8 image, got {img.dtype}.')
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'Expected an (h, w, 3) RGB image, got shape {img.shape}.')
    lr = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float().div(255)
    sr = quantise(super_resolve_tensor(generator, lr.to(device), scale, tile, tile_pad, amp))
    return sr[0].permute(1, 2, 0).cpu().numpy()
