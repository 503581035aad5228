"""Which bicubic the numbers use: ``bicubic`` is MATLAB's antialiased cubic kernel in floating
point with one rounding at the end; ``bicubic-matlab-uint8`` is MATLAB ``imresize`` on a uint8
image, rounded between its two 1-D passes. Both are checked against an independent
double-precision re-implementation of MATLAB's ``contributions`` / ``resizeAlongDim`` written
with plain loops here."""
import math

import numpy as np
import pytest

from fdsr_mm.apis.cascade.options import CascadeOptions
from fdsr_mm.datasets import DEGRADATIONS, Degradation, bicubic_downsample, degrade
from fdsr_mm.datasets.transforms.bicubic import bicubic_downsample_matlab_uint8
from mmagic.datasets.transforms import MATLABLikeResize


def _ref_cubic(x):
    """MATLAB's ``cubic`` (Keys, a = -0.5) on one float."""
    a = abs(x)
    if a <= 1:
        return 1.5 * a * a * a - 2.5 * a * a + 1.0
    if a <= 2:
        return -0.5 * a * a * a + 2.5 * a * a - 4.0 * a + 2.0
    return 0.0


def _ref_contributions(in_len, out_len, scale):
    """Per output pixel, a list of (0-based input index, weight), MATLAB's formula step by step:
    antialiased kernel ``scale * cubic(scale * x)`` of width 4 / scale, centre
    ``u = k / scale + 0.5 (1 - 1 / scale)``, taps floor(u - width / 2) + 0 .. ceil(width) + 1,
    weights divided by their sum, indices mirrored ([1..L, L..1])."""
    width = 4.0 / scale
    taps = int(math.ceil(width)) + 2
    rows = []
    for k in range(1, out_len + 1):
        u = k / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        pairs = [(left + p, scale * _ref_cubic(scale * (u - (left + p)))) for p in range(taps)]
        total = 0.0
        for _, w in pairs:
            total += w
        row = []
        for idx, w in pairs:
            m = (idx - 1) % (2 * in_len)  # symmetric padding
            row.append((m if m < in_len else 2 * in_len - 1 - m, w / total))
        rows.append(row)
    return rows


def _ref_pass(plane, contribs, axis, to_uint8):
    """Resize a 2-D list-of-lists image along ``axis`` (0 rows, 1 columns) in doubles; when
    ``to_uint8`` store as MATLAB stores a double in uint8: saturate, round half away from 0."""
    h, w = len(plane), len(plane[0])
    if axis == 0:
        out = [[0.0] * w for _ in contribs]
        for o, row in enumerate(contribs):
            for c in range(w):
                s = 0.0
                for idx, wt in row:
                    if wt != 0.0:
                        s += wt * plane[idx][c]
                out[o][c] = s
    else:
        out = [[0.0] * len(contribs) for _ in range(h)]
        for r in range(h):
            for o, row in enumerate(contribs):
                s = 0.0
                for idx, wt in row:
                    if wt != 0.0:
                        s += wt * plane[r][idx]
                out[r][o] = s
    if to_uint8:
        out = [[float(math.floor(min(max(v, 0.0), 255.0) + 0.5)) for v in line] for line in out]
    return out


