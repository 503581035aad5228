"""Models registered on import: generators, the FDSR and SR4IR models and their feature, task
and task-driven perceptual losses in MMagic's ``MODELS``; the VGG19 feature trunk (an ImageNet
feature prior), the crop classifier (the study's classifier prior), the SR + detector model
``SRDetector`` and ``FixedSSDHead`` in MMDetection's ``MODELS``."""
from fdsr_mm.models.classifiers import CropClassifier
from fdsr_mm.models.detectors import FixedSSDHead, SRDetector
from fdsr_mm.models.editors import FDSR, SR4IR
from fdsr_mm.models.generators import DBPN, InterpolationSR, RCANNet
from fdsr_mm.models.losses import (DetectorFeatureLoss, DetectorTaskLoss,
                                   TaskDrivenPerceptualLoss, VGG19Features)

__all__ = ['CropClassifier', 'DBPN', 'DetectorFeatureLoss', 'DetectorTaskLoss', 'FDSR',
           'FixedSSDHead', 'InterpolationSR', 'RCANNet', 'SR4IR', 'SRDetector',
           'TaskDrivenPerceptualLoss', 'VGG19Features']
