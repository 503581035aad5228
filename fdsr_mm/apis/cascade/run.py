"""One cascade run as a chain of steps, each with explicit inputs and outputs.

:meth:`CascadeRun.run` wires them; a step reads only what it is given, and what it makes is its
return value (a frozen dataclass), so no step can run before what it needs exists::

    check_inputs(opts, methods)                  -> Setup       config, dataset, checked folders
    build_detector(setup)                        -> Detector    mmdet Runner + weights, rank, device
    list_images(setup)                           -> Images      test images, HR cache folder
    load_sr_models(setup, device)                -> {name: generator}  checked SR models
    sr_pass(setup, images, detector, generators) -> SRImages    HR index, every method's SR images
    detection_pass(setup, images, detector, sr)  -> Detections  per-method detection numbers
    make_result(setup, images, detector, sr, det) -> dict       the result (``results.json``)
    bootstrap_intervals(setup, result)           -> dict        rank 0: paired bootstrap intervals
"""
import copy
import dataclasses
import gc
import hashlib
import json
import os.path as osp
import time
from contextlib import contextmanager
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.dist import barrier, get_dist_info
from mmengine.runner import Runner

from fdsr_mm.datasets.transforms.degradations import DEGRADATIONS
from fdsr_mm.evaluation.cascade_intervals import cascade_intervals, interval_pairs
from fdsr_mm.evaluation.fsim_maps import ReferenceMaps
from fdsr_mm.evaluation.tables import write_tables
from fdsr_mm.evaluation.visualize import dataset_classes, write_panels
from fdsr_mm.utils.checkpoints.detector import where_to_get_checkpoint
from fdsr_mm.utils.cli_errors import format_error
from fdsr_mm.utils.configs import load_config
from fdsr_mm.utils.io import atomic_write_text
from fdsr_mm.apis.cascade import dataset as ds_utils
from fdsr_mm.apis.cascade.detect_pass import (DetectionPass, check_lr_pipeline, detection_runner,
                                               metric_type)
from fdsr_mm.apis.cascade.hr_prep import prepare_hr
from fdsr_mm.apis.cascade.methods import (SRMethod, build_method_generator, check_config_scale,
                                          check_generator_scale, parse_method)
from fdsr_mm.apis.cascade.options import CascadeError, CascadeOptions, interval_methods
from fdsr_mm.apis.cascade.preflight import (check_detector_arguments, check_writable,
                                            load_detector_weights, probe_detector_geometry)
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


@dataclasses.dataclass(frozen=True)
class Setup:
    """:func:`check_inputs`: the checked settings, detector config and test dataset."""
    opts: CascadeOptions  # ``hr_size`` completed from the config's ``cascade_hr_size``
    methods: List[SRMethod]
    out_dir: str
    cache_dir: str
    cfg: Config  # the detector config, ``cfg_options`` merged
    metric: str  # 'coco' or 'voc'
    ds_cfg: Config  # the test dataset config (with the ``dataset`` overrides)
    coco: Optional[dict]  # the parsed COCO annotations (None for VOC)


@dataclasses.dataclass(frozen=True)
class Detector:
    """:func:`build_detector`: the mmdet Runner with checked weights, and where it runs."""
    runner: Runner
    rank: int
    device: str
    build_s: float


@dataclasses.dataclass(frozen=True)
class Images:
    """:func:`list_images`: the evaluated test images and their HR cache folder."""
    data_list: List[dict]
    ds_type: str
    num_listed: int  # before ``limit``
    img_root: str
    prep_dir: str


@dataclasses.dataclass(frozen=True)
class SRImages:
    """:func:`sr_pass`: the prepared HR images, the run's index and every method's SR images."""
    index: Dict[str, dict]  # HR path -> cached file and geometry (usable images only)
    failed: List[dict]  # excluded images: dict(file, reason)
    grayscale: int
    modcropped: int
    eval_dir: str
    index_file: str
    methods: Dict[str, dict]  # name -> super_resolve_method's result
    prepare_hr_s: float


