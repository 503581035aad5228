"""FDSR restorer: both loss terms, a frozen prior through training, exact channel order."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from mmengine.hub import get_config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

import fdsr_mm  # noqa: F401  (registers the models)
from mmagic.registry import MODELS
from mmagic.structures import DataSample

TINY_DBPN = dict(type='DBPN', mid_channels=16, base_channels=8, num_stages=2, scale=4,
                 bicubic_residual=True)
PRE = dict(type='DataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.])


def build_fdsr(detector, alpha=0.5, beta=1.0):
    config, options, ckpt, _ = detector
    feature_loss = dict(type='DetectorFeatureLoss', detector_config=config,
                        detector_cfg_options=options, checkpoint=ckpt, loss_weight=beta)
    return build(dict(type='FDSR', generator=TINY_DBPN,
                      pixel_loss=dict(type='L1Loss', loss_weight=alpha),
                      feature_loss=feature_loss, data_preprocessor=PRE))


def build(cfg):
    with DefaultScope.overwrite_default_scope('mmagic'):
        return MODELS.build(cfg)


def batch(n=2, size=64, seed=0):
    """A data batch as the dataloader gives it: uint8 RGB CHW tensors, HR 4x the LR."""
    g = torch.Generator().manual_seed(seed)
    gt = torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8)
    lr = torch.nn.functional.interpolate(gt.float(), scale_factor=0.25, mode='area').round()
    samples = []
    for i in range(n):
        s = DataSample()
        s.gt_img = gt[i]
        samples.append(s)
    return dict(inputs=[lr[i].to(torch.uint8) for i in range(n)], data_samples=samples)


def test_training_updates_the_generator_and_never_the_prior(tiny_c4_detector):
    torch.manual_seed(0)
    model = build_fdsr(tiny_c4_detector)
    model.train()
    extractor = model.feature_loss.extractor
    assert not extractor.training
    before = {k: v.clone() for k, v in extractor.state_dict().items()}
    gen_before = {k: v.clone() for k, v in model.generator.state_dict().items()}
    optim = build_optim_wrapper(model, dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3)))
    optimized = {id(p) for g in optim.optimizer.param_groups for p in g['params']}
    assert not optimized & {id(p) for p in extractor.parameters()}
    for i in range(3):
        log = model.train_step(batch(seed=i), optim)
        assert set(log) >= {'loss', 'loss_pix', 'loss_feat'}
        assert log['loss_feat'] > 0 and log['loss_pix'] > 0
        torch.testing.assert_close(log['loss'], log['loss_pix'] + log['loss_feat'])
    after = extractor.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # weights and BN statistics
    assert any(not torch.equal(gen_before[k], v) for k, v in model.generator.state_dict().items())
    assert not any(k.startswith('feature_loss') for k in model.state_dict())


def test_alpha_or_beta_zero_removes_exactly_one_term(tiny_c4_detector):
    torch.manual_seed(0)
    full = build_fdsr(tiny_c4_detector, alpha=0.5, beta=1.0)
    data = full.data_preprocessor(batch(), training=True)
    losses = full(**data, mode='loss')
    feat_only = build_fdsr(tiny_c4_detector, alpha=0., beta=1.0)
    pix_only = build_fdsr(tiny_c4_detector, alpha=0.5, beta=0.)
    for m in (feat_only, pix_only):
        m.generator.load_state_dict(full.generator.state_dict())
    assert pix_only.feature_loss is None and feat_only.pixel_loss is None
    lf = feat_only(**data, mode='loss')
    lp = pix_only(**data, mode='loss')
    assert set(lf) == {'loss_feat'} and set(lp) == {'loss_pix'}
    torch.testing.assert_close(lf['loss_feat'], losses['loss_feat'])
    torch.testing.assert_close(lp['loss_pix'], losses['loss_pix'])
    # beta = 0 is the pixel-only BaseEditModel (alpha * L1).
    base = build(dict(type='BaseEditModel', generator=TINY_DBPN,
                      pixel_loss=dict(type='L1Loss', loss_weight=0.5), data_preprocessor=PRE))
    base.generator.load_state_dict(full.generator.state_dict())
    torch.testing.assert_close(base(**data, mode='loss')['loss'], lp['loss_pix'])
    with pytest.raises(ValueError, match='non-zero'):
        build_fdsr(tiny_c4_detector, alpha=0., beta=0.)


def test_no_pixel_loss_is_a_state_of_its_own(tiny_c4_detector):
    """No ``pixel_loss``: no pixel module is built (not even a zero-weight one), a training step
    through the base ``forward``/``train_step`` path works, and no pixel term is logged."""
    config, options, ckpt, _ = tiny_c4_detector
    feature_loss = dict(type='DetectorFeatureLoss', detector_config=config,
                        detector_cfg_options=options, checkpoint=ckpt, loss_weight=1.0)
    model = build(dict(type='FDSR', generator=TINY_DBPN, feature_loss=feature_loss,
                       data_preprocessor=PRE))
    assert model.pixel_loss is None
    assert not any(type(m).__name__ == 'L1Loss' for m in model.modules())
    optim = build_optim_wrapper(model, dict(type='OptimWrapper',
                                            optimizer=dict(type='Adam', lr=1e-3)))
    model.train()
    log = model.train_step(batch(), optim)  # BaseModel.train_step -> forward(mode='loss')
    assert set(log) == {'loss', 'loss_feat'}
    data = model.data_preprocessor(batch(seed=1), training=True)
    assert set(model(**data, mode='loss')) == {'loss_feat'}
    # FDSR sets up everything BaseEditModel.__init__ does (it does not call it, see FDSR)
    base = build(dict(type='BaseEditModel', generator=TINY_DBPN,
                      pixel_loss=dict(type='L1Loss'), data_preprocessor=PRE))
    assert set(vars(base)) <= set(vars(model)) | {'pixel_loss'}
    assert set(base._modules) - {'pixel_loss'} <= set(model._modules)


def test_inference_is_plain_sr(tiny_c4_detector):
    model = build_fdsr(tiny_c4_detector).eval()
    data = model.data_preprocessor(batch(n=1), training=False)
    with torch.no_grad():
        pred = model(**data, mode='predict')
        sr = model.generator(data['inputs'])
    assert pred[0].output.pred_img.shape == (3, 64, 64)
    torch.testing.assert_close(pred[0].output.pred_img,
                               (sr[0] * 255).clamp(0, 255), rtol=0, atol=1e-3)


@pytest.mark.parametrize('which', ['c4', 'fpn'])
def test_pipeline_to_detector_input_matches_mmdet_on_the_same_file(
        which, tmp_path, repo_root, tiny_c4_detector, tiny_fpn_detector):
    """From a PNG on disk: our SR training pipeline (RGB) + FDSR's preprocessor -> detector input
    equals mmdet's own LoadImageFromFile (BGR) + the detector's DetDataPreprocessor."""
    detector = tiny_c4_detector if which == 'c4' else tiny_fpn_detector
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    img[:, :32] = (250, 10, 40)  # a red/blue asymmetric block, in BGR as cv2 writes
    path = str(tmp_path / 'img.png')
    cv2.imwrite(path, img)

    from mmengine.config import Config
    sr_cfg = Config.fromfile(osp.join(repo_root, 'configs/_base_/datasets/coco_sr_x4.py'))
    with DefaultScope.overwrite_default_scope('mmagic'):
        pipeline = Compose(sr_cfg.test_pipeline)
        packed = pipeline(dict(gt_path=path, sample_idx=0))
    model = build_fdsr(detector)
    data = model.data_preprocessor(dict(inputs=[packed['inputs']],
                                        data_samples=[packed['data_samples']]), training=True)
    ours = model.feature_loss.to_detector_input(model._to_unit_rgb(data['data_samples'].gt_img))

    from mmdet.registry import MODELS as MMDET_MODELS
    from mmdet.registry import TRANSFORMS as MMDET_TRANSFORMS
    with DefaultScope.overwrite_default_scope('mmdet'):
        load = MMDET_TRANSFORMS.build(dict(type='LoadImageFromFile'))
        det_pre = MMDET_MODELS.build(get_config(detector[0]).model.data_preprocessor)
    loaded = load(dict(img_path=path))['img']
    from mmdet.structures import DetDataSample
    expected = det_pre(dict(inputs=[torch.from_numpy(loaded).permute(2, 0, 1).contiguous()],
                            data_samples=[DetDataSample()]))['inputs']
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-3)
