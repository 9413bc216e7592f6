"""The ``gemm`` op run by the BLAS that NumPy's wheel bundles, called directly.

NumPy's ``matmul`` calls its BLAS for ``a @ b`` but has no call for
``alpha * (a @ b) + beta * c``, which it computes in three passes over the result.
NumPy's wheels ship OpenBLAS with the ``scipy_`` symbol prefix
(``numpy.libs/libscipy_openblas64_*.so``, ILP64 symbols ending in ``64_``); that
library, already loaded by NumPy (so sharing its thread settings), is opened here
through cffi's ABI mode, needing no compiler. An operand BLAS can read as it is
(rows or columns contiguous: a transposed view is read with the transpose flag) is
passed without a copy; ``c`` is copied into the fresh result, which BLAS then scales
by ``beta`` and accumulates into. Where the library is absent (another NumPy build),
the op's NumPy reference runs.

Importing this module installs ``gemm`` as the op's ``impl``, which the NumPy
backend steps of a program call; the rewrites that form ``gemm`` import it.

Threads: OpenBLAS's worker threads spin for about 0.1 s after each threaded call,
and on a machine whose cores lazyarr's OpenMP kernels use too, the two sets of
threads then take turns on the cores (the MNIST demo's epoch took 2.5 times as long
with threaded BLAS between its kernels as without). So programs that mix kernels and
BLAS call BLAS single-threaded on the calling thread (``hold``/``release``, through
OpenBLAS's thread-local count), and ``gemm`` splits a large product into row panels
that ``config.num_threads()`` threads compute at once, each calling BLAS on one
thread: lazyarr's threads own the cores while a compiled program runs.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import glob
import os
import threading
from collections.abc import Callable

import cffi
import numpy as np

from .. import config
from .._ops import REGISTRY

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_DECLARATIONS = """
void {p}cblas_sgemm{s}(int, int, int, {i}, {i}, {i}, float, const float *, {i},
                       const float *, {i}, float, float *, {i});
void {p}cblas_dgemm{s}(int, int, int, {i}, {i}, {i}, double, const double *, {i},
                       const double *, {i}, double, double *, {i});
void {p}cblas_sgemv{s}(int, int, {i}, {i}, float, const float *, {i}, const float *, {i},
                       float, float *, {i});
void {p}cblas_dgemv{s}(int, int, {i}, {i}, double, const double *, {i}, const double *, {i},
                       double, double *, {i});
int openblas_set_num_threads_local(int);
"""
PARALLEL_MIN = 1 << 24  # multiply-adds from which gemm splits a product between threads


def _library() -> tuple[cffi.FFI, dict[str, Callable]] | None:
    """cffi and the GEMM and GEMV routines by dtype char, from NumPy's bundled OpenBLAS."""
    root = os.path.dirname(np.__file__)
    found = sorted(
        glob.glob(os.path.join(root, os.pardir, "numpy.libs", "libscipy_openblas*"))
        + glob.glob(os.path.join(root, ".dylibs", "libscipy_openblas*"))
    )
    for path in found:
        ilp64 = "openblas64_" in os.path.basename(path)
        ffi = cffi.FFI()
        p, s, i = "scipy_", "64_" if ilp64 else "", "int64_t" if ilp64 else "int"
        ffi.cdef(_DECLARATIONS.format(p=p, s=s, i=i))
        try:
            lib = ffi.dlopen(path)
            routines = {
                f"{kind}{char}": getattr(lib, f"{p}cblas_{prefix}{kind}{s}")
                for char, prefix in (("f", "s"), ("d", "d"))
                for kind in ("gemm", "gemv")
            }
        except (OSError, AttributeError):
            continue
        # NOTE: OpenBLAS before 0.3.27 has no thread-local count: BLAS keeps its threads.
        with contextlib.suppress(AttributeError):
            routines["threads"] = lib.openblas_set_num_threads_local
        return ffi, routines
    return None


_LOADED = _library()
_POINTERS = {"f": "float *", "d": "double *"}
reference = REGISTRY["gemm"].impl


def available() -> bool:
    """Whether ``gemm`` calls the BLAS (else NumPy's reference runs)."""
    return _LOADED is not None


def holds_threads() -> bool:
    """Whether ``hold`` can keep BLAS on the calling thread."""
    return _LOADED is not None and "threads" in _LOADED[1]


def hold() -> int:
    """BLAS on the calling thread only, until ``release`` with the value returned."""
    return _LOADED[1]["threads"](1)


def release(previous: int) -> None:
    _LOADED[1]["threads"](previous)