@dataclasses.dataclass(frozen=True)
class Detections:
    """:func:`detection_pass`: the per-method results and the evaluated annotations' stats."""
    methods: Dict[str, dict]
    ann_stats: dict
    build_s: float


def parse_methods(opts: CascadeOptions) -> List[SRMethod]:
    methods = [parse_method(m) for m in opts.methods]
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise CascadeError(f'Duplicate SR method names: {names}.')
    interval_methods(opts, names)  # refuse unknown --reference / --compare names now
    return methods


def _check_sr_methods(methods: List[SRMethod], scale: int) -> None:
    for m in methods:
        if m.kind == 'model' and m.generator is None and not osp.isfile(m.checkpoint):
            raise CascadeError(f'SR checkpoint {m.checkpoint} of method {m.name!r} does '
                               'not exist: train it (tools/train.py) or pass its path.')
        check_config_scale(m, scale)


def check_inputs(opts: CascadeOptions, methods: List[SRMethod]) -> Setup:
    """Config, dataset annotations, output folders and SR configs, before any work."""
    check_detector_arguments(opts.detector_config, opts.detector_checkpoint)
    if not osp.isfile(opts.detector_checkpoint):
        raise FileNotFoundError(
            f'Detector checkpoint {opts.detector_checkpoint} does not exist: '
            f'{where_to_get_checkpoint(opts.detector_checkpoint, opts.detector_config)}, and '
            'pass its path.')
    cfg = load_config(opts.detector_config, format_python_code=False)
    if opts.cfg_options:
        cfg.merge_from_dict(opts.cfg_options)
    if not opts.hr_size and cfg.get('cascade_hr_size', None):
        opts = dataclasses.replace(opts, hr_size=tuple(cfg.cascade_hr_size))
    metric = metric_type(cfg.test_evaluator)
    ds_cfg = ds_utils.dataset_cfg(cfg, opts.dataset)
    if any(m.kind == 'lr' for m in methods):
        check_lr_pipeline(ds_cfg.pipeline)
    coco = ds_utils.check_dataset(ds_cfg)
    out_dir = osp.abspath(opts.out_dir)
    cache_dir = osp.abspath(opts.cache_dir or osp.join(out_dir, 'sr_cache'))
    check_writable(out_dir, 'results folder', '--out-dir')
    check_writable(cache_dir, 'SR cache folder', '--cache-dir')
    if opts.show_dir:
        check_writable(osp.abspath(opts.show_dir), 'panel folder', '--show-dir')
    _check_sr_methods(methods, opts.scale)
    return Setup(opts, methods, out_dir, cache_dir, cfg, metric, ds_cfg, coco)


def build_detector(setup: Setup) -> Detector:
    """The mmdet Runner (initialises the distributed environment) + checked weights."""
    o = setup.opts
    t0 = time.perf_counter()
    runner = detection_runner(setup.cfg, osp.join(setup.out_dir, 'runner'), o.launcher)
    load_detector_weights(runner.model, o.detector_checkpoint, o.detector_config)
    build_s = time.perf_counter() - t0
    device = o.device or (
        f'cuda:{torch.cuda.current_device()}' if torch.cuda.is_available() else 'cpu')
    return Detector(runner, get_dist_info()[0], device, build_s)


def list_images(setup: Setup) -> Images:
    """The test dataset's images (``limit`` applied) and their cache folder."""
    o = setup.opts
    data_list, ds_type = ds_utils.list_images(setup.ds_cfg)
    num_listed = len(data_list)
    if o.limit is not None:
        data_list = data_list[:o.limit]
    if not data_list:
        raise CascadeError(f'The test dataset {ds_type} of {o.detector_config} '
                           f'({ds_utils.ann_path(setup.ds_cfg)}) lists no images.')
    img_root = ds_utils.image_root(data_list)
    ds_key = (osp.basename(img_root.rstrip('/')) or 'data') + '-' + hashlib.sha1(
        osp.abspath(img_root).encode()).hexdigest()[:8]
    geo_key = f'x{o.scale}' + (f'_hr{o.hr_size[0]}x{o.hr_size[1]}' if o.hr_size else '')
    return Images(data_list, ds_type, num_listed, img_root,
                  osp.join(setup.cache_dir, ds_key, geo_key))


