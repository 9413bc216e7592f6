"""Gradients at the points where the derivative does not exist, and NaN-safety of ``where``."""

import math

import numpy as np
import pytest

import lazyarr as xp


def grad_at(f, values, dtype=np.float64):
    return np.asarray(xp.grad(lambda x: xp.sum(f(x)))(np.asarray(values, dtype=dtype)))


@pytest.mark.parametrize(
    ("f", "x", "expected"),
    [
        (lambda x: xp.where(x > 0, xp.sqrt(x), 0.0), [0.0, 4.0], [0.0, 0.25]),
        (lambda x: xp.where(x > 0, xp.log(x), 0.0), [0.0, -1.0, math.e], [0.0, 0.0, 1 / math.e]),
        (lambda x: xp.where(x < 100, xp.exp(x), 0.0), [1000.0, 0.0], [0.0, 1.0]),
        (lambda x: 2 * xp.where(x > 0, 1 / xp.sqrt(x), x), [0.0, -1.0, 4.0], [2.0, 2.0, -0.125]),
        (lambda x: xp.where(x > 0, xp.sqrt(xp.where(x > 0, x, 1.0)), 0.0), [0.0, 1.0], [0.0, 0.5]),
    ],
)
def test_where_passes_exact_zeros_to_the_branch_it_did_not_take(f, x, expected):
    np.testing.assert_allclose(grad_at(f, x), expected)


@pytest.mark.parametrize(
    ("f", "x", "expected"),
    [
        (xp.abs, [0.0, -2.0, 3.0], [0.0, -1.0, 1.0]),
        (xp.sign, [0.0, -2.0], [0.0, 0.0]),
        (xp.floor, [1.0, 1.5], [0.0, 0.0]),
        (xp.ceil, [1.0, 1.5], [0.0, 0.0]),
        (xp.round, [0.5, 1.5], [0.0, 0.0]),
        (xp.trunc, [-1.0, 1.5], [0.0, 0.0]),
        (xp.sqrt, [0.0, 1.0], [np.inf, 0.5]),
        (lambda x: x**0, [0.0, 2.0], [0.0, 0.0]),
        (lambda x: xp.pow(x, xp.asarray([0.0, 2.0])), [0.0, 0.0], [0.0, 0.0]),
        (lambda x: xp.hypot(x, 0.0 * x), [0.0, -2.0], [0.0, -1.0]),
        (lambda x: xp.abs(x.astype(xp.complex128) * 1j), [0.0, -2.0], [0.0, -1.0]),
    ],
)
def test_kinks_and_jumps(f, x, expected):
    np.testing.assert_allclose(grad_at(f, x), expected)


