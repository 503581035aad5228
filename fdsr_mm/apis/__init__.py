"""High-level entry points: SR inference on whole images (tiled when large), the SR -> detection
cascade evaluation, detection on low-resolution images with an SR + detector model
(:class:`SRDetInferencer`, mmdet's DetInferencer for SR + detector configs)."""
from fdsr_mm.apis.cascade import (CascadeError, CascadeOptions, SRMethod, build_method_generator,
                                  parse_method, run_cascade)
from fdsr_mm.apis.inferencers import SRDetectError, SRDetInferencer, init_sr_detector, list_images
from fdsr_mm.apis.super_resolve import super_resolve_image
from fdsr_mm.models.generators.tiled_inference import super_resolve_tensor

__all__ = [
    'super_resolve_image', 'super_resolve_tensor', 'CascadeError', 'CascadeOptions', 'SRMethod',
    'build_method_generator', 'parse_method', 'run_cascade', 'SRDetectError', 'SRDetInferencer',
    'init_sr_detector', 'list_images'
]
