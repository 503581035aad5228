"""Paper-shaped result tables of the cascade evaluation (Markdown, CSV, JSON), written atomically.

A *cascade result* is the dict :func:`fdsr_mm.apis.run_cascade` returns and writes as
``results.json``::

    dict(detector=dict(name, config, checkpoint), metric='coco' | 'voc', scale=4,
         degradation='bicubic-matlab' | 'realistic-v1-seed0' (the cache key), degradation_name=
         'bicubic' | 'realistic', degradation_seed=None | int (random degradations),
         hr_size=None | [w, h], tiling=dict(tile, tile_pad, amp) (SR inference tiles, LR px;
         amp: None or the autocast type),
         dataset=dict(type, data_root, ann_file, num_images, num_evaluated,
                      failed_images=[dict(file, reason)], ...),
         methods=dict(<method>=dict(iq=dict(psnr, psnr_y, ssim, fsim, fsimc) or {},
                                    det=dict(AP, AP50, AP75, APS, APM, APL) or dict(mAP),
                                    sr_seconds, det_seconds, det_iter_seconds)),
         timing=dict(runner_build_s, prepare_hr_s, det_build_s),
         intervals=dict(reference=None | <method>, resamples=N, seed=S, num_images=n,
                        pairs=[dict(a, b, metric='AP' | 'AP50' | ... | 'APL' | 'mAP', diff, low,
                                    high, num_resamples, verdict)]))

``intervals`` (:mod:`fdsr_mm.evaluation.cascade_intervals`): the paired bootstrap of ``b - a``
over the ``n`` evaluated images, for every method ``b`` against the reference ``a`` and for each
``--compare A:B`` pair, in percentage points: ``diff`` on all images, ``low``/``high`` the 2.5 /
97.5 percentiles of ``N`` resamples drawn with seed ``S`` (``num_resamples``: those where the
metric is defined for both), ``verdict`` from :func:`fdsr_mm.evaluation.bootstrap.verdict`;
None where undefined (no ground truth of that kind). Written by rank 0 only; absent in results
written before it existed.

Seconds are this rank's: ``sr_seconds`` in SR forwards (0 for cached images), ``det_seconds`` the
whole detection pass, ``det_iter_seconds`` its test iterations (detector forward + metric
``process``, without data loading and the final COCOeval/VOC computation).

Detection numbers are percentages (mmdet's fractions x 100); PSNR in dB; FSIM/SSIM in [0, 1].
Non-finite floats (PSNR of identical images) are stored in JSON as the strings ``"inf"``/``"nan"``
(strict JSON has no infinity) and read back as floats by :func:`load_results`.

Tables (FDSR paper, Tables 1-3):
    * Table 1 (COCO, one detector): methods as columns; rows PSNR, FSIM, AP, AP0.5, AP0.75, APS,
      APM, APL, then the extra image-quality rows PSNR-Y, SSIM, FSIMc.
    * Table 2 (several detectors): one row per detector, its AP under every method. Rows are
      comparable only when made under the same settings (:func:`run_settings`: scale,
      degradation, HR size, image set, tiling, each method's weights); :func:`merge_tables`
      refuses others unless told to state each row's settings under the table.
    * Table 3 (VOC, SSD): one row per method; PSNR, FSIM, mAP.
    * With ``intervals``: Table 1 gets rows ``AP - <a> [95% CI]`` ... ``APL - <a> [95% CI]`` and
      ``Verdict (AP - <a>)`` (a cell under each method ``b`` paired with ``a``), Table 3 columns
      ``mAP - <a> [95% CI]`` and ``Verdict (mAP - <a>)``, Table 2 a companion table of each
      detector's AP difference from its reference; captions state images, resamples and seed.

Image quality (caption of Tables 1 and 3): the SR result quantised to uint8 against the
mod-cropped HR image, ``scale`` pixels shaved from every border; PSNR over the R, G, B channels
([0, 255]); PSNR-Y on the BT.601 luma; SSIM is the mean over the R, G, B channels of the
MATLAB-compatible SSIM (11x11 Gaussian window, sigma 1.5, [0, 255]; equal to scikit-image's
``structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
data_range=255, channel_axis=2)`` on the same crop), not SSIM on Y; FSIM on the YIQ luminance,
FSIMc with I and Q.
"""
import csv
import io
import json
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence

from fdsr_mm.evaluation.interval_tables import (interval_caption, table1_rows, table2_intervals,
                                                 table3_columns)
from fdsr_mm.utils.cli_errors import ToolError
from fdsr_mm.utils.io import atomic_write_text, decode_non_finite, dump_json

