"""grad, value_and_grad, vjp, jvp, jacobian, hessian: arguments, trees, jit, errors."""

import numpy as np
import pytest

import lazyarr as xp
from lazyarr.grad import jacfwd, jacrev
from lazyarr.grad.backprop import backward
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


def _wide(x):
    """R^2 -> R^(3x4): more outputs than inputs (forward mode's case)."""
    A = np.arange(24.0).reshape(3, 4, 2) / 10
    return xp.tanh(xp.tensordot(xp.asarray(A), x, axes=1)) * xp.sum(x**2)


def _finite_difference_jacobian(f, x, h=1e-6):
    columns = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        e = e.reshape(x.shape)
        columns.append(
            (np.asarray(f(xp.asarray(x + e))) - np.asarray(f(xp.asarray(x - e)))) / 2 / h
        )
    return np.stack(columns, axis=-1).reshape(np.shape(columns[0]) + x.shape)


@pytest.mark.parametrize(
    ("f", "x"),
    [
        (_wide, np.array([0.3, -0.7])),
        (lambda x: xp.sum(xp.sin(x) * x), np.array([0.5, 1.0, 2.0])),  # narrow: reverse
        (lambda x: xp.stack([x, x * x, xp.exp(x)]), np.array(0.4)),
        (lambda x: xp.cumulative_prod(x, axis=0)[:, None] * x[None, :], np.array([1.5, -0.5])),
    ],
)
def test_jacfwd_jacrev_and_jacobian_agree_with_finite_differences(f, x):
    expected = _finite_difference_jacobian(f, x)
    for jac in (jacfwd, jacrev, xp.jacobian):
        J = jac(f)(x)
        assert J.shape == expected.shape and J.dtype == np.float64
        np.testing.assert_allclose(np.asarray(J), expected, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(np.asarray(jacfwd(f)(x)), np.asarray(jacrev(f)(x)), rtol=1e-14)


def test_jacobian_takes_forward_mode_when_inputs_are_fewer(monkeypatch):
    from lazyarr.grad import api

    passes = []
    monkeypatch.setattr(api, "backward", lambda *a: passes.append(1) or backward(*a))
    xp.jacobian(_wide)(np.array([0.3, -0.7]))
    assert len(passes) == 1 + 2  # the pullback, then one transposed pass per input
    passes.clear()
    xp.jacobian(lambda x: x[:2] * 2.0)(np.ones(5))
    assert len(passes) == 2  # one reverse pass per output


def test_jacfwd_of_trees_complex_holomorphic_functions_and_under_jit():
    rng = np.random.default_rng(7)
    p = {"u": rng.standard_normal(3), "v": [np.array(1.5)]}

    def g(p):
        return {"a": p["u"] * p["v"][0], "b": xp.stack([xp.sum(p["u"]), p["v"][0] ** 3])}

    fwd, rev = jacfwd(g)(p), jacrev(g)(p)
    for out in ("a", "b"):
        np.testing.assert_allclose(np.asarray(fwd[out]["u"]), np.asarray(rev[out]["u"]))
        np.testing.assert_allclose(np.asarray(fwd[out]["v"][0]), np.asarray(rev[out]["v"][0]))
    assert fwd["a"]["u"].shape == (3, 3) and fwd["b"]["v"][0].shape == (2,)
    z = rng.standard_normal(2) + 1j * rng.standard_normal(2)
    h = lambda z: xp.exp(xp.stack([z, z * z]))  # noqa: E731
    np.testing.assert_allclose(np.asarray(jacfwd(h)(z)), np.asarray(jacrev(h)(z)), rtol=1e-14)
    np.testing.assert_allclose(
        np.asarray(xp.jit(jacfwd(_wide))(np.array([0.3, -0.7]))),
        np.asarray(jacrev(_wide)(np.array([0.3, -0.7]))),
        rtol=1e-14,
    )
    J, aux = jacfwd(lambda x: (xp.stack([x, 2 * x]), x + 1), has_aux=True)(np.array(2.0))
    np.testing.assert_array_equal(np.asarray(J), [1.0, 2.0])
    assert float(aux) == 3.0


def test_jacfwd_of_integer_outputs_and_empty_inputs_is_zero():
    x = np.array([0.5, 2.0])
    np.testing.assert_array_equal(np.asarray(jacfwd(lambda x: xp.argmax(x))(x)), [0.0, 0.0])
    assert jacfwd(lambda x: x * 2)(np.zeros(0)).shape == (0, 0)
    J = jacfwd(lambda x, y: xp.stack([x, x]), argnums=1)(np.array(1.0), np.ones(2))
    np.testing.assert_array_equal(np.asarray(J), np.zeros((2, 2)))


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


# ----------------------------------------------------------------------------- values that vary
# What is differentiated, here or by a transform around, is a variable whatever its value:
# neither the rewrites before differentiation nor the VJP rules may take it for a literal.
def test_grad_wrt_an_argument_equal_to_zero_keeps_it():
    w = xp.asarray(np.ones(3))
    for run in (xp.grad, lambda f: xp.jit(xp.grad(f))):
        assert float(run(lambda b: xp.sum(w - b))(0.0)) == -3.0
        assert float(run(lambda b: xp.sum(w - b))(np.float64(0.0))) == -3.0
        np.testing.assert_array_equal(np.asarray(run(lambda b: xp.sum(w - b))(np.zeros(3))), -1)


@pytest.mark.parametrize("mode", ["eager", "jit"])
def test_second_derivatives_through_a_literal_like_exponent(mode):
    """d/db of d/da a**b: the VJP of a**b for b == 1 still depends on b."""
    a, b = 2.0, 1.0
    hessian = xp.hessian(lambda a, b: a**b, argnums=(0, 1))
    if mode == "jit":
        hessian = xp.jit(hessian)
    H = [[float(h) for h in row] for row in hessian(a, b)]
    ln = np.log(a)
    want = [
        [b * (b - 1) * a ** (b - 2), a ** (b - 1) * (1 + b * ln)],
        [a ** (b - 1) * (1 + b * ln), a**b * ln**2],
    ]
    np.testing.assert_allclose(H, want, rtol=1e-12, atol=1e-15)
    dda = xp.grad(lambda b: xp.grad(lambda a: a**b)(3.0))  # d/db (b * 3**(b - 1))
    for e in (1.0, 2.0):  # (at 0, the derivative wrt a is 0 by convention, as JAX's)
        np.testing.assert_allclose(float(dda(e)), 3 ** (e - 1) * (1 + e * np.log(3.0)))


@pytest.mark.parametrize("mode", ["eager", "jit"])
def test_an_enclosing_transforms_argument_is_a_variable_of_the_inner_one(mode):
    w = xp.asarray(np.array([0.5, 1.5, 2.0]))

    def outer(b):  # d/db sum(w - b) = -3, through the gradient of c * (w - b) wrt c at 1
        return xp.grad(lambda c: xp.sum(c * (w - b)))(1.0)

    def outer_div(b):  # d/db sum(w / b) at b = 1 = -sum(w)
        return xp.grad(lambda c: c * xp.sum(w / b))(1.0)

    for f, want in ((outer, -3.0), (outer_div, -4.0)):
        g = xp.grad(f)
        if mode == "jit":
            g = xp.jit(g)
        assert float(g(0.0 if f is outer else 1.0)) == want


def test_theano_style_gradient_of_a_gradient_wrt_another_array_at_zero():
    w, x, y = xp.asarray(np.ones(3)), xp.asarray(np.zeros(3)), xp.asarray(np.ones(3))
    gy = xp.grad(xp.sum(y * (w - x)), y)  # w - x, with x a variable of the next grad
    np.testing.assert_array_equal(np.asarray(xp.grad(xp.sum(gy), x)), -np.ones(3))
    gx = xp.grad(xp.sum((w - x) ** 2), x)  # x itself: 0 as it is, differentiated
    np.testing.assert_array_equal(np.asarray(gx), -2 * np.ones(3))


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