def test_maximum_and_minimum_split_ties_evenly():
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.0, 1.0, 5.0])
    gx, gy = xp.grad(lambda a, b: xp.sum(xp.maximum(a, b)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(np.asarray(gx), [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(np.asarray(gy), [0.5, 0.0, 1.0])
    gx, gy = xp.grad(lambda a, b: xp.sum(xp.minimum(a, b)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(np.asarray(gx), [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(np.asarray(gy), [0.5, 1.0, 0.0])


def test_max_and_min_reductions_split_ties_among_all_tied_elements():
    x = np.array([[3.0, 1.0, 3.0, 3.0], [0.0, 2.0, -1.0, 2.0]])
    g = grad_at(lambda x: xp.max(x, axis=1), x)
    np.testing.assert_allclose(g, [[1 / 3, 0, 1 / 3, 1 / 3], [0, 0.5, 0, 0.5]])
    g = grad_at(lambda x: xp.min(x, axis=1), x)
    np.testing.assert_allclose(g, [[0, 1, 0, 0], [0, 0, 1, 0]])
    np.testing.assert_allclose(grad_at(xp.max, [2.0, 2.0]), [0.5, 0.5])


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ([2.0, 0.0, 3.0], [0.0, 6.0, 0.0]),
        ([0.0, 0.0, 3.0], [0.0, 0.0, 0.0]),
        ([2.0, 4.0], [4.0, 2.0]),
    ],
)
def test_prod_is_exact_at_zeros(x, expected):
    np.testing.assert_array_equal(grad_at(xp.prod, x), expected)


def test_cumulative_prod_is_exact_at_zeros():
    # y = [2, 0, 0, 0]: dy/dx1 = 2 * (1 + 3 + 12), nothing else moves.
    x = np.array([2.0, 0.0, 3.0, 4.0])
    np.testing.assert_array_equal(grad_at(xp.cumulative_prod, x), [1.0, 32.0, 0.0, 0.0])


def test_integer_paths_carry_no_gradient():
    g = grad_at(lambda x: x * xp.astype(xp.astype(x, xp.int64), xp.float64), [1.5, 2.5])
    np.testing.assert_array_equal(g, [1.0, 2.0])


def test_float32_gradients_stay_float32():
    g = xp.grad(lambda x: xp.sum(x * x * 0.5))(np.array([1.0, 2.0], dtype=np.float32))
    assert g.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(g), np.array([1.0, 2.0], dtype=np.float32))


def test_complex_gradients_follow_jax_conjugate_convention():
    # grad of |z|^2 is 2 * conj(z); grad of imag(z) is -1j, as in JAX.
    z = np.array([1.0 + 2.0j, -0.5j])
    np.testing.assert_allclose(
        np.asarray(xp.grad(lambda z: xp.sum(xp.real(z * xp.conj(z))))(z)), 2 * np.conj(z)
    )
    np.testing.assert_allclose(np.asarray(xp.grad(lambda z: xp.sum(xp.imag(z)))(z)), [-1j, -1j])


def test_broadcast_operands_get_summed_cotangents():
    x, y = np.arange(3.0).reshape(3, 1), np.arange(4.0)
    gx, gy = xp.grad(lambda a, b: xp.sum(a * b), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(np.asarray(gx), np.full((3, 1), y.sum()))
    np.testing.assert_allclose(np.asarray(gy), np.full(4, x.sum()))


@pytest.mark.parametrize("ord_", [2, 1, 3, 1.5, 0.5, -1, -2.5, math.inf, -math.inf])
def test_vector_norm_of_zeros_has_the_zero_subgradient(ord_):
    # As PyTorch: not the NaN of the composite (an infinite derivative of the root times 0).
    g = grad_at(lambda x: xp.linalg.vector_norm(x, ord=ord_), np.zeros(3))
    np.testing.assert_array_equal(g, np.zeros(3))
    if math.isfinite(ord_):  # an inf-norm of an empty vector has no value
        g = grad_at(lambda x: xp.linalg.vector_norm(x, ord=ord_, axis=1), np.zeros((2, 0)))
        assert g.shape == (2, 0)


@pytest.mark.parametrize("ord_", [2, 3, 0.5, -1])
def test_vector_norm_rows_at_zero_and_elsewhere(ord_):
    x = np.array([[0.0, 0.0], [3.0, -4.0]])
    g = grad_at(lambda x: xp.linalg.vector_norm(x, ord=ord_, axis=1, keepdims=True), x)
    n = np.sum(np.abs(x[1]) ** ord_) ** (1 / ord_)
    expected = np.sign(x[1]) * np.abs(x[1]) ** (ord_ - 1) * n ** (1 - ord_)
    np.testing.assert_array_equal(g[0], [0.0, 0.0])
    np.testing.assert_allclose(g[1], expected)
    assert float(xp.linalg.vector_norm(xp.asarray(x[1]), ord=ord_)) == pytest.approx(n)


def test_vector_norm_with_some_zero_elements_gives_them_zero():
    # For ord < 1, |x| ** (ord - 1) is infinite at a zero element: zero, as PyTorch.
    x = np.array([0.0, 1.0, -4.0])
    g = grad_at(lambda x: xp.linalg.vector_norm(x, ord=0.5), x)
    n = (1.0 + 2.0) ** 2
    np.testing.assert_allclose(g, [0.0, n**0.5 * 1.0, -(n**0.5) * 0.5])
    # For negative orders a zero element makes the norm 0, and the gradient 0.
    np.testing.assert_array_equal(grad_at(lambda x: xp.linalg.vector_norm(x, ord=-2), x), 0.0)
    np.testing.assert_allclose(grad_at(lambda x: xp.linalg.vector_norm(x), x), x / np.sqrt(17))


def test_frobenius_norm_of_a_zero_matrix_has_the_zero_subgradient():
    g = np.asarray(xp.grad(xp.linalg.matrix_norm)(np.zeros((2, 3))))
    np.testing.assert_array_equal(g, np.zeros((2, 3)))
    g = np.asarray(xp.grad(lambda x: xp.sum(xp.linalg.matrix_norm(x)))(np.zeros((2, 2, 2)) + 0j))
    np.testing.assert_array_equal(g, np.zeros((2, 2, 2)))
    x = np.array([[3.0, 0.0], [0.0, -4.0]])
    np.testing.assert_allclose(np.asarray(xp.grad(xp.linalg.matrix_norm)(x)), x / 5)


def test_norm_values_are_unchanged_at_zero_and_special_values():
    for x in ([0.0, 0.0], [np.inf, 1.0], [np.nan, 1.0], [1e-200, 1e-200]):
        for ord_ in (2, 3, 0.5, -1):
            got = float(xp.linalg.vector_norm(xp.asarray(x), ord=ord_))
            with np.errstate(all="ignore"):
                expected = np.linalg.norm(np.asarray(x), ord=ord_)
            np.testing.assert_equal(got, expected)
