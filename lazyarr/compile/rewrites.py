"""The rewrite catalogue: one named rule per line, grouped by phase.

The default pipeline never changes a finite, non-NaN result beyond rounding:
rules valid only for some inputs (``x/x → 1``, ``x*0 → 0``, ``x-x → 0``,
``exp(log x) → x``) are not here. Stability rules change results only where the
naive form overflows, underflows or cancels, and then toward the exact answer.
``x + 0`` is left alone for floats (``-0.0 + 0 == +0.0``); ``x + -0.0`` is not.

Constant folding, merging equal subexpressions and dead-code removal need no
rules: interning merges equal nodes as they are built, scheduling reaches only
what the outputs need, and ``Program`` computes input-free parts once.

Stabilize runs in two rounds: the first rewrites what is built on a sigmoid
(its logarithms), the second the sigmoids left, which the first would no longer
recognize. Specialize too: indexing moves ahead of elementwise work once that
work has its final form, so the rule counts the readers of settled nodes.
"""

from __future__ import annotations

import math

import numpy as np

from .._dtypes import is_floating
from .._graph import Node
from . import blas, c_reduce
from .patterns import Const, Op, Rule, Var, clients, literal, make, readers, scalar_value

x = Var("x")
y = Var("y")
a = Var("a")


def _real_floating(node: Node) -> bool:
    return node.dtype.kind == "f"


fx = Var("x", where=_real_floating)
fa = Var("a", where=_real_floating)
ix = Var("x", where=lambda n: n.dtype.kind in "iu")


# ----------------------------------------------------------------------------- helpers
def _zero(like: Node) -> Node:
    return literal(0, like.dtype)


def _compose_permutations(e: dict) -> Node:
    inner = dict(e["inner"].attrs)["axes"]
    outer = dict(e["outer"].attrs)["axes"]
    axes = tuple(inner[i] for i in outer)
    if axes == tuple(range(len(axes))):
        return e["x"]
    return make("permute_dims", e["x"], axes=axes)


def _power_chain(e: dict) -> Node | None:
    """``x**n`` for a small integer ``n`` as repeated squaring (``x**10``: 4 products)."""
    n = scalar_value(e["n"])
    base = e["x"]
    if n is None or not float(n).is_integer() or not 3 <= abs(n) <= 64:
        return None
    if n < 0 and not is_floating(base.dtype):
        return None  # NumPy refuses negative integer powers of integers
    k = abs(int(n))
    result, square = None, base
    while k:
        if k & 1:
            result = square if result is None else make("multiply", result, square)
        k >>= 1
        if k:
            square = make("multiply", square, square)
    return make("reciprocal", result) if n < 0 else result


def _max_shift(values: Node, axes: tuple[int, ...]) -> Node | None:
    """``max(values)`` over ``axes`` (kept), 0 where it is not finite; None for an
    empty reduction (where max has no value but the sum of exponentials does)."""
    if any(values.shape[ax] == 0 for ax in axes):
        return None
    m = make("max", values, axes=axes, keepdims=True)
    return make("where", make("isfinite", m), m, _zero(m))


def _shifted(node: Node) -> bool:
    """Whether ``node`` is already ``v - max(v)`` (written so, or a rule's own output)."""
    if node.op.name != "subtract":
        return False
    shift = node.inputs[1]
    if shift.op.name == "where":
        shift = shift.inputs[1]
    return shift.op.name == "max"


def _logsumexp(values: Node, axes: tuple[int, ...], keepdims: bool) -> Node | None:
    if _shifted(values):  # values <= 0 already: exp cannot overflow
        return make("log", make("sum", make("exp", values), axes=axes, keepdims=keepdims))
    shift = _max_shift(values, axes)
    if shift is None:
        return None
    total = make("sum", make("exp", make("subtract", values, shift)), axes=axes, keepdims=keepdims)
    total = make("log", total)
    if not keepdims:
        shift = make("reshape", shift, shape=total.shape)
    return make("add", total, shift)


def _stable_logsumexp(e: dict) -> Node | None:
    s = dict(e["s"].attrs)
    if _shifted(e["x"]) or s.get("dtype") is not None:
        return None
    return _logsumexp(e["x"], s["axes"], s["keepdims"])


def _stable_softmax(e: dict) -> Node | None:
    s = dict(e["s"].attrs)
    if _shifted(e["x"]) or s.get("dtype") is not None:
        return None
    return _softmax(e["x"], s["axes"])


