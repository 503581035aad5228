"""SR training losses and the frozen networks they read: the detector feature loss (FDSR), the
detector task loss (TDSR), SR4IR's task-driven perceptual loss and the VGG19 feature trunk (an
ImageNet feature prior)."""
from fdsr_mm.models.losses.detector_feature_loss import DetectorFeatureLoss
from fdsr_mm.models.losses.detector_task_loss import DetectorTaskLoss
from fdsr_mm.models.losses.task_perceptual_loss import TaskDrivenPerceptualLoss
from fdsr_mm.models.losses.vgg_features import VGG19Features

__all__ = ['DetectorFeatureLoss', 'DetectorTaskLoss', 'TaskDrivenPerceptualLoss',
           'VGG19Features']
