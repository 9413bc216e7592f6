"""Shared timing helpers for the benchmarks: medians of repeats after warm-up."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

# Every thread pool a benchmarked library may start: its size is read when it starts.
_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMEXPR_MAX_THREADS",
    "LAZYARR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


def limit_threads(threads: int | None) -> None:
    """Give every library ``threads`` threads (None: each its own default).

    Must run before NumPy, its BLAS, numexpr, Numba or XLA start their pools, so this
    module imports nothing of theirs.
    """
    if threads is None:
        return
    for var in _THREAD_VARIABLES:
        os.environ[var] = str(threads)
    if threads == 1:
        os.environ["XLA_FLAGS"] = (
            "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        )


def optional(name: str):
    """The module ``name``, or None: a peer that does not import is simply absent."""
    try:
        return __import__(name)
    except Exception:
        return None


def median_time(fn: Callable[[], object], *, repeats: int = 7, min_time: float = 0.05) -> float:
    """Median seconds per call of ``fn``, each repeat long enough to time reliably."""
    fn()  # warm-up
    number = 1
    while True:
        t = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - t >= min_time:
            break
        number *= 2
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t) / number)
    return statistics.median(samples)


def machine_load() -> str:
    """The 1/5/15-minute load averages: the machine is shared, so say how busy it was."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load average unavailable"
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:8.2f} ms"
    return f"{seconds:8.2f} s "


def time_runners(runners: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median time of each runner; a failing peer is reported, not fatal."""
    times = {}
    for name, fn in runners.items():
        try:
            times[name] = median_time(fn, repeats=repeats)
        except Exception as e:
            print(f"  {name}: failed ({type(e).__name__}: {e})")
    return times
