"""Per-image VOC records of one cascade method, for paired bootstrap intervals of mAP differences.

mmdet's ``VOCMetric`` (``eval_map``) matches each image's detections to that image's ground
truth independently of the other images (``tpfp_default``), then pools the matches of all images
per class, sorts them by score and integrates precision over recall. So the matching runs once
per method (:func:`evaluate_voc_per_image`), and the mAP of any multiset of images is the pooled
integration of the drawn images' records (:meth:`VOCPerImageEval.score`); on all images it
equals ``VOCMetric``'s mAP.

:class:`DumpVOCPerImage` is an mmdet metric the cascade adds beside ``VOCMetric``: it keeps
exactly what ``VOCMetric.process`` keeps (GT boxes in the test image's pixels, xyxy; detections
per class, ``(n, 5)`` xyxy + score) and writes it, with the image ids, to a pickle.
"""
import os
import os.path as osp
import pickle
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmdet.evaluation.functional import average_precision
from mmdet.evaluation.functional.mean_ap import get_cls_results, tpfp_default
from mmdet.evaluation.metrics import VOCMetric
from mmdet.registry import METRICS


@METRICS.register_module()
class DumpVOCPerImage(VOCMetric):
    """Write ``VOCMetric``'s per-image inputs (GT and detections) to ``out_file``; no metric.

    Args:
        out_file (str): The pickle to write (atomically): ``dict(img_ids, results, eval_mode,
            iou_thrs, classes)`` where ``results[i] = (ann, dets)`` as in ``VOCMetric``.
        eval_mode, iou_thrs: Those of the ``VOCMetric`` it accompanies.
    """

    def __init__(self, out_file: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.out_file = out_file
        self.img_ids: List = []

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        super().process(data_batch, data_samples)
        self.img_ids.extend(s.get('img_id') for s in data_samples)

    def compute_metrics(self, results: list) -> dict:
        payload = dict(img_ids=list(self.img_ids), results=list(results),
                       eval_mode=self.eval_mode, iou_thrs=list(self.iou_thrs),
                       classes=list(self.dataset_meta.get('classes', ())))
        self.img_ids = []
        os.makedirs(osp.dirname(osp.abspath(self.out_file)), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=osp.dirname(osp.abspath(self.out_file)), suffix='.tmp')
        with os.fdopen(fd, 'wb') as f:
            pickle.dump(payload, f)
        os.replace(tmp, self.out_file)
        return {}


@dataclass
class VOCPerImageEval:
    """Per-image, per-class matches of one method at each IoU threshold.

    Attributes:
        img_ids: Image ids in dataset order (resample indices refer to it).
        records: ``records[t][c][i] = (scores (n,), tp (n,), fp (n,), num_gt)`` for IoU
            threshold ``t``, class ``c``, image ``i``.
        eval_mode: ``'11points'`` or ``'area'``.
    """
    img_ids: List
    records: List[List[List[tuple]]]
    eval_mode: str

    @property
    def num_images(self) -> int:
        return len(self.img_ids)

    def score(self, image_indices: Optional[Sequence[int]] = None, key: str = 'mAP') -> float:
        """mAP in percent (mean over IoU thresholds of the mean AP over classes with GT)."""
        if key != 'mAP':
            raise KeyError(f'VOC per-image records give mAP only, not {key!r}.')
        idx = (np.arange(self.num_images) if image_indices is None else
               np.sort(np.asarray(image_indices)))
        per_thr = []
        for per_cls in self.records:
            aps = []
            for per_img in per_cls:
                drawn = [per_img[i] for i in idx]
                num_gt = sum(r[3] for r in drawn)
                if num_gt == 0:
                    continue
                scores = np.concatenate([r[0] for r in drawn])
                order = np.argsort(-scores)  # eval_map's sort, on the same pooled order
                # (1, n) arrays and a (1, 1) GT count: eval_map's shapes, hence its dtypes
                tp = np.cumsum(np.concatenate([r[1] for r in drawn])[None, order], axis=1)
                fp = np.cumsum(np.concatenate([r[2] for r in drawn])[None, order], axis=1)
                eps = np.finfo(np.float32).eps
                recalls = tp / np.maximum(np.array([[num_gt]]), eps)
                precisions = tp / np.maximum(tp + fp, eps)
                aps.append(average_precision(recalls[0], precisions[0], self.eval_mode))
            # float32 APs averaged as eval_map does, then VOCMetric's mean over thresholds
            per_thr.append(np.array(aps).mean().item() if aps else 0.0)
        return 100. * (sum(per_thr) / len(per_thr))


def evaluate_voc_per_image(dump_file: str) -> VOCPerImageEval:
    """Match each image's detections to its GT once (mmdet's ``tpfp_default``, VOC legacy
    coordinates), from a :class:`DumpVOCPerImage` pickle."""
    with open(dump_file, 'rb') as f:
        payload = pickle.load(f)
    gts, dets = zip(*payload['results']) if payload['results'] else ((), ())
    num_classes = len(dets[0]) if dets else 0
    records = []
    for iou_thr in payload['iou_thrs']:
        per_cls = []
        for c in range(num_classes):
            cls_dets, cls_gts, cls_ignore = get_cls_results(dets, gts, c)
            per_img = []
            for d, g, ig in zip(cls_dets, cls_gts, cls_ignore):
                tp, fp = tpfp_default(d, g, ig, iou_thr, None, use_legacy_coordinate=True)
                per_img.append((d[:, -1], tp[0], fp[0], int(g.shape[0])))
            per_cls.append(per_img)
        records.append(per_cls)
    return VOCPerImageEval(list(payload['img_ids']), records, payload['eval_mode'])


def voc_dump_metrics(evaluators: List[dict], out_file: str) -> List[Dict]:
    """A :class:`DumpVOCPerImage` config for the first ``VOCMetric`` mAP config, or none."""
    for ev in evaluators:
        if ev.get('type') in ('VOCMetric', 'mmdet.VOCMetric') and ev.get('metric', 'mAP') in (
                'mAP', ['mAP']):
            return [dict(type='DumpVOCPerImage', out_file=out_file,
                         eval_mode=ev.get('eval_mode', 'area'),
                         iou_thrs=ev.get('iou_thrs', 0.5))]
    return []
