"""The dense-layer gradient step compiled as one C kernel, against NumPy.

``c_dense`` claims ``M1 = X @ W`` (or ``gemm(X, W, C, alpha, beta)``), the row region
downstream of it (elementwise work, row reductions, column and full sums) and
``M2 = X.T @ R`` (or ``W - lr * (X.T @ R)``) with ``R`` from that region, in one pass
over the rows of ``X``; its nodes show as ``[c lz_dense_<hash>]`` in ``as_text()``.

NumPy is the oracle. The kernel sums the products in another order than BLAS, so
results agree within a tolerance relative to the scale of each result (``RTOL``): a
sum of ``d`` products rounds to about ``sqrt(d)`` ulps of its largest terms. NaN and
infinity positions must match NumPy's exactly.
"""

# ruff: noqa: N803 - X, W: the math's own names, as in benchmarks/

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lazyarr as xp
from lazyarr.compile import c_backend
from lazyarr.compile.c_dense import K_MAX
from tests.compile.test_c_backend import lines

pytestmark = [
    pytest.mark.usefixtures("private_cache_dir"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]

if c_backend.compiler() is None:
    pytest.skip("no C compiler: jitted functions run on NumPy alone", allow_module_level=True)

FLOATS = (np.float32, np.float64)
RTOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-10}
LR = 0.13


# ----------------------------------------------------------------------------- helpers
def dense_ops(lowered) -> set[str]:
    """The ops that ``lz_dense_`` kernels compute in ``lowered``."""
    return {op for op, backend in lines(lowered) if backend.startswith("c lz_dense_")}


def assert_dense(lowered, *ops: str) -> None:
    """At least one dense kernel, computing (at least) ``ops``."""
    text = lowered.as_text()
    assert "lz_dense_" in text, text
    assert set(ops) <= dense_ops(lowered), text


def assert_not_dense(lowered) -> None:
    text = lowered.as_text()
    assert "lz_dense_" not in text, text


def close(got, expected, rtol: float | None = None, what: str = "") -> None:
    """Shape and dtype exactly; values within ``rtol`` of the largest finite magnitude
    of ``expected``; NaN and infinities where NumPy has them."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype} != {expected.dtype}"
    if rtol is None:
        rtol = RTOL[expected.dtype]
    finite = np.abs(expected[np.isfinite(expected)])
    scale = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    np.testing.assert_allclose(
        got, expected, rtol=rtol, atol=rtol * scale, equal_nan=True, err_msg=what
    )


def close_all(got, expected, what: str = "") -> None:
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected)):
        close(g, e, what=f"{what} result {i}")


def softmax_step(x, t, W, b, mod=np):
    """The MNIST tutorial's training step, the gradient written by hand."""
    logits = x @ W + b
    e = mod.exp(logits - mod.max(logits, axis=1, keepdims=True))
    p = e / mod.sum(e, axis=1, keepdims=True)
    g = (p - t) / x.shape[0]
    return W - LR * (x.T @ g), b - LR * mod.sum(g, axis=0)


# One jitted function, reused: a new shape or dtype re-traces.
step = xp.jit(lambda x, t, W, b: softmax_step(x, t, W, b, xp))


