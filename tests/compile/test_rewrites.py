"""The rewrite catalogue: each rule fires where it should, keeps values, and keeps lines."""

from __future__ import annotations

import re

import numpy as np
import pytest

import lazyarr as xp
from lazyarr.compile.optimize import check_names, optimize
from lazyarr.compile.patterns import is_literal
from lazyarr.compile.rewrites import RULE_NAMES


def ops_of(lowered) -> list[str]:
    """The op of every computed line of a lowered program, in order."""
    ops = []
    for line in lowered.as_text().splitlines():
        if " = " in line and "input" not in line and "constant" not in line:
            ops.append(line.split(" = ", 1)[1].split("(", 1)[0])
    return ops


def rules_fired(f, *args) -> list[str]:
    return [r.split(":", 1)[0].split("/", 1)[1] for r in xp.jit(f).lower(*args).rewrites()]


def same_values(f, *args, rtol=1e-12):
    """``f`` rewritten (jit) equals ``f`` as written (NumPy's operation order)."""
    got = np.asarray(xp.jit(f)(*args))
    want = np.asarray(xp.jit(f, exclude_rewrites="all")(*args))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0)
    assert np.array_equal(np.signbit(got), np.signbit(want))


RNG = np.random.default_rng(0)
X = np.concatenate([RNG.standard_normal(50), [0.0, -0.0, np.inf, -np.inf, np.nan, 1e300]])
POS = np.abs(RNG.standard_normal(50)) + 0.1


# ----------------------------------------------------------------------------- identities
@pytest.mark.parametrize(
    "rule, f",
    [
        ("mul_one", lambda x: x * 1.0),
        ("mul_one", lambda x: 1.0 * x),
        ("div_one", lambda x: x / 1.0),
        ("add_negative_zero", lambda x: x + -0.0),
        ("sub_zero", lambda x: x - 0.0),
        ("neg_neg", lambda x: xp.negative(-x)),
        ("pow_one", lambda x: x**1),
        ("abs_abs", lambda x: xp.abs(xp.abs(x))),
        ("sub_neg", lambda x: x - (-xp.sin(x))),
        ("add_neg", lambda x: x + (-xp.sin(x))),
    ],
)
def test_identities_fire_and_keep_every_value(rule, f):
    assert rule in rules_fired(f, X)
    same_values(f, X)


def test_identities_on_shapes_and_dtypes():
    a = RNG.standard_normal((3, 4, 5))
    assert rules_fired(lambda x: xp.permute_dims(xp.permute_dims(x, (1, 0, 2)), (1, 0, 2)), a) == [
        "transpose_transpose"
    ]
    f = xp.jit(lambda x: xp.permute_dims(xp.permute_dims(x, (1, 2, 0)), (1, 0, 2)) + 1)
    np.testing.assert_array_equal(
        np.asarray(f(a)), np.transpose(np.transpose(a, (1, 2, 0)), (1, 0, 2)) + 1
    )
    assert "reshape_reshape" in rules_fired(lambda x: xp.reshape(xp.reshape(x, (12, 5)), (60,)), a)
    round_trip = lambda x: xp.reshape(xp.reshape(x, (12, 5)), (3, 4, 5)) + 1  # noqa: E731
    assert rules_fired(round_trip, a) == ["reshape_reshape", "reshape_same_shape"]
    assert ops_of(xp.jit(round_trip).lower(a)) == ["add"]
    assert "add_integer_zero" in rules_fired(lambda i: i + 0, np.arange(5))


def test_adding_positive_zero_is_kept_for_floats():
    """``-0.0 + 0.0`` is ``+0.0``: ``x + 0`` is not an identity for floats."""
    f = xp.jit(lambda x: x + 0.0)
    assert f.lower(X).rewrites() == []
    assert not np.signbit(np.asarray(f(np.array([-0.0]))))[0]


def test_rewrites_valid_only_for_some_inputs_are_not_made():
    for f in (lambda x: x / x, lambda x: x * 0.0, lambda x: x - x, lambda x: xp.exp(xp.log(x))):
        assert xp.jit(f).lower(X).rewrites() == []


# ------------------------------------------------------------------------ differentiated values
# An argument being differentiated is a variable, whatever its value: ``x - b`` is not
# ``x`` where ``b`` is 0, nor ``b * x`` ``x`` where ``b`` is 1, before the gradient
# is taken (the rewrites before differentiation read the values of literals only).
W = np.array([0.5, 1.5, 2.0])

IDENTITY_AT = [  # f(namespace, w, b), and values of b equal to a rule's constant
    ("x - b", lambda m, w, b: w - b, (0.0, -0.0)),
    ("b - x", lambda m, w, b: b - w, (0.0,)),
    ("x + b", lambda m, w, b: w + b, (0.0, -0.0)),
    ("b + x", lambda m, w, b: b + w, (-0.0,)),
    ("b * x", lambda m, w, b: b * w, (0.0, 1.0)),
    ("x * b", lambda m, w, b: w * b, (0.0, 1.0)),
    ("x / b", lambda m, w, b: w / b, (1.0,)),
    ("b / x", lambda m, w, b: b / w, (0.0, 1.0)),
    ("x ** b", lambda m, w, b: w**b, (0.0, 1.0, 2.0)),
    ("log(b + x)", lambda m, w, b: m.log(b + w), (1.0,)),
    ("exp(x) - b", lambda m, w, b: m.exp(w) - b, (1.0,)),
]
CASES_AT = [(name, f, v) for name, f, values in IDENTITY_AT for v in values]
ARGUMENT_KINDS = {
    "python float": lambda v: v,
    "numpy 0-d": lambda v: np.float64(v),
    "numpy 0-d array": lambda v: np.array(v),
    "array": lambda v: np.full(3, v),
}


