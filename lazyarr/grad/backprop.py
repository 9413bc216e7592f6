"""Reverse mode as a graph-to-graph transformation: cotangents of outputs in, of leaves out.

``backward`` walks the graph from the outputs back to the nodes asked for and
calls each op's VJP rule (``op.vjp``, see ``rules.py``) on Arrays, so the
gradient it returns is an ordinary lazy graph: evaluated, compiled and
differentiated again like any other.

A cotangent may carry a *mask*: the condition of a ``where`` outside which it is
exactly zero. Elementwise rules below that ``where`` re-apply the mask to what
they compute, so a derivative that is infinite or NaN in the branch ``where``
did not select (``sqrt`` at 0, ``log`` at 0) never turns that zero into NaN.

A cotangent may also be *lazily broadcast*: smaller than its node (size 1, or
missing, along axes it is constant along: the cotangent of a reduction), standing
for its broadcast to the node's shape. Elementwise rules broadcast it for free
inside their fused loops; it is broadcast for real only before a rule that needs
the full shape (a matmul, an indexing op) and for the gradients returned.

Gradients of shifts that cancel are not computed: in ``z - max(z)`` followed by a
log-softmax or a softmax, the result does not depend on the shift, so no
cotangent is sent to the ``max`` (its true gradient is 0; computed, it is a
rounding error routed to the maxima at the cost of several passes).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import NamedTuple

from .. import _dtypes
from .._array import Array
from .._builder import broadcast_node, cast, elementwise, reshape_node
from .._graph import Node, intern, postorder
from .._ops import broadcast_shapes
from .._statistical_functions import reduce
from ..compile.optimize import optimize
from ..compile.patterns import is_literal


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


def backward(
    outputs: Sequence[Node], cotangents: Sequence[Array], wrt: Sequence[Node]
) -> list[Array | None]:
    """The cotangent of each node of ``wrt`` (None where no path leads to it).

    ``cotangents[i]`` has the shape and dtype of ``outputs[i]``. Only floating-point
    (real or complex) nodes receive cotangents: a path through an integer or boolean
    value carries no gradient.
    """
    targets = set(wrt)
    # NOTE: the stable forms (log(sigmoid) as -softplus, max-shifted logsumexp) are
    # differentiated, not the naive ones: their gradients stay finite where those overflow.
    # Only literals are constants to those rewrites: a leaf that is data (the arguments
    # differentiated here or by an enclosing transform, the user's arrays, which a later
    # grad may differentiate) is a variable whatever its value, or ``x - b`` with ``b``
    # 0 would lose ``b`` as ``x``.
    outputs, _ = optimize(
        outputs,
        phases=("canonicalize", "stabilize"),
        constants=lambda node: is_literal(node) and node not in targets,
    )
    order = postorder(outputs)
    live: set[Node] = set()
    for node in order:
        if node in targets or any(i in live for i in node.inputs):
            live.add(node)
    live -= cancelling_shifts(order, outputs, targets)
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
        broadcasting = node.op.kind == "elementwise" or node.op.name == "broadcast_to"
        if not broadcasting and node.op.name not in _TAKE_LAZY:
            g = _broadcast(g, node)
        grads = rule(g, Array._new(node), *(Array._new(i) for i in node.inputs), **node.params)
        for inp, gi in zip(node.inputs, grads):
            if gi is None or inp not in live or not _dtypes.is_floating(inp.dtype):
                continue
            if mask is not None and node.op.kind == "elementwise":
                gi = _masked(gi, mask)
            _accumulate(pending, inp, _fit(gi, inp, node if broadcasting else None))
    return [_full(pending.get(n), n) for n in wrt]


# ----------------------------------------------------------------------------- cancelling shifts
# How a node moves when the shift ``m`` moves by ``d``: ("add", k, D) is ``x + k*d`` and
# ("mul", k, D) is ``x * exp(k*d)``, with ``d`` of shape ``D`` broadcast to x's shape
# (``D`` has x's rank). Nodes that do not move are left out (k == 0: they do not move).
_Move = tuple[str, int, tuple[int, ...]]


def cancelling_shifts(order: list[Node], outputs: Sequence[Node], targets: set[Node]) -> set[Node]:
    """The shifts ``m`` of ``x - m`` (``m`` a ``max``/``min`` with kept axes, or such a
    max with its non-finite values replaced, as the stabilizing rewrites write it) that
    the outputs do not depend on: moving ``m`` by any ``d`` leaves them as they are, so
    ``m``'s cotangent is exactly zero and need not be computed. Found by following how
    each node moves with ``m`` through the ops of a (log-)softmax and logsumexp."""
    shifts = {
        n.inputs[1]
        for n in order
        if n.op.name == "subtract" and _is_shift(n.inputs[1]) and n.inputs[1] not in targets
    }
    if not shifts:
        return set()
    position = {n: i for i, n in enumerate(order)}
    outs = set(outputs)
    return {m for m in shifts if _outputs_stay(m, order[position[m] + 1 :], outs)}


def _is_max(node: Node) -> bool:
    return node.op.name in ("max", "min") and node.params["keepdims"]


def _is_shift(node: Node) -> bool:
    if node.op.name == "where":  # where(isfinite(m), m, 0)
        c, m, _ = node.inputs
        return c.op.name == "isfinite" and c.inputs[0] is m and _is_max(m)
    return _is_max(node)


def _outputs_stay(m: Node, after: list[Node], outputs: set[Node]) -> bool:
    if m in outputs:
        return False
    moves: dict[Node, _Move] = {m: ("add", 1, m.shape)}
    for node in after:
        if not any(i in moves for i in node.inputs):
            continue
        move = _move(node, [moves.get(i) for i in node.inputs])
        if move is None or (node in outputs and move[1] != 0):
            return False
        if move[1] != 0:
            moves[node] = move
    return True


def _move(node: Node, inputs: list[_Move | None]) -> _Move | None:
    """How ``node`` moves given how its inputs move (None: they do not); None if unknown."""
    name = node.op.name
    moved = [i for i in inputs if i is not None]
    kind = moved[0][0]
    if node.op.kind == "elementwise":
        # Every moved input must move by the same broadcast d, and in the same way.
        shapes = {(1,) * (node.ndim - len(d)) + d for _, _, d in moved}
        if len(shapes) > 1 or any(k != kind for k, _, _ in moved):
            return None
        d = shapes.pop()
        ks = [0 if i is None else i[1] for i in inputs]
        if name in ("add", "subtract", "multiply", "divide"):
            if (kind == "add") != (name in ("add", "subtract")):
                return None
            return kind, ks[0] + ks[1] if name in ("add", "multiply") else ks[0] - ks[1], d
        if name in ("positive", "astype") and _dtypes.is_floating(node.dtype):
            return kind, ks[0], d
        if (name == "negative" and kind == "add") or (name == "reciprocal" and kind == "mul"):
            return kind, -ks[0], d
        if name == "exp" and kind == "add":
            return "mul", ks[0], d
        if name == "log" and kind == "mul":
            return "add", ks[0], d
        if name == "where" and inputs[0] is None and None not in inputs and ks[1] == ks[2]:
            return kind, ks[1], d  # both branches move alike
        return None
    _, k, d = moved[0]
    if name in ("sum", "max", "min") and (kind == "mul" or name != "sum"):
        axes = node.params["axes"]
        if any(d[a] != 1 for a in axes):
            return None  # summing or comparing elements that moved differently
        if not node.params["keepdims"]:
            d = tuple(n for a, n in enumerate(d) if a not in axes)
        return kind, k, d
    if name == "reshape":
        # Only adding or dropping unit axes: d keeps its other axes, in order.
        x = node.inputs[0]
        if [n for n in x.shape if n != 1] != [n for n in node.shape if n != 1]:
            return None
        sizes = iter(n for n, size in zip(d, x.shape) if size != 1)
        return kind, k, tuple(next(sizes) if size != 1 else 1 for size in node.shape)
    return None


# Rules that take a lazily broadcast cotangent as it is (besides elementwise ones).
_TAKE_LAZY = frozenset({"sum", "prod", "max", "min"})


def _masked(g: Array | Masked, mask: Array) -> Masked:
    if isinstance(g, Masked):
        return Masked(g.value, elementwise("logical_and", mask, g.mask))
    return Masked(elementwise("where", mask, g, 0), mask)


def _broadcast(g: Array, node: Node) -> Array:
    """A lazily broadcast cotangent made full: of ``node``'s shape, sizes unknown while
    tracing included."""
    if g.shape == node.shape:
        return g
    return Array._new(broadcast_node(g._node, node.shape, like=node))


def _full(g: Array | Masked | None, node: Node) -> Array | None:
    return None if g is None else _broadcast(_unmasked(g), node)


def _fit(g: Array | Masked, node: Node, out: Node | None) -> Array | Masked:
    """The cotangent of ``node`` from ``g``, a rule's result that stands for its broadcast
    to ``out``'s shape (given for elementwise ops; else ``node``'s shape or larger):
    summed over the axes ``node`` was broadcast along, in ``node``'s dtype."""
    value = g.value if isinstance(g, Masked) else g
    virtual = broadcast_shapes(value.shape, node.shape) if out is None else out.shape
    if virtual != node.shape:
        if out is not None and None in virtual and value.shape != virtual:
            # NOTE: how many elements a lazily broadcast g stands for along an axis of
            # unknown size is known only at run time: broadcast it for real.
            value = _broadcast(value, out)
        reduced = reduce_to(value, virtual, node.shape)
        if reduced is not value:
            g = value = reduced  # the mask had the broadcast shape
    if value.dtype != node.dtype:
        if _dtypes.is_complex(value.dtype) and not _dtypes.is_complex(node.dtype):
            value = elementwise("real", value)
        value = Array._new(cast(value._node, node.dtype))
        g = Masked(value, g.mask) if isinstance(g, Masked) else value
    return g


