"""Detection pass: mmdet's TestLoop and the config's own evaluator over each method's SR images.

The detector's test pipeline keeps every transform except its ``LoadImageFromFile``, which
becomes :class:`fdsr_mm.datasets.LoadCascadeImage` (reads the cached image; the SR image has
the mod-cropped HR size, so annotations stay in HR coordinates, boxes clipped). The evaluator is
the config's CocoMetric (on the run's derived annotation file) or VOCMetric. Detection numbers
are mmdet's, in percent; an AP that COCOeval reports as undefined (-1: no ground-truth box of
that kind) stays undefined (None) rather than becoming a number.

Only mmengine's public API runs it: :func:`detection_runner` builds the run's one Runner
(``Runner.from_cfg``; the detector is built once) with ``test_cfg=dict(type='CascadeTestLoop')``;
for every method :class:`DetectionPass` builds an mmengine ``TestLoop`` (public constructor:
that method's dataloader and evaluator), hands it to the runner's test loop
(``runner.test_loop``, a :class:`CascadeTestLoop`) and calls ``runner.test()``, which fires the
hooks (``before_run``, ``before_test``, ... ``after_run``) exactly as for any mmengine test.
"""
import copy
import os
import os.path as osp
import time
from typing import List, Optional

from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.evaluator import Evaluator
from mmengine.hooks import Hook
from mmengine.registry import DefaultScope
from mmengine.runner import BaseLoop, Runner, TestLoop

from mmdet.registry import DATASETS, LOOPS, METRICS

from fdsr_mm.evaluation.voc_per_image import voc_dump_metrics
from fdsr_mm.apis.cascade.options import CascadeError

_COCO_KEYS = dict(AP='bbox_mAP', AP50='bbox_mAP_50', AP75='bbox_mAP_75', APS='bbox_mAP_s',
                  APM='bbox_mAP_m', APL='bbox_mAP_l')


def check_lr_pipeline(pipeline: List[dict]) -> None:
    """``lr_native`` needs a packing step in the detector test pipeline: ``RescaleToHR`` goes
    before it so that the boxes come back in HR coordinates (:func:`replace_loader`).

    Raises:
        CascadeError: no packing step (checked with the inputs, before any SR work).
    """
    if not any('Pack' in t['type'] for t in pipeline):
        raise CascadeError('lr_native needs a packing step (PackDetInputs) in the detector test '
                           f'pipeline: {[t["type"] for t in pipeline]}.')


def replace_loader(pipeline: List[dict], index_file: str, image_dir: str,
                   lr_scale: int = 1) -> List[dict]:
    """The test pipeline with ``LoadImageFromFile`` replaced by ``LoadCascadeImage``.

    ``lr_scale > 1`` (``lr_native``): the cached images are the LR images, 1/lr_scale of the HR
    geometry; ``RescaleToHR`` before the packing step makes mmdet's rescale return the boxes in
    HR coordinates.
    """
    if lr_scale > 1:
        check_lr_pipeline(pipeline)
    out, found = [], False
    for t in pipeline:
        if t['type'] in ('LoadImageFromFile', 'mmdet.LoadImageFromFile',
                         'mmcv.LoadImageFromFile'):
            kwargs = {k: v for k, v in t.items() if k not in ('type', 'color_type')}
            if lr_scale > 1:
                kwargs['lr_scale'] = lr_scale
            out.append(dict(type='LoadCascadeImage', index_file=index_file,
                            image_dir=image_dir, **kwargs))
            found = True
        else:
            if lr_scale > 1 and 'Pack' in t['type']:
                out.append(dict(type='RescaleToHR', scale=lr_scale))
            out.append(t)
    if not found:
        raise ValueError('The detector test pipeline has no LoadImageFromFile to replace: '
                         f'{[t["type"] for t in pipeline]}.')
    return out


def metric_type(evaluator) -> str:
    types = [e['type'] for e in (evaluator if isinstance(evaluator, list) else [evaluator])]
    if any('CocoMetric' in t for t in types):
        return 'coco'
    if any('VOCMetric' in t for t in types):
        return 'voc'
    raise ValueError(f'Unsupported test evaluator {types}: use CocoMetric or VOCMetric.')


def det_numbers(metrics: dict, metric: str, num_gt_boxes: Optional[int] = None) -> dict:
    """mmdet metrics -> the table's numbers in percent; undefined ones are None with a note.

    Args:
        metrics: What the TestLoop returned.
        metric: ``'coco'`` or ``'voc'``.
        num_gt_boxes: Ground-truth boxes of the evaluated COCO images (None: unknown).
    """
    if metric == 'voc':
        val = metrics.get('pascal_voc/mAP')
        return dict(mAP=None if val is None else round(100 * val, 2))
    if f'coco/{_COCO_KEYS["AP"]}' not in metrics:  # CocoMetric logs "results empty", no AP
        if num_gt_boxes == 0:
            return dict({k: None for k in _COCO_KEYS}, note='undefined: no ground-truth boxes '
                        'and no detections in the evaluated images')
        return dict({k: 0.0 for k in _COCO_KEYS}, note='no detections on any image')
    out = {}
    for name, key in _COCO_KEYS.items():
        val = metrics.get(f'coco/{key}')
        out[name] = None if val is None or val < 0 else round(100 * val, 1)
    if out['AP'] is None:
        out['note'] = 'undefined: no ground-truth boxes in the evaluated images'
    return out


class _TestIterSeconds(Hook):
    """Sums the time of the test iterations (detector ``test_step`` + metric ``process``) of one
    ``runner.test()``, i.e. the detection pass without data loading and the final metric
    computation."""

    priority = 'LOWEST'  # before_test_iter runs after the other hooks'

    def __init__(self):
        self.seconds = 0.0
        self._t0 = None

    def before_test(self, runner):
        self.seconds = 0.0

    def before_test_iter(self, runner, batch_idx, data_batch=None):
        self._t0 = time.perf_counter()

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.seconds += time.perf_counter() - self._t0


