"""configs/sr_detectors/: each wraps its configs/detectors/ config unchanged into an SRDetector with
FDSR x4 (configs/fdsr_x4.py's generator), and the paper-size one runs end to end."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from conftest import REPO_ROOT

# mmdet's inference APIs set the default scope process-wide: undo it after each test
pytestmark = pytest.mark.usefixtures('restore_default_scope')

SR_DET_CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'sr_detectors', '*.py')))
COCO_DETECTORS = ('faster-rcnn_r50_fpn', 'faster-rcnn_r101_fpn', 'cascade-rcnn_r50_fpn',
                  'retinanet_r50_fpn')


def test_one_config_per_coco_detector():
    names = sorted(osp.basename(p) for p in SR_DET_CONFIGS)
    assert names == sorted(f'fdsr-x4_{d}_coco.py' for d in COCO_DETECTORS)


@pytest.mark.parametrize('path', SR_DET_CONFIGS, ids=osp.basename)
def test_detector_part_is_the_detector_config_unchanged(path):
    det_name = osp.basename(path)[len('fdsr-x4_'):-len('_coco.py')] + '_1x_coco.py'
    det = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'detectors', det_name))
    cfg = Config.fromfile(path)
    assert cfg.model.type == 'SRDetector'
    assert cfg.model.detector.to_dict() == det.model.to_dict()
    assert cfg.model.detector_test_pipeline == det.test_pipeline
    assert cfg.model.sr.config == 'fdsr_mm::fdsr_x4.py' and cfg.model.sr.scale == 4
    assert cfg.model.detector_checkpoint.endswith('.pth')
    # the LR input is loaded and packed, never resized before SR; the detector part resizes
    assert [t['type'] for t in cfg.test_dataloader.dataset.pipeline] == \
        ['LoadImageFromFile', 'PackDetInputs']
    assert any(t['type'] == 'Resize' for t in cfg.model.detector_test_pipeline)
    for key in ('default_scope', 'visualizer', 'custom_imports'):
        assert cfg[key] == det[key], key
    # the detector's CocoMetric settings, with areas in HR pixels on an LR json (issue 18.4)
    for key in ('test_evaluator', 'val_evaluator'):
        assert cfg[key].pop('type') == 'HRAreaCocoMetric' and det[key].pop('type') == 'CocoMetric'
        assert cfg[key] == det[key], key
    ds, det_ds = cfg.test_dataloader.dataset.copy(), det.test_dataloader.dataset.copy()
    ds.pop('pipeline'), det_ds.pop('pipeline')
    assert ds == det_ds


def test_paper_faster_rcnn_config_runs_with_fdsr_ddbpn(tmp_path):
    """The real config, D-DBPN x4 (FDSR's generator) + Faster R-CNN R50-FPN with random weights
    saved as their checkpoints: one 12x16 LR image -> boxes in LR pixels."""
    from mmdet.apis import inference_detector
    from mmengine.registry import DefaultScope

    from fdsr_mm.apis.inferencers import init_sr_detector
    from fdsr_mm.models.generators.builder import build_sr_generator
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'sr_detectors',
                                   'fdsr-x4_faster-rcnn_r50_fpn_coco.py'))
    gen = build_sr_generator(cfg.model.sr.config)  # D-DBPN x4 of configs/fdsr_x4.py
    assert sum(p.numel() for p in gen.parameters()) == 10_426_358
    torch.save(dict(state_dict={f'generator.{k}': v for k, v in gen.state_dict().items()}),
               tmp_path / 'fdsr.pth')
    with DefaultScope.overwrite_default_scope('mmdet'):
        from mmdet.registry import MODELS
        det_cfg = cfg.model.detector.copy()
        det_cfg.backbone.init_cfg = None
        det = MODELS.build(det_cfg)
    det.init_weights()
    torch.save(dict(state_dict=det.state_dict(), meta=dict(dataset_meta=dict(classes=tuple(
        f'c{i}' for i in range(80))))), tmp_path / 'det.pth')
    model = init_sr_detector(cfg.filename, cfg_options={
        'model.sr.checkpoint': str(tmp_path / 'fdsr.pth'),
        'model.detector_checkpoint': str(tmp_path / 'det.pth'),
        'model.detector.test_cfg.rcnn.score_thr': 0.0,
        'model.detector_test_pipeline.1.scale': (320, 320)})  # CPU time: not the 1333x800
    assert model.dataset_meta['classes'][0] == 'c0'
    lr = np.random.default_rng(0).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    pred = inference_detector(model, lr).pred_instances
    assert len(pred.bboxes) > 0
    assert float(pred.bboxes[:, 2].max()) <= 16 + 1e-3  # LR width
    assert float(pred.bboxes[:, 3].max()) <= 12 + 1e-3  # LR height