def central_gradient(f, b: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d sum(f(W, b)) / d b by central differences in float64."""
    g = np.zeros(np.shape(b))
    for i in np.ndindex(g.shape):
        step = np.zeros(np.shape(b))
        step[i] = h
        g[i] = (np.sum(f(np, W, b + step)) - np.sum(f(np, W, b - step))) / (2 * h)
    return g


@pytest.mark.parametrize("mode", ["eager", "jit"])
@pytest.mark.parametrize("kind", list(ARGUMENT_KINDS))
@pytest.mark.parametrize("name, f, value", CASES_AT, ids=[f"{n} at {v}" for n, _, v in CASES_AT])
def test_the_gradient_wrt_an_argument_equal_to_a_rules_constant_is_exact(
    name, f, value, kind, mode
):
    w = xp.asarray(W)
    gradient = xp.grad(lambda b: xp.sum(f(xp, w, b)))
    if mode == "jit":
        gradient = xp.jit(gradient)
    b = ARGUMENT_KINDS[kind](value)
    got = np.asarray(gradient(b))
    want = central_gradient(f, np.asarray(b, dtype=np.float64))
    assert got.shape == np.shape(b)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    if name == "x - b":
        np.testing.assert_array_equal(got, np.full(np.shape(b), -1.0 if got.ndim else -3.0))


@pytest.mark.parametrize("mode", ["eager", "jit"])
def test_value_and_grad_wrt_several_arguments_at_zero_and_one(mode):
    w = xp.asarray(W)

    def f(a, b, c):
        return xp.sum((w - a) * b + w / c + w**b)

    run = xp.value_and_grad(f, argnums=(0, 1, 2))
    if mode == "jit":
        run = xp.jit(run)
    value, (ga, gb, gc) = run(0.0, np.float64(1.0), np.ones(3))
    np.testing.assert_allclose(float(value), np.sum(W + W + W))
    np.testing.assert_allclose(float(ga), -3.0)
    np.testing.assert_allclose(float(gb), np.sum(W + W * np.log(W)))
    np.testing.assert_allclose(np.asarray(gc), -W)


def test_literals_still_fold_beside_a_differentiated_argument():
    """A literal 0 or 1 is a constant before and after differentiation, and a value that
    is not differentiated folds in the optimized graph."""
    assert rules_fired(lambda x: x - 0.0, X) == ["sub_zero"]
    assert ops_of(xp.jit(lambda x: x - 0.0).lower(X)) == []
    assert ops_of(xp.jit(lambda x: (x * 1.0) / 1.0).lower(X)) == []
    # d/dx sum((x - 0.0) ** 2 * 1.0) = 2x: no subtract, no pow, no multiply by one left.
    grad_x = xp.jit(xp.grad(lambda x: xp.sum((x - 0.0) ** 2 * 1.0)))
    assert not {"subtract", "pow"} & set(ops_of(grad_x.lower(POS)))
    np.testing.assert_allclose(np.asarray(grad_x(POS)), 2 * POS, rtol=1e-15)
    # c, a static Python float, is not differentiated: x - c folds as x - 0.0 does.
    lowered = xp.jit(lambda x, c: xp.grad(lambda x: xp.sum((x - c) * (x - c)))(x)).lower(POS, 0.0)
    assert "subtract" not in ops_of(lowered)
    # b is differentiated and equal to 0: the gradient -sum(x - b) * 2 still folds x - b,
    # in the graph that computes it after differentiation.
    g = xp.jit(lambda x, b: xp.grad(lambda b: xp.sum((x - b) * (x - b)))(b))
    assert "subtract" not in ops_of(g.lower(POS, 0.0))
    np.testing.assert_allclose(float(g(POS, 0.0)), -2 * np.sum(POS), rtol=1e-14)


def test_rules_read_only_the_constants_they_are_given():
    w, b = xp.asarray(W), xp.asarray(0.0)
    y = (w - b)._node
    (out,), _ = optimize([y], phases=("canonicalize",))
    assert out is w._node  # by default every constant is read: b is 0
    (kept,), _ = optimize([y], phases=("canonicalize",), constants=is_literal)
    assert kept is y  # b is data: a variable, not the constant 0
    literal = (w - 0.0)._node
    assert is_literal(literal.inputs[1]) and not is_literal(b._node) and not is_literal(w._node)
    (folded,), _ = optimize([literal], phases=("canonicalize",), constants=is_literal)
    assert folded is literal.inputs[0]


# ----------------------------------------------------------------------------- powers
@pytest.mark.parametrize("k, rule", [(2, "pow_two"), (0.5, "pow_half"), (-1, "pow_minus_one")])
def test_special_powers(k, rule):
    f = lambda x: x**k  # noqa: E731
    assert rules_fired(f, POS) == [rule]
    same_values(f, POS, rtol=0)


def test_integer_powers_are_multiplication_chains():
    lowered = xp.jit(lambda x: x**10).lower(POS)
    assert ops_of(lowered).count("multiply") == 4 and "pow" not in ops_of(lowered)
    for k in (3, 7, 10, 16, -3):
        same_values(lambda x, k=k: x**k, POS, rtol=4e-15)
    ints = np.arange(-5, 6)
    np.testing.assert_array_equal(np.asarray(xp.jit(lambda i: i**5)(ints)), ints**5)
    assert "pow" in ops_of(xp.jit(lambda i: i**-2).lower(ints.astype(np.int64) + 10))


def test_pow_zero_is_one():
    np.testing.assert_array_equal(np.asarray(xp.jit(lambda x: x**0)(X)), np.ones_like(X))


# ----------------------------------------------------------------------------- stability
BIG = np.array([-1000.0, -50.0, -1.0, -1e-10, 0.0, 1e-10, 1.0, 50.0, 1000.0])


def softplus(x):
    return np.logaddexp(0, x)


@pytest.mark.parametrize(
    "f, exact, rule",
    [
        (lambda x: xp.log(1 + xp.exp(x)), softplus, "softplus"),
        (lambda x: xp.log(1 + x * 1e-20), lambda x: x * 1e-20, "log1p"),
        (lambda x: xp.exp(x * 1e-20) - 1, lambda x: x * 1e-20, "expm1"),
        (lambda x: xp.log(1 / (1 + xp.exp(-x))), lambda x: -softplus(-x), "log_sigmoid"),
        (
            lambda x: xp.log(1 - 1 / (1 + xp.exp(-x))),
            lambda x: -softplus(x),
            "log_one_minus_sigmoid",
        ),
    ],
)
def test_stability_rewrites_give_the_exact_answer_where_naive_forms_fail(f, exact, rule):
    assert rule in rules_fired(f, BIG)
    got = np.asarray(xp.jit(f)(BIG))
    np.testing.assert_allclose(got, exact(BIG), rtol=1e-14, atol=1e-300)
    eager = np.asarray(f(xp.asarray(BIG)))  # the rewrites fire outside jit too
    np.testing.assert_allclose(eager, exact(BIG), rtol=1e-14, atol=1e-300)


def within_ulps(got, want, ulps: int) -> None:
    """Equal within ``ulps`` units in the last place, NaN and infinities where ``want``'s."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got) * np.sign(got), np.isinf(want) * np.sign(want))
    finite = np.isfinite(want)
    spacing = np.spacing(np.abs(want[finite]).astype(want.dtype))
    assert np.all(np.abs(got[finite] - want[finite]) <= ulps * spacing), (got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
def test_softplus_parts_are_numpys_logaddexp(dtype):
    """``logaddexp(0, x)`` as ``max(x, 0) + log1p(exp(-|x|))`` is NumPy's own sequence of
    operations: infinities, NaN, signed zeros and the largest values come out as
    NumPy's, the rest within the vector math library's ulp."""
    special = np.array([-np.inf, -1e308, -1000, -50, -1, -1e-300, -0.0, 0, 5e-324, 1, 88, 710])
    with np.errstate(all="ignore"):
        x = np.concatenate([special, [np.inf, np.nan], RNG.standard_normal(1000) * 30])
        x = x.astype(dtype)
        want = np.logaddexp(dtype(0), x)
    f = xp.jit(lambda x: xp.logaddexp(0.0, x))
    assert rules_fired(f, x) == ["softplus_parts"]
    within_ulps(f(x), want, 2)


def test_a_logistic_loss_and_its_gradient_share_one_exp_and_one_log1p():
    """The loss reads ``softplus(z)`` and ``softplus(-z)``, its gradient their sigmoids
    (``exp(z - softplus(z))``): after the rewrites all four come from one ``exp(-|z|)``
    and one ``log1p`` of it, and stay finite and exact where ``z`` is far from 0."""
    z = np.concatenate([BIG, RNG.standard_normal(100) * 10])
    t = (RNG.random(z.size) < 0.5).astype(np.float64)

    def loss(z, t):
        return xp.sum(t * xp.logaddexp(0.0, -z) + (1 - t) * xp.logaddexp(0.0, z))

    both = xp.jit(xp.value_and_grad(loss))
    ops = ops_of(both.lower(z, t))
    assert ops.count("exp") == 1 and ops.count("log1p") == 1 and "logaddexp" not in ops, ops
    value, grad = both(z, t)
    want = np.sum(t * softplus(-z) + (1 - t) * softplus(z))
    np.testing.assert_allclose(float(value), want, rtol=1e-14)
    # sigmoid(z) is exp(-softplus(-z)): each term without cancellation
    want = (1 - t) * np.exp(-softplus(-z)) - t * np.exp(-softplus(z))
    np.testing.assert_allclose(np.asarray(grad), want, rtol=1e-13, atol=1e-300)


def logsumexp(x, axis, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


@pytest.mark.parametrize("axis", [0, 1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_is_max_shifted(axis, keepdims):
    a = RNG.standard_normal((4, 6)) * 800

    def f(x):
        return xp.log(xp.sum(xp.exp(x), axis=axis, keepdims=keepdims))

    assert "logsumexp" in rules_fired(f, a)
    np.testing.assert_allclose(np.asarray(xp.jit(f)(a)), logsumexp(a, axis, keepdims), rtol=1e-14)
    all_minus_inf = np.full((4, 6), -np.inf)
    np.testing.assert_array_equal(np.asarray(xp.jit(f)(all_minus_inf)), f(all_minus_inf))


def test_logsumexp_of_an_empty_axis_is_minus_infinity_as_written():
    empty = np.zeros((3, 0))
    f = xp.jit(lambda x: xp.log(xp.sum(xp.exp(x), axis=1)))
    np.testing.assert_array_equal(np.asarray(f(empty)), np.full(3, -np.inf))


def test_softmax_and_log_softmax_are_stable():
    a = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])

    def softmax(x):
        e = xp.exp(x)
        return e / xp.sum(e, axis=1, keepdims=True)

    def log_softmax(x):
        return xp.log(softmax(x))

    assert "softmax_max_shift" in rules_fired(softmax, a)
    assert "log_softmax" in rules_fired(log_softmax, a)
    shifted = a - a.max(axis=1, keepdims=True)
    want = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(np.asarray(xp.jit(softmax)(a)), np.exp(want), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(xp.jit(log_softmax)(a)), want, rtol=1e-14)


def test_the_seed_logistic_regression_cost_and_gradients_are_finite_and_exact():
    """The Theano tutorial as written: p rounds to 1.0 on some rows (JAX gives NaN there)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((400, 784))
    y = rng.integers(0, 2, 400).astype(np.float64)
    w0 = rng.standard_normal(784)

    def cost(w, b):
        p = 1 / (1 + xp.exp(-(x @ w) - b))
        xent = -y * xp.log(p) - (1 - y) * xp.log(1 - p)
        return xp.mean(xent) + 0.01 * xp.sum(w**2)

    z = x @ w0 + 0.5
    assert np.any(1 / (1 + np.exp(-z)) == 1.0)  # the naive form's log(1 - p) is -inf
    want = np.mean(y * softplus(-z) + (1 - y) * softplus(z)) + 0.01 * np.sum(w0**2)
    sig = 1 / (1 + np.exp(-z))
    want_gw = x.T @ (sig - y) / 400 + 0.02 * w0
    for run in (xp.jit(xp.value_and_grad(cost, argnums=(0, 1))), xp.value_and_grad(cost, (0, 1))):
        value, (gw, gb) = run(w0, 0.5)
        np.testing.assert_allclose(float(value), want, rtol=1e-12)
        np.testing.assert_allclose(np.asarray(gw), want_gw, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(float(gb), np.mean(sig - y), rtol=1e-9, atol=1e-15)


# ----------------------------------------------------------------------------- options
def test_phases_and_rules_can_be_switched_off():
    def f(x):
        return xp.log(1 + xp.exp(x)) * 1.0

    assert rules_fired(f, BIG) == ["mul_one", "log1p", "softplus", "softplus_parts"]
    assert xp.jit(f, exclude_rewrites="all").lower(BIG).rewrites() == []
    lowered = xp.jit(f, exclude_rewrites=("stabilize",)).lower(BIG)
    assert [r.split(":")[0] for r in lowered.rewrites()] == ["canonicalize/mul_one"]
    lowered = xp.jit(f, exclude_rewrites=("softplus",)).lower(BIG)
    assert "log1p" in ops_of(lowered) and "logaddexp" not in ops_of(lowered)
    with pytest.raises(ValueError, match="unknown rewrite no_such_rule"):
        xp.jit(f, exclude_rewrites=("no_such_rule",))
    assert check_names(["all"]) >= {"canonicalize", "stabilize"}
    assert {"softplus", "logsumexp", "pow_integer"} <= RULE_NAMES


def test_a_rewritten_node_keeps_the_users_line():
    def f(x):
        return xp.log(1 + xp.exp(x))  # the line the rewrites report

    fired = xp.jit(f).lower(BIG).rewrites()
    line = f.__code__.co_firstlineno + 1
    assert len(fired) == 3  # log1p, softplus, softplus_parts
    for each in fired:
        assert each.endswith(f"test_rewrites.py:{line}")


def test_a_softmax_written_max_shifted_is_left_alone():
    def softmax(x):
        e = xp.exp(x - xp.max(x, axis=1, keepdims=True))
        return e / xp.sum(e, axis=1, keepdims=True)

    assert xp.jit(softmax).lower(np.zeros((2, 3))).rewrites() == []


def test_log_of_a_max_shifted_softmax_is_shifted_once():
    def log_softmax(x):
        e = xp.exp(x - xp.max(x, axis=1, keepdims=True))
        return xp.log(e / xp.sum(e, axis=1, keepdims=True))

    a = np.array([[1000.0, 0.0, -1000.0]])
    lowered = xp.jit(log_softmax).lower(a)
    assert ops_of(lowered).count("max") == 1
    shifted = a - a.max(axis=1, keepdims=True)
    want = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(np.asarray(xp.jit(log_softmax)(a)), want, rtol=1e-14)


# ----------------------------------------------------------------------------- indexing first
def computed(lowered) -> dict[str, list[str]]:
    """Each computed op of a lowered program with the shapes it is computed in."""
    out: dict[str, list[str]] = {}
    for line in lowered.as_text().splitlines():
        if " = " in line and "input" not in line and "constant" not in line:
            op = line.split(" = ", 1)[1].split("(", 1)[0]
            out.setdefault(op, []).append(line.split(" : ", 1)[1].split(" [", 1)[0])
    return out


def pushed_and_not(f, *args):
    """``f`` jitted with every rule, and without ``index_pushdown``: lowered, and run."""
    on, off = xp.jit(f), xp.jit(f, exclude_rewrites=("index_pushdown",))
    return on.lower(*args), off.lower(*args), np.asarray(on(*args)), np.asarray(off(*args))


SPECIAL = np.array([0.5, -0.0, 0.0, np.inf, -np.inf, np.nan, 1e300, -2.0])


def test_the_negative_log_likelihood_takes_n_logarithms_not_n_times_k():
    """The Theano tutorial's ``-mean(log(p)[arange(n), y])``."""
    p = RNG.random((6, 4))
    p[0, 0], p[1, 1], p[2, 3] = 0.0, np.inf, np.nan  # selected: log gives -inf, inf, nan
    y = np.array([0, 1, 3, 3, 0, 2])

    def nll(p, y):
        return -xp.mean(xp.log(p)[xp.arange(y.shape[0]), y])

    assert "index_pushdown" in rules_fired(nll, p, y)
    on, off, got, want = pushed_and_not(nll, p, y)
    assert computed(on)["log"] == ["float64[6]"] and computed(off)["log"] == ["float64[6, 4]"]
    assert ops_of(on).index("gather") < ops_of(on).index("log")
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got)

    def picked(p, y):
        return xp.log(p)[xp.arange(y.shape[0]), y]

    got = np.asarray(xp.jit(picked)(p, y))
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_allclose(got, np.log(p)[np.arange(6), y], rtol=1e-15)


def _binary(a, b):
    return a * xp.exp(b) - 2.0


ROWS = RNG.integers(-300, 300, 40)
COLS = RNG.integers(0, 200, 40)
DIAGONAL = np.arange(300)[:, None] * 7 % 200


@pytest.mark.parametrize(
    "name, index",
    [
        ("gather", lambda v: v[xp.asarray(ROWS), xp.asarray(COLS)]),
        ("gather", lambda v: v[:, xp.asarray(COLS[:3])]),
        ("take", lambda v: xp.take(v, xp.asarray(ROWS[:5]), axis=0)),
        ("take_along_axis", lambda v: xp.take_along_axis(v, xp.asarray(DIAGONAL), axis=1)),
        ("slice", lambda v: v[1:40:2, ::-3]),
        ("slice", lambda v: v[2]),
        ("slice", lambda v: v[:, 1:2]),
    ],
)  # fmt: skip
def test_each_index_of_an_elementwise_result_moves_ahead_of_it(name, index):
    """Every operand is indexed as the result was, broadcast operands included; the
    values are the same bit for bit (NaN, infinities and -0.0 among them)."""
    a = RNG.choice(SPECIAL, (300, 200))
    b = RNG.choice(SPECIAL, 200)  # broadcast along the first axis

    def f(a, b):
        return index(_binary(a, b))

    assert set(rules_fired(f, a, b)) == {"index_pushdown"}
    on, off, got, want = pushed_and_not(f, a, b)
    assert name in ops_of(on)
    whole = "float64[300, 200]"
    assert all(s != whole for op in ("multiply", "subtract") for s in computed(on)[op])
    assert computed(off)["multiply"] == [whole]
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))
    eager = np.asarray(f(xp.asarray(a), xp.asarray(b)))
    np.testing.assert_array_equal(got, eager)


