"""The miniature study's results folder: paper-shaped tables, Fig. 3 plot, Fig. 1 panels, summary.

:func:`write_study_report` reads the cascade results of several detectors (``results.json`` of
:func:`fdsr_mm.apis.run_cascade`) and writes, atomically:

    table1.{md,csv}          first detector, methods as columns (PSNR, FSIM, AP, AP0.5, ...)
    table2.{md,csv,json}     AP per detector x method
    fig3_alpha_beta.png      AP of the first detector for each (alpha, beta) fine-tune and prior
    differences.{md,csv}     every stated AP difference with its bootstrap 95% CI (over test
                             images; with seeded records, over training seeds and test images),
                             its verdict, and the verdict adjusted by Holm-Bonferroni over the
                             family of claims
    verdicts.json            the same, as data (held / reversed / not resolved; ``covers``,
                             ``p_value``, ``p_holm``, ``verdict_holm``, ``family_size``)
    fig1_panels/*.png        Fig. 1-style panels copied from the first detector's cascade
    table3.{md,csv}          the VOC-format SSD cascade (HR, bicubic, DBPN, TDSR, FDSR), if given
    summary.md               whether the paper's orderings held, with the numbers
    timings.json             seconds per stage and in total

The summary reports what the numbers say; nothing is tuned or hidden.
"""
import glob
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence, Tuple

from fdsr_mm.evaluation.hierarchical_bootstrap import COVERS_SEEDS_AND_IMAGES
from fdsr_mm.evaluation.tables import load_results, merge_tables, table1, table3
from fdsr_mm.study.plots import det_number, plot_fig3
from fdsr_mm.study.verdicts import (differences_table, run_comparisons, study_comparisons,
                                    verdict_text)
from fdsr_mm.utils.io import atomic_write_text, dump_json

TABLE_METHODS = ('hr', 'bicubic', 'dbpn_pretrained', 'dbpn', 'fdsr')
TITLE = 'Miniature FDSR study'
DESCRIPTION = (
    'Synthetic COCO-format data whose categories differ by detail that x4 bicubic downsampling '
    'destroys; detectors trained on HR images; a small DBPN pre-trained pixel-only '
    '("dbpn_pretrained": the paper\'s official D-DBPN row, no fine-tune), then fine-tuned '
    'pixel-only ("dbpn": the fair control) and with the frozen C4 detector backbone as feature '
    'prior ("fdsr", alpha 0.5, beta 1) from the same start, for the same iterations. Evaluation: '
    'x4 bicubic LR -> SR -> detector, scored against the HR annotations.')


def _iq(result: dict, method: str, key: str) -> Optional[float]:
    return result['methods'].get(method, {}).get('iq', {}).get(key)


def _method_lines(rows: List[dict]) -> List[str]:
    """How the verdicts were reached: the intervals, what they cover, the family adjustment."""
    seeded = sum(r.get('covers') == COVERS_SEEDS_AND_IMAGES for r in rows)
    m = next((r['family_size'] for r in rows if r.get('family_size') is not None), 0)
    alpha = next((r['alpha'] for r in rows if r.get('alpha') is not None), 0.05)
    covers = ('every interval covers the choice of test images only (one training seed)'
              if not seeded else f'{seeded} claims on methods trained with several seeds use a '
              'hierarchical bootstrap (training seeds resampled, then test images), so their '
              'interval covers training seeds and test images; the others (no training '
              'randomness) cover test images')
    return [f'Each claim "B > A" is judged on the bootstrap {100 * (1 - alpha):g}% interval of '
            'AP(B) - AP(A) (same resample for both methods): **held** (interval above 0), '
            '**reversed** (below 0), **not resolved** (it includes 0). What each interval covers '
            f'is stated per claim: {covers}.', '',
            f'The family: {m} claims tested in this report, so the raw verdicts, each at '
            f'{100 * (1 - alpha):g}%, are followed by the verdict adjusted for multiplicity: '
            f'**Holm-Bonferroni over the family of {m} claims** (family-wise error rate {alpha:g};'
            ' each claim\'s two-sided p-value inverts its percentile interval, so the claim '
            'ranked k-th by p is read off its (1 - alpha / (m - k + 1)) interval, step down).', '']