def _softmax(x: Node, axes: tuple[int, ...]) -> Node | None:
    shift = _max_shift(x, axes)
    if shift is None:
        return None
    numerator = make("exp", make("subtract", x, shift))
    return make("divide", numerator, make("sum", numerator, axes=axes, keepdims=True))


def _log_softmax(e: dict) -> Node | None:
    s = dict(e["s"].attrs)
    if s.get("dtype") is not None:
        return None
    lse = _logsumexp(e["x"], s["axes"], True)
    return None if lse is None else make("subtract", e["x"], lse)


def _softplus(v: Node) -> Node:
    """``log(1 + exp(v))`` without overflow: ``logaddexp(0, v)``."""
    return make("logaddexp", _zero(v), v)


def _softplus_parts(e: dict) -> Node:
    """``logaddexp(0, v)`` as ``max(v, 0) + log1p(exp(-|v|))``, NumPy's operations (so
    the same bits): ``softplus(v)`` and ``softplus(-v)``, which a logistic loss and its
    gradient both need, then share their ``exp`` and ``log1p``. ``-|v|`` is
    ``copysign(v, -1)``, which ``copysign_negative`` makes the same node for ``-v``."""
    v = e["x"]
    small = make("log1p", make("exp", make("copysign", v, literal(-1, v.dtype))))
    return make("add", make("maximum", v, _zero(v)), small)


# ----------------------------------------------------------------------------- views
_VIEWS = ("reshape", "permute_dims")


def _under_views(node: Node) -> tuple[Node, list[Node]]:
    """``node`` without its reshapes and transposes, and those (outermost first)."""
    views = []
    while node.op.name in _VIEWS and node.value is None:
        views.append(node)
        node = node.inputs[0]
    return node, views


def _views_applied(node: Node, views: list[Node]) -> Node:
    for view in reversed(views):
        node = make(view.op.name, node, **view.params)
    return node


def _logsumexp_through_views(e: dict) -> Node | None:
    """``log(V(sum(W(exp(x)))))`` for reshapes and transposes ``V``, ``W``: log and exp
    are elementwise, so this is ``V(logsumexp(W(x)))``."""
    s, outer = _under_views(e["v"])
    if s.op.name != "sum" or s.value is not None or s.params.get("dtype") is not None:
        return None
    exp, inner = _under_views(s.inputs[0])
    if exp.op.name != "exp" or exp.value is not None or not (outer or inner):
        return None
    x = exp.inputs[0]
    if not _real_floating(x) or _shifted(x):
        return None
    params = s.params
    lse = _logsumexp(_views_applied(x, inner), params["axes"], params["keepdims"])
    return None if lse is None else _views_applied(lse, outer)


def _summed_axes(numerator: Node, denominator: Node) -> tuple[int, ...] | None:
    """The axes of ``numerator`` that ``denominator``, broadcast against it, sums it over
    (as ``sum(numerator, axes, keepdims=True)`` would): a sum of a transpose of
    ``numerator``, its result reshaped by adding or removing unit axes, or not kept
    where the broadcast lines it up (``e / sum(e, axis=0)``); None for anything else."""
    s, outer = _under_views(denominator)
    if s.op.name != "sum" or s.value is not None or s.params.get("dtype") is not None:
        return None
    if any(v.op.name != "reshape" for v in outer):
        return None
    inner, views = _under_views(s.inputs[0])
    if inner is not numerator or any(v.op.name != "permute_dims" for v in views):
        return None
    order = tuple(range(numerator.ndim))
    for view in reversed(views):  # the numerator's axis at each axis of the sum's input
        order = tuple(order[a] for a in view.params["axes"])
    summed = s.params["axes"]
    kept = [order[a] for a in range(len(order)) if a not in summed]
    if kept != sorted(kept) or denominator.ndim > numerator.ndim:
        return None
    axes = tuple(sorted(order[a] for a in summed))
    want = tuple(1 if a in axes else d for a, d in enumerate(numerator.shape))
    lead = numerator.ndim - denominator.ndim
    if (1,) * lead + denominator.shape != want:
        return None
    if [d for d in denominator.shape if d != 1] != [d for d in s.shape if d != 1]:
        return None
    return axes