def test_indexing_several_operands_waits_until_it_pays():
    """Two operands indexed where one index was: one more step, worth it only where it
    saves more elementwise work than the step costs."""

    def f(a, b):
        return _binary(a, b)[xp.asarray([0, 2]), xp.asarray([1, 3])]

    small = RNG.standard_normal((5, 4)), RNG.standard_normal(4)
    assert rules_fired(f, *small) == []
    large = RNG.standard_normal((300, 200)), RNG.standard_normal(200)
    assert rules_fired(f, *large) == ["index_pushdown"]

    def g(a):  # one operand: no step added, so always
        return (xp.exp(a) * 2.0)[xp.asarray([0, 2]), xp.asarray([1, 3])]

    assert rules_fired(g, small[0]) == ["index_pushdown"]


def test_a_traced_slice_start_moves_ahead_too_and_is_still_checked():
    x = RNG.standard_normal((6, 3))

    def window(x, i):
        return xp.sin(x * 2.0)[i : i + 2]

    f = xp.jit(window)
    assert "index_pushdown" in rules_fired(window, x, np.int64(1))
    assert computed(f.lower(x, np.int64(1)))["sin"] == ["float64[2, 3]"]
    np.testing.assert_allclose(np.asarray(f(x, np.int64(3))), np.sin(x * 2.0)[3:5], rtol=1e-15)
    with pytest.raises(IndexError, match="runs past the end"):
        f(x, np.int64(5))


