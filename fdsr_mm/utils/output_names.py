"""One distinct output name per input file, so that two inputs never write the same output.

Tools that write one output per input image (``make_lr_coco``: ``images/<stem>.png``;
``sr_detect``: ``vis/<stem>.jpg``, ``preds/<stem>.json``) drop the input's extension; ``a.png``
and ``a.jpg`` would then share ``a``, and the second output would replace the first.
"""
import os.path as osp
import posixpath
from collections import Counter
from typing import List, Sequence


def safe_relative(path: str) -> str:
    """``path`` as a relative '/'-separated path that stays inside the folder it is joined to.

    A normalised path that is absolute or climbs out (``../x.png``) keeps its base name only.
    """
    rel = posixpath.normpath(str(path).replace('\\', '/'))
    if rel.startswith(('/', '../')) or rel in ('..', '.') or osp.isabs(path):
        rel = posixpath.basename(rel.rstrip('/')) or 'image'
    return rel


def unique_stems(paths: Sequence[str]) -> List[str]:
    """Distinct output stems (relative, '/'-separated, no extension), one per input path.

    The stem is the path without its extension (after :func:`safe_relative`) when no other input
    has that stem (compared case-insensitively: outputs may land on a case-insensitive file
    system); inputs that share it get ``<stem>_<ext>`` (``a.png``, ``a.jpg`` -> ``a_png``,
    ``a_jpg``), then ``_2``, ``_3``, ... if that is taken too. The result depends on the list
    only (the same inputs always get the same names, so a rerun finds its earlier outputs).
    """
    rels = [safe_relative(p) for p in paths]
    plain = [posixpath.splitext(r)[0] for r in rels]
    count = Counter(s.lower() for s in plain)
    names: List[str] = [s if count[s.lower()] == 1 else '' for s in plain]
    taken = {n.lower() for n in names if n}
    for i, (rel, stem) in enumerate(zip(rels, plain)):
        if names[i]:
            continue
        ext = posixpath.splitext(rel)[1].lstrip('.') or 'noext'
        base = name = f'{stem}_{ext}'
        k = 2
        while name.lower() in taken:
            name, k = f'{base}_{k}', k + 1
        taken.add(name.lower())
        names[i] = name
    return names


def is_within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (symbolic links resolved)."""
    path, folder = osp.realpath(path), osp.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(osp.sep) + osp.sep)


def overlaps(a: str, b: str) -> bool:
    """Whether folders ``a`` and ``b`` are the same folder or one contains the other."""
    return is_within(a, b) or is_within(b, a)