def _softmax_through_views(e: dict) -> Node | None:
    """``exp(x) / d``, ``d`` the sum of ``exp(x)`` written through views or unkept
    (``_summed_axes``), as ``exp(x) / sum(exp(x), axes, keepdims=True)``, max-shifted
    where ``x`` is not already: then the softmax and log-softmax rules see it."""
    d = e["d"]
    if d.op.name == "sum" and d.params["keepdims"] and d.inputs[0] is e["e"]:
        return None  # as the softmax rules read it
    axes = _summed_axes(e["e"], d)
    if axes is None:
        return None
    stable = None if _shifted(e["x"]) else _softmax(e["x"], axes)
    if stable is not None:
        return stable
    return make("divide", e["e"], make("sum", e["e"], axes=axes, keepdims=True))


# ----------------------------------------------------------------------------- sigmoid
def _stable_sigmoid(e: dict) -> Node | None:
    """``1 / (1 + exp(a))`` (the sigmoid of ``-a``) from ``e = exp(-|a|)``, which
    cannot overflow: ``r = 1 / (1 + e)`` where ``a`` is negative (as written, bit for
    bit), ``r * e`` where it is positive. Its gradient is finite everywhere (the naive
    form's is ``inf / inf`` where ``exp(a)`` overflows).

    Written without a select, so that the C compiler vectorizes the loop with its
    ``exp`` (GCC does not if-convert a loop that calls a function): ``-|a|`` is
    ``copysign(a, -1)``, whose derivative is -1 at +0 and 1 at -0, never 0 (``abs``'s
    is 0 at 0, which would make the gradient at 0 vanish), and the factor is
    ``w = h + (1 - h) * e`` with ``h`` 1 or 0 as the sign bit of ``a`` is set or not,
    so that each side takes the derivative of its own branch."""
    a = e["a"]
    if a.op.name == "copysign" and scalar_value(a.inputs[1]) == -1:  # the rule's own
        return None
    one, half = literal(1, a.dtype), literal(0.5, a.dtype)
    sign = make("copysign", one, a)  # ±1, no gradient flows through it
    magnitude = a.inputs[0] if a.op.name == "negative" else a  # copysign drops a sign
    small = make("exp", make("copysign", magnitude, literal(-1, a.dtype)))
    r = make("divide", one, make("add", one, small))
    negative = make("subtract", half, make("multiply", half, sign))  # h: 1 or 0
    positive = make("add", half, make("multiply", half, sign))  # 1 - h
    return make("multiply", r, make("add", negative, make("multiply", positive, small)))


# ----------------------------------------------------------------------------- reductions
def _uniform(node: Node, depth: int = 0) -> Node | None:
    """A 0-d node equal to every element of ``node`` (a broadcast scalar, a constant of
    one value, an elementwise function of those), or None."""
    if node.size == 1:
        return node if node.ndim == 0 else make("reshape", node, shape=())
    if node.op.name == "constant":
        v = scalar_value(node)
        return None if v is None else literal(v, node.dtype)
    if depth > 16 or node.value is not None:
        return None
    if node.op.name in ("broadcast_to", *_VIEWS):
        return _uniform(node.inputs[0], depth + 1)
    if node.op.kind != "elementwise":
        return None
    scalars = [_uniform(i, depth + 1) for i in node.inputs]
    if any(u is None for u in scalars):
        return None
    return make(node.op.name, *scalars, **node.params)


def _count(node: Node, axes: tuple[int, ...]) -> int:
    return math.prod(node.shape[a] for a in axes)


def _spread(value: Node, like: Node) -> Node:
    """The 0-d ``value`` in ``like``'s shape."""
    return value if like.ndim == 0 else make("broadcast_to", value, shape=like.shape)


def _sum_of_uniform(e: dict) -> Node | None:
    """``sum`` of a broadcast scalar ``c``: ``c * count + 0`` (exactly rounded, where
    the sum rounds at every step)."""
    s = e["s"]
    count = _count(e["x"], s.params["axes"])
    if count < 2:
        return None
    c = _uniform(e["x"])
    if c is None:
        return None
    if c.dtype != s.dtype:
        c = make("astype", c, dtype=s.dtype)
    total = make("multiply", c, literal(count, s.dtype))
    if is_floating(s.dtype):
        total = make("add", total, _zero(total))  # NumPy's sum of -0.0s is +0.0
    return _spread(total, s)


def _extremum_of_uniform(e: dict) -> Node | None:
    """``max`` or ``min`` of a broadcast scalar: the scalar."""
    if _count(e["x"], e["s"].params["axes"]) < 2:
        return None
    c = _uniform(e["x"])
    return None if c is None else _spread(c, e["s"])


