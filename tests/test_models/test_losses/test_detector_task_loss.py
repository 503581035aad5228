"""DetectorTaskLoss (TDSR): a frozen detector's own loss() on SR images, in the FDSR restorer."""
import copy
import glob
import logging
import os.path as osp
import uuid

import cv2
import numpy as np
import pytest
import torch
from conftest import C4_CONFIG, TINY_C4, save_mmdet_checkpoint
from mmengine import MMLogger
from mmengine.dataset import Compose
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

import fdsr_mm  # noqa: F401  (registers the models)
from fdsr_mm.models.losses.detector_feature_loss import load_extractor_config
from mmagic.registry import MODELS
from mmagic.structures import DataSample

# The paper's Table 3 task network (the repo's SSD300 VOC config) with a tiny ResNet instead of
# VGG16; norm_eval=False so that only DetectorTaskLoss keeps its BN statistics fixed.
SSD_CONFIG = 'fdsr_mm::detectors/ssd300_voc0712.py'
TINY_SSD = {'model.backbone': dict(_delete_=True, type='ResNet', depth=18, base_channels=8,
                                   num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1),
                                   out_indices=(1, 2), frozen_stages=-1, norm_eval=False),
            'model.neck.in_channels': (16, 32),
            'model.neck.out_channels': (16, 32, 16, 16, 16, 16),
            'model.bbox_head.in_channels': (16, 32, 16, 16, 16, 16)}
RETINA_CONFIG = 'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py'
TINY_RETINA = {'model.backbone.base_channels': 8, 'model.neck.in_channels': [8, 16, 32, 64],
               'model.neck.out_channels': 16, 'model.bbox_head.in_channels': 16,
               'model.bbox_head.feat_channels': 16}
# FCOS with norm_on_bbox: its head scales box predictions by the stride outside training.
FCOS_CONFIG = 'mmdet::fcos/fcos_r50-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco.py'
TINY_FCOS = {'model.backbone.depth': 18, 'model.backbone.base_channels': 8,
             'model.neck.in_channels': [8, 16, 32, 64], 'model.neck.out_channels': 32,
             'model.bbox_head.in_channels': 32, 'model.bbox_head.feat_channels': 32}
# conftest's tiny C4 drops the res5 shared head (a feature prior only); with 7x7 RoIs instead
# of 14x14 its box head runs on the RoI features directly.
TINY_C4_RUNNABLE = dict(TINY_C4, **{'model.roi_head.bbox_roi_extractor.roi_layer.output_size': 7})
TINY_DBPN = dict(type='DBPN', mid_channels=16, base_channels=8, num_stages=2, scale=4,
                 bicubic_residual=True)
PRE = dict(type='DataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.])


def _saved_detector(tmp_path_factory, config, options, seed, tag):
    """(config, options, checkpoint path, detector): a random tiny detector saved like the zoo."""
    from mmdet.registry import MODELS as MMDET_MODELS
    torch.manual_seed(seed)
    cfg = load_extractor_config(config, options)
    cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MMDET_MODELS.build(cfg.model)
    model.init_weights()
    for name, buf in model.named_buffers():  # non-trivial BN statistics
        if name.endswith('running_mean'):
            buf.uniform_(-0.1, 0.1)
        elif name.endswith('running_var'):
            buf.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp(tag) / f'tiny_{tag}.pth'
    save_mmdet_checkpoint(model, path)
    return config, options, str(path), model


@pytest.fixture(scope='module')
def tiny_ssd(tmp_path_factory):
    return _saved_detector(tmp_path_factory, SSD_CONFIG, TINY_SSD, 2, 'ssd')


@pytest.fixture(scope='module')
def tiny_c4(tmp_path_factory):
    return _saved_detector(tmp_path_factory, C4_CONFIG, TINY_C4_RUNNABLE, 5, 'c4')


@pytest.fixture(scope='module')
def tiny_retina(tmp_path_factory):
    return _saved_detector(tmp_path_factory, RETINA_CONFIG, TINY_RETINA, 3, 'retina')


@pytest.fixture(scope='module')
def tiny_fcos(tmp_path_factory):
    return _saved_detector(tmp_path_factory, FCOS_CONFIG, TINY_FCOS, 4, 'fcos')


def build_loss(detector, loss_weight=1.0):
    config, options, ckpt, _ = detector
    return MODELS.build(dict(type='DetectorTaskLoss', detector_config=config,
                             detector_cfg_options=options, checkpoint=ckpt,
                             loss_weight=loss_weight))


def images_and_boxes(n, h, w, seed=0):
    """n RGB uint8 (h, w, 3) images and per image InstanceData of 2 boxes (xyxy, labels < 20)."""
    rng = np.random.default_rng(seed)
    imgs = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]
    boxes = []
    for _ in range(n):
        x0, y0 = rng.uniform(0, w / 2, 2), rng.uniform(0, h / 2, 2)
        bw, bh = rng.uniform(w / 8, w / 2, 2), rng.uniform(h / 8, h / 2, 2)
        xyxy = np.stack([x0, y0, x0 + bw, y0 + bh], 1).astype(np.float32)
        boxes.append(InstanceData(bboxes=torch.from_numpy(xyxy),
                                  labels=torch.from_numpy(rng.integers(0, 20, 2))))
    return imgs, boxes


