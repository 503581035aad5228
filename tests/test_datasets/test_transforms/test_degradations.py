"""Degradations by name: 'bicubic' is the paper's operator unchanged; 'realistic' (blur, resize,
noise, JPEG) is reproducible per (seed, file), keeps channel order, and runs in an MMagic
pipeline keyed by the loaded file's name."""
import cv2
import numpy as np
import pytest
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

from fdsr_mm.datasets import DEGRADATIONS, Degradation, bicubic_downsample, degrade
from fdsr_mm.datasets.transforms.degradations import (degradation_rng, gaussian_kernel,
                                                      jpeg_compress, results_key,
                                                      sample_realistic_params)


@pytest.fixture(scope='module')
def img():
    """(32, 40, 3) uint8: smooth colour gradients plus texture (what blur/JPEG act on)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:32, 0:40]
    base = np.stack([xx * 6, yy * 7, (xx + yy) * 3], axis=-1).astype(np.float64)
    return np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)


def test_registry_names_and_unknown_name():
    assert set(DEGRADATIONS) >= {'bicubic', 'realistic'}
    assert DEGRADATIONS['bicubic'].cache_tag == 'bicubic-matlab'
    assert not DEGRADATIONS['bicubic'].seeded and DEGRADATIONS['realistic'].seeded
    with pytest.raises(KeyError, match='bicubic, realistic'):
        degrade(np.zeros((8, 8, 3), np.uint8), 4, name='jpeg-only')


def test_bicubic_is_todays_operator_bit_exactly(img):
    expected = bicubic_downsample(img, 4)
    for seed, key in ((0, 'a.jpg'), (7, 'b.png')):  # deterministic: seed and key play no part
        np.testing.assert_array_equal(degrade(img, 4, 'bicubic', seed, key), expected)
    np.testing.assert_array_equal(degrade(img[..., 1].copy(), 4), bicubic_downsample(
        img[..., 1].copy(), 4))


def test_realistic_reproducible_per_seed_and_file(img):
    a = degrade(img, 4, 'realistic', seed=0, key='000001.jpg')
    assert a.shape == (8, 10, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, degrade(img, 4, 'realistic', seed=0, key='000001.jpg'))
    np.testing.assert_array_equal(a, degrade(img, 4, 'realistic',
                                             rng=degradation_rng(0, '000001.jpg')))
    assert not np.array_equal(a, degrade(img, 4, 'realistic', seed=0, key='000002.jpg'))
    assert not np.array_equal(a, degrade(img, 4, 'realistic', seed=1, key='000001.jpg'))
    assert not np.array_equal(a, bicubic_downsample(img, 4))
    # still the same picture: close to the bicubic LR on average, not noise
    assert np.abs(a.astype(float) - bicubic_downsample(img, 4)).mean() < 30
    gray = degrade(img[..., 0].copy(), 4, 'realistic', key='g.png')
    assert gray.shape == (8, 10) and gray.dtype == np.uint8


def test_realistic_parameters_stay_in_documented_ranges():
    draws = [sample_realistic_params(degradation_rng(0, f'{i}.jpg')) for i in range(300)]
    for p in draws:
        assert 0.2 <= p['sigma_x'] <= 2.0 and 0.2 <= p['sigma_y'] <= 2.0
        assert -np.pi <= p['theta'] <= np.pi and 50 <= p['jpeg_quality'] <= 95
        low, high = (1, 15) if p['noise'] == 'gaussian' else (0.05, 1.5)
        assert low <= p['noise_level'] <= high
    assert {p['resize'] for p in draws} == {'bicubic', 'bilinear', 'area'}
    assert {p['noise'] for p in draws} == {'gaussian', 'poisson'}
    assert {p['isotropic'] for p in draws} == {True, False}
    assert 0.3 < np.mean([p['gray_noise'] for p in draws]) < 0.5


def test_gaussian_kernel_normalised_and_rotated():
    k = gaussian_kernel(2.0, 0.5, 0.0)
    assert k.shape == (13, 13) and k.sum() == pytest.approx(1.0, abs=1e-6)
    assert k[6].sum() > k[:, 6].sum()  # long axis along x
    np.testing.assert_allclose(gaussian_kernel(2.0, 0.5, np.pi / 2), k.T, atol=1e-7)


def test_red_stays_red_and_jpeg_respects_channel_order():
    red = np.zeros((64, 64, 3), np.uint8)
    red[..., 0] = 230  # RGB red
    lr = degrade(red, 4, 'realistic', key='red.png', channel_order='rgb')
    r, g, b = lr.reshape(-1, 3).mean(0)
    assert r > 150 and g < 60 and b < 60, (r, g, b)
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (16, 24, 3), dtype=np.uint8)
    # the same picture compressed as RGB or as BGR gives the same pixels, channels in place
    np.testing.assert_array_equal(jpeg_compress(rgb, 60, 'rgb'),
                                  jpeg_compress(rgb[..., ::-1].copy(), 60, 'bgr')[..., ::-1])
    np.testing.assert_array_equal(jpeg_compress(rgb, 60, 'bgr'),
                                  cv2.imdecode(cv2.imencode('.jpg', rgb, [
                                      cv2.IMWRITE_JPEG_QUALITY, 60])[1], cv2.IMREAD_COLOR))


def test_rejects_bad_inputs():
    with pytest.raises(ValueError, match='mod-crop'):
        degrade(np.zeros((10, 8, 3), np.uint8), 4, 'realistic')
    with pytest.raises(TypeError, match='uint8'):
        degrade(np.zeros((8, 8, 3), np.float32), 4, 'realistic')
    with pytest.raises(KeyError, match='gt_path'):
        Degradation(scale=4)(dict(gt=np.zeros((8, 8, 3), np.uint8)))


def test_transform_in_mmagic_pipeline_matches_degrade(tmp_path, img):
    """LoadImageFromFile (RGB) -> Degradation -> PackInputs: the LR is degrade() keyed by the file's
    base name (what the cascade uses), meta keys are copied, and the SR pair is packed."""
    path = str(tmp_path / 'sub' / 'im_7.png')
    (tmp_path / 'sub').mkdir()
    cv2.imwrite(path, cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    with DefaultScope.overwrite_default_scope('mmagic'):
        pipeline = Compose([
            dict(type='LoadImageFromFile', key='gt', color_type='color', channel_order='rgb'),
            dict(type='Degradation', scale=4, name='realistic', seed=5),
            dict(type='PackInputs')])
        load_only = Compose([dict(type='LoadImageFromFile', key='gt', channel_order='rgb')])
    out = pipeline(dict(gt_path=path))
    gt = load_only(dict(gt_path=path))['gt']
    np.testing.assert_array_equal(gt, img)
    expected = degrade(img, 4, 'realistic', seed=5, key='im_7.png', channel_order='rgb')
    lq = out['inputs'].numpy().transpose(1, 2, 0)  # PackInputs: (3, h, w), same channel order
    np.testing.assert_array_equal(lq, expected)
    assert out['data_samples'].metainfo['img_channel_order'] == 'rgb'
    assert out['data_samples'].gt_img.shape[-2:] == (32, 40)


def test_per_call_random_gives_fresh_draws_reproducible_from_numpy_seed(img):
    t = Degradation(scale=4, name='realistic', per_call_random=True)
    results = lambda: dict(gt=img, gt_path='/data/a.jpg', gt_channel_order='rgb')  # noqa: E731
    np.random.seed(0)
    first, second = t(results())['img'], t(results())['img']
    assert not np.array_equal(first, second)  # the same file, fresh draws each call
    np.random.seed(0)
    np.testing.assert_array_equal(t(results())['img'], first)
    bic = Degradation(scale=4, name='bicubic')(dict(gt=img))
    np.testing.assert_array_equal(bic['img'], bicubic_downsample(img, 4))
    assert bic['scale'] == 4


def test_both_transforms_key_their_draws_by_one_helper(img):
    """results_key (Degradation's and SimulateLowResolution's): the file's base name, '' for a
    deterministic degradation, a fresh draw appended per call, a missing path named."""
    res = dict(gt_path='/hr/0001.png', img_path='/lr/0002.png')
    assert results_key(res, 'realistic', ('gt_path', 'img_path'), False, 'T') == '0001.png'
    assert results_key(res, 'bicubic', ('img_path', ), True, 'T') == ''
    np.random.seed(0)
    first = results_key(res, 'realistic', ('img_path', ), True, 'T')
    np.random.seed(0)
    assert results_key(res, 'realistic', ('img_path', ), True, 'T') == first
    assert first.startswith('0002.png#')
    with pytest.raises(KeyError, match="Degradation\\('realistic'\\) keys its randomness by the "
                                       "file name: the results have no 'gt_path' or 'img_path'"):
        Degradation(scale=4, name='realistic')(dict(gt=img))
