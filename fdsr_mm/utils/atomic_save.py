"""``torch.save`` that never leaves a half-written file or a ``*.tmp`` behind (tools' outputs)."""
import contextlib
import os
import os.path as osp
import tempfile


class AtomicSaveError(OSError):
    """The file could not be written; the message names it and says that nothing was written."""


def torch_save_atomic(obj, path: str, advice: str = '') -> None:
    """``torch.save`` to a temp file next to ``path`` (usual permissions), then rename.

    The temp file never outlives a failure (nor Ctrl-C, which is re-raised after cleaning up).

    Args:
        obj: What to save.
        path: The destination file.
        advice: Appended to the "Nothing was written" message of a failed write, e.g.
            ``'; free some space or pick another output path'``.

    Raises:
        AtomicSaveError: One line naming ``path`` and the reason.
    """
    import torch
    folder = osp.dirname(osp.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f'{osp.basename(path)}.', suffix='.tmp')
    except OSError as err:
        raise AtomicSaveError(f'cannot write {path}: cannot create a file in {folder} '
                              f'({err.strerror or err}). Pick an output path in a writable '
                              'folder.') from err
    try:
        with os.fdopen(fd, 'wb') as f:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
            torch.save(obj, f)
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        if not isinstance(err, Exception):  # Ctrl-C: clean up, then stop as asked
            raise
        why = err.strerror if isinstance(err, OSError) and err.strerror else \
            (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise AtomicSaveError(f'cannot write {path}: {why}. Nothing was written{advice}.') \
            from err
