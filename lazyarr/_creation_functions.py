"""Array creation functions of the standard.

Constant-filled arrays are a scalar constant broadcast to the shape, and ranges
are built from ``iota``, so ``xp.ones((10**6, 10**6))`` costs nothing until (and
unless) it is materialized.
"""

from __future__ import annotations

import builtins
import math
import operator
import sys
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
    interned_constant,
    node_of,
    reshape_node,
    scalar_node,
)
from ._devices import check_device
from ._errors import located, user_location
from ._graph import Node, intern
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


def _scalar(value: object, dtype: np.dtype, fname: str) -> Node:
    """A Python scalar as a constant of ``dtype``; complex to real is refused, as in astype."""
    if isinstance(value, complex) and not (_dtypes.is_complex(dtype) or _dtypes.is_bool(dtype)):
        raise located(
            TypeError,
            f"{fname}: cannot convert complex {value!r} to {dtype}; take the real part first",
        )
    return scalar_node(value, dtype)


def _int_arg(value: object, fname: str, what: str) -> int:
    if isinstance(value, (builtins.bool, np.bool_)):
        raise located(
            TypeError, f"{fname}: {what} must be an integer, got {_dtypes.describe(value)}"
        )
    try:
        return operator.index(value)
    except TypeError:
        raise located(
            TypeError, f"{fname}: {what} must be an integer, got {_dtypes.describe(value)}"
        ) from None


def _shared_node(a: np.ndarray, fname: str) -> Node:
    """A constant that shares ``a``'s memory (``copy=False``).

    It is keyed by the array's identity, never by its content: the user may write
    into ``a`` later, and a content key would then hand this node (and its new
    content) to an unrelated ``asarray`` of the old content.
    """
    if not a.dtype.isnative:
        raise located(ValueError, f"{fname}: byte order {a.dtype.str!r} requires a copy")
    if a.dtype not in _dtypes.DTYPES.values():
        raise located(
            TypeError,
            f"{fname}: unsupported dtype {a.dtype}; lazyarr supports {', '.join(_dtypes.DTYPES)}",
        )
    key = (("key", ("shared", id(a))),)
    return intern(REGISTRY["constant"], (), key, a.shape, a.dtype, user_location(), a)


def _out_of_range_int(obj: object) -> int | None:
    """A Python int in the nested sequence ``obj`` that fits neither int64 nor uint64."""
    stack = [obj]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, int) and not -(2**63) <= v < 2**64:
            return v
    return None


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
            _check_complex_to_real(obj.dtype, dtype, "asarray")
            return Array._new(cast(obj._node, dtype))
        return Array._new(obj._node) if copy else obj
    if isinstance(obj, _SCALARS):
        if copy is False:
            raise located(ValueError, "asarray: converting a Python scalar requires a copy")
        scalar = _scalar(obj, dtype or _default_dtype_for(obj), "asarray")
        return Array._new(from_numpy(scalar.value))  # user data: a leaf of its own
    if isinstance(obj, (list, tuple)) and _contains_array(obj):
        if copy is False:
            raise located(ValueError, "asarray: a sequence of arrays requires a copy")
        out = _stack_nested(obj)
        if dtype is not None:
            _check_complex_to_real(out.dtype, dtype, "asarray")
            out = Array._new(cast(out._node, dtype))
        return out
    source = getattr(obj, "dtype", None)
    if dtype is not None and isinstance(source, np.dtype):
        _check_complex_to_real(source, dtype, "asarray")
    if copy is False:
        if isinstance(obj, (list, tuple)):
            raise located(ValueError, "asarray: converting a Python sequence requires a copy")
        try:
            a = np.asarray(obj, dtype=dtype, copy=False)
        except (TypeError, ValueError) as e:
            raise located(type(e), f"asarray: {e}") from None
        return Array._new(_shared_node(a, "asarray"))
    try:
        a = np.array(obj, dtype=dtype, copy=True)
    except OverflowError as e:
        raise located(OverflowError, f"asarray: {e}") from None
    except (TypeError, ValueError) as e:
        raise located(type(e), f"asarray: cannot convert {type(obj).__name__}: {e}") from None
    if a.dtype.kind == "O" and isinstance(obj, (list, tuple)):
        big = _out_of_range_int(obj)
        if big is not None:
            raise located(OverflowError, f"asarray: Python int {big} does not fit in any dtype")
    if a.dtype.kind in "OUSV":
        raise located(
            TypeError,
            f"asarray: cannot convert {type(obj).__name__} to a numeric "
            f"array (NumPy made dtype {a.dtype})",
        )
    a.setflags(write=False)
    return Array._new(from_numpy(a, copy=False))