def problem(n: int, d: int, k: int, dtype, seed: int = 0):
    """Pixels in [0, 1), soft targets (so that k = 1 is no zero gradient), small weights
    (so that the update is of the weights' size)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, d)).astype(dtype)
    t = rng.random((n, k)).astype(dtype)
    W = (0.01 * rng.standard_normal((d, k))).astype(dtype)
    b = (0.01 * rng.standard_normal(k)).astype(dtype)
    return x, t, W, b


# ----------------------------------------------------------------------------- 1. softmax
SHAPES = [
    (600, 784, 10),  # the MNIST minibatch
    (37, 13, 3),
    (5, 1, 1),
    (1, 9, 17),
    (64, 3, 5),  # d below a SIMD vector
    (50, 7, 1),  # k = 1
    (45, 20, 32),  # the widest W claimed
]


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_softmax_regression_step(shape, dtype):
    args = problem(*shape, dtype)
    close_all(step(*args), softmax_step(*args), what=f"{shape}")
    assert_dense(step.lower(*args), "exp", "max", "sum")


def test_softmax_regression_step_from_zero_weights():
    """The tutorial starts at W = 0, b = 0: the results are the scaled gradients alone."""
    x, t, W, b = problem(600, 784, 10, np.float32, seed=1)
    W, b = np.zeros_like(W), np.zeros_like(b)
    t = np.eye(10, dtype=np.float32)[np.random.default_rng(1).integers(0, 10, 600)]
    close_all(step(x, t, W, b), softmax_step(x, t, W, b))


def test_repeated_steps_follow_numpy():
    """A few SGD steps, each reading the last one's weights."""
    x, t, W, b = problem(120, 30, 4, np.float64, seed=2)
    ours, theirs = (W, b), (W, b)
    for i in range(5):
        batch = slice(24 * i, 24 * (i + 1))
        ours = step(x[batch], t[batch], *map(np.asarray, ours))
        theirs = softmax_step(x[batch], t[batch], *theirs)
    close_all(ours, theirs)


# ----------------------------------------------------------------------------- 2. NLL grad
def nll(W, b, x, t):
    """The mean negative log-likelihood through a stable log-softmax, t one-hot."""
    z = x @ W + b
    m = xp.max(z, axis=1, keepdims=True)
    log_p = z - m - xp.log(xp.sum(xp.exp(z - m), axis=1, keepdims=True))
    return -xp.mean(xp.sum(t * log_p, axis=1))


@xp.jit
def nll_step(x, t, W, b):
    c, (gW, gb) = xp.value_and_grad(nll, argnums=(0, 1))(W, b, x, t)
    return W - LR * gW, b - LR * gb, c


def numpy_nll_step(x, t, W, b):
    z = x @ W + b
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    c = -np.mean(np.sum(t * (z - m - np.log(s)), axis=1))
    g = (e / s - t) / x.shape[0]
    return W - LR * (x.T @ g), b - LR * g.sum(axis=0), c


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(600, 784, 10), (23, 11, 3)], ids=["mnist", "small"])
def test_value_and_grad_of_the_log_likelihood(shape, dtype):
    n, d, k = shape
    x, _, W, b = problem(n, d, k, dtype, seed=3)
    t = np.eye(k, dtype=dtype)[np.random.default_rng(3).integers(0, k, n)]
    close_all(nll_step(x, t, W, b), numpy_nll_step(x, t, W, b), what=f"{shape}")
    assert_dense(nll_step.lower(x, t, W, b), "exp")


# ----------------------------------------------------------------------------- 3. logistic
def logistic_cost(w, b, X, y):
    """benchmarks/jit_workloads.py's ``logistic_regression_step`` cost."""
    p = 1 / (1 + xp.exp(-(X @ w) - b))
    xent = -y * xp.log(p) - (1 - y) * xp.log(1 - p)
    return xp.mean(xent) + 0.01 * xp.sum(w**2)


@xp.jit
def logistic_step(X, y, w, b):
    c, (gw, gb) = xp.value_and_grad(logistic_cost, argnums=(0, 1))(w, b, X, y)
    return w - 0.1 * gw, b - 0.1 * gb, c


def numpy_logistic_step(X, y, w, b):
    n = X.shape[0]
    p = 1 / (1 + np.exp(-(X @ w) - b))
    xent = -y * np.log(p) - (1 - y) * np.log(1 - p)
    c = np.mean(xent) + 0.01 * np.sum(w**2)
    gw = X.T @ (p - y) / n + 0.02 * w
    gb = np.mean(p - y)
    return w - 0.1 * gw, b - 0.1 * gb, c


