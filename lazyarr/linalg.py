"""The standard's ``linalg`` extension: ``xp.linalg``.

Decompositions, inverses and solvers are graph nodes whose NumPy reference calls
``np.linalg`` (LAPACK); norms, ``trace``, ``diagonal``, ``outer``, ``cross`` and
``matrix_rank`` are compositions of other ops, so they need no rules of their own.

>>> import lazyarr as xp
>>> a = xp.asarray([[2.0, 1.0], [1.0, 3.0]])
>>> round(float(xp.linalg.det(a)), 6)
5.0
"""

from __future__ import annotations

import builtins
import math
from typing import Any, NamedTuple

import numpy as np

from . import _dtypes
from ._array import Array
from ._axes import normalize_axes, normalize_axis
from ._builder import apply, broadcast_node, cast, elementwise, node_of, reshape_node, scalar_node
from ._errors import located
from ._graph import Node
from ._linear_algebra_functions import matmul, matrix_transpose, tensordot, vecdot
from ._manipulation_functions import stack
from ._ops import REGISTRY, broadcast_shapes
from ._statistical_functions import reduce

__all__ = [
    "cholesky",
    "cross",
    "det",
    "diagonal",
    "eig",
    "eigh",
    "eigvals",
    "eigvalsh",
    "inv",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "matrix_transpose",
    "outer",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "tensordot",
    "trace",
    "vecdot",
    "vector_norm",
]


class EighResult(NamedTuple):
    eigenvalues: Array
    eigenvectors: Array


class EigResult(NamedTuple):
    eigenvalues: Array
    eigenvectors: Array


class QRResult(NamedTuple):
    Q: Array
    R: Array


class SlogdetResult(NamedTuple):
    sign: Array
    logabsdet: Array


class SVDResult(NamedTuple):
    U: Array
    S: Array
    Vh: Array


def _matrices(
    x: Any,
    fname: str,
    *,
    square: builtins.bool = True,
    floating: builtins.bool = True,
    numeric: builtins.bool = True,
) -> Node:
    """``x`` as a stack of (square) matrices; ``floating``: integers become the default float."""
    node = node_of(x, f"{fname}: x")
    if node.ndim < 2 or (square and node.shape[-1] != node.shape[-2]):
        what = "square matrices" if square else "matrices"
        raise located(ValueError, f"{fname}: x must be a stack of {what}, got shape {node.shape}")
    if floating:
        return _floating(node, fname)
    if numeric and _dtypes.is_bool(node.dtype):
        raise located(TypeError, f"{fname}: x must have a numeric dtype, got bool")
    return node


def _floating(node: Node, fname: str) -> Node:
    if _dtypes.is_bool(node.dtype):
        raise located(TypeError, f"{fname}: x must have a floating-point dtype, got bool")
    if _dtypes.is_integer(node.dtype):
        return cast(node, _dtypes.DEFAULT_FLOAT)
    return node


def _op(name: str, *inputs: Node, **params) -> Array:
    return apply(REGISTRY[name], inputs, **params)


def cholesky(x: Any, /, *, upper: builtins.bool = False) -> Array:
    """The Cholesky factor of Hermitian positive-definite matrices (lower unless ``upper``)."""
    return _op("cholesky", _matrices(x, "cholesky"), upper=builtins.bool(upper))


def cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Array:
    """Cross product of 3-element vectors along ``axis``, broadcasting the other axes."""
    a, b = node_of(x1, "cross: x1"), node_of(x2, "cross: x2")
    if a.ndim == 0 or b.ndim == 0:
        raise located(ValueError, "cross: x1 and x2 must have at least one dimension")
    try:
        shape = broadcast_shapes(a.shape, b.shape)
    except ValueError as e:
        raise located(ValueError, f"cross: {e}") from None
    axis = normalize_axis(axis, len(shape), "cross") - len(shape)
    if -axis > builtins.min(a.ndim, b.ndim) or a.shape[axis] != 3 or b.shape[axis] != 3:
        raise located(
            ValueError, f"cross: x1 {a.shape} and x2 {b.shape} need size 3 along axis {axis}"
        )
    if _dtypes.is_bool(a.dtype) or _dtypes.is_bool(b.dtype):
        raise located(TypeError, "cross: x1 and x2 must have numeric dtypes")
    u = _components(Array._new(broadcast_node(a, shape)), axis)
    v = _components(Array._new(broadcast_node(b, shape)), axis)
    parts = [
        u[1] * v[2] - u[2] * v[1],
        u[2] * v[0] - u[0] * v[2],
        u[0] * v[1] - u[1] * v[0],
    ]
    return stack(parts, axis=axis)


