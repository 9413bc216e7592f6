"""Recycled output buffers: large results reuse memory that earlier results gave back.

Writing a fresh 80 MB result costs more in page faults (the kernel zeroing new
pages) than computing it: about 60 ms against 4 ms into memory already mapped.
So a large output is a view of a block from a pool, and the block goes back to
the pool when the last array viewing it is collected. Every view NumPy derives
from the result keeps the same ``memoryview`` alive, so the block can never be
handed out while any of them exists.
"""

from __future__ import annotations

import functools
import math
import threading
import weakref
from collections.abc import Callable

import numpy as np

# Below this an allocation is cheap (malloc reuses freed memory without faults).
POOLED_MIN = 1 << 20
# Idle memory the pool may hold; blocks given back beyond it are freed.
IDLE_MAX = 1 << 30
_PER_SIZE = 4

_lock = threading.Lock()
_idle: dict[int, list[np.ndarray]] = {}
_idle_bytes = 0


def allocator(shape: tuple[int, ...], dtype: np.dtype) -> Callable[[], np.ndarray]:
    """A function returning uninitialized C-contiguous arrays of this shape and dtype,
    from the pool when they are large."""
    nbytes = dtype.itemsize * math.prod(shape)
    if nbytes < POOLED_MIN:
        return functools.partial(np.empty, shape, dtype)
    return functools.partial(_pooled, shape, dtype, nbytes)


def _pooled(shape: tuple[int, ...], dtype: np.dtype, nbytes: int) -> np.ndarray:
    global _idle_bytes
    with _lock:
        blocks = _idle.get(nbytes)
        if blocks:
            block = blocks.pop()
            _idle_bytes -= nbytes
        else:
            block = None
    if block is None:
        block = np.empty(nbytes, np.uint8)
    flat = np.frombuffer(memoryview(block), dtype)
    # NOTE: NumPy keeps its own memoryview of the buffer as the base; every array derived
    # from the result holds it (through ``flat``), so its death means none is left.
    weakref.finalize(flat.base, _give_back, block)
    return flat.reshape(shape)


def _give_back(block: np.ndarray) -> None:
    global _idle_bytes
    nbytes = block.nbytes
    with _lock:
        blocks = _idle.setdefault(nbytes, [])
        if len(blocks) < _PER_SIZE and _idle_bytes + nbytes <= IDLE_MAX:
            blocks.append(block)
            _idle_bytes += nbytes


def idle_bytes() -> int:
    """Memory held by the pool for reuse (for tests and diagnostics)."""
    return _idle_bytes
