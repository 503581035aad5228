"""The inputs of ``tools/sr_detect.py``: image files from paths, folders and globs, checked
against the output folder, and decoded as BGR uint8 (H, W, 3) the way the cascade reads images."""
import glob
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np

from fdsr_mm.datasets.image_io import read_hr
from fdsr_mm.utils.cli_errors import ToolError
from fdsr_mm.utils.output_names import is_within

#: File extensions of the images a folder is searched for.
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
#: Folders of ``out_dir`` that hold one output per image: drawings, SR images, predictions.
OUTPUT_FOLDERS = ('vis', 'sr', 'preds')


class SRDetectError(ToolError, ValueError):
    """A bad input of ``tools/sr_detect.py`` (no images, bad config or weights): one line."""


def list_images(inputs: Sequence[str], out_dir: Optional[str] = None) -> List[str]:
    """Image files named by ``inputs``: files, folders (recursively) or glob patterns, sorted.

    With ``out_dir``, also refuse (:class:`SRDetectError`) an ``out_dir`` that is a file, that is
    an input folder or lies inside one, and inputs that are outputs of an earlier run (inside
    ``out_dir``'s ``vis/``, ``sr/`` or ``preds/``): a rerun would detect on its own drawings.
    """
    files = []
    for item in inputs:
        if osp.isdir(item):
            if out_dir is not None and is_within(out_dir, item):
                raise SRDetectError(
                    f'the output folder is the input folder {item} or inside it (a rerun would '
                    'detect on its own drawings)', f'--out-dir {out_dir}',
                    'choose an --out-dir outside the input folders')
            found = [osp.join(root, f) for root, _, names in os.walk(item) for f in names
                     if f.lower().endswith(IMAGE_EXTENSIONS)]
        elif osp.isfile(item):
            found = [item]
        else:
            found = [p for p in glob.glob(item, recursive=True) if osp.isfile(p)]
            if not found:
                raise SRDetectError(f'{item}: no such file or folder, and no file matches it as '
                                    'a glob pattern', None,
                                    'pass an image, a folder or a quoted glob')
        files.extend(sorted(found))
    if not files:
        raise SRDetectError(f'No image files ({", ".join(IMAGE_EXTENSIONS)}) in {list(inputs)}')
    files = list(dict.fromkeys(files))
    if out_dir is not None:
        check_out_dir(out_dir, files)
    return files


def check_out_dir(out_dir: str, files: Sequence[str]) -> None:
    """Refuse an ``out_dir`` that is a file, and input files among its per-image outputs."""
    if osp.exists(out_dir) and not osp.isdir(out_dir):
        raise SRDetectError('the output folder is a file', f'--out-dir {out_dir}',
                            'name a folder (it is created if missing)')
    ours = [f for f in files if any(is_within(f, osp.join(out_dir, d)) for d in OUTPUT_FOLDERS)]
    if ours:
        raise SRDetectError(
            f'{len(ours)} input(s) are outputs of an earlier run in the output folder, e.g. '
            f'{ours[0]}', f'--out-dir {out_dir}',
            'choose an --out-dir whose vis/, sr/ and preds/ are not among the inputs')



def read_image(path: str) -> Tuple[Optional[np.ndarray], Optional[str]]:
    """(BGR uint8 image, None) as mmdet's loader reads it, or (None, why it is unusable).

    The cascade's reader (:func:`fdsr_mm.datasets.image_io.read_hr`): PIL decodes the whole
    file first, so a truncated JPEG that cv2 would half-decode is refused too.
    """
    img, _, why = read_hr(path)
    return (None, why) if img is None else (np.ascontiguousarray(img[..., ::-1]), None)