@pytest.mark.parametrize("shape", [(400, 784), (33, 5), (1, 3), (17, 1)], ids=str)
def test_logistic_regression_step(shape):
    """A vector ``w``: ``X @ w`` is a matmul with ``w`` reshaped to (d, 1), k = 1."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal(shape)
    y = rng.integers(0, 2, shape[0]).astype(np.float64)
    w, b = 0.01 * rng.standard_normal(shape[1]), np.float64(0.1)
    expected = numpy_logistic_step(X, y, w, b)
    assert np.isfinite(expected[2])
    close_all(logistic_step(X, y, w, b), expected, what=f"{shape}")
    assert_dense(logistic_step.lower(X, y, w, b), "exp")


# ----------------------------------------------------------------------------- 4. layouts
def _layouts(rng, n, d, k, dtype):
    """(name, x, W) with x (n, d) and W (d, k) of ``dtype`` in layouts other than C order."""
    a = rng.random((2 * n + 1, d)).astype(dtype)
    w = (0.01 * rng.standard_normal((d, k))).astype(dtype)
    return [
        ("fortran", np.asfortranarray(a[:n]), w),
        ("transposed", rng.random((d, n)).astype(dtype).T, w),
        ("every-other-row", a[: 2 * n : 2], w),
        ("reversed-rows", a[:n][::-1], w),
        ("reversed-columns", a[:n, ::-1], w),
        ("strided-columns", rng.random((n, 3 * d)).astype(dtype)[:, ::3], w),
        ("W-transposed", a[:n], np.ascontiguousarray(w.T).T),
        ("W-reversed", a[:n], np.ascontiguousarray(w[::-1])[::-1]),
    ]


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
def test_inputs_that_are_not_c_contiguous(dtype):
    rng = np.random.default_rng(5)
    n, d, k = 41, 19, 6
    t = rng.random((n, k)).astype(dtype)[::-1]
    b = (0.01 * rng.standard_normal(2 * k)).astype(dtype)[::2]
    for name, x, W in _layouts(rng, n, d, k, dtype):
        assert x.shape == (n, d) and W.shape == (d, k)
        assert not (x.flags.c_contiguous and W.flags.c_contiguous), name
        close_all(step(x, t, W, b), softmax_step(x, t, W, b), what=name)


def test_logistic_step_on_strided_inputs():
    rng = np.random.default_rng(6)
    A = rng.standard_normal((81, 30))
    y = rng.integers(0, 2, 81).astype(np.float64)
    w = 0.01 * rng.standard_normal(60)[::-2]
    for X, yy in ((A[::2], y[::2]), (A[::-1], y[::-1]), (np.asfortranarray(A), y)):
        b = np.float64(0.1)
        close_all(logistic_step(X, yy, w, b), numpy_logistic_step(X, yy, w, b))


def _at_offset(a: np.ndarray, offset: int) -> np.ndarray:
    """A C-contiguous copy of ``a`` starting ``offset`` elements past a 64-byte line."""
    buf = np.empty(a.size + 64, a.dtype)
    start = (-buf.ctypes.data % 64) // a.itemsize + offset
    out = buf[start : start + a.size].reshape(a.shape)
    out[...] = a
    return out


@pytest.mark.parametrize("d", [784, 13, 2, 1], ids=lambda d: f"d={d}")
def test_x_at_every_offset_from_a_vector(d):
    """The products load X from its first column aligned to a vector (the same in every
    row when a row is a whole number of vectors; none otherwise), the accumulator
    placed to match: any offset of X, including rows shorter than the columns skipped."""
    rng = np.random.default_rng(11)
    n = 37  # not a whole number of blocks
    X0 = rng.standard_normal((n, d))
    y = rng.integers(0, 2, n).astype(np.float64)
    w, b = 0.01 * rng.standard_normal(d), np.float64(0.1)
    x0, t, W, bk = problem(n, d, 10, np.float32, seed=12)
    for offset in range(8):
        X = _at_offset(X0, offset)
        close_all(logistic_step(X, y, w, b), numpy_logistic_step(X, y, w, b), f"{offset}")
        x = _at_offset(x0, offset)
        close_all(step(x, t, W, bk), softmax_step(x, t, W, bk), what=f"softmax {offset}")
    assert_dense(logistic_step.lower(X, y, w, b), "exp")
    assert_dense(step.lower(x, t, W, bk), "exp")


# ----------------------------------------------------------------------------- 5. threads
def test_thread_counts_agree(monkeypatch):
    """LAZYARR_NUM_THREADS is read when a function compiles: one fresh jit per count."""
    cases = [problem(600, 784, 10, np.float32, seed=7), problem(1001, 50, 7, np.float64, seed=8)]
    results = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("LAZYARR_NUM_THREADS", threads)
        jitted = xp.jit(lambda x, t, W, b: softmax_step(x, t, W, b, xp))
        results[threads] = [jitted(*args) for args in cases]
        for args, got in zip(cases, results[threads]):
            close_all(got, softmax_step(*args), what=f"{threads} threads")
        assert_dense(jitted.lower(*cases[0]), "exp")
    for one, two in zip(results["1"], results["2"]):
        close_all(one, [np.asarray(r) for r in two], what="1 vs 2 threads")


# ----------------------------------------------------------------------------- 6. outside
def test_values_read_outside_the_kernel():
    """The logits and the probabilities are results too: the kernel stores them."""

    def f(x, t, W, b, mod=xp):
        logits = x @ W + b
        e = mod.exp(logits - mod.max(logits, axis=1, keepdims=True))
        p = e / mod.sum(e, axis=1, keepdims=True)
        g = (p - t) / x.shape[0]
        return W - LR * (x.T @ g), b - LR * mod.sum(g, axis=0), p, logits

    jitted = xp.jit(f)
    for shape in ((37, 13, 3), (200, 64, 10)):
        for dtype in FLOATS:
            args = problem(*shape, dtype, seed=9)
            close_all(jitted(*args), f(*args, mod=np), what=f"{shape} {np.dtype(dtype)}")
    assert_dense(jitted.lower(*args), "exp")


def test_x_read_elsewhere_too():
    """``X`` also feeds a sum and an elementwise result outside the kernel."""

    def f(x, t, W, b, mod=xp):
        W1, b1 = softmax_step(x, t, W, b, mod)
        return W1, b1, mod.sum(x), x * 2 + 1

    jitted = xp.jit(f)
    args = problem(150, 40, 5, np.float64, seed=10)
    close_all(jitted(*args), f(*args, mod=np))
    assert_dense(jitted.lower(*args), "exp")


def test_loss_and_gradient_step_together():
    """The mean loss (a full sum of the row region) next to the update."""

    def f(x, t, W, b, mod=xp):
        z = x @ W + b
        m = mod.max(z, axis=1, keepdims=True)
        s = mod.sum(mod.exp(z - m), axis=1, keepdims=True)
        loss = mod.mean(mod.sum(t * (m + mod.log(s) - z), axis=1))
        g = (mod.exp(z - m) / s - t) / x.shape[0]
        return W - LR * (x.T @ g), b - LR * mod.sum(g, axis=0), loss

    jitted = xp.jit(f)
    x, _, W, b = problem(90, 17, 4, np.float64, seed=11)
    t = np.eye(4)[np.random.default_rng(11).integers(0, 4, 90)]
    close_all(jitted(x, t, W, b), f(x, t, W, b, mod=np))
    assert_dense(jitted.lower(x, t, W, b), "exp")


# ----------------------------------------------------------------------------- 7. NaN, inf
def tanh_layer(x, W, mod=xp):
    """A layer whose row region keeps infinities finite (tanh) and NaN as NaN."""
    return W - 0.1 * (x.T @ mod.tanh(x @ W)), mod.sum(mod.tanh(x @ W), axis=0)


tanh_step = xp.jit(tanh_layer)


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("special", ["nan", "inf", "-inf", "nan-row", "inf-and-zero-weight"])
def test_nan_and_inf_propagate_like_numpy(special, dtype):
    rng = np.random.default_rng(12)
    n, d, k = 23, 9, 4
    x = rng.standard_normal((n, d)).astype(dtype)
    t = rng.random((n, k)).astype(dtype)
    W = (0.1 * rng.standard_normal((d, k))).astype(dtype)
    b = np.zeros(k, dtype)
    if special == "nan-row":
        x[5] = np.nan
    elif special == "inf-and-zero-weight":
        x[3, 2] = np.inf  # inf * 0 = NaN in column 1 of row 3's products
        W[2, 1] = 0
    else:
        x[7, 4] = float(special)
    expected = tanh_layer(x, W, mod=np)
    close_all(tanh_step(x, W), expected, what=special)
    close_all(step(x, t, W, b), softmax_step(x, t, W, b), what=special)
    if special in ("inf", "-inf"):  # an infinite input only reaches its own column
        assert np.isfinite(np.delete(expected[0], 4, axis=0)).all()


def test_tanh_layer_is_claimed():
    x, _, W, _ = problem(30, 8, 3, np.float64, seed=13)
    close_all(tanh_step(x, W), tanh_layer(x, W, mod=np))
    assert_dense(tanh_step.lower(x, W), "tanh")


# ----------------------------------------------------------------------------- 8. property
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 40),
    d=st.integers(1, 40),
    k=st.integers(1, 12),
    dtype=st.sampled_from(FLOATS),
    layout=st.sampled_from(["c", "fortran", "reversed"]),
    seed=st.integers(0, 2**16),
)
def test_softmax_step_property(n, d, k, dtype, layout, seed):
    x, t, W, b = problem(n, d, k, dtype, seed)
    if layout == "fortran":
        x = np.asfortranarray(x)
    elif layout == "reversed":
        x = np.ascontiguousarray(x[::-1])[::-1]
    close_all(step(x, t, W, b), softmax_step(x, t, W, b), what=f"{(n, d, k)} {layout}")


# ----------------------------------------------------------------------------- 9. unclaimed
def test_integer_x_is_not_claimed():
    def f(x, y, W, mod=xp):
        return W - 2 * (x.T @ (x @ W - y))

    rng = np.random.default_rng(14)
    x = rng.integers(-5, 5, (20, 6))
    y = rng.integers(-5, 5, (20, 3))
    W = rng.integers(-5, 5, (6, 3))
    jitted = xp.jit(f)
    got, expected = np.asarray(jitted(x, y, W)), f(x, y, W, mod=np)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    assert_not_dense(jitted.lower(x, y, W))


def test_prediction_with_a_softmax_is_claimed():
    """``X @ W`` with no ``X.T @ R``: a classifier's prediction, its rows reduced."""

    def f(x, W, b, mod=xp):
        logits = x @ W + b
        e = mod.exp(logits - mod.max(logits, axis=1, keepdims=True))
        p = e / mod.sum(e, axis=1, keepdims=True)
        return p, mod.sum(p * p, axis=0), mod.mean(logits)

    jitted = xp.jit(f)
    for n, d, k, dtype in [
        (40, 12, 5, np.float64),
        (601, 784, 10, np.float32),
        (9, 3, 1, np.float32),
    ]:
        x, _, W, b = problem(n, d, k, dtype, seed=15)
        close_all(jitted(x, W, b), f(x, W, b, mod=np), f"{n}x{d}x{k}")
        assert_dense(jitted.lower(x, W, b), "gemm", "max", "exp", "sum")


