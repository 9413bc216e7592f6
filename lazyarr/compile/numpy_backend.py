"""The NumPy reference backend: evaluates any graph with each op's NumPy ``impl``.

It is the semantic oracle every other backend is tested against, and what runs
when jit is disabled. Values of intermediate nodes are released as soon as their
last consumer has run, so a long chain needs memory for two values, not all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .._errors import relocate
from .._graph import Node, toposort


class InternalError(RuntimeError):
    """A backend produced a value that disagrees with the node's declared shape or dtype."""


def evaluate(roots: Sequence[Node]) -> list[np.ndarray]:
    """The values of ``roots``; nodes that already have a value are not recomputed."""
    order = toposort(roots)
    uses: dict[int, int] = {}
    for node in order:
        if node.value is None:
            for i in node.inputs:
                uses[id(i)] = uses.get(id(i), 0) + 1
    keep = {id(r) for r in roots}
    env: dict[int, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for node in order:
            if node.value is not None:
                env[id(node)] = node.value
                continue
            args = [env[id(i)] for i in node.inputs]
            env[id(node)] = run_node(node, args)
            for i in node.inputs:
                key = id(i)
                uses[key] -= 1
                if uses[key] == 0 and key not in keep:
                    del env[key]
    return [env[id(r)] for r in roots]


_COMPACT_MIN_SIZE = 4096


def _compact(node: Node, args: list[np.ndarray]) -> np.ndarray | None:
    """An elementwise result computed once per broadcast position, then broadcast.

    Where every input is broadcast along an axis (stride 0), so is the result:
    ``xp.ones((10**6, 10**6)) * 2 + 1`` stays a stride-0 view and costs nothing.
    """
    shape = node.shape
    if math.prod(shape) < _COMPACT_MIN_SIZE:
        return None
    views = [a if a.shape == shape else np.broadcast_to(a, shape) for a in args]
    axes = [ax for ax, d in enumerate(shape) if d > 1 and all(v.strides[ax] == 0 for v in views)]
    if not axes:
        return None
    index = tuple(slice(0, 1) if ax in axes else slice(None) for ax in range(len(shape)))
    small = node.op.impl(*(v[index] for v in views), **dict(node.attrs))
    return np.broadcast_to(small, shape)


def run_node(node: Node, args: list[np.ndarray]) -> np.ndarray:
    """Run one node's reference implementation, checked against its declaration."""
    try:
        out = None
        if node.op.kind == "elementwise":
            out = _compact(node, args)
        if out is None:
            out = node.op.impl(*args, **dict(node.attrs))
    except Exception as e:
        raise relocate(e, node.loc, f"{node.op.name}") from e
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    if out.dtype != node.dtype or out.shape != node.shape:
        raise InternalError(
            f"op {node.op.name} produced {out.shape} {out.dtype}, "
            f"declared {node.shape} {node.dtype}"
        )
    return out
