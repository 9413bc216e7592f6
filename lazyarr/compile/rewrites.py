"""The rewrite catalogue: one named rule per line, grouped by phase.

The default pipeline never changes a finite, non-NaN result beyond rounding:
rules valid only for some inputs (``x/x → 1``, ``x*0 → 0``, ``x-x → 0``,
``exp(log x) → x``) are not here. Stability rules change results only where the
naive form overflows, underflows or cancels, and then toward the exact answer.
``x + 0`` is left alone for floats (``-0.0 + 0 == +0.0``); ``x + -0.0`` is not.

Constant folding, merging equal subexpressions and dead-code removal need no
rules: interning merges equal nodes as they are built, scheduling reaches only
what the outputs need, and ``Program`` computes input-free parts once.
"""

from __future__ import annotations

from .._dtypes import is_floating
from .._graph import Node
from .patterns import Const, Op, Rule, Var, literal, make

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
    from .patterns import scalar_value

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
    shift = _max_shift(e["x"], s["axes"])
    if shift is None:
        return None
    numerator = make("exp", make("subtract", e["x"], shift))
    return make("divide", numerator, make("sum", numerator, axes=s["axes"], keepdims=True))


def _log_softmax(e: dict) -> Node | None:
    s = dict(e["s"].attrs)
    if s.get("dtype") is not None:
        return None
    lse = _logsumexp(e["x"], s["axes"], True)
    return None if lse is None else make("subtract", e["x"], lse)


def _softplus(v: Node) -> Node:
    """``log(1 + exp(v))`` without overflow: ``logaddexp(0, v)``."""
    return make("logaddexp", _zero(v), v)


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
    Rule("softmax_max_shift", Op("divide", Op("exp", fx, name_as="e"), Op("sum", Var("e"), name_as="s", keepdims=True)), _stable_softmax),
)  # fmt: skip

SPECIALIZE = (
    Rule("pow_two", Op("pow", x, Const(2)), lambda e: make("multiply", e["x"], e["x"])),
    Rule("pow_half", Op("pow", fx, Const(0.5)), lambda e: make("sqrt", e["x"])),
    Rule("pow_minus_one", Op("pow", fx, Const(-1)), lambda e: make("reciprocal", e["x"])),
    Rule("pow_integer", Op("pow", x, Var("n")), _power_chain),
)  # fmt: skip


def pipeline() -> tuple[tuple[str, tuple[Rule, ...]], ...]:
    """The phases in the order they run, each to a fixed point."""
    return (
        ("canonicalize", CANONICALIZE),
        ("simplify", SIMPLIFY),
        ("stabilize", STABILIZE),
        ("specialize", SPECIALIZE),
    )


RULE_NAMES = frozenset(rule.name for _, rules in pipeline() for rule in rules)
PHASE_NAMES = frozenset(name for name, _ in pipeline())
