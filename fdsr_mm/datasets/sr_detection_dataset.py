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

Annotation checks (:class:`AnnotationAudit`, while mmdet parses, so its ``filter_cfg`` sees the
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
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine import MMLogger
from mmengine.dataset import BaseDataset
from mmengine.fileio import get as get_file
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

from mmagic.datasets.transforms import PackInputs
from mmagic.registry import DATASETS, TRANSFORMS
from ..utils.cli_errors import ToolError
from .transforms import BicubicDegradation

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


def _examples(files: Sequence[str], n: int = 3) -> str:
    """``'a.xml, b.xml, c.xml and 4 more'`` (at most ``n`` names)."""
    files = list(dict.fromkeys(files))
    text = ', '.join(files[:n])
    return text + (f' and {len(files) - n} more' if len(files) > n else '')


def clip_instances(info: dict) -> tuple:
    """Clip the boxes of one mmdet data info to its image; drop those with no area left.

    Args:
        info: An mmdet data info with ``width``, ``height`` (pixels) and ``instances``, each with
            ``bbox`` [x0, y0, x1, y1] in the original image's pixels (changed in place).

    Returns:
        tuple: ``(clipped, dropped)`` numbers of boxes: ``clipped`` were partly outside
        ``[0, width] x [0, height]`` and now end at its border; ``dropped`` had no area inside it
        (entirely outside, x1 <= x0 or y1 <= y0 after clipping, or not finite) and are removed.
    """
    width, height = info.get('width'), info.get('height')
    if not width or not height or 'instances' not in info:
        return 0, 0
    kept, clipped, dropped = [], 0, 0
    for inst in info['instances']:
        box = np.asarray(inst['bbox'], dtype=np.float64).reshape(-1)
        if box.size != 4 or not np.isfinite(box).all():
            dropped += 1
            continue
        new = np.clip(box, 0, [width, height, width, height])
        if new[2] <= new[0] or new[3] <= new[1]:
            dropped += 1
            continue
        if not np.array_equal(new, box):
            clipped += 1
            inst['bbox'] = [float(v) for v in new]
        kept.append(inst)
    info['instances'] = kept
    return clipped, dropped


class AnnotationAudit:
    """Checks the annotations while an mmdet dataset parses them, and reports what it changed.

    Installed on one mmdet dataset instance (its ``parse_data_info`` is wrapped; nothing else of
    mmdet changes). Per parsed image it:

    - refuses an annotation mmdet cannot parse (malformed XML, missing elements, ...) with a
      :class:`~fdsr_mm.utils.ToolError` naming the file;
    - for COCO (on the first image, when the categories are known): refuses a json whose
      categories matching ``classes``, in the json's order, are not exactly ``classes``;
    - counts the objects whose class is not in ``classes`` (mmdet leaves them out silently):
      VOC ``<name>``s, COCO annotations of other categories;
    - clips the boxes to the image and drops those with no area (:func:`clip_instances`;
      COCO boxes without area inside the image, which mmdet drops itself, are counted too).

    :meth:`report` logs one WARNING line per kind of change, with counts and example files.

    Args:
        det: The mmdet dataset (``XMLDataset`` / ``VOCDataset``, ``CocoDataset``, ...), before
            ``full_init()``.
    """

    def __init__(self, det):
        self.det = det
        self.classes = tuple(det.metainfo.get('classes', ()))
        self.unknown = Counter()  # class name -> objects left out
        self.unknown_files: List[str] = []
        self.clipped = self.dropped = 0
        self.box_files: List[str] = []
        self._categories_checked = False
        self._parse = det.parse_data_info
        det.parse_data_info = self.parse_data_info  # this instance only

    def _where(self, raw: dict) -> str:
        """The file an image's annotation comes from (the XML, or the json and image name)."""
        if raw.get('xml_path'):
            return str(raw['xml_path'])
        img = raw.get('raw_img_info', {}).get('file_name', raw.get('img_id', '?'))
        return f'{self.det.ann_file}, image {img}'

    def check_coco_categories(self) -> None:
        """Refuse COCO categories whose order (the labels mmdet gives) disagrees with
        ``classes``; needs ``det.coco`` and ``det.cat_ids`` (set before the first parse)."""
        self._categories_checked = True
        coco, cat_ids = getattr(self.det, 'coco', None), getattr(self.det, 'cat_ids', None)
        if coco is None or cat_ids is None:
            return
        label_names = [coco.cats[c]['name'] for c in cat_ids]  # label i -> this json name
        if label_names == list(self.classes):
            return
        json_order = [c['name'] for c in coco.cats.values()]
        missing = [c for c in self.classes if c not in json_order]
        raise ToolError(
            'the json categories do not give the config\'s classes their labels (mmdet numbers '
            'the categories in the json\'s order, the names in the classes\' order): json order '
            f'{json_order}, classes {list(self.classes)}'
            + (f', not in the json: {missing}' if missing else ''),
            str(self.det.ann_file),
            'list metainfo.classes in the json\'s order (or reorder the json\'s categories), '
            'with every class present exactly once')

    def _count_left_out(self, raw: dict, where: str) -> int:
        """Count the objects of ``raw`` that mmdet leaves out: those whose class is not in
        ``classes`` (recorded here) and, for COCO, the boxes without area inside the image
        (``bbox`` entirely outside, width or height < 1, ``area`` <= 0), whose number is
        returned."""
        names, no_area = [], 0
        if raw.get('xml_path'):
            root = ET.fromstring(get_file(raw['xml_path'],
                                          backend_args=getattr(self.det, 'backend_args', None)))
            names = [o.findtext('name') or '' for o in root.findall('object')]  # as mmdet
        elif 'raw_ann_info' in raw and getattr(self.det, 'cat2label', None) is not None:
            cats = getattr(getattr(self.det, 'coco', None), 'cats', {})
            img = raw.get('raw_img_info', {})
            for a in raw['raw_ann_info']:
                if a['category_id'] not in self.det.cat2label:
                    names.append(cats.get(a['category_id'], {}).get('name',
                                                                   f'id {a["category_id"]}'))
                elif not a.get('ignore', False):
                    x, y, w, h = a['bbox']
                    inside_w = min(x + w, img.get('width', x + w)) - max(x, 0)
                    inside_h = min(y + h, img.get('height', y + h)) - max(y, 0)
                    no_area += (inside_w <= 0 or inside_h <= 0 or w < 1 or h < 1
                                or a.get('area', 1) <= 0)
        unknown = [n for n in names if n not in self.classes]
        if unknown:
            self.unknown.update(unknown)
            self.unknown_files.append(where)
        return no_area

    def parse_data_info(self, raw: dict):
        """mmdet's ``parse_data_info`` of one image, checked (see the class docstring)."""
        if not self._categories_checked:
            self.check_coco_categories()
        where = self._where(raw)
        try:
            parsed = self._parse(raw)
            dropped_by_mmdet = self._count_left_out(raw, where)
        except ToolError:
            raise
        except Exception as e:  # ET.ParseError, AttributeError (missing element), ValueError
            raise ToolError(f'cannot parse the annotation ({type(e).__name__}: {e})', where,
                            'fix or regenerate the file, or remove the image from the list') \
                from e
        self.dropped += dropped_by_mmdet
        if dropped_by_mmdet:
            self.box_files.append(where)
        for info in parsed if isinstance(parsed, list) else [parsed]:
            clipped, dropped = clip_instances(info)
            self.clipped += clipped
            self.dropped += dropped
            if clipped or dropped:
                self.box_files.append(where)
        return parsed

    def report(self, who: str = 'SRDetectionDataset') -> None:
        """Log one WARNING line per kind of change (nothing when the annotations were clean)."""
        logger = MMLogger.get_current_instance()
        if self.unknown:
            counts = ', '.join(f'{n!r}: {c}' for n, c in self.unknown.most_common())
            logger.warning(
                f'{who}: left out {sum(self.unknown.values())} objects of classes not in the '
                f'config\'s classes ({counts}) in {len(set(self.unknown_files))} files, e.g. '
                f'{_examples(self.unknown_files)}; add them to metainfo.classes to train on them.')
        if self.clipped or self.dropped:
            logger.warning(
                f'{who}: clipped {self.clipped} boxes to their image and dropped {self.dropped} '
                'boxes with no area inside it (entirely outside, zero width or height) in '
                f'{len(set(self.box_files))} files, e.g. {_examples(self.box_files)}.')


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