def mmdet_batch(detector, imgs, boxes, tmp_path):
    """mmdet's own train transforms on PNG files + the detector's DetDataPreprocessor."""
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
                dict(type='Resize', scale=imgs[0].shape[1::-1], keep_ratio=False),
                dict(type='RandomFlip', prob=0.), dict(type='PackDetInputs')]
    with DefaultScope.overwrite_default_scope('mmdet'):
        pipeline = Compose(pipeline)
    packed = []
    for i, (img, inst) in enumerate(zip(imgs, boxes)):
        path = str(tmp_path / f'img{i}.png')
        cv2.imwrite(path, img[..., ::-1])  # files hold BGR
        instances = [dict(bbox=b.tolist(), bbox_label=int(l), ignore_flag=0)
                     for b, l in zip(inst.bboxes, inst.labels)]
        packed.append(pipeline(dict(img_path=path, img_id=i, instances=instances)))
    return detector.data_preprocessor(dict(inputs=[p['inputs'] for p in packed],
                                           data_samples=[p['data_samples'] for p in packed]),
                                      training=True)


def assert_same_losses(ours, theirs):
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        if isinstance(value, torch.Tensor):
            torch.testing.assert_close(ours[key], value)
        else:
            assert len(ours[key]) == len(value)
            for a, b in zip(ours[key], value):
                torch.testing.assert_close(a, b)


@pytest.mark.parametrize('which,size', [('ssd', (300, 300)), ('c4', (70, 90)),
                                        ('fpn', (70, 90)), ('retina', (70, 90))])
def test_loss_equals_the_detectors_own_loss_on_the_same_image(
        which, size, tmp_path, tiny_ssd, tiny_c4, tiny_fpn_detector, tiny_retina):
    """SSD, two-stage (caffe C4 and FPN, random samplers seeded alike) and RetinaNet: our loss
    of RGB [0, 1] SR images = mmdet's loss() of the same images loaded, annotated, packed and
    preprocessed by mmdet, with the detector in plain eval mode (70x90 forces padding to 32)."""
    detector = dict(ssd=tiny_ssd, c4=tiny_c4, fpn=tiny_fpn_detector,
                    retina=tiny_retina)[which]
    loss = build_loss(detector, loss_weight=0.5)
    reference = copy.deepcopy(detector[3]).eval()
    imgs, boxes = images_and_boxes(2, *size)
    data = mmdet_batch(reference, imgs, boxes, tmp_path)
    sr = torch.stack([torch.from_numpy(i).permute(2, 0, 1) for i in imgs]).float() / 255.
    torch.testing.assert_close(loss.to_detector_input(sr), data['inputs'], rtol=0, atol=1e-4)

    torch.manual_seed(0)
    theirs = reference.loss(data['inputs'], data['data_samples'])
    torch.manual_seed(0)
    ours = loss.detector_losses(sr, boxes)
    assert_same_losses(ours, theirs)
    expected_keys = dict(ssd={'loss_cls', 'loss_bbox'}, retina={'loss_cls', 'loss_bbox'})
    expected_keys['c4'] = expected_keys['fpn'] = {'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls',
                                                  'loss_bbox', 'acc'}
    assert set(theirs) == expected_keys[which]
    torch.manual_seed(0)
    total = loss(sr, boxes)
    parts = [v if isinstance(v, torch.Tensor) else sum(x.mean() for x in v)
             for k, v in theirs.items() if 'loss' in k]
    torch.testing.assert_close(total, 0.5 * sum(p.mean() for p in parts))


