"""Models registered on import: generators, the FDSR restorer and its feature and task losses
in MMagic's ``MODELS``; the VGG19 feature trunk (an ImageNet feature prior) and the crop
classifier (the study's classifier prior) and the SR + detector model ``SRDetector`` in
MMDetection's ``MODELS``."""
from .crop_classifier import CropClassifier
from .dbpn_net import DBPN
from .detector_feature_loss import DetectorFeatureLoss
from .detector_task_loss import DetectorTaskLoss
from .fdsr import FDSR
from .interpolation_sr import InterpolationSR
from .rcan_net import RCANNet
from .sr_detector import SRDetector
from .vgg_features import VGG19Features

__all__ = ['CropClassifier', 'DBPN', 'DetectorFeatureLoss', 'DetectorTaskLoss', 'FDSR',
           'InterpolationSR', 'RCANNet', 'SRDetector', 'VGG19Features']
