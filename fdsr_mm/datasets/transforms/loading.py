"""Image loading for SR datasets that names the file it could not decode.

MMagic's ``LoadImageFromFile`` hands the file's bytes to ``mmcv.imfrombytes``; a corrupt or
truncated file (or one that is not an image) makes OpenCV return ``None`` and the loader then
fails in ``cv2.cvtColor`` with ``error: (-215:Assertion failed) !_src.empty()`` (or later with an
``AttributeError`` for BGR), without saying which of the 20k listed files is broken.
:class:`CheckedLoadImageFromFile` is the same transform with the decode checked: it raises
:class:`ImageDecodeError` naming the file and what to do about it.
"""
import numpy as np

from mmagic.datasets.transforms import LoadImageFromFile
from mmagic.registry import TRANSFORMS


class ImageDecodeError(RuntimeError):
    """An image file of a dataset list exists but cannot be decoded (corrupt, truncated, empty or
    not an image)."""


def decode_error_message(filename: str, reason: str) -> str:
    """The message of :class:`ImageDecodeError` for ``filename``.

    Args:
        filename: Path of the image that could not be decoded.
        reason: What the decoder said (or that it returned no image).

    Returns:
        str: A message naming the file, the reason and the remedies.
    """
    return (f'Cannot decode image {filename}: {reason}. The file is corrupt, truncated or not an '
            'image. Remove it from the dataset list (the ann_file of the dataset config) or '
            'replace the file, or rebuild the COCO lists with tools/prepare_coco_sr.py, which '
            'verifies the images it lists.')


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """MMagic ``LoadImageFromFile`` that raises :class:`ImageDecodeError` naming an undecodable
    file instead of failing inside OpenCV.

    Arguments, required and added keys are those of
    ``mmagic.datasets.transforms.LoadImageFromFile``. A missing file still raises the file
    backend's ``FileNotFoundError`` (which names it).
    """

    def _load_image(self, filename: str) -> np.ndarray:
        """Read and decode ``filename`` as MMagic does, checking the decoded image.

        Args:
            filename: Path of the image file.

        Returns:
            np.ndarray: The decoded image, (H, W) or (H, W, C).

        Raises:
            ImageDecodeError: when the bytes are not a decodable, non-empty image.
        """
        try:
            img = super()._load_image(filename)
        except (FileNotFoundError, ImageDecodeError):
            raise
        except Exception as e:  # cv2.error, PIL.UnidentifiedImageError, ValueError, ...
            raise ImageDecodeError(
                decode_error_message(filename, f'{type(e).__name__}: {e}'.strip())) from e
        if not isinstance(img, np.ndarray) or img.size == 0:
            raise ImageDecodeError(decode_error_message(filename, 'the decoder returned no image'))
        return img
