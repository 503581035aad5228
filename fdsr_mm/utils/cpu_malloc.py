"""Keep freed tensor memory in the process (glibc ``mallopt``), so CPU work stops paying the
kernel for fresh pages on every large allocation.

Why: glibc serves an allocation of more than its mmap threshold (128 KiB, raised dynamically to
at most 32 MiB) with a fresh ``mmap`` and gives it back with ``munmap`` when freed; the top of
the heap is also given back once more than twice that threshold is free. A D-DBPN x4 forward
on a 64x64 input allocates and frees about a hundred 16-112 MiB feature maps, so each of them
page-faults in zeroed pages again. Measured on the 2-core test machine (1 thread, idle,
``benchmarks/bench_efficiency.py``): that costs D-DBPN's forward about a fifth of its time;
training steps and detectors gain too. Numbers do not change: only where memory comes from.

:func:`tune_cpu_malloc` sets, for this process and the processes it forks:

- ``M_MMAP_THRESHOLD`` 32 MiB (glibc's largest): blocks up to 32 MiB come from the heap and are
  reused;
- ``M_TRIM_THRESHOLD`` 1 GiB: freed memory at the top of the heap stays with the process until
  more than 1 GiB of it is free (the cost: a process keeps up to that much of its peak memory);
- ``M_TOP_PAD`` 256 MiB: the heap grows in large steps.

The tools (``train``, ``test``, ``cascade_eval``, ``sr_detect``, ``make_lr_coco``,
``run_study``) call it first. ``FDSR_MM_MALLOC=default`` in the environment turns it off, and so
does any ``MALLOC_*`` tunable the user set (their choice wins), as does a non-glibc C library
(then the function does nothing and says so). Stdlib only.
"""
import ctypes
import os
import platform
from typing import Optional

#: ``mallopt`` parameter numbers of glibc's ``malloc.h``.
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3

#: The values set by :func:`tune_cpu_malloc`, in bytes.
SETTINGS = {M_MMAP_THRESHOLD: 32 << 20, M_TRIM_THRESHOLD: 1 << 30, M_TOP_PAD: 256 << 20}

#: Set to ``default`` to leave glibc's allocator as it is.
ENV_SWITCH = 'FDSR_MM_MALLOC'

#: The environment variables by which a user tunes glibc's malloc directly (glibc.malloc.*
#: tunables or the older MALLOC_*_ ones): with any of them set, nothing is changed.
USER_TUNABLES = ('GLIBC_TUNABLES', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_',
                 'MALLOC_TOP_PAD_', 'MALLOC_MMAP_MAX_')


def skip_reason() -> Optional[str]:
    """Why :func:`tune_cpu_malloc` would leave the allocator alone, or None."""
    if os.environ.get(ENV_SWITCH, '').lower() == 'default':
        return f'{ENV_SWITCH}=default'
    user = [name for name in USER_TUNABLES if name in os.environ]
    if user:
        return f'the user set {user[0]}'
    if platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc':
        return 'not glibc'
    return None


def tune_cpu_malloc() -> bool:
    """Apply :data:`SETTINGS` with ``mallopt``; True when all were accepted.

    Safe to call more than once and from any process; returns False (changing nothing) when
    :func:`skip_reason` gives a reason.
    """
    if skip_reason() is not None:
        return False
    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in SETTINGS.items())