def test_forward_product_without_row_reductions_is_left_to_blas():
    """``tanh(X @ W + b)``: BLAS and an elementwise kernel already do it in two passes
    over the small result."""

    def f(x, W, b, mod=xp):
        return mod.tanh(x @ W + b)

    x, _, W, b = problem(40, 12, 5, np.float64, seed=15)
    jitted = xp.jit(f)
    close(jitted(x, W, b), f(x, W, b, mod=np))
    assert_not_dense(jitted.lower(x, W, b))


def test_backward_product_not_reading_the_forward_one_is_not_claimed():
    """``X.T @ R`` with ``R`` independent of ``X @ W``, next to ``X @ W``."""

    def f(x, t, W, mod=xp):
        return x @ W, W - LR * (x.T @ mod.tanh(t))

    x, t, W, _ = problem(40, 12, 5, np.float64, seed=16)
    jitted = xp.jit(f)
    close_all(jitted(x, t, W), f(x, t, W, mod=np))
    assert_not_dense(jitted.lower(x, t, W))


def test_products_of_different_x_are_not_claimed():
    """The forward product reads ``x1``, the backward one ``x2`` (same shape)."""

    def f(x1, x2, W, mod=xp):
        return W - LR * (x2.T @ mod.tanh(x1 @ W))

    rng = np.random.default_rng(17)
    x1, x2 = rng.random((30, 8)), rng.random((30, 8))
    W = 0.1 * rng.standard_normal((8, 3))
    jitted = xp.jit(f)
    close(jitted(x1, x2, W), f(x1, x2, W, mod=np))
    assert_not_dense(jitted.lower(x1, x2, W))