def _orderings(results: Dict[str, dict], rows: List[dict]) -> str:
    """The summary's verdicts: every stated difference with its 95% CI, raw and adjusted."""
    lines = ['## Did the paper\'s orderings hold?', ''] + _method_lines(rows)
    for det, r in results.items():
        nums = ', '.join(f'{m} {det_number(r, m, "mAP" if r["metric"] == "voc" else "AP")}'
                         for m in r['methods'])
        ap50 = '' if r['metric'] == 'voc' else f'; HR AP50 {det_number(r, "hr", "AP50")}'
        lines.append(f'- **{det}** ({"mAP" if r["metric"] == "voc" else "AP"}: {nums}{ap50}):')
        lines += [f'  - {verdict_text(row)}' for row in rows if row['det'] == det]
    first_det, first = next(iter(results.items()))
    psnr_f, psnr_d = _iq(first, 'fdsr', 'psnr'), _iq(first, 'dbpn', 'psnr')
    if psnr_f is not None and psnr_d is not None:
        lines.append(f'- **PSNR** ({first_det}\'s test images): FDSR {psnr_f:.2f} dB vs DBPN '
                     f'{psnr_d:.2f} dB ({"FDSR lower" if psnr_f < psnr_d else "FDSR not lower"};'
                     ' the paper has FDSR 27.38 dB below D-DBPN 28.15 dB: the feature term '
                     'trades PSNR for AP).')
    lines.append('')
    for field, label in (('verdict', 'Raw'), ('verdict_holm', 'Adjusted (Holm)')):
        counts = {v: sum(r.get(field, '').startswith(v) for r in rows)
                  for v in ('held', 'reversed', 'not resolved', 'could not')}
        lines.append(f'{label}: {counts["held"]} held, {counts["reversed"]} reversed, '
                     f'{counts["not resolved"]} not resolved, {counts["could not"]} not checked '
                     f'(of {len(rows)} claims).')
    return '\n'.join(lines + [''])


def _by_detector(seeded_files: Optional[Dict[str, Sequence[str]]],
                 all_files: Dict[str, str]) -> Dict[str, List[str]]:
    """The seeded lists keyed by the report's detector names: a list whose seed-0 file is a
    detector's results file belongs to it (the VOC detector is named by its config)."""
    name_of = {osp.abspath(p): d for d, p in all_files.items()}
    return {name_of.get(osp.abspath(files[0]), key) if files else key: list(files)
            for key, files in (seeded_files or {}).items()}


def _write_table(out_dir: str, name: str, table: dict, paths: dict) -> dict:
    """``<name>.md`` and ``<name>.csv`` of a table (its ``markdown`` and ``csv``)."""
    for ext, key in (('md', 'markdown'), ('csv', 'csv')):
        paths[f'{name}.{ext}'] = osp.join(out_dir, f'{name}.{ext}')
        atomic_write_text(paths[f'{name}.{ext}'], table[key])
    return table


def _copy_panels(out_dir: str, panels_dir: Optional[str], paths: dict) -> List[str]:
    """Fig. 1 panels of the cascade's ``--show-dir`` copied to ``fig1_panels/``."""
    panels = sorted(glob.glob(osp.join(panels_dir, '*.png'))) if panels_dir else []
    if panels:
        dst = osp.join(out_dir, 'fig1_panels')
        os.makedirs(dst, exist_ok=True)
        for p in panels:
            shutil.copyfile(p, osp.join(dst, osp.basename(p)))
        paths['fig1_panels'] = dst
    return panels


def _write_table3(out_dir: str, table3_file: Optional[str], paths: dict) -> Optional[dict]:
    if not table3_file:
        return None
    result = load_results(table3_file)
    t3 = _write_table(out_dir, 'table3', table3(result), paths)
    return dict(result=result, markdown=t3['markdown'])


def _write_differences(out_dir: str, rows: List[dict], paths: dict) -> str:
    """differences.{md,csv,json}; the CI rows of each table appended to table2/table3.md."""
    diff = differences_table(rows)
    for ext in ('md', 'csv'):
        paths[f'differences.{ext}'] = osp.join(out_dir, f'differences.{ext}')
        atomic_write_text(paths[f'differences.{ext}'], diff['markdown' if ext == 'md' else 'csv'])
    paths['verdicts'] = osp.join(out_dir, 'verdicts.json')
    dump_json(rows, paths['verdicts'])
    for table, keep in (('table2.markdown', lambda r: r['key'] == 'AP'),
                        ('table3.md', lambda r: r['key'] == 'mAP')):
        sub = [r for r in rows if keep(r)]
        if table in paths and sub:
            with open(paths[table]) as f:
                text = f.read()
            atomic_write_text(paths[table], text + '\nPaired differences (bootstrap 95% CI; '
                              'what each covers, and the Holm-adjusted verdict over the whole '
                              'report\'s family, in their columns):\n\n'
                              + differences_table(sub)['markdown'])
    return diff['markdown']


def _write_coco_tables(out_dir, results, result_files, fig3_settings, priors, table_methods,
                       paths) -> Optional[dict]:
    """Table 1 (the first detector), Table 2 (every detector) and Fig. 3; None without COCO-format
    evaluators (a Table 3 study)."""
    if not results:
        return None
    first = next(iter(results.values()))
    t1 = _write_table(out_dir, 'table1', table1(first), paths)
    methods = [m for m in table_methods if any(m in r['methods'] for r in results.values())]
    paths.update({f'table2.{k}': v for k, v in
                  merge_tables(list(result_files.values()), out_dir, methods).items()})
    if fig3_settings or priors:
        paths['fig3'] = osp.join(out_dir, 'fig3_alpha_beta.png')
        plot_fig3(first, fig3_settings, paths['fig3'], priors)
    return t1


