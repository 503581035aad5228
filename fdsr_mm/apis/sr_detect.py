"""Detect on low-resolution images with an SR + detector model: the names of
:mod:`fdsr_mm.apis.inferencers` under their former module (``tools/pack_sr_detector.py``, the
benchmarks and tests import :func:`init_sr_detector` from here).

``detect_folder(model, files, out_dir, ...)`` is gone: use ``SRDetInferencer(config, weights,
device)(files, out_dir=..., pred_score_thr=..., draw_on=..., save_sr=..., ann_file=...)``.
"""
from fdsr_mm.apis.inferencers import (IMAGE_EXTENSIONS, CocoIds, SRDetectError, SRDetInferencer,
                                      check_out_dir, coco_ids, init_sr_detector, list_images,
                                      read_image, write_results)

__all__ = ['IMAGE_EXTENSIONS', 'CocoIds', 'SRDetInferencer', 'SRDetectError', 'check_out_dir',
           'coco_ids', 'init_sr_detector', 'list_images', 'read_image', 'write_results']