#: (row label, section, key) of Table 1.
TABLE1_ROWS = (('PSNR', 'iq', 'psnr'), ('FSIM', 'iq', 'fsim'), ('AP', 'det', 'AP'),
               ('AP0.5', 'det', 'AP50'), ('AP0.75', 'det', 'AP75'), ('APS', 'det', 'APS'),
               ('APM', 'det', 'APM'), ('APL', 'det', 'APL'), ('PSNR-Y', 'iq', 'psnr_y'),
               ('SSIM', 'iq', 'ssim'), ('FSIMc', 'iq', 'fsimc'))
#: (column label, section, key) of Table 3.
TABLE3_COLS = (('PSNR', 'iq', 'psnr'), ('FSIM', 'iq', 'fsim'), ('mAP', 'det', 'mAP'),
               ('PSNR-Y', 'iq', 'psnr_y'), ('SSIM', 'iq', 'ssim'), ('FSIMc', 'iq', 'fsimc'))
_DIGITS = dict(psnr=2, psnr_y=2, ssim=4, fsim=4, fsimc=4)


def load_results(path: str) -> dict:
    """Read a ``results.json`` written by :func:`dump_json` (``"inf"`` strings back to floats)."""
    with open(path, encoding='utf-8') as f:
        return decode_non_finite(json.load(f))


def _fmt(value: Optional[float], key: str) -> str:
    if value is None:
        return '-'
    if isinstance(value, float) and math.isinf(value):
        return 'inf'
    if isinstance(value, float) and math.isnan(value):
        return 'nan'
    return f'{value:.{_DIGITS.get(key, 1)}f}'


def _get(result: dict, method: str, section: str, key: str) -> Optional[float]:
    return result['methods'][method].get(section, {}).get(key)


def _cell(result: dict, method: str, section: str, key: str) -> str:
    """A table cell; a detection number mmdet reports as undefined (COCOeval's -1: no
    ground-truth box of that kind) reads ``n/a``, never 0."""
    value = _get(result, method, section, key)
    if value is None and section == 'det':
        return 'n/a'
    return _fmt(value, key)


def _markdown(header: Sequence[str], rows: List[Sequence[str]]) -> str:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(r) + ' |' for r in rows]
    return '\n'.join(lines) + '\n'