@LOOPS.register_module()
class CascadeTestLoop(BaseLoop):
    """The detection runner's test loop: runs the :class:`~mmengine.runner.TestLoop` of the SR
    method being evaluated (:meth:`use`).

    The Runner builds it from ``test_cfg=dict(type='CascadeTestLoop')`` with the config's test
    dataloader and evaluator, which it leaves unbuilt (each method has its own). Its
    ``dataloader`` and ``evaluator`` are the method's, so hooks that read
    ``runner.test_dataloader`` (IterTimerHook, LoggerHook) see the images being evaluated.
    """

    def __init__(self, runner, dataloader=None, evaluator=None):
        super().__init__(runner, None)
        self.method_loop: Optional[TestLoop] = None

    def use(self, loop: TestLoop) -> None:
        """Evaluate with ``loop`` (built with this loop's runner) from now on."""
        self.method_loop, self.dataloader = loop, loop.dataloader

    @property
    def evaluator(self) -> Optional[Evaluator]:
        return self.method_loop.evaluator if self.method_loop else None

    def run(self) -> dict:
        if self.method_loop is None:
            raise RuntimeError('CascadeTestLoop.run() before use(): no method to evaluate.')
        return self.method_loop.run()


def detection_runner(cfg: Config, work_dir: str, launcher: str) -> Runner:
    """The run's mmdet Runner (builds the detector, initialises the distributed environment),
    its test loop a :class:`CascadeTestLoop`; the caller loads the detector weights."""
    cfg = copy.deepcopy(cfg)
    cfg.work_dir, cfg.launcher = work_dir, launcher
    cfg.load_from, cfg.resume = None, False
    cfg.test_cfg = dict(type='CascadeTestLoop')
    with DefaultScope.overwrite_default_scope('mmdet'):
        return Runner.from_cfg(cfg)


class DetectionPass:
    """The detection pass of one run: dataset and evaluator built once, one TestLoop per method.

    Args:
        runner: From :func:`detection_runner` (detector weights loaded).
        cfg: The detector config (``test_dataloader``, ``test_evaluator``).
        test_ds: The test dataset config, ``ann_file`` pointing at the evaluated annotations.
        metric: ``'coco'`` or ``'voc'``.
    """

    def __init__(self, runner: Runner, cfg: Config, test_ds, metric: str):
        self.runner, self.cfg, self.test_ds, self.metric = runner, cfg, test_ds, metric
        self.iter_timer = _TestIterSeconds()
        runner.register_hook(self.iter_timer)
        with DefaultScope.overwrite_default_scope('mmdet'):
            # Built once for all methods: the test dataset (annotation parsing) and the evaluator
            # (CocoMetric loads the annotation file); each method gets a shallow copy of the
            # dataset whose pipeline loads that method's cached images.
            self.base_dataset = DATASETS.build(dict(test_ds, pipeline=[]))
            evaluators = copy.deepcopy(cfg.test_evaluator)
            evaluators = evaluators if isinstance(evaluators, list) else [evaluators]
            for ev in evaluators:
                if 'CocoMetric' in ev['type']:
                    ev.ann_file = test_ds.ann_file
                    ev.format_only = False
            self.base_metrics = runner.build_evaluator(evaluators).metrics
        # VOC: the per-image GT/detections VOCMetric matched, for bootstrap intervals of mAP
        # (COCO keeps them in CocoMetric's detections.bbox.json).
        self.voc_dumps = voc_dump_metrics(evaluators, 'voc_per_image.pkl')

    def _loop(self, image_dir: str, index_file: str, method_dir: str,
              dump_predictions: bool, lr_scale: int = 1) -> TestLoop:
        dataset = copy.copy(self.base_dataset)
        dataset.pipeline = Compose(replace_loader(self.test_ds.pipeline, index_file, image_dir,
                                                  lr_scale))
        dl = copy.deepcopy(self.cfg.test_dataloader)
        dl.dataset = dataset
        for metric_obj in self.base_metrics:
            if hasattr(metric_obj, 'outfile_prefix'):  # CocoMetric: keep the json results
                metric_obj.outfile_prefix = osp.join(method_dir, 'detections')
        metrics = list(self.base_metrics)
        for dump in self.voc_dumps:
            metric = METRICS.build(dict(dump, out_file=osp.join(method_dir, dump['out_file'])))
            metrics.append(metric)
        if dump_predictions:
            metrics.append(METRICS.build(dict(
                type='DumpDetResults', out_file_path=osp.join(method_dir, 'predictions.pkl'))))
        return TestLoop(self.runner, dl, Evaluator(metrics))

    def run(self, image_dir: str, index_file: str, method_dir: str, dump_predictions: bool,
            num_gt_boxes: Optional[int] = None, lr_scale: int = 1) -> dict:
        """Detect on one method's cached images (``lr_scale``: LR images, see
        :func:`replace_loader`); returns det numbers, mmdet metrics, timings."""
        os.makedirs(method_dir, exist_ok=True)
        t0 = time.perf_counter()
        with DefaultScope.overwrite_default_scope('mmdet'):
            self.runner.test_loop.use(self._loop(image_dir, index_file, method_dir,
                                                 dump_predictions, lr_scale))
            metrics = self.runner.test()
        return dict(det=det_numbers(metrics, self.metric, num_gt_boxes),
                    mmdet_metrics={k: float(v) for k, v in metrics.items()
                                   if isinstance(v, (int, float))},
                    det_seconds=time.perf_counter() - t0,
                    det_iter_seconds=self.iter_timer.seconds)
