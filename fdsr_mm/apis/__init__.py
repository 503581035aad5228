"""High-level entry points: SR inference on whole images (tiled when large), the SR -> detection
cascade evaluation."""
from .cascade import (CascadeError, CascadeOptions, SRMethod, build_sr_generator, parse_method,
                      run_cascade)
from .super_resolve import super_resolve_image, super_resolve_tensor

__all__ = [
    'super_resolve_image', 'super_resolve_tensor', 'CascadeError', 'CascadeOptions', 'SRMethod',
    'build_sr_generator', 'parse_method', 'run_cascade'
]
