"""Sorting functions of the standard.

``sort`` and ``argsort`` are primitives that are always stable (a stable order is
also a valid unstable one), so ``stable=False`` gives the same result. Descending
order keeps equal elements in their original order, as the standard requires.
"""

from __future__ import annotations

import builtins
from typing import Any

from ._array import Array
from ._axes import normalize_axis
from ._builder import apply, node_of
from ._errors import located
from ._ops import REGISTRY


def _sorting(name: str, x: Any, axis: int, descending: builtins.bool) -> Array:
    node = node_of(x, f"{name}: x")
    if node.ndim == 0:
        raise located(ValueError, f"{name}: x must have at least one dimension")
    if node.dtype.kind == "c":
        raise located(TypeError, f"{name}: complex numbers have no order")
    axis = normalize_axis(axis, node.ndim, name)
    return apply(REGISTRY[name], (node,), axis=axis, descending=builtins.bool(descending))


def sort(
    x: Any,
    /,
    *,
    axis: int = -1,
    descending: builtins.bool = False,
    stable: builtins.bool = True,
) -> Array:
    """``x`` sorted along ``axis``; NaNs go last (first when ``descending``).

    >>> import lazyarr as xp
    >>> xp.sort(xp.asarray([3, 1, 2]), descending=True).shape
    (3,)
    """
    return _sorting("sort", x, axis, descending)


def argsort(
    x: Any,
    /,
    *,
    axis: int = -1,
    descending: builtins.bool = False,
    stable: builtins.bool = True,
) -> Array:
    """Indices that sort ``x`` along ``axis``; ties keep their original order."""
    return _sorting("argsort", x, axis, descending)
