"""Utility functions of the standard."""

from __future__ import annotations

import builtins
import operator
from typing import Any

from . import _dtypes
from ._array import Array
from ._axes import normalize_axis
from ._builder import elementwise, node_of
from ._errors import located
from ._manipulation_functions import _slice_axis, concat
from ._statistical_functions import reduce


def all(x: Any, /, *, axis: Any = None, keepdims: builtins.bool = False) -> Array:
    """Whether all elements along ``axis`` are true (non-zero)."""
    return reduce("all", x, axis, keepdims)


def any(x: Any, /, *, axis: Any = None, keepdims: builtins.bool = False) -> Array:
    """Whether any element along ``axis`` is true (non-zero)."""
    return reduce("any", x, axis, keepdims)


def diff(
    x: Any, /, *, axis: int = -1, n: int = 1, prepend: Any = None, append: Any = None
) -> Array:
    """The ``n``-th discrete difference along ``axis`` (``!=`` for booleans, as NumPy).

    >>> import lazyarr as xp
    >>> xp.diff(xp.asarray([1, 4, 9, 16])).shape
    (3,)
    """
    node = node_of(x, "diff: x")
    if node.ndim == 0:
        raise located(ValueError, "diff: x must have at least one dimension")
    axis = normalize_axis(axis, node.ndim, "diff")
    try:
        n = operator.index(n)
    except TypeError:
        raise located(TypeError, f"diff: order n must be an integer, got {n!r}") from None
    if n < 0:
        raise located(ValueError, f"diff: order n must be non-negative, got {n}")
    if n == 0:
        # NOTE: as NumPy (and so array-api-strict): order 0 is x itself, without prepend/append.
        return Array._new(node)
    parts = [p for p in (prepend, Array._new(node), append) if p is not None]
    out = concat(parts, axis=axis) if len(parts) > 1 else Array._new(node)
    op = "not_equal" if _dtypes.is_bool(out.dtype) else "subtract"
    for _ in range(n):
        length = out.shape[axis]
        if length == 0:
            break
        upper = Array._new(_slice_axis(out._node, axis, 1, length, 1))
        lower = Array._new(_slice_axis(out._node, axis, 0, length - 1, 1))
        out = elementwise(op, upper, lower)
    return out
