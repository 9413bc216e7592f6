"""Indexing: ``x[key]``, ``take``, ``take_along_axis`` and ``dynamic_slice``.

``x[key]`` and ``x[key] = value`` follow NumPy: integers, slices, ``...``, ``None``, integer arrays
(advanced indexing, with NumPy's rule for where the indexed axes go) and boolean
masks. Basic indexing becomes ``slice`` and ``reshape`` nodes; integer arrays a
``gather`` node. Out-of-range integers are an ``IndexError`` at the user's line
when the index is known while the graph is built, and when it is evaluated
otherwise.

Inside ``xp.jit`` a slice bound may be a traced 0-d integer (Theano's minibatch
``X[i * n:(i + 1) * n]``): the slice's length must then be provably constant, which
``_linear_form`` checks, and it becomes a ``dynamic_slice`` node whose start is
checked when the compiled program runs (no clamping, no wrap-around).

Inside ``xp.jit`` a boolean mask computed in the function selects positions known only
when the program runs: ``x[mask]`` gathers at ``nonzero(mask)`` and has an unknown
(``None``) length. An axis of unknown length takes slices (applied by Python's rules
at run time), integers and index arrays, whose bounds are checked at run time.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from . import _dtypes
from . import _searching_functions as _searching
from ._array import Array
from ._axes import normalize_axis
from ._builder import (
    apply,
    cast,
    flat_shape,
    node_of,
    reshape_node,
    scalar_node,
    unknown_dimension,
    value_if_known,
)
from ._errors import TracerConversionError, located
from ._graph import Node
from ._ops import REGISTRY, broadcast_shapes, check_dynamic_start
from .compile.eager import materialize


def _check_bounds(index: np.ndarray, size: int, what: str) -> None:
    if index.size and (index.min() < -size or index.max() >= size):
        bad = index[(index < -size) | (index >= size)].flat[0]
        raise located(IndexError, f"{what}: index {bad} is out of bounds for size {size}")


def _index_node(value: Any, size: int | None, what: str, check: bool = True) -> Node:
    """An integer index array as a node, bounds-checked when its values are known."""
    node = node_of(value, what)
    if not _dtypes.is_integer(node.dtype):
        raise located(
            IndexError, f"{what}: index arrays must have an integer dtype, got {node.dtype}"
        )
    if check and size is not None and node.value is not None:
        _check_bounds(node.value, size, what)
    return cast(node, _dtypes.INDEX_DTYPE)


def _as_index_entry(k: Any) -> Any:
    """Lists and NumPy arrays in a key become arrays; other entries stay as they are."""
    if isinstance(k, list):
        k = np.asarray(k)
        if k.size == 0:
            k = k.astype(_dtypes.INDEX_DTYPE)
    if isinstance(k, np.ndarray):
        return k
    if isinstance(k, np.generic):
        return k.item() if k.dtype.kind in "iub" else k
    return k


def _is_bool_array(k: Any) -> bool:
    return isinstance(k, (Array, np.ndarray)) and k.dtype == np.bool_


def _as_bool_scalars(entries: list) -> list:
    """Python booleans and 0-d boolean arrays as ``_BoolScalar`` (a lazy one is computed)."""
    out = []
    for k in entries:
        if isinstance(k, bool):
            k = _BoolScalar(k)
        elif _is_bool_array(k) and k.ndim == 0:
            if isinstance(k, Array):
                k = value_if_known(k._node)
                if k is None:
                    raise unknown_dimension("x[b] with a 0-d boolean b computed inside xp.jit")
            k = _BoolScalar(bool(k))
        out.append(k)
    return out


def _expand_masks(entries: list, shape: tuple[int, ...]) -> list:
    """Boolean masks replaced by the integer arrays of their true positions.

    ``entries`` has one entry per axis of ``shape`` (besides ``None`` and scalar
    booleans, which index no axis); a mask must match the axes it covers. The
    positions depend on the data: a lazy mask is computed here, except inside
    ``xp.jit`` where they are ``nonzero`` nodes of unknown length.
    """
    out: list = []
    axis = 0
    for k in entries:
        if k is None or isinstance(k, (_BoolScalar, _EmptyEllipsis)):
            out.append(k)
            continue
        if not _is_bool_array(k):
            out.append(k)
            axis += 1
            continue
        covered = shape[axis : axis + k.ndim]
        if len(covered) == k.ndim and any(
            (m is None) != (d is None) for m, d in zip(k.shape, covered)
        ):
            raise unknown_dimension(
                f"a boolean index of shape {tuple(k.shape)} for axes of shape {covered}"
            )
        # NOTE: the standard lets a mask axis of size 0 stand for any size: it selects nothing.
        if len(covered) != k.ndim or any(m not in (d, 0) for m, d in zip(k.shape, covered)):
            raise located(
                IndexError,
                f"boolean index of shape {tuple(k.shape)} does not match the indexed axes "
                f"{axis}..{axis + k.ndim - 1} of shape {covered}",
            )
        mask = value_if_known(k._node) if isinstance(k, Array) else k
        if mask is None:
            out.extend(_searching.nonzero(k))
        else:
            out.extend(np.nonzero(mask))
        axis += k.ndim
    return out


class _BoolScalar:
    """A scalar boolean index: a new unit axis, kept (True) or emptied (False)."""

    __slots__ = ("keep",)

    def __init__(self, keep: bool):
        self.keep = keep


def _is_array_entry(k: Any) -> bool:
    return isinstance(k, (Array, np.ndarray))


class _EmptyEllipsis:
    """An ellipsis that stands for no axis; NumPy still counts it as a separator."""


_EMPTY_ELLIPSIS = _EmptyEllipsis()


def _is_int_entry(k: Any) -> bool:
    return not (
        k is None or isinstance(k, (slice, _BoolScalar, _EmptyEllipsis)) or _is_array_entry(k)
    )


def getitem(x: Array, key: Any) -> Array:
    node = x._node
    entries = list(key) if isinstance(key, tuple) else [key]
    entries = _as_bool_scalars([_as_index_entry(k) for k in entries])
    n_ellipsis = sum(k is Ellipsis for k in entries)
    if n_ellipsis > 1:
        raise located(IndexError, "an index can only have a single ellipsis ('...')")
    consumed = sum(
        k.ndim if _is_bool_array(k) else 1
        for k in entries
        if k is not None and k is not Ellipsis and not isinstance(k, _BoolScalar)
    )
    if consumed > node.ndim:
        raise located(
            IndexError,
            f"too many indices for array: array is {node.ndim}-dimensional, "
            f"but {consumed} were indexed",
        )
    if n_ellipsis:
        at = next(i for i, k in enumerate(entries) if k is Ellipsis)  # not ==: arrays
        fill = node.ndim - consumed
        entries[at : at + 1] = [slice(None)] * fill if fill else [_EMPTY_ELLIPSIS]
    else:
        entries += [slice(None)] * (node.ndim - consumed)
    entries = _expand_masks(entries, node.shape)

    # NumPy's advanced indices: integer arrays; a scalar boolean, as an index array
    # ([0] or []) on a new unit axis; and integers when there is any other of those.
    # Alone, a scalar boolean is the same as slicing its unit axis, which needs no gather.
    n_bool = sum(isinstance(k, _BoolScalar) for k in entries)
    has_arrays = any(map(_is_array_entry, entries))
    has_ints = any(map(_is_int_entry, entries))
    bools_as_arrays = n_bool > 1 or (n_bool > 0 and (has_ints or has_arrays))
    advanced = has_arrays or bools_as_arrays

    def is_advanced(k: Any) -> bool:
        if isinstance(k, _BoolScalar):
            return bools_as_arrays
        return _is_array_entry(k) or (advanced and _is_int_entry(k))

    # An empty ellipsis between advanced indices separates them, as a slice would:
    # it becomes a unit axis that is dropped after the gather.
    phantom = None
    empty_at = [i for i, k in enumerate(entries) if k is _EMPTY_ELLIPSIS]
    if empty_at:
        at = empty_at[0]
        if any(map(is_advanced, entries[:at])) and any(map(is_advanced, entries[at + 1 :])):
            entries[at] = None
            phantom = sum(not is_advanced(k) for k in entries[:at])
        else:
            del entries[at]

    # New axes first: each None or scalar boolean becomes an index on a unit axis.
    shape, dims, empties = [], iter(node.shape), []
    for k in entries:
        if k is None or isinstance(k, _BoolScalar):
            if isinstance(k, _BoolScalar) and not k.keep:
                empties.append(len(shape))
            shape.append(1)
        else:
            shape.append(next(dims))
    node = reshape_node(node, tuple(shape))
    entries = [
        (
            np.zeros(int(k.keep), dtype=_dtypes.INDEX_DTYPE)
            if isinstance(k, _BoolScalar) and bools_as_arrays
            else slice(0, 0)
            if i in empties
            else (slice(None) if k is None or isinstance(k, _BoolScalar) else k)
        )
        for i, k in enumerate(entries)
    ]

    slices, drop, arrays, spec = [], [], [], []
    windows: dict[int, tuple[Node, int]] = {}  # axis -> (traced start, static length)
    for axis, (k, size) in enumerate(zip(entries, node.shape)):
        if isinstance(k, slice):
            window = _traced_window(k, size)
            if size is None:
                slices.append(_slice_as_written(k))
            elif window is None:
                slices.append(_normalize_slice(k, size))
            else:
                windows[axis] = window
                slices.append((0, size, 1))
            spec.append(-1)
            continue
        if _is_array_entry(k):
            slices.append((0, size, 1))
            spec.append(len(arrays))
            arrays.append((k, size))
            continue
        try:
            i = operator.index(k)
        except TypeError:
            raise located(
                IndexError,
                f"only integers, slices, '...', None and integer or boolean "
                f"arrays are valid indices, got {type(k).__name__}",
            ) from None
        if size is None:  # a 0-d index array: its bounds are checked at run time
            slices.append((0, None, 1))
            spec.append(len(arrays))
            arrays.append((np.asarray(i, dtype=_dtypes.INDEX_DTYPE), size))
            continue
        if not -size <= i < size:
            raise located(IndexError, f"index {i} is out of bounds for an axis of size {size}")
        i %= size
        if advanced:
            slices.append((0, size, 1))
            spec.append(len(arrays))
            arrays.append((np.asarray(i, dtype=_dtypes.INDEX_DTYPE), size))
        else:
            slices.append((i, i + 1, 1))
            drop.append(axis)
    if any(s != (0, d, 1) for s, d in zip(slices, node.shape)):
        node = apply(REGISTRY["slice"], (node,), slices=tuple(slices))._node
    if windows:
        zero = scalar_node(0, _dtypes.INDEX_DTYPE)
        starts = tuple(windows[a][0] if a in windows else zero for a in range(node.ndim))
        sizes = tuple(windows[a][1] if a in windows else d for a, d in enumerate(node.shape))
        node = _dynamic_slice_node(node, starts, sizes)
    if drop:
        node = reshape_node(node, tuple(d for a, d in enumerate(node.shape) if a not in drop))
    if arrays:
        try:
            index_shape = broadcast_shapes(*(tuple(k.shape) for k, _ in arrays))
        except ValueError as e:
            raise located(IndexError, f"index arrays do not broadcast together: {e}") from None
        # NOTE: as NumPy, indices are not checked when they select nothing.
        check = None not in index_shape and math.prod(index_shape) > 0
        nodes = tuple(_index_node(k, size, "index", check) for k, size in arrays)
        node = apply(REGISTRY["gather"], (node, *nodes), spec=tuple(spec))._node
        if phantom is not None:
            at = len(index_shape) + phantom
            node = reshape_node(node, node.shape[:at] + node.shape[at + 1 :])
    return Array._new(node)


def _slice_as_written(k: slice) -> tuple[int | None, int | None, int | None]:
    """A slice of an axis of unknown length: Python's rules apply when the program runs."""
    start, stop, step = (
        None if b is None else _static_int(b, "bound") for b in (k.start, k.stop, k.step)
    )
    step = 1 if step is None else step
    if step == 0:
        raise located(ValueError, f"invalid slice {k!r}: slice step cannot be zero")
    if start is None and step > 0:
        start = 0
    return (start, stop, step)


