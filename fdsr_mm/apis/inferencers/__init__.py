"""Inferencers: mmdet's DetInferencer for SR + detector models on low-resolution images."""
from fdsr_mm.apis.inferencers.sr_det_inferencer import SRDetInferencer, init_sr_detector
from fdsr_mm.apis.inferencers.sr_det_inputs import (IMAGE_EXTENSIONS, SRDetectError, check_out_dir,
                                                    list_images, read_image)
from fdsr_mm.apis.inferencers.sr_det_results import CocoIds, coco_ids, write_results

__all__ = ['SRDetInferencer', 'init_sr_detector', 'IMAGE_EXTENSIONS', 'SRDetectError',
           'check_out_dir', 'list_images', 'read_image', 'CocoIds', 'coco_ids', 'write_results']
