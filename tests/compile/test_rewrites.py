"""The rewrite catalogue: each rule fires where it should, keeps values, and keeps lines."""

from __future__ import annotations

import numpy as np
import pytest

import lazyarr as xp
from lazyarr.compile.optimize import check_names
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

    assert rules_fired(f, BIG) == ["mul_one", "log1p", "softplus"]
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

    (first, second) = xp.jit(f).lower(BIG).rewrites()
    line = f.__code__.co_firstlineno + 1
    for fired in (first, second):
        assert fired.endswith(f"test_rewrites.py:{line}")


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