# ----------------------------------------------------------------------------- indexing
_INDEXING = ("gather", "take", "take_along_axis", "slice", "dynamic_slice")
_MAX_MOVED = 256  # elementwise nodes moved behind one index, at most
# What one more indexing step costs, in elementwise operations: a step of the program
# (about 2 µs), and per element taken 8 (NumPy's fancy indexing against a fused loop).
_STEP_COST = 4096
_TAKE_COST = 8
_FUSED = ("elementwise", "reduction")  # readers a node can be computed inside of


def _liftable(node: Node) -> bool:
    """An elementwise node whose work can move behind an index: computed, and unable
    to raise (NumPy raises for an integer to a negative integer power)."""
    if node.op.kind != "elementwise" or node.value is not None:
        return False
    return not (node.op.name == "pow" and node.dtype.kind in "iu")


def _kept(operand: Node, index: Node) -> bool:
    """A one-element operand broadcasts to the indexed shape as it did to the whole."""
    return operand.size == 1 and operand.ndim <= index.ndim


def _lifted(top: Node, index: Node) -> tuple[set[Node], set[Node]]:
    """What the index moves behind: ``top`` and the elementwise nodes of its shape whose
    every reader moves (their work is saved); and the shared ones whose other readers
    could compute them inside their own loops (their work is repeated for the elements
    taken, and they need no longer be stored)."""
    moved = {top}
    reads: dict[Node, int] = {}  # how many moved nodes read each node
    work = [top]
    while work:
        node = work.pop()
        for i in dict.fromkeys(node.inputs):
            if i in moved or _kept(i, index) or i.shape != top.shape or not _liftable(i):
                continue
            reads[i] = reads.get(i, 0) + 1
            if reads[i] == clients(i) and len(moved) < _MAX_MOVED:
                moved.add(i)
                work.append(i)
    shared = set()
    for i in reads.keys() - moved:
        others = [r for r in readers(i) if r not in moved]
        if others and all(r is not None and r.op.kind in _FUSED for r in others):
            shared.add(i)
    return moved, shared


def _gain(moved: set[Node], shared: set[Node], index: Node) -> int:
    """What moving the index behind ``moved | shared`` saves, in elementwise operations:
    the work of ``moved`` on the elements not taken, a store and a load of each of
    ``shared``, less the repeated work of ``shared`` and the indexing steps added."""
    nodes = moved | shared
    operands = {i for n in nodes for i in n.inputs if i not in nodes and not _kept(i, index)}
    size = next(iter(moved)).size
    gain = (size - index.size) * len(moved) + (2 * size - index.size) * len(shared)
    steps = len(operands) - 1 + len(shared)
    return gain - steps * (_STEP_COST + _TAKE_COST * index.size) if steps > 0 else gain


def _index_first(e: dict) -> Node | None:
    """``f(a, b)[idx]`` as ``f(a'[idx], b'[idx])``, ``a'`` and ``b'`` the operands
    broadcast to ``f``'s shape, through the elementwise nodes only the index reads:
    ``log(p)[arange(n), y]`` computes n logarithms instead of all of ``p``'s.

    Reshapes and transposes between the index and ``f`` (``f(a, b).T[idx]``) apply to
    each operand before it is indexed: elementwise work commutes with them. An operand
    broadcast to ``f``'s shape is transposed as a view, but would be copied whole by a
    reshape, so the rule declines there.

    Each operand is indexed with the same indices in the same shape as ``f(a, b)``
    was, so an index out of range raises as before; a 0-d operand is left as it is,
    and a slice takes of a broadcast operand only its own axes. Indexing several
    operands where one index was costs steps: the rule moves the index only where
    the work saved outweighs them (``_gain``), and through a node other loops read
    too only where that saves more again (``x - max(x)`` of a log-softmax, which the
    exp-and-sum loop then computes without storing it)."""
    index = e["i"]
    top, views = _under_views(e["e"])
    if any(clients(n) != 1 for n in (*views, top)) or index.size >= top.size:
        return None
    moved, shared = _lifted(top, index)
    alone = _gain(moved, set(), index)
    if shared and _gain(moved, shared, index) > max(alone, 0):
        moved |= shared
    elif alone <= 0:
        return None
    shape, rest, params = top.shape, e["rest"], index.params
    if any(v.op.name == "reshape" for v in views) and any(
        i.shape != shape and not _kept(i, index) for n in moved for i in n.inputs if i not in moved
    ):
        return None
    done: dict[Node, Node] = {}

    def indexed(node: Node) -> Node:
        node = _views_applied(node, views)
        if index.op.name == "slice":
            return make("slice", node, **params)
        return make(index.op.name, node, *rest, **params)

    def operand(node: Node) -> Node:
        if _kept(node, index):
            return node
        if node in moved:
            return pushed(node)
        if node.shape == shape:
            return indexed(node)
        if index.op.name == "slice" and not views:
            lead = len(shape) - node.ndim
            own = tuple(
                s if d == shape[lead + a] else (0, 1, 1)
                for a, (s, d) in enumerate(zip(params["slices"][lead:], node.shape))
            )
            return make("slice", node, slices=own)
        return indexed(make("broadcast_to", node, shape=shape))

    def pushed(node: Node) -> Node:
        if node not in done:
            inputs = [operand(i) for i in node.inputs]
            done[node] = make(node.op.name, *inputs, **node.params)
        return done[node]

    return pushed(top)


