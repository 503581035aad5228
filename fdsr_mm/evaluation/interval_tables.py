"""The paired bootstrap intervals of a cascade result (``results['intervals']``, see
:mod:`fdsr_mm.evaluation.cascade_intervals`) as table rows, columns and caption lines.

A cell reads ``+1.2 [-0.3, +2.6]``: the difference ``b - a`` on all test images, then its 95%
interval, in percentage points; ``n/a`` where it is undefined. Results without intervals (written
before they existed, or with no pair) add nothing.
"""
from typing import Dict, List, Optional, Sequence

#: Row labels of the metrics (as in Table 1).
LABELS = dict(AP='AP', AP50='AP0.5', AP75='AP0.75', APS='APS', APM='APM', APL='APL', mAP='mAP')


def _pp(value: Optional[float], digits: int) -> str:
    return 'n/a' if value is None else f'{value:+.{digits}f}'


def interval_cell(row: Optional[dict]) -> str:
    """``+1.2 [-0.3, +2.6]`` (mAP: 2 decimals), ``n/a``, or ``-`` for no such pair."""
    if row is None:
        return '-'
    digits = 2 if row['metric'] == 'mAP' else 1
    if row['diff'] is None and row['low'] is None:
        return 'n/a'
    ci = '' if row['low'] is None else (
        f" [{_pp(row['low'], digits)}, {_pp(row['high'], digits)}]")
    return _pp(row['diff'], digits) + ci


def _pairs(result: dict) -> List[dict]:
    return (result.get('intervals') or {}).get('pairs') or []


def _bases(result: dict) -> List[str]:
    """The ``a`` of the pairs: the reference first, then those of ``--compare`` pairs."""
    return list(dict.fromkeys(r['a'] for r in _pairs(result)))


def find_pair(result: dict, a: str, b: str, key: str) -> Optional[dict]:
    """The interval row of ``b - a`` in ``key`` of a cascade result, or None."""
    return next((r for r in _pairs(result) if (r['a'], r['b'], r['metric']) == (a, b, key)),
                None)


def primary_key(result: dict) -> str:
    return 'AP' if result['metric'] == 'coco' else 'mAP'


def table1_rows(result: dict, methods: Sequence[str], keys: Sequence[str]) -> List[List[str]]:
    """Table 1 rows ``<metric> - <a> [95% CI]``, a cell under every method ``b`` with a pair
    ``(a, b)``, and ``Verdict (AP - <a>)``."""
    rows = []
    for a in _bases(result):
        rows += [[f'{LABELS[k]} - {a} [95% CI]'] + [interval_cell(find_pair(result, a, m, k))
                                                     for m in methods] for k in keys]
        key = primary_key(result)
        rows.append([f'Verdict ({key} - {a})'] + [
            (find_pair(result, a, m, key) or {}).get('verdict', '-') for m in methods])
    return rows


def table3_columns(result: dict, methods: Sequence[str]) -> Dict[str, List[str]]:
    """Table 3 columns ``mAP - <a> [95% CI]`` and ``Verdict``, a cell in every method's row."""
    cols = {}
    for a in _bases(result):
        found = [find_pair(result, a, m, 'mAP') for m in methods]
        cols[f'mAP - {a} [95% CI]'] = [interval_cell(r) for r in found]
        cols[f'Verdict (mAP - {a})'] = [r['verdict'] if r else '-' for r in found]
    return cols


def interval_caption(result: dict) -> List[str]:
    """Caption lines: how the intervals were made (images, resamples, seed, percentiles)."""
    iv = result.get('intervals') or {}
    if not _pairs(result):
        return []
    lines = [f"<metric> - <a> [95% CI]: the method's <metric> minus that of <a>, then its 95% "
             f"interval from a paired bootstrap over the {iv.get('num_images')} test images "
             f"(resampled with replacement, the same draw for both methods), "
             f"{iv.get('resamples')} resamples, seed {iv.get('seed')}, 2.5th and 97.5th "
             'percentiles; percentage points; verdict: held (CI above 0), reversed (CI below '
             '0), not resolved (CI includes 0).']
    short = sorted({f"{r['b']} - {r['a']} {LABELS[r['metric']]}" for r in _pairs(result)
                    if r['low'] is not None and r['num_resamples'] < iv.get('resamples', 0)})
    if short:
        lines.append('Resamples with the metric undefined on either side (no ground truth of '
                     'that kind drawn) are left out: ' + ', '.join(short) + '.')
    return lines


def interval_lines(result: dict) -> List[str]:
    """One printable line per pair and metric."""
    iv = result.get('intervals') or {}
    return [f"{r['b']} - {r['a']}: {LABELS[r['metric']]} {interval_cell(r)} (95% CI), "
            f"{r['verdict']} ({iv.get('num_images')} images, {r['num_resamples']} resamples, "
            f"seed {iv.get('seed')})" for r in _pairs(result)]


def table2_intervals(results: Sequence[dict], methods: Sequence[str]) -> Optional[dict]:
    """Table 2's companion: per detector, each method's AP (mAP) difference from that
    detector's reference with its interval. Returns ``dict(header, rows, caption)`` or None."""
    refs = [(r.get('intervals') or {}).get('reference') for r in results]
    if not any(refs):
        return None
    header = ['Detector', 'Reference'] + [f'{m} - reference [95% CI]' for m in methods]
    rows = [[r['detector']['name'], ref or '-'] + [
        interval_cell(find_pair(r, ref, m, primary_key(r))) if ref else '-' for m in methods]
        for r, ref in zip(results, refs)]
    caption = ['', "AP (mAP) difference from each row's reference [95% CI]: paired bootstrap "
               'over the test images (the same draw for both methods); 2.5th and 97.5th '
               'percentiles, in percentage points.'] + [
        f"- {r['detector']['name']}: {r['intervals'].get('num_images')} images, "
        f"{r['intervals'].get('resamples')} resamples, seed {r['intervals'].get('seed')}"
        for r, ref in zip(results, refs) if ref]
    return dict(header=header, rows=rows, caption=caption)
