"""configs/sr4ir/: the paper-scale config carries the authors' detection settings (their public
options/det/014_SR4IR_edsr_x4.yml), and its learning-rate schedules are theirs."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import PARAM_SCHEDULERS

from conftest import REPO_ROOT

PAPER = f'{REPO_ROOT}/configs/sr4ir/sr4ir_edsr-baseline-x4_faster-rcnn-r50-fpn_1xb16-30e_voc0712.py'
ITERS = 16551 // 16  # VOC07+12 trainval at batch 16


@pytest.fixture(scope='module')
def paper():
    return Config.fromfile(PAPER)


def test_paper_config_has_the_authors_values(paper):
    m = paper.model
    assert m.type == 'SR4IR' and paper.train_dataloader.batch_size == 16
    edsr = Config.fromfile(f'{REPO_ROOT}/configs/edsr/edsr_x4c64b16_1xb8-2000k_coco20k.py')
    assert m.generator.to_dict() == edsr.model.generator.to_dict()  # 16 blocks, 64 channels
    assert paper.load_from == edsr.load_from and paper.load_from_partial  # MMagic's EDSR x4
    assert m.pixel_loss.type == 'L1Loss' and m.pixel_loss.loss_weight == 1.0
    assert m.tdp_loss.to_dict() == dict(type='TaskDrivenPerceptualLoss', level_weights=(0.5, 0.5),
                                        criterion='l1', loss_weight=1.0)
    assert m.det_loss_weights == dict(sr=0.34, hr=0.34, cqmix=0.34)
    assert m.cqmix == dict(grid=8, p=0.5) and m.tdp_start_iter == 3 * ITERS
    assert 'faster-rcnn' in m.detector.config and 'voc0712' in m.detector.config
    g, d = paper.optim_wrapper.generator.optimizer, paper.optim_wrapper.detector.optimizer
    assert (g.type, g.lr, tuple(g.betas), g.weight_decay) == ('AdamW', 1e-4, (0.9, 0.999), 0.)
    assert (d.type, d.lr, d.momentum, d.weight_decay) == ('SGD', 2e-2, 0.9, 1e-4)
    assert paper.optim_wrapper.constructor == 'MultiOptimWrapperConstructor'
    assert paper.train_cfg.max_iters == 30 * ITERS


@pytest.mark.parametrize('name, lr, eta_min', [('generator', 1e-4, 1e-6),
                                               ('detector', 2e-2, 1e-4)])
def test_paper_schedules_warm_up_one_epoch_then_restart_after_two(paper, name, lr, eta_min):
    param = torch.nn.Parameter(torch.zeros(1))
    optim = torch.optim.SGD([param], lr=lr)
    schedulers = [PARAM_SCHEDULERS.build(dict(s, optimizer=optim))
                  for s in paper.param_scheduler[name]]
    lrs = []
    for _ in range(paper.train_cfg.max_iters):
        lrs.append(optim.param_groups[0]['lr'])
        optim.step()
        for s in schedulers:
            s.step()
    assert lrs[0] == pytest.approx(lr / ITERS)  # epoch 1: linear warm-up from lr / iters
    assert lrs[ITERS] == pytest.approx(lr)
    assert lrs[3 * ITERS - 1] == pytest.approx(eta_min, rel=1e-2)  # end of the 2-epoch period
    assert lrs[3 * ITERS] == pytest.approx(lr)  # the restart
    assert lrs[-1] == pytest.approx(eta_min, rel=1e-2)  # end of the 27-epoch period
    assert min(lrs[ITERS:]) >= eta_min * (1 - 1e-6)
