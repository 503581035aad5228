"""Top-1 accuracy of a crop classifier (``fdsr_mm.models.CropClassifier``), an mmdet metric.

mmpretrain's ``Accuracy`` in the few lines the miniature study needs (no extra dependency).
"""
from typing import Dict, List, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from mmdet.registry import METRICS


@METRICS.register_module()
class CropAccuracy(BaseMetric):
    """Top-1 accuracy in percent (``accuracy/top1``) and per-class accuracy (``accuracy/<class>``
    when the dataset meta names its ``classes``).

    Each prediction needs ``pred_label`` and ``gt_label`` (one-element tensors).
    """

    default_prefix = 'accuracy'

    def process(self, data_batch, data_samples: Sequence) -> None:
        for sample in data_samples:
            get = sample.get if isinstance(sample, dict) else lambda k: getattr(sample, k)
            self.results.append((int(get('pred_label').reshape(-1)[0]),
                                 int(get('gt_label').reshape(-1)[0])))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        pred, gt = np.array(results, dtype=np.int64).reshape(-1, 2).T
        metrics = {'top1': float((pred == gt).mean() * 100) if len(gt) else float('nan')}
        classes = (self.dataset_meta or {}).get('classes') or ()
        for label, name in enumerate(classes):
            hit = pred[gt == label] == label
            metrics[str(name)] = float(hit.mean() * 100) if hit.size else float('nan')
        return metrics