def _normalize_slice(k: slice, size: int) -> tuple[int, int | None, int]:
    try:
        start, stop, step = k.indices(size)
    except (TypeError, ValueError) as e:
        raise located(
            type(e) if isinstance(e, ValueError) else IndexError, f"invalid slice {k!r}: {e}"
        ) from None
    if not len(range(start, stop, step)):
        # NOTE: an empty slice may normalize to start -1 ("before the first element"),
        # which NumPy would read as the last element.
        return (0, 0, 1)
    if step < 0 and stop < 0:
        stop = None
    return (start, stop, step)


# ----------------------------------------------------------------------------- traced slices
def _traced_bound(v: Any) -> Node | None:
    """The node of a slice bound whose value does not exist yet (a traced Array), else None.

    A lazy bound that can be computed now (outside jit, or closed over inside it) is
    left to ``slice.indices``, which computes it and applies NumPy's rules.
    """
    if not isinstance(v, Array):
        return None
    node = v._node
    if node.value is not None:
        return None
    try:
        materialize((node,))
    except TracerConversionError:
        return node
    return None


def _traced_window(k: slice, size: int) -> tuple[Node, int] | None:
    """For a slice with a traced bound, its start (an index-dtype node) and static length.

    None for a slice whose bounds are all known: it is an ordinary static slice.
    """
    start, stop, step = (_traced_bound(v) for v in (k.start, k.stop, k.step))
    if start is None and stop is None and step is None:
        return None
    if size is None:
        raise unknown_dimension("x[a:b] with a traced bound on an axis of unknown length")
    for node, name in ((start, "start"), (stop, "stop"), (step, "step")):
        if node is not None and (node.ndim != 0 or not _dtypes.is_integer(node.dtype)):
            shown = "x".join(map(str, node.shape)) or "0-d"
            raise located(
                TypeError,
                f"slice {name} must be an integer or a 0-d integer array, got a {shown} "
                f"{node.dtype} array",
            )
    if step is not None or (k.step is not None and _static_int(k.step, "step") != 1):
        raise located(
            IndexError,
            "a slice with a bound computed inside xp.jit must have step 1 (or none); "
            "slice with the step first (x[::k]), then with the traced bounds",
        )
    forms = []
    for bound, traced, default in ((k.start, start, 0), (k.stop, stop, None)):
        if traced is not None:
            forms.append(_linear_form(traced))
        elif bound is None and default is None:
            raise located(
                TracerConversionError,
                "x[i:] inside xp.jit: a slice from a start computed at run time to the end of "
                "the axis has a length that depends on the start's value, which is not known "
                "while tracing (shapes are fixed when a function is traced); give the length: "
                "x[i:i + n] with n a Python int, or xp.dynamic_slice(x, (i,), (n,)), or pass "
                "i in static_argnames",
            )
        else:
            forms.append({None: default if bound is None else _static_int(bound, "bound")})
    length = _constant_difference(forms[1], forms[0])
    if length is None:
        raise located(
            TracerConversionError,
            "x[start:stop] inside xp.jit: the slice's length stop - start must be the same on "
            "every call (shapes are fixed when a function is traced), and it cannot be proven "
            "from how start and stop were computed; write them as i * n and (i + 1) * n, or "
            "i and i + n, with n a Python int; or call xp.dynamic_slice(x, starts, sizes) with "
            "a static size; or pass the bounds in static_argnames",
        )
    if length < 0:
        raise located(
            IndexError, f"x[start:stop] inside xp.jit: stop - start is {length}, a negative length"
        )
    if length > size:
        raise located(
            IndexError,
            f"x[start:stop] inside xp.jit: a slice of length {length} cannot fit in an axis of "
            f"size {size}",
        )
    if start is None:
        begin = scalar_node(forms[0][None], _dtypes.INDEX_DTYPE)
    else:
        begin = cast(start, _dtypes.INDEX_DTYPE)
    return begin, length


