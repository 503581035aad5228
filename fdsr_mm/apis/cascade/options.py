"""The cascade's options in one object, checked once before any work starts."""
import re
from dataclasses import dataclass, field
from typing import Optional, Sequence, Tuple, Union

from fdsr_mm.datasets.transforms.degradations import DEGRADATIONS
from fdsr_mm.evaluation.image_quality import IQ_METRICS
from fdsr_mm.models.generators.tiled_inference import AMP_DTYPES
from fdsr_mm.utils.cli_errors import format_error

#: Cache key of the default degradation (the paper's MATLAB-like bicubic); caches written before
#: degradations had names use it, so it never changes (see :attr:`CascadeOptions.degradation_tag`).
DEGRADATION = DEGRADATIONS['bicubic'].cache_tag
#: The built-in methods and their kinds: the mod-cropped HR image, bicubic upsampling of the LR
#: image, the LR image itself (the detector's own test resize enlarges it; boxes come back in HR
#: coordinates).
BUILTIN_KINDS = {'hr': 'hr', 'bicubic': 'bicubic', 'lr_native': 'lr'}
RESERVED_METHODS = tuple(BUILTIN_KINDS)
#: A method name names folders under ``out_dir`` and the cache: no separators, no leading dot.
METHOD_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$')


class CascadeError(ValueError):
    """A bad input of the cascade (file, option, dataset), found before the work it would spoil.

    The message names the file or option and the fix; ``tools/cascade_eval.py`` prints it as one
    line and exits with code 2.
    """


def check_device(device: str) -> None:
    """Refuse a device string torch does not know, or a CUDA device this machine lacks."""
    import torch
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise CascadeError(format_error(f'unknown device ({e})', f'--device {device}',
                                        'use cpu, cuda or cuda:N')) from None
    if dev.type == 'cuda':
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise CascadeError(format_error(
                'no CUDA GPU is available here (torch.cuda.is_available() is False)',
                f'--device {device}', 'leave --device out to run on the CPU, or run on a '
                'machine with a GPU'))
        if dev.index is not None and dev.index >= count:
            raise CascadeError(format_error(
                f'there is no GPU {dev.index}: this machine has {count}', f'--device {device}',
                f'use cuda:0 .. cuda:{count - 1}'))


def _compare_pair(pair) -> Tuple[str, str]:
    """``'A:B'`` or ``(A, B)`` -> ``(A, B)``; anything else is refused."""
    parts = pair.split(':') if isinstance(pair, str) else list(pair)
    if len(parts) != 2 or not all(isinstance(p, str) and p for p in parts):
        raise CascadeError(format_error(f'bad method pair {pair!r}', '--compare',
                                        'write A:B with two method names, e.g. dbpn:fdsr'))
    return parts[0], parts[1]


def interval_methods(opts: 'CascadeOptions', names: Sequence[str]
                     ) -> Tuple[Optional[str], Tuple[Tuple[str, str], ...]]:
    """The bootstrap reference and ``--compare`` pairs, checked against the method names."""
    reference = opts.reference
    if reference is None:
        reference = 'bicubic' if 'bicubic' in names else None
    elif reference == 'none':
        reference = None
    elif reference not in names:
        raise CascadeError(format_error(f'unknown reference method {reference!r}',
                                        '--reference', f'choose from {" ".join(names)}'))
    for a, b in opts.compare:
        bad = [m for m in (a, b) if m not in names]
        if bad:
            raise CascadeError(format_error(
                f'unknown method {bad[0]!r} in the pair {a}:{b}', '--compare',
                f'choose from {" ".join(names)}'))
    return reference, tuple(opts.compare)


