"""The FDSR paper's two-step protocol: super-resolve x``scale``-downsampled HR images, detect.

For one mmdet detector and several SR methods, :func:`run_cascade` (a :class:`CascadeRun`)
checks every input first (:mod:`.preflight`: detector weights complete, SR checkpoints readable
and finite, folders writable, annotation ids unique, image shapes the detector can take), then
runs two passes:

1. **SR pass** (:mod:`.hr_prep`, :mod:`.sr_pass`; per method, resumable, split over ranks). For
   every image of the detector's test dataset: read the HR file (corrupt files are reported and
   excluded for *every* method), grayscale -> RGB, optionally resize to a fixed HR size (the
   paper's 300x300 VOC setting), mod-crop to a multiple of ``scale``, make LR with the run's
   degradation (:mod:`fdsr_mm.datasets.transforms.degradations`; default the training
   operator, MATLAB-like
   bicubic; ``'realistic'``: blur, resize, noise, JPEG drawn per (seed, file name)), super-resolve
   (:func:`fdsr_mm.apis.super_resolve_image`, tiled when large, with the generator's receptive
   field as pad where it declares one), save the uint8 RGB result as a lossless PNG in a cache
   keyed by (dataset, source file content, method, checkpoint hash, scale, degradation,
   tiling), and
   compute PSNR (RGB, Y), SSIM, FSIM, FSIMc against the mod-cropped HR with ``shave = scale``.
   ``hr`` and ``bicubic`` are methods like any SR model (:mod:`.methods`). Image I/O runs in
   background threads next to the model.
2. **Detection pass** (:mod:`.detect_pass`; per method): mmdet's Runner, built once, with the
   detector's own test pipeline, whose ``LoadImageFromFile`` is replaced by
   :class:`fdsr_mm.datasets.LoadCascadeImage`, and the config's own evaluator (CocoMetric on a
   derived annotation file with the same geometry and without the excluded images; VOCMetric).
   Each method is one ``runner.test()`` over an mmengine ``TestLoop`` of its images, which the
   runner's test loop (:class:`~.detect_pass.CascadeTestLoop`) runs: public mmengine API, hooks
   fired by mmengine itself.

The steps (:mod:`.run`) pass their results on explicitly: ``check_inputs -> Setup``,
``build_detector -> Detector``, ``list_images -> Images``, ``load_sr_models -> generators``,
``sr_pass -> SRImages``, ``detection_pass -> Detections``, ``make_result -> dict``.

Options are one :class:`CascadeOptions`; bad inputs raise :class:`CascadeError`.

Cache layout (``cache_dir``, default ``<out_dir>/sr_cache``; safe for concurrent runs, see
:mod:`.cache_io`)::

    <dataset-key>/x4[_hr300x300]/prepare.rank<r>.jsonl  per (file, sha256): geometry or failure
                                 /hr/<name>.<sha256[:16]>.png  mod-cropped HR (the ``hr`` method)
                                 /<method>-<hash>-<degradation>[-<tiling>]/<name>.<sha>.png,
                                     iq.rank<r>.jsonl

``<degradation>`` is ``bicubic-matlab`` (the default) or e.g. ``realistic-v1-seed0``;
``<tiling>`` (model methods) is ``whole`` or e.g. ``tile200pad21``. Every cached image is named
by the content (SHA-256) of its source file, so images regenerated at the same paths are never
served from the old entries; failed images are retried on every run.

What a run evaluates lives in its results folder: ``<out_dir>/eval_inputs/index.<r>.json``
(HR path -> cached file and geometry, read by ``LoadCascadeImage``) and ``ann_coco.<r>.json`` or
``imagesets.<r>.txt``.
"""
from fdsr_mm.apis.cascade.methods import SRMethod, build_method_generator, parse_method
from fdsr_mm.apis.cascade.options import DEGRADATION, CascadeError, CascadeOptions
from fdsr_mm.apis.cascade.run import CascadeRun, run_cascade

__all__ = ['CascadeError', 'CascadeOptions', 'CascadeRun', 'DEGRADATION', 'SRMethod',
           'build_method_generator', 'parse_method', 'run_cascade']
