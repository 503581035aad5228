"""SR4IR through mmengine's Runner: both optimizers' states come back with ``--resume``, and one
checkpoint holds both networks, which the cascade's loaders and an SRDetector read."""
import copy

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from fdsr_mm.apis.inferencers import init_sr_detector
from fdsr_mm.engine import install_checkpoint_fit_check
from fdsr_mm.utils.checkpoints.detector import load_detector_state_dict
from fdsr_mm.utils.checkpoints.detector import WeightsMismatchError
from fdsr_mm.utils.checkpoints.generator import read_generator_state
from conftest import REPO_ROOT
from helpers.sr4ir_testlib import CONFIG, tiny_cfg, write_coco

DETECTOR = 'configs/study/detectors/faster-rcnn_r18-c16-fpn_1xb4-1000i_synthetic-coco.py'
SR_DETECTOR = '''
_base_ = [{det!r}, {sr_base!r}]
model = dict(
    _delete_=True, type='SRDetector', detector={{{{_base_.model}}}},
    detector_test_pipeline={{{{_base_.test_pipeline}}}},
    sr=dict(config={sr!r}, checkpoint=None, scale=4, tile=None),
    detector_checkpoint=None, data_preprocessor={{{{_base_.lr_data_preprocessor}}}})
'''

pytestmark = pytest.mark.usefixtures('restore_default_scope')


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    return write_coco(tmp_path_factory.mktemp('sr4ir_coco'))


class OptimStateAtStart(Hook):
    """The optimizers' states when training starts (after ``--resume`` loaded them)."""

    def before_train(self, runner):
        self.states = {name: copy.deepcopy(w.optimizer.state_dict())
                       for name, w in runner.optim_wrapper.items()}


def train(cfg, *hooks):
    runner = Runner.from_cfg(cfg)
    install_checkpoint_fit_check(runner)
    for hook in hooks:
        runner.register_hook(hook)
    runner.train()
    return runner


def short_cfg(coco_root, work_dir, iters):
    cfg = tiny_cfg(coco_root, work_dir)
    cfg.merge_from_dict({'train_cfg.max_iters': iters, 'train_cfg.val_interval': iters,
                         'default_hooks.checkpoint.interval': 1, 'default_hooks.logger.interval': 1,
                         'model.tdp_start_iter': 0, 'randomness.seed': 0})
    return cfg


@pytest.fixture(scope='module')
def trained(coco_root, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('sr4ir_run')
    train(short_cfg(coco_root, work_dir, 2))
    return work_dir


def assert_states_equal(a, b, where):
    assert a.keys() == b.keys(), where
    for k in a:
        if isinstance(a[k], dict):
            assert_states_equal(a[k], b[k], f'{where}.{k}')
        elif torch.is_tensor(a[k]):
            assert torch.equal(a[k], b[k]), f'{where}.{k}'
        else:
            assert a[k] == b[k], f'{where}.{k}'


def test_resume_restores_both_optimizers(coco_root, trained, tmp_path):
    saved = torch.load(trained / 'iter_1.pth', map_location='cpu', weights_only=False)
    assert set(saved['optimizer']) == {'generator', 'detector'}
    cfg = short_cfg(coco_root, tmp_path, 2)
    cfg.merge_from_dict({'resume': True, 'load_from': str(trained / 'iter_1.pth')})
    at_start = OptimStateAtStart()
    runner = train(cfg, at_start)
    assert runner.iter == 2
    for name in ('generator', 'detector'):
        state = saved['optimizer'][name]
        assert state['state'], name  # momentum / Adam moments exist after one step
        assert_states_equal(state['state'], at_start.states[name]['state'], name)
    # AdamW counts its steps: the resumed run's second step is step 2
    final = torch.load(tmp_path / 'iter_2.pth', map_location='cpu', weights_only=False)
    assert all(s['step'] == 2 for s in final['optimizer']['generator']['state'].values())
    assert all('momentum_buffer' in s for s in final['optimizer']['detector']['state'].values())


def test_one_checkpoint_holds_both_networks_for_the_cascade_and_srdetector(trained, tmp_path):
    ckpt = str(trained / 'iter_2.pth')
    state = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
    prefixes = {k.split('.', 1)[0] for k in state}
    assert prefixes == {'generator', 'detector'}
    # the cascade's SR method (NAME=CONFIG:CHECKPOINT) reads the generator part
    generator = read_generator_state(ckpt)
    assert generator.keys() == {k[len('generator.'):] for k in state if k[0] == 'g'}
    # ... and its detector loaders (cascade CHECKPOINT, priors, task losses) the detector part
    detector = load_detector_state_dict(ckpt, DETECTOR, 'Detector', 'checkpoint')
    assert detector.keys() == {k[len('detector.'):] for k in state if k[0] == 'd'}
    assert all(torch.equal(v, state[f'detector.{k}']) for k, v in detector.items())
    # the pair as one SRDetector: the SR4IR checkpoint is its packed weights
    config = tmp_path / 'sr4ir_pair.py'
    config.write_text(SR_DETECTOR.format(
        det=f'{REPO_ROOT}/{DETECTOR}', sr=f'{REPO_ROOT}/{CONFIG}',
        sr_base=f'{REPO_ROOT}/configs/sr_detectors/_base_/fdsr-x4_lr-images.py'))
    model = init_sr_detector(str(config), ckpt)
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k]), k


