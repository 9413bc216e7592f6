"""The Theano tutorials' derivatives (``/work/shared/seeds``), in both styles."""

import numpy as np

import lazyarr as xp


def test_square_differentiates_to_twice_x():
    # Theano: gy = T.grad(x ** 2, x); f(4) == 8, f(94.2) == 188.4
    f = xp.grad(lambda x: x**2)
    assert float(f(4.0)) == 8.0
    assert np.isclose(float(f(94.2)), 188.4)
    x = xp.asarray([1.5, -3.0, 94.2])
    np.testing.assert_allclose(np.asarray(xp.grad(xp.sum(x**2), x)), [3.0, -6.0, 188.4])


def test_sin_differentiates_to_cos():
    x = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(np.asarray(xp.grad(lambda x: xp.sum(xp.sin(x)))(x)), np.cos(x))


def test_cubic_polynomial():
    # (x - 4) * (x**2 + 6) -> 3x**2 - 8x + 6
    x = np.array([-2.0, 0.0, 1.0, 4.0, 7.5])
    g = xp.grad(lambda x: xp.sum((x - 4) * (x**2 + 6)))(x)
    np.testing.assert_allclose(np.asarray(g), 3 * x**2 - 8 * x + 6)


def test_partial_derivatives_of_a_square():
    # z = (x + 2y)**2: dz/dx = 2(x + 2y), dz/dy = 4(x + 2y)
    gx, gy = xp.grad(lambda x, y: (x + 2 * y) ** 2, argnums=(0, 1))(1.5, -0.25)
    assert float(gx) == 2.0 and float(gy) == 4.0
    x, y = xp.asarray([1.0, 2.0]), xp.asarray([3.0, -5.0])
    gx, gy = xp.grad(xp.sum((x + 2 * y) ** 2), [x, y])
    np.testing.assert_allclose(np.asarray(gx), [14.0, -16.0])
    np.testing.assert_allclose(np.asarray(gy), [28.0, -32.0])


def test_logistic_function_derivative():
    x = np.array([[0.0, 1.0], [-1.0, -2.0]])
    s = 1 / (1 + np.exp(-x))
    g = xp.grad(lambda x: xp.sum(1 / (1 + xp.exp(-x))))(x)
    np.testing.assert_allclose(np.asarray(g), s * (1 - s))


def test_logistic_regression_cost_against_the_hand_derived_gradient():
    rng = np.random.default_rng(0)
    n, d = 40, 7
    X, y = rng.standard_normal((n, d)), rng.integers(0, 2, n).astype(np.float64)
    w, b = xp.asarray(rng.standard_normal(d)), xp.asarray(0.125)
    p_1 = 1 / (1 + xp.exp(-(X @ w) - b))
    xent = -y * xp.log(p_1) - (1 - y) * xp.log(1 - p_1)
    cost = xp.mean(xent) + 0.01 * xp.sum(w**2)
    gw, gb = xp.grad(cost, [w, b])  # Theano: gw, gb = T.grad(cost, [w, b])
    p = 1 / (1 + np.exp(-(X @ np.asarray(w)) - 0.125))
    np.testing.assert_allclose(np.asarray(gw), X.T @ (p - y) / n + 0.02 * np.asarray(w))
    np.testing.assert_allclose(float(gb), np.mean(p - y))


def test_softmax_regression_negative_log_likelihood():
    rng = np.random.default_rng(1)
    n, d, k = 30, 6, 4
    X, labels = rng.standard_normal((n, d)), rng.integers(0, k, n)

    def nll(W, b):  # noqa: N803 - the tutorial's names
        logits = X @ W + b
        e = xp.exp(logits - xp.max(logits, axis=1, keepdims=True))
        p = e / xp.sum(e, axis=1, keepdims=True)
        return -xp.mean(xp.log(p)[xp.arange(n), labels])

    W0, b0 = rng.standard_normal((d, k)), rng.standard_normal(k)
    gW, gb = xp.grad(nll, argnums=(0, 1))(W0, b0)
    logits = X @ W0 + b0
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    delta = (p - np.eye(k)[labels]) / n
    np.testing.assert_allclose(np.asarray(gW), X.T @ delta, atol=1e-12)
    np.testing.assert_allclose(np.asarray(gb), delta.sum(0), atol=1e-12)
