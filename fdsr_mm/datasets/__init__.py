"""Data: the SR degradation shared by training and evaluation, synthetic images."""
from .transforms import BicubicDegradation, bicubic_downsample

__all__ = ['BicubicDegradation', 'bicubic_downsample']
