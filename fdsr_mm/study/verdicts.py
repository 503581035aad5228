"""The miniature study's verdicts: each AP difference it states, with a bootstrap 95% CI, raw and
adjusted for the number of claims.

A comparison "B > A" resamples the test images of the cascade runs (the same draw for both
methods) and, with ``--seeds N``, the training seeds first
(:func:`fdsr_mm.evaluation.hierarchical_bootstrap.hierarchical_bootstrap`; with one seed it is
the paired bootstrap over images, :func:`fdsr_mm.evaluation.bootstrap.paired_bootstrap`). Each
row says what its interval covers (``covers``: "test images", or "training seeds and test
images" where either method was trained with several seeds), and reads

    held                          the whole 95% interval of AP(B) - AP(A) is above 0
    reversed                      the whole interval is below 0
    not resolved (CI includes 0)  otherwise

Beside it, ``verdict_holm``: the same claim after Holm-Bonferroni over the family of claims of
one report (:mod:`fdsr_mm.evaluation.multiple_comparisons`: each claim's p-value inverts its
percentile interval; the family is every claim that could be tested).

Per-image records come from the cascade's method folders (``<out-dir>/methods/<name>/``):
``detections.bbox.json`` with ``results['dataset']['evaluated_ann_file']`` (COCO) or
``voc_per_image.pkl`` (VOC). A claim across two detectors (``Comparison.det_b``: B through
another detector than A, e.g. FDSR through the plain detector against bicubic through one adapted
to LR images) takes B's records from that detector's run; both runs must have scored the same
images (the pairs are by image id), else the claim is not checked. Nothing here looks at which
way the numbers went.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from fdsr_mm.evaluation.bootstrap import evaluate_per_image
from fdsr_mm.evaluation.hierarchical_bootstrap import hierarchical_bootstrap
from fdsr_mm.evaluation.multiple_comparisons import adjusted_verdict, holm
from fdsr_mm.evaluation.tables import load_results
from fdsr_mm.evaluation.voc_per_image import evaluate_voc_per_image


@dataclass(frozen=True)
class Comparison:
    """Claim ``method > base`` on detector ``det``'s cascade run, in ``key`` (AP or mAP);
    ``det_b``: the run that scores ``method`` where it is another detector's (same images,
    paired by image id)."""
    det: str
    claim: str
    base: str
    method: str
    key: str = 'AP'
    paper: str = ''
    det_b: Optional[str] = None
    det_ref: Optional[str] = None  # "method loses less than base from det_ref's run to det's"

    @property
    def method_det(self) -> str:
        """The detector whose run scores ``method``."""
        return self.det_b or self.det


class PerImageRecords:
    """Per-image evaluation records of every method of the study's cascade runs (cached).

    Args:
        result_files: detector -> cascade ``results.json`` (training seed 0).
        seeded_files: detector -> ``results.json`` per training seed index (``--seeds N``:
            index k > 0 holds the methods trained with seed k as ``<m>_s<k>``); index 0 is
            ``result_files[det]`` whatever the list says.
    """

    def __init__(self, result_files: Dict[str, str],
                 seeded_files: Optional[Dict[str, Sequence[str]]] = None):
        self.files = dict(result_files)
        self.results = {d: load_results(p) for d, p in self.files.items()}
        self.seed_runs = {d: {k: (p, load_results(p)) for k, p in enumerate(files) if k and
                              osp.isfile(p)}
                          for d, files in (seeded_files or {}).items() if d in self.files}
        self._cache = {}

    def get(self, det: str, method: str):
        """The records of ``method`` on ``det``'s run; raises FileNotFoundError if not kept."""
        return self._load(self.files[det], self.results[det], method)

    def _load(self, result_file: str, result: dict, method: str):
        if (result_file, method) not in self._cache:
            method_dir = osp.join(osp.dirname(result_file), 'methods', method)
            if result['metric'] == 'voc':
                dump = osp.join(method_dir, 'voc_per_image.pkl')
                if not osp.isfile(dump):
                    raise FileNotFoundError(dump)
                self._cache[result_file, method] = evaluate_voc_per_image(dump)
            else:
                dets = osp.join(method_dir, 'detections.bbox.json')
                ann = result['dataset'].get('evaluated_ann_file')
                for path in (dets, ann):
                    if not path or not osp.isfile(path):
                        raise FileNotFoundError(path or 'evaluated_ann_file')
                self._cache[result_file, method] = evaluate_per_image(ann, dets)
        return self._cache[result_file, method]

    def seeds(self, det: str, method: str) -> List[int]:
        """The training seed indices of ``method`` on ``det``: [0] unless ``--seeds`` runs
        evaluated it as ``<method>_s<k>``."""
        return [0] + [k for k, (_, r) in sorted(self.seed_runs.get(det, {}).items())
                      if f'{method}_s{k}' in r['methods']]

    def get_seeds(self, det: str, method: str, seeds: Sequence[int]) -> list:
        """The records of ``method`` on ``det`` for each seed index in ``seeds``."""
        return [self._load(*self.seed_runs[det][k], f'{method}_s{k}') if k else
                self.get(det, method) for k in seeds]


