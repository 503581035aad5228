"""The miniature study's Fig. 3: AP against the (alpha, beta) loss weights, and the prior types.

As the paper's Fig. 3: one line of AP over the (alpha, beta) settings of the SR fine-tune with
the detector prior; the other feature priors (same alpha 0.5, beta 1, same schedule) as dotted
horizontal lines; HR and bicubic AP as reference lines.
"""
import math
from typing import Dict, Optional, Tuple

from fdsr_mm.utils.io import savefig_atomic

_PRIOR_STYLES = ('tab:orange', 'tab:blue', 'tab:purple', 'tab:brown')


def det_number(result: dict, method: str, key: str = 'AP') -> Optional[float]:
    """A detection number (percent) of a cascade result; None when absent or undefined."""
    value = result['methods'].get(method, {}).get('det', {}).get(key)
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def plot_fig3(result: dict, settings: Dict[str, Tuple[float, float]], path: str,
              priors: Optional[Dict[str, str]] = None) -> None:
    """Write Fig. 3 to ``path`` (PNG, atomically).

    Args:
        result: The first detector's cascade result.
        settings: Method -> (alpha, beta) of the fine-tunes with the detector prior (x axis).
        priors: Method -> label of fine-tunes with another prior at alpha 0.5, beta 1.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    names = [m for m in settings if det_number(result, m) is not None]
    fig, ax = plt.subplots(figsize=(8.5, 4.0), dpi=100)
    ax.plot(range(len(names)), [det_number(result, m) for m in names], 'o-', color='tab:green',
            label='detector prior (FDSR)')
    for (method, label), color in zip((priors or {}).items(), _PRIOR_STYLES):
        if det_number(result, method) is not None:
            ax.axhline(det_number(result, method), linestyle=':', color=color,
                       label=f'{label} prior (a=0.5, b=1)')
    for ref, color, style in (('hr', 'k', '--'), ('bicubic', 'r', '-.')):
        if det_number(result, ref) is not None:
            ax.axhline(det_number(result, ref), linestyle=style, color=color, linewidth=1, label=ref)
    ax.set_xticks(range(len(names)),
                  [f'a={settings[m][0]:g}\nb={settings[m][1]:g}' for m in names])
    ax.set_xlabel('SR fine-tune loss weights (alpha: L1 pixel, beta: feature)')
    ax.set_ylabel('AP (%)')
    ax.set_title(f'Fig. 3 (miniature): detector {result["detector"]["name"]}', fontsize=10)
    ax.legend(fontsize=7, loc='center left', bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    try:
        savefig_atomic(fig, path, bbox_inches='tight')
    finally:
        plt.close(fig)