# ----------------------------------------------------------------------------- BLAS
def _factor(node: Node, like: Node) -> float | None:
    """The value of ``node``, a factor in the product ``like``, where BLAS can take it:
    a constant of one value in ``like``'s dtype, finite and nonzero (``0 * x`` is NaN
    where ``x`` is not finite, but BLAS would not read ``x`` at all); None otherwise."""
    if node.dtype != like.dtype or like.dtype not in blas.DTYPES:
        return None
    v = scalar_value(node)
    return None if v is None or not np.isfinite(v) or v == 0 else float(v)


def _product(node: Node) -> tuple[Node, Node, float] | None:
    """``node`` as ``alpha * (a @ b)``: a product of 2-D float matrices, or a ``gemm``
    without a ``c``, that nothing else reads. A product with a 1-D operand is left to
    ``matmul``, which hands it to BLAS's GEMV as it is (transposed or not): its result,
    reshaped to a vector, is small beside the product, and so is a pass adding to it."""
    if node.dtype not in blas.DTYPES or clients(node) != 1 or node.value is not None:
        return None
    if node.op.name == "matmul" and node.ndim == 2:
        return node.inputs[0], node.inputs[1], 1.0
    if node.op.name == "gemm" and len(node.inputs) == 2:
        return node.inputs[0], node.inputs[1], node.params["alpha"]
    return None


def _gemm(like: Node, a: Node, b: Node, alpha: float, *c: Node, beta: float = 1.0) -> Node | None:
    """``gemm(a, b, *c)``, or None where a factor leaves ``like``'s finite nonzero range."""
    factors = np.array([alpha, beta], like.dtype)
    if not np.all(np.isfinite(factors)) or not np.all(factors):
        return None
    alpha, beta = map(float, factors)
    return make("gemm", a, b, *c, alpha=alpha, **({"beta": beta} if c else {}))


def _scaled_gemm(e: dict) -> Node | None:
    """``k * (a @ b)`` and ``-(a @ b)`` as ``gemm(a, b, alpha=k)``: BLAS scales the
    products as it stores them."""
    node = e["s"]
    if node.op.name == "negative":
        pairs = [(-1.0, e["x"])]
    else:
        pairs = [(_factor(e["x"], node), e["y"]), (_factor(e["y"], node), e["x"])]
    for k, p in pairs:
        found = _product(p)
        if k is not None and found is not None and p.shape == node.shape:
            a, b, alpha = found
            return _gemm(node, a, b, alpha * k)
    return None


def _accumulating_gemm(e: dict) -> Node | None:
    """``p + c``, ``p - c``, ``c - p`` and each with ``k * c``, ``p`` a product
    (``_product``) of the result's shape, as one ``gemm``: ``c`` (broadcast) is copied
    into the result, which BLAS scales and accumulates the products into. A ``k * c``
    read elsewhere too is ``c``."""
    node = e["s"]
    minus = -1.0 if node.op.name == "subtract" else 1.0
    for p, c, sign_p, sign_c in ((e["x"], e["y"], 1.0, minus), (e["y"], e["x"], minus, 1.0)):
        found = _product(p)
        if found is None or c is p or p.shape != node.shape:  # c is p: two products
            continue
        if not c.dtype == p.dtype == node.dtype:
            continue
        beta = sign_c
        if c.op.name == "multiply" and clients(c) == 1:
            for k, term in (c.inputs, c.inputs[::-1]):
                factor = _factor(k, c)
                if factor is not None and term.dtype == c.dtype and term.shape == c.shape:
                    c, beta = term, beta * factor
                    break
        a, b, alpha = found
        return _gemm(node, a, b, alpha * sign_p, c, beta=beta)
    return None


