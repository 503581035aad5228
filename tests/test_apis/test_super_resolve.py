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


# Issue 18 item 5: the tile pad is derived from the generator, so tiled == whole-image output.
@pytest.mark.parametrize('scale, num_stages, residual, dense', [
    (4, 7, False, True),  # D-DBPN x4's geometry (channels do not change the field): 21 LR px
    (4, 2, True, True), (2, 3, False, True), (8, 2, False, True), (4, 3, False, False)])
def test_dbpn_receptive_field_is_what_a_measurement_finds(scale, num_stages, residual, dense):
    from fdsr_mm.models.generators.tiled_inference import measure_receptive_field
    torch.manual_seed(0)
    net = DBPN(mid_channels=4, base_channels=2, num_stages=num_stages, scale=scale,
               bicubic_residual=residual, dense=dense).eval()
    assert measure_receptive_field(net, scale, max_radius=24) == net.receptive_field
    if (scale, num_stages) == (4, 7):
        assert net.receptive_field == 21  # > the old default tile_pad of 16


def test_default_pad_is_the_field_and_makes_tiles_exact():
    """D-DBPN x4's geometry (T=7, field 21 > the former default pad 16) with tiny channels
    (variance-preserving init, outputs ~1): tiled with the default pad equals the whole image
    to float rounding, at seams on both axes and odd sizes."""
    from fdsr_mm.models.generators.tiled_inference import default_tile_pad
    torch.manual_seed(0)
    net = DBPN(mid_channels=8, base_channels=4, num_stages=7, scale=4).eval()
    for m in net.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            torch.nn.init.kaiming_normal_(m.weight)
    assert default_tile_pad(net) == 21
    lr = torch.rand(1, 3, 53, 47)
    whole = super_resolve_tensor(net, lr, scale=4)
    assert whole.abs().max() > 0.5
    tiled = super_resolve_tensor(net, lr, scale=4, tile=10)
    torch.testing.assert_close(tiled, whole, rtol=0, atol=1e-6)


class _GlobalMean(torch.nn.Module):
    """RCAN-like: every output pixel sees the image mean (channel attention's pooling)."""

    def forward(self, x):
        up = torch.nn.functional.interpolate(x, scale_factor=4, mode='nearest')
        return up + x.mean(dim=(2, 3), keepdim=True)


def test_generator_without_a_field_uses_pad_16_and_a_global_one_measures_unbounded():
    from fdsr_mm.models.generators.tiled_inference import (DEFAULT_TILE_PAD,
                                                           declared_receptive_field,
                                                           default_tile_pad,
                                                           measure_receptive_field)
    net = _GlobalMean()
    assert declared_receptive_field(net) is None and default_tile_pad(net) == DEFAULT_TILE_PAD
    assert measure_receptive_field(net, 4, max_radius=8) is None  # no pad makes tiles exact
    nearest = torch.nn.Upsample(scale_factor=4, mode='nearest')
    assert measure_receptive_field(nearest, 4, max_radius=8) == 0


def test_amp_runs_the_generator_in_bfloat16_and_returns_float32_close_to_it(tiny_dbpn):
    lr = torch.rand(1, 3, 21, 17)
    seen = []
    hook = tiny_dbpn.feat0.conv.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    try:
        fp32 = super_resolve_tensor(tiny_dbpn, lr, scale=4)
        bf16 = super_resolve_tensor(tiny_dbpn, lr, scale=4, amp='bfloat16')
        tiled = super_resolve_tensor(tiny_dbpn, lr, scale=4, tile=8, amp='bfloat16')
    finally:
        hook.remove()
    assert seen[0] == torch.float32 and set(seen[1:]) == {torch.bfloat16}
    assert bf16.dtype == tiled.dtype == torch.float32 and bf16.shape == fp32.shape
    assert 0 < (bf16 - fp32).abs().max() < 0.05  # bfloat16's 8-bit mantissa, not another net
    assert (tiled - fp32).abs().max() < 0.05
    with pytest.raises(ValueError, match='amp must be None or one of'):
        super_resolve_tensor(tiny_dbpn, lr, scale=4, amp='float8')


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_float16_and_bfloat16_sr_on_the_gpu_are_close_to_float32(tiny_dbpn):
    net = tiny_dbpn.cuda()
    lr = torch.rand(1, 3, 21, 17, device='cuda')
    try:
        fp32 = super_resolve_tensor(net, lr, scale=4)
        for amp in ('float16', 'bfloat16'):
            out = super_resolve_tensor(net, lr, scale=4, amp=amp)
            assert out.dtype == torch.float32 and (out - fp32).abs().max() < 0.05, amp
    finally:
        net.cpu()
