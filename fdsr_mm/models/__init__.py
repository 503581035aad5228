"""Models registered on import: generators, the FDSR restorer and its feature and task losses
in MMagic's ``MODELS``; the VGG19 feature trunk (an ImageNet feature prior), the crop classifier
(the study's classifier prior), the SR + detector model ``SRDetector`` and ``FixedSSDHead`` in
MMDetection's ``MODELS``."""
from fdsr_mm.models.classifiers import CropClassifier
from fdsr_mm.models.detectors import FixedSSDHead, SRDetector
from fdsr_mm.models.editors import FDSR
from fdsr_mm.models.generators import DBPN, InterpolationSR, RCANNet
from fdsr_mm.models.losses import DetectorFeatureLoss, DetectorTaskLoss, VGG19Features

__all__ = ['CropClassifier', 'DBPN', 'DetectorFeatureLoss', 'DetectorTaskLoss', 'FDSR',
           'FixedSSDHead', 'InterpolationSR', 'RCANNet', 'SRDetector', 'VGG19Features']
