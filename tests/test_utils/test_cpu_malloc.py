"""tune_cpu_malloc: large tensor blocks come from the reusable heap instead of fresh mmaps, and
the user's own choice (FDSR_MM_MALLOC=default, a MALLOC_* tunable) is left alone.

Each case runs in a fresh interpreter: the allocator's settings are per process."""
import os
import platform
import subprocess
import sys
import textwrap

import pytest

from fdsr_mm.utils.cpu_malloc import ENV_SWITCH, skip_reason

glibc = pytest.mark.skipif(platform.libc_ver()[0] != 'glibc', reason='glibc mallopt')

# Bytes glibc holds in mmapped blocks (mallinfo2().hblkhd) before and after a 16 MiB tensor.
PROBE = textwrap.dedent('''
    import ctypes, sys
    import torch
    from fdsr_mm.utils.cpu_malloc import tune_cpu_malloc

    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in (
            'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks',
            'fordblks', 'keepcost')]

    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2
    tuned = tune_cpu_malloc()
    before = libc.mallinfo2().hblkhd
    x = torch.empty(4 << 20)  # 16 MiB of float32
    grown = libc.mallinfo2().hblkhd - before
    print(tuned, grown >= (16 << 20))
''')


def probe(**env) -> str:
    full = {k: v for k, v in os.environ.items() if k != ENV_SWITCH and not k.startswith('MALLOC_')}
    full.update(env)
    res = subprocess.run([sys.executable, '-c', PROBE], env=full, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout.split('\n')[-2]


@glibc
def test_tuned_a_16mib_tensor_comes_from_the_heap_not_a_fresh_mmap():
    assert probe() == 'True False'


@glibc
def test_default_switch_leaves_glibc_mmapping_large_blocks():
    # the control of the test above: untouched glibc serves a first 16 MiB block with mmap
    assert probe(**{ENV_SWITCH: 'default'}) == 'False True'


@glibc
def test_a_users_own_malloc_tunable_wins():
    assert probe(MALLOC_MMAP_THRESHOLD_='131072') == 'False True'


def test_skip_reasons_name_the_setting(monkeypatch):
    monkeypatch.setenv(ENV_SWITCH, 'default')
    assert skip_reason() == f'{ENV_SWITCH}=default'
    monkeypatch.delenv(ENV_SWITCH)
    monkeypatch.setenv('GLIBC_TUNABLES', 'glibc.malloc.trim_threshold=0')
    assert skip_reason() == 'the user set GLIBC_TUNABLES'
