"""SimulateLowResolution: a detection training image becomes what the cascade's `bicubic` method
shows the detector (degraded x1/scale, upsampled back), with its boxes unchanged; mod-crop clips
and drops boxes like the cascade."""
import numpy as np
import pytest
import torch
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.registry import DefaultScope

from fdsr_mm.datasets import SimulateLowResolution, bicubic_downsample, bicubic_upsample, degrade


def _results(h, w, boxes, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.clip(np.stack([xx * 5, yy * 4, (xx + yy) * 2], -1) + rng.normal(0, 15, (h, w, 3)),
                  0, 255).astype(np.uint8)
    boxes = HorizontalBoxes(torch.tensor(boxes, dtype=torch.float32))
    return dict(img=img, img_path=f'/data/train/{seed:06d}.png', img_shape=(h, w),
                ori_shape=(h, w), gt_bboxes=boxes,
                gt_bboxes_labels=np.arange(len(boxes)), gt_ignore_flags=np.zeros(len(boxes), bool))


def test_image_is_the_cascades_bicubic_input_and_boxes_stay():
    res = _results(48, 64, [[4., 6., 30., 40.], [33., 1., 60., 20.]])
    img, boxes = res['img'].copy(), res['gt_bboxes'].tensor.clone()
    out = SimulateLowResolution(scale=4)(res)
    expected = bicubic_upsample(bicubic_downsample(img, 4), 4)
    np.testing.assert_array_equal(out['img'], expected)
    assert out['img'].shape == img.shape and out['img_shape'] == (48, 64)
    assert out['img'].dtype == np.uint8 and not np.array_equal(out['img'], img)
    assert torch.equal(out['gt_bboxes'].tensor, boxes)
    np.testing.assert_array_equal(out['gt_bboxes_labels'], [0, 1])


def test_bicubic_upsample_is_the_cascades_resize():
    """The cascade's `bicubic` method and this transform share bicubic_upsample: MMagic's
    MATLABLikeResize x scale, rounded once."""
    from mmagic.datasets.transforms import MATLABLikeResize
    lr = np.random.default_rng(1).integers(0, 256, (12, 10, 3), dtype=np.uint8)
    up = MATLABLikeResize(keys=['img'], scale=4).transform(dict(img=lr.astype(np.float32)))['img']
    np.testing.assert_array_equal(bicubic_upsample(lr, 4),
                                  np.clip(np.round(up), 0, 255).astype(np.uint8))
    assert bicubic_upsample(lr[..., 0].copy(), 4).shape == (48, 40)
    with pytest.raises(TypeError, match='uint8'):
        bicubic_upsample(lr.astype(np.float32), 4)


def test_mod_crop_clips_and_drops_boxes_like_the_cascade():
    res = _results(50, 66, [[60., 40., 66., 50.], [64.5, 10., 66., 20.], [2., 2., 10., 10.]])
    out = SimulateLowResolution(scale=4)(res)
    assert out['img'].shape == (48, 64, 3)
    np.testing.assert_allclose(out['gt_bboxes'].tensor.numpy(),
                               [[60., 40., 64., 48.], [2., 2., 10., 10.]])
    np.testing.assert_array_equal(out['gt_bboxes_labels'], [0, 2])
    assert out['gt_ignore_flags'].tolist() == [False, False]


def test_random_degradation_is_keyed_by_file_and_fresh_per_call_when_training():
    res = _results(32, 32, [[1., 1., 20., 20.]])
    fixed = SimulateLowResolution(degradation='realistic', seed=3, per_call_random=False)
    a = fixed(dict(res, img=res['img'].copy()))['img']
    lr = degrade(res['img'], 4, 'realistic', 3, '000000.png', channel_order='bgr')
    np.testing.assert_array_equal(a, bicubic_upsample(lr, 4))  # the cascade's LR of this file
    np.random.seed(0)
    fresh = SimulateLowResolution(degradation='realistic', seed=3)
    b, c = (fresh(dict(res, img=res['img'].copy()))['img'] for _ in range(2))
    assert not np.array_equal(b, c)
    with pytest.raises(KeyError, match='img_path'):
        fixed({k: v for k, v in res.items() if k != 'img_path'})


def test_built_from_mmdets_registry_and_bad_arguments():
    with DefaultScope.overwrite_default_scope('mmdet'):
        t = TRANSFORMS.build(dict(type='SimulateLowResolution', scale=4))
    assert isinstance(t, SimulateLowResolution) and 'bicubic' in repr(t)
    with pytest.raises(KeyError):
        SimulateLowResolution(degradation='jpeg-only')
    with pytest.raises(ValueError, match='positive integer'):
        SimulateLowResolution(scale=2.5)
    with pytest.raises(ValueError, match='smaller than the scale'):
        SimulateLowResolution(scale=4)(_results(3, 8, [[0., 0., 2., 2.]]))
