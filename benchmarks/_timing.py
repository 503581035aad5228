"""Timing helpers shared by the benchmark scripts (not a package module: benchmarks/ is on
``sys.path`` when a script there runs)."""
import statistics
import time


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