# The logistic sigmoid as users write it: 1 / (1 + exp(a)) is sigmoid(-a).
_SIGMOID_OF_NEG_A = Op("divide", Const(1), Op("add", Const(1), Op("exp", fa), commutative=True))
_SIGMOID_OF_NEG_A_RECIPROCAL = Op(
    "reciprocal", Op("add", Const(1), Op("exp", fa), commutative=True)
)

# ----------------------------------------------------------------------------- phases
CANONICALIZE = (
    Rule("mul_one", Op("multiply", x, Const(1), commutative=True), lambda e: e["x"]),
    Rule("div_one", Op("divide", x, Const(1)), lambda e: e["x"]),
    Rule("add_negative_zero", Op("add", fx, Const(-0.0, signed=True), commutative=True), lambda e: e["x"]),
    Rule("add_integer_zero", Op("add", ix, Const(0), commutative=True), lambda e: e["x"]),
    Rule("sub_zero", Op("subtract", x, Const(0)), lambda e: e["x"]),
    Rule("neg_neg", Op("negative", Op("negative", x)), lambda e: e["x"]),
    Rule("sub_neg", Op("subtract", x, Op("negative", y)), lambda e: make("add", e["x"], e["y"])),
    Rule("add_neg", Op("add", x, Op("negative", y), commutative=True), lambda e: make("subtract", e["x"], e["y"])),
    Rule("pow_one", Op("pow", x, Const(1)), lambda e: e["x"]),
    Rule("abs_abs", Op("abs", Op("abs", x, name_as="inner")), lambda e: e["inner"]),
    Rule("transpose_transpose", Op("permute_dims", Op("permute_dims", x, name_as="inner"), name_as="outer"), _compose_permutations),
    Rule("reshape_same_shape", Op("reshape", x, name_as="r"), lambda e: e["x"] if e["x"].shape == e["r"].shape else None),
    Rule("reshape_reshape", Op("reshape", Op("reshape", x), name_as="r"), lambda e: make("reshape", e["x"], shape=e["r"].shape)),
    Rule("astype_same_dtype", Op("astype", x, name_as="c"), lambda e: e["x"] if e["x"].dtype == e["c"].dtype else None),
)  # fmt: skip

SIMPLIFY = (
    Rule("pow_zero", Op("pow", x, Const(0), name_as="p"), lambda e: make("broadcast_to", literal(1, e["p"].dtype), shape=e["p"].shape)),
    Rule("sum_of_uniform", Op("sum", x, name_as="s"), _sum_of_uniform),
    Rule("extremum_of_uniform", Op(("max", "min"), x, name_as="s"), _extremum_of_uniform),
)  # fmt: skip

STABILIZE = (
    Rule("log1p", Op("log", Op("add", Const(1), fx, commutative=True)), lambda e: make("log1p", e["x"])),
    Rule("log1p_of_minus", Op("log", Op("subtract", Const(1), fx)), lambda e: make("log1p", make("negative", e["x"]))),
    Rule("expm1", Op("subtract", Op("exp", fx), Const(1)), lambda e: make("expm1", e["x"])),
    Rule("softplus", Op("log1p", Op("exp", fx)), lambda e: _softplus(e["x"])),
    Rule("log_sigmoid", Op("log", _SIGMOID_OF_NEG_A), lambda e: make("negative", _softplus(e["a"]))),
    Rule("log_sigmoid_reciprocal", Op("log", _SIGMOID_OF_NEG_A_RECIPROCAL), lambda e: make("negative", _softplus(e["a"]))),
    Rule("log_one_minus_sigmoid", Op("log1p", Op("negative", _SIGMOID_OF_NEG_A)), lambda e: make("negative", _softplus(make("negative", e["a"])))),
    Rule("log_one_minus_sigmoid_reciprocal", Op("log1p", Op("negative", _SIGMOID_OF_NEG_A_RECIPROCAL)), lambda e: make("negative", _softplus(make("negative", e["a"])))),
    Rule("log_softmax", Op("log", Op("divide", Op("exp", fx, name_as="e"), Op("sum", Var("e"), name_as="s", keepdims=True))), _log_softmax),
    Rule("logsumexp", Op("log", Op("sum", Op("exp", fx), name_as="s")), _stable_logsumexp),
    Rule("logsumexp_through_views", Op("log", Op(("sum", *_VIEWS), x, name_as="v")), _logsumexp_through_views),
    Rule("softmax_max_shift", Op("divide", Op("exp", fx, name_as="e"), Op("sum", Var("e"), name_as="s", keepdims=True)), _stable_softmax),
    Rule("softmax_through_views", Op("divide", Op("exp", fx, name_as="e"), Var("d")), _softmax_through_views),
)  # fmt: skip

