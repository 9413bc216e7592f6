"""grad, value_and_grad, vjp, jvp, jacobian, hessian: arguments, trees, jit, errors."""

import numpy as np
import pytest

import lazyarr as xp
from tests.helpers import next_line


def test_grad_differentiates_only_the_selected_argument_even_when_equal():
    # x and y are the same constant node (interning); the first is still its own leaf.
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(xp.grad(lambda a, b: xp.sum(a * b))(x, x)), x)
    a = xp.asarray(3.0)
    gx, gy = xp.grad(lambda u, v: u * v * v, argnums=(0, 1))(a, a)
    assert (float(gx), float(gy)) == (9.0, 18.0)


def test_grad_of_grad_of_a_cube():
    d2 = xp.grad(xp.grad(lambda x: x**3))
    assert float(d2(2.0)) == 12.0
    d3 = xp.grad(xp.grad(xp.grad(lambda x: x**3)))
    assert float(d3(5.0)) == 6.0


def test_pytree_arguments_and_has_aux():
    params = {"w": np.array([1.0, -2.0]), "b": [np.array(0.5)]}

    def loss(p, x):
        z = xp.sum(p["w"] * x) + p["b"][0]
        return z * z, {"z": z}

    (value, aux), g = xp.value_and_grad(loss, has_aux=True)(params, np.array([3.0, 1.0]))
    z = 1.0 * 3 - 2 * 1 + 0.5
    assert float(value) == z * z and float(aux["z"]) == z
    np.testing.assert_allclose(np.asarray(g["w"]), 2 * z * np.array([3.0, 1.0]))
    np.testing.assert_allclose(float(g["b"][0]), 2 * z)
    g2, _ = xp.grad(loss, has_aux=True)(params, np.array([3.0, 1.0]))
    np.testing.assert_allclose(np.asarray(g2["w"]), np.asarray(g["w"]))


