"""Image-quality metrics: PSNR (RGB, Y) with shave, SSIM, FSIM/FSIMc agree with their definitions."""
import math

import numpy as np
import piq
import pytest
import torch

from fdsr_mm.evaluation import (ReferenceMaps, fsim, fsim_pair, image_quality, mean_metric, psnr_rgb,
                               psnr_y, ssim_rgb)


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


@pytest.mark.parametrize('size', [(48, 56), (300, 260), (530, 610)])
def test_fsim_and_fsimc_in_one_pass_equal_two_piq_calls_bit_for_bit(size):
    """One phase congruency pass per image gives exactly piq's two numbers, also where piq
    average-pools (>= 384 px: kernel 2) and on odd sizes."""
    rng = np.random.default_rng(size[0])
    hr = rng.integers(0, 256, size + (3, ), dtype=np.uint8)
    sr = np.clip(hr.astype(int) + rng.integers(-25, 26, hr.shape), 0, 255).astype(np.uint8)
    for s in (0, 4):
        x = torch.from_numpy(sr[s:sr.shape[0] - s, s:sr.shape[1] - s].copy()).permute(
            2, 0, 1)[None].float() / 255
        y = torch.from_numpy(hr[s:hr.shape[0] - s, s:hr.shape[1] - s].copy()).permute(
            2, 0, 1)[None].float() / 255
        ref = [float(piq.fsim(x, y, data_range=1.0, chromatic=c)) for c in (False, True)]
        assert fsim_pair(sr, hr, s) == tuple(ref)
        both = image_quality(sr, hr, s, ['fsimc', 'psnr', 'fsim'])
        assert list(both) == ['fsimc', 'psnr', 'fsim']  # the order asked
        assert (both['fsim'], both['fsimc']) == tuple(ref)
        assert both['fsimc'] != both['fsim']  # the chroma term counts
        assert image_quality(sr, hr, s, ['fsimc'])['fsimc'] == ref[1]
    assert fsim_pair(hr, hr.copy(), 4) == (1.0, 1.0)


def test_reference_maps_are_reused_and_give_the_same_numbers():
    """The cascade scores several SR results against one HR image: its maps are computed once
    (within the memory budget) and every number equals a fresh computation."""
    rng = np.random.default_rng(3)
    hrs = [rng.integers(0, 256, (40, 48, 3), dtype=np.uint8) for _ in range(3)]
    srs = [np.clip(h.astype(int) + rng.integers(-30, 31, h.shape), 0, 255).astype(np.uint8)
           for h in hrs]
    ref = ReferenceMaps()
    for method in range(2):
        for i, (sr, hr) in enumerate(zip(srs, hrs)):
            sr = np.roll(sr, method, axis=1)
            got = image_quality(sr, hr, 2, ['fsim', 'fsimc'], reference=ref, key=f'{i}.png')
            assert (got['fsim'], got['fsimc']) == fsim_pair(sr, hr, 2)
    assert len(ref) == 3 and ref.bytes == 3 * 5 * 36 * 44 * 4  # YIQ, PC, gradient; float32
    small = ReferenceMaps(max_bytes=ref.bytes // 3)
    for i, (sr, hr) in enumerate(zip(srs, hrs)):  # only what fits is kept; numbers unchanged
        assert fsim_pair(sr, hr, 2, reference=small, key=f'{i}.png') == fsim_pair(sr, hr, 2)
    assert len(small) == 1
    with pytest.raises(ValueError, match='different sizes'):
        fsim_pair(srs[0][:-2], hrs[0], 2, reference=ref, key='0.png')


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_fsim_on_the_gpu_equals_the_cpu(pair):
    sr, hr = pair
    for chromatic in (False, True):
        assert fsim(sr, hr, 2, chromatic, device='cuda') == pytest.approx(
            fsim(sr, hr, 2, chromatic, device='cpu'), abs=1e-5)
    assert image_quality(sr, hr, 2, ['fsimc'], device='cuda')['fsimc'] == pytest.approx(
        fsim(sr, hr, 2, True), abs=1e-5)
    for gpu, cpu in zip(fsim_pair(sr, hr, 2, 'cuda'), fsim_pair(sr, hr, 2)):
        assert gpu == pytest.approx(cpu, abs=1e-5)


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
