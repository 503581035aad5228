"""The transfer matrix of a benchmark study: SR models (rows: the objective and the detector it was
trained with) scored through every evaluator (columns), as a table with each cell's paired
bootstrap interval against the evaluator's reference (bicubic) and as a heatmap.

The spec's ``report.transfer``: ``dict(rows=dict(method=(objective, trained_with), ...),
evaluators=[...])``; ``trained_with`` is the detector name whose prior or loss the method used
(None: neither evaluator). Diagonal cells (``trained_with`` = the evaluator) are marked ``*``.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from fdsr_mm.evaluation.interval_tables import find_pair, interval_cell, primary_key
from fdsr_mm.evaluation.tables import load_results
from fdsr_mm.study.plots import det_number
from fdsr_mm.utils.io import atomic_write_text, savefig_atomic


def _interval(result: dict, method: str, key: str) -> Optional[dict]:
    """The interval of ``method - reference`` of the evaluator's run (None: no reference)."""
    ref = (result.get('intervals') or {}).get('reference')
    return find_pair(result, ref, method, key) if ref else None


def transfer_table(results: Dict[str, dict], rows: Dict[str, Tuple[str, Optional[str]]],
                   evaluators: Sequence[str]) -> dict:
    """The matrix as ``header``, ``rows`` (cells ``AP (diff [CI])``), ``values`` (AP or None,
    rows x evaluators), ``markdown`` and ``csv``."""
    header = ['SR objective', 'trained with'] + [
        f'{e} AP ({(results[e].get("intervals") or {}).get("reference") or "-"} diff [95% CI])'
        for e in evaluators]
    table, values = [], []
    for method, (objective, trained_with) in rows.items():
        cells, vals = [], []
        for e in evaluators:
            key = primary_key(results[e])
            ap = det_number(results[e], method, key)
            vals.append(ap)
            mark = '*' if trained_with == e else ''
            cells.append('-' if ap is None else
                         f'{ap:.1f}{mark} ({interval_cell(_interval(results[e], method, key))})')
        table.append([f'{objective} ({method})', trained_with or '-', *cells])
        values.append(vals)
    md = '\n'.join(['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
                   + ['| ' + ' | '.join(r) + ' |' for r in table])
    csv = '\n'.join(','.join(f'"{c}"' for c in r) for r in [header] + table)
    return dict(header=header, rows=table, values=values, markdown=md + '\n', csv=csv + '\n')


def plot_transfer(values: List[List[Optional[float]]], row_labels: Sequence[str],
                  diagonal: Sequence[Optional[int]], evaluators: Sequence[str], path: str) -> None:
    """The heatmap of AP (rows x evaluators), numbers in the cells, diagonal cells outlined."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    grid = np.array([[np.nan if v is None else v for v in row] for row in values], dtype=float)
    fig, ax = plt.subplots(figsize=(2.2 + 1.6 * len(evaluators), 1.0 + 0.5 * len(row_labels)),
                           dpi=100)
    im = ax.imshow(grid, cmap='viridis', aspect='auto')
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            if v is not None:
                ax.text(j, i, f'{v:.1f}', ha='center', va='center', color='w', fontsize=8)
        if diagonal[i] is not None:
            ax.add_patch(plt.Rectangle((diagonal[i] - 0.5, i - 0.5), 1, 1, fill=False,
                                       edgecolor='r', linewidth=2))
    ax.set_xticks(range(len(evaluators)), evaluators)
    ax.set_yticks(range(len(row_labels)), row_labels, fontsize=8)
    ax.set_xlabel('evaluator (red: the detector the SR model was trained with)')
    fig.colorbar(im, ax=ax, label='AP (%)')
    fig.tight_layout()
    try:
        savefig_atomic(fig, path, bbox_inches='tight')
    finally:
        plt.close(fig)


def write_transfer(out_dir: str, result_files: Dict[str, str], spec: dict) -> str:
    """``transfer.{md,csv}`` and ``transfer_heatmap.png`` in ``out_dir``; returns the summary's
    section. ``result_files``: evaluator -> cascade ``results.json``."""
    os.makedirs(out_dir, exist_ok=True)
    evaluators = list(spec['evaluators'])
    rows = {m: tuple(v) for m, v in spec['rows'].items()}
    results = {e: load_results(result_files[e]) for e in evaluators}
    t = transfer_table(results, rows, evaluators)
    atomic_write_text(osp.join(out_dir, 'transfer.md'), t['markdown'])
    atomic_write_text(osp.join(out_dir, 'transfer.csv'), t['csv'])
    diagonal = [evaluators.index(w) if w in evaluators else None for _, w in rows.values()]
    plot_transfer(t['values'], [f'{o} / {w or "-"}' for o, w in rows.values()], diagonal,
                  evaluators, osp.join(out_dir, 'transfer_heatmap.png'))
    return '\n'.join(['## Transfer matrix', '',
                      'AP of each SR model through each evaluator; `*`: the detector it was '
                      'trained with (its prior or its loss). In brackets: the AP difference '
                      "from the evaluator's reference with its paired bootstrap 95% interval "
                      'over the test images. Heatmap: `transfer_heatmap.png`.', '',
                      t['markdown']])
