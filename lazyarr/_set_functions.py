"""Set functions of the standard: ``unique_*`` and ``isin``.

The number of unique elements depends on the data, so outside ``xp.jit``
``unique_*`` compute ``x`` when they are called and return arrays of concrete
shapes; inside it they return arrays of unknown (``None``) length. Uniqueness is
value equality: every NaN is distinct, ``-0.0`` and ``0.0`` are one value. The
values are gathered from ``x`` at the first occurrences, so they stay connected to
``x`` in the graph.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ._array import Array
from ._builder import (
    apply,
    cast,
    constant_node,
    flat_shape,
    node_of,
    promote_args,
    reshape_node,
    scalar_node,
    value_if_known,
)
from ._errors import located
from ._indexing_functions import take
from ._ops import REGISTRY, UNIQUE_PARTS, unique_parts


class UniqueAllResult(NamedTuple):
    values: Array
    indices: Array
    inverse_indices: Array
    counts: Array


class UniqueCountsResult(NamedTuple):
    values: Array
    counts: Array


class UniqueInverseResult(NamedTuple):
    values: Array
    inverse_indices: Array


def _index_array(a: np.ndarray) -> Array:
    a.setflags(write=False)
    return Array._new(constant_node(a))


def _unique(x: Any, fname: str) -> tuple[Array, Array, Array, Array]:
    """values, first indices, inverse indices (x's shape) and counts of ``x``."""
    node = node_of(x, f"{fname}: x")
    flat_node = reshape_node(node, flat_shape(node.shape))
    value = value_if_known(node)
    if value is None:
        op = REGISTRY["unique"]
        indices, inverse, counts = (apply(op, (flat_node,), part=p) for p in UNIQUE_PARTS)
        inverse = Array._new(reshape_node(inverse._node, node.shape))
        return take(Array._new(flat_node), indices), indices, inverse, counts
    flat = value.reshape(-1)
    first, inverse, counts = unique_parts(flat)
    indices = _index_array(first)
    values = take(Array._new(flat_node), indices)
    if values._node.value is None and node.value is not None:
        kept = flat[first]
        kept.setflags(write=False)
        values._node.value = kept
    return values, indices, _index_array(inverse.reshape(node.shape)), _index_array(counts)


def unique_all(x: Any, /) -> UniqueAllResult:
    """Unique values of ``x`` (flattened), their first indices, inverse indices and counts.

    >>> import lazyarr as xp
    >>> xp.unique_all(xp.asarray([2, 1, 2])).counts.shape
    (2,)
    """
    return UniqueAllResult(*_unique(x, "unique_all"))


def unique_counts(x: Any, /) -> UniqueCountsResult:
    """Unique values of ``x`` (flattened) and how often each occurs."""
    values, _, _, counts = _unique(x, "unique_counts")
    return UniqueCountsResult(values, counts)


def unique_inverse(x: Any, /) -> UniqueInverseResult:
    """Unique values of ``x`` and, for each element of ``x``, the index of its value."""
    values, _, inverse, _ = _unique(x, "unique_inverse")
    return UniqueInverseResult(values, inverse)


def unique_values(x: Any, /) -> Array:
    """Unique values of ``x`` (flattened), in ascending order with NaNs last."""
    return _unique(x, "unique_values")[0]


def isin(x1: Any, x2: Any, /, *, invert: bool = False) -> Array:
    """Whether each element of ``x1`` equals some element of ``x2`` (NaN equals nothing).

    >>> import lazyarr as xp
    >>> xp.isin(xp.asarray([1, 2, 3]), xp.asarray([2])).shape
    (3,)
    """
    (n1, n2), common = promote_args("isin", (x1, x2))
    n1 = scalar_node(x1, common) if n1 is None else cast(n1, common)
    n2 = scalar_node(x2, common) if n2 is None else cast(n2, common)
    if not isinstance(invert, bool):
        raise located(TypeError, f"isin: invert must be a bool, got {type(invert).__name__}")
    return apply(REGISTRY["isin"], (n1, n2), invert=invert)
