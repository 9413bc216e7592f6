"""Building checked nodes from the namespace's arguments.

Namespace functions validate what the user passed, then call ``apply`` here,
which infers shape and dtype through the op's declaration and interns the node
with the user's source location. Errors raised here name the user's line.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

import numpy as np

from . import _dtypes
from ._array import Array
from ._errors import located, user_location
from ._graph import Node, intern
from ._ops import REGISTRY, Elementwise, Op

_SCALAR_TYPES = (builtins.bool, int, float, complex)
_SMALL_CONSTANT = 64  # elements; larger constants are keyed by identity, not by content


def apply(op: Op, inputs: tuple[Node, ...], **params) -> Array:
    """The Array for ``op`` applied to ``inputs`` with static ``params``."""
    shape, dtype = op.infer(inputs, **params)
    attrs = tuple(sorted(params.items())) if params else ()
    return Array._new(intern(op, inputs, attrs, shape, dtype, user_location()))


def constant_node(value: np.ndarray) -> Node:
    """The node for a NumPy array that lazyarr owns (read-only from here on)."""
    if value.size <= _SMALL_CONSTANT:
        key = ("bytes", value.dtype.str, value.shape, value.tobytes())
    else:
        key = ("id", id(value))
    return intern(
        REGISTRY["constant"], (), (("key", key),), value.shape, value.dtype, user_location(), value
    )


def constant(value: np.ndarray) -> Array:
    return Array._new(constant_node(value))


def from_numpy(a: np.ndarray | np.generic, copy: builtins.bool = True) -> Node:
    dtype = a.dtype
    if dtype not in _dtypes.DTYPES.values():
        raise located(
            TypeError, f"unsupported dtype {dtype}; lazyarr supports {', '.join(_dtypes.DTYPES)}"
        )
    if copy or not isinstance(a, np.ndarray):
        a = np.array(a, copy=True)
        a.flags.writeable = False
    return constant_node(a)


def scalar_node(value: builtins.bool | int | float | complex, dtype: np.dtype) -> Node:
    """A Python scalar as a 0-d constant of ``dtype`` (OverflowError if it does not fit)."""
    try:
        a = np.asarray(value, dtype=dtype)
    except OverflowError as e:
        raise located(
            OverflowError, f"Python scalar {value!r} does not fit in {dtype}: {e}"
        ) from None
    a.flags.writeable = False
    return constant_node(a)


def node_of(x: object, what: str = "argument") -> Node:
    """The node of an array argument: an Array, or a NumPy array (taken as a constant)."""
    if isinstance(x, Array):
        return x._node
    if isinstance(x, (np.ndarray, np.generic)):
        return from_numpy(x)
    raise located(TypeError, f"{what} must be an array, got {type(x).__name__}")


def cast(node: Node, dtype: np.dtype) -> Node:
    if node.dtype == dtype:
        return node
    return apply(REGISTRY["astype"], (node,), dtype=dtype)._node


def broadcast_node(node: Node, shape: tuple[int, ...]) -> Node:
    if node.shape == shape:
        return node
    return apply(REGISTRY["broadcast_to"], (node,), shape=shape)._node


def reshape_node(node: Node, shape: tuple[int, ...]) -> Node:
    if node.shape == shape:
        return node
    return apply(REGISTRY["reshape"], (node,), shape=shape)._node


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


def elementwise(name: str, *args: object) -> Array:
    """Apply elementwise op ``name``: promote, cast to its computation dtype, broadcast."""
    op = REGISTRY[name]
    assert isinstance(op, Elementwise)
    nodes, common = promote_args(name, args)
    try:
        compute, _ = op.resolve(common)
    except TypeError as e:
        shown = ", ".join(
            str(n.dtype) if n is not None else type(a).__name__ for n, a in zip(nodes, args)
        )
        raise located(TypeError, f"{name} does not support input dtype(s) {shown}: {e}") from None
    inputs = tuple(
        cast(n, compute) if n is not None else cast(scalar_node(a, common), compute)
        for n, a in zip(nodes, args)
    )
    try:
        return apply(op, inputs)
    except ValueError as e:  # from the broadcast rule
        raise located(ValueError, f"{name}: {e}") from None
