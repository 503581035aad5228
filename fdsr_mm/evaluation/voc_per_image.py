"""Per-image VOC records of one cascade method, for paired bootstrap intervals of mAP differences.

mmdet's ``VOCMetric`` (``eval_map``) matches each image's detections to that image's ground
truth independently of the other images (``tpfp_default``), then pools the matches of all images
per class, sorts them by score and integrates precision over recall. So the matching runs once
per method (:func:`evaluate_voc_per_image`), and the mAP of any multiset of images is the pooled
integration of the drawn images' records (:meth:`VOCPerImageEval.score`); on all images it
equals ``VOCMetric``'s mAP.

:class:`DumpVOCPerImage` is an mmdet metric the cascade adds beside ``VOCMetric``: it keeps
exactly what ``VOCMetric.process`` keeps (GT boxes in the test image's pixels, xyxy; detections
per class, ``(n, 5)`` xyxy + score) and writes it, with the image ids, to a pickle. Each kept
record carries its own image id, so under ``--launcher pytorch`` the records gathered from all
ranks (mmengine's ``collect_results``, dataset order) keep their images. It is configured with
the very settings of the ``VOCMetric`` it accompanies (:func:`voc_dump_metrics`: ``eval_mode``,
``iou_thrs``; VOCMetric's own defaults where the config leaves them out), so the records give the
mAP the table shows.
"""
import pickle
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmdet.evaluation.functional import average_precision
from mmdet.evaluation.functional.mean_ap import get_cls_results, tpfp_default
from mmdet.evaluation.metrics import VOCMetric
from mmdet.registry import METRICS

from fdsr_mm.utils.io import atomic_write


@METRICS.register_module()
class DumpVOCPerImage(VOCMetric):
    """Write ``VOCMetric``'s per-image inputs (GT and detections) to ``out_file``; no metric.

    Args:
        out_file (str): The pickle to write (atomically): ``dict(img_ids, results, eval_mode,
            iou_thrs, classes)`` where ``results[i] = (ann, dets)`` as in ``VOCMetric`` and
            ``img_ids[i]`` is the id of the image of ``results[i]``, in dataset order.
        **kwargs: ``VOCMetric``'s arguments (``eval_mode``, ``iou_thrs``, ...), those of the
            ``VOCMetric`` it accompanies; left out, VOCMetric's defaults (``'11points'``, 0.5).
    """

    def __init__(self, out_file: str, **kwargs) -> None:
        super().__init__(**kwargs)
        if self.scale_ranges is not None:
            raise ValueError('DumpVOCPerImage: per-image records give the mAP over all box '
                             f'sizes only, not per scale range ({self.scale_ranges}).')
        self.out_file = out_file

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep ``(img_id, ann, dets)`` per sample: the image id travels with its record
        through mmengine's gathering of all ranks' results."""
        start = len(self.results)
        super().process(data_batch, data_samples)
        for k, sample in enumerate(data_samples):
            self.results[start + k] = (sample.get('img_id'), ) + tuple(self.results[start + k])

    def compute_metrics(self, results: list) -> dict:
        """Write the gathered records (all ranks', dataset order) to ``out_file``; returns {}."""
        payload = dict(img_ids=[r[0] for r in results], results=[tuple(r[1:]) for r in results],
                       eval_mode=self.eval_mode, iou_thrs=list(self.iou_thrs),
                       classes=list(self.dataset_meta.get('classes', ())))
        atomic_write(self.out_file, lambda f: pickle.dump(payload, f))
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
    if len(payload['img_ids']) != len(payload['results']):
        raise ValueError(
            f"{dump_file}: {len(payload['img_ids'])} image ids for {len(payload['results'])} "
            'per-image records (a dump of a multi-process run by fdsr_mm before the ids '
            'travelled with the records): rerun the cascade to rewrite it.')
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
    """A :class:`DumpVOCPerImage` config beside the first ``VOCMetric`` mAP config, or none.

    The dump gets every setting of that ``VOCMetric`` config (``eval_mode``, ``iou_thrs``, ...);
    what the config leaves out takes ``VOCMetric``'s own defaults, as the dump is a
    ``VOCMetric``. A ``VOCMetric`` with ``scale_ranges`` gets no dump (its mAP is not a pooled
    mAP over all boxes), so its bootstrap verdicts read "could not be checked".
    """
    for ev in evaluators:
        if ev.get('type') in ('VOCMetric', 'mmdet.VOCMetric') and ev.get('metric', 'mAP') in (
                'mAP', ['mAP']):
            if ev.get('scale_ranges') is not None:
                return []
            settings = {k: v for k, v in dict(ev).items() if k not in ('type', 'prefix')}
            return [dict(settings, type='DumpVOCPerImage', out_file=out_file)]
    return []
