"""Detection training images as the cascade's ``bicubic`` method shows them: the control "adapt the
detector to low resolution instead of super-resolving".

:class:`SimulateLowResolution` (mmdet ``TRANSFORMS``) degrades an HR training image with the
cascade's degradation (default: MATLAB-like bicubic x1/scale) and upsamples it back with the
cascade's bicubic (:func:`~fdsr_mm.datasets.transforms.bicubic.bicubic_upsample`): a detector
fine-tuned on such images has seen, at training time, what its ``bicubic`` input looks like at test
time. The image keeps its (mod-cropped) size, so the boxes keep their coordinates.
"""
from mmcv.transforms import BaseTransform

from mmdet.registry import TRANSFORMS

from fdsr_mm.datasets.transforms.bicubic import bicubic_upsample
from fdsr_mm.datasets.transforms.degradations import degrade, get_degradation, results_key


@TRANSFORMS.register_module()
class SimulateLowResolution(BaseTransform):
    """``img`` -> bicubic_upsample(degrade(img, 1/scale), scale), same size, same boxes.

    Required keys: ``img`` ((H, W, 3) uint8, mmdet's BGR), ``img_path`` for a seeded degradation.
    Modified keys: ``img``, ``img_shape``; when H or W is not a multiple of ``scale``, the image is
    cropped to the largest multiple (bottom and right border, as the cascade's mod-crop) and
    ``gt_bboxes`` are clipped to it, boxes left without area dropped with their labels and flags.

    Args:
        scale (int): The SR factor. Default: 4.
        degradation (str): A registered degradation ('bicubic', 'realistic',
            'bicubic-matlab-uint8'): the cascade's ``--degradation``. Default: 'bicubic'.
        seed (int): Seed of a random degradation's per-file draws. Default: 0.
        per_call_random (bool): A random degradation draws afresh at every call (training),
            else per (seed, file) as the cascade does. Default: True.
        channel_order (str): Order of ``img`` ('bgr' after mmdet's LoadImageFromFile; used by a
            JPEG step only). Default: 'bgr'.
    """

    def __init__(self, scale: int = 4, degradation: str = 'bicubic', seed: int = 0,
                 per_call_random: bool = True, channel_order: str = 'bgr'):
        get_degradation(degradation)
        if scale < 1 or int(scale) != scale:
            raise ValueError(f'SimulateLowResolution: scale must be a positive integer, got '
                             f'{scale!r}.')
        self.scale, self.degradation, self.seed = int(scale), degradation, seed
        self.per_call_random, self.channel_order = per_call_random, channel_order

    def _mod_crop(self, results: dict) -> None:
        img = results['img']
        h, w = img.shape[0] - img.shape[0] % self.scale, img.shape[1] - img.shape[1] % self.scale
        if h == 0 or w == 0:
            raise ValueError(f'SimulateLowResolution: image {results.get("img_path")} of '
                             f'{img.shape[:2]} is smaller than the scale {self.scale}.')
        if (h, w) == img.shape[:2]:
            return
        results['img'] = img[:h, :w]
        boxes = results.get('gt_bboxes')
        if boxes is None or len(boxes) == 0:
            return
        boxes.clip_((h, w))
        keep = (boxes.widths > 0) & (boxes.heights > 0)
        if not bool(keep.all()):
            results['gt_bboxes'] = boxes[keep]
            for key in ('gt_bboxes_labels', 'gt_ignore_flags'):
                if key in results:
                    results[key] = results[key][keep.numpy()]

    def transform(self, results: dict) -> dict:
        self._mod_crop(results)
        key = results_key(results, self.degradation, ('img_path', ), self.per_call_random,
                          f'SimulateLowResolution({self.degradation!r})')
        lr = degrade(results['img'], self.scale, self.degradation, self.seed, key,
                     channel_order=self.channel_order)
        results['img'] = bicubic_upsample(lr, self.scale)
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'degradation={self.degradation!r}, seed={self.seed}, '
                f'per_call_random={self.per_call_random}, channel_order={self.channel_order!r})')
