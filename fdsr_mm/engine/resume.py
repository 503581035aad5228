"""Choose the checkpoint ``--resume`` continues from, refusing the known silent faults.

mmengine's auto-resume reads ``work_dir/last_checkpoint`` and loads whatever path it names. That
goes wrong silently or with a traceback when the file is empty, when the checkpoint it names was
cut short (a crash or a full disk while saving), or when the work dir was copied: mmengine writes
absolute paths, so a copy would resume from (and keep reading) the original folder's files.
:func:`resolve_resume` checks all of that before the runner is built and sets ``cfg.load_from``
to the checkpoint to resume from. That checkpoint must then fit the config's model and optimizer
type (a resume after a config change that alters either is one error line):
:class:`fdsr_mm.engine.checkpoint_fit.CheckpointFitHook`.
"""
import glob
import os.path as osp
import re
import zipfile
from typing import List, Optional, Tuple

from mmengine.config import Config

LAST_CHECKPOINT = 'last_checkpoint'


class ResumeError(ValueError):
    """The checkpoint to resume from is missing, corrupt or outside the work dir."""


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` is not an intact torch checkpoint, or None if it is.

    A torch (>= 1.6) checkpoint is a zip archive: a file cut short loses the archive's central
    directory, and every member carries a CRC32 that catches altered bytes (which ``torch.load``
    itself does not check).
    """
    if not osp.isfile(path):
        return 'no such file'
    if not zipfile.is_zipfile(path):
        return 'truncated or corrupt: not a complete torch zip archive'
    try:
        with zipfile.ZipFile(path) as archive:
            bad_member = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        return f'truncated or corrupt: {err}'
    if bad_member is not None:
        return f'truncated or corrupt: member {bad_member} fails its CRC check'
    return None


def _step(path: str) -> int:
    found = re.search(r'(\d+)\.pth$', osp.basename(path))
    return int(found.group(1)) if found else -1


def latest_intact_checkpoint(ckpt_dirs: List[str], exclude: str = '') -> Optional[str]:
    """The intact ``iter_N.pth``/``epoch_N.pth`` with the largest N, other than ``exclude``."""
    candidates = sorted({p for d in ckpt_dirs for p in glob.glob(osp.join(d, '*_*.pth'))},
                        key=_step, reverse=True)
    for path in candidates:
        if exclude and osp.realpath(path) == osp.realpath(exclude):
            continue
        if checkpoint_problem(path) is None:
            return path
    return None


def _is_inside(path: str, directory: str) -> bool:
    path, directory = osp.realpath(path), osp.realpath(directory)
    return osp.commonpath([path, directory]) == directory


def _checkpoint_dirs(cfg: Config, work_dir: str) -> List[str]:
    """Where ``CheckpointHook`` writes: the work dir, or ``out_dir/<work dir name>``."""
    out_dir = ((cfg.get('default_hooks') or {}).get('checkpoint') or {}).get('out_dir')
    if out_dir and '://' not in str(out_dir):
        return [work_dir, osp.join(osp.abspath(out_dir), osp.basename(work_dir))]
    return [work_dir]


def _read_last_checkpoint(work_dir: str, ckpt_dirs: List[str]) -> Optional[str]:
    """The path ``work_dir/last_checkpoint`` names; None without that file."""
    record = osp.join(work_dir, LAST_CHECKPOINT)
    if not osp.isfile(record):
        return None
    with open(record) as f:
        named = f.read().strip()
    if not named:
        latest = latest_intact_checkpoint(ckpt_dirs)
        hint = f' (latest intact one here: {latest})' if latest else ''
        raise ResumeError(
            f'{record} is empty: mmengine writes into it the path of the checkpoint that --resume '
            f'continues from; pass --resume PATH{hint}, or delete the file to train from scratch')
    return named


def _relocate(named: str, work_dir: str, ckpt_dirs: List[str]) -> Tuple[str, Optional[str]]:
    """``named`` if it lies in this run's checkpoint dirs, else the same-named file inside them."""
    if any(_is_inside(named, d) for d in ckpt_dirs):
        return named, None
    record = osp.join(work_dir, LAST_CHECKPOINT)
    for directory in ckpt_dirs:
        local = osp.join(directory, osp.basename(named))
        if osp.isfile(local):
            return local, (f'{record} names {named}, outside this work dir (a copied work dir?); '
                           f'resuming from {local} instead')
    raise ResumeError(
        f'{record} names {named}, outside this work dir {work_dir} (copied from another run?), '
        f'and no {osp.basename(named)} is inside it; pass --resume {named} to continue from that '
        f'file on purpose, or delete {record} to train from scratch')


def _check_intact(path: str, ckpt_dirs: List[str], origin: str) -> None:
    """Raise if ``path`` is missing or not intact, naming the latest intact alternative."""
    problem = checkpoint_problem(path)
    if problem is None:
        return
    previous = latest_intact_checkpoint(ckpt_dirs, exclude=path)
    advice = (f'resume from the latest intact checkpoint with --resume {previous}' if previous
              else f'no intact checkpoint is left in {ckpt_dirs[0]}: delete its '
              f'{LAST_CHECKPOINT} file to train from scratch')
    problem = 'does not exist' if problem == 'no such file' else f'is {problem}'
    raise ResumeError(f'{path} ({origin}) {problem}; {advice}')


def resolve_resume(cfg: Config, init_from: Optional[str] = None) -> List[str]:
    """Check and set the checkpoint a ``cfg.resume`` run continues from.

    With ``cfg.load_from`` unset this replaces mmengine's auto-resume: the checkpoint named by
    ``work_dir/last_checkpoint`` (one outside the work dir is replaced by the same-named file
    inside it) becomes ``cfg.load_from``. A local checkpoint must be intact. Without
    ``last_checkpoint`` the run starts from ``init_from`` (the config's own ``load_from``, e.g.
    the pre-trained weights of a fine-tune) as a fresh run, or from scratch without it.

    Args:
        cfg (Config): the run's config, with ``work_dir`` set; modified in place.
        init_from (str, optional): the config's ``load_from`` that ``--resume`` (no path)
            replaced.

    Returns:
        list[str]: notes for the run's log (e.g. a checkpoint taken from inside the work dir).

    Raises:
        ResumeError: one line naming the faulty file and the fix.
    """
    if not cfg.get('resume', False):
        return []
    work_dir = osp.abspath(cfg.work_dir)
    ckpt_dirs = _checkpoint_dirs(cfg, work_dir)
    if cfg.get('load_from'):
        if '://' not in cfg.load_from:
            _check_intact(cfg.load_from, ckpt_dirs, 'given to --resume')
        return []
    named = _read_last_checkpoint(work_dir, ckpt_dirs)
    if named is None:
        if not init_from:
            return []
        # nothing to resume yet: a fine-tune starts from its config's weights, not from scratch
        cfg.resume, cfg.load_from = False, init_from
        return [f'--resume: no checkpoint in {work_dir} yet; starting from the config\'s '
                f'load_from {init_from}']
    path, note = _relocate(named, work_dir, ckpt_dirs)
    _check_intact(path, ckpt_dirs, f'named by {osp.join(work_dir, LAST_CHECKPOINT)}')
    cfg.load_from = path
    return [note] if note else []