def test_heads_that_read_the_training_flag_get_their_training_loss(tmp_path, tiny_fcos):
    """FCOS (norm_on_bbox) scales its box output by the stride outside training: the loss
    follows mmdet's train() mode, which plain eval() would get wrong."""
    loss = build_loss(tiny_fcos)
    imgs, boxes = images_and_boxes(2, 64, 64)
    sr = torch.stack([torch.from_numpy(i).permute(2, 0, 1) for i in imgs]).float() / 255.
    reference = copy.deepcopy(tiny_fcos[3]).train()  # its config has norm_eval=True, GN head
    data = mmdet_batch(reference, imgs, boxes, tmp_path)
    ours = loss.detector_losses(sr, boxes)
    assert_same_losses(ours, reference.loss(data['inputs'], data['data_samples']))
    eval_bbox = reference.eval().loss(data['inputs'], data['data_samples'])['loss_bbox']
    assert not torch.allclose(ours['loss_bbox'], eval_bbox)


@pytest.mark.parametrize('which', ['ssd', 'c4'])
def test_gradient_reaches_the_sr_image_not_the_detector(which, tiny_ssd, tiny_c4):
    detector = tiny_ssd if which == 'ssd' else tiny_c4
    loss = build_loss(detector)
    size = (300, 300) if which == 'ssd' else (64, 64)
    imgs, boxes = images_and_boxes(2, *size)
    sr = (torch.stack([torch.from_numpy(i).permute(2, 0, 1) for i in imgs]).float() / 255.)
    sr.requires_grad_()
    value = loss(sr, boxes)
    assert value.ndim == 0 and value > 0
    value.backward()
    assert sr.grad is not None and sr.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in loss.detector.parameters())


