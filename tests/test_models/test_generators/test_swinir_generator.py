"""MMagic's SwinIRNet as the FDSR generator: the configs' settings, any LR size (internal window
padding), and RGB [0, 1] in -> RGB [0, 1] out around its internal DIV2K-mean shift."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.registry import DefaultScope

from mmagic.registry import MODELS

from conftest import REPO_ROOT
from fdsr_mm.apis import super_resolve_image, super_resolve_tensor

PAPER = 'configs/fdsr/fdsr_swinir-x4_maskrcnn-r50c4-a0.5b1_1xb8-2000k_coco20k.py'
TINY = 'configs/fdsr/fdsr_swinir-tiny_x4_r18c4-tiny-a0.5b1_1xb4-200i_synthetic.py'
MMAGIC_SWINIR_X4 = 'mmagic::swinir/swinir_x4s64w8d6e180_8xb4-lr2e-4-500k_df2k.py'
DIV2K_RGB_MEAN = (0.4488, 0.4371, 0.4040)  # SwinIRNet's built-in mean, R > G > B


def load(config):
    return Config.fromfile(osp.join(REPO_ROOT, config))


def build_generator(config):
    with DefaultScope.overwrite_default_scope('mmagic'):
        return MODELS.build(load(config).model.generator.to_dict())


@pytest.fixture
def tiny_swinir():
    torch.manual_seed(0)
    return build_generator(TINY).eval()


def make_nearest_upsampler_(net):
    """Set the weights of a pixel-shuffle SwinIRNet so that it computes nearest x4 upsampling.

    conv_first keeps +(x - mean) and -(x - mean) (the LeakyReLU before the upsampler would bend
    a single copy), the body's residual branch is zeroed, every upsampling conv copies channel k
    into the 4 sub-pixels of channel k, and conv_last recombines the two copies. Every kernel is
    a centre tap, so the result is exactly ``x`` per pixel whatever the mean and ``img_range``:
    the output has the input's units.
    """
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        for c in range(3):
            net.conv_first.weight[c, c, 1, 1] = 1
            net.conv_first.weight[3 + c, c, 1, 1] = -1
        for k in range(6):
            net.conv_before_upsample[0].weight[k, k, 1, 1] = 1
        for conv in (m for m in net.upsample if isinstance(m, torch.nn.Conv2d)):
            for k in range(conv.in_channels):
                conv.weight[4 * k:4 * k + 4, k, 1, 1] = 1
        gain = 1 + net.conv_before_upsample[1].negative_slope  # lrelu(a) - lrelu(-a) = gain * a
        for c in range(3):
            net.conv_last.weight[c, c, 1, 1] = 1 / gain
            net.conv_last.weight[c, 3 + c, 1, 1] = -1 / gain
    return net


def test_paper_config_is_mmagics_classical_x4_swinir_and_changes_only_the_generator():
    ours = load(PAPER)
    assert ours.model.generator.to_dict() == get_config(MMAGIC_SWINIR_X4).model.generator.to_dict()
    gen = ours.model.generator
    assert (gen.type, gen.upscale, gen.img_size, gen.window_size, gen.embed_dim, gen.img_range,
            gen.upsampler) == ('SwinIRNet', 4, 64, 8, 180, 1.0, 'pixelshuffle')
    # No D-DBPN key leaks in (scale, init_cfg of the DBPN weights, ...).
    assert not {'scale', 'init_cfg', 'mid_channels', 'num_stages'} & set(gen)
    paper = load('configs/fdsr/fdsr_ddbpn-x4_maskrcnn-r50c4-a0.5b1_1xb8-2000k_coco20k.py').to_dict()
    child = ours.to_dict()
    paper['model'].pop('generator')
    child['model'].pop('generator')
    assert child == paper  # same losses, prior, data and schedule as the D-DBPN FDSR config


def test_tiny_config_changes_only_the_generator():
    tiny = load(TINY).to_dict()
    dbpn = load('configs/fdsr/fdsr_dbpn-tiny_x4_r18c4-tiny-a0.5b1_1xb4-200i_synthetic.py').to_dict()
    gen = tiny['model'].pop('generator')
    dbpn['model'].pop('generator')
    assert tiny == dbpn
    assert (gen['type'], gen['upscale'], gen['img_range'], gen['window_size']) == \
        ('SwinIRNet', 4, 1.0, 4)
    # The generator sees RGB: the pipeline loads RGB and the preprocessor only divides by 255.
    assert tiny['train_dataloader']['dataset']['pipeline'][0]['channel_order'] == 'rgb'
    assert tiny['model']['data_preprocessor']['mean'] == [0., 0., 0.]
    assert tiny['model']['data_preprocessor']['std'] == [255., 255., 255.]


def tiny_net(window_size):
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmagic'):  # an earlier test may leave 'mmdet'
        return MODELS.build(dict(type='SwinIRNet', upscale=4, img_size=16,
                                 window_size=window_size, depths=[1], embed_dim=12,
                                 num_heads=[2], mlp_ratio=2, upsampler='pixelshuffle',
                                 img_range=1.0)).eval()


@pytest.mark.parametrize('window_size', [4, 8])
def test_any_lr_size_whole_and_tiled(window_size):
    """SwinIRNet reflect-pads to a multiple of the window and crops: no caller-side padding."""
    net = tiny_net(window_size)
    lr = torch.rand(1, 3, 13, 17)  # a multiple of neither window
    whole = super_resolve_tensor(net, lr, scale=4)
    assert whole.shape == (1, 3, 52, 68) and torch.isfinite(whole).all()
    # With tile_pad >= window / 2 every patch is wider than half a window (edge patch of 1 + pad).
    tiled = super_resolve_tensor(net, lr, scale=4, tile=8, tile_pad=window_size // 2)
    assert tiled.shape == (1, 3, 52, 68) and torch.isfinite(tiled).all()


def test_patches_of_at_most_half_a_window_are_rejected():
    """The limit of that padding: reflect padding must be smaller than the side, so a patch (or
    whole LR image) side s with (-s mod window) >= s, i.e. s <= window / 2, fails. Tiled
    inference hits it with a small tile_pad: 17 = 8 + 8 + 1 gives a last patch 1 + 2 = 3 wide."""
    with pytest.raises(RuntimeError, match='[Pp]adding size should be less than'):
        super_resolve_tensor(tiny_net(8), torch.rand(1, 3, 13, 17), scale=4, tile=8, tile_pad=2)


def test_zeroed_last_conv_returns_the_div2k_rgb_mean_in_unit_range(tiny_swinir):
    """Output units are [0, 1] and channel 0 is red: with a zero last conv the net returns its
    built-in mean, DIV2K's RGB mean in [0, 1] (a [0, 255] network would return ~114, 111, 103;
    a BGR one 0.4040 first)."""
    with torch.no_grad():
        tiny_swinir.conv_last.weight.zero_()
        tiny_swinir.conv_last.bias.zero_()
        out = tiny_swinir(torch.full((2, 3, 16, 16), 0.7))
    assert out.shape == (2, 3, 64, 64)
    torch.testing.assert_close(out[0, :, 5, 9], torch.tensor(DIV2K_RGB_MEAN), rtol=0, atol=1e-6)


def test_unit_range_in_unit_range_out(tiny_swinir):
    """The mean shift and img_range scaling are undone exactly: the net's path adds no x255.
    Grey 0.3 stays 0.3, and an RGB image comes back nearest-upsampled, channels in place."""
    net = make_nearest_upsampler_(tiny_swinir)
    with torch.no_grad():
        grey = net(torch.full((1, 3, 13, 17), 0.3))
        torch.testing.assert_close(grey, torch.full((1, 3, 52, 68), 0.3), rtol=0, atol=1e-6)
        x = torch.rand(2, 3, 13, 17)
        torch.testing.assert_close(net(x), F.interpolate(x, scale_factor=4, mode='nearest'),
                                   rtol=0, atol=1e-6)


def test_super_resolve_image_with_swinir_is_uint8_rgb(tiny_swinir):
    net = make_nearest_upsampler_(tiny_swinir)
    img = np.random.default_rng(0).integers(0, 256, (13, 17, 3), dtype=np.uint8)
    for tile in (None, 8):
        sr = super_resolve_image(net, img, scale=4, tile=tile, tile_pad=2)
        assert sr.shape == (52, 68, 3) and sr.dtype == np.uint8
        np.testing.assert_array_equal(sr, img.repeat(4, axis=0).repeat(4, axis=1))