def test_vjp_of_a_non_scalar_function():
    x = np.array([0.5, 1.0, 2.0])
    y, pullback = xp.vjp(lambda x: xp.sin(x) * x, x)
    np.testing.assert_allclose(np.asarray(y), np.sin(x) * x)
    (ct,) = pullback(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(np.asarray(ct), [1, 2, 3] * (np.cos(x) * x + np.sin(x)))


def test_jvp_agrees_with_vjp_on_a_composite_function():
    rng = np.random.default_rng(0)
    A, x, v, u = (
        rng.standard_normal((3, 4)),
        rng.standard_normal(4),
        rng.standard_normal(4),
        rng.standard_normal(3),
    )

    def f(x):
        return xp.tanh(A @ x) * xp.sum(x**2)

    _, jv = xp.jvp(f, (x,), (v,))
    _, pullback = xp.vjp(f, x)
    (jtu,) = pullback(u)
    np.testing.assert_allclose(np.dot(u, np.asarray(jv)), np.dot(np.asarray(jtu), v))


def test_jacobian_of_an_elementwise_and_a_linear_map():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(np.asarray(xp.jacobian(lambda x: x**2)(x)), np.diag(2 * x))
    A = np.arange(6.0).reshape(2, 3)
    J = xp.jacobian(lambda x: A @ x)(x)
    assert J.shape == (2, 3)
    np.testing.assert_allclose(np.asarray(J), A)


def test_hessian_of_a_quadratic_form_and_of_sum_of_squared_sines():
    rng = np.random.default_rng(2)
    A, x = rng.standard_normal((4, 4)), rng.standard_normal(4)
    H = xp.hessian(lambda x: x @ (A @ x))(x)
    np.testing.assert_allclose(np.asarray(H), A + A.T, atol=1e-12)
    H = xp.hessian(lambda x: xp.sum(xp.sin(x) ** 2))(x)
    np.testing.assert_allclose(np.asarray(H), np.diag(2 * np.cos(2 * x)), atol=1e-12)


def test_theano_style_gradients_are_lazy_arrays():
    x = xp.asarray([1.0, 2.0, 3.0])
    gy = xp.grad(xp.sum(x**2), x)
    assert isinstance(gy, xp.Array)
    np.testing.assert_allclose(np.asarray(gy), 2 * np.asarray(x))
    y = xp.asarray([4.0, 5.0, 6.0])
    grads = xp.grad(xp.sum(x * y), (x, y))
    assert isinstance(grads, tuple)
    np.testing.assert_allclose(np.asarray(grads[0]), np.asarray(y))
    cost, (gx,) = xp.value_and_grad(xp.sum(x * y), [x])
    assert float(cost) == 32.0
    np.testing.assert_allclose(np.asarray(gx), np.asarray(y))


def test_wrt_differentiates_with_respect_to_leaves_the_function_reads():
    w = xp.asarray(np.array([1.0, 2.0, 3.0]))
    cost = xp.value_and_grad(lambda a: xp.sum((a @ w) ** 2), wrt=w)
    value, g = cost(np.eye(3)[:2])
    assert float(value) == 5.0
    np.testing.assert_allclose(np.asarray(g), [2.0, 4.0, 0.0])


def test_an_output_that_does_not_depend_on_the_argument_has_a_zero_gradient():
    g = xp.grad(lambda x, y: xp.sum(y * 2.0))(np.ones(3), np.ones(2))
    np.testing.assert_array_equal(np.asarray(g), np.zeros(3))


def test_jit_of_grad_and_grad_of_jit_agree_with_the_analytic_gradient():
    rng = np.random.default_rng(3)
    X, y, w = rng.standard_normal((20, 5)), rng.integers(0, 2, 20) * 1.0, rng.standard_normal(5)

    def cost(w):
        p = 1 / (1 + xp.exp(-(X @ w)))
        return xp.mean(-y * xp.log(p) - (1 - y) * xp.log(1 - p))

    p = 1 / (1 + np.exp(-(X @ w)))
    expected = X.T @ (p - y) / 20
    np.testing.assert_allclose(np.asarray(xp.jit(xp.grad(cost))(w)), expected)
    np.testing.assert_allclose(np.asarray(xp.grad(xp.jit(cost))(w)), expected)
    value, g = xp.jit(xp.value_and_grad(cost))(w)
    np.testing.assert_allclose(float(value), np.mean(-y * np.log(p) - (1 - y) * np.log(1 - p)))
    np.testing.assert_allclose(np.asarray(g), expected)
    step = xp.jit(lambda w: w - 0.1 * xp.grad(cost)(w))
    np.testing.assert_allclose(np.asarray(step(w)), w - 0.1 * expected)
    assert xp.jit(xp.grad(cost)).lower(w).as_text().count("= input") == 1  # no grad leaf left


def test_jit_of_grad_with_one_array_passed_twice():
    f = xp.jit(xp.grad(lambda a, b: xp.sum(a * b * b)))
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(np.asarray(f(x, x)), x * x)


def test_hessian_under_jit():
    x = np.array([0.3, -1.2])
    H = xp.jit(xp.hessian(lambda x: xp.sum(x**4)))(x)
    np.testing.assert_allclose(np.asarray(H), np.diag(12 * x**2))


# ----------------------------------------------------------------------------- errors
def test_non_scalar_output_names_the_callers_line_and_the_outputs_line():
    def f(x):
        return x * 2  # the output

    with pytest.raises(TypeError, match=r"scalar, got shape \(3,\)") as info:
        where = next_line()
        xp.grad(f)(np.ones(3))
    assert where in str(info.value)
    assert f"{__file__}:{f.__code__.co_firstlineno + 1}" in str(info.value)


def test_integer_argument_is_an_error_at_the_callers_line():
    with pytest.raises(TypeError, match="dtype int64") as info:
        where = next_line()
        xp.grad(lambda x: xp.sum(x * 1.0))(np.arange(3))
    assert where in str(info.value)


def test_bad_argnums():
    with pytest.raises(TypeError, match="argnums"):
        xp.grad(lambda x: x, argnums="0")
    with pytest.raises(ValueError, match="argnums 2 is out of range") as info:
        where = next_line()
        xp.grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)
    assert where in str(info.value)


def test_theano_style_needs_wrt_and_a_real_scalar_cost():
    x = xp.asarray([1.0, 2.0])
    with pytest.raises(TypeError, match="wrt"):
        xp.grad(xp.sum(x))
    with pytest.raises(TypeError, match="scalar"):
        xp.grad(x * 2, x)
    with pytest.raises(TypeError, match="complex"):
        xp.grad(xp.sum(x * 1j), x)
