"""Reading an image file as mmdet's loader does, with the checks every fdsr_mm reader makes.

A file is decoded as ``LoadImageFromFile`` decodes it (cv2 'color', EXIF orientation applied)
to RGB uint8; PIL first loads it fully, so a truncated or corrupt file is reported with a reason
instead of being half-decoded by cv2. Used by the cascade's HR preparation, ``make_lr_coco`` and
``sr_detect``.
"""
import hashlib
import io
from typing import Optional, Tuple

import mmcv
import numpy as np
from PIL import Image


def read_hr(path: str) -> Tuple[Optional[np.ndarray], bool, Optional[str]]:
    """Decode an HR file as mmdet's loader does (cv2 'color', EXIF applied) -> RGB uint8.

    Returns:
        (img or None, is_grayscale, failure reason or None)
    """
    img, gray, reason, _ = read_hr_with_digest(path)
    return img, gray, reason


def read_hr_with_digest(path: str) -> Tuple[Optional[np.ndarray], bool, Optional[str],
                                            Optional[str]]:
    """:func:`read_hr` plus the SHA-256 (hex) of the bytes it decoded (None if unreadable)."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        return None, False, f'unreadable: {e}', None
    sha = hashlib.sha256(data).hexdigest()
    try:
        pil = Image.open(io.BytesIO(data))
        gray = pil.mode in ('1', 'L', 'LA', 'I', 'I;16', 'F')
        pil.load()  # raises on truncated / corrupt data that cv2 may half-decode silently
    except Exception as e:  # noqa: BLE001 (any decoder error means a corrupt file)
        return None, False, f'corrupt: {type(e).__name__}: {e}', sha
    img = mmcv.imfrombytes(data, flag='color', channel_order='rgb', backend='cv2')
    if img is None:
        return None, gray, 'corrupt: cv2 could not decode it', sha
    return img, gray, None, sha
