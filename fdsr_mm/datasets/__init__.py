"""Data: the SR degradations shared by training and evaluation (bicubic, realistic), synthetic
images and datasets, HR images with their boxes for task-driven SR, object crops for the
classifier prior, LR-annotated COCO sets made from HR ones."""
from .degradations import DEGRADATIONS, Degradation, degrade
from .loading import CheckedLoadImageFromFile, ImageDecodeError
from .lr_coco import write_lr_coco
from .object_crops import CropObjectBox, ObjectCropDataset, PackCropInputs
from .sr_detection_dataset import DetImageToSRPair, PackSRDetInputs, SRDetectionDataset
from .synthetic_coco import SYNTHETIC_COCO_CLASSES, write_synthetic_coco
from .synthetic_voc import SYNTHETIC_VOC_GENERATOR, write_synthetic_voc
from .transforms import BicubicDegradation, bicubic_downsample

__all__ = ['BicubicDegradation', 'bicubic_downsample', 'DEGRADATIONS', 'Degradation', 'degrade',
           'CheckedLoadImageFromFile', 'ImageDecodeError', 'ObjectCropDataset', 'CropObjectBox',
           'PackCropInputs', 'SYNTHETIC_COCO_CLASSES', 'write_synthetic_coco',
           'SYNTHETIC_VOC_GENERATOR', 'write_synthetic_voc', 'SRDetectionDataset',
           'DetImageToSRPair', 'PackSRDetInputs', 'write_lr_coco']
