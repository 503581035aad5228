"""Whole-image and tiled SR inference: shapes for odd sizes, tiled == untiled, value range."""
import numpy as np
import pytest
import torch

from fdsr_mm.apis import super_resolve_image, super_resolve_tensor
from fdsr_mm.models import DBPN


@pytest.fixture(scope='module')
def tiny_dbpn():
    torch.manual_seed(0)
    return DBPN(mid_channels=16, base_channels=8, num_stages=2, scale=4).eval()


def test_tiled_output_equals_untiled_when_pad_covers_receptive_field(tiny_dbpn):
    lr = torch.rand(1, 3, 37, 29)  # sizes divisible by nothing
    whole = super_resolve_tensor(tiny_dbpn, lr, scale=4)
    tiled = super_resolve_tensor(tiny_dbpn, lr, scale=4, tile=12, tile_pad=12)
    assert whole.shape == tiled.shape == (1, 3, 148, 116)
    # Same inputs per output pixel; only float summation order differs.
    torch.testing.assert_close(tiled, whole, rtol=0, atol=1e-5)


def test_small_pad_differs_only_near_seams(tiny_dbpn):
    lr = torch.rand(1, 3, 24, 24)
    whole = super_resolve_tensor(tiny_dbpn, lr, scale=4)
    tiled = super_resolve_tensor(tiny_dbpn, lr, scale=4, tile=12, tile_pad=1)
    diff = (tiled - whole).abs()
    assert diff.max() > 1e-4  # the receptive field is larger than 1 LR pixel
    # Far from the seam (rows/cols 48 in HR), tiling changes nothing.
    torch.testing.assert_close(tiled[..., :24, :24], whole[..., :24, :24], rtol=0, atol=1e-5)


def test_super_resolve_image_uint8_rgb_in_and_out(tiny_dbpn):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
    sr = super_resolve_image(tiny_dbpn, img, scale=4)
    assert sr.shape == (36, 28, 3) and sr.dtype == np.uint8
    with torch.no_grad():
        ref = tiny_dbpn(torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255)
    expected = ref.clamp(0, 1).mul(255).round()[0].permute(1, 2, 0).numpy().astype(np.uint8)
    np.testing.assert_array_equal(sr, expected)
    gray = super_resolve_image(tiny_dbpn, img[..., 0], scale=4)
    assert gray.shape == (36, 28, 3)


def test_wrong_scale_is_reported(tiny_dbpn):
    with pytest.raises(ValueError, match='check the scale'):
        super_resolve_tensor(tiny_dbpn, torch.rand(1, 3, 8, 8), scale=2)
