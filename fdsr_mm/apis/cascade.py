"""The FDSR paper's two-step protocol: super-resolve x``scale``-downsampled HR images, detect.

For one mmdet detector and several SR methods, :func:`run_cascade` runs two passes:

1. **SR pass** (per method, resumable, split over ranks). For every image of the detector's test
   dataset: read the HR file (corrupt files are reported and excluded for *every* method),
   grayscale -> RGB, optionally resize to a fixed HR size (the paper's 300x300 VOC setting),
   mod-crop to a multiple of ``scale``, make LR with the training operator
   (:func:`fdsr_mm.datasets.transforms.bicubic_downsample`), super-resolve
   (:func:`fdsr_mm.apis.super_resolve_image`, tiled when large), save the uint8 RGB result as a
   lossless PNG in a cache keyed by (dataset, method, checkpoint hash, scale, degradation), and
   compute PSNR (RGB, Y), SSIM, FSIM, FSIMc against the mod-cropped HR with ``shave = scale``.
   ``hr`` (the mod-cropped HR image itself) and ``bicubic`` (MATLAB-like bicubic x``scale``
   upsampling of the LR image) are methods like any SR model. Image I/O runs in background
   threads next to the model: the first SR method super-resolves each HR image as soon as it is
   prepared (:func:`prepare_and_super_resolve`), later methods prefetch their LR inputs, and PNG
   writes and image-quality metrics of one result overlap the next SR forward.
2. **Detect pass** (per method): mmdet's Runner and ``TestLoop`` with the detector's own test
   pipeline, whose ``LoadImageFromFile`` is replaced by
   :class:`fdsr_mm.evaluation.LoadCascadeImage` (reads the cached image; the SR image has the
   mod-cropped HR size, so annotations stay in HR coordinates, boxes clipped), and the config's
   own evaluator (CocoMetric on a derived annotation file with the same geometry and without the
   failed images; VOCMetric). Detection numbers are mmdet's, in percent.

Method specs (:func:`parse_method`): ``hr``, ``bicubic``, or ``NAME=CONFIG:CHECKPOINT`` where
CONFIG is an MMagic config (path or ``mmagic::...``) whose ``model.generator`` is built and
CHECKPOINT an mmengine checkpoint of the restorer (``generator.*`` keys) or of the bare generator.

Cache layout (``cache_dir``, default ``<out_dir>/sr_cache``)::

    <dataset-key>/x4[_hr300x300]/index.json   HR path -> cached file, geometry (LoadCascadeImage)
                                 /prepare.json  failed / grayscale / mod-cropped images
                                 /ann_coco.json derived COCO annotations (COCO datasets)
                                 /hr/...png      mod-cropped HR (the ``hr`` method)
                                 /<method>-<hash>/...png, iq.rank<r>.jsonl  SR images + metrics
"""
import copy
import gc
import glob
import hashlib
import io
import json
import os
import os.path as osp
import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dist import barrier, get_dist_info
from mmengine.hooks import Hook
from mmengine.registry import DefaultScope
from mmengine.utils import ProgressBar

from fdsr_mm.apis.super_resolve import super_resolve_image
from fdsr_mm.datasets.transforms import bicubic_downsample
from fdsr_mm.evaluation.image_quality import IQ_METRICS, image_quality, mean_metric
from fdsr_mm.evaluation.tables import atomic_write_text, dump_json, write_tables

#: Degradation key of the cache (the operator that makes LR from HR).
DEGRADATION = 'bicubic-matlab'
RESERVED_METHODS = ('hr', 'bicubic')
_COCO_KEYS = dict(AP='bbox_mAP', AP50='bbox_mAP_50', AP75='bbox_mAP_75', APS='bbox_mAP_s',
                  APM='bbox_mAP_m', APL='bbox_mAP_l')


def _io_threads(beside_model: bool) -> int:
    """Threads for image decoding / PNG encoding (they release the GIL): up to 4, and beside a
    running model only the cores its torch threads leave free (at least one)."""
    cores = os.cpu_count() or 1
    if beside_model:
        cores -= torch.get_num_threads()
    return max(1, min(4, cores))


@dataclass
class SRMethod:
    """One SR method of the cascade.

    Args:
        name: Column name in the tables and cache folder prefix.
        kind: ``'hr'``, ``'bicubic'`` or ``'model'``.
        config: MMagic config (path or ``mmagic::...``) of a ``'model'`` method.
        checkpoint: Its checkpoint (restorer or bare-generator state dict).
        generator: Alternatively, a ready generator module (RGB [0, 1] (N, 3, h, w) ->
            (N, 3, h*scale, w*scale)); its cache key is ``cache_key`` (required then).
        cache_key: Overrides the automatic (config, checkpoint) hash.
    """
    name: str
    kind: str = 'model'
    config: Optional[str] = None
    checkpoint: Optional[str] = None
    generator: Optional[torch.nn.Module] = field(default=None, repr=False)
    cache_key: Optional[str] = None

    def __post_init__(self):
        if self.kind not in ('hr', 'bicubic', 'model'):
            raise ValueError(f'Unknown SR method kind {self.kind!r}.')
        if self.kind == 'model':
            if self.name in RESERVED_METHODS:
                raise ValueError(f'{self.name!r} is reserved for the built-in method.')
            if self.generator is None and (not self.config or not self.checkpoint):
                raise ValueError(f'SR method {self.name!r} needs CONFIG:CHECKPOINT '
                                 f'(e.g. {self.name}=configs/x.py:work_dirs/x/iter_1000.pth).')
            if self.generator is not None and not self.cache_key:
                raise ValueError(f'SR method {self.name!r} with a generator module needs a '
                                 'cache_key naming its weights.')


