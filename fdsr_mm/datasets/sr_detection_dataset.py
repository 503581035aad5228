"""HR images with their detection boxes as SR training pairs, for task-driven SR (TDSR).

Task-driven SR (Haris et al. 2018; FDSR paper Table 3) trains the SR generator through a frozen
detector's own loss, so each training sample needs the HR target, the LR input *and* the HR
image's boxes, all after the same geometric transform. :class:`SRDetectionDataset` parses COCO json
or VOC XML with MMDetection's own dataset classes and runs a pipeline that mixes MMDetection's box
transforms with two small transforms of ours::

    mmdet.LoadImageFromFile        img: (H0, W0, 3) uint8 BGR (OpenCV decode, mmcv's loader)
    mmdet.LoadAnnotations          gt_bboxes (HorizontalBoxes, xyxy px), gt_bboxes_labels,
                                   gt_ignore_flags (VOC difficult / COCO iscrowd)
    mmdet.Resize (300x300)         img and boxes scaled together
    mmdet.RandomFlip               img and boxes flipped together
    DetImageToSRPair (scale 4)     gt = HR in RGB; img = LR = the shared training bicubic x1/4
    PackSRDetInputs                mmagic DataSample(gt_img, gt_instances) + LR inputs

Channel order at the boundary: mmdet/mmcv load BGR; the SR pipelines of this project load RGB
(``channel_order='rgb'``, see ``configs/_base_/datasets/coco_sr_x4.py``). ``DetImageToSRPair``
converts the (resized, flipped) BGR image to RGB before the LR image is made, and records
``gt_channel_order = img_channel_order = 'rgb'``, so MMagic's ``DataPreprocessor(mean=0, std=255)``
hands the generator RGB in [0, 1] exactly as for the plain SR datasets.

Annotation checks (:class:`~.annotation_checks.AnnotationAudit`, while mmdet parses, so its ``filter_cfg`` sees the
result): an annotation file that cannot be parsed (malformed XML, a missing ``bndbox``) is refused
naming the file; boxes are clipped to their image and boxes with no area inside it (entirely
outside, or zero width/height: a zero-size target makes the detector's box loss inf) are dropped,
and objects of classes that are not in the config's ``classes`` (which mmdet leaves out) are
counted; both are reported as one WARNING line each, with counts and example files. A COCO json
whose categories, in the json's order, are not exactly the config's ``classes`` is refused:
mmdet numbers the json's categories in the json's order and the names in the ``classes`` order,
so the boxes would get another class's label.
"""
import copy
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.dataset import BaseDataset
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

from mmagic.datasets.transforms import PackInputs
from mmagic.registry import DATASETS, TRANSFORMS

from fdsr_mm.datasets.annotation_checks import AnnotationAudit
from fdsr_mm.datasets.transforms.bicubic import BicubicDegradation

#: Metainfo keys of the detection side that ``PackSRDetInputs`` keeps by default (those present).
DET_META_KEYS = ('img_id', 'scale_factor', 'flip', 'flip_direction')


def build_det_dataset(cfg: dict, test_mode: bool, lazy_init: bool = True):
    """Build an MMDetection dataset (``CocoDataset``, ``VOCDataset``, ...) used for parsing only.

    Args:
        cfg: The mmdet dataset config (``type``, ``data_root``, ``ann_file``, ``data_prefix``,
            ``metainfo``, ``filter_cfg``, ...). Its ``type`` is looked up in MMDetection's
            registry (``'CocoDataset'`` or ``'mmdet.CocoDataset'``). It must not carry a
            ``pipeline``: the pipeline belongs to :class:`SRDetectionDataset`.
        test_mode: Passed to the mmdet dataset (mmdet's ``filter_cfg`` applies when False).
        lazy_init: Build without reading the annotation file yet.

    Returns:
        mmdet.datasets.BaseDetDataset: The dataset, with an empty pipeline.
    """
    import mmdet.datasets  # noqa: F401  (registers mmdet's datasets)
    from mmdet.registry import DATASETS as MMDET_DATASETS
    cfg = copy.deepcopy(dict(cfg))
    if cfg.get('pipeline'):
        raise ValueError('SRDetectionDataset: give the pipeline to SRDetectionDataset, not to '
                         f'its det_dataset ({cfg.get("type")}); det_dataset is used for parsing '
                         'the annotations only.')
    cfg.update(pipeline=[], test_mode=test_mode, lazy_init=lazy_init)
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MMDET_DATASETS.build(cfg)


