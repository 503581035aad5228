"""One cascade run, step by step: check inputs, SR pass, detection pass, results."""
import copy
import dataclasses
import gc
import hashlib
import json
import os.path as osp
import time
from contextlib import contextmanager
from typing import Dict, List

import torch
from mmengine.dist import barrier, get_dist_info
from mmengine.registry import DefaultScope

from fdsr_mm.datasets.transforms.degradations import DEGRADATIONS
from fdsr_mm.evaluation.tables import write_tables
from fdsr_mm.evaluation.visualize import dataset_classes, write_panels
from fdsr_mm.utils.checkpoints.detector import where_to_get_checkpoint
from fdsr_mm.utils.io import atomic_write_text
from fdsr_mm.utils.cli_errors import format_error
from fdsr_mm.apis.cascade import dataset as ds_utils
from fdsr_mm.apis.cascade.detect_pass import DetectionPass, metric_type
from fdsr_mm.apis.cascade.hr_prep import prepare_hr
from fdsr_mm.apis.cascade.methods import (build_method_generator, check_config_scale,
                                          check_generator_scale, parse_method)
from fdsr_mm.utils.configs import load_config
from fdsr_mm.apis.cascade.options import CascadeError, CascadeOptions
from fdsr_mm.apis.cascade.preflight import (check_detector_arguments, check_writable, load_detector_weights,
                        probe_detector_geometry)
from fdsr_mm.apis.cascade.sr_pass import prepare_and_super_resolve, sr_tiling, super_resolve_method


@contextmanager
def _gc_frozen():
    """Move every object alive now to the GC's permanent generation for the duration.

    With torch, mmdet and mmagic imported, a process holds ~600k objects; every full collection
    (mmengine's dataset serialisation calls ``gc.collect()``, and Python runs them on its own
    during a long loop) walks them all, ~0.3 s each on a small CPU. None of them is garbage.
    """
    freeze = gc.get_freeze_count() == 0  # leave a caller's own freeze alone
    if freeze:
        gc.freeze()
    try:
        yield
    finally:
        if freeze:
            gc.unfreeze()