def load_sr_models(setup: Setup, device: str) -> Dict[str, torch.nn.Module]:
    """Every SR checkpoint is read (keys, finite weights), its scale probed and its tiling
    checked (:func:`~.sr_pass.sr_tiling`) before any SR work."""
    generators = {m.name: build_method_generator(m, device) for m in setup.methods
                  if m.kind == 'model'}
    for m in setup.methods:
        if m.kind == 'model':
            check_generator_scale(m, generators[m.name], setup.opts.scale, device)
            sr_tiling(m, generators[m.name], setup.opts)
    return generators


def _refuse_size_mismatch(mismatch: List[dict], num_images: int, ds_cfg) -> None:
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
        f'{len(mismatch)} of {num_images} images disagree in size with their '
        f'annotation ({shown}{more})', ds_utils.ann_path(ds_cfg),
        'point --img-prefix at the images this annotation file describes (the HR images: '
        'the cascade makes the LR images itself), or --ann-file at their own annotations'))


def _prepare(setup: Setup, images: Images, detector: Detector, generators: dict,
             first: Optional[SRMethod], reference: ReferenceMaps) -> Tuple[dict, float]:
    """HR preparation (hidden behind the ``first`` SR method) and the run's image index.

    Returns: ``prepare_hr``'s dict (images the detector cannot take added to ``failed`` and
    dropped from ``index``) and the seconds the first method's SR took meanwhile.
    """
    o, data_list = setup.opts, images.data_list
    early_sr_s = 0.0
    if first is not None:
        early_sr_s = prepare_and_super_resolve(first, data_list, images.prep_dir,
                                               images.img_root, o, detector.device,
                                               generators.get(first.name), reference)
    prep = prepare_hr(data_list, images.prep_dir, o.scale, o.hr_size, images.img_root,
                      o.progress)
    _refuse_size_mismatch(prep.pop('size_mismatch'), len(data_list), setup.ds_cfg)
    prep['failed'] += probe_detector_geometry(
        detector.runner.model, setup.ds_cfg.pipeline, data_list, prep['index'],
        lr_scale=o.scale if any(m.kind == 'lr' for m in setup.methods) else None)
    for f in prep['failed']:
        prep['index'].pop(f['file'], None)
    if not prep['index']:
        shown = '; '.join(f"{f['file']}: {f['reason']}" for f in prep['failed'][:3])
        raise CascadeError(f'No usable image in {ds_utils.ann_path(setup.ds_cfg)} '
                           f'({len(prep["failed"])} excluded; {shown}).')
    return prep, early_sr_s


def sr_pass(setup: Setup, images: Images, detector: Detector,
            generators: Dict[str, torch.nn.Module]) -> SRImages:
    """Prepared HR images, the run's index (in its own folder) and every method's SR."""
    # it super-resolves each HR image as soon as it is prepared (hides the preparation)
    first = next((m for m in setup.methods if m.kind != 'hr'), None)
    t0 = time.perf_counter()
    reference = ReferenceMaps()  # each HR image's FSIM maps, computed once for all methods
    prep, early_sr_s = _prepare(setup, images, detector, generators, first, reference)
    prepare_hr_s = time.perf_counter() - t0 - early_sr_s
    eval_dir = osp.join(setup.out_dir, 'eval_inputs')
    check_writable(eval_dir, 'results folder', '--out-dir')
    index_file = osp.join(eval_dir, f'index.{detector.rank}.json')
    atomic_write_text(index_file, json.dumps(prep['index']))
    methods = {m.name: super_resolve_method(m, prep['index'], images.prep_dir, setup.opts,
                                            detector.device, generators.get(m.name), reference)
               for m in setup.methods}
    if first is not None:
        methods[first.name]['sr_seconds'] += early_sr_s
    return SRImages(prep['index'], prep['failed'], prep['grayscale'], prep['modcropped'],
                    eval_dir, index_file, methods, prepare_hr_s)