def test_an_index_out_of_range_still_raises():
    p = RNG.random((4, 3))

    def nll(p, y):
        return -xp.sum(xp.log(p * 2.0)[xp.arange(4), y])

    for f in (xp.jit(nll), xp.jit(nll, exclude_rewrites="all")):
        assert np.isfinite(float(f(p, np.array([0, 1, 2, 0]))))
        with pytest.raises(IndexError):
            f(p, np.array([0, 1, 3, 0]))
        with pytest.raises(IndexError):
            f(p, np.array([0, -4, 2, 0]))


def test_indexing_stays_where_the_full_result_is_needed_or_smaller():
    x = RNG.random((5, 4))
    idx = xp.asarray([0, 2])

    def both(x):  # log(x) is a result: computing it once is cheaper
        lx = xp.log(x)
        return lx, lx[idx]

    assert "index_pushdown" not in rules_fired(both, x)
    assert computed(xp.jit(both).lower(x))["log"] == ["float64[5, 4]"]

    def repeated(v):  # more elements taken than the elementwise result has
        return xp.take(xp.exp(v), xp.asarray([0, 1, 2, 3, 0, 1, 2, 3]))

    assert rules_fired(repeated, x[0]) == []

    def ints(i):  # NumPy raises for a negative integer power: not moved
        return (i**i)[xp.asarray([0])]

    i = np.array([2, -1])
    assert "index_pushdown" not in rules_fired(ints, i)
    with pytest.raises(ValueError, match="negative integer powers"):
        xp.jit(ints)(i)


def test_a_chain_of_elementwise_work_moves_behind_the_index_in_one_step():
    x = RNG.random((50, 10))

    def f(x):
        return (xp.sqrt(x) ** 10 + xp.log(x) * 3.0)[xp.arange(50), xp.arange(50) % 10]

    on, _, got, want = pushed_and_not(f, x)
    shapes = computed(on)
    assert all(s == "float64[50]" for op in ("sqrt", "log", "multiply") for s in shapes[op])
    np.testing.assert_allclose(got, want, rtol=4e-16)  # compiled in other loops: rounding


def test_log_softmax_is_recognized_before_the_index_moves():
    """The stable form first (it needs the whole row), then the index: the picked
    entries are ``z - logsumexp(z)`` computed for n entries, finite at ±1000."""
    z = RNG.standard_normal((100, 300))
    z[:2, :3] = [[1000.0, 0.0, -1000.0], [-1000.0, 0.0, 1000.0]]
    y = RNG.integers(0, 3, 100)

    def xent(z, y):
        e = xp.exp(z)
        return -xp.log(e / xp.sum(e, axis=1, keepdims=True))[xp.arange(100), y]

    fired = rules_fired(xent, z, y)
    assert fired.index("log_softmax") < fired.index("index_pushdown")
    shifted = z - z.max(axis=1, keepdims=True)
    want = -(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))[np.arange(100), y]
    np.testing.assert_allclose(np.asarray(xp.jit(xent)(z, y)), want, rtol=1e-14)
    assert computed(xp.jit(xent).lower(z, y))["negative"] == ["float64[100]"]


def test_a_log_softmax_picked_per_row_is_not_stored_whole():
    """``z - max(z)`` is read by the exp-and-sum loop and by the index: indexing ``z``
    and the maximum instead lets that loop compute it without storing it."""
    z = RNG.standard_normal((2000, 500))
    y = RNG.integers(0, 500, 2000)

    def xent(z, y):
        e = xp.exp(z)
        return -xp.mean(xp.log(e / xp.sum(e, axis=1, keepdims=True))[xp.arange(2000), y])

    on, off, got, want = pushed_and_not(xent, z, y)
    assert ops_of(on).count("gather") == 3 and ops_of(off).count("gather") == 1
    assert computed(on)["subtract"].count("float64[2000, 500]") == 1
    assert computed(off)["subtract"].count("float64[2000, 500]") == 2
    lines = on.as_text().splitlines()
    assert any(" = gather(%0, " in line for line in lines)  # the input itself is indexed
    np.testing.assert_array_equal(got, want)
    small = RNG.standard_normal((600, 10)), RNG.integers(0, 10, 600)  # the MNIST minibatch

    def small_xent(z, y):
        e = xp.exp(z)
        return -xp.mean(xp.log(e / xp.sum(e, axis=1, keepdims=True))[xp.arange(600), y])

    assert "index_pushdown" not in rules_fired(small_xent, *small)


