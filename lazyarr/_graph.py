"""The graph: immutable, interned nodes.

A node is ``(op, inputs, attrs)`` with its shape and dtype inferred when it is
built. Nodes are interned through a weak table, so building the same expression
twice yields the same object: common subexpressions merge for free and a node is
its own cache key. A dimension is ``None`` where it depends on array values that do
not exist yet (a boolean mask inside ``xp.jit``); the node's ``size`` is then ``None``.
Traversals (in ``compile/``) are iterative, so graphs of any depth work.
"""

from __future__ import annotations

import math
import weakref
from _weakref import _remove_dead_weakref
from collections.abc import Sequence
from typing import Any

import numpy as np


class Node:
    """One operation in the graph. Never mutated after construction, except ``value``.

    ``value`` holds the computed result once the node has been materialized (and,
    for constants, from the start); evaluation stops at nodes that have one.
    """

    __slots__ = ("__weakref__", "attrs", "dtype", "inputs", "loc", "op", "shape", "size", "value")

    op: Any
    inputs: tuple[Node, ...]
    attrs: tuple[tuple[str, Any], ...]
    shape: tuple[int | None, ...]
    size: int | None
    dtype: np.dtype
    loc: tuple | None
    value: np.ndarray | None

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.attrs)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        shape = "x".join(map(str, self.shape)) or "scalar"
        return f"<Node {self.op.name} {shape} {self.dtype} at {id(self):#x}>"


class _Ref(weakref.ref):
    __slots__ = ("key",)


_table: dict[tuple, _Ref] = {}


def _forget(ref: _Ref, _remove=_remove_dead_weakref, _table=_table) -> None:
    # NOTE: removes the entry only if it still holds a dead reference: an equal node
    # may have been interned again under the same key since this one died.
    _remove(_table, ref.key)


_new = object.__new__


def intern(
    op: Any,
    inputs: tuple[Node, ...],
    attrs: tuple,
    shape: tuple,
    dtype: np.dtype,
    loc: tuple | None,
    value: np.ndarray | None = None,
) -> Node:
    """The unique node for ``(op, inputs, attrs)``, built if it does not exist yet."""
    key = (op, inputs, attrs)
    ref = _table.get(key)
    if ref is not None:
        node = ref()
        if node is not None:
            return node
    node = _new(Node)
    node.op = op
    node.inputs = inputs
    node.attrs = attrs
    node.shape = shape
    node.size = None if None in shape else math.prod(shape)
    node.dtype = dtype
    node.loc = loc
    node.value = value
    ref = _Ref(node, _forget)
    ref.key = key
    _table[key] = ref
    return node


class _Unique(Node):
    """A leaf that can equal no other node: its key is its buffer's identity.

    Its inputs and location are the class's and its key is read when asked for: a
    jitted function wraps each result in one, so building it is on every call's path.
    """

    __slots__ = ()
    inputs = ()
    loc = None

    @property
    def attrs(self) -> tuple:
        return (("key", ("id", id(self.value))),)


def unique(op: Any, shape: tuple, dtype: np.dtype, value: np.ndarray) -> Node:
    """A leaf that can equal no other node (a fresh buffer), so it skips the intern table."""
    node = _new(_Unique)
    node.op = op
    node.shape = shape
    node.size = value.size
    node.dtype = dtype
    node.value = value
    return node


def postorder(roots: Sequence[Node], stop_at_values: bool = False) -> list[Node]:
    """Every node the roots read, inputs before readers (iterative: any depth).

    ``stop_at_values``: a node that has a value is visited but not its inputs (what
    evaluation needs); otherwise a materialized node still leads to what it was
    computed from (what differentiation and printing need).
    """
    order: list[Node] = []
    seen: set[Node] = set()
    stack: list[tuple[Node, int]] = [(r, 0) for r in reversed(roots)]
    while stack:
        node, i = stack.pop()
        if i == 0:
            if node in seen:
                continue
            seen.add(node)
        if i < len(node.inputs) and not (stop_at_values and node.value is not None):
            stack.append((node, i + 1))
            child = node.inputs[i]
            if child not in seen:
                stack.append((child, 0))
        else:
            order.append(node)
    return order


def live_node_count() -> int:
    return len(_table)
