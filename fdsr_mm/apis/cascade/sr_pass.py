"""SR pass: super-resolve the LR images of every method, cache them, score image quality.

LR is made by the run's degradation (:func:`make_lr`: ``opts.degradation``, by default the
training operator, MATLAB-like bicubic x1/scale; a random one is keyed by the HR file's base name
and ``opts.degradation_seed``); ``bicubic`` upsamples it with MMagic's MATLAB-like resize;
``lr_native`` keeps it as it is (no image-quality metrics: it has the LR size); a model
method runs :func:`fdsr_mm.apis.super_resolve_image` (tiled when large, :func:`sr_tiling`).
Results are cached as uint8 RGB PNG under ``<prep_dir>/<method key>/`` (the key names the
degradation and a model's tiling; file names carry the source file's content hash) with their
PSNR (RGB, Y), SSIM, FSIM, FSIMc against the mod-cropped HR (``shave = scale``) in
``iq.rank<r>.jsonl``. Cached images are not recomputed; metrics a rerun asks for and the cache
lacks are computed from the cached images. A run's methods share one
:class:`~fdsr_mm.evaluation.fsim_maps.ReferenceMaps`: each HR image's FSIM maps are computed once.
"""
import os
import os.path as osp
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dist import barrier, get_dist_info

from fdsr_mm.apis.super_resolve import super_resolve_image
from fdsr_mm.models.generators.tiled_inference import declared_receptive_field, default_tile_pad
from fdsr_mm.datasets.transforms.bicubic import bicubic_upsample
from fdsr_mm.datasets.transforms.degradations import degradation_key, degrade
from fdsr_mm.evaluation.fsim_maps import ReferenceMaps
from fdsr_mm.evaluation.image_quality import image_quality, mean_metric
from fdsr_mm.utils.cli_errors import format_error
from fdsr_mm.apis.cascade.cache_io import ordered_map, progress_bar, read_png, shard
from fdsr_mm.utils.io import append_jsonl, read_jsonl, write_png
from fdsr_mm.apis.cascade.hr_prep import prepare_todo, prepared_stream
from fdsr_mm.apis.cascade.methods import SRMethod, build_method_generator, method_key
from fdsr_mm.apis.cascade.options import CascadeError, CascadeOptions


def sr_tiling(method: SRMethod, generator, opts: CascadeOptions) -> Optional[dict]:
    """How a model method's SR runs (None for ``hr`` / ``bicubic``, which do not tile).

    The pad follows :mod:`fdsr_mm.models.generators.tiled_inference`'s rule: ``opts.tile_pad``
    when given,
    else the generator's declared ``receptive_field`` (exact tiles), else 16 (approximate).

    Returns:
        dict: ``tile`` (LR px or None: whole images), ``tile_pad`` (LR px, None without tiles),
        ``exact`` (True: tiles equal whole-image SR to float rounding; None: unknown, the
        generator declares no receptive field), ``amp`` (``opts.sr_amp``) and ``tag`` (its part
        of the cache key, ``-bfloat16``/``-float16`` appended under autocast).

    Raises:
        CascadeError: ``opts.tile_pad`` is smaller than the declared receptive field.
    """
    if method.kind != 'model':
        return None
    if generator is None:
        raise ValueError(f'The tiling of method {method.name!r} needs its built generator.')
    amp = f'-{opts.sr_amp}' if opts.sr_amp else ''  # autocast SR is cached apart
    if opts.tile is None:
        return dict(tile=None, tile_pad=None, exact=True, amp=opts.sr_amp, tag='whole' + amp)
    rf = declared_receptive_field(generator)
    pad = default_tile_pad(generator) if opts.tile_pad is None else opts.tile_pad
    if rf is not None and pad < rf:
        raise CascadeError(format_error(
            f'tile_pad {pad} is smaller than the receptive field ({rf} LR px) of the generator '
            f'of method {method.name!r}: its tiles would differ from whole-image SR near the '
            'seams', '--tile-pad', f'leave --tile-pad out (it is then {rf}), pass {rf} or more, '
            'or --tile 0 for whole images'))
    return dict(tile=opts.tile, tile_pad=pad, exact=True if rf is not None else None,
                amp=opts.sr_amp, tag=f'tile{opts.tile}pad{pad}{amp}')


def sr_image_dir(method: SRMethod, prep_dir: str, opts: CascadeOptions, generator=None) -> str:
    """The cache folder of a method's SR images (``generator``: a model method's, for its
    tiling, see :func:`sr_tiling`)."""
    if method.kind == 'hr':
        return osp.join(prep_dir, 'hr')
    tiling = sr_tiling(method, generator, opts)
    return osp.join(prep_dir, method_key(method, opts.degradation_tag,
                                         tiling['tag'] if tiling else None))


