"""Cross-quality patch mix (CQMix, SR4IR, Kim et al., CVPR 2024): an image whose cells come from
the SR or the HR image, for training the detector on both qualities at once. Boxes are unchanged
(both images show the same scene at the same size)."""
import torch
import torch.nn.functional as F


def cqmix_mask(num: int, size: tuple, grid: int = 8, p: float = 0.5,
               device=None) -> torch.Tensor:
    """A ``grid x grid`` field of Bernoulli(``p``) cells per image, stretched to ``size``.

    Args:
        num (int): Images in the batch.
        size (tuple): (H, W) of the images; cell (i, j) covers the pixels that nearest-neighbour
            resizing from ``grid x grid`` maps to it (equal cells when H, W divide by ``grid``).
        grid (int): Cells per side (SR4IR: 8).
        p (float): Probability that a cell takes the SR image (SR4IR: 0.5).
        device: Of the mask. Draws from torch's global generator on that device.

    Returns:
        Tensor: (num, 1, H, W) float, 1 where the SR pixel is taken, 0 for the HR pixel.
    """
    cells = torch.empty(num, 1, grid, grid, device=device).bernoulli_(p)
    return F.interpolate(cells, size=tuple(size), mode='nearest')


def cross_quality_mix(sr: torch.Tensor, hr: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``sr`` where ``mask`` is 1, ``hr`` where it is 0; (N, C, H, W) each, same value range."""
    if sr.shape != hr.shape:
        raise ValueError(f'CQMix: SR {tuple(sr.shape)} and HR {tuple(hr.shape)} differ in shape.')
    return sr * mask + hr * (1 - mask)
