"""The NumPy reference backend: evaluates any graph with each op's NumPy ``impl``.

It is the semantic oracle every other backend is tested against, and what runs
when jit is disabled. Values of intermediate nodes are released as soon as their
last consumer has run, so a long chain needs memory for two values, not all.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._errors import relocate
from .._graph import Node


class InternalError(RuntimeError):
    """A backend produced a value that disagrees with the node's declared shape or dtype."""


def schedule(roots: Sequence[Node]) -> tuple[list[Node], dict[Node, int]]:
    """Nodes to visit (inputs first, stopping at nodes with values) and, for each,
    how many times it is read: by the computed nodes, plus once more for a root.

    One iterative pass (deep chains do not recurse), as this runs on every
    materialization.
    """
    order: list[Node] = []
    uses: dict[Node, int] = {}
    # Each frame is (inputs, next position, node); the roots are the inputs of a frame
    # with no node, so they are counted and visited exactly like any other input.
    stack: list[tuple[Sequence[Node], int, Node | None]] = [(roots, 0, None)]
    while stack:
        inputs, i, node = stack[-1]
        while i < len(inputs):
            child = inputs[i]
            i += 1
            if child in uses:
                uses[child] += 1
                continue
            uses[child] = 1
            if child.value is not None or not child.inputs:
                order.append(child)
                continue
            stack[-1] = (inputs, i, node)
            stack.append((child.inputs, 0, child))
            break
        else:
            stack.pop()
            if node is not None:
                order.append(node)
    return order, uses


def evaluate(roots: Sequence[Node]) -> tuple[list[np.ndarray], bool]:
    """The values of ``roots``, and whether they may be kept.

    Nodes that already have a value are not recomputed. A value is released once
    its last reader has run, so a long chain needs memory for a couple of
    intermediates, not all of them. Results that read a writeable buffer (one
    shared with the user through ``asarray(..., copy=False)``) must not be kept:
    the user may write into it before asking again.
    """
    env: dict[Node | None, np.ndarray] = {}
    try:
        with np.errstate(all="ignore"):
            values = [_evaluate_small(r, env, 0) for r in roots]
        return values, None not in env
    except _LargeGraph:
        return _evaluate_large(roots)


def _evaluate_large(roots: Sequence[Node]) -> tuple[list[np.ndarray], bool]:
    """Evaluate in a scheduled order, releasing large values after their last reader."""
    order, uses = schedule(roots)
    env: dict[Node, np.ndarray] = {}
    keepable = True
    with np.errstate(all="ignore"):
        for node in order:
            value = node.value
            if value is not None:
                if value.flags.writeable:
                    keepable = False
                env[node] = value
                continue
            inputs = node.inputs
            value = run_node(node, [env[i] for i in inputs])
            env[node] = value
            for i in inputs:
                # NOTE: only large values are worth the bookkeeping of releasing them early.
                if _large(i):
                    left = uses[i] - 1
                    if left:
                        uses[i] = left
                    elif i in env:
                        del env[i]
    return [env[r] for r in roots], keepable


