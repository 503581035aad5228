"""Evaluation of the SR -> detection cascade: image quality, per-image COCO/VOC records and the
paired bootstrap, paper tables, drawings, and the metrics registered in MMDetection's
``METRICS`` (crop accuracy, COCO with HR areas on LR sets, VOC per-image dumps)."""
from fdsr_mm.evaluation.crop_accuracy import CropAccuracy
from fdsr_mm.evaluation.hr_area_coco_metric import HRAreaCocoMetric
from fdsr_mm.evaluation.fsim_maps import ReferenceMaps, fsim_pair
from fdsr_mm.evaluation.image_quality import (IQ_METRICS, fsim, image_quality, mean_metric,
                                              psnr_rgb, psnr_y, ssim_rgb)
from fdsr_mm.evaluation.tables import (load_results, merge_tables, table1, table2, table3,
                                       write_tables)
from fdsr_mm.evaluation.voc_per_image import DumpVOCPerImage

__all__ = [
    'CropAccuracy', 'HRAreaCocoMetric', 'IQ_METRICS', 'ReferenceMaps', 'fsim', 'fsim_pair',
    'image_quality', 'mean_metric', 'psnr_rgb', 'psnr_y', 'ssim_rgb', 'load_results',
    'merge_tables', 'table1', 'table2', 'table3', 'write_tables', 'DumpVOCPerImage'
]