def _static_int(v: Any, what: str) -> int:
    try:
        return operator.index(v)
    except TypeError:
        raise located(
            TypeError, f"slice {what} must be an integer, got {type(v).__name__}"
        ) from None


_MAX_FORM_DEPTH = 64
_LINEAR = frozenset({"add", "subtract", "multiply", "negative", "positive", "astype"})


def _linear_form(node: Node, depth: int = 0) -> dict[Node | None, int]:
    """A 0-d integer node as ``{leaf: coefficient, None: constant}``: the sum of
    ``coefficient * leaf`` plus the constant, through additions, subtractions,
    negations, multiplications by constants and casts between integer dtypes.

    Anything else is a leaf of its own; interning makes equal subexpressions one node,
    so ``(i + 1) * n - i * n`` reduces to ``n`` whatever ``i`` is. Integer overflow is
    ignored: a wrapped start fails the run-time bounds check.
    """
    if node.value is not None and node.ndim == 0:
        return {None: int(node.value)}
    name = node.op.name
    if (
        name not in _LINEAR
        or depth > _MAX_FORM_DEPTH
        or node.ndim != 0
        or not _dtypes.is_integer(node.dtype)
        or not all(i.ndim == 0 and _dtypes.is_integer(i.dtype) for i in node.inputs)
    ):
        return {node: 1}
    forms = [_linear_form(i, depth + 1) for i in node.inputs]
    if name in ("positive", "astype"):
        return forms[0]
    if name == "negative":
        return _scaled(forms[0], -1)
    a, b = forms
    if name == "add":
        return _combined(a, b, 1)
    if name == "subtract":
        return _combined(a, b, -1)
    if set(a) <= {None}:  # multiply: one side must be a constant
        return _scaled(b, a.get(None, 0))
    if set(b) <= {None}:
        return _scaled(a, b.get(None, 0))
    return {node: 1}


