"""Evaluation of the SR -> detection cascade: image quality, paper tables, the cascade loader."""
from .crop_accuracy import CropAccuracy
from .image_quality import (IQ_METRICS, fsim, image_quality, mean_metric, psnr_rgb, psnr_y,
                            ssim_rgb)
from .mmdet_compat import FixedSSDHead
from .tables import (atomic_write_text, dump_json, load_results, merge_tables, table1, table2,
                     table3, write_tables)
from .transforms import LoadCascadeImage
from .voc_per_image import DumpVOCPerImage

__all__ = [
    'CropAccuracy', 'IQ_METRICS', 'fsim', 'image_quality', 'mean_metric', 'psnr_rgb', 'psnr_y',
    'ssim_rgb',
    'atomic_write_text', 'dump_json', 'load_results', 'merge_tables', 'table1', 'table2',
    'table3', 'write_tables', 'LoadCascadeImage', 'FixedSSDHead', 'DumpVOCPerImage'
]
