"""The installed stack: compiled mmcv ops, mmdet configs shipped with mmdet, mmagic models."""
import json
import subprocess
import sys

import pytest
import torch


@pytest.mark.slow
def test_stack_imports_in_a_fresh_interpreter():
    code = 'import fdsr_mm, mmdet, mmagic.models, mmcv.ops; print(mmcv.ops.nms.__module__)'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'mmcv.ops' in out.stdout


FILTERS_AFTER = '''
import importlib, json, sys, warnings
for name in json.loads(sys.stdin.read()):  # third-party modules, in fdsr_mm's import order
    try:
        importlib.import_module(name)
    except BaseException:
        pass
if sys.argv[1] == 'fdsr_mm':
    import fdsr_mm
others = [m for m in sys.modules if m.split('.')[0] not in ('fdsr_mm', '__main__')]
print(json.dumps([sorted({repr(f) for f in warnings.filters}), others]))
'''


def filters_after(modules, then):
    proc = subprocess.run([sys.executable, '-c', FILTERS_AFTER, then], input=json.dumps(modules),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_fdsr_mm_leaves_the_warning_filters_alone():
    """The library does not touch ``warnings.filters`` (the tools filter: tools/quiet_imports.py).

    Third-party packages add filters of their own when imported (numpy, scipy, torch, urllib3),
    so the filters after ``import fdsr_mm`` in a fresh interpreter must be exactly those after
    importing the same third-party modules without fdsr_mm: fdsr_mm adds none, hides none, and
    drops none of theirs (a ``catch_warnings`` around the imports would drop them).
    """
    with_fdsr_mm, modules = filters_after([], 'fdsr_mm')
    without, _ = filters_after(modules, 'none')
    assert with_fdsr_mm == without


def test_mmcv_compiled_ops_run_on_cpu():
    from mmcv.ops import RoIAlign, nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]])
    _, keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
    assert keep.tolist() == [0, 2]
    feats = torch.arange(16.).view(1, 1, 4, 4)
    rois = torch.tensor([[0., 0., 0., 4., 4.]])
    pooled = RoIAlign((1, 1), spatial_scale=1.0, sampling_ratio=2, aligned=False)(feats, rois)
    # One 4x4 bin, 2x2 samples at (1, 1), (1, 3), (3, 1), (3, 3): (5 + 7 + 13 + 15) / 4 = 10.
    assert pooled.item() == 10.0


def test_faster_rcnn_from_mmdet_config_runs_one_cpu_forward():
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.hub import get_config
    from mmengine.registry import DefaultScope
    from mmdet.structures import DetDataSample

    register_all_modules(init_default_scope=False)
    cfg = get_config('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py')
    cfg.model.backbone.init_cfg = None  # no download of ImageNet weights
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model)
    model.eval()
    img = torch.randint(0, 256, (3, 96, 128), dtype=torch.uint8)
    sample = DetDataSample(metainfo=dict(img_shape=(96, 128), ori_shape=(96, 128),
                                         scale_factor=(1.0, 1.0), pad_shape=(96, 128)))
    with torch.no_grad():
        data = model.data_preprocessor(dict(inputs=[img], data_samples=[sample]), False)
        results = model(**data, mode='predict')
    assert len(results) == 1
    pred = results[0].pred_instances
    assert pred.bboxes.shape[1] == 4
    assert len(pred.bboxes) == len(pred.scores) == len(pred.labels)
    assert len(pred.bboxes) <= cfg.model.test_cfg.rcnn.max_per_img
