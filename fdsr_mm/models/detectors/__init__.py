"""Detection-side models (MMDetection ``MODELS``): SRDetector (SR + an unchanged detector) and
the SSD head the study's detectors use."""
from fdsr_mm.models.detectors.fixed_ssd_head import FixedSSDHead
from fdsr_mm.models.detectors.sr_detector import SRDetector

__all__ = ['FixedSSDHead', 'SRDetector']
