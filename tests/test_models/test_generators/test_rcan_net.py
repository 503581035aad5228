"""RCANNet: paper size, the authors' key layout, [0, 1] in/out around the internal [0, 255] range."""
import pytest
import torch

from mmagic.registry import MODELS

from fdsr_mm.models import RCANNet


def test_rcan_x4_size_and_official_key_layout():
    net = RCANNet()
    sd = net.state_dict()
    assert sum(v.numel() for v in sd.values()) == 15_592_379  # incl. the two fixed MeanShifts
    assert sd['body.0.body.0.body.3.conv_du.0.weight'].shape == (4, 64, 1, 1)
    assert sd['body.9.body.20.weight'].shape == (64, 64, 3, 3)  # conv closing group 10
    assert sd['body.10.weight'].shape == (64, 64, 3, 3)  # conv after the groups
    assert sd['tail.0.2.weight'].shape == (256, 64, 3, 3) and sd['tail.1.weight'].shape[0] == 3
    assert not net.sub_mean.weight.requires_grad


@pytest.mark.parametrize('scale', [2, 3, 4])
def test_shapes_and_official_state_dict_loads_strictly(scale):
    small = dict(scale=scale, mid_channels=16, num_groups=2, num_blocks=2, reduction=4)
    src, dst = RCANNet(**small), MODELS.build(dict(type='RCANNet', **small))
    dst.load_state_dict(src.state_dict(), strict=True)
    x = torch.rand(1, 3, 5, 7)
    with torch.no_grad():
        out = dst(x)
        torch.testing.assert_close(out, src(x))
    assert out.shape == (1, 3, 5 * scale, 7 * scale)


def test_mean_shift_pair_is_identity_in_0_255_and_io_is_0_1():
    net = RCANNet(mid_channels=8, num_groups=1, num_blocks=1, reduction=4)
    x = torch.rand(1, 3, 4, 4) * 255
    torch.testing.assert_close(net.add_mean(net.sub_mean(x)), x, rtol=0, atol=1e-4)
    # With a zero tail conv, the output is exactly the re-added mean, in [0, 1] units.
    torch.nn.init.zeros_(net.tail[1].weight)
    torch.nn.init.zeros_(net.tail[1].bias)
    with torch.no_grad():
        out = net(torch.rand(1, 3, 4, 4))
    torch.testing.assert_close(out[0, :, 0, 0], torch.tensor([0.4488, 0.4371, 0.4040]))
