"""Manipulation functions of the standard.

Only ``reshape``, ``permute_dims``, ``broadcast_to``, ``slice`` and ``concat`` are
primitives; the rest (``stack``, ``flip``, ``roll``, ``tile``, ``repeat``, ...) are
compositions of them, so backends and gradients get them for free.
"""

from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _dtypes
from ._array import Array
from ._axes import normalize_axes, normalize_axis, normalize_shape
from ._builder import (
    apply,
    broadcast_node,
    cast,
    flat_shape,
    node_of,
    reshape_node,
    unknown_dimension,
    value_if_known,
)
from ._errors import located
from ._ops import REGISTRY
from ._ops import broadcast_shapes as _broadcast_shapes


def _node(x: Any, fname: str):
    return node_of(x, f"{fname}: x")


def reshape(x: Any, /, shape: Any, *, copy: builtins.bool | None = None) -> Array:
    """``x`` with a new shape; one dimension may be -1 and is then inferred.

    >>> import lazyarr as xp
    >>> xp.reshape(xp.arange(6), (2, -1)).shape
    (2, 3)
    """
    node = _node(x, "reshape")
    try:
        dims = (operator.index(shape),)
    except TypeError:
        dims = tuple(shape)
    if builtins.sum(d == -1 for d in dims) > 1:
        raise located(ValueError, f"reshape: only one dimension can be -1, got {dims}")
    if node.size is None:
        # The size is known when the program runs, which checks it; -1 is what is left.
        shape = normalize_shape(tuple(0 if d == -1 else d for d in dims), "reshape")
        return Array._new(
            reshape_node(node, tuple(None if d == -1 else n for d, n in zip(dims, shape)))
        )
    known = math.prod(d for d in dims if d != -1)
    size = math.prod(node.shape)
    if -1 in dims:
        if known == 0 or size % known:
            raise located(
                ValueError, f"reshape: cannot reshape array of shape {node.shape} into shape {dims}"
            )
        dims = tuple(size // known if d == -1 else d for d in dims)
    dims = normalize_shape(dims, "reshape")
    if math.prod(dims) != size:
        raise located(
            ValueError,
            f"reshape: cannot reshape array of shape {node.shape} (size {size}) into shape {dims}",
        )
    return Array._new(reshape_node(node, dims))


def permute_dims(x: Any, /, axes: Any) -> Array:
    """``x`` with its axes reordered; ``axes[i]`` is the input axis that becomes axis i."""
    node = _node(x, "permute_dims")
    perm = tuple(normalize_axis(a, node.ndim, "permute_dims") for a in axes)
    if sorted(perm) != list(range(node.ndim)):
        raise located(
            ValueError,
            f"permute_dims: axes {tuple(axes)} are not a permutation of the {node.ndim} axes of x",
        )
    if perm == tuple(range(node.ndim)):
        return Array._new(node)
    return apply(REGISTRY["permute_dims"], (node,), axes=perm)


def broadcast_shapes(*shapes: Any) -> tuple[int | None, ...]:
    """The shape that arrays of ``shapes`` broadcast to; ``ValueError`` if they do not."""
    norm = [normalize_shape(s, "broadcast_shapes") for s in shapes]
    if not norm:
        return ()
    try:
        return _broadcast_shapes(*norm)
    except ValueError as e:
        raise located(ValueError, f"broadcast_shapes: {e}") from None


def broadcast_to(x: Any, /, shape: Any) -> Array:
    """``x`` broadcast to ``shape`` (no data is copied)."""
    node = _node(x, "broadcast_to")
    shape = normalize_shape(shape, "broadcast_to")
    if node.size is None:
        raise unknown_dimension(f"broadcast_to: x of shape {node.shape} to {shape}")
    if not _compatible(node.shape, shape) or _broadcast_shapes(node.shape, shape) != shape:
        raise located(ValueError, f"broadcast_to: cannot broadcast shape {node.shape} to {shape}")
    return Array._new(broadcast_node(node, shape))


def _compatible(a: tuple, b: tuple) -> builtins.bool:
    try:
        _broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def broadcast_arrays(*arrays: Any) -> tuple[Array, ...]:
    """The arrays broadcast against each other."""
    nodes = [node_of(a, "broadcast_arrays: argument") for a in arrays]
    try:
        shape = _broadcast_shapes(*(n.shape for n in nodes)) if nodes else ()
    except ValueError as e:
        raise located(ValueError, f"broadcast_arrays: {e}") from None
    return tuple(Array._new(broadcast_node(n, shape)) for n in nodes)


def _promoted(nodes: list, fname: str) -> list:
    try:
        dtype = _dtypes.promote(*(n.dtype for n in nodes))
    except TypeError as e:
        raise located(TypeError, f"{fname}: {e}") from None
    return [cast(n, dtype) for n in nodes]


def concat(arrays: Any, /, *, axis: int | None = 0) -> Array:
    """The arrays joined along an existing axis (``axis=None``: flattened first)."""
    if isinstance(arrays, (Array, np.ndarray)) or not isinstance(arrays, Sequence):
        raise located(TypeError, "concat: expected a tuple or list of arrays")
    nodes = [node_of(a, "concat: element") for a in arrays]
    if not nodes:
        raise located(ValueError, "concat: need at least one array")
    if axis is None:
        nodes = [reshape_node(n, flat_shape(n.shape)) for n in nodes]
        axis = 0
    ndim = nodes[0].ndim
    if ndim == 0:
        raise located(ValueError, "concat: 0-d arrays cannot be concatenated")
    axis = normalize_axis(axis, ndim, "concat")
    for n in nodes:
        if (
            n.ndim != ndim
            or n.shape[:axis] + n.shape[axis + 1 :]
            != nodes[0].shape[:axis] + nodes[0].shape[axis + 1 :]
        ):
            shown = ", ".join(str(m.shape) for m in nodes)
            raise located(ValueError, f"concat: shapes {shown} differ outside axis {axis}")
    nodes = _promoted(nodes, "concat")
    if len(nodes) == 1:
        return Array._new(nodes[0])
    return apply(REGISTRY["concat"], tuple(nodes), axis=axis)


def stack(arrays: Any, /, *, axis: int = 0) -> Array:
    """The arrays (all of one shape) joined along a new axis."""
    if isinstance(arrays, (Array, np.ndarray)) or not isinstance(arrays, Sequence):
        raise located(TypeError, "stack: expected a tuple or list of arrays")
    nodes = [node_of(a, "stack: element") for a in arrays]
    if not nodes:
        raise located(ValueError, "stack: need at least one array")
    shape = nodes[0].shape
    if builtins.any(n.shape != shape for n in nodes):
        shown = ", ".join(str(n.shape) for n in nodes)
        raise located(ValueError, f"stack: all arrays must have the same shape, got {shown}")
    axis = normalize_axis(axis, len(shape) + 1, "stack")
    new = shape[:axis] + (1,) + shape[axis:]
    return concat([Array._new(reshape_node(n, new)) for n in nodes], axis=axis)


def unstack(x: Any, /, *, axis: int = 0) -> tuple[Array, ...]:
    """The slices of ``x`` along ``axis``, as a tuple."""
    node = _node(x, "unstack")
    if node.ndim == 0:
        raise located(ValueError, "unstack: x must have at least one dimension")
    axis = normalize_axis(axis, node.ndim, "unstack")
    if node.shape[axis] is None:
        raise unknown_dimension(f"unstack: axis {axis} of shape {node.shape}")
    rest = node.shape[:axis] + node.shape[axis + 1 :]
    return tuple(
        Array._new(reshape_node(_slice_axis(node, axis, i, i + 1, 1), rest))
        for i in range(node.shape[axis])
    )


def _slice_axis(node, axis: int, start: int, stop: int | None, step: int):
    """``node`` sliced along one axis with normalized bounds."""
    slices = tuple(
        (0, d, 1) if a != axis else (start, stop, step) for a, d in enumerate(node.shape)
    )
    if slices == tuple((0, d, 1) for d in node.shape):
        return node
    return apply(REGISTRY["slice"], (node,), slices=slices)._node


def expand_dims(x: Any, /, axis: Any) -> Array:
    """``x`` with new unit axes at positions ``axis`` (an int or a tuple)."""
    node = _node(x, "expand_dims")
    axes = axis if isinstance(axis, tuple) else (axis,)
    positions = normalize_axes(axes, node.ndim + len(axes), "expand_dims")
    dims = iter(node.shape)
    shape = tuple(1 if i in positions else next(dims) for i in range(node.ndim + len(axes)))
    return Array._new(reshape_node(node, shape))


def squeeze(x: Any, /, axis: Any) -> Array:
    """``x`` without the unit axes ``axis``; ``ValueError`` if one of them is not of size 1."""
    node = _node(x, "squeeze")
    axes = normalize_axes(axis, node.ndim, "squeeze")
    for a in axes:
        if node.shape[a] is None:
            raise unknown_dimension(f"squeeze: axis {a} of shape {node.shape}")
        if node.shape[a] != 1:
            raise located(ValueError, f"squeeze: axis {a} of shape {node.shape} is not 1")
    return Array._new(
        reshape_node(node, tuple(d for i, d in enumerate(node.shape) if i not in axes))
    )


def flip(x: Any, /, *, axis: Any = None) -> Array:
    """``x`` with the order of elements reversed along ``axis`` (default: all axes)."""
    node = _node(x, "flip")
    axes = normalize_axes(axis, node.ndim, "flip")
    if not axes or builtins.all(node.shape[a] in (0, 1) for a in axes):
        return Array._new(node)
    slices = tuple(
        (0, d, 1) if a not in axes else (None, None, -1) if d is None else (d - 1, None, -1)
        for a, d in enumerate(node.shape)
    )
    return apply(REGISTRY["slice"], (node,), slices=slices)


def roll(x: Any, /, shift: Any, *, axis: Any = None) -> Array:
    """``x`` with elements shifted cyclically along ``axis`` (default: the flattened array)."""
    node = _node(x, "roll")
    if axis is None:
        flat = Array._new(reshape_node(node, flat_shape(node.shape)))
        return reshape(roll(flat, shift, axis=0), node.shape)
    # shift and axis broadcast against each other, as NumPy's: an int goes with every
    # entry of the other, as does a tuple of length 1; () rolls nothing.
    shifts = shift if isinstance(shift, tuple) else None
    axes = axis if isinstance(axis, tuple) else None
    if shifts is None:
        shifts = (shift,) * (1 if axes is None else len(axes))
    if axes is None:
        axes = (axis,) * len(shifts)
    if len(shifts) == 1 and len(axes) != 1:
        shifts = shifts * len(axes)
    elif len(axes) == 1 and len(shifts) != 1:
        axes = axes * len(shifts)
    if len(shifts) != len(axes):
        raise located(ValueError, f"roll: shift {shift!r} and axis {axis!r} differ in length")
    total: dict[int, int] = {}
    for s, a in zip(shifts, axes):
        a = normalize_axis(a, node.ndim, "roll")
        total[a] = total.get(a, 0) + operator.index(s)
    for a, s in total.items():
        n = node.shape[a]
        if n is None:
            raise unknown_dimension(f"roll: axis {a} of shape {node.shape}")
        if n == 0 or s % n == 0:
            continue
        s %= n
        parts = (_slice_axis(node, a, n - s, n, 1), _slice_axis(node, a, 0, n - s, 1))
        node = apply(REGISTRY["concat"], parts, axis=a)._node
    return Array._new(node)


def moveaxis(x: Any, source: Any, destination: Any, /) -> Array:
    """``x`` with axes ``source`` moved to positions ``destination``."""
    node = _node(x, "moveaxis")
    src = source if isinstance(source, tuple) else (source,)
    dst = destination if isinstance(destination, tuple) else (destination,)
    if len(src) != len(dst):
        raise located(ValueError, "moveaxis: source and destination must have the same length")
    src = [normalize_axis(a, node.ndim, "moveaxis") for a in src]
    dst = [normalize_axis(a, node.ndim, "moveaxis") for a in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise located(ValueError, "moveaxis: repeated axis")
    order = [a for a in range(node.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute_dims(Array._new(node), tuple(order))


def tile(x: Any, repetitions: Any, /) -> Array:
    """``x`` repeated ``repetitions[i]`` times along each axis, as ``np.tile``."""
    node = _node(x, "tile")
    reps = normalize_shape(repetitions, "tile")
    ndim = builtins.max(node.ndim, len(reps))
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - node.ndim) + node.shape
    interleaved = tuple(v for d in shape for v in (1, d))
    target = tuple(v for r, d in zip(reps, shape) for v in (r, d))
    unit = reshape_node(node, interleaved)
    node = broadcast_node(unit, target, like=unit)
    return Array._new(
        reshape_node(node, tuple(None if d is None else r * d for r, d in zip(reps, shape)))
    )


def repeat(x: Any, repeats: Any, /, *, axis: int | None = None) -> Array:
    """Each element of ``x`` repeated ``repeats`` times along ``axis`` (default: flattened).

    ``repeats`` may be an int or a sequence (or array) with one count per element.
    The output's length depends on the counts: outside ``xp.jit`` they are computed
    here; inside it, counts computed in the function give a length of ``None``.
    """
    node = _node(x, "repeat")
    if axis is None:
        node = reshape_node(node, flat_shape(node.shape))
        axis = 0
    axis = normalize_axis(axis, node.ndim, "repeat")
    n = node.shape[axis]
    if isinstance(repeats, int) and not isinstance(repeats, builtins.bool):
        if repeats < 0:
            raise located(ValueError, f"repeat: repeats must be non-negative, got {repeats}")
        unit = reshape_node(node, node.shape[: axis + 1] + (1,) + node.shape[axis + 1 :])
        wide = node.shape[: axis + 1] + (repeats,) + node.shape[axis + 1 :]
        out = node.shape[:axis] + (None if n is None else n * repeats,) + node.shape[axis + 1 :]
        return Array._new(reshape_node(broadcast_node(unit, wide, like=unit), out))
    from ._indexing_functions import take

    if isinstance(repeats, Array):
        counts = value_if_known(repeats._node)
        if counts is None:
            return take(
                Array._new(node), _traced_repeat_index(repeats._node, node, axis), axis=axis
            )
    else:
        counts = np.asarray(repeats)
    if n is None and counts.ndim == 1:
        return take(Array._new(node), _traced_repeat_index(node_of(counts), node, axis), axis=axis)
    if isinstance(repeats, (list, tuple)) and counts.size == 0:
        counts = counts.astype(_dtypes.INDEX_DTYPE)  # [] is float64 to NumPy
    if counts.dtype.kind not in "iub" or counts.ndim > 1:
        raise located(TypeError, "repeat: repeats must be an int or a 1-D array of integers")
    counts = np.broadcast_to(counts, (n,)) if counts.size == 1 else counts
    if counts.shape != (n,):
        raise located(ValueError, f"repeat: {counts.size} repeats for an axis of length {n}")
    if (counts < 0).any():
        raise located(ValueError, "repeat: repeats must be non-negative")
    # NOTE: np.repeat refuses uint64 counts (no safe cast to intp).
    counts = counts.astype(_dtypes.INDEX_DTYPE)
    index = np.repeat(np.arange(n, dtype=_dtypes.INDEX_DTYPE), counts)
    return take(Array._new(node), index, axis=axis)


def _traced_repeat_index(counts, x, axis: int) -> Array:
    """The indices ``repeat`` takes along ``axis`` of ``x`` for counts known only when
    the program runs (which checks that there is one per element, or one in all)."""
    if counts.dtype.kind not in "iub" or counts.ndim > 1:
        raise located(TypeError, "repeat: repeats must be an int or a 1-D array of integers")
    n, m = x.shape[axis], counts.size
    if n is not None and m is not None and m not in (1, n):
        raise located(ValueError, f"repeat: {m} repeats for an axis of length {n}")
    counts = reshape_node(cast(counts, _dtypes.INDEX_DTYPE), flat_shape(counts.shape))
    return apply(REGISTRY["repeat_index"], (counts, x), axis=axis)
