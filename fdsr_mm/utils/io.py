"""The package's one way to write a file: atomically, and JSON-lines logs read and appended.

Every output (tables, results, caches, checkpoints, images, lists) goes through
:func:`atomic_write`: the bytes are written to a unique temporary file in the destination folder
(usual permissions, not mkstemp's 0600) and renamed over the destination, so a crash, a full
disk or Ctrl-C never leaves a truncated file, and never destroys the previous version. The
temporary file never outlives a failure. A failure is one :class:`AtomicWriteError` line naming
the file (Ctrl-C is re-raised as itself, after the clean-up).

JSON-lines logs are append-only (a record is one ``write`` call, atomic against other appenders
on a local file system); torn lines of a killed run are skipped on reading.
"""
import contextlib
import glob
import hashlib
import io
import json
import math
import os
import os.path as osp
import tempfile
from typing import IO, Any, Callable, Dict, Hashable, Optional

import cv2
import numpy as np
import torch


class AtomicWriteError(OSError):
    """A file could not be written; the message names it and says that nothing was written."""


def _usual_permissions(fd: int) -> None:
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions


def atomic_write(path: str, write: Callable[[IO[bytes]], None], advice: str = '') -> None:
    """Call ``write(binary_file)`` on a temporary file next to ``path``, then rename it to ``path``.

    Args:
        path: The destination (its folder is created).
        write: Writes the content into the open binary file it is given.
        advice: Appended to the "Nothing was written" message, e.g. ``'; free some space'``.

    Raises:
        AtomicWriteError: One line naming ``path`` and the reason (``from`` the original error).
    """
    folder = osp.dirname(osp.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    except OSError as err:
        raise AtomicWriteError(f'cannot write {path}: cannot create a file in {folder} '
                               f'({err.strerror or err}). Pick an output path in a writable '
                               'folder.') from err
    try:
        with os.fdopen(fd, 'wb') as f:
            _usual_permissions(f.fileno())
            write(f)
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        if not isinstance(err, Exception):  # Ctrl-C: clean up, then stop as asked
            raise
        why = err.strerror if isinstance(err, OSError) and err.strerror else \
            (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise AtomicWriteError(f'cannot write {path}: {why}. Nothing was written{advice}.') \
            from err


def probe_writable(folder: str) -> None:
    """Create ``folder`` if needed and prove a file can be created in it (removed at once).

    Raises:
        OSError: It cannot be created or written.
    """
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.write-test-')
    os.close(fd)
    os.remove(tmp)


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode('utf-8'))


def torch_save_atomic(obj: Any, path: str, advice: str = '') -> None:
    """``torch.save(obj)`` to ``path`` atomically (checkpoints, packed weights)."""
    atomic_write(path, lambda f: torch.save(obj, f), advice)


def encode_png(img_rgb: np.ndarray, compression: Optional[int] = 1,
               channel_order: str = 'rgb') -> bytes:
    """(H, W, 3) uint8 RGB (``channel_order='bgr'``: BGR; or (H, W) gray) -> lossless PNG bytes
    (cv2 ``compression`` 0-9; None: cv2's default settings, which differ from every level)."""
    if channel_order not in ('rgb', 'bgr'):
        raise ValueError(f"channel_order must be 'rgb' or 'bgr', not {channel_order!r}")
    rgb = img_rgb.ndim == 3 and channel_order == 'rgb'
    img = cv2.cvtColor(img_rgb, cv2.COLOR_RGB2BGR) if rgb else img_rgb
    params = [] if compression is None else [cv2.IMWRITE_PNG_COMPRESSION, compression]
    ok, buf = cv2.imencode('.png', img, params)
    if not ok:
        raise ValueError(f'cv2 could not encode an image of shape {img_rgb.shape} as PNG')
    return buf.tobytes()


def write_png(path: str, img_rgb: np.ndarray, compression: Optional[int] = 1,
              channel_order: str = 'rgb') -> None:
    """Write (H, W, 3) uint8 RGB (or BGR, as ``channel_order`` says) losslessly, atomically."""
    atomic_write_bytes(path, encode_png(img_rgb, compression, channel_order))


def _encode(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return 'nan' if math.isnan(obj) else ('inf' if obj > 0 else '-inf')
    if isinstance(obj, dict):
        return {k: _encode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_encode(v) for v in obj]
    return obj


def decode_non_finite(obj):
    """Inverse of :func:`dump_json`'s encoding: ``"inf"``, ``"-inf"``, ``"nan"`` -> floats."""
    if isinstance(obj, str) and obj in ('inf', '-inf', 'nan'):
        return float(obj)
    if isinstance(obj, dict):
        return {k: decode_non_finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode_non_finite(v) for v in obj]
    return obj


def dump_json(obj, path: str) -> None:
    """Atomically write ``obj`` as strict, indented JSON (non-finite floats as strings)."""
    atomic_write_text(path, json.dumps(_encode(obj), indent=2, allow_nan=False) + '\n')


def load_json(path: str):
    """Read a file of :func:`dump_json` (non-finite floats restored)."""
    with open(path, encoding='utf-8') as f:
        return decode_non_finite(json.load(f))


def savefig_atomic(fig, path: str, **kwargs) -> None:
    """``fig.savefig`` (matplotlib, format from the suffix) to ``path`` atomically."""
    buf = io.BytesIO()
    fig.savefig(buf, format=osp.splitext(path)[1].lstrip('.') or 'png', **kwargs)
    atomic_write_bytes(path, buf.getvalue())


def read_jsonl(pattern: str, key: Optional[Callable[[dict], Hashable]] = None) -> Dict:
    """Records of every ``*.jsonl`` matching ``pattern``, merged per ``key(record)``.

    ``key`` defaults to the record's ``file``. Bad lines are skipped (a killed run may leave a
    torn last line); later records of a key add to earlier ones (a rerun with more image-quality
    metrics appends only the new ones).
    """
    out = {}
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding='utf-8') as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(rec, dict) and 'file' in rec:
                    out.setdefault(rec['file'] if key is None else key(rec), {}).update(rec)
    return out


def append_jsonl(path: str, rec: dict) -> None:
    """Append one record line, first ending a torn last line a killed run may have left.

    Not fsync'ed (~1 ms per image): what a killed process wrote is in the OS already; a machine
    crash can lose the last lines, whose images are then simply super-resolved again.
    """
    torn = False
    if osp.isfile(path) and os.path.getsize(path):
        with open(path, 'rb') as f:
            f.seek(-1, os.SEEK_END)
            torn = f.read(1) != b'\n'
    with open(path, 'a', encoding='utf-8') as f:
        f.write(('\n' if torn else '') + json.dumps(rec) + '\n')


def file_sha256(path: str) -> Optional[str]:
    """SHA-256 (hex) of a file's bytes, or None when it cannot be read.

    Memoised within the process per (path, inode, size, mtime_ns, ctime_ns): any write or
    replacement of the file changes one of them (ctime cannot be set back by copy tools).
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    memo_key = (osp.abspath(path), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if memo_key not in _SHA_MEMO:
        h = hashlib.sha256()
        try:
            with open(path, 'rb') as f:
                for chunk in iter(lambda: f.read(1 << 20), b''):
                    h.update(chunk)
        except OSError:
            return None
        _SHA_MEMO[memo_key] = h.hexdigest()
    return _SHA_MEMO[memo_key]


_SHA_MEMO: Dict[tuple, str] = {}