def _scaled(form: dict, c: int) -> dict:
    return {k: v * c for k, v in form.items() if v * c}


def _combined(a: dict, b: dict, sign: int) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + sign * v
    return {k: v for k, v in out.items() if v}


def _constant_difference(a: dict, b: dict) -> int | None:
    """``a - b`` when it is a constant, else None."""
    diff = _combined(a, b, -1)
    if set(diff) <= {None}:
        return diff.get(None, 0)
    return None


def _start_node(s: Any, axis: int, fname: str) -> Node:
    """One start of ``dynamic_slice``: a Python or NumPy integer, or a 0-d integer array."""
    if isinstance(s, bool) or (isinstance(s, np.generic) and s.dtype == np.bool_):
        raise located(TypeError, f"{fname}: start_indices[{axis}] must be an integer, got a bool")
    if isinstance(s, (int, np.integer)):
        return scalar_node(int(s), _dtypes.INDEX_DTYPE)
    try:
        node = node_of(s, f"{fname}: start_indices[{axis}]")
    except TypeError as e:
        raise located(
            TypeError,
            f"{fname}: start_indices[{axis}] must be an integer or a 0-d integer array, got "
            f"{type(s).__name__}",
        ) from e
    if node.ndim != 0 or not _dtypes.is_integer(node.dtype):
        shown = "x".join(map(str, node.shape)) or "0-d"
        raise located(
            TypeError,
            f"{fname}: start_indices[{axis}] must be an integer or a 0-d integer array, got a "
            f"{shown} {node.dtype} array",
        )
    return node