class _LargeGraph(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The graph is too deep for recursion, or holds values worth releasing early."""


_MAX_DEPTH = 200


def _evaluate_small(node: Node, env: dict, depth: int) -> np.ndarray:
    """Evaluate a graph of small values recursively, keeping every value until the end.

    Most eager graphs are small; this skips the scheduling and release bookkeeping
    of the general path, which cost more than the NumPy calls themselves. Graphs
    that are deep or hold large values raise ``_LargeGraph`` before any large value
    is computed. ``env[None]`` records a read of a writeable (shared) buffer.
    """
    value = node.value
    if value is not None:
        if value.flags.writeable:
            env[None] = value
        return value
    value = env.get(node)
    if value is None:
        if depth > _MAX_DEPTH or _large(node):
            raise _LargeGraph
        args = [_evaluate_small(i, env, depth + 1) for i in node.inputs]
        value = env[node] = run_node(node, args)
    return value


def _large(node: Node) -> bool:
    """Whether ``node``'s value is worth releasing early (a size unknown while tracing is
    read only by a traced graph, which never gets this far: its inputs have no value)."""
    return node.size is not None and node.size >= _RELEASE_MIN_SIZE


def run_node(node: Node, args: list[np.ndarray]) -> np.ndarray:
    """One node's value from its inputs' values, checked against its declaration.

    A dimension declared unknown (``None``, a data-dependent size inside ``xp.jit``)
    takes the size the value has.
    """
    op = node.op
    try:
        value = None
        kind = op.kind
        if kind == "elementwise":
            if node.size is None:
                _check_unknown_sizes(node, args)
            elif node.size >= _COMPACT_MIN_SIZE:
                value = _compact(node, args)
        elif kind in _ORDER_SENSITIVE:
            args = [_expanded(a) for a in args]
        if value is None:
            value = op.impl(*args, **dict(node.attrs)) if node.attrs else op.impl(*args)
    except Exception as e:
        raise relocate(e, node.loc, op.name) from e
    if type(value) is not np.ndarray:
        value = np.asarray(value)
    if (value.dtype is not node.dtype and value.dtype != node.dtype) or (
        value.shape != node.shape and not _fits(value.shape, node.shape)
    ):
        raise InternalError(
            f"op {op.name} produced {value.shape} {value.dtype}, declared {node.shape} {node.dtype}"
        )
    return value


def _fits(shape: tuple[int, ...], declared: tuple[int | None, ...]) -> bool:
    return len(shape) == len(declared) and all(d is None or d == n for n, d in zip(shape, declared))


def _check_unknown_sizes(node: Node, args: list[np.ndarray]) -> None:
    """``ValueError`` unless the operands agree along each axis of unknown size.

    Such a size never broadcasts from 1 when the program runs (only a size known to be
    1 does), so gradients sum over exactly the axes that tracing saw broadcast.
    """
    ndim = node.ndim
    for axis, d in enumerate(node.shape):
        if d is not None:
            continue
        sizes = {
            a.shape[k]
            for i, a in zip(node.inputs, args)
            if (k := axis - ndim + i.ndim) >= 0 and i.shape[k] != 1
        }
        if len(sizes) > 1:
            raise ValueError(
                f"operands of sizes {sorted(sizes)} along axis {axis}, whose size depends on "
                "array values: such sizes must be equal when the program runs (a data-dependent "
                "size never broadcasts), e.g. two arrays selected by different masks"
            )


_COMPACT_MIN_SIZE = 4096
_RELEASE_MIN_SIZE = 4096
# Ops whose floating-point result depends on the memory order NumPy walks their input in.
_ORDER_SENSITIVE = frozenset({"reduction", "scan", "linalg"})
_EXPAND_MAX_SIZE = 1 << 26


def _expanded(a: np.ndarray) -> np.ndarray:
    """A stride-0 (compacted) value as the contiguous array NumPy would have built.

    NumPy sums a broadcast view in another order than a real array, so for results
    equal to NumPy's to the last bit, reductions see real arrays; only absurdly large
    broadcasts (which NumPy itself could not allocate) are reduced as views.
    """
    if 0 in a.strides and a.size <= _EXPAND_MAX_SIZE:
        return np.ascontiguousarray(a)
    return a


def _compact(node: Node, args: list[np.ndarray]) -> np.ndarray | None:
    """An elementwise result computed once per broadcast position, then broadcast.

    Where every input is broadcast along an axis (stride 0), so is the result:
    ``xp.ones((10**6, 10**6)) * 2 + 1`` stays a stride-0 view and costs nothing.
    """
    shape = node.shape
    for a in args:
        if a.shape == shape and 0 not in a.strides:
            return None  # an input varies along every axis, and so does the result
    views = [a if a.shape == shape else np.broadcast_to(a, shape) for a in args]
    axes = [ax for ax, d in enumerate(shape) if d > 1 and all(v.strides[ax] == 0 for v in views)]
    if not axes:
        return None
    index = tuple(slice(0, 1) if ax in axes else slice(None) for ax in range(len(shape)))
    small = node.op.impl(*(v[index] for v in views), **dict(node.attrs))
    return np.broadcast_to(small, shape)