# ----------------------------------------------------------------------------- reductions
def test_the_sum_of_a_broadcast_scalar_is_a_product():
    def total(c):
        return xp.sum(xp.broadcast_to(c, (3, 4)))

    assert rules_fired(total, np.float64(2.0)) == ["sum_of_uniform"]
    assert ops_of(xp.jit(total).lower(np.float64(2.0))) == ["multiply", "add"]  # c * 12 + 0
    for c in (2.5, -0.0, np.inf, -np.inf, np.nan, 1e300, 0.1):
        got = np.asarray(xp.jit(total)(np.float64(c)))
        want = np.sum(np.broadcast_to(np.float64(c), (3, 4)))
        np.testing.assert_allclose(got, want, rtol=2e-16)
        assert np.signbit(got) == np.signbit(want)

    def rows(x, c):  # along one axis, kept, and of an elementwise function of scalars
        return xp.sum(xp.ones((3, 5)) * c + x, axis=1, keepdims=True)

    got = np.asarray(xp.jit(rows)(np.float64(1.5), np.float64(0.25)))
    assert "sum_of_uniform" in rules_fired(rows, np.float64(1.5), np.float64(0.25))
    np.testing.assert_array_equal(got, np.full((3, 1), 8.75))


def test_sum_of_uniform_keeps_the_sums_dtype():
    ints = xp.jit(lambda i: xp.sum(xp.broadcast_to(i, (1000,))))
    assert np.asarray(ints(np.int8(100))) == 100_000
    assert np.asarray(ints(np.int8(100))).dtype == np.int64
    bools = xp.jit(lambda b: xp.sum(xp.broadcast_to(b, (7, 3))))
    assert np.asarray(bools(np.True_)) == 21
    f32 = xp.jit(lambda x: xp.sum(xp.broadcast_to(x, (6,)), dtype=xp.float32))
    assert np.asarray(f32(np.float64(0.5))).dtype == np.float32
    wraps = xp.jit(lambda i: xp.sum(xp.broadcast_to(i, (4,))))
    assert np.asarray(wraps(np.int64(2**62))) == np.sum(np.full(4, 2**62))  # wraps as NumPy
    empty = xp.jit(lambda x: xp.sum(xp.broadcast_to(x, (0, 3))))
    assert np.asarray(empty(np.float64(np.inf))) == 0.0


def test_max_and_min_of_a_broadcast_scalar_are_the_scalar():
    def extremes(c):
        b = xp.broadcast_to(c, (3, 4))
        return xp.max(b), xp.min(b, axis=0)

    assert rules_fired(extremes, np.float64(2.0)) == ["extremum_of_uniform"] * 2
    for c in (2.0, np.nan, -np.inf, -0.0):
        top, low = xp.jit(extremes)(np.float64(c))
        np.testing.assert_array_equal(np.asarray(top), np.float64(c))
        np.testing.assert_array_equal(np.asarray(low), np.full(4, c))
        assert np.signbit(np.asarray(top)) == np.signbit(c)


def test_mean_is_a_sum_divided_by_its_count():
    """``mean`` is no op of its own: nothing to rewrite."""
    assert ops_of(xp.jit(xp.mean).lower(POS)) == ["sum", "divide"]


# ----------------------------------------------------------------------------- through views
def _lse_transposed(x):
    return xp.log(xp.sum(xp.exp(x.T), axis=0))


def _lse_of_transposed_exp(x):
    return xp.log(xp.sum(xp.exp(x).T, axis=0))


def _lse_kept_then_reshaped(x):
    return xp.log(xp.reshape(xp.sum(xp.exp(x), axis=1, keepdims=True), (4,)))


def _lse_kept_then_transposed(x):
    return xp.log(xp.sum(xp.exp(x), axis=0, keepdims=True).T)


def _lse_of_reshaped_exp(x):
    return xp.log(xp.sum(xp.reshape(xp.exp(x), (2, 12)), axis=1))


def _lse_views_on_both_sides(x):
    return xp.log(xp.reshape(xp.sum(xp.exp(x.T).T, axis=1), (2, 2)))


@pytest.mark.parametrize(
    "f, want, rule",
    [
        (_lse_transposed, lambda a: logsumexp(a, 1), "logsumexp"),
        (_lse_of_transposed_exp, lambda a: logsumexp(a, 1), "logsumexp_through_views"),
        (_lse_kept_then_reshaped, lambda a: logsumexp(a, 1), "logsumexp_through_views"),
        (_lse_kept_then_transposed, lambda a: logsumexp(a, 0, True).T, "logsumexp_through_views"),
        (_lse_of_reshaped_exp, lambda a: logsumexp(a.reshape(2, 12), 1), "logsumexp_through_views"),
        (
            _lse_views_on_both_sides,
            lambda a: logsumexp(a, 1).reshape(2, 2),
            "logsumexp_through_views",
        ),
    ],
)
def test_logsumexp_through_reshapes_and_transposes(f, want, rule):
    a = RNG.standard_normal((4, 6)) * 800
    assert rule in rules_fired(f, a)
    np.testing.assert_allclose(np.asarray(xp.jit(f)(a)), want(a), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(f(xp.asarray(a))), want(a), rtol=1e-14)  # eager
    all_minus_inf = np.full((4, 6), -np.inf)
    np.testing.assert_array_equal(np.asarray(xp.jit(f)(all_minus_inf)), f(all_minus_inf))


def _log_softmax_ref(a, axis):
    shifted = a - a.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _over(x, d):
    """``e / d`` and its logarithm for ``e = exp(x)``, ``d`` built from ``e``."""
    e = xp.exp(x)
    return e / d(e)


@pytest.mark.parametrize(
    "d, x, axis",
    [
        (lambda e: xp.sum(e, axis=1)[:, None], lambda x: x, 1),
        (lambda e: xp.reshape(xp.sum(e, axis=1), (4, 1)), lambda x: x, 1),
        (lambda e: xp.sum(e, axis=0), lambda x: x, 0),
        (lambda e: xp.sum(e.T, axis=0)[:, None], lambda x: x, 1),
        (lambda e: xp.sum(e), lambda x: x, (0, 1)),
        (lambda e: xp.sum(e, axis=0), lambda x: x - xp.max(x, axis=0), 0),  # shifted already
    ],
)  # fmt: skip
def test_softmax_and_log_softmax_through_reshapes_and_transposes(d, x, axis):
    """A sum not kept, kept by a reshape or a ``[:, None]``, or of a transpose: still the
    softmax's, max-shifted; and its logarithm a log-softmax."""
    a = RNG.standard_normal((4, 6)) * 800
    softmax = lambda v: _over(x(v), d)  # noqa: E731
    log_softmax = lambda v: xp.log(softmax(v))  # noqa: E731
    assert "softmax_through_views" in rules_fired(softmax, a)
    assert {"softmax_through_views", "log_softmax"} <= set(rules_fired(log_softmax, a))
    want = _log_softmax_ref(a, axis)
    for run in (xp.jit(log_softmax), lambda v: log_softmax(xp.asarray(v))):  # and eager
        np.testing.assert_allclose(np.asarray(run(a)), want, rtol=1e-14)
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    want = e / e.sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(np.asarray(xp.jit(softmax)(a)), want, rtol=1e-14)