def _dynamic_slice_node(node: Node, starts: tuple[Node, ...], sizes: tuple[int, ...]) -> Node:
    """The ``dynamic_slice`` node; starts whose values are known are checked now."""
    for axis, (start, size, dim) in enumerate(zip(starts, sizes, node.shape)):
        if start.value is not None:
            try:
                check_dynamic_start(int(start.value), size, dim, axis)
            except IndexError as e:
                raise located(IndexError, str(e)) from None
    starts = tuple(cast(s, _dtypes.INDEX_DTYPE) for s in starts)
    return apply(REGISTRY["dynamic_slice"], (node, *starts), sizes=sizes)._node


def _window_args(fname: str, node: Node, start_indices: Any, sizes: Any) -> tuple:
    if not isinstance(start_indices, (tuple, list)):
        raise located(
            TypeError,
            f"{fname}: start_indices must be a tuple or list with one start per axis of x, got "
            f"{type(start_indices).__name__}",
        )
    if len(start_indices) != node.ndim:
        raise located(
            ValueError,
            f"{fname}: x has {node.ndim} axes but start_indices has {len(start_indices)} entries",
        )
    starts = tuple(_start_node(s, a, fname) for a, s in enumerate(start_indices))
    try:
        sizes = tuple(operator.index(n) for n in sizes)
    except TypeError:
        raise located(
            TypeError, f"{fname}: slice sizes must be a tuple of Python integers, got {sizes!r}"
        ) from None
    if len(sizes) != node.ndim:
        raise located(
            ValueError, f"{fname}: x has {node.ndim} axes but the sizes have {len(sizes)} entries"
        )
    for axis, (n, d) in enumerate(zip(sizes, node.shape)):
        if not 0 <= n <= d:
            raise located(
                ValueError,
                f"{fname}: size {n} does not fit in axis {axis} of x (size {d}); sizes must be "
                f"between 0 and the axis size",
            )
    return starts, sizes


