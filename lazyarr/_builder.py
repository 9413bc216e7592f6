"""Building checked nodes from the namespace's arguments.

Namespace functions validate what the user passed, then call ``apply`` here,
which infers shape and dtype through the op's declaration and interns the node
with the user's source location. Errors raised here name the user's line.

Inside ``xp.jit`` a dimension may be unknown (``None``): the size of ``x[mask]``,
``nonzero``, ``unique_*`` or ``repeat`` with array counts. Whatever needs such a size
while tracing raises ``UnknownDimensionError`` at the user's line.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence

import numpy as np

from . import _dtypes
from ._array import Array
from ._errors import TracerConversionError, located, user_location
from ._graph import Node, intern, unique
from ._ops import REGISTRY, Elementwise, Op, broadcast_shapes
from .compile.eager import materialize

_SCALAR_TYPES = (builtins.bool, int, float, complex)
_CONSTANT = REGISTRY["constant"]
_SMALL_CONSTANT = 64  # elements; larger constants are keyed by identity, not by content


class UnknownDimensionError(TracerConversionError):
    """A size that depends on array values was needed while a function is traced."""


DYNAMIC_HINT = (
    "inside xp.jit this size depends on array values (it comes from a boolean mask, nonzero, "
    "unique_* or repeat with array counts) and is not known while tracing; compute it outside "
    "the jitted function, or keep shapes fixed: xp.where(mask, x, 0) instead of x[mask], "
    "xp.nonzero(x, size=n, fill_value=...) instead of xp.nonzero(x)"
)


def unknown_dimension(what: str) -> UnknownDimensionError:
    """The error for ``what``, which needs a size that is unknown while tracing."""
    return located(UnknownDimensionError, f"{what}: {DYNAMIC_HINT}")


def apply(op: Op, inputs: tuple[Node, ...], **params) -> Array:
    """The Array for ``op`` applied to ``inputs`` with static ``params``."""
    try:
        shape, dtype = op.infer(inputs, **params)
    except TypeError:
        # NOTE: a shape rule doing arithmetic on an unknown size; no op needs that size yet.
        if any(None in i.shape for i in inputs):
            raise unknown_dimension(f"{op.name} of shapes {[i.shape for i in inputs]}") from None
        raise
    attrs = tuple(sorted(params.items())) if params else ()
    return Array._new(intern(op, inputs, attrs, shape, dtype, user_location()))


def constant_node(value: np.ndarray) -> Node:
    """The node for a NumPy array that lazyarr owns (read-only from here on)."""
    if value.size <= _SMALL_CONSTANT:
        key = ("bytes", value.dtype, value.shape, value.tobytes())
    else:
        key = ("id", id(value))
    return intern(_CONSTANT, (), (("key", key),), value.shape, value.dtype, user_location(), value)


def from_numpy(a: np.ndarray | np.generic, copy: builtins.bool = True) -> Node:
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    dtype = a.dtype
    if dtype not in _dtypes.DTYPES.values():
        raise located(
            TypeError, f"unsupported dtype {dtype}; lazyarr supports {', '.join(_dtypes.DTYPES)}"
        )
    if copy or not isinstance(a, np.ndarray):
        a = np.array(a, copy=True)
        a.setflags(write=False)
    # NOTE: user data is a leaf of its own, never merged with an equal constant: in
    # ``x = asarray(2.0); grad(x**2, x)`` the exponent 2 must not be ``x``.
    return unique(_CONSTANT, a.shape, dtype, a)


def interned_constant(a: np.ndarray | np.generic) -> Node:
    """A constant the library makes (a step, a start): equal ones are one node."""
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return constant_node(a)


_scalar_nodes: dict[tuple, Node] = {}
_SCALAR_CACHE_SIZE = 4096


def scalar_node(value: builtins.bool | int | float | complex, dtype: np.dtype) -> Node:
    """A Python scalar as a 0-d constant of ``dtype`` (OverflowError if it does not fit).

    Recently used scalars are cached: eager code builds ``x * 2`` over and over.
    """
    # NOTE: 0.0 == -0.0 and nan != nan, so those never hit the cache (nor complex
    # numbers with a zero part: complex(inf, -0.0) == complex(inf, 0.0)).
    key = (dtype, type(value), value)
    if type(value) is complex:
        cacheable = value == value and value.real != 0 and value.imag != 0
    else:
        cacheable = value == value and (value != 0 or type(value) in (builtins.bool, int))
    if cacheable:
        node = _scalar_nodes.get(key)
        if node is not None:
            return node
    node = _new_scalar_node(value, dtype)
    if cacheable:
        if len(_scalar_nodes) >= _SCALAR_CACHE_SIZE:
            _scalar_nodes.clear()
        _scalar_nodes[key] = node
    return node


def _new_scalar_node(value: builtins.bool | int | float | complex, dtype: np.dtype) -> Node:
    try:
        a = np.asarray(value, dtype=dtype)
    except OverflowError as e:
        raise located(
            OverflowError, f"Python scalar {value!r} does not fit in {dtype}: {e}"
        ) from None
    a.setflags(write=False)
    return constant_node(a)


def node_of(x: object, what: str = "argument") -> Node:
    """The node of an array argument: an Array, or a NumPy array (taken as a constant)."""
    if isinstance(x, Array):
        return x._node
    if isinstance(x, (np.ndarray, np.generic)):
        return from_numpy(x)
    raise located(TypeError, f"{what} must be an array, got {type(x).__name__}")


def value_if_known(node: Node) -> np.ndarray | None:
    """The value of ``node``, computed now; None inside ``xp.jit`` where it depends on inputs.

    Outside jit, data-dependent operations evaluate what their shapes depend on, so
    their results have concrete shapes; inside jit they build nodes of unknown size.
    """
    if node.value is not None:
        return node.value
    try:
        return materialize((node,))[0]
    except TracerConversionError:
        return None


def cast(node: Node, dtype: np.dtype) -> Node:
    if node.dtype == dtype:
        return node
    return apply(REGISTRY["astype"], (node,), dtype=dtype)._node


def broadcast_node(node: Node, shape: tuple[int | None, ...], like: Node | None = None) -> Node:
    """``node`` broadcast to ``shape``; its unknown sizes are those of ``like`` (same axes)."""
    if node.shape == shape:
        return node
    if None not in shape:
        return apply(REGISTRY["broadcast_to"], (node,), shape=shape)._node
    if like is None or like.ndim != len(shape):
        raise unknown_dimension(f"broadcast to shape {shape}")
    return apply(REGISTRY["broadcast_to"], (node, like), shape=shape)._node


def reshape_node(node: Node, shape: tuple[int | None, ...]) -> Node:
    """``node`` reshaped; one unknown size of ``shape`` is what the others leave."""
    if node.shape == shape:
        return node
    if builtins.sum(d is None for d in shape) > 1:
        raise unknown_dimension(f"reshape of shape {node.shape} into {shape}")
    return apply(REGISTRY["reshape"], (node,), shape=shape)._node


def flat_shape(shape: tuple[int | None, ...]) -> tuple[int | None]:
    """The 1-D shape with as many elements as ``shape``."""
    return (None,) if None in shape else (math.prod(shape),)


def promote_args(name: str, args: Sequence[object]) -> tuple[list[Node | None], np.dtype]:
    """Array arguments as nodes, and the dtype they and the scalar arguments promote to."""
    nodes: list[Node | None] = []
    dtypes: list[object] = []
    scalars: list[type] = []
    for a in args:
        if isinstance(a, _SCALAR_TYPES):
            nodes.append(None)
            scalars.append(type(a))
        else:
            n = node_of(a, f"{name}: argument")
            nodes.append(n)
            dtypes.append(n.dtype)
    if not dtypes:
        raise located(
            TypeError, f"{name}: at least one argument must be an array, got only Python scalars"
        )
    try:
        common = _dtypes.promote(*dtypes)
        for s in scalars:
            common = _dtypes.promote(common, s)
    except TypeError as e:
        raise located(
            TypeError,
            f"{name}: cannot promote {', '.join(map(str, dtypes + scalars))} together ({e})",
        ) from None
    return nodes, common


def _signature(op: Elementwise, nodes: list, args: Sequence[object]):
    """Computation dtype of each argument, and the output dtype."""
    if all(n is None for n in nodes):
        raise located(
            TypeError, f"{op.name}: at least one argument must be an array, got only Python scalars"
        )
    types = tuple(type(a) if n is None else n.dtype for n, a in zip(nodes, args))
    try:
        return op.signature(types)
    except TypeError as e:
        raise located(TypeError, str(e)) from None


def _prepared(n: Node | None, a: object, compute: np.dtype) -> Node:
    """An argument's node in its computation dtype (scalars become constants of it)."""
    if n is None:
        return scalar_node(a, compute)
    if n.dtype is not compute and n.dtype != compute:
        n = cast(n, compute)
    return n


