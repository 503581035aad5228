"""The miniature study's verdicts: each AP difference it states, with a paired bootstrap 95% CI.

A comparison "B > A" on one cascade run resamples that run's test images (the same draw for both
methods, :func:`fdsr_mm.evaluation.bootstrap.paired_bootstrap`) and reads

    held                          the whole 95% interval of AP(B) - AP(A) is above 0
    reversed                      the whole interval is below 0
    not resolved (CI includes 0)  otherwise

Per-image records come from the cascade's method folders (``<out-dir>/methods/<name>/``):
``detections.bbox.json`` with ``results['dataset']['evaluated_ann_file']`` (COCO) or
``voc_per_image.pkl`` (VOC). Nothing here looks at which way the numbers went.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from fdsr_mm.evaluation.bootstrap import evaluate_per_image, paired_bootstrap
from fdsr_mm.evaluation.tables import load_results
from fdsr_mm.evaluation.voc_per_image import evaluate_voc_per_image


@dataclass(frozen=True)
class Comparison:
    """Claim ``method > base`` on detector ``det``'s cascade run, in ``key`` (AP or mAP)."""
    det: str
    claim: str
    base: str
    method: str
    key: str = 'AP'
    paper: str = ''


class PerImageRecords:
    """Per-image evaluation records of every method of the study's cascade runs (cached)."""

    def __init__(self, result_files: Dict[str, str]):
        self.files = dict(result_files)
        self.results = {d: load_results(p) for d, p in self.files.items()}
        self._cache = {}

    def get(self, det: str, method: str):
        """The records of ``method`` on ``det``'s run; raises FileNotFoundError if not kept."""
        if (det, method) not in self._cache:
            result = self.results[det]
            method_dir = osp.join(osp.dirname(self.files[det]), 'methods', method)
            if result['metric'] == 'voc':
                dump = osp.join(method_dir, 'voc_per_image.pkl')
                if not osp.isfile(dump):
                    raise FileNotFoundError(dump)
                self._cache[det, method] = evaluate_voc_per_image(dump)
            else:
                dets = osp.join(method_dir, 'detections.bbox.json')
                ann = result['dataset'].get('evaluated_ann_file')
                for path in (dets, ann):
                    if not path or not osp.isfile(path):
                        raise FileNotFoundError(path or 'evaluated_ann_file')
                self._cache[det, method] = evaluate_per_image(ann, dets)
        return self._cache[det, method]


def run_comparisons(comparisons: Sequence[Comparison], result_files: Dict[str, str],
                    num_resamples: int = 1000, seed: int = 0) -> List[dict]:
    """Each comparison with ``diff``, ``low``, ``high`` (percent points), ``verdict``."""
    records = PerImageRecords(result_files)
    rows = []
    for c in comparisons:
        row = dict(det=c.det, claim=c.claim, base=c.base, method=c.method, key=c.key,
                   paper=c.paper, diff=None, low=None, high=None, num_images=None)
        if c.det not in records.results or not {c.base, c.method} <= set(
                records.results[c.det]['methods']):
            rows.append(dict(row, verdict='could not be checked (method not evaluated)'))
            continue
        try:
            ev_a, ev_b = records.get(c.det, c.base), records.get(c.det, c.method)
        except FileNotFoundError as e:
            rows.append(dict(row, verdict=f'could not be checked (no per-image records: {e}; '
                                          'rerun the cascade)'))
            continue
        boot = paired_bootstrap(ev_a, ev_b, c.key, num_resamples, seed)
        rows.append(dict(row, diff=boot['diff'], low=boot['low'], high=boot['high'],
                         num_images=boot['num_images'], num_resamples=boot['num_resamples'],
                         verdict=boot['verdict']))
    return rows


def _pp(value: Optional[float]) -> str:
    return 'n/a' if value is None else f'{value:+.1f}'