def parse_method(spec: Union[str, SRMethod]) -> SRMethod:
    """``'hr'`` | ``'bicubic'`` | ``'NAME=CONFIG:CHECKPOINT'`` -> :class:`SRMethod`."""
    if isinstance(spec, SRMethod):
        return spec
    if spec in RESERVED_METHODS:
        return SRMethod(spec, kind=spec)
    if '=' not in spec or ':' not in spec.split('=', 1)[1]:
        raise ValueError(f'Bad SR method {spec!r}: use hr, bicubic or NAME=CONFIG:CHECKPOINT.')
    name, rest = spec.split('=', 1)
    config, checkpoint = rest.rsplit(':', 1)
    return SRMethod(name, 'model', config, checkpoint)


def _file_sha256(path: str, _memo: Dict = {}) -> str:  # noqa: B006 (per-process memo)
    st = os.stat(path)
    key = (osp.abspath(path), st.st_size, st.st_mtime_ns)
    if key not in _memo:
        h = hashlib.sha256()
        with open(path, 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 20), b''):
                h.update(chunk)
        _memo[key] = h.hexdigest()
    return _memo[key]


def _load_config(path: str, format_python_code: bool = True) -> Config:
    """Load a config file or ``package::path`` config.

    ``format_python_code=False`` makes ``pretty_text`` skip yapf: the detector config is
    pretty-printed four times while a Runner is built and started (log, dump, visualizer), each
    ~0.1 s of formatting that a results folder does not need.
    """
    if '::' in path:
        from mmengine.hub import get_config
        cfg = get_config(path)
    elif not osp.isfile(path):
        raise FileNotFoundError(f'Config {path} does not exist.')
    else:
        cfg = Config.fromfile(path)
    # Config.__setattr__ writes config keys; this flag is an attribute (set as Config does).
    object.__setattr__(cfg, '_format_python_code', format_python_code)
    return cfg


def _generator_cfg(config: str, _memo: Dict = {}) -> dict:  # noqa: B006 (per-process memo)
    """``model.generator`` of an MMagic config without ``init_cfg``, as a fresh plain dict.

    A run needs it up to three times per method (cache key of the first method's early pass and
    of its own pass, generator build); a config with ``mmagic::`` bases takes ~0.2 s to load, so
    each file version is loaded once.
    """
    key = (config, os.stat(config).st_mtime_ns if osp.isfile(config) else None)
    if key not in _memo:
        gen_cfg = _load_config(config).model.generator.to_dict()
        gen_cfg.pop('init_cfg', None)  # weights come from the checkpoint
        _memo[key] = gen_cfg
    return copy.deepcopy(_memo[key])


def build_sr_generator(method: SRMethod, device: str = 'cpu') -> torch.nn.Module:
    """Build ``model.generator`` of the method's MMagic config and load its checkpoint weights."""
    if method.generator is not None:
        return method.generator.to(device).eval()
    if not osp.isfile(method.checkpoint):
        raise FileNotFoundError(f'SR checkpoint {method.checkpoint} of method {method.name!r} '
                                'does not exist: train it (tools/train.py) or pass its path.')
    from mmagic.registry import MODELS
    from mmengine.runner import CheckpointLoader
    gen_cfg = _generator_cfg(method.config)
    with DefaultScope.overwrite_default_scope('mmagic'):
        generator = MODELS.build(gen_cfg)
    ckpt = CheckpointLoader.load_checkpoint(method.checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    if any(k.startswith('generator.') for k in state):
        state = {k[len('generator.'):]: v for k, v in state.items() if k.startswith('generator.')}
    missing, unexpected = generator.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise RuntimeError(f'{method.checkpoint} does not fit the generator of {method.config}: '
                           f'missing {missing[:5]}, unexpected {unexpected[:5]}.')
    return generator.to(device).eval()


def _method_key(method: SRMethod) -> str:
    if method.kind == 'hr':
        return 'hr'
    if method.kind == 'bicubic':
        return f'bicubic-{DEGRADATION}'
    if method.cache_key:
        digest = method.cache_key
    else:
        gen_cfg = _generator_cfg(method.config)
        h = hashlib.sha256(_file_sha256(method.checkpoint).encode())
        h.update(json.dumps(gen_cfg, sort_keys=True, default=str).encode())
        digest = h.hexdigest()[:12]
    return f'{method.name}-{digest}-{DEGRADATION}'


# ------------------------------------------------------------------------------------ dataset

def _read_hr(path: str) -> Tuple[Optional[np.ndarray], bool, Optional[str]]:
    """Decode an HR file as mmdet's loader does (cv2 'color', EXIF applied) -> RGB uint8.

    Returns:
        (img or None, is_grayscale, failure reason or None)
    """
    from PIL import Image
    import mmcv
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        return None, False, f'unreadable: {e}'
    try:
        pil = Image.open(io.BytesIO(data))
        gray = pil.mode in ('1', 'L', 'LA', 'I', 'I;16', 'F')
        pil.load()  # raises on truncated / corrupt data that cv2 may half-decode silently
    except Exception as e:  # noqa: BLE001 (any decoder error means a corrupt file)
        return None, False, f'corrupt: {type(e).__name__}: {e}'
    img = mmcv.imfrombytes(data, flag='color', channel_order='rgb', backend='cv2')
    if img is None:
        return None, gray, 'corrupt: cv2 could not decode it'
    return img, gray, None


def _merge(dst, src: dict):
    """Recursively merge the dict ``src`` into the (Config)dict ``dst``."""
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v)
    return dst


