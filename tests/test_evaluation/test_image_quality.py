"""Image-quality metrics: PSNR (RGB, Y) with shave, SSIM, FSIM/FSIMc agree with their definitions."""
import math

import numpy as np
import piq
import pytest
import torch

from fdsr_mm.evaluation import fsim, image_quality, mean_metric, psnr_rgb, psnr_y, ssim_rgb


@pytest.fixture(scope='module')
def pair():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:48, 0:56]
    hr = np.stack([(xx * 4) % 256, (yy * 5) % 256, (xx + yy) * 2 % 256], -1).astype(np.uint8)
    noise = rng.integers(-12, 13, hr.shape)
    sr = np.clip(hr.astype(int) + noise, 0, 255).astype(np.uint8)
    return sr, hr


def test_identical_images_are_perfect(pair):
    _, hr = pair
    out = image_quality(hr, hr.copy(), shave=4)
    assert math.isinf(out['psnr']) and math.isinf(out['psnr_y'])
    assert out['ssim'] == pytest.approx(1.0)
    assert out['fsim'] == pytest.approx(1.0) and out['fsimc'] == pytest.approx(1.0)
    assert math.isinf(mean_metric([30.0, float('inf')]))
    assert mean_metric([30.0, 32.0]) == 31.0 and math.isnan(mean_metric([]))


def test_psnr_rgb_and_y_match_the_definition(pair):
    sr, hr = pair
    s = 4
    a, b = sr[s:-s, s:-s].astype(np.float64), hr[s:-s, s:-s].astype(np.float64)
    expected = 10 * np.log10(255 ** 2 / np.mean((a - b) ** 2))
    assert psnr_rgb(sr, hr, shave=s) == pytest.approx(expected, abs=1e-4)

    def luma(img):  # ITU-R BT.601, [16, 235] (MATLAB rgb2ycbcr)
        return 16 + (65.481 * img[..., 0] + 128.553 * img[..., 1] + 24.966 * img[..., 2]) / 255
    ya, yb = luma(a), luma(b)
    expected_y = 10 * np.log10(255 ** 2 / np.mean((ya - yb) ** 2))
    assert psnr_y(sr, hr, shave=s) == pytest.approx(expected_y, abs=1e-3)
    # the shave matters: corrupt only the border and PSNR with shave is unchanged
    sr2 = sr.copy()
    sr2[:s] = 0
    assert psnr_rgb(sr2, hr, shave=s) == pytest.approx(psnr_rgb(sr, hr, shave=s))
    assert psnr_rgb(sr2, hr, shave=0) < psnr_rgb(sr, hr, shave=0)


def test_fsim_matches_piq_on_a_known_pair(pair):
    sr, hr = pair
    s = 2
    x = torch.from_numpy(sr[s:-s, s:-s].copy()).permute(2, 0, 1)[None].float() / 255
    y = torch.from_numpy(hr[s:-s, s:-s].copy()).permute(2, 0, 1)[None].float() / 255
    for chromatic, ours in ((False, fsim(sr, hr, s, chromatic=False)),
                            (True, fsim(sr, hr, s, chromatic=True))):
        ref = float(piq.fsim(x, y, data_range=1.0, chromatic=chromatic))
        assert ours == pytest.approx(ref, abs=1e-5)
        assert 0.5 < ours < 1.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_fsim_on_the_gpu_equals_the_cpu(pair):
    sr, hr = pair
    for chromatic in (False, True):
        assert fsim(sr, hr, 2, chromatic, device='cuda') == pytest.approx(
            fsim(sr, hr, 2, chromatic, device='cpu'), abs=1e-5)
    assert image_quality(sr, hr, 2, ['fsimc'], device='cuda')['fsimc'] == pytest.approx(
        fsim(sr, hr, 2, True), abs=1e-5)


def test_ssim_orders_degradations(pair):
    sr, hr = pair
    worse = np.clip(hr.astype(int) + np.random.default_rng(1).integers(-60, 61, hr.shape), 0,
                    255).astype(np.uint8)
    assert 1.0 > ssim_rgb(sr, hr, 4) > ssim_rgb(worse, hr, 4)


def test_bad_inputs_raise(pair):
    sr, hr = pair
    with pytest.raises(ValueError, match='differ in size'):
        psnr_rgb(sr[:-4], hr)
    with pytest.raises(ValueError, match='uint8'):
        psnr_rgb(sr.astype(np.float32), hr)
    with pytest.raises(ValueError, match='Unknown'):
        image_quality(sr, hr, metrics=['lpips'])
