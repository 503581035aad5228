"""FDSR under bfloat16 autocast (``--amp`` on a CPU, issue 22): the generator and the frozen
feature prior run in bfloat16, a few training steps stay finite and close to float32 ones from
the same start, and the weights stay float32."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper

from fdsr_mm.engine import BF16AutocastOptimWrapper
from test_fdsr import batch, build_fdsr  # (same folder)

ADAM = dict(optimizer=dict(type='Adam', lr=1e-3))


def train(model, wrapper_type, steps=3):
    optim = build_optim_wrapper(model, dict(type=wrapper_type, **ADAM))
    logs = [model.train_step(batch(seed=i), optim) for i in range(steps)]
    return optim, logs


def test_the_generator_and_the_prior_run_in_bfloat16_inside_the_context(tiny_c4_detector):
    model = build_fdsr(tiny_c4_detector)
    optim = build_optim_wrapper(model, dict(type='BF16AutocastOptimWrapper', **ADAM))
    assert isinstance(optim, BF16AutocastOptimWrapper)
    data = model.data_preprocessor(batch(), training=True)
    seen = {}

    def record(name):
        def hook(module, inputs, output):  # returns None: the output is kept
            seen.setdefault(name, _first(output).dtype)
        return hook
    hooks = [model.generator.feat0.conv.register_forward_hook(record('generator')),
             model.feature_loss.extractor['backbone'].register_forward_hook(record('prior'))]
    with optim.optim_context(model):
        losses = model(**data, mode='loss')
    for h in hooks:
        h.remove()
    assert seen == {'generator': torch.bfloat16, 'prior': torch.bfloat16}
    assert all(torch.isfinite(v).all() for v in losses.values())


def _first(out):
    return out if torch.is_tensor(out) else _first(out[-1] if isinstance(out, (tuple, list))
                                                   else next(iter(out.values())))


def test_bf16_steps_stay_finite_and_close_to_float32(tiny_c4_detector):
    torch.manual_seed(0)
    fp32 = build_fdsr(tiny_c4_detector)
    bf16 = build_fdsr(tiny_c4_detector)
    bf16.generator.load_state_dict(fp32.generator.state_dict())
    init = {k: v.clone() for k, v in fp32.generator.named_parameters()}
    _, logs32 = train(fp32, 'OptimWrapper')
    _, logs16 = train(bf16, 'BF16AutocastOptimWrapper')
    for a, b in zip(logs32, logs16):
        for key in ('loss', 'loss_pix', 'loss_feat'):
            assert torch.isfinite(b[key])
            # bfloat16 keeps 8 bits of mantissa: the same loss to a few percent
            torch.testing.assert_close(b[key], a[key], rtol=0.05, atol=1e-4, msg=key)
    update32, update16 = [], []
    for (name, p32), p16, p0 in zip(fp32.generator.named_parameters(),
                                    bf16.generator.parameters(), init.values()):
        assert p16.dtype == torch.float32 and torch.isfinite(p16).all(), name
        update32.append((p32 - p0).flatten())
        update16.append((p16 - p0).flatten())
    update32, update16 = torch.cat(update32), torch.cat(update16)
    assert update16.abs().max() > 0
    # the same training, to bfloat16's precision: the two updates point the same way
    assert torch.nn.functional.cosine_similarity(update16, update32, dim=0) > 0.9


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_float16_amp_optim_wrapper_on_the_gpu_stays_finite_and_close(tiny_c4_detector):
    """What ``--amp`` picks on a GPU: mmengine's AmpOptimWrapper, float16 with a loss scale."""
    torch.manual_seed(0)
    fp32 = build_fdsr(tiny_c4_detector).cuda()
    fp16 = build_fdsr(tiny_c4_detector).cuda()
    fp16.generator.load_state_dict(fp32.generator.state_dict())
    _, logs32 = train(fp32, 'OptimWrapper')
    _, logs16 = train(fp16, 'AmpOptimWrapper')
    for a, b in zip(logs32, logs16):
        assert torch.isfinite(b['loss'])
        torch.testing.assert_close(b['loss'], a['loss'], rtol=0.05, atol=1e-4)