def _dataset_cfg(cfg: Config, dataset: Optional[dict]) -> Config:
    return _merge(copy.deepcopy(cfg.test_dataloader.dataset), dataset or {})


def _check_dataset(ds_cfg) -> None:
    root = ds_cfg.get('data_root') or ''
    ann = ds_cfg.get('ann_file')
    ann_path = ann if not ann or osp.isabs(ann) else osp.join(root, ann)
    if ann and not osp.isfile(ann_path):
        raise FileNotFoundError(
            f"Annotation file {ann_path} does not exist. Put the dataset there (COCO: "
            f"data/coco/annotations/instances_val2017.json + data/coco/val2017/; VOC: "
            f"data/VOCdevkit/VOC2007/) or pass its location (--data-root, --ann-file, "
            f"--img-prefix, or dataset=dict(data_root=..., ann_file=..., data_prefix=...)).")


def _list_images(ds_cfg) -> Tuple[List[dict], str]:
    """The detector test dataset's data list (HR paths, ids, raw GT) and its type name."""
    from mmdet.registry import DATASETS
    ds_cfg = copy.deepcopy(ds_cfg)
    ds_cfg.pipeline = []
    ds_cfg.serialize_data = False  # only listed once here: skip the pickling + gc.collect()
    with DefaultScope.overwrite_default_scope('mmdet'):
        dataset = DATASETS.build(ds_cfg)
    return [dataset.get_data_info(i) for i in range(len(dataset))], type(dataset).__name__


def _slice(items: Sequence, rank: int, world: int) -> Sequence:
    return items[rank::world]


def _read_jsonl(pattern: str) -> Dict[str, dict]:
    """Records of every ``*.jsonl`` matching ``pattern`` keyed by ``file`` (bad lines skipped:
    a killed run may leave a torn last line)."""
    out = {}
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding='utf-8') as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                out[rec['file']] = rec
    return out


def _append_jsonl(path: str, rec: dict) -> None:
    """Append one record line, first ending a torn last line a killed run may have left.

    Not fsync'ed (~1 ms per image): what a killed process wrote is in the OS already; a machine
    crash can lose the last lines, whose images are then simply super-resolved again.
    """
    torn = False
    if osp.isfile(path) and os.path.getsize(path):
        with open(path, 'rb') as f:
            f.seek(-1, os.SEEK_END)
            torn = f.read(1) != b'\n'
    with open(path, 'a', encoding='utf-8') as f:
        f.write(('\n' if torn else '') + json.dumps(rec) + '\n')


def _write_png(path: str, img_rgb: np.ndarray) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(path), suffix='.png')
    os.close(fd)
    try:
        if not cv2.imwrite(tmp, cv2.cvtColor(img_rgb, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_PNG_COMPRESSION, 1]):
            raise OSError(f'cv2 could not write {tmp}')
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def _read_png(path: str) -> np.ndarray:
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise OSError(f'Cannot read cached image {path}: delete it and rerun.')
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _rel_png(hr_path: str, img_root: str) -> str:
    rel = osp.relpath(hr_path, img_root) if img_root else osp.basename(hr_path)
    if rel.startswith('..'):
        rel = hashlib.sha1(hr_path.encode()).hexdigest()[:16] + '_' + osp.basename(hr_path)
    return osp.splitext(rel)[0] + '.png'


def _ordered_map(pool: ThreadPoolExecutor, fn, items: Sequence, depth: int):
    """``pool.map(fn, items)`` with at most ``depth`` items in flight (bounded memory)."""
    futures = deque()
    for item in items:
        futures.append(pool.submit(fn, item))
        if len(futures) >= depth:
            yield futures.popleft().result()
    while futures:
        yield futures.popleft().result()


def _progress(n: int, title: str, show: bool):
    if show and n:
        print(f'{title} ({n} images)', flush=True)
        return ProgressBar(n)
    return None


def _prepare_todo(data_list: List[dict], prep_dir: str) -> List[dict]:
    """This rank's images without a prepared HR image (or a failure record) in ``prep_dir``."""
    rank, world = get_dist_info()
    done = _read_jsonl(osp.join(prep_dir, 'prepare.rank*.jsonl'))
    return [d for d in _slice(data_list, rank, world)
            if d['img_path'] not in done or (done[d['img_path']].get('reason') is None
                                             and not osp.isfile(osp.join(
                                                 prep_dir, 'hr', done[d['img_path']]['cached'])))]