def test_softmax_of_a_transpose_or_a_reshape_is_the_softmax_rule_s():
    a = RNG.standard_normal((4, 6)) * 800

    def on_transpose(x):
        e = xp.exp(x.T)
        return xp.log(e / xp.sum(e, axis=0, keepdims=True))

    def on_reshape(x):
        e = xp.exp(xp.reshape(x, (8, 3)))
        return xp.log(e / xp.sum(e, axis=1, keepdims=True))

    cases = ((on_transpose, a.T, 0), (on_reshape, a.reshape(8, 3), 1))
    for f, viewed, axis in cases:
        want = _log_softmax_ref(viewed, axis)
        assert {"softmax_max_shift", "log_softmax"} <= set(rules_fired(f, a))
        np.testing.assert_allclose(np.asarray(xp.jit(f)(a)), want, rtol=1e-14)


def test_a_sum_that_broadcasts_along_other_axes_is_no_softmax():
    """``e / sum(e, axis=1)`` of a square ``e`` divides column j by row j's sum."""
    b = RNG.standard_normal((5, 5))
    f = lambda x: _over(x, lambda e: xp.sum(e, axis=1))  # noqa: E731
    assert rules_fired(f, b) == []
    np.testing.assert_allclose(np.asarray(xp.jit(f)(b)), np.exp(b) / np.exp(b).sum(1), rtol=1e-15)


ROW = RNG.choice(SPECIAL, 200)


@pytest.mark.parametrize(
    "f, shape",
    [
        (lambda a, y: (a * 2.0 - 1.0).T[xp.arange(200), y], "float64[200]"),
        (lambda a, y: (xp.exp(a) * ROW).T[xp.arange(200), y], "float64[200]"),  # broadcast
        (lambda a, y: xp.exp(a - 1.0).T[3:10, ::7], "float64[7, 43]"),
        (lambda a, y: xp.take(xp.reshape(xp.exp(a) * 3.0, (60000,)), y * 7), "float64[200]"),
        (lambda a, y: xp.reshape(xp.exp(a) - 1.0, (600, 100))[5], "float64[1, 100]"),
        (lambda a, y: xp.reshape(xp.exp(a).T, (100, 600))[y % 100, y], "float64[200]"),
    ],
)  # fmt: skip
def test_the_index_moves_ahead_of_elementwise_work_through_reshapes_and_transposes(f, shape):
    """``f(a, b).T[idx]`` is ``f(a.T[idx], b'.T[idx])``: elementwise work commutes with
    views, so each operand is viewed as the result was, then indexed."""
    a = RNG.choice(SPECIAL, (300, 200))
    y = RNG.integers(0, 300, 200)
    assert "index_pushdown" in rules_fired(f, a, y)
    on, off, got, want = pushed_and_not(f, a, y)
    views = ("reshape", "permute_dims", "broadcast_to", "gather", "take", "slice")

    def work(lowered):  # the shapes of the floating-point work computed
        done = computed(lowered).items()
        return {s for op, shapes in done if op not in views for s in shapes if s[0] == "f"}

    assert work(on) == {shape} and shape not in work(off)
    np.testing.assert_allclose(got, want, rtol=1e-15)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.array_equal(np.signbit(got), np.signbit(want))


def test_a_reshape_of_a_broadcast_operand_keeps_the_index_where_it_is():
    """Reshaping ``b`` broadcast to the whole shape would copy the whole: not moved."""
    a, row = RNG.standard_normal((300, 200)), RNG.standard_normal(200)

    def f(a):
        return xp.take(xp.reshape(xp.exp(a) * row, (60000,)), xp.asarray([5, 7]))

    assert "index_pushdown" not in rules_fired(f, a)
    np.testing.assert_allclose(np.asarray(xp.jit(f)(a)), (np.exp(a) * row).reshape(-1)[[5, 7]])


def test_a_log_softmax_of_a_transpose_is_picked_before_it_is_computed_whole():
    z = RNG.standard_normal((200, 1000))
    y = RNG.integers(0, 1000, 200)

    def xent(z, y):
        e = xp.exp(z.T)
        return -xp.mean(xp.log(e / xp.sum(e, axis=0, keepdims=True)).T[xp.arange(200), y])

    on, off, got, want = pushed_and_not(xent, z, y)
    assert "index_pushdown" in rules_fired(xent, z, y)
    whole = "float64[1000, 200]"
    assert computed(on)["subtract"].count(whole) < computed(off)["subtract"].count(whole)
    np.testing.assert_allclose(got, want, rtol=1e-14)


# ----------------------------------------------------------------------------- sigmoid
Z = np.array([-1000.0, -745.0, -710.0, -30.0, -1.0, -0.0, 0.0, 1e-300, 1.0, 30.0, 710.0, 1000.0])
EDGES = np.array([np.inf, -np.inf, np.nan])


def sigmoid(z):
    """The exact logistic sigmoid, to rounding."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def test_a_sigmoid_is_computed_without_overflow_and_so_is_its_gradient():
    """``1/(1+exp(-z))``: its naive gradient ``exp(-z)/(1+exp(-z))**2`` is inf/inf = NaN
    where ``exp(-z)`` overflows; the stable form's is finite everywhere."""

    def sig(z):
        return 1 / (1 + xp.exp(-z))

    assert rules_fired(sig, Z) == ["stable_sigmoid"]
    assert rules_fired(lambda z: 1 / (xp.exp(-z) + 1), Z) == ["stable_sigmoid"]
    assert rules_fired(lambda z: xp.reciprocal(1 + xp.exp(-z)), Z) == ["stable_sigmoid_reciprocal"]
    naive = xp.jit(sig, exclude_rewrites="all")
    for run in (xp.jit(sig), lambda z: sig(xp.asarray(z))):
        got = np.asarray(run(Z))
        np.testing.assert_allclose(got, sigmoid(Z), rtol=4e-16, atol=0)
        right = Z >= 0  # where the naive form cannot overflow it is kept as written
        np.testing.assert_array_equal(got[right], np.asarray(naive(Z))[right])
        np.testing.assert_array_equal(np.asarray(run(EDGES)), [1.0, 0.0, np.nan])
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan(np.exp(1000.0) / (1 + np.exp(1000.0)) ** 2)
    exact = sigmoid(Z) * sigmoid(-Z)
    for grad in (xp.grad(lambda z: xp.sum(sig(z))), xp.jit(xp.grad(lambda z: xp.sum(sig(z))))):
        np.testing.assert_allclose(np.asarray(grad(Z)), exact, rtol=1e-15, atol=0)
        np.testing.assert_array_equal(np.asarray(grad(EDGES)), [0.0, 0.0, np.nan])


def test_the_sigmoids_logarithms_are_still_recognized_first():
    """``log(sigmoid)`` is -softplus: the stable sigmoid must not hide it."""

    def xent(z, y):
        p = 1 / (1 + xp.exp(-z))
        return -y * xp.log(p) - (1 - y) * xp.log(1 - p)

    fired = rules_fired(xent, Z, Z)
    assert "log_sigmoid" in fired and "log_one_minus_sigmoid" in fired
    assert "stable_sigmoid" not in fired


def test_sigmoid_cross_entropy_is_finite_and_exact_in_every_mode():
    z = np.array([-1000.0, -1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0, 1000.0])
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0])

    def xent(z, y):
        p = 1 / (1 + xp.exp(-z))
        return xp.sum(-y * xp.log(p) - (1 - y) * xp.log(1 - p))

    want = np.sum(y * softplus(-z) + (1 - y) * softplus(z))
    want_grad = np.where(y == 1, -sigmoid(-z), sigmoid(z))  # sigmoid(z) - y, no cancellation
    for run in (xp.jit(xent), lambda z, y: xent(xp.asarray(z), xp.asarray(y))):
        np.testing.assert_allclose(float(run(z, y)), want, rtol=1e-15)
    for grad in (xp.grad(xent), xp.jit(xp.grad(xent))):
        np.testing.assert_allclose(np.asarray(grad(z, y)), want_grad, rtol=1e-14, atol=0)


