"""Test-pipeline loader that feeds a detector the cached SR image instead of the HR file.

The cascade's detection pass runs a detector's own mmdet test pipeline over a dataset whose
annotations are in HR coordinates. :class:`LoadCascadeImage` replaces the pipeline's
``LoadImageFromFile``: it maps each HR ``img_path`` to the SR image the SR pass cached for it and
maps the raw ground truth (``results['instances']``, read by a later ``LoadAnnotations``) through
the same HR geometry the SR pass used: optional resize to a fixed HR size (the paper's 300x300
VOC setting), then mod-crop to a multiple of the scale (boxes clipped; boxes left with no area
become ``ignore_flag=1``). Metrics that read the ground truth from the data samples (VOCMetric) so
see exactly the image the detector saw; CocoMetric reads the derived annotation file the SR pass
wrote with the same geometry.

The ``lr_native`` method feeds the detector the LR image itself (``lr_scale``): the ground truth
stays in HR coordinates and :class:`RescaleToHR`, after the detector's own test resize, makes
mmdet's rescale return the predicted boxes in HR coordinates too.
"""
import json
import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform, LoadImageFromFile

from mmdet.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadCascadeImage(LoadImageFromFile):
    """Load the cached SR image of ``results['img_path']`` (BGR uint8, like LoadImageFromFile).

    Args:
        index_file (str): JSON written by the SR pass: ``{hr_img_path: dict(file=<path relative
            to image_dir>, fx, fy, hw=[H, W])}`` where ``fx, fy`` scale HR coordinates to the
            (resized) HR image and ``hw`` is its mod-cropped size.
        image_dir (str): Folder of one SR method's cached images.
        lr_scale (int): 1: the cached images have the HR geometry (SR results); s > 1: they are
            the LR images (``lr_native``), ``hw // s`` in size. Default: 1.
        **kwargs: Passed to mmcv ``LoadImageFromFile`` (``to_float32``, ``backend_args``, ...).
    """

    def __init__(self, index_file: str, image_dir: str, lr_scale: int = 1, **kwargs):
        kwargs.pop('color_type', None)
        super().__init__(color_type='color', **kwargs)
        self.index_file = index_file
        self.image_dir = image_dir
        self.lr_scale = int(lr_scale)
        with open(index_file, encoding='utf-8') as f:
            self.index = json.load(f)

    def transform(self, results: dict) -> dict:
        hr_path = results['img_path']
        entry = self.index.get(hr_path)
        if entry is None:
            raise KeyError(f'{hr_path} is not in the SR cache index {self.index_file}: the '
                           'detection pass must use the dataset the SR pass prepared.')
        results['hr_img_path'] = hr_path
        results['img_path'] = osp.join(self.image_dir, entry['file'])
        results = super().transform(results)
        h, w = entry['hw']  # the HR geometry: the ground truth's coordinates
        expected = [h // self.lr_scale, w // self.lr_scale]
        if list(results['img_shape']) != expected:
            raise ValueError(f"Cached image {results['img_path']} is "
                             f"{results['img_shape'][0]}x{results['img_shape'][1]}, expected "
                             f"{expected}: the cache is stale, delete it and rerun.")
        for inst in results.get('instances', []):
            x1, y1, x2, y2 = inst['bbox']
            box = np.array([x1 * entry['fx'], y1 * entry['fy'], x2 * entry['fx'],
                            y2 * entry['fy']])
            box[0::2] = box[0::2].clip(0, w)
            box[1::2] = box[1::2].clip(0, h)
            inst['bbox'] = box.tolist()
            if box[2] <= box[0] or box[3] <= box[1]:
                inst['ignore_flag'] = 1
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(index_file={self.index_file!r}, '
                f'image_dir={self.image_dir!r}, lr_scale={self.lr_scale})')


@TRANSFORMS.register_module()
class RescaleToHR(BaseTransform):
    """After the test resizes of an LR input: make mmdet's rescale give HR coordinates.

    mmdet divides the predicted boxes by ``scale_factor`` (resized / loaded image) to put them on
    the loaded image. For an LR image of an HR set that is ``scale`` times too small: this divides
    ``scale_factor`` by ``scale`` and multiplies ``ori_shape`` by it, so boxes come back in HR
    pixels, where the annotations are. Place it after the last resize, before the packing step.

    Args:
        scale (int): HR size / LR size.
    """

    def __init__(self, scale: int):
        self.scale = int(scale)

    def transform(self, results: dict) -> dict:
        sx, sy = results.get('scale_factor', (1., 1.))
        results['scale_factor'] = (sx / self.scale, sy / self.scale)
        h, w = results['ori_shape']
        results['ori_shape'] = (h * self.scale, w * self.scale)
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(scale={self.scale})'