def make_lr(hr: np.ndarray, hr_path: str, opts: CascadeOptions) -> np.ndarray:
    """(H, W, 3) uint8 RGB HR -> (H/scale, W/scale, 3) uint8 RGB LR by the run's degradation,
    its randomness keyed by (``opts.degradation_seed``, base name of the HR file ``hr_path``)."""
    return degrade(hr, opts.scale, opts.degradation, opts.degradation_seed,
                   degradation_key(hr_path), channel_order='rgb')


def method_iq_metrics(method: SRMethod, opts: CascadeOptions) -> Sequence[str]:
    """The image-quality metrics of a method's images (none for ``lr_native``'s LR images)."""
    return () if method.kind == 'lr' else tuple(opts.iq_metrics)


def _upsample(method: SRMethod, generator, lr: np.ndarray, opts: CascadeOptions,
              device: str) -> np.ndarray:
    """(h, w, 3) uint8 RGB LR -> (h*scale, w*scale, 3) uint8 RGB (``lr_native``: the LR)."""
    if method.kind == 'lr':
        return lr
    if method.kind == 'bicubic':
        return bicubic_upsample(lr, opts.scale)
    tiling = sr_tiling(method, generator, opts)
    return super_resolve_image(generator, lr, opts.scale, tile=tiling['tile'],
                               tile_pad=tiling['tile_pad'], device=device, amp=tiling['amp'])


def super_resolve_items(method: SRMethod, items, num: int, image_dir: str, opts: CascadeOptions,
                        device: str, title: str, generator=None,
                        reference: Optional[ReferenceMaps] = None) -> float:
    """Super-resolve ``items`` (``(file, hr, lr)``, e.g. prefetched) and cache the results.

    The SR forward runs here; the PNG write, the image-quality metrics (HR maps from
    ``reference`` when given) and the log line of each result run in a writer thread while the
    next image is super-resolved. An item ``(None, ...)`` only advances the progress bar.
    Returns the seconds spent in SR forwards.
    """
    rank, _ = get_dist_info()
    os.makedirs(image_dir, exist_ok=True)
    log = osp.join(image_dir, f'iq.rank{rank}.jsonl')
    if method.kind == 'model' and num and generator is None:
        raise ValueError(f'super_resolve_items: method {method.name!r} needs its generator.')
    bar = progress_bar(num, title, opts.progress and rank == 0)
    metrics = method_iq_metrics(method, opts)

    def finish(file, sr, hr):
        write_png(osp.join(image_dir, file), sr)
        append_jsonl(log, dict(file=file, **(image_quality(
            sr, hr, shave=opts.scale, metrics=metrics, device=device, reference=reference,
            key=file) if metrics else {})))

    sr_seconds, pending = 0.0, deque()
    with ThreadPoolExecutor(max_workers=1) as writer:
        for file, hr, lr in items:
            if file is None:  # an image that could not be prepared: nothing to super-resolve
                if bar:
                    bar.update()
                continue
            t0 = time.perf_counter()
            sr = _upsample(method, generator, lr, opts, device)
            sr_seconds += time.perf_counter() - t0
            pending.append(writer.submit(finish, file, sr, hr))
            while len(pending) > 2 or (pending and pending[0].done()):
                pending.popleft().result()  # re-raises a writer error here
                if bar:
                    bar.update()
        while pending:
            pending.popleft().result()
            if bar:
                bar.update()
    if bar:
        print(flush=True)
    return sr_seconds


def prepare_and_super_resolve(method: SRMethod, data_list: List[dict], prep_dir: str,
                              img_root: str, opts: CascadeOptions, device: str,
                              generator=None, reference: Optional[ReferenceMaps] = None) -> float:
    """Prepare this rank's unprepared HR images and super-resolve each one as soon as it is ready.

    The first SR method of a run so hides the HR preparation (decode, checks, mod-crop, PNG
    cache, LR) behind its SR forwards instead of running it as a pass of its own. Images already
    prepared (a resumed run) are left to :func:`super_resolve_method`. Returns the seconds spent
    in SR forwards.
    """
    todo = prepare_todo(data_list, prep_dir)
    if method.kind == 'hr' or not todo:
        return 0.0
    if method.kind == 'model' and generator is None:
        generator = build_method_generator(method, device)
    image_dir = sr_image_dir(method, prep_dir, opts, generator)
    done = read_jsonl(osp.join(image_dir, 'iq.rank*.jsonl'))

    def items():
        for rec, hr, lr in prepared_stream(todo, prep_dir, opts.scale, opts.hr_size, img_root,
                                           make_lr=lambda hr, path: make_lr(hr, path, opts)):
            usable = hr is not None and not (rec['cached'] in done and osp.isfile(
                osp.join(image_dir, rec['cached'])))
            yield (rec['cached'], hr, lr) if usable else (None, None, None)

    return super_resolve_items(
        method, items(), len(todo), image_dir, opts, device,
        f'Preparing x{opts.scale} HR images + SR pass: {method.name}', generator, reference)