def _prepare_one(d: dict, prep_dir: str, scale: int, hr_size: Optional[Tuple[int, int]],
                 img_root: str) -> Tuple[dict, Optional[np.ndarray]]:
    """Read, check, resize (``hr_size``) and mod-crop one HR image; cache it as PNG.

    Returns:
        (record, image): the ``prepare.rank*.jsonl`` record (``reason`` is None when usable) and
        the mod-cropped (H, W, 3) uint8 RGB image (None when not usable).
    """
    path = d['img_path']
    rec = dict(file=path, cached=_rel_png(path, img_root), reason=None, gray=False,
               modcropped=False)
    img, rec['gray'], rec['reason'] = _read_hr(path)
    if img is None:
        return rec, None
    h0, w0 = img.shape[:2]
    if hr_size is not None:
        img = cv2.resize(img, tuple(hr_size), interpolation=cv2.INTER_CUBIC)
    h1, w1 = img.shape[:2]
    min_side = 8 * scale
    if min(h1, w1) < min_side:
        rec['reason'] = (f'too small: {h1}x{w1} < {min_side} px (8 x scale) on a side, its '
                         f'x{scale} LR image would be under 8 px')
        return rec, None
    hc, wc = h1 - h1 % scale, w1 - w1 % scale
    rec['modcropped'] = (hc, wc) != (h1, w1)
    img = np.ascontiguousarray(img[:hc, :wc])
    _write_png(osp.join(prep_dir, 'hr', rec['cached']), img)
    rec.update(fx=w1 / w0, fy=h1 / h0, hw=[hc, wc])
    return rec, img


def _prepared_stream(todo: List[dict], prep_dir: str, scale: int,
                     hr_size: Optional[Tuple[int, int]], img_root: str, with_lr: bool = False):
    """Prepare ``todo`` in background threads; yield ``(record, hr, lr)`` in order, logged.

    Decoding and PNG encoding release the GIL, so the threads keep the other cores busy while
    the consumer (the SR model, or nothing) works. ``lr`` is ``bicubic_downsample(hr)`` when
    ``with_lr`` (the consumer is a model: fewer threads, see :func:`_io_threads`) and the image
    is usable, else None.
    """
    rank, _ = get_dist_info()
    log = osp.join(prep_dir, f'prepare.rank{rank}.jsonl')

    def work(d):
        rec, hr = _prepare_one(d, prep_dir, scale, hr_size, img_root)
        lr = bicubic_downsample(hr, scale) if with_lr and hr is not None else None
        return rec, hr, lr

    os.makedirs(osp.join(prep_dir, 'hr'), exist_ok=True)
    threads = _io_threads(beside_model=with_lr)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for rec, hr, lr in _ordered_map(pool, work, todo, 2 * threads):
            _append_jsonl(log, rec)
            yield rec, hr, lr


def prepare_hr(data_list: List[dict], prep_dir: str, scale: int, hr_size: Optional[Tuple[int,
               int]], img_root: str, progress: bool = True) -> dict:
    """SR pass, part 0: the mod-cropped HR images (the ``hr`` method) and the cache index.

    Every rank prepares its slice (what :func:`prepare_and_super_resolve` left, if it ran);
    afterwards all ranks read the merged index.

    Returns:
        dict: ``index`` ({HR path: dict(file, fx, fy, hw)}), ``failed`` ([dict(file, reason)]),
        ``grayscale`` and ``modcropped`` counts.
    """
    rank, _ = get_dist_info()
    todo = _prepare_todo(data_list, prep_dir)
    bar = _progress(len(todo), f'Preparing x{scale} HR images', progress and rank == 0)
    for _ in _prepared_stream(todo, prep_dir, scale, hr_size, img_root):
        if bar:
            bar.update()
    if bar:
        print(flush=True)
    barrier()
    done = _read_jsonl(osp.join(prep_dir, 'prepare.rank*.jsonl'))
    index, failed = {}, []
    for d in data_list:
        rec = done[d['img_path']]
        if rec['reason'] is None:
            index[d['img_path']] = dict(file=rec['cached'], fx=rec['fx'], fy=rec['fy'],
                                        hw=rec['hw'])
        else:
            failed.append(dict(file=d['img_path'], reason=rec['reason']))
    recs = [done[d['img_path']] for d in data_list]
    return dict(index=index, failed=failed, grayscale=sum(r['gray'] for r in recs),
                modcropped=sum(r['modcropped'] for r in recs))


def _sr_image_dir(method: SRMethod, prep_dir: str) -> str:
    if method.kind == 'hr':
        return osp.join(prep_dir, 'hr')
    return osp.join(prep_dir, _method_key(method))