# The second round: the sigmoids no rule of the first built on.
STABILIZE_SIGMOID = (
    Rule("stable_sigmoid", _SIGMOID_OF_NEG_A, _stable_sigmoid),
    Rule("stable_sigmoid_reciprocal", _SIGMOID_OF_NEG_A_RECIPROCAL, _stable_sigmoid),
    Rule("sigmoid_of_softplus", Op("exp", Op("subtract", fx, Op("logaddexp", Const(0), Var("x")))), lambda e: _stable_sigmoid({"a": make("negative", e["x"])})),
)  # fmt: skip


def _merged(name: str, x: Node, first: int, last: int, extra: dict) -> Node:
    """Reduction ``name`` of ``x`` over axes ``first`` to ``last - 1`` as one over a single
    axis of ``x`` reshaped to merge them (``keepdims`` false). Elementwise work that only
    the reduction reads, on operands of ``x``'s shape, is rebuilt on its operands
    reshaped, so the compiled loop computes and reduces it in one pass; any other node
    (``x`` itself where an operand is broadcast) is reshaped as it is: a view where it is
    contiguous (a result computed before), a copy otherwise."""
    shape = x.shape[:first] + (math.prod(x.shape[first:last]),) + x.shape[last:]
    merged: dict[Node, Node] = {}

    def merge(node: Node) -> Node:
        if node.shape == ():
            return node
        if node not in merged:
            inner = (
                node.op.kind == "elementwise"
                and (node is x or clients(node) <= 1)
                and all(i.shape in ((), x.shape) for i in node.inputs)
            )
            merged[node] = (
                make(node.op.name, *map(merge, node.inputs), **dict(node.attrs))
                if inner
                else make("reshape", node, shape=shape)
            )
        return merged[node]

    return make(name, merge(x), axes=(first,), keepdims=False, **extra)


def _merge_reduced_axes(e: dict) -> Node | None:
    """A reduction of an elementwise expression over a run of adjacent axes, as one over a
    single axis of its operands reshaped to merge them: the compiled loop computes and
    reduces in one pass instead of storing the expression for NumPy to reduce. NumPy
    reduces adjacent axes of a contiguous array as one, so the order of a sum stays the
    same."""
    r, x = e["r"], e["x"]
    params = dict(r.attrs)
    axes = sorted(params["axes"])
    if len(axes) < 2 or axes != list(range(axes[0], axes[-1] + 1)):
        return None
    if None in x.shape:
        return None
    if x.size == 0 and r.op.name in ("max", "min"):
        return None  # an error as written (no identity), which must stay one
    if any(i.shape not in ((), x.shape) for i in x.inputs):
        return None  # a broadcast operand: merging its axes would need its broadcast first
    extra = {"dtype": params["dtype"]} if "dtype" in params else {}
    out = _merged(r.op.name, x, axes[0], axes[-1] + 1, extra)
    return make("reshape", out, shape=r.shape) if out.shape != r.shape else out


def _runs(shape: tuple[int, ...], axes: tuple[int, ...]) -> list[tuple[int, int]]:
    """The reduced ``axes`` as runs ``(first, last)`` of adjacent axes, outermost first;
    axes of size 1 kept between two reduced ones join them (they hold one element)."""
    runs: list[list[int]] = []
    for d in sorted(axes):
        if runs and all(shape[k] == 1 for k in range(runs[-1][1], d)):
            runs[-1][1] = d + 1
        else:
            runs.append([d, d + 1])
    return [(first, last) for first, last in runs]


