"""The shared SR degradation: MATLAB-like bicubic x1/s, uint8 out, channels independent."""
import numpy as np
import pytest
from mmengine.registry import DefaultScope

from mmagic.registry import TRANSFORMS

from fdsr_mm.datasets import bicubic_downsample


def test_constant_image_stays_constant_and_uint8():
    img = np.full((16, 12, 3), 77, np.uint8)
    lr = bicubic_downsample(img, 4)
    assert lr.shape == (4, 3, 3) and lr.dtype == np.uint8
    assert (lr == 77).all()


def test_matches_matlab_bicubic_weights_on_a_ramp():
    # A linear ramp is reproduced exactly by bicubic interpolation away from the borders: MATLAB's
    # x1/4 output pixel i samples the input at 4*i + 1.5 (pixel-centre alignment).
    ramp = np.tile(np.arange(0, 64, dtype=np.float64) * 2, (8, 1))
    lr = bicubic_downsample(ramp.astype(np.uint8), 4)
    centres = (np.arange(16) * 4 + 1.5) * 2
    np.testing.assert_allclose(lr[0, 2:-2], np.round(centres[2:-2]), atol=1)


def test_channels_are_independent_so_rgb_and_bgr_commute():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    np.testing.assert_array_equal(bicubic_downsample(img[..., ::-1].copy(), 4),
                                  bicubic_downsample(img, 4)[..., ::-1])
    np.testing.assert_array_equal(bicubic_downsample(img[..., 0].copy(), 4),
                                  bicubic_downsample(img, 4)[..., 0])


def test_rejects_sizes_that_are_not_multiples_and_float_input():
    with pytest.raises(ValueError, match='mod-crop'):
        bicubic_downsample(np.zeros((10, 8, 3), np.uint8), 4)
    with pytest.raises(TypeError, match='uint8'):
        bicubic_downsample(np.zeros((8, 8, 3), np.float32), 4)


def test_registered_transform_writes_lr_and_scale():
    # explicit scope: an earlier test's mmdet Runner may have left 'mmdet' the current scope
    with DefaultScope.overwrite_default_scope('mmagic'):
        t = TRANSFORMS.build(dict(type='BicubicDegradation', scale=2))
    gt = np.random.default_rng(1).integers(0, 256, (8, 6, 3), dtype=np.uint8)
    out = t(dict(gt=gt))
    assert out['img'].shape == (4, 3, 3) and out['img'].dtype == np.uint8
    assert out['scale'] == 2
    assert out['gt'] is gt