# where(hit, v, 0) built by a VJP rule, with ``hit`` true exactly once along ``axis``
# (the cotangent of x[arange(n), idx]): its sum along ``axis`` is ``v``.
_ONE_HOT: weakref.WeakKeyDictionary[Node, tuple[int, Array]] = weakref.WeakKeyDictionary()


def one_hot(hit: Array, v: Array, axis: int) -> Array:
    """``where(hit, v, 0)`` for a ``hit`` that rules guarantee is true exactly once along
    ``axis`` (where ``v`` has length 1): summed along ``axis``, it is ``v`` itself."""
    out = elementwise("where", hit, v, 0)
    _ONE_HOT[out._node] = (axis - out.ndim, v)
    return out


def _summed_one_hot(g: Array, axes: tuple[int, ...]) -> tuple[Array, int] | None:
    """``g`` (or ``-g``) summed along its one-hot axis, if it is a ``one_hot`` summed
    there; with that axis (negative, from the end)."""
    node, sign = g._node, 1
    if node.op.name == "negative":
        node, sign = node.inputs[0], -1
    found = _ONE_HOT.get(node)
    if found is None or found[0] + g.ndim not in axes:
        return None
    axis, v = found
    return (v if sign == 1 else -v), axis


def reduce_to(g: Array, virtual: tuple[int, ...], shape: tuple[int, ...]) -> Array:
    """The sum of ``broadcast_to(g, virtual)`` down to ``shape``, itself lazily broadcast:
    ``g`` is summed along the axes it has and ``shape`` lacks (or has as 1), multiplied
    by the length of those it lacks too, and left small elsewhere."""
    if virtual == shape:
        return g
    lead = g.ndim - len(shape)
    summed = tuple(
        j for j in range(g.ndim) if g.shape[j] != 1 and (j < lead or shape[j - lead] == 1)
    )
    picked = _summed_one_hot(g, summed) if summed else None
    if picked is not None:  # the sum along the one-hot axis is known: no pass needed
        g, axis = picked
        at = len(virtual) + axis
        return reduce_to(g, (*virtual[:at], 1, *virtual[at + 1 :]), shape)
    ndim = len(virtual)
    scale = 1  # the length of the axes g stands broadcast along and shape lacks
    for i, n in enumerate(virtual):
        target = shape[i - ndim + len(shape)] if i >= ndim - len(shape) else 1
        own = g.shape[i - ndim + g.ndim] if i >= ndim - g.ndim else 1
        if target == 1 and own == 1:
            scale *= n
    front = tuple(range(max(lead, 0)))
    if any(j >= lead for j in summed):
        inner = tuple(j for j in summed if j >= lead)
        g = reduce("sum", g, front + inner, True, dtype=g.dtype)
        if lead > 0:
            g = Array._new(reshape_node(g._node, g.shape[lead:]))
    elif front:
        g = reduce("sum", g, front, False, dtype=g.dtype)
    if scale != 1:
        g = g * scale
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
