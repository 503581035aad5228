"""The study's classifier prior: a small object-crop classifier (MMDetection ``MODELS``)."""
from fdsr_mm.models.classifiers.crop_classifier import CropClassifier

__all__ = ['CropClassifier']
