"""Array creation functions of the standard.

Constant-filled arrays are a scalar constant broadcast to the shape, and ranges
are built from ``iota``, so ``xp.ones((10**6, 10**6))`` costs nothing until (and
unless) it is materialized.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _dtypes
from ._array import Array
from ._axes import normalize_shape
from ._builder import (
    apply,
    broadcast_node,
    cast,
    elementwise,
    from_numpy,
    node_of,
    reshape_node,
    scalar_node,
)
from ._devices import check_device
from ._errors import located
from ._ops import REGISTRY

_SCALARS = (builtins.bool, int, float, complex)


def _default_dtype_for(value: object) -> np.dtype:
    if isinstance(value, builtins.bool):
        return _dtypes.bool
    if isinstance(value, int):
        return _dtypes.DEFAULT_INT
    if isinstance(value, float):
        return _dtypes.DEFAULT_FLOAT
    if isinstance(value, complex):
        return _dtypes.DEFAULT_COMPLEX
    raise located(TypeError, f"expected a Python scalar, got {type(value).__name__}")


def _dtype_arg(dtype: object) -> np.dtype | None:
    if dtype is None:
        return None
    try:
        return _dtypes.normalize(dtype)
    except TypeError as e:
        raise located(TypeError, str(e)) from None


def asarray(
    obj: Any, /, *, dtype: Any = None, device: Any = None, copy: builtins.bool | None = None
) -> Array:
    """Convert an array, NumPy array, Python scalar or nested sequence into an Array.

    NumPy input is copied unless ``copy=False``: a lazy array must not change when
    the NumPy array it came from is modified later.

    >>> import lazyarr as xp
    >>> xp.asarray([[1, 2], [3, 4]], dtype=xp.float32).shape
    (2, 2)
    """
    check_device(device)
    dtype = _dtype_arg(dtype)
    if isinstance(obj, Array):
        if dtype is not None and dtype != obj.dtype:
            if copy is False:
                raise located(ValueError, "asarray: changing the dtype requires a copy")
            return Array._new(cast(obj._node, dtype))
        return Array._new(obj._node) if copy else obj
    if isinstance(obj, _SCALARS):
        return Array._new(scalar_node(obj, dtype or _default_dtype_for(obj)))
    if isinstance(obj, (list, tuple)) and _contains_array(obj):
        if copy is False:
            raise located(ValueError, "asarray: a sequence of arrays requires a copy")
        out = _stack_nested(obj)
        return out if dtype is None else Array._new(cast(out._node, dtype))
    if copy is False:
        if isinstance(obj, (list, tuple)):
            raise located(ValueError, "asarray: converting a Python sequence requires a copy")
        try:
            a = np.asarray(obj, dtype=dtype, copy=False)
        except ValueError as e:
            raise located(ValueError, f"asarray: {e}") from None
        return Array._new(from_numpy(a, copy=False))
    try:
        a = np.array(obj, dtype=dtype, copy=True)
    except OverflowError as e:
        raise located(OverflowError, f"asarray: {e}") from None
    except (TypeError, ValueError) as e:
        raise located(type(e), f"asarray: cannot convert {type(obj).__name__}: {e}") from None
    if a.dtype.kind in "OUSV":
        raise located(
            TypeError,
            f"asarray: cannot convert {type(obj).__name__} to a numeric "
            f"array (NumPy made dtype {a.dtype})",
        )
    a.flags.writeable = False
    return Array._new(from_numpy(a, copy=False))


def _contains_array(seq: Sequence) -> builtins.bool:
    return builtins.any(
        isinstance(e, Array) or (isinstance(e, (list, tuple)) and _contains_array(e)) for e in seq
    )


def _stack_nested(seq: Sequence) -> Array:
    from ._manipulation_functions import stack

    items = [_stack_nested(e) if isinstance(e, (list, tuple)) else asarray(e) for e in seq]
    return stack(items)


def full(shape: Any, fill_value: Any, *, dtype: Any = None, device: Any = None) -> Array:
    """An array of ``shape`` filled with ``fill_value`` (nothing is allocated until needed)."""
    check_device(device)
    shape = normalize_shape(shape, "full")
    dtype = _dtype_arg(dtype)
    if isinstance(fill_value, _SCALARS):
        node = scalar_node(fill_value, dtype or _default_dtype_for(fill_value))
    else:
        node = node_of(fill_value, "full: fill_value")
        if node.shape != ():
            raise located(ValueError, f"full: fill_value must be a scalar, got shape {node.shape}")
        if dtype is not None:
            node = cast(node, dtype)
    return Array._new(broadcast_node(node, shape))


def zeros(shape: Any, *, dtype: Any = None, device: Any = None) -> Array:
    """An array of zeros."""
    return full(shape, 0, dtype=_dtype_arg(dtype) or _dtypes.DEFAULT_FLOAT, device=device)


def ones(shape: Any, *, dtype: Any = None, device: Any = None) -> Array:
    """An array of ones."""
    return full(shape, 1, dtype=_dtype_arg(dtype) or _dtypes.DEFAULT_FLOAT, device=device)


def empty(shape: Any, *, dtype: Any = None, device: Any = None) -> Array:
    """An array whose contents are unspecified (zeros here: it costs nothing either way)."""
    return zeros(shape, dtype=dtype, device=device)


def _like(x: Any, fname: str) -> Array:
    return x if isinstance(x, Array) else Array._new(node_of(x, f"{fname}: x"))


def full_like(x: Any, /, fill_value: Any, *, dtype: Any = None, device: Any = None) -> Array:
    """An array with the shape (and, by default, dtype) of ``x`` filled with ``fill_value``."""
    x = _like(x, "full_like")
    return full(x.shape, fill_value, dtype=_dtype_arg(dtype) or x.dtype, device=device)


def zeros_like(x: Any, /, *, dtype: Any = None, device: Any = None) -> Array:
    """Zeros with the shape and dtype of ``x``."""
    return full_like(x, 0, dtype=dtype, device=device)


def ones_like(x: Any, /, *, dtype: Any = None, device: Any = None) -> Array:
    """Ones with the shape and dtype of ``x``."""
    return full_like(x, 1, dtype=dtype, device=device)


def empty_like(x: Any, /, *, dtype: Any = None, device: Any = None) -> Array:
    """An array with the shape and dtype of ``x`` and unspecified contents."""
    return zeros_like(x, dtype=dtype, device=device)


def iota(n: int, dtype: np.dtype) -> Array:
    """``0, 1, ..., n-1`` in ``dtype``, lazily."""
    return apply(REGISTRY["iota"], (), n=n, dtype=dtype)


def arange(
    start: Any, /, stop: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None
) -> Array:
    """Evenly spaced values in ``[start, stop)``, as NumPy computes them.

    >>> import lazyarr as xp
    >>> xp.arange(0, 1, 0.25).shape
    (4,)
    """
    check_device(device)
    if stop is None:
        start, stop = 0, start
    for v in (start, stop, step):
        if not isinstance(v, (int, float)) or isinstance(v, builtins.bool):
            raise located(TypeError, f"arange: expected int or float arguments, got {v!r}")
    if step == 0:
        raise located(ValueError, "arange: step must not be zero")
    dtype = _dtype_arg(dtype)
    if dtype is None:
        all_int = builtins.all(isinstance(v, int) for v in (start, stop, step))
        dtype = _dtypes.DEFAULT_INT if all_int else _dtypes.DEFAULT_FLOAT
    if builtins.all(isinstance(v, int) for v in (start, stop, step)):
        n = len(range(start, stop, step))
    else:
        n = builtins.max(math.ceil((stop - start) / step), 0)
    i = iota(n, dtype)
    if _dtypes.is_integer(dtype) or _dtypes.is_bool(dtype):
        return i * step + start if (step, start) != (1, 0) else i
    # NOTE: NumPy fills a range from its first two values: start + i * ((start + step) - start).
    first = np.asarray(start, dtype=dtype)
    delta = np.asarray(start + step, dtype=dtype) - first
    return i * Array._new(from_numpy(delta)) + Array._new(from_numpy(first))


def linspace(
    start: Any,
    stop: Any,
    /,
    num: int,
    *,
    dtype: Any = None,
    device: Any = None,
    endpoint: builtins.bool = True,
) -> Array:
    """``num`` evenly spaced values from ``start`` to ``stop``, as NumPy computes them."""
    check_device(device)
    if not isinstance(num, int) or isinstance(num, builtins.bool) or num < 0:
        raise located(ValueError, f"linspace: num must be a non-negative integer, got {num!r}")
    for v in (start, stop):
        if not isinstance(v, (int, float, complex)) or isinstance(v, builtins.bool):
            raise located(TypeError, f"linspace: start and stop must be numbers, got {v!r}")
    dtype = _dtype_arg(dtype)
    is_complex = builtins.any(isinstance(v, complex) for v in (start, stop))
    work = (
        _dtypes.DEFAULT_COMPLEX
        if is_complex or (dtype is not None and _dtypes.is_complex(dtype))
        else _dtypes.DEFAULT_FLOAT
    )
    if dtype is None:
        dtype = work
    div = num - 1 if endpoint else num
    delta = stop - start
    y = iota(num, _dtypes.DEFAULT_FLOAT)
    if work != y.dtype:
        y = Array._new(cast(y._node, work))
    if div > 0:
        step = delta / div
        y = (y / div) * delta if step == 0 else y * step
    else:
        y = y * delta
    y = y + start
    if endpoint and num > 1:
        last = iota(num, _dtypes.DEFAULT_INT) == num - 1
        y = elementwise("where", last, Array._new(scalar_node(stop, work)), y)
    if _dtypes.is_integer(dtype):
        y = elementwise("floor", y)
    return Array._new(cast(y._node, dtype))


def eye(
    n_rows: int, n_cols: int | None = None, /, *, k: int = 0, dtype: Any = None, device: Any = None
) -> Array:
    """A 2-D array with ones on the ``k``-th diagonal and zeros elsewhere."""
    check_device(device)
    n_cols = n_rows if n_cols is None else n_cols
    normalize_shape((n_rows, n_cols), "eye")
    rows = reshape_node(iota(n_rows, _dtypes.INDEX_DTYPE)._node, (n_rows, 1))
    cols = reshape_node(iota(n_cols, _dtypes.INDEX_DTYPE)._node, (1, n_cols))
    mask = elementwise("equal", Array._new(rows) + k, Array._new(cols))
    return Array._new(cast(mask._node, _dtype_arg(dtype) or _dtypes.DEFAULT_FLOAT))


def _triangle(x: Any, k: int, fname: str, lower: builtins.bool) -> Array:
    node = node_of(x, f"{fname}: x")
    if node.ndim < 2:
        raise located(ValueError, f"{fname}: x must have at least 2 dimensions, got {node.shape}")
    n, m = node.shape[-2:]
    rows = Array._new(reshape_node(iota(n, _dtypes.INDEX_DTYPE)._node, (n, 1)))
    cols = Array._new(reshape_node(iota(m, _dtypes.INDEX_DTYPE)._node, (1, m)))
    keep = (cols <= rows + k) if lower else (cols >= rows + k)
    zero = Array._new(scalar_node(0, node.dtype))
    return elementwise("where", keep, Array._new(node), zero)


def tril(x: Any, /, *, k: int = 0) -> Array:
    """The lower triangle of the last two axes of ``x`` (zeros above the ``k``-th diagonal)."""
    return _triangle(x, k, "tril", lower=True)


def triu(x: Any, /, *, k: int = 0) -> Array:
    """The upper triangle of the last two axes of ``x`` (zeros below the ``k``-th diagonal)."""
    return _triangle(x, k, "triu", lower=False)


def meshgrid(*arrays: Any, indexing: str = "xy") -> tuple[Array, ...]:
    """Coordinate matrices from 1-D coordinate vectors."""
    if indexing not in ("xy", "ij"):
        raise located(ValueError, f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    nodes = [node_of(a, "meshgrid: argument") for a in arrays]
    for n in nodes:
        if n.ndim != 1:
            raise located(ValueError, f"meshgrid: arguments must be 1-D, got shape {n.shape}")
    shape = [n.shape[0] for n in nodes]
    swap = indexing == "xy" and len(nodes) >= 2
    if swap:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, n in enumerate(nodes):
        axis = (1 - i if i < 2 else i) if swap else i
        unit = [1] * len(nodes)
        unit[axis] = n.shape[0]
        out.append(Array._new(broadcast_node(reshape_node(n, tuple(unit)), tuple(shape))))
    return tuple(out)


def from_dlpack(x: Any, /, *, device: Any = None, copy: builtins.bool | None = None) -> Array:
    """An Array from any object that supports DLPack (copied unless ``copy=False``)."""
    check_device(device)
    if isinstance(x, Array) and not copy:
        return x
    try:
        a = np.from_dlpack(x, copy=copy)
    except (TypeError, BufferError, ValueError) as e:
        raise located(type(e), f"from_dlpack: {e}") from None
    return Array._new(from_numpy(a, copy=copy is not False))