# ----------------------------------------------------------------------------- the demo's step
def test_the_mnist_demos_training_step():
    """The demo's cost: the mean of ``-log p`` at integer labels, its gradient through
    ``value_and_grad``; the labels' reshape joins the kernel, the pick runs after it."""

    def nll(x, y, W, b):
        logits = x @ W + b
        e = xp.exp(logits - xp.max(logits, axis=1, keepdims=True))
        p = e / xp.sum(e, axis=1, keepdims=True)
        return -xp.mean(xp.log(p)[xp.arange(y.shape[0]), y])

    def train(x, y, W, b):
        cost, (gW, gb) = xp.value_and_grad(nll, argnums=(2, 3))(x, y, W, b)
        return W - LR * gW, b - LR * gb, cost

    x, _, W, b = problem(600, 784, 10, np.float32)
    y = np.random.default_rng(1).integers(0, 10, 600)
    f = xp.jit(train)
    assert_dense(f.lower(x, y, W, b), "gemm", "max", "exp", "sum")

    logits = x @ W + b
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    cost = -np.mean(np.log(p[np.arange(600), y]))
    dz = p.copy()
    dz[np.arange(600), y] -= 1
    dz /= np.float32(600)
    close_all(f(x, y, W, b), (W - LR * (x.T @ dz), b - LR * dz.sum(axis=0), cost), "demo")


