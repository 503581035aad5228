"""Summary sections of the miniature study beside the verdicts: training seeds and loss scales.

:func:`seeds_section` lists the AP of each training seed (``--seeds N``: the SR fine-tunes
repeated) and the per-seed differences; the verdicts themselves come from the hierarchical
bootstrap over seeds and test images (:mod:`fdsr_mm.evaluation.hierarchical_bootstrap`).
:func:`loss_scale_section` measures, from the fine-tunes' own logs, how large the pixel and the
feature terms of ``alpha * L1 + beta * MSE(F(SR), F(HR))`` were during training.
"""
import glob
import json
import math
import os.path as osp
import statistics
from typing import Dict, List, Optional, Sequence, Tuple

from fdsr_mm.evaluation.tables import load_results

#: differences whose spread across seeds the summary states: (label, base, method)
SEED_DIFFS = (('FDSR - D-DBPN fine-tune', 'dbpn', 'fdsr'), ('FDSR - TDSR', 'tdsr', 'fdsr'),
              ('mixed - feature-only', 'fdsr_a0b1', 'fdsr'),
              ('detector prior - random-init prior', 'fdsr_randprior', 'fdsr'),
              ('detector prior - classifier prior', 'fdsr_clsprior', 'fdsr'))


def _metric_value(result: dict, method: str) -> Optional[float]:
    key = 'mAP' if result['metric'] == 'voc' else 'AP'
    return result['methods'].get(method, {}).get('det', {}).get(key)


def _mean_std(values: List[float]) -> str:
    if len(values) < 2:
        return f'{values[0]:.1f}' if values else 'n/a'
    return f'{statistics.mean(values):.1f} +- {statistics.stdev(values):.1f}'


def seeds_section(seeded: Dict[str, List[str]], methods: Dict[str, Sequence[str]],
                  base_seed: int = 0) -> str:
    """Markdown: per detector, each seeded method's AP per training seed and mean +- std.

    Args:
        seeded: detector -> cascade ``results.json`` per seed index (index k holds the methods
            as ``<m>_s<k>``, index 0 as ``<m>``).
        methods: detector -> the methods repeated with seeds.
        base_seed: The training seed of index 0.
    """
    num = max(len(v) for v in seeded.values())
    lines = ['## Training seeds', '']
    if num < 2:
        return '\n'.join(lines + [
            f'One training seed ({base_seed}); `--seeds N` repeats the SR fine-tunes and TDSR '
            'with N seeds, states mean +- std here and judges the claims on those methods on '
            'intervals over training seeds and test images. The intervals above cover the '
            'choice of test images only, not training randomness.', ''])
    seeds = ', '.join(str(base_seed + k) for k in range(num))
    lines += [f'SR fine-tunes (and TDSR) trained with seeds {seeds}; detectors, data and the '
              'pre-trained SR weights shared. The verdicts above on these methods come from the '
              'hierarchical bootstrap (training seeds, then test images); here, for reading, the '
              'AP (mAP for VOC) of each seed and mean +- std (sample std):', '', '| Detector | Method | per seed | mean +- std |', '|---|---|---|---|']
    diffs = []
    for det, files in seeded.items():
        results = [load_results(f) for f in files if osp.isfile(f)]
        per_method = {}
        for m in methods.get(det, ()):
            vals = [_metric_value(r, m + (f'_s{k}' if k else '')) for k, r in enumerate(results)]
            vals = [v for v in vals if v is not None]
            per_method[m] = vals
            lines.append(f'| {det} | {m} | {", ".join(f"{v:.1f}" for v in vals)} | '
                         f'{_mean_std(vals)} |')
        for label, a, b in SEED_DIFFS:
            if a in per_method and b in per_method and per_method[a] and (
                    len(per_method[a]) == len(per_method[b])):
                d = [y - x for x, y in zip(per_method[a], per_method[b])]
                diffs.append(f'- **{det}** {label}: {", ".join(f"{v:+.1f}" for v in d)} '
                             f'(mean +- std {_mean_std(d)}; positive in {sum(v > 0 for v in d)} '
                             f'of {len(d)} seeds)')
    return '\n'.join(lines + ['', 'Differences per seed:', ''] + diffs + [''])