def _seeded_pair(records: PerImageRecords, c: Comparison) -> tuple:
    """(records of base per seed, of method per seed): one record for a method without training
    seeds, one per seed otherwise; seeds shared by both methods are paired (the common ones)."""
    seeds_a, seeds_b = records.seeds(c.det, c.base), records.seeds(c.method_det, c.method)
    if len(seeds_a) > 1 and len(seeds_b) > 1:
        seeds_a = seeds_b = [k for k in seeds_a if k in seeds_b]
    return (records.get_seeds(c.det, c.base, seeds_a),
            records.get_seeds(c.method_det, c.method, seeds_b))


def _other_images(c: Comparison, evs_a: list, evs_b: list) -> Optional[str]:
    """Why the two runs of a claim across detectors cannot be paired (None: same images)."""
    ids_a, ids_b = evs_a[0].img_ids, evs_b[0].img_ids
    if ids_a == ids_b:
        return None
    return (f'could not be checked ({c.det} and {c.method_det} scored different images: '
            f'{len(ids_a)} and {len(ids_b)}, {len(set(ids_a) & set(ids_b))} in common)')


def _compare(c: Comparison, records: PerImageRecords, num_resamples: int, seed: int) -> dict:
    """One comparison's row: the hierarchical interval (seeds and images) where either method
    has training seeds, else the paired bootstrap over images (the same with one seed)."""
    row = dict(det=c.det, det_b=c.method_det, det_ref=c.det_ref, claim=c.claim, base=c.base,
               method=c.method,
               key=c.key, paper=c.paper, diff=None, low=None, high=None, num_images=None,
               num_seeds=None, covers=None, p_value=None)
    if any(d not in records.results or m not in records.results[d]['methods']
           for d, m in ((c.det, c.base), (c.method_det, c.method))):
        return dict(row, verdict='could not be checked (method not evaluated)')
    try:
        evs_a, evs_b = _seeded_pair(records, c)
    except FileNotFoundError as e:
        return dict(row, verdict=f'could not be checked (no per-image records: {e}; rerun the '
                                 'cascade)')
    why = _other_images(c, evs_a, evs_b)
    ref = None
    if c.det_ref and not why:
        if any(m not in records.results.get(c.det_ref, {}).get('methods', {})
               for m in (c.base, c.method)):
            return dict(row, verdict='could not be checked (method not evaluated)')
        ref = _seeded_pair(records, Comparison(c.det_ref, c.claim, c.base, c.method, c.key))
        why = _other_images(Comparison(c.det, '', '', '', det_b=c.det_ref), evs_a, ref[0])
    if why:
        return dict(row, verdict=why)
    boot = hierarchical_bootstrap(evs_a, evs_b, c.key, num_resamples, seed, ref)
    return dict(row, **{k: boot[k] for k in ('diff', 'low', 'high', 'num_images', 'num_seeds',
                                             'covers', 'p_value', 'num_resamples', 'verdict')})


def _adjust(rows: List[dict], alpha: float) -> List[dict]:
    """Holm-Bonferroni over the rows with a test: ``p_holm``, ``verdict_holm``, the family."""
    tested = [i for i, r in enumerate(rows) if r['p_value'] is not None]
    adjusted, _ = holm([rows[i]['p_value'] for i in tested], alpha)
    p_holm = dict(zip(tested, adjusted.tolist()))
    method = f'Holm-Bonferroni over a family of {len(tested)} claims, alpha {alpha:g}'
    return [dict(r, p_holm=p_holm.get(i), family_size=len(tested), alpha=alpha,
                 adjustment=method, verdict_holm=adjusted_verdict(r['verdict'], p_holm.get(i),
                                                                   alpha))
            for i, r in enumerate(rows)]