def test_resume_with_another_detector_optimizer_is_refused(coco_root, trained, tmp_path):
    cfg = short_cfg(coco_root, tmp_path, 2)
    cfg.merge_from_dict({'resume': True, 'load_from': str(trained / 'iter_1.pth'),
                         'optim_wrapper.detector.optimizer': dict(_delete_=True, type='Adam',
                                                                 lr=1e-3)})
    with pytest.raises(WeightsMismatchError, match='another optimizer type') as info:
        train(cfg)
    assert 'iter_1.pth' in str(info.value)


def test_the_detector_starts_from_its_checkpoint_through_the_runners_init(coco_root, tmp_path):
    from conftest import save_mmdet_checkpoint
    from fdsr_mm.models.editors.trainable_detector import build_trainable_detector
    torch.manual_seed(3)
    start, _ = build_trainable_detector(DETECTOR)
    start.init_weights()
    save_mmdet_checkpoint(start, tmp_path / 'det.pth')
    cfg = short_cfg(coco_root, tmp_path / 'work', 1)
    cfg.merge_from_dict({'model.detector.checkpoint': str(tmp_path / 'det.pth'),
                         'optim_wrapper.generator.optimizer.lr': 0.,
                         'optim_wrapper.detector.optimizer.lr': 0.})
    train(cfg)
    state = torch.load(tmp_path / 'work' / 'iter_1.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    for name, param in start.named_parameters():  # lr 0: still the file's weights
        assert torch.equal(state[f'detector.{name}'], param.detach()), name


def test_the_cascade_scores_the_pair_and_its_sr_part_from_one_checkpoint(
        coco_root, trained, tmp_path):
    """The detector CHECKPOINT and the method's CHECKPOINT are the same SR4IR file."""
    from fdsr_mm.apis import run_cascade
    from fdsr_mm.evaluation.tables import load_results
    ckpt = str(trained / 'iter_2.pth')
    out = str(tmp_path / 'out')
    run_cascade(f'{REPO_ROOT}/{DETECTOR}', ckpt, ['bicubic', f'sr4ir={REPO_ROOT}/{CONFIG}:{ckpt}'],
                out, scale=4, device='cpu', progress=False, iq_metrics=['psnr'],
                cfg_options={'test_dataloader.dataset.data_root': f'{coco_root}/',
                             'test_evaluator.ann_file':
                                 f'{coco_root}/annotations/instances_val.json'})
    result = load_results(f'{out}/results.json')
    assert list(result['methods']) == ['bicubic', 'sr4ir']
    sr4ir = result['methods']['sr4ir']
    assert sr4ir['spec']['checkpoint'] == ckpt and sr4ir['iq']['psnr'] > 0
    assert 0 <= sr4ir['det']['AP'] <= 100
