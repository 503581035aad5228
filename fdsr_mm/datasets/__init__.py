"""Data: the SR degradation shared by training and evaluation, synthetic images and datasets,
HR images with their boxes for task-driven SR, object crops for the classifier prior."""
from .loading import CheckedLoadImageFromFile, ImageDecodeError
from .object_crops import CropObjectBox, ObjectCropDataset, PackCropInputs
from .sr_detection_dataset import DetImageToSRPair, PackSRDetInputs, SRDetectionDataset
from .synthetic_coco import SYNTHETIC_COCO_CLASSES, write_synthetic_coco
from .synthetic_voc import SYNTHETIC_VOC_GENERATOR, write_synthetic_voc
from .transforms import BicubicDegradation, bicubic_downsample

__all__ = ['BicubicDegradation', 'bicubic_downsample', 'CheckedLoadImageFromFile',
           'ImageDecodeError', 'ObjectCropDataset', 'CropObjectBox', 'PackCropInputs',
           'SYNTHETIC_COCO_CLASSES', 'write_synthetic_coco',
           'SYNTHETIC_VOC_GENERATOR', 'write_synthetic_voc',
           'SRDetectionDataset', 'DetImageToSRPair', 'PackSRDetInputs']
