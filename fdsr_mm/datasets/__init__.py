"""Data: the SR degradation shared by training and evaluation, synthetic images and datasets,
HR images with their boxes for task-driven SR."""
from .loading import CheckedLoadImageFromFile, ImageDecodeError
from .sr_detection_dataset import DetImageToSRPair, PackSRDetInputs, SRDetectionDataset
from .synthetic_coco import SYNTHETIC_COCO_CLASSES, write_synthetic_coco
from .transforms import BicubicDegradation, bicubic_downsample

__all__ = ['BicubicDegradation', 'bicubic_downsample', 'CheckedLoadImageFromFile',
           'ImageDecodeError', 'SYNTHETIC_COCO_CLASSES', 'write_synthetic_coco',
           'SRDetectionDataset', 'DetImageToSRPair', 'PackSRDetInputs']