def _check_complex_to_real(source: np.dtype, dtype: np.dtype, fname: str) -> None:
    if _dtypes.is_complex(source) and not (_dtypes.is_complex(dtype) or _dtypes.is_bool(dtype)):
        raise located(
            TypeError,
            f"{fname}: cannot convert complex {source} to {dtype}; take xp.real(x) or xp.abs(x) "
            f"first",
        )


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
    return Array._new(broadcast_node(_fill(fill_value, _dtype_arg(dtype), "full"), shape))


def _fill(fill_value: Any, dtype: np.dtype | None, fname: str) -> Node:
    """``fill_value`` as a 0-d node of ``dtype`` (by default, its own)."""
    if isinstance(fill_value, _SCALARS):
        return _scalar(fill_value, dtype or _default_dtype_for(fill_value), fname)
    node = node_of(fill_value, f"{fname}: fill_value")
    if node.shape != ():
        raise located(ValueError, f"{fname}: fill_value must be a scalar, got shape {node.shape}")
    if dtype is not None:
        _check_complex_to_real(node.dtype, dtype, fname)
        node = cast(node, dtype)
    return node


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
    dtype = _dtype_arg(dtype) or x.dtype
    if None not in x.shape:
        return full(x.shape, fill_value, dtype=dtype, device=device)
    # Inside jit, x's data-dependent sizes are only known when the program runs.
    check_device(device)
    return Array._new(broadcast_node(_fill(fill_value, dtype, "full_like"), x.shape, like=x._node))


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


def _arange_number(v: object) -> int | float:
    if isinstance(v, (int, float)) and not isinstance(v, builtins.bool):
        return v
    if isinstance(v, np.integer):
        return int(v)
    raise located(TypeError, f"arange: expected int or float arguments, got {_dtypes.describe(v)}")


def _arange_length(start: int | float, stop: int | float, step: int | float) -> int:
    if builtins.all(isinstance(v, int) for v in (start, stop, step)):
        n = len(range(start, stop, step))
    else:
        q = (stop - start) / step
        if math.isnan(q):
            raise located(ValueError, f"arange: cannot compute the length of [{start}, {stop})")
        n = builtins.max(math.ceil(q), 0) if math.isfinite(q) else sys.maxsize + 1
    if n > sys.maxsize:
        raise located(ValueError, f"arange: [{start}, {stop}) by {step} has too many elements")
    return n


