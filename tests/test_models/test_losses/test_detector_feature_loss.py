"""DetectorFeatureLoss: weights from a real mmdet checkpoint, frozen, exact detector input."""
import pytest

import fdsr_mm  # noqa: F401  (registers the models)
import torch
import torch.nn.functional as F
from mmengine.hub import get_config
from mmengine.registry import DefaultScope

from mmagic.registry import MODELS
from mmdet.structures import DetDataSample

from fdsr_mm.models.losses.frozen_networks import FrozenNetworkLoss


def build_loss(detector, **kwargs):
    config, options, ckpt, _ = detector
    return MODELS.build(dict(type='DetectorFeatureLoss', detector_config=config,
                             detector_cfg_options=options, checkpoint=ckpt, **kwargs))


def test_loads_exactly_the_backbone_weights_and_keeps_them_out_of_the_module_tree(tiny_c4_detector):
    loss = build_loss(tiny_c4_detector)
    detector = tiny_c4_detector[3]
    ours = loss.extractor['backbone'].state_dict()
    theirs = detector.backbone.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    # Frozen and invisible to optimizers and checkpoints.
    assert not any(p.requires_grad for p in loss.extractor.parameters())
    assert list(loss.parameters()) == []
    assert loss.state_dict() == {}
    loss.train()
    assert not loss.extractor.training
    assert not any(m.training for m in loss.extractor.modules())
    loss.to(torch.float64)  # but it follows the module's .to()
    assert all(p.dtype == torch.float64 for p in loss.extractor.parameters())


def test_a_held_frozen_network_is_outside_the_module_tree_and_follows_its_owner():
    """FrozenNetworkLoss: not in parameters()/modules()/state_dict(), no grad, but moved by a
    ``.to()`` of the owner or of any module the owner is part of."""
    owner = FrozenNetworkLoss()
    net = owner.hold_frozen('net', torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3),
                                                       torch.nn.BatchNorm2d(4)))
    assert owner.frozen_networks == {'net': net}
    assert list(owner.parameters()) == [] and list(owner.buffers()) == []
    assert list(owner.children()) == [] and owner.state_dict() == {}
    assert not any(p.requires_grad for p in net.parameters())
    parent = torch.nn.ModuleDict(dict(loss=owner, conv=torch.nn.Conv2d(3, 3, 1)))
    assert len(list(parent.parameters())) == 2  # the 1x1 conv's weight and bias only
    parent.to(torch.float64)
    assert all(t.dtype == torch.float64 for t in (*net.parameters(), net[1].running_mean))


def test_zero_for_identical_images_positive_otherwise(tiny_c4_detector):
    torch.manual_seed(0)
    hr = torch.rand(2, 3, 64, 64)
    for criterion in ('mse', 'frobenius'):
        loss = build_loss(tiny_c4_detector, criterion=criterion)
        assert loss(hr.clone(), hr).item() == 0.
        assert loss((hr + 0.05 * torch.randn_like(hr)), hr).item() > 0.


def test_criteria_follow_their_documented_reductions(tiny_fpn_detector):
    torch.manual_seed(0)
    hr, sr = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    mse = build_loss(tiny_fpn_detector, use_neck=True, feature_levels=(0, 2), level_weights=(1., .5),
                     loss_weight=2.)
    fro = build_loss(tiny_fpn_detector, use_neck=True, feature_levels=(0, 2), level_weights=(1., .5),
                     loss_weight=2., criterion='frobenius')
    fs, fh = mse.extract(sr), mse.extract(hr)
    assert len(fs) == 2 and fs[0].shape[1] == 16  # FPN levels P2 and P4 of the tiny neck
    expect_mse = 2. * (F.mse_loss(fs[0], fh[0]) + .5 * F.mse_loss(fs[1], fh[1]))
    per_image = [torch.stack([torch.linalg.norm(a[n] - b[n]) for n in range(2)]).mean()
                 for a, b in zip(fs, fh)]
    expect_fro = 2. * (per_image[0] + .5 * per_image[1])
    torch.testing.assert_close(mse(sr, hr), expect_mse)
    torch.testing.assert_close(fro(sr, hr), expect_fro)


