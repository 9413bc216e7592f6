"""Searching functions of the standard."""

from __future__ import annotations

import builtins
import operator
from typing import Any

import numpy as np

from . import _dtypes
from ._array import Array
from ._axes import normalize_axis
from ._builder import (
    apply,
    cast,
    elementwise,
    node_of,
    promote_args,
    scalar_node,
    value_if_known,
)
from ._errors import located
from ._ops import REGISTRY
from ._statistical_functions import reduce


def _arg_reduce(name: str, x: Any, axis: Any, keepdims: builtins.bool) -> Array:
    node = node_of(x, f"{name}: x")
    if axis is not None:
        # NOTE: one axis or all of them; the primitive has no rule for a tuple of axes.
        axis = normalize_axis(axis, node.ndim, name)
    return reduce(name, Array._new(node), axis, keepdims)


def argmax(x: Any, /, *, axis: int | None = None, keepdims: builtins.bool = False) -> Array:
    """Index of the first maximum along ``axis`` (default: of the flattened array)."""
    return _arg_reduce("argmax", x, axis, keepdims)


def argmin(x: Any, /, *, axis: int | None = None, keepdims: builtins.bool = False) -> Array:
    """Index of the first minimum along ``axis`` (default: of the flattened array)."""
    return _arg_reduce("argmin", x, axis, keepdims)


def count_nonzero(x: Any, /, *, axis: Any = None, keepdims: builtins.bool = False) -> Array:
    """Number of non-zero elements along ``axis``."""
    node = node_of(x, "count_nonzero: x")
    mask = Array._new(node) if _dtypes.is_bool(node.dtype) else Array._new(node) != 0
    return reduce("sum", mask, axis, keepdims, dtype=_dtypes.INDEX_DTYPE)


def where(condition: Any, x1: Any, x2: Any, /) -> Array:
    """Elements of ``x1`` where ``condition`` is true, else of ``x2``.

    >>> import lazyarr as xp
    >>> x = xp.asarray([-1.0, 2.0])
    >>> xp.where(x > 0, x, 0.0).shape
    (2,)
    """
    cond = node_of(condition, "where: condition")
    if not _dtypes.is_bool(cond.dtype):
        cond = (Array._new(cond) != 0)._node
    return elementwise("where", Array._new(cond), x1, x2)


def searchsorted(x1: Any, x2: Any, /, *, side: str = "left", sorter: Any = None) -> Array:
    """Indices at which ``x2``'s elements would be inserted into the sorted 1-D ``x1``."""
    if side not in ("left", "right"):
        raise located(ValueError, f"searchsorted: side must be 'left' or 'right', got {side!r}")
    sorted_node = node_of(x1, "searchsorted: x1")
    if sorted_node.ndim != 1:
        raise located(ValueError, f"searchsorted: x1 must be 1-D, got shape {sorted_node.shape}")
    if sorter is not None:
        from ._indexing_functions import take

        order = node_of(sorter, "searchsorted: sorter")
        if not _dtypes.is_integer(order.dtype):
            raise located(
                TypeError, f"searchsorted: sorter must have an integer dtype, got {order.dtype}"
            )
        if order.shape != sorted_node.shape:
            raise located(
                ValueError,
                f"searchsorted: sorter must have x1's shape {sorted_node.shape}, got {order.shape}",
            )
        sorted_node = take(Array._new(sorted_node), Array._new(order))._node
    (_, values_node), common = promote_args("searchsorted", (Array._new(sorted_node), x2))
    if values_node is None:
        values_node = scalar_node(x2, common)
    if _dtypes.is_complex(common):
        raise located(TypeError, "searchsorted: complex values have no order")
    return apply(
        REGISTRY["searchsorted"], (cast(sorted_node, common), cast(values_node, common)), side=side
    )


def nonzero(
    x: Any, /, *, size: int | None = None, fill_value: int | None = None
) -> tuple[Array, ...]:
    """Indices of the non-zero elements, one array per axis.

    The number of indices depends on the data: outside ``xp.jit`` ``x`` is computed
    here; inside it the arrays have length ``None``, known when the program runs.
    ``size`` (keyword-only, as JAX's) keeps the first ``size`` indices, padded with
    ``fill_value`` (default 0), so the length is fixed even inside jit.

    >>> import lazyarr as xp
    >>> xp.nonzero(xp.asarray([0, 3, 0, 4]))[0].shape
    (2,)
    >>> xp.nonzero(xp.asarray([0, 3, 0, 4]), size=3, fill_value=-1)[0].shape
    (3,)
    """
    node = node_of(x, "nonzero: x")
    if node.ndim == 0:
        raise located(ValueError, "nonzero: x must have at least one dimension")
    if size is not None:
        size = _static_int(size, "size")
        if size < 0:
            raise located(ValueError, f"nonzero: size must be non-negative, got {size}")
        fill_value = 0 if fill_value is None else _static_int(fill_value, "fill_value")
    elif fill_value is not None:
        raise located(TypeError, "nonzero: fill_value needs size")
    else:
        value = value_if_known(node)
        if value is not None:
            from ._creation_functions import asarray

            found = np.nonzero(value)
            return tuple(asarray(i.astype(_dtypes.INDEX_DTYPE, copy=False)) for i in found)
    op = REGISTRY["nonzero"]
    return tuple(
        apply(op, (node,), axis=axis, size=size, fill_value=fill_value) for axis in range(node.ndim)
    )


def _static_int(value: Any, what: str) -> int:
    if isinstance(value, builtins.bool):
        raise located(TypeError, f"nonzero: {what} must be a Python int, got a bool")
    try:
        return operator.index(value)
    except TypeError:
        raise located(
            TypeError, f"nonzero: {what} must be a Python int, got {type(value).__name__}"
        ) from None
