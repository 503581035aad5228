"""Shared fixtures: tiny generated data, tiny real mmdet detectors saved as real mmdet checkpoints
(feature priors), paths, and a runner for the real `mim` executable."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.hub import get_config
from mmengine.registry import DefaultScope

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MIM = osp.join(osp.dirname(sys.executable), 'mim')


def load_tool(name: str, module_name: str = None):
    """``tools/<name>.py`` as a module (its ``main`` is what the command line runs).

    The tools folder goes on ``sys.path`` first, as ``python tools/<name>.py`` puts it there (the
    tools import their stdlib-only helper ``quiet_imports`` from it).
    """
    tools_dir = osp.join(REPO_ROOT, 'tools')
    if tools_dir not in sys.path:
        sys.path.insert(0, tools_dir)
    spec = importlib.util.spec_from_file_location(module_name or f'fdsr_mm_tool_{name}',
                                                  osp.join(REPO_ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def repo_root():
    return REPO_ROOT


@pytest.fixture(scope='session')
def synthetic_sr_root(tmp_path_factory):
    """A tiny synthetic SR dataset: 8 train and 2 val HR images of 64x64 (RGB PNG)."""
    from fdsr_mm.datasets.synthetic_images import write_synthetic_images
    root = tmp_path_factory.mktemp('synthetic_sr')
    write_synthetic_images(str(root / 'train'), 8, (64, 64), seed=0)
    write_synthetic_images(str(root / 'val'), 2, (64, 64), seed=1)
    return str(root)


def run_mim(args, timeout=600):
    """Run the real `mim` console script from the repository root; fail with its output."""
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    proc = subprocess.run([MIM, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f'mim {" ".join(args)} failed with exit code {proc.returncode}:\n'
                             f'{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}')
    return proc

# Two kinds of preprocessing the feature loss must reproduce: caffe C4 (BGR, mean only, std 1)
# and pytorch FPN (RGB, ImageNet mean/std).
C4_CONFIG = 'mmdet::faster_rcnn/faster-rcnn_r50-caffe_c4-1x_coco.py'
FPN_CONFIG = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
# (The tiny C4 detector drops the res5 shared head: mmdet's ResLayer has fixed widths.)
# Its backbone options equal those of configs/fdsr/fdsr_dbpn-tiny_x4_r18c4-tiny-*.py.
TINY_C4 = {'model.backbone.depth': 18, 'model.backbone.base_channels': 16,
           'model.rpn_head.in_channels': 64, 'model.rpn_head.feat_channels': 64,
           'model.roi_head.shared_head': None,
           'model.roi_head.bbox_roi_extractor.out_channels': 64,
           'model.roi_head.bbox_head.in_channels': 64}
TINY_FPN = {'model.backbone.depth': 18, 'model.backbone.base_channels': 8,
            'model.neck.in_channels': [8, 16, 32, 64], 'model.neck.out_channels': 16,
            'model.rpn_head.in_channels': 16, 'model.rpn_head.feat_channels': 16,
            'model.roi_head.bbox_roi_extractor.out_channels': 16,
            'model.roi_head.bbox_head.in_channels': 16}


def build_tiny_detector(name, options):
    """A randomly initialised, whole mmdet detector (backbone, neck, heads) from its config."""
    from mmdet.registry import MODELS as MMDET_MODELS
    cfg = get_config(name)
    cfg.merge_from_dict(options)
    cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MMDET_MODELS.build(cfg.model)
    model.init_weights()
    # Non-trivial BN statistics, so that "unchanged" is a real check.
    for name_, buf in model.named_buffers():
        if name_.endswith('running_mean'):
            buf.uniform_(-0.1, 0.1)
        elif name_.endswith('running_var'):
            buf.uniform_(0.5, 1.5)
    return model


def save_mmdet_checkpoint(model, path):
    """Write the layout of an MMDetection model-zoo file: {'meta': ..., 'state_dict': ...}."""
    torch.save({'meta': {'mmdet_version': '3.3.0', 'dataset_meta': {'classes': ('object', )}},
                'state_dict': model.state_dict()}, str(path))


def _saved_tiny_detector(tmp_path_factory, name, options, seed, tag):
    """(config name, cfg options, checkpoint path, detector) of a tiny detector saved to disk."""
    torch.manual_seed(seed)
    model = build_tiny_detector(name, options)
    path = tmp_path_factory.mktemp(tag) / f'tiny_faster_rcnn_{tag}.pth'
    save_mmdet_checkpoint(model, path)
    return name, options, str(path), model


@pytest.fixture(scope='session')
def tiny_c4_detector(tmp_path_factory):
    """A tiny caffe-C4 Faster R-CNN (BGR input, std 1)."""
    return _saved_tiny_detector(tmp_path_factory, C4_CONFIG, TINY_C4, 0, 'c4')


@pytest.fixture(scope='session')
def tiny_fpn_detector(tmp_path_factory):
    """A tiny Faster R-CNN FPN (RGB input, ImageNet mean/std)."""
    return _saved_tiny_detector(tmp_path_factory, FPN_CONFIG, TINY_FPN, 1, 'fpn')


@pytest.fixture(autouse=True)
def restore_default_scope():
    """(Every test.) Drop the default scopes a test made current: mmdet's init_detector / DetInferencer and
    fdsr_mm's init_sr_detector set 'mmdet' process-wide (as mmdet's tools expect), which would
    make a later test's MMagic ``MODELS.build`` look in mmdet's registry. mmengine's own
    ``overwrite_default_scope`` undoes itself the same way (popping its instance)."""
    before = set(DefaultScope._instance_dict)
    yield
    for name in [n for n in DefaultScope._instance_dict if n not in before]:
        DefaultScope._instance_dict.pop(name)


@pytest.fixture(autouse=True)
def _mmengine_loggers_on_open_streams():
    """mmengine keeps one MMLogger per name for the whole process and a Runner's name is its
    config name plus a timestamp in seconds: two Runners built within one second by two tests
    share a logger whose console handler still writes to the first test's (closed) captured
    stdout, and every log line then prints a '--- Logging error ---' traceback to stderr.
    Point such handlers at the current stdout before each test."""
    import logging

    from mmengine.logging import MMLogger
    for logger in list(MMLogger._instance_dict.values()):
        for handler in logger.handlers:
            if (type(handler) is logging.StreamHandler
                    and getattr(handler.stream, 'closed', False)):
                handler.stream = sys.stdout  # (setStream would flush the closed one)
    yield