@pytest.mark.parametrize('which,expect_bgr', [('c4', True), ('fpn', False)])
def test_detector_input_equals_mmdet_preprocessing_of_the_same_image(
        which, expect_bgr, tiny_c4_detector, tiny_fpn_detector):
    """RGB [0, 1] -> detector input must equal what mmdet's DetDataPreprocessor makes of the
    BGR uint8 image that mmdet's LoadImageFromFile would load."""
    detector = tiny_c4_detector if which == 'c4' else tiny_fpn_detector
    loss = build_loss(detector)
    assert loss.wants_bgr == expect_bgr
    rng = torch.Generator().manual_seed(0)
    rgb_u8 = torch.randint(0, 256, (64, 96, 3), generator=rng, dtype=torch.uint8)
    bgr_u8 = rgb_u8.flip(-1)
    from mmdet.registry import MODELS as MMDET_MODELS
    cfg = get_config(detector[0])
    with DefaultScope.overwrite_default_scope('mmdet'):
        pre = MMDET_MODELS.build(cfg.model.data_preprocessor)
    expected = pre(dict(inputs=[bgr_u8.permute(2, 0, 1)], data_samples=[DetDataSample()]))['inputs']
    ours = loss.to_detector_input(rgb_u8.permute(2, 0, 1)[None].float() / 255.)
    torch.testing.assert_close(ours, expected[:, :, :64, :96], rtol=0, atol=1e-4)
    if expect_bgr:  # caffe: BGR minus the BGR mean, std 1
        torch.testing.assert_close(ours[0, 0], bgr_u8[..., 0].float() - 103.53, rtol=0, atol=1e-4)
    else:  # pytorch: RGB, ImageNet mean/std
        torch.testing.assert_close(ours[0, 0], (rgb_u8[..., 0].float() - 123.675) / 58.395,
                                   rtol=0, atol=1e-4)


def test_gradient_reaches_the_sr_image_not_the_backbone(tiny_c4_detector):
    loss = build_loss(tiny_c4_detector)
    hr = torch.rand(1, 3, 64, 64)
    sr = (hr + 0.1 * torch.randn_like(hr)).requires_grad_()
    loss(sr, hr).backward()
    assert sr.grad is not None and sr.grad.abs().sum() > 0
    assert all(p.grad is None for p in loss.extractor.parameters())


def test_bad_checkpoints_give_clear_errors(tmp_path, tiny_c4_detector):
    config, options, ckpt, detector = tiny_c4_detector
    with pytest.raises(FileNotFoundError, match='model zoo'):
        build_loss((config, options, str(tmp_path / 'missing.pth'), None))
    no_backbone = tmp_path / 'heads_only.pth'
    torch.save({'state_dict': {k: v for k, v in detector.state_dict().items()
                               if not k.startswith('backbone.')}}, no_backbone)
    with pytest.raises(KeyError, match="no backbone weights"):
        build_loss((config, options, str(no_backbone), None))
    partial = tmp_path / 'partial.pth'
    state = detector.state_dict()
    state.pop('backbone.layer3.0.conv1.weight')
    torch.save({'state_dict': state}, partial)
    with pytest.raises(KeyError, match='missing'):
        build_loss((config, options, str(partial), None))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        MODELS.build(dict(type='DetectorFeatureLoss', detector_config='nowhere/detector.py'))


def test_vgg19_54_prior_loads_torchvision_layout(tmp_path):
    from torchvision.models import vgg19
    torch.manual_seed(0)
    tv = vgg19(weights=None)
    path = tmp_path / 'vgg19.pth'
    torch.save(tv.state_dict(), path)  # torchvision files are a bare state dict
    loss = MODELS.build(dict(type='DetectorFeatureLoss',
                             detector_config='fdsr_mm::_base_/feature_extractors/vgg19-54_imagenet.py',
                             checkpoint=str(path), checkpoint_prefix=''))
    x = torch.rand(1, 3, 32, 32)
    (feat, ) = loss.extract(x)
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    expected = tv.features[:36]((x * 255 - mean) / std)  # relu5_4 = index 35
    assert feat.shape == (1, 512, 2, 2)
    torch.testing.assert_close(feat, expected)


@pytest.mark.parametrize('name, source', [
    ('vgg19-dcbb9e9d.pth', 'https://download.pytorch.org/models/vgg19-dcbb9e9d.pth'),
    ('resnet50-0676ba61.pth', 'https://download.pytorch.org/models/resnet50-0676ba61.pth'),
    ('faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth', 'MMDetection model zoo')])
def test_missing_checkpoint_says_where_that_file_comes_from(tmp_path, name, source):
    """Issue 18: the torchvision ImageNet files were sent to the MMDetection model zoo."""
    from fdsr_mm.utils.checkpoints.detector import load_detector_checkpoint
    with pytest.raises(FileNotFoundError) as err:
        load_detector_checkpoint(str(tmp_path / name), 'fdsr_mm::_base_/feature_extractors/x.py',
                                 'Feature-extractor', 'feature_loss.checkpoint')
    assert source in str(err.value) and 'feature_loss.checkpoint' in str(err.value)
    if 'pytorch.org' in source:
        assert 'MMDetection' not in str(err.value) and 'torchvision' in str(err.value)