@DATASETS.register_module()
class SRDetectionDataset(BaseDataset):
    """HR images with their boxes (COCO json or VOC XML, parsed by MMDetection) for TDSR training.

    The annotations are parsed by the MMDetection dataset described by ``det_dataset`` and
    checked by :class:`AnnotationAudit` (unparsable files and a COCO category order that
    disagrees with ``classes`` are refused; boxes clipped to their image, boxes without area
    dropped, objects of other classes counted, both reported); each data info is mmdet's
    (``img_path``, ``img_id``, ``height``, ``width``, ``instances`` with ``bbox`` xyxy in
    original pixels, 0-based ``bbox_label`` and ``ignore_flag``), so mmdet's
    ``LoadAnnotations`` / ``Resize`` / ``RandomFlip`` run on it unchanged. The metainfo (``classes``
    etc.) is the mmdet dataset's, updated by ``metainfo``.

    Args:
        det_dataset (dict): An MMDetection dataset config without pipeline, e.g.
            ``dict(type='VOCDataset', data_root='data/VOCdevkit/',
            ann_file='VOC2007/ImageSets/Main/trainval.txt',
            data_prefix=dict(sub_data_root='VOC2007/'), filter_cfg=dict(filter_empty_gt=True))``.
        pipeline (list): The transforms (see the module docstring for the TDSR one).
        metainfo (dict, optional): Extra metainfo, e.g. ``dict(task_name='sisr')``.
        test_mode (bool): Passed to the mmdet dataset (no ``filter_cfg`` filtering when True).
        lazy_init (bool): Defer reading the annotations to the first access.
        max_refetch (int): As in ``mmengine.dataset.BaseDataset``.
    """

    def __init__(self,
                 det_dataset: dict,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 metainfo: Optional[dict] = None,
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 max_refetch: int = 1000):
        self._det_dataset = build_det_dataset(det_dataset, test_mode, lazy_init=True)
        det_metainfo = self._det_dataset.metainfo
        super().__init__(pipeline=list(pipeline), test_mode=test_mode, lazy_init=lazy_init,
                         max_refetch=max_refetch)
        # Set directly: BaseDataset would try every string value ('VOC2007') as a file name.
        self._metainfo.update(det_metainfo)
        self._metainfo.update(copy.deepcopy(metainfo or {}))

    def load_data_list(self) -> List[dict]:
        """Parse the annotations with the mmdet dataset (including its ``filter_cfg``), checked
        and cleaned by :class:`AnnotationAudit` (which logs what it changed).

        Returns:
            list[dict]: mmdet data infos, one per image, in the mmdet dataset's order.
        """
        det = self._det_dataset
        audit = AnnotationAudit(det)
        det.full_init()
        audit.report(type(self).__name__)
        data_list = [det.get_data_info(i) for i in range(len(det))]
        self._det_dataset = None  # the infos now live (serialized) in this dataset only
        return data_list


@TRANSFORMS.register_module()
class DetImageToSRPair(BaseTransform):
    """Turn the transformed detection image into the SR pair: HR RGB target + bicubic LR input.

    Runs after mmdet's geometric transforms, so the HR target, the LR input and the boxes share
    one geometry. The LR image is made by :class:`~fdsr_mm.datasets.BicubicDegradation`, the
    MATLAB-like bicubic x1/scale used by every SR training pipeline and by the cascade.

    Required keys: ``img`` ((H, W, 3) uint8 in ``in_channel_order``, H and W multiples of
    ``scale``, as left by ``mmdet.Resize`` / ``mmdet.RandomFlip``).
    Modified keys: ``img`` becomes the LR input, (H/scale, W/scale, 3) uint8 RGB.
    Added keys: ``gt`` (the HR target, (H, W, 3) uint8 RGB), ``gt_path`` (= ``img_path``, the
    HR file, as in MMagic's SR samples), ``scale`` (int), ``gt_channel_order`` /
    ``img_channel_order`` (``'rgb'``), ``gt_color_type`` / ``img_color_type`` (``'color'``).
    Boxes and ``img_shape`` (the HR size, which the boxes refer to, as in mmdet) are left
    untouched.

    Args:
        scale (int): SR factor (4: 300x300 HR -> 75x75 LR in the paper's Table 3 setting).
        in_channel_order (str): Channel order of the incoming ``img``: ``'bgr'`` for mmdet/mmcv's
            ``LoadImageFromFile`` (the default), ``'rgb'`` if it was loaded as RGB.
    """

    def __init__(self, scale: int = 4, in_channel_order: str = 'bgr'):
        if in_channel_order not in ('bgr', 'rgb'):
            raise ValueError(f"in_channel_order must be 'bgr' or 'rgb', got {in_channel_order!r}.")
        self.scale = scale
        self.in_channel_order = in_channel_order
        self._degrade = BicubicDegradation(scale=scale, gt_key='gt', lq_key='img')

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f'DetImageToSRPair expects an (H, W, 3) uint8 image, got '
                             f'{img.shape} {img.dtype} ({results.get("img_path")}).')
        if self.in_channel_order == 'bgr':
            img = img[..., ::-1]
        results['gt'] = np.ascontiguousarray(img)
        results['gt_path'] = results.get('img_path')  # as MMagic's SR samples (visualizers)
        results['gt_channel_order'], results['gt_color_type'] = 'rgb', 'color'
        return self._degrade.transform(results)

    def __repr__(self):
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'in_channel_order={self.in_channel_order!r})')