def _super_resolve_items(method: SRMethod, items, num: int, image_dir: str, scale: int,
                         iq_metrics: Sequence[str], tile: Optional[int], tile_pad: int,
                         device: str, title: str, progress: bool) -> float:
    """Super-resolve ``items`` (``(file, hr, lr)``, e.g. prefetched) and cache the results.

    The SR forward runs here; the PNG write, the image-quality metrics and the log line of each
    result run in a writer thread while the next image is super-resolved. Returns the seconds
    spent in SR forwards.
    """
    rank, _ = get_dist_info()
    os.makedirs(image_dir, exist_ok=True)
    log = osp.join(image_dir, f'iq.rank{rank}.jsonl')
    generator = build_sr_generator(method, device) if method.kind == 'model' and num else None
    bar = _progress(num, title, progress and rank == 0)

    def finish(file, sr, hr):
        _write_png(osp.join(image_dir, file), sr)
        _append_jsonl(log, dict(file=file, **image_quality(
            sr, hr, shave=scale, metrics=iq_metrics, device=device)))

    sr_seconds = 0.0
    pending = deque()
    with ThreadPoolExecutor(max_workers=1) as writer:
        for file, hr, lr in items:
            if file is None:  # an image that could not be prepared: nothing to super-resolve
                if bar:
                    bar.update()
                continue
            t0 = time.perf_counter()
            if method.kind == 'bicubic':
                from mmagic.datasets.transforms import MATLABLikeResize
                up = MATLABLikeResize(keys=['img'], scale=scale).transform(
                    dict(img=lr.astype(np.float32)))['img']
                sr = np.clip(np.round(up), 0, 255).astype(np.uint8)
            else:
                sr = super_resolve_image(generator, lr, scale, tile=tile, tile_pad=tile_pad,
                                         device=device)
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
                              scale: int, hr_size: Optional[Tuple[int, int]], img_root: str,
                              iq_metrics: Sequence[str] = IQ_METRICS,
                              tile: Optional[int] = 200, tile_pad: int = 16,
                              device: str = 'cpu', progress: bool = True) -> float:
    """Prepare this rank's unprepared HR images and super-resolve each one as soon as it is ready.

    The first SR method of a run so hides the HR preparation (decode, checks, mod-crop, PNG
    cache, LR) behind its SR forwards instead of running it as a pass of its own. Images already
    prepared (a resumed run) are left to :func:`super_resolve_method`. Returns the seconds spent
    in SR forwards.
    """
    todo = _prepare_todo(data_list, prep_dir)
    if method.kind == 'hr' or not todo:
        return 0.0
    image_dir = _sr_image_dir(method, prep_dir)
    done = _read_jsonl(osp.join(image_dir, 'iq.rank*.jsonl'))

    def items():
        for rec, hr, lr in _prepared_stream(todo, prep_dir, scale, hr_size, img_root,
                                            with_lr=True):
            usable = hr is not None and not (rec['cached'] in done and osp.isfile(
                osp.join(image_dir, rec['cached'])))
            yield (rec['cached'], hr, lr) if usable else (None, None, None)

    return _super_resolve_items(method, items(), len(todo), image_dir, scale, iq_metrics, tile,
                                tile_pad, device,
                                f'Preparing x{scale} HR images + SR pass: {method.name}',
                                progress)


def super_resolve_method(method: SRMethod, index: Dict[str, dict], prep_dir: str, scale: int,
                         iq_metrics: Sequence[str] = IQ_METRICS, tile: Optional[int] = 200,
                         tile_pad: int = 16, device: str = 'cpu', progress: bool = True) -> dict:
    """SR pass for one method: cache SR images and their image-quality metrics (resumable).

    Args:
        method: The SR method (``hr`` caches nothing beyond :func:`prepare_hr`).
        index: ``prepare_hr(...)['index']``.
        prep_dir: The folder of the prepared HR images.
        scale: SR factor; the LR image is ``bicubic_downsample(HR, scale)``.
        iq_metrics: Image-quality metrics (not computed for ``hr``).
        tile, tile_pad: LR tiling of the generator (whole image when both sides <= tile).

    Returns:
        dict: ``image_dir`` (the cached images), ``iq`` ({metric: mean over images}),
        ``sr_seconds`` (SR forward time of this call on this rank, 0 for cached images).
    """
    image_dir = _sr_image_dir(method, prep_dir)
    if method.kind == 'hr':
        return dict(image_dir=image_dir, iq={}, sr_seconds=0.0)
    rank, world = get_dist_info()
    pattern = osp.join(image_dir, 'iq.rank*.jsonl')
    done = _read_jsonl(pattern)
    todo = [e for _, e in _slice(sorted(index.items()), rank, world)
            if e['file'] not in done or not osp.isfile(osp.join(image_dir, e['file']))]

    def load(entry):  # HR read + LR, prefetched while the previous image is super-resolved
        hr = _read_png(osp.join(prep_dir, 'hr', entry['file']))
        return entry['file'], hr, bicubic_downsample(hr, scale)

    with ThreadPoolExecutor(max_workers=1) as reader:
        sr_seconds = _super_resolve_items(
            method, _ordered_map(reader, load, todo, 2), len(todo), image_dir, scale,
            iq_metrics, tile, tile_pad, device, f'SR pass: {method.name}', progress)
    barrier()
    done = _read_jsonl(pattern)
    files = [e['file'] for e in index.values()]
    missing = [f for f in files if f not in done]
    if missing:
        raise RuntimeError(f'SR pass of {method.name} left {len(missing)} images without '
                           f'metrics (e.g. {missing[0]}) in {image_dir}.')
    iq = {m: mean_metric(done[f][m] for f in files) for m in iq_metrics}
    return dict(image_dir=image_dir, iq=iq, sr_seconds=sr_seconds)