def write_study_report(out_dir: str, result_files: Dict[str, str],
                       fig3_settings: Dict[str, Tuple[float, float]],
                       panels_dir: Optional[str] = None, timings: Optional[dict] = None,
                       quick: bool = False, total_seconds: Optional[float] = None,
                       table3_file: Optional[str] = None,
                       priors: Optional[Dict[str, str]] = None, num_resamples: int = 1000,
                       extra_sections: Sequence[str] = (),
                       seeded_files: Optional[Dict[str, Sequence[str]]] = None,
                       alpha: float = 0.05, comparisons=None, title: str = TITLE,
                       description: str = DESCRIPTION,
                       table_methods: Sequence[str] = TABLE_METHODS) -> dict:
    """Write the study's results folder (see the module docstring).

    Args:
        out_dir: The report folder.
        result_files: detector name -> cascade ``results.json`` (the first is Table 1's).
        fig3_settings: method name -> (alpha, beta) of the Fig. 3 fine-tunes.
        panels_dir: Fig. 1 panels written by the cascade ``--show-dir`` (copied).
        timings: stage name -> seconds.
        quick: a ``--quick`` run (tiny sizes: the numbers prove the plumbing only).
        total_seconds: wall time of the whole study so far.
        table3_file: cascade ``results.json`` of the VOC-format SSD evaluation (Table 3).
        priors: method -> label of the fine-tunes with other feature priors (Fig. 3).
        num_resamples: Bootstrap resamples of each stated difference.
        extra_sections: Markdown sections appended to the summary (seeds, loss scales).
        seeded_files: detector -> cascade ``results.json`` per training seed index (``--seeds
            N``; index 0 the file given above or as ``table3_file``, by which the VOC
            detector's list is found): claims on methods with several seeds get the hierarchical
            interval over training seeds and test images.
        alpha: 1 - the intervals' level; the family-wise error rate of Holm's adjustment.
        comparisons: Claims to judge (a study spec's); default :func:`study_comparisons`.
        title, description: The summary's heading and its first paragraph (what was run).
        table_methods: Table 2's columns (those some detector ran), in this order.

    Returns:
        dict: paths of the written files.
    """
    os.makedirs(out_dir, exist_ok=True)
    results = {d: load_results(p) for d, p in result_files.items()}
    paths = {}
    t1 = _write_coco_tables(out_dir, results, result_files, fig3_settings, priors, table_methods,
                            paths)
    panels = _copy_panels(out_dir, panels_dir, paths)
    t3 = _write_table3(out_dir, table3_file, paths)
    voc_det = t3['result']['detector']['name'] if t3 else None
    all_files = dict(result_files, **({voc_det: table3_file} if t3 else {}))
    rows = run_comparisons(study_comparisons(list(result_files), voc_det, priors)
                           if comparisons is None else comparisons, all_files, num_resamples,
                           seeded_files=_by_detector(seeded_files, all_files), alpha=alpha)
    _write_differences(out_dir, rows, paths)
    paths['timings'] = osp.join(out_dir, 'timings.json')
    dump_json(dict(stages=timings or {}, total_seconds=total_seconds), paths['timings'])
    all_results = dict(results, **({voc_det: t3['result']} if t3 else {}))
    summary = _summary(paths, all_results, rows, t1, t3, len(panels), timings, total_seconds,
                       quick, extra_sections, (title, description))
    paths['summary'] = osp.join(out_dir, 'summary.md')
    atomic_write_text(paths['summary'], summary)
    return paths


def _summary(paths, results, rows, t1, t3, num_panels, timings, total_seconds, quick,
             extra_sections, texts) -> str:
    t2 = None
    if 'table2.markdown' in paths:
        with open(paths['table2.markdown']) as f:
            t2 = f.read()
    if t3:  # the file: the table with its paired differences
        with open(paths['table3.md']) as f:
            t3 = dict(t3, markdown=f.read())
    stage_rows = '\n'.join(f'| {k} | {v:.0f} |' for k, v in (timings or {}).items()
                           if v is not None)
    return '\n'.join([
        f'# {texts[0]}' + (' (--quick: tiny sizes, numbers prove the plumbing only)'
                           if quick else ''), '', texts[1], '',
        _orderings(results, rows),
        *extra_sections,
        *([f'## Table 1 ({next(iter(results))})', '', t1['markdown'],
           '## Table 2 (AP per detector)', '', t2] if t1 else []),
        *(['## Table 3 (VOC-format data, SSD)', '', t3['markdown']] if t3 else []),
        '## Figures', '', *(['- Fig. 3: `fig3_alpha_beta.png`'] if 'fig3' in paths else []),
        f'- Fig. 1 panels: `fig1_panels/` ({num_panels} images)', '',
        '## Time (seconds)', '', '| stage | s |', '|---|---|', stage_rows,
        f'| **total** | {total_seconds:.0f} |' if total_seconds is not None else '', ''])