@dataclass
class CascadeOptions:
    """Everything one cascade run needs (one detector, several SR methods).

    Args:
        detector_config: mmdet config (path, or ``mmdet::...``); its test dataloader, pipeline
            and evaluator (CocoMetric or VOCMetric) define the evaluation.
        detector_checkpoint: The detector weights (every model key must be in the file).
        methods: Method specs (``'hr'``, ``'bicubic'``, ``'NAME=CONFIG:CKPT'``) or
            :class:`~fdsr_mm.apis.cascade.SRMethod`; the table columns, in order.
        out_dir: Results folder (``results.json``, ``table1|3.{md,csv}``, per-method files).
        dataset: Overrides of ``test_dataloader.dataset`` (``data_root``, ``ann_file``,
            ``data_prefix``, ``metainfo``); annotation boxes are in HR pixel coordinates.
        scale: SR factor (4 in the paper); >= 1.
        hr_size: (width, height) to resize HR images to first (the paper's VOC/SSD300 setting
            uses (300, 300)); default: the config's ``cascade_hr_size`` if set, else None.
        cache_dir: SR image cache root (shared by detectors and by concurrent runs); default
            ``out_dir/sr_cache``.
        limit: Only the first ``limit`` (>= 1) images of the dataset (quick look).
        iq_metrics: Image-quality metrics, from ``psnr, psnr_y, ssim, fsim, fsimc``.
        tile, tile_pad: LR tile size (None: whole images) / context of SR inference (whole
            image when smaller). ``tile_pad`` None (default): the generator's declared
            ``receptive_field`` (DBPN: exact tiles), else 16 (approximate near seams); a pad
            below a declared field is refused. See :mod:`fdsr_mm.models.generators.tiled_inference`.
        sr_amp: None (float32 SR), ``'bfloat16'`` or ``'float16'``: the model methods' SR runs
            under autocast of that type (:func:`~fdsr_mm.apis.super_resolve_tensor`); its images
            are cached apart (the cache key says so) and the table caption names it.
        device: SR device (``'cpu'``, ``'cuda'``, ``'cuda:1'``); default CUDA when available,
            else CPU. A CUDA device this machine does not have is refused.
        show_dir: Write Fig. 1-style panels (methods side by side, predicted boxes with score
            >= ``show_score_thr``, precision/recall at IoU 0.5 per image).
        show_num: Panels of the first ``show_num`` evaluated images only (default: all).
        launcher: ``'none'`` or ``'pytorch'``/``'slurm'``/``'mpi'`` (images split over ranks).
        cfg_options: Overrides merged into the detector config (as ``--cfg-options``).
        progress: Show progress bars with ETA.
        degradation: How LR is made from HR (:mod:`fdsr_mm.datasets.transforms.degradations`):
            ``'bicubic'`` (the paper's MATLAB-like bicubic) or ``'realistic'`` (blur, resize,
            noise, JPEG; random per image, keyed by the HR file's base name).
        degradation_seed: Seed of a random degradation (>= 0); every method and run sees the
            same LR image of a file for the same seed.
        reference: The method every other one is compared with by a paired bootstrap
            (``results['intervals']``, :mod:`fdsr_mm.evaluation.cascade_intervals`); default
            (None) ``'bicubic'`` when it is among the methods, else no reference; ``'none'``:
            no reference.
        compare: More pairs ``'A:B'`` (or ``(A, B)``) to bootstrap, as ``B - A``.
        resamples: Bootstrap resamples (>= 1).
        bootstrap_seed: Seed of the bootstrap draws (>= 0).
    """
    detector_config: str
    detector_checkpoint: str
    methods: Sequence[Union[str, object]]
    out_dir: str
    dataset: Optional[dict] = None
    scale: int = 4
    hr_size: Optional[Tuple[int, int]] = None
    cache_dir: Optional[str] = None
    limit: Optional[int] = None
    iq_metrics: Sequence[str] = IQ_METRICS
    tile: Optional[int] = 200
    tile_pad: Optional[int] = None
    sr_amp: Optional[str] = None
    device: Optional[str] = None
    show_dir: Optional[str] = None
    show_num: Optional[int] = None
    show_score_thr: float = 0.3
    launcher: str = 'none'
    cfg_options: Optional[dict] = field(default=None, repr=False)
    progress: bool = True
    degradation: str = 'bicubic'
    degradation_seed: int = 0
    reference: Optional[str] = None
    compare: Sequence[Union[str, Tuple[str, str]]] = ()
    resamples: int = 1000
    bootstrap_seed: int = 0

    @property
    def degradation_tag(self) -> str:
        """The degradation in cache keys and ``results.json``: ``'bicubic-matlab'`` (default),
        ``'realistic-v1-seed<N>'``."""
        spec = DEGRADATIONS[self.degradation]
        return f'{spec.cache_tag}-seed{self.degradation_seed}' if spec.seeded else spec.cache_tag

    def __post_init__(self):
        def positive(name, value, minimum=1):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < minimum):
                raise CascadeError(f'{name} must be an integer >= {minimum}, got {value!r}.')

        positive('scale', self.scale)
        positive('limit (--limit)', self.limit)
        positive('tile (--tile)', self.tile)
        positive('tile_pad (--tile-pad)', self.tile_pad, 0)
        positive('show_num (--show-num)', self.show_num)
        positive('degradation_seed (--degradation-seed)', self.degradation_seed, 0)
        positive('resamples (--resamples)', self.resamples)
        positive('bootstrap_seed (--bootstrap-seed)', self.bootstrap_seed, 0)
        self.compare = tuple(_compare_pair(p) for p in self.compare or ())
        if self.device is not None:
            check_device(self.device)
        if self.sr_amp is not None and self.sr_amp not in AMP_DTYPES:
            raise CascadeError(f'Unknown SR autocast type {self.sr_amp!r} (--sr-amp): choose '
                               f'from {" ".join(AMP_DTYPES)}.')
        if self.degradation not in DEGRADATIONS:
            raise CascadeError(f'Unknown degradation {self.degradation!r} (--degradation): '
                               f'choose from {" ".join(DEGRADATIONS)}.')
        if self.hr_size is not None:
            if len(self.hr_size) != 2:
                raise CascadeError(f'hr_size must be (width, height), got {self.hr_size!r}.')
            for v in self.hr_size:
                positive('hr_size (--hr-size)', v)
            self.hr_size = tuple(self.hr_size)
        bad = [m for m in self.iq_metrics if m not in IQ_METRICS]
        if bad:
            raise CascadeError(f'Unknown image-quality metric(s) {bad} (--iq-metrics): choose '
                               f'from {" ".join(IQ_METRICS)}.')
        if not self.methods:
            raise CascadeError('No SR method given (--methods hr bicubic NAME=CONFIG:CKPT ...).')
        if not self.out_dir:
            raise CascadeError('No results folder given (--out-dir).')
