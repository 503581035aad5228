"""Data: the SR degradations shared by training and evaluation (bicubic, realistic), synthetic
images and datasets, HR images with their boxes for task-driven SR, object crops for the
classifier prior, LR-annotated COCO sets made from HR ones, detection images degraded and upsampled
back (the adapted-detector control)."""
from fdsr_mm.datasets.lr_coco import write_lr_coco
from fdsr_mm.datasets.object_crops import CropObjectBox, ObjectCropDataset, PackCropInputs
from fdsr_mm.datasets.sr_detection_dataset import (DetImageToSRPair, PackSRDetInputs,
                                                   SRDetectionDataset)
from fdsr_mm.datasets.synthetic_coco import SYNTHETIC_COCO_CLASSES, write_synthetic_coco
from fdsr_mm.datasets.synthetic_voc import SYNTHETIC_VOC_GENERATOR, write_synthetic_voc
from fdsr_mm.datasets.transforms import (DEGRADATIONS, BicubicDegradation, CheckedLoadImageFromFile,
                                         Degradation, ImageDecodeError, LoadCascadeImage,
                                         SimulateLowResolution, bicubic_downsample,
                                         bicubic_upsample, degrade)

__all__ = ['BicubicDegradation', 'bicubic_downsample', 'bicubic_upsample', 'DEGRADATIONS',
           'Degradation', 'degrade', 'SimulateLowResolution', 'CheckedLoadImageFromFile',
           'ImageDecodeError', 'LoadCascadeImage',
           'ObjectCropDataset', 'CropObjectBox', 'PackCropInputs', 'SYNTHETIC_COCO_CLASSES',
           'write_synthetic_coco', 'SYNTHETIC_VOC_GENERATOR', 'write_synthetic_voc',
           'SRDetectionDataset', 'DetImageToSRPair', 'PackSRDetInputs', 'write_lr_coco']
