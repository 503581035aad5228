"""The tools' one warning filter: hide third-party deprecation notices, keep fdsr_mm's own.

Importing the OpenMMLab stack prints a screen of ``FutureWarning``/``DeprecationWarning`` lines
from code no user of a tool can change (diffusers' renamed models and ``torch.jit.script`` through
``mmagic.models``, and the like). A tool's output should be its own lines, so every ``tools/*.py``
calls :func:`quiet_third_party_warnings` before it imports mmengine, mmdet, mmagic or fdsr_mm.

This module is stdlib-only and lives beside the tools, not in :mod:`fdsr_mm`: importing any
``fdsr_mm.*`` module first runs ``fdsr_mm/__init__.py``, which imports the whole stack (and with it
the notices) before a filter from there could act. ``python tools/x.py`` (and ``mim train``'s
``.mim/tools/x.py``) has the tools folder on ``sys.path``, so ``from quiet_imports import ...``
works without installing anything. The library itself never touches the warning filters: a
program that imports :mod:`fdsr_mm` keeps its own.
"""
import sys
import warnings

#: ``module`` regex of the filters: every module except fdsr_mm's and the running tool's own.
THIRD_PARTY = r'(?!(fdsr_mm|__main__)(\.|$))'


def quiet_third_party_warnings() -> None:
    """Ignore DeprecationWarning/FutureWarning raised from modules outside fdsr_mm.

    A user's ``-W``/``PYTHONWARNINGS`` options win: with any of them given, nothing is changed.
    """
    if sys.warnoptions:
        return
    for category in (DeprecationWarning, FutureWarning):
        warnings.filterwarnings('ignore', category=category, module=THIRD_PARTY)