def _complete_metrics(entries: List[dict], done: Dict[str, dict], image_dir: str, prep_dir: str,
                      opts: CascadeOptions, device: str,
                      reference: Optional[ReferenceMaps] = None) -> None:
    """Compute the requested metrics the cache lacks for already super-resolved images."""
    rank, _ = get_dist_info()
    log = osp.join(image_dir, f'iq.rank{rank}.jsonl')
    for e in entries:
        missing = [m for m in opts.iq_metrics if m not in done[e['file']]]
        sr = read_png(osp.join(image_dir, e['file']))
        hr = read_png(osp.join(prep_dir, 'hr', e['file']))
        append_jsonl(log, dict(file=e['file'], **image_quality(
            sr, hr, shave=opts.scale, metrics=missing, device=device, reference=reference,
            key=e['file'])))


def _split_todo(index: Dict[str, dict], done: Dict[str, dict], image_dir: str,
                iq_metrics: Sequence[str]) -> Tuple[List[dict], List[dict]]:
    """This rank's (images to super-resolve, cached images lacking some metric)."""
    rank, world = get_dist_info()
    todo, incomplete = [], []
    for _, e in shard(sorted(index.items()), rank, world):
        if e['file'] not in done or not osp.isfile(osp.join(image_dir, e['file'])):
            todo.append(e)
        elif any(m not in done[e['file']] for m in iq_metrics):
            incomplete.append(e)
    return todo, incomplete


def super_resolve_method(method: SRMethod, index: Dict[str, dict], prep_dir: str,
                         opts: CascadeOptions, device: str, generator=None,
                         reference: Optional[ReferenceMaps] = None) -> dict:
    """SR pass for one method: cache SR images and their image-quality metrics (resumable).

    Args:
        method: The SR method (``hr`` caches nothing beyond :func:`~.hr_prep.prepare_hr`).
        index: The run's images, ``{HR path: dict(file, fx, fy, hw)}``.
        prep_dir: The folder of the prepared HR images.
        opts: Scale, image-quality metrics, tiling, progress.
        device: The SR device.
        generator: The method's built generator (built here from its checkpoint when None).
        reference: HR images' FSIM maps shared by the run's methods (None: computed here).

    Returns:
        dict: ``image_dir`` (the cached images), ``iq`` ({metric: mean over images}),
        ``sr_seconds`` (SR forward time of this call on this rank, 0 for cached images),
        ``tiling`` (:func:`sr_tiling`; None for ``hr`` / ``bicubic``).
    """
    if method.kind == 'hr':
        return dict(image_dir=sr_image_dir(method, prep_dir, opts), iq={}, sr_seconds=0.0,
                    tiling=None)
    if method.kind == 'model' and generator is None:
        generator = build_method_generator(method, device)
    image_dir = sr_image_dir(method, prep_dir, opts, generator)
    pattern = osp.join(image_dir, 'iq.rank*.jsonl')
    cached = read_jsonl(pattern)
    metrics = method_iq_metrics(method, opts)
    todo, incomplete = _split_todo(index, cached, image_dir, metrics)
    hr_paths = {e['file']: path for path, e in index.items()}

    def load(entry):  # HR read + LR, prefetched while the previous image is super-resolved
        hr = read_png(osp.join(prep_dir, 'hr', entry['file']))
        return entry['file'], hr, make_lr(hr, hr_paths[entry['file']], opts)

    with ThreadPoolExecutor(max_workers=1) as reader:
        sr_seconds = super_resolve_items(
            method, ordered_map(reader, load, todo, 2), len(todo), image_dir, opts, device,
            f'SR pass: {method.name}', generator, reference)
    _complete_metrics(incomplete, cached, image_dir, prep_dir, opts, device, reference)
    barrier()
    done = read_jsonl(pattern)
    files = [e['file'] for e in index.values()]
    missing = [f for f in files if any(m not in done.get(f, {}) for m in metrics)
               or f not in done]
    if missing:
        raise RuntimeError(f'SR pass of {method.name} left {len(missing)} images without '
                           f'metrics (e.g. {missing[0]}) in {image_dir}.')
    iq = {m: mean_metric(done[f][m] for f in files) for m in metrics}
    return dict(image_dir=image_dir, iq=iq, sr_seconds=sr_seconds,
                tiling=sr_tiling(method, generator, opts))
