"""The transposed convolution as phase convolutions of the same weights (issue 22): equal to
``F.conv_transpose2d`` in value and gradient, for D-DBPN's geometries and others, and a drop-in
``nn.ConvTranspose2d`` (same parameters, state dict, and the native path where asked)."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from fdsr_mm.models import DBPN
from fdsr_mm.models.generators.phase_deconv import (PhaseConvTranspose2d,
                                                    phase_conv_transpose2d)

# D-DBPN's x2, x4, x8 projection geometries (kernel, stride, padding) and a few others
GEOMETRIES = [(6, 2, 2), (8, 4, 2), (12, 8, 2), (4, 2, 1), (3, 1, 1), (5, 3, 1)]


@pytest.mark.parametrize('kernel, stride, padding', GEOMETRIES)
def test_values_and_gradients_equal_the_native_operator(kernel, stride, padding):
    torch.manual_seed(kernel * 10 + stride)
    x = torch.randn(2, 5, 7, 9, requires_grad=True)
    w = torch.randn(5, 6, kernel, kernel, requires_grad=True)
    b = torch.randn(6, requires_grad=True)
    ref = F.conv_transpose2d(x, w, b, stride, padding)
    out = phase_conv_transpose2d(x, w, b, stride, padding)
    assert out.shape == ref.shape
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    grad = torch.randn_like(ref)
    g_ref = torch.autograd.grad(ref, (x, w, b), grad)
    g_out = torch.autograd.grad(out, (x, w, b), grad)
    for a, r in zip(g_out, g_ref):
        torch.testing.assert_close(a, r, rtol=1e-4, atol=1e-4)


def test_module_is_a_conv_transpose2d_with_the_same_state_dict():
    torch.manual_seed(0)
    native = nn.ConvTranspose2d(8, 4, 8, 4, 2)
    phase = PhaseConvTranspose2d(8, 4, 8, 4, 2, impl='phase')
    phase.load_state_dict(native.state_dict())
    assert list(phase.state_dict()) == ['weight', 'bias']
    x = torch.randn(1, 8, 5, 6)
    torch.testing.assert_close(phase(x), native(x), rtol=1e-5, atol=1e-5)
    assert phase.use_phase(x) and not PhaseConvTranspose2d(8, 4, 8, 4, 2).use_phase(x)
    # what the phase path does not cover runs natively
    assert not PhaseConvTranspose2d(8, 4, 8, 4, 2, output_padding=1, impl='phase').use_phase(x)
    assert not PhaseConvTranspose2d(8, 4, (8, 6), 4, 2, impl='phase').use_phase(x)
    assert not PhaseConvTranspose2d(8, 4, 3, 4, 0, impl='phase').use_phase(x)  # kernel < stride
    with pytest.raises(ValueError, match='impl must be one of'):
        PhaseConvTranspose2d(8, 4, 8, 4, 2, impl='fast')


def test_dbpn_phase_and_native_paths_agree_and_train_alike():
    torch.manual_seed(0)
    phase = DBPN(mid_channels=32, base_channels=16, num_stages=3, deconv_impl='phase')
    native = DBPN(mid_channels=32, base_channels=16, num_stages=3, deconv_impl='native')
    native.load_state_dict(phase.state_dict())
    x = torch.rand(2, 3, 12, 10)
    out_p, out_n = phase(x), native(x)
    torch.testing.assert_close(out_p, out_n, rtol=1e-5, atol=1e-5)
    out_p.abs().mean().backward()
    out_n.abs().mean().backward()
    for (name, p), q in zip(phase.named_parameters(), native.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-5, msg=name)
