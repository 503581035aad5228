"""Data transforms (MMagic / MMDetection ``TRANSFORMS``): the SR degradations shared by training
and evaluation, image loading with decode checks, the cascade's cached-image loader, and detection
training images degraded and upsampled back (the adapted-detector control)."""
from fdsr_mm.datasets.transforms.bicubic import (BicubicDegradation, bicubic_downsample,
                                                 bicubic_upsample)
from fdsr_mm.datasets.transforms.cascade_loading import LoadCascadeImage, RescaleToHR
from fdsr_mm.datasets.transforms.degradations import DEGRADATIONS, Degradation, degrade
from fdsr_mm.datasets.transforms.loading import CheckedLoadImageFromFile, ImageDecodeError
from fdsr_mm.datasets.transforms.lr_simulation import SimulateLowResolution

__all__ = ['BicubicDegradation', 'CheckedLoadImageFromFile', 'DEGRADATIONS', 'Degradation',
           'ImageDecodeError', 'LoadCascadeImage', 'RescaleToHR', 'SimulateLowResolution',
           'bicubic_downsample', 'bicubic_upsample', 'degrade']
