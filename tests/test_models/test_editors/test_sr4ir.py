"""SR4IR: CQMix, the task-driven perceptual loss, the two alternating steps (each leaves the other
network bit-identical), and the checkpoint that holds both networks."""
import pytest
import torch
import torch.nn.functional as F
from mmengine import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmagic.registry import MODELS

from fdsr_mm.models.editors.cqmix import cqmix_mask, cross_quality_mix
from fdsr_mm.models.losses import TaskDrivenPerceptualLoss
from helpers.sr4ir_testlib import tiny_cfg, write_coco


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    return write_coco(tmp_path_factory.mktemp('sr4ir_coco'))


@pytest.fixture
def model_and_batch(coco_root):
    cfg = tiny_cfg(coco_root)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model)
        loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
        data = model.data_preprocessor(next(iter(loader)), True)
    model.train()
    return model, data['inputs'], data['data_samples']


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def assert_same(before, module):
    after = module.state_dict()
    assert before.keys() == after.keys()
    for k, v in before.items():
        assert torch.equal(v, after[k]), k


def changed(before, module):
    return [k for k, v in module.state_dict().items() if not torch.equal(before[k], v)]


# -- CQMix -------------------------------------------------------------------------------------
def test_cqmix_masks_are_8x8_cells_with_both_sources_at_p_half():
    torch.manual_seed(0)
    mask = cqmix_mask(32, (64, 48))
    assert mask.shape == (32, 1, 64, 48)
    assert set(mask.unique().tolist()) <= {0., 1.}
    cells = mask.reshape(32, 1, 8, 8, 8, 6)  # 8 rows of 8 px, 8 columns of 6 px
    assert torch.equal(cells.amax(dim=(3, 5)), cells.amin(dim=(3, 5)))  # constant per cell
    per_cell = cells[:, :, :, 0, :, 0]
    assert 0.45 < per_cell.mean().item() < 0.55  # 2048 Bernoulli(0.5) cells
    assert (per_cell.flatten(1).sum(1) > 0).all() and (per_cell.flatten(1).sum(1) < 64).all()
    assert cqmix_mask(2, (16, 16), p=0.).sum() == 0 and cqmix_mask(2, (16, 16), p=1.).min() == 1


def test_cross_quality_mix_takes_sr_where_the_mask_is_one():
    sr, hr = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    mask = cqmix_mask(2, (16, 16))
    mixed = cross_quality_mix(sr, hr, mask)
    m = mask.bool().expand_as(sr)
    assert torch.equal(mixed[m], sr[m]) and torch.equal(mixed[~m], hr[~m])
    with pytest.raises(ValueError, match='differ in shape'):
        cross_quality_mix(sr, hr[..., :8], mask)


def test_every_detector_term_sees_the_hr_boxes_unchanged(model_and_batch):
    model, inputs, samples = model_and_batch
    seen, real_loss = [], model.detector.loss

    def recording_loss(x, data_samples):
        seen.append([(s.gt_instances.bboxes.clone(), s.gt_instances.labels.clone())
                     for s in data_samples])
        return real_loss(x, data_samples)

    model.detector.loss = recording_loss
    hr = samples.gt_img
    with torch.no_grad():
        sr = model.generator(inputs)
    losses = model.detector_losses(sr, hr, samples.gt_instances)
    assert sorted(losses) == ['loss_det_cqmix', 'loss_det_hr', 'loss_det_sr']
    assert len(seen) == 3
    for call in seen:
        for (boxes, labels), inst in zip(call, samples.gt_instances):
            assert torch.equal(boxes, inst.bboxes.float()) and torch.equal(labels, inst.labels)


# -- the task-driven perceptual loss ---------------------------------------------------------------
def test_tdp_loss_is_the_weighted_l1_of_the_chosen_levels():
    torch.manual_seed(0)
    a = [torch.randn(2, 4, 8, 8), torch.randn(2, 4, 4, 4), torch.randn(2, 4, 2, 2)]
    b = [torch.randn_like(x) for x in a]
    loss = TaskDrivenPerceptualLoss(level_weights=(0.5, 0, 0.25), loss_weight=2.)
    by_hand = 2. * (0.5 * (a[0] - b[0]).abs().mean() + 0.25 * (a[2] - b[2]).abs().mean())
    assert torch.allclose(loss(a, b), by_hand)
    mse = TaskDrivenPerceptualLoss(level_weights=(1., ), criterion='mse')
    assert torch.allclose(mse(a, b), F.mse_loss(a[0], b[0]))
    with pytest.raises(ValueError, match='level 2 asked for'):
        loss(a[:2], b[:2])
    with pytest.raises(ValueError, match='positive weight'):
        TaskDrivenPerceptualLoss(level_weights=(0, 0))


# -- the two steps -------------------------------------------------------------------------------
def test_step_a_updates_the_generator_and_leaves_the_detector_bit_identical(model_and_batch):
    model, inputs, samples = model_and_batch
    det_before, gen_before = snapshot(model.detector), snapshot(model.generator)
    optim = OptimWrapper(torch.optim.AdamW(model.generator.parameters(), lr=1e-3))
    MessageHub.get_current_instance().update_info('iter', 10)  # TDP on from iteration 10
    log = model.train_generator(inputs, samples.gt_img, optim)
    assert {'loss_pix', 'loss_tdp', 'loss_sr'} <= set(log)
    assert_same(det_before, model.detector)  # weights and BN statistics
    assert all(p.grad is None for p in model.detector.parameters())
    assert all(p.requires_grad for p in model.detector.parameters())
    assert model.detector.training  # the eval mode of the TDP features is undone
    assert changed(gen_before, model.generator)


def test_the_tdp_term_waits_for_its_start_iteration(model_and_batch):
    model, inputs, samples = model_and_batch
    MessageHub.get_current_instance().update_info('iter', 9)
    log = model.train_generator(inputs, samples.gt_img, OptimWrapper(
        torch.optim.AdamW(model.generator.parameters(), lr=1e-3)))
    assert 'loss_tdp' not in log and torch.equal(log['loss_sr'], log['loss_pix'])


def test_step_b_updates_the_detector_and_leaves_the_generator_bit_identical(model_and_batch):
    model, inputs, samples = model_and_batch
    det_before, gen_before = snapshot(model.detector), snapshot(model.generator)
    optim = OptimWrapper(torch.optim.SGD(model.detector.parameters(), lr=2e-3, momentum=0.9))
    log = model.train_detector(inputs, samples.gt_img, samples.gt_instances, optim)
    assert {'loss_det_sr', 'loss_det_hr', 'loss_det_cqmix', 'loss_det'} <= set(log)
    assert_same(gen_before, model.generator)
    assert all(p.grad is None for p in model.generator.parameters())
    assert changed(det_before, model.detector)


def test_train_step_refuses_a_single_optimizer(model_and_batch, coco_root):
    model, _, _ = model_and_batch
    with DefaultScope.overwrite_default_scope('mmagic'):
        data = next(iter(Runner.build_dataloader(tiny_cfg(coco_root).train_dataloader, seed=0)))
    with pytest.raises(TypeError, match="'generator' and 'detector' optimizers"):
        model.train_step(data, OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