def test_donated_weights_take_the_update():
    """``W`` donated: the new weights may go into its buffer, which the kernel reads
    (packed, and as ``C`` of the update) before it writes there."""
    x, t, W, b = problem(96, 40, 6, np.float64)
    expected = softmax_step(x, t, W, b)
    f = xp.jit(lambda x, t, W, b: softmax_step(x, t, W, b, xp), donate_argnames=("W",))
    assert_dense(f.lower(x, t, W, b))
    close_all(f(x, t, W.copy(), b), expected, "donated")


def test_states_updated_in_place():
    """A State's new weights go into its spare buffer: the step allocates no array of
    the weights' size per call."""
    x, t, W0, b0 = problem(64, 30, 4, np.float32)
    W, b = xp.State(W0.copy()), xp.State(b0.copy())

    @xp.jit
    def train(x, t):
        W.value, b.value = softmax_step(x, t, W.value, b.value, xp)

    expected_W, expected_b = W0, b0
    buffers = set()
    for _ in range(4):
        train(x, t)
        expected_W, expected_b = softmax_step(x, t, expected_W, expected_b)
        buffers.add(id(W._buffer))
    assert len(buffers) == 2
    close(W.value, expected_W)
    close(b.value, expected_b)


def test_wide_weights_are_left_to_blas():
    """Beyond ``K_MAX`` columns BLAS's blocked GEMM is faster: not claimed."""
    x, t, W, b = problem(40, 12, K_MAX + 1, np.float32)
    assert_not_dense(step.lower(x, t, W, b))
    close_all(step(x, t, W, b), softmax_step(x, t, W, b), "wide")