def _split_reduced_axes(e: dict) -> Node | None:
    """A reduction over several axes as reductions over one axis each, the compiled
    kernels' form. Runs of adjacent axes apart are reduced one after another, the
    innermost first (``sum(x, axis=(0, 2))`` is ``sum(sum(x, axis=2), axis=0)``), each
    on the result of the one before, in the result's dtype. A run of several axes is
    merged into one (``_merged``) where what it reduces is computed in the program
    (elementwise work, or the previous step's result: a reshape is then a view);
    an input's or a view's axes are reduced one by one instead, as a reshape would copy
    a non-contiguous one (up to 15 times NumPy's time, which reads any layout in place).
    ``keepdims`` keeps each step's axis where every run is one axis; a final reshape
    puts back the axes otherwise.

    The innermost first is NumPy's own order for a C-contiguous input whose last axis
    is reduced: each row of that axis summed pairwise, the row sums added in sequence,
    so such sums agree to the bit; where the last axis is kept, NumPy adds in sequence
    over all the reduced axes, and the nested sums differ by rounding. Integers,
    booleans, max and min (NaN included) are exact in any order. ``argmax``/``argmin``
    over every axis (the flattened array) is one merged run.

    The rule declines where a step would not run as a compiled kernel
    (``c_reduce.supported``: a sum of booleans, a float sum in another ``dtype``), which
    would gain nothing, and for adjacent axes of an input or a view (``sum(x)`` of an
    argument): reduced one by one, a contiguous array's sum would leave NumPy's
    pairwise order over the whole run, and NumPy reduces it as fast."""
    r, x = e["r"], e["x"]
    params = dict(r.attrs)
    if len(params["axes"]) < 2 or None in x.shape:
        return None
    if r.op.name in ("max", "min", "argmax", "argmin") and 0 in (
        x.shape[a] for a in params["axes"]
    ):
        return None  # an error as written (no identity), which must stay one
    extra = {"dtype": params["dtype"]} if "dtype" in params else {}
    runs = _runs(x.shape, params["axes"])
    keep = params["keepdims"] and all(last - first == 1 for first, last in runs)
    out = x
    for first, last in reversed(runs):
        if last - first == 1:
            steps = [make(r.op.name, out, axes=(first,), keepdims=keep, **extra)]
        elif out.op.kind in ("elementwise", "reduction"):
            steps = [_merged(r.op.name, out, first, last, extra)]
        elif last - first == len(params["axes"]):
            return None  # the axes are adjacent: NumPy's (see above)
        else:
            steps = []
            for axis in reversed(range(first, last)):
                if axis in params["axes"]:
                    out = make(r.op.name, out, axes=(axis,), keepdims=False, **extra)
                    steps.append(out)
        if not all(c_reduce.supported(step) for step in steps):
            return None
        out = steps[-1]
    return make("reshape", out, shape=r.shape) if out.shape != r.shape else out


SPECIALIZE = (
    Rule("softplus_parts", Op("logaddexp", Const(0), fx), _softplus_parts),
    Rule("copysign_negative", Op("copysign", Op("negative", x), y), lambda e: make("copysign", e["x"], e["y"])),
    Rule("pow_two", Op("pow", x, Const(2)), lambda e: make("multiply", e["x"], e["x"])),
    Rule("pow_half", Op("pow", fx, Const(0.5)), lambda e: make("sqrt", e["x"])),
    Rule("pow_minus_one", Op("pow", fx, Const(-1)), lambda e: make("reciprocal", e["x"])),
    Rule("pow_integer", Op("pow", x, Var("n")), _power_chain),
    Rule("gemm_scale", Op("multiply", x, y, name_as="s"), _scaled_gemm),
    Rule("gemm_negate", Op("negative", x, name_as="s"), _scaled_gemm),
    Rule("gemm", Op(("add", "subtract"), x, y, name_as="s"), _accumulating_gemm),
    Rule("merge_reduced_axes", Op(("sum", "prod", "max", "min"), Var("x", where=lambda n: n.op.kind == "elementwise"), name_as="r"), _merge_reduced_axes),
    Rule("split_reduced_axes", Op(c_reduce.REDUCTIONS, x, name_as="r"), _split_reduced_axes),
)  # fmt: skip

# The second round, on the elementwise work the first settled: indexing ahead of it.
SPECIALIZE_INDEXING = (
    Rule("index_pushdown", Op(_INDEXING, Var("e", where=lambda n: _liftable(_under_views(n)[0])), rest="rest", name_as="i"), _index_first),
)  # fmt: skip


def pipeline() -> tuple[tuple[str, tuple[Rule, ...]], ...]:
    """The phases in the order they run, each round to a fixed point (a phase named
    twice runs in two rounds)."""
    return (
        ("canonicalize", CANONICALIZE),
        ("simplify", SIMPLIFY),
        ("stabilize", STABILIZE),
        ("stabilize", STABILIZE_SIGMOID),
        ("specialize", SPECIALIZE),
        ("specialize", SPECIALIZE_INDEXING),
    )


RULE_NAMES = frozenset(rule.name for _, rules in pipeline() for rule in rules)
PHASE_NAMES = frozenset(name for name, _ in pipeline())
