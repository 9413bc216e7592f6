"""Shared timing helpers for the benchmarks: medians of repeats after warm-up."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable


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
