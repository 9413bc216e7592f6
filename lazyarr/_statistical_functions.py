"""Statistical functions of the standard.

``sum``, ``prod``, ``max``, ``min`` and the cumulative ones are primitives;
``mean``, ``var`` and ``std`` are written with them exactly as NumPy computes them,
so their results agree with NumPy's to the last bit.
"""

from __future__ import annotations

import builtins
import math
import numbers
import operator
from typing import Any

import numpy as np

from . import _dtypes
from ._array import Array
from ._axes import normalize_axes, normalize_axis
from ._builder import apply, cast, elementwise, node_of, scalar_node
from ._errors import located
from ._ops import REGISTRY


def reduce(name: str, x: Any, axis: Any, keepdims: builtins.bool, **params) -> Array:
    """Apply reduction ``name`` with a validated ``axis``."""
    node = node_of(x, f"{name}: x")
    axes = normalize_axes(axis, node.ndim, name)
    if name in ("max", "min", "argmax", "argmin") and builtins.any(
        node.shape[a] == 0 for a in axes
    ):
        raise located(
            ValueError,
            f"{name}: zero-size reduction over axes {axes} of shape {node.shape} has no identity",
        )
    return apply(REGISTRY[name], (node,), axes=axes, keepdims=builtins.bool(keepdims), **params)


def _dtype_param(dtype: Any, fname: str) -> np.dtype | None:
    if dtype is None:
        return None
    try:
        return _dtypes.normalize(dtype)
    except TypeError as e:
        raise located(TypeError, f"{fname}: {e}") from None


def sum(
    x: Any, /, *, axis: Any = None, dtype: Any = None, keepdims: builtins.bool = False
) -> Array:
    """Sum of elements; integers accumulate in the default integer dtype.

    >>> import lazyarr as xp
    >>> int(xp.sum(xp.asarray([[1, 2], [3, 4]], dtype=xp.int8)))
    10
    """
    return reduce("sum", x, axis, keepdims, dtype=_dtype_param(dtype, "sum"))


def prod(
    x: Any, /, *, axis: Any = None, dtype: Any = None, keepdims: builtins.bool = False
) -> Array:
    """Product of elements; integers accumulate in the default integer dtype."""
    return reduce("prod", x, axis, keepdims, dtype=_dtype_param(dtype, "prod"))


def max(x: Any, /, *, axis: Any = None, keepdims: builtins.bool = False) -> Array:
    """Maximum (NaN propagates); ``ValueError`` for a zero-size reduction."""
    return reduce("max", x, axis, keepdims)


def min(x: Any, /, *, axis: Any = None, keepdims: builtins.bool = False) -> Array:
    """Minimum (NaN propagates); ``ValueError`` for a zero-size reduction."""
    return reduce("min", x, axis, keepdims)


def _count(node, axis: Any, fname: str) -> int | Array:
    """How many elements each result reduces: an int, or inside ``xp.jit`` over an axis
    of unknown size, a 0-d index array read when the program runs."""
    axes = normalize_axes(axis, node.ndim, fname)
    sizes = [node.shape[a] for a in axes]
    if None not in sizes:
        return math.prod(sizes)
    return apply(REGISTRY["size_of"], (node,), axes=axes, dtype=_dtypes.INDEX_DTYPE)


def _divide_by_count(total: Array, count: int | float | Array) -> Array:
    """``total / count`` as NumPy's mean does it: divided in double precision.

    NumPy divides by its count as an ``intp``, which promotes float32 and complex64
    totals to double precision before the division.
    """
    wide = {_dtypes.float32: _dtypes.float64, _dtypes.complex64: _dtypes.complex128}
    dtype = total.dtype
    work = wide.get(dtype, dtype)
    if isinstance(count, Array):
        divisor = cast(count._node, work)
    else:
        divisor = scalar_node(count, work)
    quotient = Array._new(cast(total._node, work)) / Array._new(divisor)
    return Array._new(cast(quotient._node, dtype))


def _sum_for_mean(node, axis: Any, keepdims: builtins.bool, fname: str) -> Array:
    dtype = None if _dtypes.is_floating(node.dtype) else _dtypes.DEFAULT_FLOAT
    return reduce("sum", Array._new(node), axis, keepdims, dtype=dtype)


def mean(x: Any, /, *, axis: Any = None, keepdims: builtins.bool = False) -> Array:
    """Arithmetic mean; integer input gives float64 (NaN for an empty reduction)."""
    node = node_of(x, "mean: x")
    n = _count(node, axis, "mean")  # validates axis, naming mean in the error
    return _divide_by_count(_sum_for_mean(node, axis, keepdims, "mean"), n)


def _variance(x: Any, axis: Any, correction: Any, keepdims: builtins.bool, fname: str) -> Array:
    node = node_of(x, f"{fname}: x")
    if isinstance(correction, (builtins.bool, np.bool_)) or not isinstance(
        correction, numbers.Real
    ):
        raise located(
            TypeError, f"{fname}: correction must be an int or a float, got {correction!r}"
        )
    correction = (
        operator.index(correction)
        if isinstance(correction, numbers.Integral)
        else float(correction)
    )
    n = _count(node, axis, fname)
    centre = _divide_by_count(_sum_for_mean(node, axis, True, fname), n)
    d = Array._new(node) - centre
    if _dtypes.is_complex(d.dtype):
        re, im = elementwise("real", d), elementwise("imag", d)
        sq = re * re + im * im
    else:
        sq = d * d
    total = reduce("sum", sq, axis, keepdims)
    if isinstance(n, Array):
        n = Array._new(cast(n._node, _dtypes.float64))
        return _divide_by_count(total, elementwise("maximum", n - correction, 0.0))
    return _divide_by_count(total, builtins.max(n - correction, 0))


def var(
    x: Any, /, *, axis: Any = None, correction: int | float = 0.0, keepdims: builtins.bool = False
) -> Array:
    """Variance with ``correction`` degrees of freedom removed (NumPy's ``ddof``)."""
    return _variance(x, axis, correction, keepdims, "var")


def std(
    x: Any, /, *, axis: Any = None, correction: int | float = 0.0, keepdims: builtins.bool = False
) -> Array:
    """Standard deviation: the square root of ``var``."""
    return elementwise("sqrt", _variance(x, axis, correction, keepdims, "std"))


def _cumulative(name: str, x: Any, axis: Any, dtype: Any, include_initial: builtins.bool):
    node = node_of(x, f"{name}: x")
    if node.ndim == 0:
        raise located(ValueError, f"{name}: x must have at least one dimension")
    if axis is None:
        if node.ndim > 1:
            raise located(ValueError, f"{name}: axis is required for a {node.ndim}-d array")
        axis = 0
    axis = normalize_axis(axis, node.ndim, name)
    return apply(
        REGISTRY[name],
        (node,),
        axis=axis,
        include_initial=builtins.bool(include_initial),
        dtype=_dtype_param(dtype, name),
    )


def cumulative_sum(
    x: Any, /, *, axis: int | None = None, dtype: Any = None, include_initial: builtins.bool = False
) -> Array:
    """Cumulative sum along ``axis`` (optional for 1-D input)."""
    return _cumulative("cumulative_sum", x, axis, dtype, include_initial)


def cumulative_prod(
    x: Any, /, *, axis: int | None = None, dtype: Any = None, include_initial: builtins.bool = False
) -> Array:
    """Cumulative product along ``axis`` (optional for 1-D input)."""
    return _cumulative("cumulative_prod", x, axis, dtype, include_initial)
