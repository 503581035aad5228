"""Helpers shared by the benchmark scripts (not a package module: benchmarks/ is on ``sys.path``
when a script there runs)."""
import statistics
import time
from typing import List, Optional


def median_seconds(fn, repeats: int, warmup: bool = True) -> float:
    """Median wall time of ``repeats`` calls of ``fn`` (after one untimed call if ``warmup``)."""
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def write_record(path: Optional[str], lines: List[str]) -> None:
    """Write a benchmark's Markdown lines to ``path`` atomically (nothing when ``path`` is None)."""
    if path:
        from fdsr_mm.utils.io import atomic_write_text
        atomic_write_text(path, '\n'.join(lines) + '\n')