_pool: list[tuple[int, concurrent.futures.ThreadPoolExecutor]] = []
_pool_lock = threading.Lock()


def _workers(n: int) -> concurrent.futures.ThreadPoolExecutor:
    """Threads that call BLAS single-threaded, ``n`` of them at least."""
    with _pool_lock:
        if not _pool or _pool[0][0] < n:
            if _pool:
                _pool.pop()[1].shutdown(wait=False)
            executor = concurrent.futures.ThreadPoolExecutor(
                n, thread_name_prefix="lazyarr-blas", initializer=hold
            )
            _pool.append((n, executor))
        return _pool[0][1]


def _lead(rows: int, cols: int, row_stride: int, col_stride: int, item: int) -> int | None:
    """The leading dimension of a row-major matrix with these strides, or None."""
    if cols > 1 and col_stride != item:
        return None
    if rows == 1:
        return max(cols, 1)
    if row_stride % item or row_stride < max(cols, 1) * item:
        return None
    return row_stride // item


def _operand(x: np.ndarray) -> tuple[np.ndarray, int, int]:
    """``x`` as BLAS reads it, its transpose flag and leading dimension: as it is where
    its rows or its columns are contiguous, else a C-contiguous copy."""
    (r, c), (s0, s1), item = x.shape, x.strides, x.itemsize
    if x.flags.aligned and x.dtype.isnative:
        ld = _lead(r, c, s0, s1, item)
        if ld is not None:
            return x, _NO_TRANS, ld
        ld = _lead(c, r, s1, s0, item)
        if ld is not None:
            return x, _TRANS, ld
    return np.ascontiguousarray(x, x.dtype.newbyteorder("=")), _NO_TRANS, max(c, 1)


def gemm(a: np.ndarray, b: np.ndarray, *c: np.ndarray, alpha: float, beta: float | None = None):
    """``alpha * (a @ b) + beta * c`` in one BLAS call (a GEMV where ``a`` has one row or
    ``b`` one column), into a new array."""
    (m, k), n = a.shape, b.shape[1]
    char = a.dtype.char
    if _LOADED is None or 0 in (m, n, k) or char not in _POINTERS or b.dtype != a.dtype:
        return reference(a, b, *c, alpha=alpha, beta=beta)
    ffi, routines = _LOADED
    out = np.empty((m, n), a.dtype)
    if c:
        np.copyto(out, c[0])
    else:
        beta = 0.0
    pointer = _POINTERS[char]
    if n == 1 or m == 1:
        # y = alpha * A x + beta * y: A is a with x b's column, or b transposed with x a's row
        matrix, vector = (a, b[:, 0]) if n == 1 else (b.T, a[0])
        matrix, trans, ld = _operand(matrix)
        rows, cols = matrix.shape if trans == _NO_TRANS else matrix.shape[::-1]
        step = vector.strides[0] // vector.itemsize
        if vector.strides[0] % vector.itemsize or step <= 0:
            vector, step = np.ascontiguousarray(vector), 1
        routines["gemv" + char](
            _ROW_MAJOR,
            trans,
            rows,
            cols,
            alpha,
            ffi.cast(pointer, matrix.ctypes.data),
            ld,
            ffi.cast(pointer, vector.ctypes.data),
            step,
            beta,
            ffi.cast(pointer, out.ctypes.data),
            1,
        )
        return out
    a, trans_a, lda = _operand(a)
    b, trans_b, ldb = _operand(b)
    call = routines["gemm" + char]
    item = a.itemsize

    def rows(first: int, last: int) -> None:
        """Rows ``first:last`` of the result: those rows of ``a`` (its columns, read
        transposed)."""
        start = first * (lda if trans_a == _NO_TRANS else 1) * item
        call(
            *(_ROW_MAJOR, trans_a, trans_b, last - first, n, k, alpha),
            *(ffi.cast(pointer, a.ctypes.data + start), lda),
            *(ffi.cast(pointer, b.ctypes.data), ldb, beta),
            *(ffi.cast(pointer, out.ctypes.data + first * n * item), n),
        )

    parts = min(config.num_threads(), m // 64) if m * n * k >= PARALLEL_MIN else 1
    if parts <= 1 or not holds_threads():
        rows(0, m)
        return out
    bounds = [m * j // parts for j in range(parts + 1)]
    done = [_workers(parts - 1).submit(rows, *bounds[j : j + 2]) for j in range(1, parts)]
    held = hold()
    try:
        rows(*bounds[:2])
    finally:
        release(held)
    for future in done:
        future.result()
    return out


REGISTRY["gemm"].impl = gemm