def verdict_text(row: dict) -> str:
    """``FDSR > DBPN: held (AP +5.1, 95% CI [+4.1, +6.3], 200 images)``."""
    if row['diff'] is None:
        return f'{row["claim"]}: {row["verdict"]}'
    return (f'{row["claim"]}: {row["verdict"]} ({row["key"]} {_pp(row["diff"])}, 95% CI '
            f'[{_pp(row["low"])}, {_pp(row["high"])}], {row["num_images"]} images)')


def differences_table(rows: Sequence[dict]) -> Dict[str, str]:
    """Markdown and CSV: detector, claim, metric, difference, 95% CI, verdict, paper."""
    header = ['Detector', 'Claim', 'Metric', 'Difference', '95% CI', 'Verdict', 'Paper']
    body = [[r['det'], r['claim'], r['key'], _pp(r['diff']),
             '-' if r['low'] is None else f'[{_pp(r["low"])}, {_pp(r["high"])}]',
             r['verdict'], r['paper']] for r in rows]
    md = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    md += ['| ' + ' | '.join(row) + ' |' for row in body]
    csv = [','.join(header)] + [','.join(f'"{c}"' for c in row) for row in body]
    return dict(markdown='\n'.join(md) + '\n', csv='\n'.join(csv) + '\n')


#: Paper numbers beside the miniature's claims (Table 1-3, Fig. 3; Faster R-CNN unless noted).
_PAPER = {('hr', 'bicubic'): '37.7 vs 22.3', ('bicubic', 'dbpn'): '26.5 vs 22.3',
          ('dbpn', 'fdsr'): '29.6 vs 26.5', ('dbpn_pretrained', 'fdsr'): '29.6 vs 26.5',
          ('fdsr_a0b1', 'fdsr'): '29.6 vs 27.0'}


def study_comparisons(detectors: Sequence[str], voc_detector: Optional[str] = None,
                      priors: Optional[Dict[str, str]] = None) -> List[Comparison]:
    """Every AP difference the study's summary states.

    Args:
        detectors: COCO-format evaluators; the first is Table 1's and Fig. 3's.
        voc_detector: The Table 3 (VOC-format) detector, if any.
        priors: Fine-tunes with another feature prior (method -> prior label), compared with
            FDSR's detector prior on the first detector.
    """
    pairs = [('HR > bicubic (the x4 problem)', 'bicubic', 'hr'),
             ('D-DBPN fine-tune > bicubic', 'bicubic', 'dbpn'),
             ('FDSR > D-DBPN fine-tune (control)', 'dbpn', 'fdsr'),
             ('FDSR > D-DBPN pre-trained (no fine-tune)', 'dbpn_pretrained', 'fdsr')]
    out = []
    for i, det in enumerate(detectors):
        out += [Comparison(det, claim, a, b, 'AP', _PAPER.get((a, b), '') if i == 0 else '')
                for claim, a, b in pairs]
        if i == 0:
            out.append(Comparison(det, 'mixed (a0.5 b1) > feature-only (a0 b1)', 'fdsr_a0b1',
                                  'fdsr', 'AP', _PAPER[('fdsr_a0b1', 'fdsr')]))
            out += [Comparison(det, f'detector prior > {label} prior', method, 'fdsr', 'AP',
                               'FDSR above VGG19 / ResNet50-C4 ImageNet priors (Fig. 3)')
                    for method, label in (priors or {}).items()]
    if voc_detector:
        out += [Comparison(voc_detector, claim, a, b, 'mAP', paper) for claim, a, b, paper in (
            ('D-DBPN fine-tune > bicubic', 'bicubic', 'dbpn', '59.81 vs 48.85'),
            ('TDSR > D-DBPN fine-tune', 'dbpn', 'tdsr', '67.96 vs 59.81'),
            ('FDSR > TDSR (paper: equal)', 'tdsr', 'fdsr', '67.98 vs 67.96'))]
    return out
