"""SR4IR's task-driven perceptual (TDP) loss: the distance between a detector's features of the
SR and the HR image at chosen feature levels, with a weight per level (Kim et al., CVPR 2024).

Unlike :class:`DetectorFeatureLoss` (FDSR's prior: a frozen, separately trained backbone), the
features come from the detector that SR4IR trains at the same time; the caller extracts them.
"""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmagic.registry import MODELS

_CRITERIA = {'l1': F.l1_loss, 'mse': F.mse_loss}


@MODELS.register_module()
class TaskDrivenPerceptualLoss(nn.Module):
    """``loss_weight * sum_l w_l * D(feat_sr[l], feat_hr[l])`` over the levels with ``w_l > 0``.

    Args:
        level_weights (sequence of float): ``w_l``, the weight of feature level ``l`` (index
            into the detector's ``extract_feat`` tuple, e.g. FPN outputs at strides 4, 8, ...);
            0 skips a level. SR4IR's detection setting: the two finest FPN levels at 0.5 each,
            ``(0.5, 0.5)``.
        criterion (str): ``'l1'`` (SR4IR's) or ``'mse'``: the element mean of ``|a - b|`` or
            ``(a - b) ** 2``.
        loss_weight (float): The weight of the whole term.
    """

    def __init__(self, level_weights: Sequence[float], criterion: str = 'l1',
                 loss_weight: float = 1.0):
        super().__init__()
        if criterion not in _CRITERIA:
            raise ValueError(f'TaskDrivenPerceptualLoss: criterion {criterion!r} is not one of '
                             f'{sorted(_CRITERIA)}.')
        self.level_weights = {lvl: float(w) for lvl, w in enumerate(level_weights) if w}
        if not self.level_weights or min(self.level_weights.values()) < 0:
            raise ValueError('TaskDrivenPerceptualLoss: level_weights needs a positive weight '
                             f'and none negative, e.g. (0.5, 0.5); got {level_weights}.')
        self.criterion = criterion
        self.loss_weight = float(loss_weight)

    def forward(self, feats_sr: Sequence[torch.Tensor],
                feats_hr: Sequence[torch.Tensor]) -> torch.Tensor:
        """Args: the detector's feature tuples of the SR and of the HR batch (same shapes).

        Returns:
            Tensor: scalar; gradients flow into ``feats_sr`` (and ``feats_hr`` if it has any).
        """
        levels = max(self.level_weights) + 1
        if len(feats_sr) < levels or len(feats_hr) < levels:
            raise ValueError(f'TaskDrivenPerceptualLoss: level {levels - 1} asked for, but the '
                             f'detector gives {len(feats_sr)} feature levels.')
        crit = _CRITERIA[self.criterion]
        total = sum(w * crit(feats_sr[lvl], feats_hr[lvl])
                    for lvl, w in self.level_weights.items())
        return self.loss_weight * total

    def extra_repr(self) -> str:
        return (f'level_weights={self.level_weights}, criterion={self.criterion!r}, '
                f'loss_weight={self.loss_weight}')