def run_comparisons(comparisons: Sequence[Comparison], result_files: Dict[str, str],
                    num_resamples: int = 1000, seed: int = 0,
                    seeded_files: Optional[Dict[str, Sequence[str]]] = None,
                    alpha: float = 0.05) -> List[dict]:
    """Each comparison with ``diff``, ``low``, ``high`` (percent points), ``verdict``, and the
    family's Holm adjustment (``p_value``, ``p_holm``, ``verdict_holm``, ``family_size``).

    Args:
        comparisons: The family of claims of one report.
        result_files: detector -> cascade ``results.json``.
        num_resamples, seed: The bootstrap's draws.
        seeded_files: detector -> ``results.json`` per training seed (``--seeds N``); a claim
            on a method with seeds gets the interval over seeds and images (``covers``).
        alpha: 1 - the intervals' level, and the family-wise error rate of the adjustment.
    """
    records = PerImageRecords(result_files, seeded_files)
    rows = [_compare(c, records, num_resamples, seed) for c in comparisons]
    return _adjust(rows, alpha)


def _pp(value: Optional[float]) -> str:
    return 'n/a' if value is None else f'{value:+.1f}'


def _p(value: Optional[float]) -> str:
    return '-' if value is None else f'{value:.3g}'


def _over(row: dict) -> str:
    seeds = row.get('num_seeds') or 1
    return (f'{seeds} training seeds x ' if seeds > 1 else '') + f'{row["num_images"]} test images'


def verdict_text(row: dict) -> str:
    """``FDSR > DBPN: held (AP +5.1, 95% CI [+4.1, +6.3] over 200 test images; Holm, family of
    18: held, adjusted p 0.004)``."""
    if row['diff'] is None:
        return f'{row["claim"]}: {row["verdict"]}'
    holm_part = ('' if row.get('p_holm') is None else
                 f'; Holm, family of {row["family_size"]}: {row["verdict_holm"]}, adjusted p '
                 f'{_p(row["p_holm"])}')
    return (f'{row["claim"]}: {row["verdict"]} ({row["key"]} {_pp(row["diff"])}, 95% CI '
            f'[{_pp(row["low"])}, {_pp(row["high"])}] over {_over(row)}{holm_part})')


def detectors(row: dict) -> str:
    """``det``; ``det / det_b`` for a claim across two detectors' runs (A's, then B's);
    ``det relative to det_ref`` for a "loses less" claim."""
    det_b = row.get('det_b') or row['det']
    name = row['det'] if det_b == row['det'] else f'{row["det"]} / {det_b}'
    return f'{name} relative to {row["det_ref"]}' if row.get('det_ref') else name


def differences_table(rows: Sequence[dict]) -> Dict[str, str]:
    """Markdown and CSV: detector (``A / B`` across two), claim, metric, difference, 95% CI,
    what it covers, verdict, p, the Holm-adjusted verdict (family of m claims), paper."""
    m = next((r['family_size'] for r in rows if r.get('family_size') is not None), 0)
    header = ['Detector', 'Claim', 'Metric', 'Difference', '95% CI', 'Interval covers',
              'Verdict', 'p', f'Adjusted (Holm, family of {m} claims)', 'Paper']
    body = [[detectors(r), r['claim'], r['key'], _pp(r['diff']),
             '-' if r['low'] is None else f'[{_pp(r["low"])}, {_pp(r["high"])}]',
             '-' if r['diff'] is None else _over(r), r['verdict'], _p(r.get('p_value')),
             r.get('verdict_holm', '-') + ('' if r.get('p_holm') is None else
                                           f' (p {_p(r["p_holm"])})'), r['paper']]
            for r in rows]
    md = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    md += ['| ' + ' | '.join(row) + ' |' for row in body]
    csv = [','.join(header)] + [','.join(f'"{c}"' for c in row) for row in body]
    return dict(markdown='\n'.join(md) + '\n', csv='\n'.join(csv) + '\n')


#: Paper numbers beside the miniature's claims (Table 1-3, Fig. 3; Faster R-CNN unless noted).
_PAPER = {('bicubic', 'hr'): '37.7 vs 22.3', ('bicubic', 'dbpn'): '26.5 vs 22.3',
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