def arange(
    start: Any, /, stop: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None
) -> Array:
    """Evenly spaced values in ``[start, stop)``, as NumPy computes them.

    NumPy stores the first two values, ``start`` and ``start + step``, converted to
    the dtype, and fills position ``i`` with ``first + i * (second - first)``
    computed in the dtype; this does the same, lazily.

    >>> import lazyarr as xp
    >>> xp.arange(0, 1, 0.25).shape
    (4,)
    """
    check_device(device)
    if stop is None:
        start, stop = 0, start
    start, stop, step = (_arange_number(v) for v in (start, stop, step))
    if step == 0:
        raise located(ValueError, "arange: step must not be zero")
    dtype = _dtype_arg(dtype)
    if dtype is None:
        all_int = builtins.all(isinstance(v, int) for v in (start, stop, step))
        dtype = _dtypes.DEFAULT_INT if all_int else _dtypes.DEFAULT_FLOAT
    n = _arange_length(start, stop, step)
    if _dtypes.is_bool(dtype) and n > 2:
        raise located(TypeError, f"arange: a bool range has at most 2 elements, not {n}")
    if _dtypes.is_complex(dtype):
        # NOTE: the imaginary parts are all zero; the real parts are the real range.
        real = arange(start, stop, step, dtype=_dtypes.real_dtype(dtype))
        return Array._new(cast(real._node, dtype))
    if n == 0:
        return iota(0, dtype)
    # NumPy's setitem conversion: OverflowError for out-of-range integers, floats truncated.
    head = np.empty(builtins.min(n, 2), dtype=dtype)
    try:
        head[0] = start
        if n > 1:
            head[1] = start + step
    except (OverflowError, ValueError) as e:
        raise located(type(e), f"arange: {e}") from None
    if n <= 2:
        return Array._new(interned_constant(head))
    with np.errstate(all="ignore"):
        # NOTE: array arithmetic, so integer deltas wrap (as in NumPy's fill) without warnings.
        delta = (head[1:] - head[:1]).reshape(())
        fill_head = np.arange(2, dtype=dtype) * delta + head[0]
    first = Array._new(interned_constant(head[0]))
    body = iota(n, dtype) * Array._new(interned_constant(delta)) + first
    if fill_head.tobytes() != head.tobytes():
        # Positions 0 and 1 hold start and start + step exactly, whatever the fill gives.
        position = iota(n, _dtypes.INDEX_DTYPE)
        second = Array._new(interned_constant(head[1]))
        body = elementwise("where", position == 1, second, body)
        body = elementwise("where", position == 0, first, body)
    return body


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
    num = _int_arg(num, "linspace", "num")
    if num < 0:
        raise located(ValueError, f"linspace: num must be non-negative, got {num}")
    for v in (start, stop):
        if not isinstance(v, (int, float, complex)) or isinstance(v, builtins.bool):
            raise located(
                TypeError, f"linspace: start and stop must be numbers, got {_dtypes.describe(v)}"
            )
    dtype = _dtype_arg(dtype)
    is_complex = builtins.any(isinstance(v, complex) for v in (start, stop))
    if is_complex and dtype is not None:
        _check_complex_to_real(_dtypes.DEFAULT_COMPLEX, dtype, "linspace")
    # As in NumPy, the computation dtype follows start and stop; dtype is applied last.
    work = _dtypes.DEFAULT_COMPLEX if is_complex else _dtypes.DEFAULT_FLOAT
    if dtype is None:
        dtype = work
    div = num - 1 if endpoint else num
    # NOTE: delta and step are NumPy scalars, as in np.linspace: Python's complex
    # division rounds differently from NumPy's.
    with np.errstate(all="ignore"):
        delta = np.subtract(stop, start, dtype=work)
        step = delta / div if div > 0 else None
    y = iota(num, _dtypes.DEFAULT_FLOAT)
    if work != y.dtype:
        y = Array._new(cast(y._node, work))
    d = Array._new(interned_constant(delta))
    if step is None:
        y = y * d
    elif step == 0:
        y = (y / div) * d
    else:
        y = y * Array._new(interned_constant(step))
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
    n_rows, n_cols = normalize_shape((n_rows, n_cols), "eye")
    # NOTE: a diagonal beyond the matrix selects nothing; clamping keeps k within int64.
    k = builtins.min(builtins.max(_int_arg(k, "eye", "k"), -n_rows - 1), n_cols + 1)
    rows = reshape_node(iota(n_rows, _dtypes.INDEX_DTYPE)._node, (n_rows, 1))
    cols = reshape_node(iota(n_cols, _dtypes.INDEX_DTYPE)._node, (1, n_cols))
    mask = elementwise("equal", Array._new(rows) + k, Array._new(cols))
    return Array._new(cast(mask._node, _dtype_arg(dtype) or _dtypes.DEFAULT_FLOAT))


def _triangle(x: Any, k: int, fname: str, lower: builtins.bool) -> Array:
    node = node_of(x, f"{fname}: x")
    k = _int_arg(k, fname, "k")
    if node.ndim < 2:
        raise located(ValueError, f"{fname}: x must have at least 2 dimensions, got {node.shape}")
    n, m = node.shape[-2:]
    k = builtins.min(builtins.max(k, -n - 1), m + 1)
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
        raise located(
            ValueError, f"meshgrid: indexing must be 'xy' or 'ij', got {_dtypes.describe(indexing)}"
        )
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
    if not hasattr(x, "__dlpack__"):
        raise located(TypeError, f"from_dlpack: {type(x).__name__} does not support DLPack")
    try:
        a = np.from_dlpack(x, copy=copy)
    except (TypeError, BufferError, ValueError) as e:
        raise located(type(e), f"from_dlpack: {e}") from None
    if copy is False:
        return Array._new(_shared_node(a, "from_dlpack"))
    return Array._new(from_numpy(a, copy=True))