def _derive_coco_ann(ann_file: str, index: Dict[str, dict], data_list: List[dict],
                     out_file: str) -> dict:
    """COCO annotations restricted to the prepared images, in the prepared HR geometry.

    Boxes are scaled by (fx, fy) (1 without ``hr_size``) and clipped to the mod-cropped size;
    ``area`` is scaled by fx*fy (COCO small/medium/large use it); a box left without area is
    dropped. Returns counts of clipped and dropped boxes.
    """
    with open(ann_file, encoding='utf-8') as f:
        coco = json.load(f)
    id2entry = {d['img_id']: index[d['img_path']] for d in data_list if d['img_path'] in index}
    images = []
    for im in coco['images']:
        if im['id'] in id2entry:
            e = id2entry[im['id']]
            images.append(dict(im, height=e['hw'][0], width=e['hw'][1]))
    anns, clipped, dropped = [], 0, 0
    for a in coco['annotations']:
        e = id2entry.get(a['image_id'])
        if e is None:
            continue
        x, y, w, h = a['bbox']
        x1, y1, x2, y2 = x * e['fx'], y * e['fy'], (x + w) * e['fx'], (y + h) * e['fy']
        cx1, cy1 = min(max(x1, 0), e['hw'][1]), min(max(y1, 0), e['hw'][0])
        cx2, cy2 = min(max(x2, 0), e['hw'][1]), min(max(y2, 0), e['hw'][0])
        if cx2 <= cx1 or cy2 <= cy1:
            dropped += 1
            continue
        clipped += (cx1, cy1, cx2, cy2) != (x1, y1, x2, y2)
        anns.append(dict(a, bbox=[cx1, cy1, cx2 - cx1, cy2 - cy1],
                         area=a.get('area', w * h) * e['fx'] * e['fy']))
    coco = dict(coco, images=images, annotations=anns)
    atomic_write_text(out_file, json.dumps(coco))
    return dict(clipped_boxes=clipped, dropped_boxes=dropped)


# --------------------------------------------------------------------------------- detection

def _replace_loader(pipeline: List[dict], index_file: str, image_dir: str) -> List[dict]:
    out, found = [], False
    for t in pipeline:
        if t['type'] in ('LoadImageFromFile', 'mmdet.LoadImageFromFile',
                         'mmcv.LoadImageFromFile'):
            kwargs = {k: v for k, v in t.items() if k not in ('type', 'color_type')}
            out.append(dict(type='LoadCascadeImage', index_file=index_file,
                            image_dir=image_dir, **kwargs))
            found = True
        else:
            out.append(t)
    if not found:
        raise ValueError('The detector test pipeline has no LoadImageFromFile to replace: '
                         f'{[t["type"] for t in pipeline]}.')
    return out


def _metric_type(evaluator) -> str:
    types = [e['type'] for e in (evaluator if isinstance(evaluator, list) else [evaluator])]
    if any('CocoMetric' in t for t in types):
        return 'coco'
    if any('VOCMetric' in t for t in types):
        return 'voc'
    raise ValueError(f'Unsupported test evaluator {types}: use CocoMetric or VOCMetric.')


def _det_numbers(metrics: dict, metric: str) -> dict:
    if metric == 'coco':
        out = {}
        for name, key in _COCO_KEYS.items():
            val = metrics.get(f'coco/{key}')
            out[name] = None if val is None or val < 0 else round(100 * val, 1)
        return out
    val = metrics.get('pascal_voc/mAP')
    return dict(mAP=None if val is None else round(100 * val, 2))


class _TestIterSeconds(Hook):
    """Sums the time of the test iterations (detector ``test_step`` + metric ``process``), i.e.
    the detection pass without data loading and the final metric computation."""

    priority = 'LOWEST'  # before_test_iter runs after the other hooks'

    def __init__(self):
        self.seconds = 0.0
        self._t0 = None

    def before_test_iter(self, runner, batch_idx, data_batch=None):
        self._t0 = time.perf_counter()

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.seconds += time.perf_counter() - self._t0


def _detector_name(config: str) -> str:
    return osp.splitext(osp.basename(config))[0]


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


