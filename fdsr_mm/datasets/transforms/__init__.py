"""Data transforms (MMagic / MMDetection ``TRANSFORMS``): the SR degradations shared by training
and evaluation, image loading with decode checks, and the cascade's cached-image loader."""
from fdsr_mm.datasets.transforms.bicubic import BicubicDegradation, bicubic_downsample
from fdsr_mm.datasets.transforms.cascade_loading import LoadCascadeImage
from fdsr_mm.datasets.transforms.degradations import DEGRADATIONS, Degradation, degrade
from fdsr_mm.datasets.transforms.loading import CheckedLoadImageFromFile, ImageDecodeError

__all__ = ['BicubicDegradation', 'CheckedLoadImageFromFile', 'DEGRADATIONS', 'Degradation',
           'ImageDecodeError', 'LoadCascadeImage', 'bicubic_downsample', 'degrade']