def test_softmax_cross_entropy_is_finite_and_exact_in_every_mode():
    z = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 0.0, 1000.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    y = np.array([0, 0, 2, 1])

    def xent(z, y):
        e = xp.exp(z)
        p = e / xp.sum(e, axis=1, keepdims=True)
        return xp.sum(-xp.log(p)[xp.arange(y.shape[0]), y])

    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    want = -log_p[np.arange(4), y].sum()
    want_grad = np.exp(log_p)
    want_grad[np.arange(4), y] -= 1
    for run in (xp.jit(xent), lambda z, y: xent(xp.asarray(z), xp.asarray(y))):
        np.testing.assert_allclose(float(run(z, y)), want, rtol=1e-15)
    for grad in (xp.grad(xent), xp.jit(xp.grad(xent))):
        np.testing.assert_allclose(np.asarray(grad(z, y)), want_grad, rtol=1e-14, atol=1e-300)


def test_the_index_is_not_moved_before_differentiating():
    """The gradient of an index is a scatter into zeros of the full shape: indexing each
    operand instead would scatter once per operand. grad differentiates the graph as
    the stable forms leave it; jit moves the index in the forward part afterwards."""
    p = RNG.random((6, 4)) + 0.1
    y = np.array([0, 1, 3, 3, 0, 2])

    def nll(p):
        return -xp.mean(xp.log(p * 2.0)[xp.arange(6), y])

    assert "index_pushdown" in rules_fired(xp.value_and_grad(nll), p)
    value, grad = xp.jit(xp.value_and_grad(nll))(p)
    want = np.zeros_like(p)
    want[np.arange(6), y] = -1 / (6 * p[np.arange(6), y])
    np.testing.assert_allclose(np.asarray(grad), want, rtol=1e-15)
    np.testing.assert_allclose(float(value), -np.mean(np.log(2 * p[np.arange(6), y])), rtol=1e-15)