def reference_imresize(img, scale, round_between):
    """MATLAB ``imresize(img, 1/scale)`` (bicubic, antialiased), rows first, per channel.

    Returns (H/scale, W/scale, C) float64: rounded to integers when ``round_between`` (uint8
    semantics), else the unrounded double result."""
    h, w, c = img.shape
    rows = _ref_contributions(h, h // scale, 1 / scale)
    cols = _ref_contributions(w, w // scale, 1 / scale)
    out = np.zeros((h // scale, w // scale, c))
    for ch in range(c):
        plane = [[float(v) for v in line] for line in img[..., ch]]
        mid = _ref_pass(plane, rows, 0, round_between)
        out[..., ch] = _ref_pass(mid, cols, 1, round_between)
    return out


@pytest.fixture(scope='module')
def natural():
    """(48, 40, 3) uint8: smooth gradients, a soft disc and mild noise (natural-image-like)."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:48, 0:40].astype(np.float64)
    disc = 120 * np.exp(-((yy - 20) ** 2 + (xx - 18) ** 2) / 90.0)
    base = np.stack([3 * xx + disc, 4 * yy + 0.5 * disc, 200 - 2 * xx - yy], -1)
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)


def test_matlab_uint8_variant_equals_reference_with_rounding(natural):
    for img, scale in ((natural, 4), (natural[:32, :24], 2)):
        ours = bicubic_downsample_matlab_uint8(img, scale)
        assert ours.dtype == np.uint8 and ours.shape == (img.shape[0] // scale,
                                                         img.shape[1] // scale, 3)
        np.testing.assert_array_equal(ours, reference_imresize(img, scale, True))
    gray = natural[..., 0].copy()
    np.testing.assert_array_equal(bicubic_downsample_matlab_uint8(gray, 4),
                                  reference_imresize(gray[..., None], 4, True)[..., 0])


def test_bicubic_is_the_float_reference_rounded_once(natural):
    """``bicubic`` = MMagic's float32 MATLAB-like resize, rounded once: its unrounded values are
    the double reference's to float32 precision, and its uint8 result is the reference rounded
    (half to even), except where the exact value is a hair from a .5 boundary."""
    ref = reference_imresize(natural, 4, False)
    raw = MATLABLikeResize(keys=['img'], scale=1 / 4).transform(
        dict(img=natural.astype(np.float32)))['img']
    np.testing.assert_allclose(raw, ref, rtol=0, atol=1e-4)
    near_tie = np.abs(ref - np.floor(ref) - 0.5) < 1e-4
    ours = bicubic_downsample(natural, 4)
    np.testing.assert_array_equal(ours[~near_tie], np.clip(np.round(ref), 0, 255)[~near_tie])
    assert near_tie.mean() < 0.01


def test_the_two_operators_differ_by_one_on_some_pixels(natural):
    a = bicubic_downsample(natural, 4).astype(int)
    b = bicubic_downsample_matlab_uint8(natural, 4).astype(int)
    diff = np.abs(a - b)
    assert diff.max() == 1
    assert 0.01 < (diff > 0).mean() < 0.4, (diff > 0).mean()


def test_overshoot_saturates_between_passes():
    """A white square on black: the cubic kernel's negative lobes undershoot below 0 after the
    first pass; uint8 storage clips it there, the float operator carries it on."""
    img = np.zeros((32, 32, 3), np.uint8)
    img[12:20, 12:20] = 255
    ours = bicubic_downsample_matlab_uint8(img, 4)
    np.testing.assert_array_equal(ours, reference_imresize(img, 4, True))
    # the clipped undershoot no longer pulls the centre down: 224 (uint8 passes) vs 223 (float)
    assert ours[3, 3, 0] == 224 and bicubic_downsample(img, 4)[3, 3, 0] == 223


def test_registered_with_its_own_cache_key_and_usable_by_name(natural):
    spec = DEGRADATIONS['bicubic-matlab-uint8']
    assert spec.cache_tag == 'bicubic-matlab-uint8' and not spec.seeded
    assert DEGRADATIONS['bicubic'].cache_tag == 'bicubic-matlab'  # the paper's key unchanged
    expected = bicubic_downsample_matlab_uint8(natural, 4)
    np.testing.assert_array_equal(degrade(natural, 4, 'bicubic-matlab-uint8'), expected)
    out = Degradation(scale=4, name='bicubic-matlab-uint8')(dict(gt=natural))
    np.testing.assert_array_equal(out['img'], expected)
    tags = {name: CascadeOptions(detector_config='det.py', detector_checkpoint='det.pth',
                                 methods=['hr', 'bicubic'], out_dir='out',
                                 degradation=name).degradation_tag
            for name in ('bicubic', 'bicubic-matlab-uint8')}
    assert tags == {'bicubic': 'bicubic-matlab', 'bicubic-matlab-uint8': 'bicubic-matlab-uint8'}