def _arg_node(a: object, name: str) -> Node | None:
    # NOTE: NumPy scalars (np.float64 is a float) are 0-d arrays with a dtype, not weak scalars.
    if isinstance(a, _SCALAR_TYPES) and not isinstance(a, np.generic):
        return None
    return node_of(a, f"{name}: argument")


def elementwise(name: str, *args: object) -> Array:
    """Apply elementwise op ``name``: cast each argument to its computation dtype, broadcast.

    This is the hot path of eager code: one- and two-argument calls avoid generic
    loops, and the op caches its dtype rule per combination of argument types.
    """
    op = REGISTRY[name]
    cache = op._cache
    if len(args) == 2:
        x, y = args
        nx = x._node if type(x) is Array else _arg_node(x, name)
        ny = y._node if type(y) is Array else _arg_node(y, name)
        rule = cache.get((type(x) if nx is None else nx.dtype, type(y) if ny is None else ny.dtype))
        if rule is None:
            rule = _signature(op, [nx, ny], args)
        (cx, cy), out = rule
        if nx is None or nx.dtype is not cx:
            nx = _prepared(nx, x, cx)
        if ny is None or ny.dtype is not cy:
            ny = _prepared(ny, y, cy)
        inputs = (nx, ny)
        shape = nx.shape
        if ny.shape != shape:
            shape = _broadcast(name, inputs)
    elif len(args) == 1:
        (x,) = args
        nx = x._node if type(x) is Array else _arg_node(x, name)
        rule = cache.get((type(x) if nx is None else nx.dtype,))
        if rule is None:
            rule = _signature(op, [nx], args)
        (cx,), out = rule
        if nx is None or nx.dtype is not cx:
            nx = _prepared(nx, x, cx)
        inputs = (nx,)
        shape = nx.shape
    else:
        nodes = [a._node if type(a) is Array else _arg_node(a, name) for a in args]
        computes, out = _signature(op, nodes, args)
        inputs = tuple(_prepared(n, a, c) for n, a, c in zip(nodes, args, computes))
        shape = _broadcast(name, inputs)
    result = _new_array(Array)
    result._node = intern(op, inputs, (), shape, out, user_location())
    return result


def _broadcast(name: str, inputs: tuple[Node, ...]) -> tuple[int, ...]:
    try:
        return broadcast_shapes(*(n.shape for n in inputs))
    except ValueError as e:
        raise located(ValueError, f"{name}: {e}") from None


_new_array = object.__new__