# ----------------------------------------------------------------------------- other regions
REGIONS = {
    "least squares, vector": lambda m, X, W, Y: W[:, 0] - 0.01 * (X.T @ (X @ W[:, 0] - Y[:, 0])),
    "least squares, matrix, with the loss": lambda m, X, W, Y: (
        W - 0.01 * (X.T @ (X @ W - Y)),
        m.mean((X @ W - Y) ** 2),
    ),
    "row sum times a clipped product": lambda m, X, W, Y: (
        X.T @ (m.maximum(X @ W, 0) * m.sum(X @ W, axis=1, keepdims=True))
    ),
    "column sums kept, row min": lambda m, X, W, Y: (
        X.T @ m.exp(-(X @ W)),
        m.sum(m.exp(-(X @ W)), axis=0, keepdims=True),
        m.min(X @ W, axis=1),
    ),
    "prediction: row min and row sums": lambda m, X, W, Y: (
        m.min(X @ W, axis=1) + m.sum(X @ W * Y, axis=1)
    ),
    "scaled, added to W": lambda m, X, W, Y: (-2.0 * (X.T @ (Y - X @ W))) + W,
}


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("region", REGIONS, ids=str)
def test_other_regions(region, dtype):
    """Least squares, losses, row and column reductions of every kind the kernel takes."""
    f = REGIONS[region]
    rng = np.random.default_rng(21)
    X = rng.standard_normal((123, 45)).astype(dtype)
    W = (0.1 * rng.standard_normal((45, 7))).astype(dtype)
    Y = rng.standard_normal((123, 7)).astype(dtype)
    jitted = xp.jit(lambda X, W, Y: f(xp, X, W, Y))
    got, expected = jitted(X, W, Y), f(np, X, W, Y)
    if not isinstance(expected, tuple):
        got, expected = (got,), (expected,)
    close_all(got, expected, region)
    assert_dense(jitted.lower(X, W, Y))


# ----------------------------------------------------------------------------- the tail
def backends(lowered) -> set[str]:
    return {backend for _, backend in lines(lowered)}


@pytest.mark.parametrize("shape", [(400, 784), (33, 5), (17, 1)], ids=str)
def test_logistic_step_is_one_kernel(shape):
    """The weight update, the bias update and the cost after the rows (with the penalty
    ``sum(w**2)``, computed from ``w`` alone) run in the kernel, and ``w`` is read as
    the vector it is: the whole step is one call."""
    rng = np.random.default_rng(31)
    X = rng.standard_normal(shape)
    y = rng.integers(0, 2, shape[0]).astype(np.float64)
    w, b = 0.05 * rng.standard_normal(shape[1]), np.float64(-0.2)
    lowered = logistic_step.lower(X, y, w, b)
    assert len(backends(lowered)) == 1, lowered.as_text()
    assert_dense(lowered, "exp", "log1p", "subtract", "sum")
    close_all(logistic_step(X, y, w, b), numpy_logistic_step(X, y, w, b), what=f"{shape}")