def dynamic_slice(x: Any, /, start_indices: Any, slice_sizes: Any) -> Array:
    """``x[s0:s0 + n0, s1:s1 + n1, ...]`` with static sizes and starts that may be traced.

    ``start_indices`` holds one start per axis of ``x``: a Python integer or a 0-d
    integer array (inside ``xp.jit``, a traced value); ``slice_sizes`` one Python
    integer per axis. The result's shape is ``slice_sizes`` whatever the starts, so a
    jitted function slicing at a new position runs the same compiled code. This is
    what ``x[a:b]`` becomes inside jit when ``a`` is traced and ``b - a`` is a constant.

    A start must satisfy ``0 <= start <= x.shape[axis] - size``; otherwise it is an
    ``IndexError`` (when the slice is built if the start is known, else when the
    program runs). Unlike JAX's ``lax.dynamic_slice`` the start is never clamped, and
    unlike a Python slice a negative start does not count from the end.

    >>> import lazyarr as xp
    >>> x = xp.reshape(xp.arange(12), (4, 3))
    >>> xp.dynamic_slice(x, (xp.asarray(1), 0), (2, 3)).shape
    (2, 3)
    """
    fname = "dynamic_slice"
    node = node_of(x, f"{fname}: x")
    starts, sizes = _window_args(fname, node, start_indices, slice_sizes)
    if all(isinstance(s, (int, np.integer)) for s in start_indices):
        # Static starts are a static slice (checked here, as x[a:b] is not: no clamping).
        for axis, (s, n, d) in enumerate(zip(start_indices, sizes, node.shape)):
            try:
                check_dynamic_start(int(s), n, d, axis)
            except IndexError as e:
                raise located(IndexError, f"{fname}: {e}") from None
        slices = tuple((int(s), int(s) + n, 1) for s, n in zip(start_indices, sizes))
        if all(s == (0, d, 1) for s, d in zip(slices, node.shape)):
            return Array._new(node)
        return apply(REGISTRY["slice"], (node,), slices=slices)
    return Array._new(_dynamic_slice_node(node, starts, sizes))


def dynamic_update_slice(x: Any, update: Any, /, start_indices: Any) -> Array:
    """``x`` with ``update`` written at ``x[s0:s0 + update.shape[0], ...]``, starts as in
    ``dynamic_slice`` (the functional ``x[i:i + n] = update`` with a traced ``i``).

    ``update`` has x's number of axes and a dtype that promotes to x's.
    """
    fname = "dynamic_update_slice"
    node = node_of(x, f"{fname}: x")
    value = _value_node(update, node.dtype)
    if value.ndim != node.ndim:
        raise located(
            ValueError,
            f"{fname}: update must have x's {node.ndim} axes, got shape {value.shape}",
        )
    starts, sizes = _window_args(fname, node, start_indices, value.shape)
    for axis, (start, size, dim) in enumerate(zip(starts, sizes, node.shape)):
        if start.value is not None:
            try:
                check_dynamic_start(int(start.value), size, dim, axis)
            except IndexError as e:
                raise located(IndexError, f"{fname}: {e}") from None
    starts = tuple(cast(s, _dtypes.INDEX_DTYPE) for s in starts)
    return apply(REGISTRY["dynamic_update_slice"], (node, value, *starts))


# ----------------------------------------------------------------------------- take
def take(x: Any, indices: Any, /, *, axis: int | None = None) -> Array:
    """Elements of ``x`` at integer ``indices`` along ``axis`` (default: of the flattened x).

    >>> import lazyarr as xp
    >>> xp.take(xp.asarray([10, 20, 30]), xp.asarray([2, 0])).shape
    (2,)
    """
    node = node_of(x, "take: x")
    if axis is None:
        node = reshape_node(node, flat_shape(node.shape))
        axis = 0
    if node.ndim == 0:
        raise located(ValueError, "take: x must have at least one dimension")
    axis = normalize_axis(axis, node.ndim, "take")
    if isinstance(indices, (list, tuple, int)):
        indices = np.asarray(indices, dtype=_dtypes.INDEX_DTYPE)
    idx = _index_node(indices, node.shape[axis], "take")
    return apply(REGISTRY["take"], (node, idx), axis=axis)