def test_detector_is_frozen_in_loss_mode_and_outside_the_module_tree(tiny_ssd):
    loss = build_loss(tiny_ssd)
    detector = tiny_ssd[3]
    ours, theirs = loss.detector.state_dict(), detector.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)  # every weight loaded
    assert list(loss.parameters()) == [] and loss.state_dict() == {}
    for mode in (True, False):
        loss.train(mode)
        assert loss.detector.training and loss.detector.bbox_head.training
        bns = [m for m in loss.detector.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        assert bns and not any(m.training for m in bns)
    loss.to(torch.float64)  # _apply moves the detector with the module
    assert all(p.dtype == torch.float64 for p in loss.detector.parameters())


def test_bad_checkpoints_and_mask_detectors_give_clear_errors(tmp_path, tiny_c4):
    config, options, ckpt, detector = tiny_c4
    with pytest.raises(FileNotFoundError, match='model zoo'):
        build_loss((config, options, str(tmp_path / 'missing.pth'), None))
    partial = tmp_path / 'partial.pth'
    state = detector.state_dict()
    state.pop('roi_head.bbox_head.fc_cls.weight')  # a head key: all weights are required
    torch.save({'state_dict': state}, partial)
    with pytest.raises(KeyError, match=r"partial.pth: 1 detector weights missing.*fc_cls"):
        build_loss((config, options, str(partial), None))
    with pytest.raises(ValueError, match='mask head'):
        MODELS.build(dict(type='DetectorTaskLoss',
                          detector_config='mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
                          detector_cfg_options={'model.backbone.depth': 18}))


def build_restorer(alpha=0.5, beta=0., gamma=1.0, task=None, feature=None):
    feature_loss = None if feature is None else dict(
        type='DetectorFeatureLoss', detector_config=feature[0], detector_cfg_options=feature[1],
        checkpoint=feature[2], loss_weight=beta)
    task_loss = None if task is None else dict(
        type='DetectorTaskLoss', detector_config=task[0], detector_cfg_options=task[1],
        checkpoint=task[2], loss_weight=gamma)
    with DefaultScope.overwrite_default_scope('mmagic'):
        return MODELS.build(dict(type='FDSR', generator=TINY_DBPN,
                                 pixel_loss=dict(type='L1Loss', loss_weight=alpha),
                                 feature_loss=feature_loss, task_loss=task_loss,
                                 data_preprocessor=PRE))


def sr_batch(n=2, size=300, seed=0):
    """A dataloader batch: uint8 RGB CHW HR (size x size) and LR (size/4), boxes per sample."""
    imgs, boxes = images_and_boxes(n, size, size, seed)
    samples, inputs = [], []
    for img, inst in zip(imgs, boxes):
        gt = torch.from_numpy(img).permute(2, 0, 1).contiguous()
        lr = torch.nn.functional.interpolate(gt[None].float(), scale_factor=0.25, mode='area')
        inputs.append(lr[0].round().to(torch.uint8))
        samples.append(DataSample(gt_img=gt, gt_instances=inst))
    return dict(inputs=inputs, data_samples=samples)


def test_restorer_with_all_three_terms_trains_the_generator_never_the_detector(
        tiny_ssd, tiny_c4_detector):
    torch.manual_seed(0)
    model = build_restorer(alpha=0.5, beta=1.0, gamma=0.1, task=tiny_ssd, feature=tiny_c4_detector)
    model.train()
    detector = model.task_loss.detector
    before = {k: v.clone() for k, v in detector.state_dict().items()}
    gen_before = {k: v.clone() for k, v in model.generator.state_dict().items()}
    optim = build_optim_wrapper(model, dict(type='OptimWrapper',
                                            optimizer=dict(type='Adam', lr=1e-3)))
    optimized = {id(p) for g in optim.optimizer.param_groups for p in g['params']}
    assert not optimized & {id(p) for p in detector.parameters()}
    for i in range(3):
        log = model.train_step(sr_batch(seed=i), optim)
        assert set(log) == {'loss', 'loss_pix', 'loss_feat', 'loss_task'}
        assert log['loss_task'] > 0
        torch.testing.assert_close(log['loss'],
                                   log['loss_pix'] + log['loss_feat'] + log['loss_task'])
    after = detector.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # weights and BN buffers
    assert any(not torch.equal(gen_before[k], v) for k, v in model.generator.state_dict().items())
    assert not any(k.startswith(('task_loss', 'feature_loss')) for k in model.state_dict())
    assert all(n.startswith('generator.') for n, _ in model.named_parameters())
    # The check is not vacuous: the same detector in mmdet's train() mode moves its BN statistics.
    plain = copy.deepcopy(detector).train()
    imgs, boxes = images_and_boxes(1, 300, 300)
    plain.loss(model.task_loss.to_detector_input(torch.rand(1, 3, 300, 300)),
               model.task_loss.data_samples(boxes, (300, 300), (300, 300), 'cpu'))
    assert any(not torch.equal(before[k], v) for k, v in plain.state_dict().items())


def test_task_loss_none_or_zero_builds_nothing_and_fdsr_is_unchanged(tiny_ssd, tiny_c4_detector):
    torch.manual_seed(0)
    fdsr = build_restorer(alpha=0.5, beta=1.0, feature=tiny_c4_detector)
    zero = build_restorer(alpha=0.5, beta=1.0, gamma=0., task=tiny_ssd, feature=tiny_c4_detector)
    assert fdsr.task_loss is None and zero.task_loss is None
    zero.generator.load_state_dict(fdsr.generator.state_dict())
    data = fdsr.data_preprocessor(sr_batch(size=64), training=True)
    a, b = fdsr(**data, mode='loss'), zero(**data, mode='loss')
    assert set(a) == set(b) == {'loss_pix', 'loss_feat'}
    for k in a:
        torch.testing.assert_close(a[k], b[k])


def test_gamma_only_restorer_builds_and_trains(tiny_ssd):
    """TDSR without the pixel term (alpha = beta = 0); all weights zero is refused."""
    torch.manual_seed(0)
    model = build_restorer(alpha=0., beta=0., gamma=1.0, task=tiny_ssd)
    assert model.pixel_loss is None and model.feature_loss is None
    gen_before = {k: v.clone() for k, v in model.generator.state_dict().items()}
    optim = build_optim_wrapper(model, dict(type='OptimWrapper',
                                            optimizer=dict(type='Adam', lr=1e-3)))
    log = model.train_step(sr_batch(), optim)
    assert set(log) == {'loss', 'loss_task'} and torch.isfinite(log['loss'])
    assert any(not torch.equal(gen_before[k], v) for k, v in model.generator.state_dict().items())
    no_boxes = sr_batch(size=64)
    for sample in no_boxes['data_samples']:
        del sample.gt_instances
    with pytest.raises(KeyError, match='gt_instances'):
        model(**model.data_preprocessor(no_boxes, training=True), mode='loss')
    with pytest.raises(ValueError, match='non-zero'):
        build_restorer(alpha=0., beta=0., gamma=0., task=tiny_ssd)


class _Records(logging.Handler):
    """Collects the records of a logger (added to a fresh, current MMLogger)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def _current_logger_records():
    logger = MMLogger.get_instance(f'test_task_loss_{uuid.uuid4().hex}')  # now the current one
    handler = _Records()
    logger.addHandler(handler)
    return handler.records


def test_untrained_task_network_is_said_once_in_the_log(tiny_ssd):
    """The tiny smoke config runs TDSR through a random detector (PSNR ~12 dB): the log says
    so, in one WARNING line, once, with what it means for PSNR."""
    from fdsr_mm.models.losses import detector_task_loss
    detector_task_loss._WARNED_UNTRAINED.discard(SSD_CONFIG)
    records = _current_logger_records()
    untrained = [MODELS.build(dict(type='DetectorTaskLoss', detector_config=SSD_CONFIG,
                                   detector_cfg_options=TINY_SSD)) for _ in range(2)]
    assert not untrained[0].trained and build_loss(tiny_ssd).trained
    lines = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    said = [m for m in lines if 'UNTRAINED' in m]
    assert len(said) == 1, lines
    assert 'randomly initialised' in said[0] and 'PSNR' in said[0] and '\n' not in said[0]
    assert SSD_CONFIG in said[0]


def test_zero_size_target_is_refused_before_the_loss_turns_inf(tiny_ssd):
    """A VOC box entirely outside its image ends as a zero-width box at the border after mmdet's
    Resize (clip_object_border): SSD's box loss of it is inf, which would stop training as a
    non-finite loss; the task loss names the box instead."""
    loss = build_loss(tiny_ssd)
    imgs, boxes = images_and_boxes(1, 300, 300)
    boxes[0].bboxes[1] = torch.tensor([300., 50., 300., 120.])
    sr = torch.stack([torch.from_numpy(i).permute(2, 0, 1) for i in imgs]).float() / 255.
    inputs = loss.to_detector_input(sr)
    raw = loss.detector.loss(inputs, loss.data_samples(boxes, (300, 300), (300, 300), 'cpu'))
    assert not torch.isfinite(loss.detector.parse_losses(raw)[0])  # the fault, unchecked
    with pytest.raises(ValueError, match=r'image 0 of the batch has 1 target boxes without '
                                         r'area, e\.g\. \[300\.0, 50\.0, 300\.0, 120\.0\]'):
        loss(sr, boxes)


def test_tiny_tdsr_config_says_in_its_run_log_that_the_task_network_is_untrained(tmp_path):
    """The smoke config (task_loss.checkpoint=None) as a real Runner builds it: the run's log
    file holds the WARNING line."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from conftest import REPO_ROOT
    from fdsr_mm.models.losses import detector_task_loss
    cfg = Config.fromfile(osp.join(
        REPO_ROOT, 'configs/tdsr/tdsr_dbpn-tiny_x4_ssd-tiny-a1g0.1_1xb4-200i_synthetic-voc.py'))
    detector_task_loss._WARNED_UNTRAINED.discard(cfg.model.task_loss.detector_config)
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = f'untrained_{uuid.uuid4().hex}'
    runner = Runner.from_cfg(cfg)  # builds the model (and its task loss); no data is read
    assert not runner.model.task_loss.trained
    logs = glob.glob(osp.join(runner.log_dir, '*.log'))
    text = open(logs[0]).read()
    assert 'WARNING' in text and 'randomly initialised (UNTRAINED' in text and 'PSNR' in text