def detection_pass(setup: Setup, images: Images, detector: Detector,
                   sr: SRImages) -> Detections:
    """Every method's SR images through the detector and the config's evaluator."""
    test_ds = copy.deepcopy(setup.ds_cfg)
    ann_stats = ds_utils.write_eval_annotations(
        test_ds, setup.coco, sr.index, images.data_list, sr.eval_dir, detector.rank)
    t0 = time.perf_counter()
    det_pass = DetectionPass(detector.runner, setup.cfg, test_ds, setup.metric)
    build_s = time.perf_counter() - t0
    out = {}
    for m in setup.methods:
        res = sr.methods[m.name]
        det = det_pass.run(res['image_dir'], sr.index_file,
                           osp.join(setup.out_dir, 'methods', m.name),
                           bool(setup.opts.show_dir), ann_stats.get('num_gt_boxes'),
                           lr_scale=setup.opts.scale if m.kind == 'lr' else 1)
        out[m.name] = dict(spec=dict(kind=m.kind, config=m.config, checkpoint=m.checkpoint,
                                     cache=res['image_dir'], tiling=res['tiling']),
                           iq=res['iq'], sr_seconds=res['sr_seconds'], **det)
    return Detections(out, ann_stats, build_s)


def make_result(setup: Setup, images: Images, detector: Detector, sr: SRImages,
                det: Detections) -> dict:
    """The run's result (see :mod:`fdsr_mm.evaluation.tables`)."""
    o = setup.opts
    return dict(
        detector=dict(name=osp.splitext(osp.basename(o.detector_config))[0],
                      config=o.detector_config, checkpoint=o.detector_checkpoint),
        metric=setup.metric, scale=o.scale, degradation=o.degradation_tag,
        degradation_name=o.degradation, degradation_seed=(
            o.degradation_seed if DEGRADATIONS[o.degradation].seeded else None),
        hr_size=list(o.hr_size) if o.hr_size else None,
        tiling=dict(tile=o.tile, tile_pad=o.tile_pad, amp=o.sr_amp),
        dataset=dict(type=images.ds_type, data_root=setup.ds_cfg.get('data_root'),
                     ann_file=setup.ds_cfg.get('ann_file'), num_listed=images.num_listed,
                     num_images=len(images.data_list), num_evaluated=len(sr.index),
                     failed_images=sr.failed, grayscale_images=sr.grayscale,
                     modcropped_images=sr.modcropped, **det.ann_stats),
        methods=det.methods,
        timing=dict(runner_build_s=detector.build_s, prepare_hr_s=sr.prepare_hr_s,
                    det_build_s=det.build_s))


def bootstrap_intervals(setup: Setup, result: dict) -> dict:
    """Rank 0, after the detection pass: paired bootstrap intervals between the methods, from
    the per-image records the run wrote (``results['intervals']``)."""
    o = setup.opts
    reference, compare = interval_methods(o, [m.name for m in setup.methods])
    pairs = interval_pairs(list(result['methods']), reference, compare)
    return cascade_intervals(result, setup.out_dir, pairs, reference, o.resamples,
                             o.bootstrap_seed)


class CascadeRun:
    """The two-step protocol for one detector and several SR methods (see the package doc).

    The constructor checks the method list; :meth:`run` chains the steps of this module, each
    one's output the next ones' input.
    """

    def __init__(self, opts: CascadeOptions):
        self.opts = opts
        self.methods = parse_methods(opts)

    def run(self) -> dict:
        setup = check_inputs(self.opts, self.methods)
        detector = build_detector(setup)
        images = list_images(setup)
        generators = load_sr_models(setup, detector.device)
        sr = sr_pass(setup, images, detector, generators)
        det = detection_pass(setup, images, detector, sr)
        result = make_result(setup, images, detector, sr, det)
        if detector.rank == 0:
            o = setup.opts
            result['intervals'] = bootstrap_intervals(setup, result)
            result['files'] = write_tables(result, setup.out_dir)
            if o.show_dir:
                write_panels(result, images.data_list, sr.index, o.show_dir,
                             o.show_score_thr, o.show_num, classes=dataset_classes(setup.ds_cfg))
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
