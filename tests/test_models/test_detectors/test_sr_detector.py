"""SRDetector (mmdet MODELS): SR generator -> unchanged detector, boxes in input coordinates.

A tiny random RetinaNet (score_thr 0, so every image has 50 detections to compare) and
parameter-free generators (InterpolationSR) give exact references: with x1 the model must be the
bare detector; with nearest x4 the SR image IS the HR image (pixel repetition), so the boxes must
be the bare detector's boxes on that HR image divided by 4.
"""
import numpy as np
import pytest
import torch

from helpers.sr_detector_testlib import tiny_setup, write_sr_detector_config

# mmdet's inference APIs set the default scope process-wide: undo it after each test
pytestmark = pytest.mark.usefixtures('restore_default_scope')

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return tiny_setup(tmp_path_factory.mktemp('sr_detector'))


def _lr_images(n=2, hw=(24, 30), seed=0):
    rng = np.random.default_rng(seed)
    imgs = []
    for _ in range(n):  # blocky BGR uint8 images with structure a detector responds to
        small = rng.integers(0, 256, (hw[0] // 6, hw[1] // 6, 3), dtype=np.uint8)
        imgs.append(np.ascontiguousarray(small.repeat(6, 0).repeat(6, 1)))
    return imgs


def _predict(config, imgs, checkpoint=None):
    """mmdet's inference_detector on BGR arrays; a bare detector from init_detector(config,
    checkpoint), an SRDetector built from its config (which names its checkpoints)."""
    from mmdet.apis import inference_detector, init_detector

    from fdsr_mm.apis.inferencers import init_sr_detector
    model = init_sr_detector(config) if checkpoint is None else \
        init_detector(config, checkpoint, device='cpu')
    return [r.pred_instances for r in inference_detector(model, imgs)]


def _assert_same(a, b, box_factor=1.0):
    assert len(a.bboxes) == len(b.bboxes) > 0
    torch.testing.assert_close(a.scores, b.scores, rtol=1e-5, atol=1e-6)
    assert torch.equal(a.labels, b.labels)
    torch.testing.assert_close(a.bboxes * box_factor, b.bboxes, rtol=1e-5, atol=1e-3)


def test_identity_x1_sr_gives_the_bare_detectors_detections(tiny):
    cfg = write_sr_detector_config(tiny['root'] / 'x1.py', tiny['det_cfg'], tiny['ckpt'], 1)
    imgs = _lr_images()
    bare = _predict(tiny['det_cfg'], imgs, tiny['ckpt'])
    with_sr = _predict(cfg, imgs)  # the SRDetector loads the detector checkpoint its config names
    for a, b in zip(bare, with_sr):
        _assert_same(a, b)


def test_x4_boxes_are_in_the_lr_input_coordinates(tiny):
    lr = _lr_images(hw=(24, 30), seed=1)
    hr = [img.repeat(4, 0).repeat(4, 1) for img in lr]  # = nearest x4 SR of the LR image
    on_hr = _predict(tiny['det_cfg'], hr, tiny['ckpt'])
    cfg = write_sr_detector_config(tiny['root'] / 'x4.py', tiny['det_cfg'], tiny['ckpt'], 4)
    on_lr = _predict(cfg, lr)
    for a, b in zip(on_hr, on_lr):
        _assert_same(a, b, box_factor=0.25)
        assert float(b.bboxes[:, 2].max()) <= 30 + 1e-3 and float(b.bboxes[:, 3].max()) <= 24 + 1e-3
    # sr_coords=True returns the SR (= HR) image's coordinates; tiling changes nothing here
    cfg = write_sr_detector_config(tiny['root'] / 'x4sr.py', tiny['det_cfg'], tiny['ckpt'], 4,
                                   tile=10, sr_coords=True)
    for a, b in zip(on_hr, _predict(cfg, lr)):
        _assert_same(a, b)


def test_generator_sees_rgb_0_1_and_detector_gets_the_bgr_image_a_loader_gives(tiny):
    from fdsr_mm.apis.inferencers import init_sr_detector
    cfg = write_sr_detector_config(tiny['root'] / 'x4c.py', tiny['det_cfg'], tiny['ckpt'], 4)
    model = init_sr_detector(cfg)
    seen = {}
    model.generator.register_forward_hook(lambda m, i, o: seen.update(x=i[0].clone()))
    lr_bgr = np.zeros((8, 12, 3), np.uint8)
    lr_bgr[..., 2] = 255  # pure red, as cv2 / mmdet's LoadImageFromFile give it (BGR)
    lr_bgr[0, 0] = (10, 20, 30)
    data = model.data_preprocessor(dict(inputs=[torch.from_numpy(lr_bgr).permute(2, 0, 1)],
                                        data_samples=None), False)
    sr = model.super_resolve(data['inputs'][0])
    x = seen['x'][0]
    assert x.shape == (3, 8, 12) and float(x.max()) == 1.0 and float(x.min()) >= 0.0
    assert float(x[0, 4, 4]) == 1.0 and float(x[2, 4, 4]) == 0.0  # RGB: red in channel 0
    torch.testing.assert_close(x[:, 0, 0], torch.tensor([30., 20., 10.]) / 255)
    assert sr.dtype == np.uint8 and sr.shape == (32, 48, 3)
    assert np.array_equal(sr, lr_bgr.repeat(4, 0).repeat(4, 1))  # back in BGR, exact


def test_lr_data_preprocessor_that_normalises_is_refused(tiny):
    from fdsr_mm.models import SRDetector
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    det = Config.fromfile(tiny['det_cfg'])
    with pytest.raises(ValueError, match='0-255'), DefaultScope.overwrite_default_scope('mmdet'):
        SRDetector(detector=det.model, detector_test_pipeline=det.test_pipeline,
                   sr=dict(generator=dict(type='InterpolationSR', scale=1), scale=1),
                   data_preprocessor=dict(type='DetDataPreprocessor', mean=[1, 2, 3],
                                          std=[4, 5, 6], bgr_to_rgb=True))


def test_test_loop_with_coco_metric_on_lr_annotated_data(tiny):
    """mmengine Runner test loop + CocoMetric: x1 SRDetector scores exactly the bare detector."""
    from mmengine.config import Config
    from mmengine.runner import Runner
    metrics = {}
    cfg_x1 = write_sr_detector_config(tiny['root'] / 'loop.py', tiny['det_cfg'], tiny['ckpt'], 1)
    for name, path, load_from in (('bare', tiny['det_cfg'], tiny['ckpt']),
                                  ('sr', cfg_x1, None)):
        cfg = Config.fromfile(path)
        cfg.work_dir = str(tiny['root'] / f'work_{name}')
        cfg.load_from = load_from
        metrics[name] = Runner.from_cfg(cfg).test()
    assert metrics['sr']['coco/bbox_mAP_50'] >= 0 and metrics['sr'].keys() == metrics['bare'].keys()
    for k, v in metrics['bare'].items():
        assert metrics['sr'][k] == pytest.approx(v, abs=1e-9), k


def test_tiled_dbpn_sr_equals_the_whole_image_by_default(tiny):
    """The default tile pad is the generator's receptive field (D-DBPN x4: 21 LR px), so an
    SRDetector that tiles gives exactly the whole-image SR (issue 18 item 5; the old fixed pad
    16 was below DBPN's field)."""
    from fdsr_mm.apis.inferencers import init_sr_detector
    torch.manual_seed(0)
    dbpn = ("dict(type='DBPN', in_channels=3, mid_channels=8, base_channels=4, num_stages=7, "
            "scale=4, bicubic_residual=True)")
    models = {}
    for tile in (None, 12):
        cfg = write_sr_detector_config(tiny['root'] / f'dbpn_tile{tile}.py', tiny['det_cfg'],
                                       tiny['ckpt'], 4, tile=tile)
        text = open(cfg).read().replace("dict(type='InterpolationSR', scale=4, mode='nearest')",
                                        dbpn)
        open(cfg, 'w').write(text)
        models[tile] = init_sr_detector(cfg)
    assert models[12].tile_pad is None and models[12].generator.receptive_field == 21
    models[12].generator.load_state_dict(models[None].generator.state_dict())
    lr = torch.from_numpy(_lr_images(n=1, hw=(30, 36), seed=3)[0][..., ::-1].copy())
    lr = lr.permute(2, 0, 1).float()  # (3, h, w) RGB 0-255, as the SRDetector's preprocessor gives
    whole, tiled = models[None].super_resolve(lr), models[12].super_resolve(lr)
    assert whole.shape == (120, 144, 3) and whole.dtype == np.uint8
    np.testing.assert_array_equal(tiled, whole)
    # sr.amp (issue 22): the same SR under bfloat16 autocast, a few grey levels off at most
    models[12].amp = 'bfloat16'
    amp = models[12].super_resolve(lr).astype(int)
    assert amp.shape == whole.shape and 0 < np.abs(amp - whole).max() <= 8


def test_sr_amp_of_an_unknown_type_is_refused(tiny):
    from fdsr_mm.models import SRDetector
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    det = Config.fromfile(tiny['det_cfg'])
    with pytest.raises(ValueError, match="sr\\['amp'\\] must be None or one of"), \
            DefaultScope.overwrite_default_scope('mmdet'):
        SRDetector(detector=det.model, detector_test_pipeline=det.test_pipeline,
                   sr=dict(generator=dict(type='InterpolationSR', scale=1), scale=1,
                           amp='float8'))