def _components(x: Array, axis: int) -> list[Array]:
    index = [slice(None)] * x.ndim
    out = []
    for i in range(3):
        index[axis] = i
        out.append(x[tuple(index)])
    return out


def det(x: Any, /) -> Array:
    """Determinant of each square matrix."""
    return _op("det", _matrices(x, "det"))


def diagonal(x: Any, /, *, offset: int = 0) -> Array:
    """The ``offset``-th diagonal of each matrix (the last two axes)."""
    node = _matrices(x, "diagonal", square=False, floating=False, numeric=False)
    offset = _int(offset, "diagonal", "offset")
    n, m = node.shape[-2:]
    length = builtins.max(
        0, builtins.min(n, m - offset) if offset >= 0 else builtins.min(n + offset, m)
    )
    batch = node.shape[:-2]
    flat = reshape_node(node, batch + (n * m,))
    if length == 0:
        slices = tuple((0, d, 1) for d in batch) + ((0, 0, 1),)
    else:
        start = offset if offset >= 0 else -offset * m
        slices = tuple((0, d, 1) for d in batch) + (
            (start, start + (length - 1) * (m + 1) + 1, m + 1),
        )
    return apply(REGISTRY["slice"], (flat,), slices=slices)


def _int(value: Any, fname: str, what: str) -> int:
    if isinstance(value, builtins.bool) or not isinstance(value, (int, np.integer)):
        raise located(TypeError, f"{fname}: {what} must be an int, got {type(value).__name__}")
    return int(value)


def eigh(x: Any, /) -> EighResult:
    """Eigenvalues (ascending) and eigenvectors of Hermitian or real symmetric matrices."""
    node = _matrices(x, "eigh")
    return EighResult(_op("eigh", node, part=0), _op("eigh", node, part=1))


def eigvalsh(x: Any, /) -> Array:
    """Eigenvalues (ascending) of Hermitian or real symmetric matrices."""
    return _op("eigh", _matrices(x, "eigvalsh"), part=0)


def eig(x: Any, /) -> EigResult:
    """Eigenvalues and eigenvectors of general square matrices, as complex arrays."""
    node = _matrices(x, "eig")
    return EigResult(_op("eig", node, part=0), _op("eig", node, part=1))


def eigvals(x: Any, /) -> Array:
    """Eigenvalues of general square matrices, as a complex array."""
    return _op("eig", _matrices(x, "eigvals"), part=0)


def inv(x: Any, /) -> Array:
    """Inverse of each square matrix."""
    return _op("inv", _matrices(x, "inv"))


def matrix_power(x: Any, n: int, /) -> Array:
    """Each square matrix raised to the integer power ``n`` (negative: of its inverse)."""
    n = _int(n, "matrix_power", "n")
    node = _matrices(x, "matrix_power", floating=n < 0)
    return _op("matrix_power", node, n=n)


def outer(x1: Any, x2: Any, /) -> Array:
    """Outer product of two vectors."""
    a, b = node_of(x1, "outer: x1"), node_of(x2, "outer: x2")
    if a.ndim != 1 or b.ndim != 1:
        raise located(ValueError, f"outer: x1 and x2 must be 1-D, got {a.shape} and {b.shape}")
    return Array._new(reshape_node(a, (a.shape[0], 1))) * Array._new(
        reshape_node(b, (1, b.shape[0]))
    )


