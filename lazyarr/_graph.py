"""The graph: immutable, interned nodes.

A node is ``(op, inputs, attrs)`` with its shape and dtype inferred when it is
built. Nodes are interned through a weak table, so building the same expression
twice yields the same object: common subexpressions merge for free and a node is
its own cache key. Traversals are iterative, so graphs of any depth work.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np


class Node:
    """One operation in the graph. Never mutated after construction, except ``value``.

    ``value`` holds the computed result once the node has been materialized (and,
    for constants, from the start); evaluation stops at nodes that have one.
    """

    __slots__ = ("__weakref__", "attrs", "dtype", "inputs", "loc", "op", "shape", "value")

    op: Any
    inputs: tuple[Node, ...]
    attrs: tuple[tuple[str, Any], ...]
    shape: tuple[int, ...]
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


def _forget(ref: _Ref) -> None:
    if _table.get(ref.key) is ref:
        del _table[ref.key]


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
    node = Node.__new__(Node)
    node.op = op
    node.inputs = inputs
    node.attrs = attrs
    node.shape = shape
    node.dtype = dtype
    node.loc = loc
    node.value = value
    ref = _Ref(node, _forget)
    ref.key = key
    _table[key] = ref
    return node


def live_node_count() -> int:
    return len(_table)


def toposort(roots: Iterable[Node], is_leaf=lambda n: n.value is not None) -> list[Node]:
    """Nodes reachable from ``roots``, inputs before the nodes that use them.

    Traversal stops at nodes for which ``is_leaf`` holds (by default, nodes with
    a value); those are included. Iterative, so deep chains do not recurse.
    """
    order: list[Node] = []
    visited: set[int] = set()
    for root in roots:
        if id(root) in visited:
            continue
        stack: list[tuple[Node, Iterator[Node] | None]] = [(root, None)]
        visited.add(id(root))
        while stack:
            node, it = stack[-1]
            if it is None:
                if is_leaf(node) or not node.inputs:
                    stack.pop()
                    order.append(node)
                    continue
                it = iter(node.inputs)
                stack[-1] = (node, it)
            for child in it:
                if id(child) not in visited:
                    visited.add(id(child))
                    stack.append((child, None))
                    break
            else:
                stack.pop()
                order.append(node)
    return order
