"""High-level entry points: SR inference on whole images (tiled when large)."""
from .super_resolve import super_resolve_image, super_resolve_tensor

__all__ = ['super_resolve_image', 'super_resolve_tensor']