# ----------------------------------------------------------------- reductions over several axes
@pytest.mark.parametrize("reduce", ["sum", "prod", "max", "min"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_a_full_reduction_of_elementwise_work_is_one_pass(reduce, keepdims):
    w = RNG.uniform(-1.0, 1.0, (7, 5, 3))

    def f(w):
        return getattr(xp, reduce)(xp.abs(w) * 0.5 + w, keepdims=keepdims)

    assert "merge_reduced_axes" in rules_fired(f, w)
    lines = xp.jit(f).lower(w).as_text().splitlines()
    assert all("[numpy]" not in line or "reshape" in line for line in lines)
    for data in (w, w[::-1, ::2]):  # contiguous, and strided (flattening copies it)
        want = getattr(np, reduce)(np.abs(data) * 0.5 + data, keepdims=keepdims)
        np.testing.assert_allclose(np.asarray(xp.jit(f)(data)), want, rtol=1e-13)


@pytest.mark.parametrize(
    ("shape", "axis"),
    [
        ((6, 5, 4), (1, 2)),
        ((6, 5, 4), (0, 1)),
        ((3, 4, 5, 6), (1, 2)),
        ((3, 4, 5, 6), (-3, -2, -1)),
    ],
)
@pytest.mark.parametrize("keepdims", [False, True])
def test_a_reduction_over_adjacent_axes_is_one_pass_over_one_axis(shape, axis, keepdims):
    w = RNG.standard_normal(shape)

    def f(w):
        return xp.sum(w * w + 1.0, axis=axis, keepdims=keepdims), xp.max(xp.abs(w), axis=axis)

    assert "merge_reduced_axes" in rules_fired(f, w)
    text = xp.jit(f).lower(w).as_text()
    assert all("[numpy]" not in line or "reshape" in line for line in text.splitlines())
    total, top = xp.jit(f)(w)
    want = np.sum(w * w + 1.0, axis=axis, keepdims=keepdims)
    assert total.shape == want.shape
    np.testing.assert_array_equal(np.asarray(total), want)  # NumPy's order, to the bit
    np.testing.assert_array_equal(np.asarray(top), np.max(np.abs(w), axis=axis))


def reductions_of(f, *args) -> list[str]:
    """The reduction lines of ``f``'s lowered program."""
    text = xp.jit(f).lower(*args).as_text()
    return [line for line in text.splitlines() if ops_of_line(line) in REDUCTION_OPS]


REDUCTION_OPS = ("sum", "prod", "max", "min", "any", "all", "argmax", "argmin")


def ops_of_line(line: str) -> str:
    return line.split(" = ", 1)[1].split("(", 1)[0] if " = " in line else ""


def compiled_one_axis(lines: list[str]) -> bool:
    """Every line a reduction over one axis, compiled."""
    return bool(lines) and all(re.search(r"axes=\(\d+,\).*\[c lz_", line) for line in lines)


@pytest.mark.parametrize(
    ("shape", "axis", "keepdims"),
    [
        ((3, 4, 5), (0, 2), False),
        ((3, 4, 5), (-3, -1), True),
        ((3, 4, 5, 6), (1, 3), True),
        ((3, 4, 5, 6), (0, 2, 3), False),
        ((3, 4, 5, 6), (0, 1, 3), True),
        ((3, 1, 5, 6), (0, 2), False),  # apart, but the axis between holds one element
    ],
)
def test_a_reduction_over_axes_apart_is_nested_innermost_first(shape, axis, keepdims):
    """Of an input, of elementwise work (its runs of adjacent axes merged), and the
    extrema: reductions over one axis each, compiled, NumPy's results."""
    w = RNG.standard_normal(shape)

    def f(w):
        return (
            xp.sum(w, axis=axis, keepdims=keepdims),
            xp.sum(w * w + 1.0, axis=axis, keepdims=keepdims),
            xp.max(xp.abs(w), axis=axis, keepdims=keepdims),
        )

    assert "split_reduced_axes" in rules_fired(f, w)
    assert compiled_one_axis(reductions_of(f, w))
    got = xp.jit(f)(w)
    want = (
        np.sum(w, axis=axis, keepdims=keepdims),
        np.sum(w * w + 1.0, axis=axis, keepdims=keepdims),
        np.max(np.abs(w), axis=axis, keepdims=keepdims),
    )
    for g, e in zip(got, want):
        assert g.shape == e.shape
        np.testing.assert_allclose(np.asarray(g), e, rtol=1e-14)
    np.testing.assert_array_equal(np.asarray(got[2]), want[2])


def test_nested_reductions_reduce_the_innermost_run_first():
    w = RNG.standard_normal((3, 4, 5, 6))
    assert ops_of(xp.jit(lambda w: xp.sum(w, axis=(0, 2))).lower(w)) == ["sum", "sum"]
    lines = reductions_of(lambda w: xp.sum(w, axis=(0, 2)), w)
    assert "axes=(2,)" in lines[0] and "axes=(0,)" in lines[1]
    # keepdims keeps each step's axis: no reshape after
    assert ops_of(xp.jit(lambda w: xp.max(w, axis=(1, 3), keepdims=True)).lower(w)) == [
        "max",
        "max",
    ]
    # the run (2, 3) of elementwise work merges into one axis, reduced in one pass with it
    ops = ops_of(xp.jit(lambda w: xp.sum(w * w, axis=(0, 2, 3))).lower(w))
    assert ops == ["reshape", "multiply", "sum", "sum"]
    # of an input, reduced axis by axis: a reshape would copy a non-contiguous input
    assert ops_of(xp.jit(lambda w: xp.sum(w, axis=(0, 2, 3))).lower(w)) == ["sum"] * 3


def test_nested_sums_keep_numpys_order_where_the_last_axis_is_reduced():
    """NumPy sums each row of the last axis pairwise and adds the row sums in sequence:
    so do the nested kernels, to the bit (C-contiguous inputs)."""
    w = RNG.standard_normal((40, 3, 300)).astype(np.float32) * 1e3
    f = xp.jit(lambda w: xp.sum(w, axis=(0, 2)))
    np.testing.assert_array_equal(np.asarray(f(w)), np.sum(w, axis=(0, 2)))
    v = RNG.standard_normal((5, 6, 7, 200))
    g = xp.jit(lambda v: (xp.sum(v, axis=(1, 3)), xp.mean(v * 2.0, axis=(0, 2, 3))))
    total, mean = g(v)
    np.testing.assert_array_equal(np.asarray(total), np.sum(v, axis=(1, 3)))
    np.testing.assert_array_equal(np.asarray(mean), np.mean(v * 2.0, axis=(0, 2, 3)))


def test_nested_reductions_keep_dtypes_nan_and_wrapping():
    """Integer sums wrap in their dtype (int8 with ``dtype=``, int64 by default) as
    NumPy's; max and min propagate NaN; any and all of booleans: all to the bit."""
    ints = RNG.integers(-128, 128, (4, 5, 6)).astype(np.int8)
    w = RNG.standard_normal((4, 5, 6))
    w[1, 2, 3], w[3, 4, 0] = np.nan, np.inf
    b = w > 0

    def f(i, w, b, m=xp):
        a = (0, 2)
        return (
            m.sum(i, axis=a, dtype=m.int8),
            m.sum(i, axis=a),
            m.prod(i, axis=a),
            m.max(i, axis=a),
            m.max(w, axis=a),
            m.min(w, axis=a),
            m.any(b, axis=a, keepdims=True),
            m.all(b, axis=a, keepdims=True),
        )

    want = f(ints, w, b, np)
    lines = reductions_of(f, ints, w, b)
    assert len(lines) == 2 * len(want) and compiled_one_axis(lines)
    for got, expected in zip(xp.jit(f)(ints, w, b), want):
        got = np.asarray(got)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_mean_var_and_std_over_axes_apart_run_compiled():
    w = RNG.standard_normal((6, 5, 4, 3))

    def f(w):
        return (
            xp.mean(w, axis=(1, 3)),
            xp.var(w, axis=(0, 2)),
            xp.std(w, axis=(0, 3), keepdims=True),
        )

    assert compiled_one_axis(reductions_of(f, w))
    text = xp.jit(f).lower(w).as_text()
    assert all("[numpy]" not in line or "reshape" in line for line in text.splitlines())
    for got, want in zip(
        xp.jit(f)(w),
        (np.mean(w, axis=(1, 3)), np.var(w, axis=(0, 2)), np.std(w, axis=(0, 3), keepdims=True)),
    ):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-13)


def test_argmax_over_every_axis_of_elementwise_work_is_one_compiled_pass():
    w = RNG.standard_normal((4, 5, 6))
    w[2, 3, 1] = np.nan  # the first NaN wins, as in NumPy
    for name in ("argmax", "argmin"):
        f = lambda w, name=name: getattr(xp, name)(w * 2.0, keepdims=True)  # noqa: E731
        assert "split_reduced_axes" in rules_fired(f, w)
        assert compiled_one_axis(reductions_of(f, w))
        want = getattr(np, name)(w * 2.0, keepdims=True)
        np.testing.assert_array_equal(np.asarray(xp.jit(f)(w)), want)
        np.testing.assert_array_equal(
            np.asarray(xp.jit(f)(w[::-1, :, ::2])),
            getattr(np, name)(w[::-1, :, ::2] * 2.0, keepdims=True),
        )


def test_split_reduced_axes_declines_where_nothing_would_be_compiled():
    """A float sum in another dtype and a sum of booleans have no kernel; adjacent axes
    of an input (``sum(x)``) NumPy reduces in place, in its pairwise order, whatever
    the layout: they are left as written, with NumPy's results to the bit."""
    w = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    cases = [
        (
            lambda w: xp.sum(w, axis=(0, 2), dtype=xp.float64),
            lambda w: np.sum(w, axis=(0, 2), dtype=np.float64),
        ),
        (lambda w: xp.sum(w > 0, axis=(0, 2)), lambda w: np.sum(w > 0, axis=(0, 2))),
        (lambda w: xp.sum(w), np.sum),
        (lambda w: xp.max(w, axis=(1, 2)), lambda w: np.max(w, axis=(1, 2))),
        (lambda w: xp.argmax(w), np.argmax),
    ]
    for f, g in cases:
        assert rules_fired(f, w) == []
        np.testing.assert_array_equal(np.asarray(xp.jit(f)(w)), g(w))
    f = lambda w: xp.sum(w, axis=(0, 2))  # noqa: E731
    assert rules_fired(f, w) == ["split_reduced_axes"]
    excluded = xp.jit(f, exclude_rewrites=("split_reduced_axes",))
    assert ops_of(excluded.lower(w)) == ["sum"]
    np.testing.assert_array_equal(np.asarray(excluded(w)), np.sum(w, axis=(0, 2)))


def test_reductions_over_axes_apart_keep_numpys_order_outside_jit():
    """The rule is a specialization: lazy evaluation (stabilize only) leaves the
    reduction to NumPy, whose order the nested sums of this input do not keep."""
    w = np.random.default_rng(0).standard_normal((5, 3, 7, 4)).astype(np.float32)
    jitted = np.asarray(xp.jit(lambda a: xp.sum(a, axis=(0, 2)))(w))
    assert not np.array_equal(jitted, np.sum(w, axis=(0, 2)))
    np.testing.assert_allclose(jitted, np.sum(w, axis=(0, 2)), rtol=1e-5)
    lazy = xp.sum(xp.asarray(w), axis=(0, 2))
    np.testing.assert_array_equal(np.asarray(lazy), np.sum(w, axis=(0, 2)))


def test_full_reductions_keep_numpys_sum_exactly_and_their_errors():
    w = RNG.standard_normal((784, 10))
    assert float(xp.jit(lambda w: xp.sum(w * w))(w)) == np.sum(w * w)
    ints = np.arange(24, dtype=np.int8).reshape(4, 6)
    f = xp.jit(lambda i: xp.sum(i * i, dtype=xp.int64))
    assert "merge_reduced_axes" in rules_fired(lambda i: xp.sum(i * i, dtype=xp.int64), ints)
    assert int(f(ints)) == np.sum(ints * ints, dtype=np.int64)  # int8 products wrap first
    row = np.arange(6.0)
    # a broadcast operand: the product is stored, then summed in NumPy's order
    ones = RNG.standard_normal((4, 6))
    assert rules_fired(lambda w: xp.sum(w * row), ones) == ["split_reduced_axes"]
    assert float(xp.jit(lambda w: xp.sum(w * row))(ones)) == np.sum(ones * row)
    empty = np.zeros((0, 3))
    assert float(xp.jit(lambda w: xp.sum(w + 1))(empty)) == 0.0
    with pytest.raises(ValueError):
        xp.jit(lambda w: xp.max(w + 1))(empty)