@_gc_frozen()
def run_cascade(detector_config: str, detector_checkpoint: str,
                methods: Sequence[Union[str, SRMethod]], out_dir: str,
                dataset: Optional[dict] = None, scale: int = 4,
                hr_size: Optional[Tuple[int, int]] = None, cache_dir: Optional[str] = None,
                limit: Optional[int] = None, iq_metrics: Sequence[str] = IQ_METRICS,
                tile: Optional[int] = 200, tile_pad: int = 16, device: Optional[str] = None,
                show_dir: Optional[str] = None, show_num: Optional[int] = None,
                show_score_thr: float = 0.3,
                launcher: str = 'none', cfg_options: Optional[dict] = None,
                progress: bool = True) -> dict:
    """Evaluate one mmdet detector on SR images of several methods (FDSR Tables 1-3).

    Args:
        detector_config: mmdet config (path, or ``mmdet::...``); its test dataloader, pipeline
            and evaluator (CocoMetric or VOCMetric) define the evaluation.
        detector_checkpoint: The detector weights.
        methods: Method specs (``'hr'``, ``'bicubic'``, ``'NAME=CONFIG:CKPT'``) or
            :class:`SRMethod`; the table columns, in order.
        out_dir: Results folder (``results.json``, ``table1|3.{md,csv}``, per-method files).
        dataset: Overrides of ``test_dataloader.dataset`` (``data_root``, ``ann_file``,
            ``data_prefix``, ``metainfo``); annotation boxes are in HR pixel coordinates.
        scale: SR factor (4 in the paper).
        hr_size: (width, height) to resize HR images to first (the paper's VOC/SSD300 setting
            uses (300, 300)); default: the config's ``cascade_hr_size`` if set, else None.
        cache_dir: SR image cache root (shared by detectors); default ``out_dir/sr_cache``.
        limit: Only the first ``limit`` images of the dataset (quick look).
        iq_metrics: Image-quality metrics, from ``psnr, psnr_y, ssim, fsim, fsimc``.
        tile, tile_pad: LR tile size / context of SR inference (whole image when smaller).
        device: SR device; default CUDA when available, else CPU.
        show_dir: Write Fig. 1-style panels (methods side by side, predicted boxes with score
            >= ``show_score_thr``, precision/recall at IoU 0.5 per image).
        show_num: Panels of the first ``show_num`` evaluated images only (default: all).
        launcher: ``'none'`` or ``'pytorch'``/``'slurm'``/``'mpi'`` (images split over ranks).
        cfg_options: Overrides merged into the detector config (as ``--cfg-options``).
        progress: Show progress bars with ETA.

    Returns:
        dict: The result (see :mod:`fdsr_mm.evaluation.tables`); on rank 0 also written to
        ``out_dir``.
    """
    from mmengine.dataset import Compose
    from mmengine.evaluator import Evaluator
    from mmengine.runner import Runner, TestLoop
    from mmdet.registry import DATASETS, METRICS

    if not osp.isfile(detector_checkpoint):
        raise FileNotFoundError(
            f'Detector checkpoint {detector_checkpoint} does not exist: download it from the '
            'mmdet model zoo (the URL is in the config docstring / mmdet metafile) or train it '
            'with tools/train.py, and pass its path.')
    methods = [parse_method(m) for m in methods]
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise ValueError(f'Duplicate SR method names: {names}.')
    cfg = _load_config(detector_config, format_python_code=False)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    hr_size = tuple(hr_size) if hr_size else cfg.get('cascade_hr_size', None)
    metric = _metric_type(cfg.test_evaluator)
    ds_cfg = _dataset_cfg(cfg, dataset)
    _check_dataset(ds_cfg)
    out_dir = osp.abspath(out_dir)
    cfg.work_dir = osp.join(out_dir, 'runner')
    cfg.launcher = launcher
    cfg.load_from = None
    cfg.resume = False
    timing = {}
    t0 = time.perf_counter()
    with DefaultScope.overwrite_default_scope('mmdet'):
        runner = Runner.from_cfg(cfg)  # initialises the distributed environment
    timing['runner_build_s'] = time.perf_counter() - t0
    rank, world = get_dist_info()
    if device is None:
        device = f'cuda:{torch.cuda.current_device()}' if torch.cuda.is_available() else 'cpu'

    data_list, ds_type = _list_images(ds_cfg)
    num_listed = len(data_list)
    if limit is not None:
        data_list = data_list[:limit]
    if not data_list:
        raise RuntimeError(f'The test dataset {ds_type} of {detector_config} has no images.')
    img_root = osp.commonpath([d['img_path'] for d in data_list]) if len(data_list) > 1 else \
        osp.dirname(data_list[0]['img_path'])
    ds_key = (osp.basename(img_root.rstrip('/')) or 'data') + '-' + hashlib.sha1(
        osp.abspath(img_root).encode()).hexdigest()[:8]
    geo_key = f'x{scale}' + (f'_hr{hr_size[0]}x{hr_size[1]}' if hr_size else '')
    cache_dir = osp.abspath(cache_dir or osp.join(out_dir, 'sr_cache'))
    prep_dir = osp.join(cache_dir, ds_key, geo_key)

    # ---- SR pass: the first SR method super-resolves the HR images as they are prepared
    first = next((m for m in methods if m.kind != 'hr'), None)
    early_sr_s = 0.0
    t0 = time.perf_counter()
    if first is not None:
        early_sr_s = prepare_and_super_resolve(first, data_list, prep_dir, scale, hr_size,
                                               img_root, iq_metrics, tile, tile_pad, device,
                                               progress)
    prep = prepare_hr(data_list, prep_dir, scale, hr_size, img_root, progress)
    timing['prepare_hr_s'] = time.perf_counter() - t0 - early_sr_s  # what SR did not hide
    index = prep['index']
    if not index:
        raise RuntimeError(f'No usable image: {prep["failed"][:5]}.')
    index_file = osp.join(prep_dir, f'index.{rank}.json')
    atomic_write_text(index_file, json.dumps(index))
    sr_results = {m.name: super_resolve_method(m, index, prep_dir, scale, iq_metrics, tile,
                                               tile_pad, device, progress) for m in methods}
    if first is not None:
        sr_results[first.name]['sr_seconds'] += early_sr_s

    # ---- detection pass
    test_ds = copy.deepcopy(ds_cfg)
    ann_stats = {}
    if metric == 'coco' or ds_type == 'CocoDataset' or 'Coco' in ds_type:
        root = test_ds.get('data_root') or ''
        ann = test_ds.ann_file if osp.isabs(test_ds.ann_file) else osp.join(root,
                                                                            test_ds.ann_file)
        derived = osp.join(prep_dir, f'ann_coco.{rank}.json')
        ann_stats = _derive_coco_ann(ann, index, data_list, derived)
        test_ds.ann_file = derived
    else:  # XML (VOC) datasets: an image-id list without the failed images
        derived = osp.join(prep_dir, f'imagesets.{rank}.txt')
        atomic_write_text(derived, ''.join(f"{d['img_id']}\n" for d in data_list
                                           if d['img_path'] in index))
        test_ds.ann_file = derived
    runner.load_checkpoint(detector_checkpoint, map_location='cpu')
    iter_timer = _TestIterSeconds()
    runner.register_hook(iter_timer)
    runner.call_hook('before_run')
    t0 = time.perf_counter()
    with DefaultScope.overwrite_default_scope('mmdet'):
        # Built once for all methods: the test dataset (annotation parsing) and the evaluator
        # (CocoMetric loads the annotation file); each method gets a shallow copy of the dataset
        # whose pipeline loads that method's cached images.
        base_dataset = DATASETS.build(dict(test_ds, pipeline=[]))
        evaluators = copy.deepcopy(cfg.test_evaluator)
        evaluators = evaluators if isinstance(evaluators, list) else [evaluators]
        for ev in evaluators:
            if 'CocoMetric' in ev['type']:
                ev.ann_file = test_ds.ann_file
                ev.format_only = False
        base_metrics = runner.build_evaluator(evaluators).metrics
    timing['det_build_s'] = time.perf_counter() - t0
    method_results = {}
    for m in methods:
        method_dir = osp.join(out_dir, 'methods', m.name)
        os.makedirs(method_dir, exist_ok=True)
        t0 = time.perf_counter()
        iter_timer.seconds = 0.0
        with DefaultScope.overwrite_default_scope('mmdet'):
            dataset = copy.copy(base_dataset)
            dataset.pipeline = Compose(_replace_loader(test_ds.pipeline, index_file,
                                                       sr_results[m.name]['image_dir']))
            dl = copy.deepcopy(cfg.test_dataloader)
            dl.dataset = dataset
            for metric_obj in base_metrics:
                if hasattr(metric_obj, 'outfile_prefix'):  # CocoMetric: keep the json results
                    metric_obj.outfile_prefix = osp.join(method_dir, 'detections')
            metrics_m = list(base_metrics)
            if show_dir:
                metrics_m.append(METRICS.build(dict(
                    type='DumpDetResults',
                    out_file_path=osp.join(method_dir, 'predictions.pkl'))))
            # Hooks (IterTimerHook) read runner.test_dataloader, i.e. runner.test_loop: install
            # this method's loop there, as Runner.test() does with the config's.
            runner._test_loop = TestLoop(runner, dl, Evaluator(metrics_m))
            metrics = runner.test_loop.run()
        det_seconds = time.perf_counter() - t0
        det = _det_numbers(metrics, metric)
        if metric == 'coco' and det['AP'] is None:  # CocoMetric logs "results empty", no AP
            det = {k: 0.0 for k in det}
            det['note'] = 'no detections on any image'
        method_results[m.name] = dict(
            spec=dict(kind=m.kind, config=m.config, checkpoint=m.checkpoint,
                      cache=sr_results[m.name]['image_dir']),
            iq=sr_results[m.name]['iq'], det=det,
            mmdet_metrics={k: float(v) for k, v in metrics.items()
                           if isinstance(v, (int, float))},
            sr_seconds=sr_results[m.name]['sr_seconds'], det_seconds=det_seconds,
            det_iter_seconds=iter_timer.seconds)
    runner.call_hook('after_run')

    result = dict(
        detector=dict(name=_detector_name(detector_config), config=detector_config,
                      checkpoint=detector_checkpoint),
        metric=metric, scale=scale, degradation=DEGRADATION,
        hr_size=list(hr_size) if hr_size else None,
        dataset=dict(type=ds_type, data_root=ds_cfg.get('data_root'),
                     ann_file=ds_cfg.get('ann_file'), num_listed=num_listed,
                     num_images=len(data_list), num_evaluated=len(index),
                     failed_images=prep['failed'], grayscale_images=prep['grayscale'],
                     modcropped_images=prep['modcropped'], **ann_stats),
        methods=method_results, timing=timing)
    if rank == 0:
        result['files'] = write_tables(result, out_dir)
        if show_dir:
            from fdsr_mm.evaluation.visualize import write_panels
            write_panels(result, data_list, index, show_dir, show_score_thr, show_num)
    barrier()
    return result
