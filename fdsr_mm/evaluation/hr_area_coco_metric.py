"""mmdet's CocoMetric for the LR sets of :func:`fdsr_mm.datasets.write_lr_coco`, every area in
HR pixels, so that APS/APM/APL equal the cascade's (see :mod:`fdsr_mm.datasets.lr_coco`)."""
from typing import Optional

from mmdet.datasets.api_wrappers import COCO
from mmdet.evaluation.metrics import CocoMetric
from mmdet.registry import METRICS

from fdsr_mm.datasets.lr_coco import AREA_NOTE


def hr_area_factor(coco: dict) -> float:
    """How much larger HR-equivalent areas are than LR pixel areas in a json of this module:
    ``scale**2`` when its ``info['fdsr_mm_lr']`` states HR areas, else 1 (any other json)."""
    lr = (coco.get('info') or {}).get('fdsr_mm_lr') or {}
    return float(lr['scale']) ** 2 if lr.get('area') == AREA_NOTE else 1.0



class _HRAreaCOCO(COCO):
    """The ground-truth api of an LR json whose ``loadRes`` gives detections HR-equivalent
    areas (``w * h * area_factor``), as its ground truth has."""
    area_factor = 1.0

    def loadRes(self, resFile):  # noqa: N802,N803 (pycocotools' names)
        res = super().loadRes(resFile)
        for ann in res.dataset['annotations']:
            ann['area'] = ann['area'] * self.area_factor
        return res


@METRICS.register_module()
class HRAreaCocoMetric(CocoMetric):
    """mmdet's CocoMetric for an LR set of :func:`write_lr_coco`: every area in HR pixels.

    The LR json's ground-truth areas are HR-equivalent; COCOeval computes a detection's area
    from its (LR) box and bins an unmatched detection by it. Here detections get
    ``w * h * scale**2`` too (``scale`` from the json's ``info['fdsr_mm_lr']``; factor 1 for any
    other json), so APS/APM/APL equal those of the same boxes in HR pixels scored against the
    HR annotations (the cascade's route). ``test_evaluator.type='HRAreaCocoMetric'``; needs
    ``ann_file`` (the LR json).
    """

    def __init__(self, ann_file: Optional[str] = None, **kwargs):
        if not ann_file:
            raise ValueError('HRAreaCocoMetric needs ann_file: the LR json written by '
                             'tools/make_lr_coco.py.')
        super().__init__(ann_file=ann_file, **kwargs)
        api = _HRAreaCOCO.__new__(_HRAreaCOCO)
        api.__dict__.update(self._coco_api.__dict__)  # the json loaded above, not read again
        api.area_factor = hr_area_factor(api.dataset)
        self._coco_api = api
