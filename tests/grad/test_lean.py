"""Lean gradient graphs: what the rules leave out, and that the results stay exact.

- the cotangent of ``x[arange(n), idx]`` (and of a one-pick ``take_along_axis``) is an
  elementwise ``where``, not a scatter, and its sum along the picked axis is not a pass;
- a shift that cancels (``z - max(z)`` in a softmax, log-softmax or logsumexp) gets no
  cotangent, while a shift the output depends on still does;
- a reduction's cotangent is broadcast lazily, inside the loops that read it.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lazyarr as xp
from lazyarr._graph import postorder
from tests.grad.checks import check_derivatives


def ops(a) -> list[str]:
    """The op names of a lazy gradient's graph, one per node."""
    return [n.op.name for n in postorder([a._node])]


def distinct(rng, shape):
    """Values without ties (the max is differentiable there)."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.37 - 2.0


def log_softmax(z, axis=1):
    shifted = z - xp.max(z, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def softmax(z, axis=1):
    e = xp.exp(z - xp.max(z, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


# ----------------------------------------------------------------------------- one pick per row
def test_the_negative_log_likelihood_of_picked_classes_needs_no_scatter():
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)

    def nll(z):
        return -xp.mean(xp.log(softmax(z))[xp.arange(6), y])

    g = xp.grad(nll)(z)
    assert "scatter_add" not in ops(g)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    expected = (p - np.eye(4)[y]) / 6
    np.testing.assert_allclose(np.asarray(g), expected, rtol=1e-12, atol=1e-15)
    step = xp.jit(xp.grad(nll))
    assert "scatter_add" not in step.lower(z).as_text()
    np.testing.assert_allclose(np.asarray(step(z)), expected, rtol=1e-12, atol=1e-15)


def test_the_picks_sum_along_their_axis_without_a_pass():
    # The log-softmax sends minus the row sum of the one-hot cotangent to its logsumexp:
    # that sum is the picked cotangent itself, so the only row sum left is the forward's.
    y = np.array([2, 0, 1])
    g = xp.grad(lambda z: xp.sum(log_softmax(z)[xp.arange(3), y]))(np.zeros((3, 4)))
    row_sums = [n for n in postorder([g._node]) if n.op.name == "sum" and n.params["axes"] == (1,)]
    assert len(row_sums) == 1
    np.testing.assert_allclose(np.asarray(g), np.eye(4)[y] - 0.25)


def test_picks_with_negative_indices_and_a_traced_index():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((5, 3)), np.array([-1, 0, 2, -3, 1])
    f = xp.jit(xp.grad(lambda x, y: xp.sum(x[xp.arange(5), y] ** 2)))
    expected = np.zeros_like(x)
    expected[np.arange(5), y] = 2 * x[np.arange(5), y]
    np.testing.assert_array_equal(np.asarray(f(x, y)), expected)
    assert "scatter_add" not in f.lower(x, y).as_text()


def test_one_pick_take_along_axis_needs_no_scatter():
    rng = np.random.default_rng(2)
    x, idx = rng.standard_normal((4, 5)), rng.integers(-5, 5, (4, 1))
    g = xp.grad(lambda x: xp.sum(xp.take_along_axis(x, xp.asarray(idx), axis=1) ** 3))(x)
    assert "scatter_add" not in ops(g)
    expected = np.zeros_like(x)
    np.put_along_axis(expected, idx % 5, 3 * np.take_along_axis(x, idx, 1) ** 2, 1)
    np.testing.assert_allclose(np.asarray(g), expected)


def test_other_indices_still_scatter_and_add_up_repeats():
    g = xp.grad(lambda x: xp.sum(x[np.array([0, 0, 1]), np.array([1, 1, 0])]))(np.ones((2, 2)))
    assert "scatter_add" in ops(g)
    np.testing.assert_array_equal(np.asarray(g), [[0.0, 2.0], [1.0, 0.0]])


# ----------------------------------------------------------------------------- cancelling shifts
def _softmax_regression_nll(z, t):
    return -xp.mean(xp.sum(t * log_softmax(z), axis=1))


INVARIANT = {
    "log_softmax": lambda z: log_softmax(z),
    "softmax": lambda z: softmax(z),
    "softmax-axis0": lambda z: softmax(z, axis=0),
    "logsumexp-unshifted": lambda z: xp.log(xp.sum(xp.exp(z), axis=1)),  # shifted by rewrite
    "log-of-softmax": lambda z: xp.log(softmax(z)),
    "weighted-nll": lambda z: xp.sum(xp.asarray(np.arange(4.0)) * log_softmax(z), axis=1),
    "logsumexp-written": lambda z: (
        xp.log(xp.sum(xp.exp(z - xp.max(z, axis=1, keepdims=True)), axis=1, keepdims=True))
        + xp.max(z, axis=1, keepdims=True)
    ),
}
DEPENDENT = {
    "shifted": lambda z: z - xp.max(z, axis=1, keepdims=True),
    "unnormalized": lambda z: xp.exp(z - xp.max(z, axis=1, keepdims=True)),
    "normalized-across": lambda z: (
        xp.exp(z - xp.max(z, axis=1, keepdims=True))
        / xp.sum(xp.exp(z - xp.max(z, axis=1, keepdims=True)), axis=0, keepdims=True)
    ),
    "lse-without-shift-back": lambda z: xp.log(
        xp.sum(xp.exp(z - xp.max(z, axis=1, keepdims=True)), axis=1)
    ),
    "squared": lambda z: (z - xp.max(z, axis=1, keepdims=True)) ** 2,
    "max-returned-too": lambda z: log_softmax(z) + xp.max(z, axis=1, keepdims=True),
}


def _grad_ops(f, z):
    def loss(z):
        out = f(z)
        return xp.sum(out * np.linspace(0.5, 1.5, out.size).reshape(out.shape))

    return ops(xp.grad(loss)(z))


@pytest.mark.parametrize("name", INVARIANT)
def test_a_shift_that_cancels_gets_no_cotangent(name):
    z = distinct(np.random.default_rng(3), (3, 4))
    assert "equal" not in _grad_ops(INVARIANT[name], z)  # max's rule compares x == max
    check_derivatives(INVARIANT[name], [z])


@pytest.mark.parametrize("name", DEPENDENT)
def test_a_shift_the_output_depends_on_keeps_its_cotangent(name):
    z = distinct(np.random.default_rng(4), (3, 4))
    assert "equal" in _grad_ops(DEPENDENT[name], z)
    check_derivatives(DEPENDENT[name], [z])


def test_the_training_cost_gradients_agree_with_hand_derived_ones_at_large_logits():
    rng = np.random.default_rng(5)
    z = rng.standard_normal((8, 5)) * 300  # exp overflows without the shift
    t = np.eye(5)[rng.integers(0, 5, 8)]
    g = xp.grad(_softmax_regression_nll)(z, t)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(np.asarray(g), (p - t) / 8, rtol=1e-12, atol=1e-15)
    lse = xp.grad(lambda z: xp.sum(xp.log(xp.sum(xp.exp(z), axis=1))))(z)
    np.testing.assert_allclose(np.asarray(lse), p, rtol=1e-12, atol=1e-300)


def test_second_derivatives_through_a_cancelling_shift():
    t = np.eye(3)[[0, 2]]

    def cost(z):
        return -xp.sum(t * log_softmax(xp.reshape(z, (2, 3))))

    z = np.random.default_rng(6).standard_normal(6)
    H = np.asarray(xp.hessian(cost)(z))

    def g(z):
        return np.asarray(xp.grad(cost)(z))

    expected = np.stack([(g(z + 1e-5 * e) - g(z - 1e-5 * e)) / 2e-5 for e in np.eye(6)], axis=1)
    np.testing.assert_allclose(H, expected, atol=1e-9)
    np.testing.assert_allclose(np.asarray(xp.jit(xp.hessian(cost))(z)), H, rtol=1e-14)


@settings(max_examples=20)
@given(
    rows=st.integers(1, 4),
    cols=st.integers(1, 4),
    name=st.sampled_from(sorted(INVARIANT)),
    ties=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_cancelling_shifts_match_finite_differences_even_at_ties(rows, cols, name, ties, seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((rows, cols))
    if ties:  # the max is not differentiable there, but the output does not depend on it
        z[:, :] = np.round(z)
    f = INVARIANT[name]
    if name == "weighted-nll" and cols != 4:
        return
    check_derivatives(f, [z], seed=seed)


# ----------------------------------------------------------------------------- lazy broadcasting
def test_a_reductions_cotangent_is_broadcast_inside_the_loops_that_read_it():
    g = xp.grad(lambda x: xp.sum(xp.sin(x)))(np.arange(3.0))
    assert "broadcast_to" not in ops(g)
    np.testing.assert_allclose(np.asarray(g), np.cos(np.arange(3.0)))


COMPOSITES = {
    "mean-of-broadcast-sum": lambda a, b: xp.mean(a + b),
    "sum-over-broadcast-axis": lambda a, b: xp.sum(a * b, axis=0, keepdims=True) * a,
    "sum-then-broadcast": lambda a, b: xp.sum(a, axis=-1, keepdims=True) + b,
    "broadcast_to-of-sum": lambda a, b: xp.broadcast_to(xp.sum(a, axis=0), (2, *b.shape[1:])) * b,
    "rows-and-columns": lambda a, b: xp.sum(a, axis=1, keepdims=True) * xp.sum(b, axis=0),
}


@pytest.mark.parametrize("name", COMPOSITES)
@settings(max_examples=15)
@given(
    a_shape=st.sampled_from([(1, 3), (4, 3), (4, 1), (1, 1)]),
    b_shape=st.sampled_from([(4, 3), (1, 3), (3,), (4, 1)]),
    seed=st.integers(0, 2**32 - 1),
)
def test_lazily_broadcast_cotangents_match_finite_differences(name, a_shape, b_shape, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    f = COMPOSITES[name]
    try:
        f(xp.asarray(a), xp.asarray(b))
    except ValueError:
        return  # shapes that do not broadcast in this composite
    check_derivatives(f, [a, b], seed=seed)