def _rtol(rtol: Any, node: Node, fname: str) -> Array:
    """The relative tolerance as an array of the real dtype of ``node`` (default max(M, N)·eps)."""
    real = _dtypes.real_dtype(node.dtype)
    if rtol is None:
        rtol = builtins.max(node.shape[-2:]) * float(np.finfo(real).eps)
    if isinstance(rtol, (int, float)) and not isinstance(rtol, builtins.bool):
        return Array._new(scalar_node(float(rtol), real))
    r = node_of(rtol, f"{fname}: rtol")
    if r.dtype.kind != "f":
        raise located(TypeError, f"{fname}: rtol must have a real floating-point dtype")
    try:
        broadcast_shapes(r.shape, node.shape[:-2])
    except ValueError as e:
        raise located(ValueError, f"{fname}: rtol: {e}") from None
    return Array._new(r)


def matrix_rank(x: Any, /, *, rtol: Any = None) -> Array:
    """Number of singular values above ``rtol`` times the largest one, per matrix."""
    node = _matrices(x, "matrix_rank", square=False)
    s = svdvals(Array._new(node))
    tol = _rtol(rtol, node, "matrix_rank")
    if s.shape[-1] == 0:
        return reduce("sum", s > 0, -1, False, dtype=_dtypes.DEFAULT_INT)
    largest = reduce("max", s, -1, True)
    cutoff = largest * Array._new(reshape_node(tol._node, tol.shape + (1,)))
    return reduce("sum", s > cutoff, -1, False, dtype=_dtypes.DEFAULT_INT)


def pinv(x: Any, /, *, rtol: Any = None) -> Array:
    """Moore-Penrose pseudo-inverse of each matrix."""
    node = _matrices(x, "pinv", square=False)
    tol = _rtol(rtol, node, "pinv")
    return _op("pinv", node, cast(tol._node, _dtypes.real_dtype(node.dtype)))


def qr(x: Any, /, *, mode: str = "reduced") -> QRResult:
    """QR decomposition of each matrix (``mode``: 'reduced' or 'complete')."""
    if mode not in ("reduced", "complete"):
        raise located(ValueError, f"qr: mode must be 'reduced' or 'complete', got {mode!r}")
    node = _matrices(x, "qr", square=False)
    return QRResult(_op("qr", node, mode=mode, part=0), _op("qr", node, mode=mode, part=1))


def slogdet(x: Any, /) -> SlogdetResult:
    """Sign and natural log of the absolute determinant of each square matrix."""
    node = _matrices(x, "slogdet")
    return SlogdetResult(_op("slogdet", node, part=0), _op("slogdet", node, part=1))


def solve(x1: Any, x2: Any, /) -> Array:
    """The solution of ``x1 @ out = x2``; a 1-D ``x2`` is one vector for every matrix."""
    a = _matrices(x1, "solve")
    b = node_of(x2, "solve: x2")
    if _dtypes.is_bool(b.dtype):
        raise located(TypeError, "solve: x2 must have a floating-point dtype, got bool")
    m = a.shape[-1]
    if b.ndim == 0 or b.shape[-1 if b.ndim == 1 else -2] != m:
        raise located(ValueError, f"solve: shapes {a.shape} and {b.shape} do not align")
    if b.ndim > 1:
        try:
            broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError as e:
            raise located(ValueError, f"solve: batch dimensions: {e}") from None
    dtype = _dtypes.promote(a.dtype, b.dtype)
    if _dtypes.is_integer(dtype):
        dtype = _dtypes.DEFAULT_FLOAT
    return _op("solve", cast(a, dtype), cast(b, dtype))


def svd(x: Any, /, *, full_matrices: builtins.bool = True) -> SVDResult:
    """Singular value decomposition ``x = U @ diag(S) @ Vh`` of each matrix."""
    node = _matrices(x, "svd", square=False)
    full = builtins.bool(full_matrices)
    return SVDResult(*(_op("svd", node, full_matrices=full, part=p) for p in range(3)))


def svdvals(x: Any, /) -> Array:
    """Singular values of each matrix, in descending order."""
    return _op("svdvals", _matrices(x, "svdvals", square=False))


def trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Array:
    """Sum of the ``offset``-th diagonal of each matrix, accumulated as ``sum`` does."""
    d = diagonal(x, offset=offset)
    if dtype is not None:
        try:
            dtype = _dtypes.normalize(dtype)
        except TypeError as e:
            raise located(TypeError, f"trace: {e}") from None
    return reduce("sum", d, -1, False, dtype=dtype)


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def matrix_norm(x: Any, /, *, keepdims: builtins.bool = False, ord: Any = "fro") -> Array:
    """Matrix norm over the last two axes: 'fro', 'nuc', 1, -1, 2, -2, inf or -inf."""
    node = _matrices(x, "matrix_norm", square=False)
    if ord not in _MATRIX_ORDS or isinstance(ord, builtins.bool):
        raise located(ValueError, f"matrix_norm: unsupported ord {ord!r}")
    a = elementwise("abs", Array._new(node))
    axes = (node.ndim - 2, node.ndim - 1)
    if ord == "fro":
        out = _root(reduce("sum", a * a, axes, False), 2)
    elif ord in ("nuc", 2, -2):
        s = svdvals(Array._new(node))
        out = reduce({"nuc": "sum", 2: "max", -2: "min"}[ord], s, -1, False)
    else:
        inner, outer = (-2, -1) if ord in (1, -1) else (-1, -2)
        sums = reduce("sum", a, node.ndim + inner, True)
        out = reduce("max" if ord > 0 else "min", sums, node.ndim + outer, True)
        out = Array._new(reshape_node(out._node, node.shape[:-2]))
    if keepdims:
        out = Array._new(reshape_node(out._node, node.shape[:-2] + (1, 1)))
    return out


def vector_norm(
    x: Any, /, *, axis: Any = None, keepdims: builtins.bool = False, ord: Any = 2
) -> Array:
    """Vector p-norm over ``axis`` (default: all axes, as one vector)."""
    node = _floating(node_of(x, "vector_norm: x"), "vector_norm")
    if isinstance(ord, builtins.bool) or not isinstance(ord, (int, float)):
        raise located(ValueError, f"vector_norm: ord must be a number, got {ord!r}")
    axes = normalize_axes(axis, node.ndim, "vector_norm")
    a = elementwise("abs", Array._new(node))
    if ord in (math.inf, -math.inf):
        if builtins.any(node.shape[i] == 0 for i in axes):
            raise located(ValueError, f"vector_norm: ord={ord} over an empty axis has no value")
        out = reduce("max" if ord > 0 else "min", a, axes, keepdims)
    elif ord == 0:
        out = reduce("sum", a != 0, axes, keepdims, dtype=a.dtype)
    elif ord == 1:
        out = reduce("sum", a, axes, keepdims)
    elif ord == 2:
        out = _root(reduce("sum", a * a, axes, keepdims), 2)
    else:
        if ord < 1:  # a ** (ord - 1), in the derivative of a ** ord, is infinite at a == 0
            zero = a == 0
            safe = elementwise("where", zero, 1, a) ** float(ord)
            a = elementwise("where", zero, 0.0 if ord > 0 else math.inf, safe)
        else:
            a = a ** float(ord)
        out = _root(reduce("sum", a, axes, keepdims), ord)
    return out


def _root(total: Array, p: Any) -> Array:
    """``total ** (1 / p)``, whose gradient is 0 where ``total`` is 0 (for ``p > 0``).

    The gradient of a norm at a zero vector is the zero subgradient, as in PyTorch, not
    the NaN of the composite (an infinite derivative of the root times zeros): written
    ``where(total == 0, 0, root(where(total == 0, 1, total)))``, the same values, because
    ``grad`` sends exactly zero into the branch ``where`` did not take.
    """

    def root(t: Array) -> Array:
        return elementwise("sqrt", t) if p == 2 else t ** (1.0 / p)

    if p < 0:
        return root(total)
    zero = total == 0
    return elementwise("where", zero, 0, root(elementwise("where", zero, 1, total)))