def _instances(results: dict, keep: np.ndarray) -> InstanceData:
    """The boxes and labels of ``results`` selected by the boolean mask ``keep``.

    Returns:
        InstanceData: ``bboxes`` float32 (K, 4) xyxy in the HR pixel coordinates, ``labels``
        int64 (K,) 0-based class indices.
    """
    boxes = results.get('gt_bboxes', np.zeros((0, 4), np.float32))
    boxes = boxes.tensor if hasattr(boxes, 'tensor') else torch.as_tensor(boxes)  # HorizontalBoxes
    boxes = boxes.reshape(-1, 4).to(torch.float32)
    labels = torch.as_tensor(results.get('gt_bboxes_labels', np.zeros(0, np.int64)),
                             dtype=torch.int64).reshape(-1)
    if len(boxes) != len(labels) or len(keep) != len(boxes):
        raise ValueError(f'{len(boxes)} boxes, {len(labels)} labels and {len(keep)} ignore flags '
                         f'for {results.get("img_path")}: load boxes and labels together '
                         '(mmdet.LoadAnnotations with_bbox=True, with_label=True).')
    keep = torch.as_tensor(keep, dtype=torch.bool)
    return InstanceData(bboxes=boxes[keep].clone(), labels=labels[keep].clone())


@TRANSFORMS.register_module()
class PackSRDetInputs(BaseTransform):
    """MMagic ``PackInputs`` for the SR pair plus the boxes as ``gt_instances``.

    Required keys: ``img`` (LR, (h, w, 3) uint8 RGB), ``gt`` (HR, (H, W, 3) uint8 RGB), the
    channel-order keys of :class:`DetImageToSRPair`; ``gt_bboxes`` (HorizontalBoxes or (K, 4)
    array, xyxy in HR pixels), ``gt_bboxes_labels`` ((K,) int) and ``gt_ignore_flags`` ((K,)
    bool), as left by mmdet's ``LoadAnnotations`` / ``Resize`` / ``RandomFlip``.

    Returns ``dict(inputs, data_samples)`` where ``inputs`` is the LR image (3, h, w) uint8 RGB and
    ``data_samples`` an mmagic ``DataSample`` with, exactly as MMagic's ``PackInputs`` packs a
    plain SR sample, ``gt_img`` (3, H, W) uint8 RGB and the metainfo ``gt_channel_order`` /
    ``img_channel_order`` (``'rgb'``), ``img_path`` = ``gt_path`` (the HR file), ``ori_shape``
    (original (H0, W0)), ``img_shape`` (the HR (H, W) the boxes refer to, as in mmdet),
    ``sample_idx``, and ``meta_keys`` (those present); plus

    - ``gt_instances``: ``InstanceData(bboxes=FloatTensor (K, 4) xyxy in ``gt_img``'s pixel
      coordinates, labels=LongTensor (K,) 0-based class indices)``, the boxes whose
      ``gt_ignore_flags`` is False (K may be 0);
    - ``ignored_instances``: the same for the ignored boxes (VOC ``difficult``, COCO ``iscrowd``),
      as in mmdet's ``PackDetInputs``; the task loss may pass them to mmdet as
      ``batch_gt_instances_ignore`` or leave them out.

    After MMagic's collate and ``DataPreprocessor`` (``DataSample.stack``), ``gt_instances`` and
    ``ignored_instances`` are lists of N ``InstanceData``.

    Args:
        meta_keys (Sequence[str]): Detection metainfo kept when present (default
            :data:`DET_META_KEYS`: ``img_id``, ``scale_factor`` (w, h), ``flip``,
            ``flip_direction``).
    """

    def __init__(self, meta_keys: Sequence[str] = DET_META_KEYS):
        self.meta_keys = tuple(meta_keys)
        self._pack = PackInputs(keys=['img'], meta_keys=list(self.meta_keys))

    def transform(self, results: dict) -> dict:
        for key in ('img', 'gt'):
            if key not in results:
                raise KeyError(f'PackSRDetInputs needs {key!r}: put DetImageToSRPair before it.')
        packed = self._pack.transform(results)
        n = len(results.get('gt_bboxes_labels', ()))
        ignore = np.asarray(results.get('gt_ignore_flags', np.zeros(n, bool)), dtype=bool)
        sample = packed['data_samples']
        sample.gt_instances = _instances(results, ~ignore)
        sample.ignored_instances = _instances(results, ignore)
        return packed

    def __repr__(self):
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