def _csv(header: Sequence[str], rows: List[Sequence[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _degradation(result: dict) -> str:
    """'bicubic degradation' or e.g. 'realistic degradation (seed 0)'; results written before
    degradations had names were bicubic."""
    text = f"{result.get('degradation_name', 'bicubic')} degradation"
    seed = result.get('degradation_seed')
    return text if seed is None else f'{text} (seed {seed})'


def iq_caption(scale: int) -> str:
    """The image-quality caption line: which images, which crop, which SSIM."""
    return (f'Image quality: SR (uint8) vs mod-cropped HR, {scale} px shaved from every border; '
            'PSNR over R, G, B; PSNR-Y on BT.601 luma; SSIM = mean over the R, G, B channels of '
            'MATLAB-compatible SSIM (11x11 Gaussian window, sigma 1.5, [0, 255]), not SSIM on '
            'Y; FSIM on YIQ luminance, FSIMc with chroma.')


def _footer(result: dict) -> str:
    ds = result['dataset']
    lines = [f"\nDetector: {result['detector']['name']} ({result['detector']['config']}); "
             f"x{result['scale']} {_degradation(result)}; "
             f"{ds['num_evaluated']} of {ds['num_images']} images evaluated."]
    if ds.get('failed_images'):
        lines.append(f"{len(ds['failed_images'])} image(s) excluded for every method "
                     f"(see failed_images in results.json): " + ', '.join(
                         f"{f['file']} ({f['reason']})" for f in ds['failed_images'][:10]) +
                     (' ...' if len(ds['failed_images']) > 10 else ''))
    if ds.get('grayscale_images'):
        lines.append(f"{ds['grayscale_images']} grayscale image(s) converted to RGB.")
    if ds.get('modcropped_images'):
        lines.append(f"{ds['modcropped_images']} image(s) mod-cropped to a multiple of "
                     f"{result['scale']}.")
    if any(r.get('iq') for r in result['methods'].values()):
        lines.append(iq_caption(result['scale']))
    notes = {m: r['det']['note'] for m, r in result['methods'].items()
             if r.get('det', {}).get('note')}
    for note in dict.fromkeys(notes.values()):
        lines.append(f"{', '.join(m for m, n in notes.items() if n == note)}: {note}.")
    if any(v is None for r in result['methods'].values() for v in r.get('det', {}).values()):
        lines.append('n/a: undefined (COCOeval -1: no ground-truth box of that kind).')
    lines += interval_caption(result)
    return '\n'.join(lines) + '\n'


def table1(result: dict) -> Dict[str, str]:
    """Table 1: methods as columns. Returns ``dict(markdown=..., csv=...)``."""
    methods = list(result['methods'])
    header = ['Method'] + methods
    section_rows = TABLE1_ROWS if result['metric'] == 'coco' else (
        ('PSNR', 'iq', 'psnr'), ('FSIM', 'iq', 'fsim'), ('mAP', 'det', 'mAP'),
        ('PSNR-Y', 'iq', 'psnr_y'), ('SSIM', 'iq', 'ssim'), ('FSIMc', 'iq', 'fsimc'))
    rows = [[label] + [_cell(result, m, sec, key) for m in methods]
            for label, sec, key in section_rows]
    rows += table1_rows(result, methods, [key for _, sec, key in section_rows if sec == 'det'])
    return dict(markdown=_markdown(header, rows) + _footer(result), csv=_csv(header, rows))


def table3(result: dict) -> Dict[str, str]:
    """Table 3: one row per method; PSNR, FSIM, mAP (+ PSNR-Y, SSIM, FSIMc)."""
    methods = list(result['methods'])
    extra = table3_columns(result, methods)
    header = ['Method'] + [c[0] for c in TABLE3_COLS] + list(extra)
    rows = [[m] + [_cell(result, m, sec, key) for _, sec, key in TABLE3_COLS] +
            [col[i] for col in extra.values()] for i, m in enumerate(methods)]
    return dict(markdown=_markdown(header, rows) + _footer(result), csv=_csv(header, rows))


#: Settings that must agree between the rows of one Table 2, in the order they are shown.
SETTING_NAMES = ('scale', 'degradation', 'HR size', 'image set', 'images evaluated', 'tiling')


def run_settings(result: dict) -> Dict[str, str]:
    """What a cascade result was measured under, as text: ``{setting: value}``.

    The keys are :data:`SETTING_NAMES`, then ``'method <name>'`` for each SR method with a
    config (its ``config:checkpoint``). A setting a result does not record reads
    ``'not recorded'``.
    """
    ds = result.get('dataset') or {}
    hr_size = result.get('hr_size')
    tiling = result.get('tiling')
    failed = sorted(f['file'] for f in ds.get('failed_images') or [])
    evaluated = f"{ds.get('num_evaluated', '?')} of {ds.get('num_images', '?')}"
    if failed:
        evaluated += ' (excluded: ' + ', '.join(failed) + ')'
    if tiling is None:
        tiles = 'not recorded'
    elif tiling.get('tile') is None:
        tiles = 'whole images'
    else:
        tiles = f"tile {tiling['tile']} LR px, pad {tiling.get('tile_pad')}"
    if tiling and tiling.get('amp'):
        tiles += f", SR under {tiling['amp']} autocast"
    image_set = ' '.join(str(ds[k]) for k in ('type', 'data_root', 'ann_file') if ds.get(k))
    out = {'scale': f"x{result.get('scale', '?')}",
           'degradation': result.get('degradation') or _degradation(result),
           'HR size': 'not resized' if hr_size is None else 'resized to {}x{}'.format(*hr_size),
           'image set': image_set or 'not recorded',
           'images evaluated': evaluated,
           'tiling': tiles}
    for name, m in result.get('methods', {}).items():
        spec = m.get('spec') or {}
        if spec.get('config'):
            out[f'method {name}'] = f"{spec['config']}:{spec.get('checkpoint')}"
    return out


def settings_conflict(results: Sequence[dict]) -> Optional[tuple]:
    """The first setting two results disagree on: ``(i, j, setting, value_i, value_j)``, or None.

    Every setting of :data:`SETTING_NAMES` is compared with the first result's; a method's
    weights with those of the first result that has that method.
    """
    settings = [run_settings(r) for r in results]
    for j in range(1, len(settings)):
        for name in SETTING_NAMES:
            if settings[j][name] != settings[0][name]:
                return 0, j, name, settings[0][name], settings[j][name]
    first = {}
    for j, st in enumerate(settings):
        for name, value in st.items():
            if not name.startswith('method '):
                continue
            i = first.setdefault(name, j)
            if settings[i][name] != value:
                return i, j, name, settings[i][name], value
    return None


def _differing(settings: Sequence[Dict[str, str]]) -> List[str]:
    """Names of the settings whose values differ between rows; a method's weights count only
    between the rows that have that method."""
    names = list(dict.fromkeys(n for st in settings for n in st))
    return [n for n in names if len({st[n] for st in settings if n in st}) > 1]


def _settings_footer(results: Sequence[dict]) -> List[str]:
    """Caption lines: the settings all rows share, then each row's own where they differ."""
    settings = [run_settings(r) for r in results]
    differ = _differing(settings)
    shared = [f'{n} {settings[0][n]}' for n in SETTING_NAMES
              if n not in differ and settings[0][n] != 'not recorded']
    lines = ['', 'Every row: ' + '; '.join(shared) + '.'] if shared else ['']
    if differ:
        lines.append('Rows made under DIFFERENT settings (' + ', '.join(differ) +
                     '): their numbers are not comparable with each other.')
        lines += [f"- {r['detector']['name']}: " + '; '.join(
            f"{n} {st.get(n, '-')}" for n in differ) for r, st in zip(results, settings)]
    return lines


def table2(results: Sequence[dict], methods: Optional[Sequence[str]] = None) -> Dict[str, str]:
    """Table 2: detectors as rows, methods as columns, AP (COCO) or mAP (VOC) in each cell.

    The caption states the settings all rows share; where rows differ (see
    :func:`settings_conflict`), it lists each row's settings and the CSV gets a ``Settings``
    column.

    Args:
        results: Cascade results of several detectors (one ``results.json`` each).
        methods: Column order; default: the methods of all results in first-seen order.
    """
    if methods is None:
        methods = []
        for r in results:
            methods += [m for m in r['methods'] if m not in methods]
    header = ['Detector', 'Metric'] + list(methods)
    rows = []
    for r in results:
        key = 'AP' if r['metric'] == 'coco' else 'mAP'
        rows.append([r['detector']['name'], key] + [
            _cell(r, m, 'det', key) if m in r['methods'] else '-' for m in methods])
    csv_header, csv_rows = header, rows
    settings = [run_settings(r) for r in results]
    differ = _differing(settings)
    if differ:
        csv_header = header + ['Settings']
        csv_rows = [row + ['; '.join(f"{n} {st.get(n, '-')}" for n in differ)]
                    for row, st in zip(rows, settings)]
    footer = '\n'.join(_settings_footer(results)) + '\n'
    companion = table2_intervals(results, methods)
    if companion is not None:  # AP difference from each row's reference, with its interval
        footer += '\n' + _markdown(companion['header'], companion['rows']) + '\n'.join(
            companion['caption']) + '\n'
        csv_header = csv_header + companion['header'][1:]
        csv_rows = [row + extra[1:] for row, extra in zip(csv_rows, companion['rows'])]
    return dict(markdown=_markdown(header, rows) + footer, csv=_csv(csv_header, csv_rows))


def write_tables(result: dict, out_dir: str) -> Dict[str, str]:
    """Write ``results.json`` and the paper table of ``result`` (``table1`` for COCO metrics,
    ``table3`` for VOC) as ``.md`` and ``.csv`` into ``out_dir``, atomically.

    Returns:
        dict: ``{kind: path}`` of the written files.
    """
    name = 'table1' if result['metric'] == 'coco' else 'table3'
    tab = table1(result) if name == 'table1' else table3(result)
    paths = dict(json=osp.join(out_dir, 'results.json'),
                 markdown=osp.join(out_dir, f'{name}.md'), csv=osp.join(out_dir, f'{name}.csv'))
    dump_json(result, paths['json'])
    atomic_write_text(paths['markdown'], tab['markdown'])
    atomic_write_text(paths['csv'], tab['csv'])
    return paths


def merge_tables(result_files: Sequence[str], out_dir: str,
                 methods: Optional[Sequence[str]] = None,
                 allow_mixed_settings: bool = False) -> Dict[str, str]:
    """Merge per-detector ``results.json`` files into Table 2 (``table2.{md,csv,json}``).

    Raises:
        ToolError: Two results made under different settings (:func:`settings_conflict`),
            naming both files and the setting; with ``allow_mixed_settings`` they are merged
            and the table states each row's settings instead.
    """
    results = [load_results(p) for p in result_files]
    conflict = settings_conflict(results)
    if conflict is not None and not allow_mixed_settings:
        i, j, name, a, b = conflict
        raise ToolError(f'refusing to merge results of different {name} into one table: '
                        f'{a!r} vs {b!r}', f'{result_files[i]} vs {result_files[j]}',
                        'merge runs made under one setting, or pass --allow-mixed-settings to '
                        "state each row's settings under the table")
    tab = table2(results, methods)
    paths = dict(json=osp.join(out_dir, 'table2.json'), markdown=osp.join(out_dir, 'table2.md'),
                 csv=osp.join(out_dir, 'table2.csv'))
    dump_json(dict(sources=list(result_files), results=results,
                   settings=[run_settings(r) for r in results],
                   intervals=[r.get('intervals') for r in results]), paths['json'])
    atomic_write_text(paths['markdown'], tab['markdown'])
    atomic_write_text(paths['csv'], tab['csv'])
    return paths