def _scalars(work_dir: str) -> List[dict]:
    """The training log records (mmengine ``vis_data/scalars.json``) of the latest run."""
    runs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not runs:
        return []
    with open(runs[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def feature_elements(work_dir: str) -> Optional[Tuple[int, int]]:
    """(feature elements, pixel values) per training crop: C x h x w summed over the extracted
    maps, and 3 x H x W, from the config mmengine saved in ``work_dir`` (its ``gt_patch_size``)."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from mmagic.registry import MODELS
    dumped = sorted(glob.glob(osp.join(work_dir, '*.py')))
    if not dumped:
        return None
    cfg = Config.fromfile(dumped[0])
    size = cfg.get('gt_patch_size')  # the study's SR configs name their HR crop size so
    if not size or not cfg.model.get('feature_loss'):
        return None
    with DefaultScope.overwrite_default_scope('mmagic'):
        loss = MODELS.build(cfg.model.feature_loss)
    with torch.no_grad():
        feats = loss.extract(torch.zeros(1, 3, size, size))
    return int(sum(f[0].numel() for f in feats)), 3 * size * size


def _row(m: str, recs: List[dict], alpha, beta, sizes) -> str:
    pix = [r['loss_pix'] for r in recs]
    feat = [r['loss_feat'] for r in recs]
    mp, mf = statistics.mean(pix), statistics.mean(feat)
    ratio = f'{mf / mp:.3g}' if mp > 0 else 'n/a'
    paper = 'n/a'
    if alpha and beta and mp > 0 and sizes:
        # Eq. 1: per-image L1 norm (a sum over the 3HW values); Eq. 2: per-image Frobenius norm
        l1_sum, fro = (mp / alpha) * sizes[1], math.sqrt((mf / beta) * sizes[0])
        paper = f'{beta * fro / (alpha * l1_sum):.3g}'
    return (f'| {m} | {alpha:g}, {beta:g} | {mp:.4g} ({pix[0]:.3g} -> {pix[-1]:.3g}) | '
            f'{mf:.4g} ({feat[0]:.3g} -> {feat[-1]:.3g}) | {ratio} | {paper} |')


def loss_scale_section(work_dirs: Dict[str, str],
                       settings: Dict[str, Tuple[float, float]]) -> str:
    """Markdown: mean logged loss_pix and loss_feat of each fine-tune with a feature term, and
    the ratio the same errors would give under the paper's Eq. 1-3.

    Args:
        work_dirs: method -> the fine-tune's work_dir.
        settings: method -> (alpha, beta).

    Returns:
        str: the section; empty without such fine-tunes (e.g. a benchmark with no Fig. 3).
    """
    if not work_dirs:
        return ''
    lines = ['## Scale of the two loss terms during the fine-tunes', '',
             'Logged weighted terms (alpha x mean L1 over pixel values, beta x mean squared '
             'feature error), mean over the logged iterations (first -> last), their ratio, and '
             'the ratio the same errors give under the paper\'s Eq. 1-3 (per-image L1 norm, a '
             'sum over 3HW values; per-image Frobenius norm of the feature difference).', '',
             '| Method | alpha, beta | alpha*L1 | beta*MSE | feature / pixel term | same, '
             'Eq. 1-3 |', '|---|---|---|---|---|---|']
    sizes = None
    for m, wd in work_dirs.items():
        recs = [dict(r, loss_pix=r.get('loss_pix', 0.0)) for r in _scalars(wd)
                if 'loss_feat' in r]  # alpha 0: no pixel term logged
        if not recs:
            lines.append(f'| {m} | - | no training log in {wd} | | | |')
            continue
        sizes = sizes or feature_elements(wd)
        alpha, beta = settings.get(m, (0., 0.))
        lines.append(_row(m, recs, alpha, beta, sizes))
    if sizes:
        lines += ['', f'Per training crop: {sizes[0]} feature elements, {sizes[1]} pixel values. '
                  'The study trains with means, so its alpha/beta balance the two terms as the '
                  'table\'s fifth column shows; under Eq. 1-3 as printed the same weights would '
                  'make the feature term the last column\'s fraction of the pixel term. The '
                  'paper\'s alpha 0.5, beta 1 therefore do not transfer as numbers; what '
                  'transfers is the measured ordering of the settings (Fig. 3 and the verdicts).']
    return '\n'.join(lines + [''])