class CascadeRun:
    """The two-step protocol for one detector and several SR methods (see the package doc).

    Steps, each one method: :meth:`check_inputs`, :meth:`build_detector`, :meth:`list_images`,
    :meth:`load_sr_models`, :meth:`sr_pass`, :meth:`detection_pass`, :meth:`result`.
    """

    def __init__(self, opts: CascadeOptions):
        self.opts = opts
        self.methods = [parse_method(m) for m in opts.methods]
        names = [m.name for m in self.methods]
        if len(set(names)) != len(names):
            raise CascadeError(f'Duplicate SR method names: {names}.')
        # it super-resolves each HR image as soon as it is prepared (hides the preparation)
        self.first_sr_method = next((m for m in self.methods if m.kind != 'hr'), None)
        self.out_dir = osp.abspath(opts.out_dir)
        self.cache_dir = osp.abspath(opts.cache_dir or osp.join(self.out_dir, 'sr_cache'))
        self.timing: Dict[str, float] = {}

    def check_inputs(self) -> None:
        """Config, dataset annotations, output folders and SR configs, before any work."""
        o = self.opts
        check_detector_arguments(o.detector_config, o.detector_checkpoint)
        if not osp.isfile(o.detector_checkpoint):
            raise FileNotFoundError(
                f'Detector checkpoint {o.detector_checkpoint} does not exist: '
                f'{where_to_get_checkpoint(o.detector_checkpoint, o.detector_config)}, and pass '
                'its path.')
        self.cfg = load_config(o.detector_config, format_python_code=False)
        if o.cfg_options:
            self.cfg.merge_from_dict(o.cfg_options)
        if not o.hr_size and self.cfg.get('cascade_hr_size', None):
            self.opts = dataclasses.replace(o, hr_size=tuple(self.cfg.cascade_hr_size))
        self.hr_size = self.opts.hr_size
        self.metric = metric_type(self.cfg.test_evaluator)
        self.ds_cfg = ds_utils.dataset_cfg(self.cfg, o.dataset)
        self.coco = ds_utils.check_dataset(self.ds_cfg)
        check_writable(self.out_dir, 'results folder', '--out-dir')
        check_writable(self.cache_dir, 'SR cache folder', '--cache-dir')
        if o.show_dir:
            check_writable(osp.abspath(o.show_dir), 'panel folder', '--show-dir')
        for m in self.methods:
            if m.kind == 'model' and m.generator is None and not osp.isfile(m.checkpoint):
                raise CascadeError(f'SR checkpoint {m.checkpoint} of method {m.name!r} does '
                                   'not exist: train it (tools/train.py) or pass its path.')
            check_config_scale(m, o.scale)

    def build_detector(self) -> None:
        """The mmdet Runner (initialises the distributed environment) + checked weights."""
        from mmengine.runner import Runner
        cfg = self.cfg
        cfg.work_dir = osp.join(self.out_dir, 'runner')
        cfg.launcher = self.opts.launcher
        cfg.load_from, cfg.resume = None, False
        t0 = time.perf_counter()
        with DefaultScope.overwrite_default_scope('mmdet'):
            self.runner = Runner.from_cfg(cfg)
        load_detector_weights(self.runner.model, self.opts.detector_checkpoint,
                              self.opts.detector_config)
        self.timing['runner_build_s'] = time.perf_counter() - t0
        self.rank, _ = get_dist_info()
        self.device = self.opts.device or (
            f'cuda:{torch.cuda.current_device()}' if torch.cuda.is_available() else 'cpu')

    def list_images(self) -> None:
        self.data_list, self.ds_type = ds_utils.list_images(self.ds_cfg)
        self.num_listed = len(self.data_list)
        if self.opts.limit is not None:
            self.data_list = self.data_list[:self.opts.limit]
        if not self.data_list:
            raise CascadeError(f'The test dataset {self.ds_type} of {self.opts.detector_config} '
                               f'({ds_utils.ann_path(self.ds_cfg)}) lists no images.')
        self.img_root = ds_utils.image_root(self.data_list)
        ds_key = (osp.basename(self.img_root.rstrip('/')) or 'data') + '-' + hashlib.sha1(
            osp.abspath(self.img_root).encode()).hexdigest()[:8]
        geo_key = f'x{self.opts.scale}' + (
            f'_hr{self.hr_size[0]}x{self.hr_size[1]}' if self.hr_size else '')
        self.prep_dir = osp.join(self.cache_dir, ds_key, geo_key)

    def load_sr_models(self) -> None:
        """Every SR checkpoint is read (keys, finite weights), its scale probed and its tiling
        checked (:func:`~.sr_pass.sr_tiling`) before any SR work."""
        self.generators = {m.name: build_method_generator(m, self.device) for m in self.methods
                           if m.kind == 'model'}
        for m in self.methods:
            if m.kind == 'model':
                check_generator_scale(m, self.generators[m.name], self.opts.scale, self.device)
                sr_tiling(m, self.generators[m.name], self.opts)

    def _prepare(self) -> float:
        """HR preparation (hidden behind the first SR method) and the run's image index."""
        o = self.opts
        first = self.first_sr_method
        early_sr_s = 0.0
        if first is not None:
            early_sr_s = prepare_and_super_resolve(first, self.data_list, self.prep_dir,
                                                   self.img_root, o, self.device,
                                                   self.generators.get(first.name))
        self.prep = prepare_hr(self.data_list, self.prep_dir, o.scale, self.hr_size,
                               self.img_root, o.progress)
        self._refuse_size_mismatch(self.prep.pop('size_mismatch'))
        self.prep['failed'] += probe_detector_geometry(
            self.runner.model, self.ds_cfg.pipeline, self.data_list, self.prep['index'])
        for f in self.prep['failed']:
            self.prep['index'].pop(f['file'], None)
        if not self.prep['index']:
            shown = '; '.join(f"{f['file']}: {f['reason']}" for f in self.prep['failed'][:3])
            raise CascadeError(f'No usable image in {ds_utils.ann_path(self.ds_cfg)} '
                               f'({len(self.prep["failed"])} excluded; {shown}).')
        return early_sr_s

    def _refuse_size_mismatch(self, mismatch: List[dict]) -> None:
        """Refuse images whose size disagrees with their annotation (beyond the mod-crop).

        Their boxes are in another pixel grid than the file (LR copies of an HR-annotated set,
        a re-exported image folder): scored, they would be clipped and dropped silently.
        """
        if not mismatch:
            return
        shown = '; '.join(f"{osp.basename(f['file'])}: {f['reason'].split(': ', 1)[1]}"
                          for f in mismatch[:3])
        more = f' and {len(mismatch) - 3} more' if len(mismatch) > 3 else ''
        raise CascadeError(format_error(
            f'{len(mismatch)} of {len(self.data_list)} images disagree in size with their '
            f'annotation ({shown}{more})', ds_utils.ann_path(self.ds_cfg),
            'point --img-prefix at the images this annotation file describes (the HR images: '
            'the cascade makes the LR images itself), or --ann-file at their own annotations'))

    def sr_pass(self) -> None:
        """Prepared HR images, the run's index (in its own folder) and every method's SR."""
        t0 = time.perf_counter()
        early_sr_s = self._prepare()
        self.timing['prepare_hr_s'] = time.perf_counter() - t0 - early_sr_s
        self.eval_dir = osp.join(self.out_dir, 'eval_inputs')
        check_writable(self.eval_dir, 'results folder', '--out-dir')
        self.index_file = osp.join(self.eval_dir, f'index.{self.rank}.json')
        atomic_write_text(self.index_file, json.dumps(self.prep['index']))
        self.sr_results = {
            m.name: super_resolve_method(m, self.prep['index'], self.prep_dir, self.opts,
                                         self.device, self.generators.get(m.name))
            for m in self.methods}
        if self.first_sr_method is not None:
            self.sr_results[self.first_sr_method.name]['sr_seconds'] += early_sr_s

    def detection_pass(self) -> Dict[str, dict]:
        test_ds = copy.deepcopy(self.ds_cfg)
        self.ann_stats = ds_utils.write_eval_annotations(
            test_ds, self.coco, self.prep['index'], self.data_list, self.eval_dir, self.rank)
        t0 = time.perf_counter()
        det_pass = DetectionPass(self.runner, self.cfg, test_ds, self.metric)
        self.timing['det_build_s'] = time.perf_counter() - t0
        out = {}
        for m in self.methods:
            sr = self.sr_results[m.name]
            res = det_pass.run(sr['image_dir'], self.index_file,
                               osp.join(self.out_dir, 'methods', m.name),
                               bool(self.opts.show_dir), self.ann_stats.get('num_gt_boxes'))
            out[m.name] = dict(spec=dict(kind=m.kind, config=m.config, checkpoint=m.checkpoint,
                                         cache=sr['image_dir'], tiling=sr['tiling']),
                               iq=sr['iq'], sr_seconds=sr['sr_seconds'], **res)
        det_pass.close()
        return out

    def result(self, method_results: Dict[str, dict]) -> dict:
        o, prep = self.opts, self.prep
        return dict(
            detector=dict(name=osp.splitext(osp.basename(o.detector_config))[0],
                          config=o.detector_config, checkpoint=o.detector_checkpoint),
            metric=self.metric, scale=o.scale, degradation=o.degradation_tag,
            degradation_name=o.degradation, degradation_seed=(
                o.degradation_seed if DEGRADATIONS[o.degradation].seeded else None),
            hr_size=list(self.hr_size) if self.hr_size else None,
            tiling=dict(tile=o.tile, tile_pad=o.tile_pad),
            dataset=dict(type=self.ds_type, data_root=self.ds_cfg.get('data_root'),
                         ann_file=self.ds_cfg.get('ann_file'), num_listed=self.num_listed,
                         num_images=len(self.data_list), num_evaluated=len(prep['index']),
                         failed_images=prep['failed'], grayscale_images=prep['grayscale'],
                         modcropped_images=prep['modcropped'], **self.ann_stats),
            methods=method_results, timing=self.timing)

    def run(self) -> dict:
        self.check_inputs()
        self.build_detector()
        self.list_images()
        self.load_sr_models()
        self.sr_pass()
        result = self.result(self.detection_pass())
        if self.rank == 0:
            result['files'] = write_tables(result, self.out_dir)
            if self.opts.show_dir:
                write_panels(result, self.data_list, self.prep['index'], self.opts.show_dir,
                             self.opts.show_score_thr, self.opts.show_num,
                             classes=dataset_classes(self.ds_cfg))
        barrier()
        return result


def run_cascade(*args, **kwargs) -> dict:
    """Evaluate one mmdet detector on SR images of several methods (FDSR Tables 1-3).

    Takes a :class:`CascadeOptions`, or its fields as arguments
    (``run_cascade(detector_config, detector_checkpoint, methods, out_dir, scale=4, ...)``).

    Returns:
        dict: The result (see :mod:`fdsr_mm.evaluation.tables`); on rank 0 also written to
        ``out_dir`` (``results.json``, tables, ``methods/<name>/``).

    Raises:
        CascadeError, FileNotFoundError: A bad input, found before the SR pass.
    """
    if len(args) == 1 and not kwargs and isinstance(args[0], CascadeOptions):
        opts = args[0]
    else:
        opts = CascadeOptions(*args, **kwargs)
    with _gc_frozen():
        return CascadeRun(opts).run()


__all__: List[str] = ['CascadeRun', 'run_cascade']
