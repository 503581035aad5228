"""Object crops of a COCO-format detection set as an image-classification set.

The miniature study's "ImageNet classifier" prior: a backbone trained to name the category of one
object crop, on the crops of the synthetic detection train set (``tools/make_synthetic_coco.py``).
One sample per annotated object (crowd boxes skipped); the pipeline crops the box with a context
margin (:class:`CropObjectBox`), resizes it (mmdet ``Resize``) and packs it
(:class:`PackCropInputs`). Image values stay what ``LoadImageFromFile`` gives: BGR uint8 in
[0, 255]; the classifier's data preprocessor normalizes them like the detector's.
"""
import copy
import math
from typing import List

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement

from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS, TRANSFORMS


@DATASETS.register_module()
class ObjectCropDataset(CocoDataset):
    """One sample per non-crowd object of a COCO json, labelled with its category index.

    Arguments are those of mmdet's ``CocoDataset`` (``ann_file``, ``data_root``,
    ``data_prefix=dict(img=...)``, ``metainfo=dict(classes=...)``, ``pipeline``); ``classes``
    fix the label order (label ``i`` = ``classes[i]``). Objects with an empty box, zero area or a
    category outside ``classes`` are skipped as ``CocoDataset`` skips them.

    Order (deterministic): images in the order of the json's ``images``, objects of an image in
    the order of its ``annotations``. Each sample holds ``img_path``, ``img_id``, ``height``,
    ``width``, ``object_index`` (position among the image's kept objects), ``bbox``
    ``[x1, y1, x2, y2]`` (pixels, x2/y2 exclusive, as mmdet's boxes) and ``gt_label`` (int).
    """

    def load_data_list(self) -> List[dict]:
        """Flatten CocoDataset's per-image records into one record per object."""
        crops = []
        for image in super().load_data_list():
            base = {k: image[k] for k in ('img_path', 'img_id', 'height', 'width')}
            for index, inst in enumerate(i for i in image['instances'] if not i['ignore_flag']):
                crops.append(dict(base, object_index=index, bbox=list(map(float, inst['bbox'])),
                                  gt_label=int(inst['bbox_label'])))
        return crops

    def filter_data(self) -> List[dict]:
        """Keep every object (image-level filters of a detection set do not apply)."""
        return self.data_list

    def get_cat_ids(self, idx: int) -> List[int]:
        """The label of sample ``idx``, as a one-element list (for class-aware samplers)."""
        return [self.get_data_info(idx)['gt_label']]


def context_region(bbox, margin: float, height: int, width: int):
    """Integer crop window ``(x1, y1, x2, y2)`` (x2/y2 exclusive) of a box plus a margin.

    The box ``[x1, y1, x2, y2]`` grows by ``margin`` x its width (height) on the left and right
    (top and bottom), is rounded outwards to whole pixels and clipped to the image.
    """
    x1, y1, x2, y2 = map(float, bbox)
    mx, my = margin * (x2 - x1), margin * (y2 - y1)
    left, top = max(0, math.floor(x1 - mx)), max(0, math.floor(y1 - my))
    right, bottom = min(width, math.ceil(x2 + mx)), min(height, math.ceil(y2 + my))
    if right <= left or bottom <= top:
        raise ValueError(f'box {bbox} lies outside the {width}x{height} image')
    return left, top, right, bottom


@TRANSFORMS.register_module()
class CropObjectBox(BaseTransform):
    """Crop ``results['img']`` to ``results['bbox']`` plus a context margin.

    Required keys: ``img`` (H, W, C) array, ``bbox`` ``[x1, y1, x2, y2]`` in its pixels.
    Modified keys: ``img`` (the crop, same dtype and channel order), ``img_shape``.
    Added keys: ``crop_region`` ``(x1, y1, x2, y2)``, the integer window taken (x2/y2
    exclusive): ``img[y1:y2, x1:x2]`` of the loaded image, see :func:`context_region`.

    Args:
        margin (float): context on each side, as a fraction of the box side (0 = the box only).
    """

    def __init__(self, margin: float = 0.1) -> None:
        if margin < 0:
            raise ValueError(f'margin must be >= 0, got {margin}')
        self.margin = float(margin)

    def transform(self, results: dict) -> dict:
        img = results['img']
        region = context_region(results['bbox'], self.margin, *img.shape[:2])
        x1, y1, x2, y2 = region
        results['img'] = np.ascontiguousarray(img[y1:y2, x1:x2])
        results['img_shape'] = results['img'].shape[:2]
        results['crop_region'] = region
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(margin={self.margin})'


@TRANSFORMS.register_module()
class PackCropInputs(BaseTransform):
    """Pack a crop for a classifier: ``inputs`` (C, H, W) uint8 tensor, ``data_samples``.

    ``inputs`` keeps the image's values and channel order (BGR in [0, 255] after mmcv's
    ``LoadImageFromFile``). ``data_samples`` is a ``BaseDataElement`` with ``gt_label`` (a
    (1,) int64 tensor) and the ``meta_keys`` found in ``results`` as metainfo.
    """

    def __init__(self, meta_keys=('img_id', 'img_path', 'object_index', 'crop_region',
                                  'ori_shape', 'img_shape', 'flip')) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        sample = BaseDataElement(
            metainfo={k: copy.deepcopy(results[k]) for k in self.meta_keys if k in results})
        if 'gt_label' in results:
            sample.gt_label = torch.tensor([results['gt_label']], dtype=torch.long)
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
