"""DBPN generator: D-DBPN size and layout, odd input sizes, variants, registry build."""
import pytest
import torch

from mmagic.registry import MODELS

from fdsr_mm.models import DBPN


def test_d_dbpn_x4_matches_the_official_network_size_and_keys():
    net = DBPN()  # defaults = D-DBPN x4
    assert sum(p.numel() for p in net.parameters()) == 10_426_358
    sd = net.state_dict()
    assert len(sd) == 155
    assert sd['feat0.conv.weight'].shape == (256, 3, 3, 3)
    assert sd['feat0.act.weight'].shape == (1,)  # one shared PReLU slope
    assert sd['feat1.conv.weight'].shape == (64, 256, 1, 1)
    assert sd['up1.up_conv1.deconv.weight'].shape == (64, 64, 8, 8)
    assert sd['down2.conv.conv.weight'].shape == (64, 128, 1, 1)
    assert sd['up7.conv.conv.weight'].shape == (64, 384, 1, 1)
    assert sd['output_conv.conv.weight'].shape == (3, 448, 3, 3)
    assert 'down7.conv.conv.weight' not in sd  # T=7 up units, 6 down units


@pytest.mark.parametrize('scale', [2, 4, 8])
@pytest.mark.parametrize('dense', [True, False])
def test_output_is_exactly_scale_times_odd_input(scale, dense):
    net = DBPN(mid_channels=8, base_channels=4, num_stages=3, scale=scale, dense=dense).eval()
    with torch.no_grad():
        out = net(torch.rand(2, 3, 7, 5))
    assert out.shape == (2, 3, 7 * scale, 5 * scale)


def test_bicubic_residual_adds_the_bicubic_upsampling():
    torch.manual_seed(0)
    net = DBPN(mid_channels=8, base_channels=4, num_stages=2, bicubic_residual=True).eval()
    x = torch.rand(1, 3, 6, 6)
    with torch.no_grad():
        with_res = net(x)
        net.bicubic_residual = False
        without = net(x)
    bicubic = torch.nn.functional.interpolate(x, scale_factor=4, mode='bicubic',
                                              align_corners=False)
    torch.testing.assert_close(with_res - without, bicubic, atol=1e-5, rtol=0)


def test_registered_in_mmagic_models_and_rejects_bad_scale():
    net = MODELS.build(dict(type='DBPN', mid_channels=8, base_channels=4, num_stages=2))
    assert isinstance(net, DBPN)
    with pytest.raises(ValueError, match='scale 2, 4 or 8'):
        DBPN(scale=3)


@pytest.mark.parametrize('dense', [True, False])
def test_channels_last_gives_the_nchw_output_and_gradients_from_the_same_weights(dense):
    """The NHWC path (the default) is a memory order, not another network: same state dict,
    output and weight gradients equal to the NCHW path's to float rounding, and the output
    comes back contiguous NCHW (what every consumer of an SR tensor expects)."""
    torch.manual_seed(0)
    nhwc = DBPN(mid_channels=16, base_channels=8, num_stages=3, dense=dense,
                bicubic_residual=True)
    nchw = DBPN(mid_channels=16, base_channels=8, num_stages=3, dense=dense,
                bicubic_residual=True, channels_last=False)
    nchw.load_state_dict(nhwc.state_dict())
    assert nhwc.channels_last and not nchw.channels_last
    x = torch.rand(2, 3, 9, 11)
    out_l, out_c = nhwc(x), nchw(x)
    assert out_l.is_contiguous() and out_l.shape == (2, 3, 36, 44)
    torch.testing.assert_close(out_l, out_c, rtol=1e-5, atol=1e-5)
    out_l.square().mean().backward()
    out_c.square().mean().backward()
    for (name, p), q in zip(nhwc.named_parameters(), nchw.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-6, msg=name)


def test_phase_deconvolutions_keep_the_maps_nchw():
    net = DBPN(mid_channels=8, base_channels=4, num_stages=2, deconv_impl='phase')
    assert not net.channels_last


def _saved_bytes(net, x):
    """Bytes of the tensors autograd keeps for the backward pass of ``net(x)``."""
    total = 0

    def pack(t):
        nonlocal total
        total += t.numel() * t.element_size()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = net(x)
    return out, total


def test_with_cp_keeps_less_for_backward_and_gives_the_same_gradients():
    torch.manual_seed(0)
    kw = dict(mid_channels=16, base_channels=8, num_stages=3)
    plain, cp = DBPN(**kw), DBPN(with_cp=True, **kw)
    cp.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 12, 12)
    out_p, saved_p = _saved_bytes(plain, x)
    out_c, saved_c = _saved_bytes(cp, x)
    assert saved_c < 0.6 * saved_p  # the units' inner maps are recomputed, not kept
    torch.testing.assert_close(out_c, out_p, rtol=0, atol=0)
    out_p.square().mean().backward()
    out_c.square().mean().backward()
    for (name, p), q in zip(plain.named_parameters(), cp.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-5, atol=1e-7, msg=name)
    cp.eval()
    with torch.no_grad():  # no checkpointing outside training
        torch.testing.assert_close(cp(x), plain.eval()(x), rtol=0, atol=0)