def take_along_axis(x: Any, indices: Any, /, *, axis: int = -1) -> Array:
    """Elements of ``x`` at ``indices`` matched along ``axis`` (as ``np.take_along_axis``)."""
    node = node_of(x, "take_along_axis: x")
    if node.ndim == 0:
        raise located(ValueError, "take_along_axis: x must have at least one dimension")
    axis = normalize_axis(axis, node.ndim, "take_along_axis")
    idx = _index_node(indices, node.shape[axis], "take_along_axis")
    if idx.ndim != node.ndim:
        raise located(
            ValueError,
            f"take_along_axis: indices must have x's {node.ndim} dimensions, got shape {idx.shape}",
        )
    try:
        broadcast_shapes(
            node.shape[:axis] + node.shape[axis + 1 :], idx.shape[:axis] + idx.shape[axis + 1 :]
        )
    except ValueError as e:
        raise located(ValueError, f"take_along_axis: {e}") from None
    return apply(REGISTRY["take_along_axis"], (node, idx), axis=axis)


def setitem(x: Array, key: Any, value: Any) -> None:
    """``x[key] = value``: rebind ``x`` to a new node, ``x`` with ``value`` written at ``key``.

    Arrays are immutable handles on graph nodes, so the assignment records a
    functional ``setitem`` node; every name bound to the same Array object sees it.
    ``value`` must have (or, as a Python scalar, fit) ``x``'s dtype or promote to
    it, and broadcast to the shape of ``x[key]``.
    """
    node = x._node
    entries = list(key) if isinstance(key, tuple) else [key]
    entries = [_slice_of_ints(k) if isinstance(k, slice) else _as_index_entry(k) for k in entries]
    value_node = _value_node(value, node.dtype)
    # NOTE: a scalar written through a boolean mask needs no positions: the key is
    # checked with an all-true mask of the same shape, so it works inside jit too. Not
    # when other advanced indices must broadcast with the mask's positions.
    alone = sum(map(_is_array_entry, entries)) == 1 and not any(
        isinstance(k, bool) for k in entries
    )
    probe = [
        np.ones(k.shape, dtype=bool)
        if value_node.ndim == 0 and alone and _is_bool_array(k) and k.ndim
        else k
        for k in entries
    ]
    target = getitem(x, tuple(probe)).shape
    shape = value_node.shape
    while len(shape) > len(target) and shape[0] == 1:
        shape = shape[1:]
    try:
        fits = broadcast_shapes(shape, target) == target
    except ValueError:
        fits = False
    if not fits:
        raise located(
            ValueError,
            f"cannot assign an array of shape {value_node.shape} to x[key] of shape {target}",
        )
    value_node = reshape_node(value_node, shape)
    encoded, indices = [], []
    for k in entries:
        if isinstance(k, slice):
            encoded.append(("s", k.start, k.stop, k.step))
        elif isinstance(k, bool):
            encoded.append(("b", k))
        elif _is_array_entry(k):
            index = node_of(k, "index")
            if not _dtypes.is_bool(index.dtype):
                index = cast(index, _dtypes.INDEX_DTYPE)
            encoded.append(("a", len(indices)))
            indices.append(index)
        elif k is None or k is Ellipsis:
            encoded.append(k)
        else:
            encoded.append(operator.index(k))
    x._node = apply(REGISTRY["setitem"], (node, value_node, *indices), key=tuple(encoded))._node


def _slice_of_ints(k: slice) -> slice:
    """A slice of ``setitem``'s key with its bounds as Python ints (a static attribute)."""
    bounds = (k.start, k.stop, k.step)
    if all(b is None or type(b) is int for b in bounds):
        return k
    if any(_traced_bound(b) is not None for b in bounds):
        raise located(
            TypeError,
            "x[a:b] = value with a slice bound computed inside xp.jit is not supported; "
            "write x = xp.dynamic_update_slice(x, value, starts) with one start per axis of x",
        )
    return slice(*(None if b is None else _static_int(b, "bound") for b in bounds))


def _value_node(value: Any, dtype: np.dtype) -> Node:
    """The value of an assignment as a node of ``dtype``; ``TypeError`` if it would change kind."""
    if isinstance(value, (bool, int, float, complex)) and not isinstance(value, np.generic):
        if _dtypes.promote(dtype, type(value)) != dtype:
            raise located(
                TypeError, f"cannot assign a Python {type(value).__name__} to an array of {dtype}"
            )
        return scalar_node(value, dtype)
    node = node_of(value, "assigned value")
    try:
        common = _dtypes.promote(dtype, node.dtype)
    except TypeError:
        common = None
    if common != dtype:
        raise located(TypeError, f"cannot assign an array of {node.dtype} to an array of {dtype}")
    return cast(node, dtype)
