"""Reverse mode as a graph-to-graph transformation: cotangents of outputs in, of leaves out.

``backward`` walks the graph from the outputs back to the nodes asked for and
calls each op's VJP rule (``op.vjp``, see ``rules.py``) on Arrays, so the
gradient it returns is an ordinary lazy graph: evaluated, compiled and
differentiated again like any other.

A cotangent may carry a *mask*: the condition of a ``where`` outside which it is
exactly zero. Elementwise rules below that ``where`` re-apply the mask to what
they compute, so a derivative that is infinite or NaN in the branch ``where``
did not select (``sqrt`` at 0, ``log`` at 0) never turns that zero into NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from .. import _dtypes
from .._array import Array
from .._builder import cast, elementwise, reshape_node
from .._graph import Node, intern
from .._statistical_functions import reduce
from ..compile.optimize import optimize


class Masked(NamedTuple):
    """A cotangent that is exactly zero wherever ``mask`` is false."""

    value: Array
    mask: Array


class NotDifferentiable:
    """The ``vjp`` of an op whose output carries no gradient (booleans, integers, indices)."""

    def __init__(self, reason: str):
        self.reason = reason

    def __repr__(self) -> str:
        return f"NotDifferentiable({self.reason!r})"


def postorder(roots: Sequence[Node]) -> list[Node]:
    """Every node the roots read, inputs before readers, including below computed values.

    A node that was materialized (inside the user's function, say) still depends on
    its inputs, so unlike evaluation this walk does not stop at values.
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
        if i < len(node.inputs):
            stack.append((node, i + 1))
            child = node.inputs[i]
            if child not in seen:
                stack.append((child, 0))
        else:
            order.append(node)
    return order


def backward(
    outputs: Sequence[Node], cotangents: Sequence[Array], wrt: Sequence[Node]
) -> list[Array | None]:
    """The cotangent of each node of ``wrt`` (None where no path leads to it).

    ``cotangents[i]`` has the shape and dtype of ``outputs[i]``. Only floating-point
    (real or complex) nodes receive cotangents: a path through an integer or boolean
    value carries no gradient.
    """
    # NOTE: the stable forms (log(sigmoid) as -softplus, max-shifted logsumexp) are
    # differentiated, not the naive ones: their gradients stay finite where those overflow.
    outputs, _ = optimize(outputs, phases=("canonicalize", "stabilize"))
    targets = set(wrt)
    order = postorder(outputs)
    live: set[Node] = set()
    for node in order:
        if node in targets or any(i in live for i in node.inputs):
            live.add(node)
    pending: dict[Node, Array | Masked] = {}
    for out, ct in zip(outputs, cotangents):
        if out in live and _dtypes.is_floating(out.dtype):
            _accumulate(pending, out, ct)
    for node in reversed(order):
        if node not in pending or not node.inputs:
            continue
        ct = pending[node] if node in targets else pending.pop(node)
        rule = node.op.vjp
        if isinstance(rule, NotDifferentiable):
            continue
        g, mask = (ct.value, ct.mask) if isinstance(ct, Masked) else (ct, None)
        grads = rule(g, Array._new(node), *(Array._new(i) for i in node.inputs), **node.params)
        for inp, gi in zip(node.inputs, grads):
            if gi is None or inp not in live or not _dtypes.is_floating(inp.dtype):
                continue
            if mask is not None and node.op.kind == "elementwise":
                gi = _masked(gi, mask)
            _accumulate(pending, inp, _fit(gi, inp))
    return [_unmasked(pending.get(n)) for n in wrt]


def _masked(g: Array | Masked, mask: Array) -> Masked:
    if isinstance(g, Masked):
        return Masked(g.value, elementwise("logical_and", mask, g.mask))
    return Masked(elementwise("where", mask, g, 0), mask)


def _fit(g: Array | Masked, node: Node) -> Array | Masked:
    """``g`` summed over the axes ``node`` was broadcast along, in ``node``'s dtype."""
    value = g.value if isinstance(g, Masked) else g
    if value.shape != node.shape:
        value = sum_to(value, node.shape)
        g = value  # the mask had the broadcast shape
    if value.dtype != node.dtype:
        if _dtypes.is_complex(value.dtype) and not _dtypes.is_complex(node.dtype):
            value = elementwise("real", value)
        value = Array._new(cast(value._node, node.dtype))
        g = Masked(value, g.mask) if isinstance(g, Masked) else value
    return g


def sum_to(g: Array, shape: tuple[int, ...]) -> Array:
    """``g`` summed down to ``shape``, which broadcasts to ``g.shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and g.shape[lead + i] != 1
    )
    # NOTE: when only leading axes go, the sum has the shape already (no reshape step).
    keepdims = axes != tuple(range(lead))
    total = reduce("sum", g, axes, keepdims, dtype=g.dtype) if axes else g
    return Array._new(reshape_node(total._node, shape))


def _accumulate(pending: dict, node: Node, g: Array | Masked) -> None:
    previous = pending.get(node)
    if previous is None:
        pending[node] = g
    elif isinstance(previous, Masked) and isinstance(g, Masked):
        pending[node] = Masked(
            previous.value + g.value, elementwise("logical_or", previous.mask, g.mask)
        )
    else:
        pending[node] = _unmasked(previous) + _unmasked(g)


def _unmasked(g: Array | Masked | None) -> Array | None:
    return g.value if isinstance(g, Masked) else g


def substitute(roots: Sequence[Node], mapping: dict[Node, Node]) -> list[Node]:
    """``roots`` rebuilt with each node of ``mapping`` replaced by its image."""
    if not mapping:
        return list(roots)
    new = dict(mapping)
    for node in postorder(roots):
        if node in new:
            continue
        inputs = tuple(new.get(i, i) for i in node.inputs)
        if inputs != node.inputs:
            new[node] = intern(node.op, inputs, node.attrs, node.shape, node.dtype, node.loc)
    return [new.get(r, r) for r in roots]