def decayed_step(x, t, W, b, mod=np):
    """Softmax regression with weight decay, returning the loss with its penalty."""
    logits = x @ W + b
    m = mod.max(logits, axis=1, keepdims=True)
    e = mod.exp(logits - m)
    s = mod.sum(e, axis=1, keepdims=True)
    g = (e / s - t) / x.shape[0]
    loss = mod.mean(mod.log(s) + m - mod.sum(t * logits, axis=1, keepdims=True))
    penalty = 0.5 * mod.sum(W * W)
    W1 = W - LR * (x.T @ g + 0.01 * W)
    return W1, b - LR * mod.sum(g, axis=0), loss + 0.01 * penalty, mod.max(W1 * 0.5)


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(600, 784, 10), (37, 13, 3), (5, 1, 1)], ids=str)
def test_update_and_loss_after_the_rows(shape, dtype):
    """``k`` columns: the update's elements and the penalty's sum in one loop after the
    parts, the loss from the kernel's sum before it, and what the tail cannot take
    (a max of the new weights) left to another kernel, reading the stored update."""
    args = problem(*shape, dtype, seed=32)
    jitted = xp.jit(lambda x, t, W, b: decayed_step(x, t, W, b, xp))
    close_all(jitted(*args), decayed_step(*args), what=f"{shape}")
    lowered = jitted.lower(*args)
    assert_dense(lowered, "exp", "log", "sum", "add")
    text = lowered.as_text()
    (full_max,) = [line for line in text.splitlines() if "= max(" in line and "[] [" in line]
    assert "lz_dense" not in full_max, text


@pytest.mark.parametrize("threads", ["1", "2"])
def test_single_values_before_and_after_the_loop(threads, monkeypatch):
    """A scale computed from the kernel's sums is read by every element of the update
    (before the loop); a norm of the update is a sum in the loop and a value after it;
    an update divided by that norm needs it before the loop: not in the tail."""
    monkeypatch.setenv("LAZYARR_NUM_THREADS", threads)

    def f(X, W, Y, mod=np):
        r = X @ W - Y
        loss = mod.mean(mod.sum(r * r, axis=1))
        g = X.T @ r
        W1 = W - (0.01 / (1 + loss)) * g
        norm = mod.sqrt(mod.sum(W1 * W1))
        return W1, norm, W - g / mod.sqrt(mod.sum(g * g)), loss * 2

    rng = np.random.default_rng(33)
    X, W, Y = rng.standard_normal((300, 20)), rng.standard_normal((20, 3)), rng.random((300, 3))
    jitted = xp.jit(lambda X, W, Y: f(X, W, Y, xp))
    close_all(jitted(X, W, Y), f(X, W, Y))
    assert_dense(jitted.lower(X, W, Y), "sqrt", "divide")


def test_forward_loss_with_a_penalty_on_the_weights():
    """No ``X.T @ R``: the penalty's elements and sum still run after the rows."""

    def loss(x, t, W, b, mod=np):
        logits = x @ W + b
        m = mod.max(logits, axis=1, keepdims=True)
        lse = mod.log(mod.sum(mod.exp(logits - m), axis=1, keepdims=True)) + m
        return mod.mean(lse - mod.sum(t * logits, axis=1, keepdims=True)) + mod.sum(W**2)

    args = problem(90, 17, 4, np.float64, seed=34)
    jitted = xp.jit(lambda *a: loss(*a, mod=xp))
    close(jitted(*args), loss(*args))
    lowered = jitted.lower(*args)
    assert len(backends(lowered)) == 1, lowered.as_text()


def test_donated_vector_takes_the_update():
    """``w`` donated: the update is written into its buffer after the kernel's last
    read of each element."""
    rng = np.random.default_rng(35)
    X, y = rng.standard_normal((64, 30)), rng.integers(0, 2, 64).astype(np.float64)
    w, b = rng.standard_normal(30), np.float64(0.3)
    expected = numpy_logistic_step(X, y, w, b)

    def step(X, y, w, b):
        c, (gw, gb) = xp.value_and_grad(logistic_cost, argnums=(0, 1))(w, b, X, y)
        return w - 0.1 * gw, b - 0.1 * gb, c

    f = xp.jit(step, donate_argnames=("w",))
    given = w.copy()
    got = f(X, y, given, b)
    close_all(got, expected, "donated")
    assert len(backends(f.lower(X, y, w, b))) == 1
