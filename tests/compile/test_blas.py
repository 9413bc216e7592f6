"""``alpha * (A @ B) + beta * C`` as one BLAS GEMM, and matrix-vector products through
BLAS without copies: differential against NumPy."""

from __future__ import annotations

import io
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lazyarr as xp
from lazyarr.compile import blas
from tests.compile.test_rewrites import ops_of, rules_fired

pytestmark = pytest.mark.usefixtures("private_cache_dir")
VIEWS = ("permute_dims", "slice")


def _layout(rng, shape, dtype, how):
    """An operand of ``shape`` passed as an input, and what the function does to it: as
    it is, transposed in the function, strided in the function (rows and columns) or as
    passed (columns), Fortran-ordered."""
    if how == "T":
        return rng.standard_normal(shape[::-1]).astype(dtype), lambda v: v.T
    if how == "strided":
        big = rng.standard_normal((2 * shape[0] + 1, 3 * shape[1] + 1)).astype(dtype)
        return big, lambda v: v[1::2, ::3][: shape[0], : shape[1]]
    value = rng.standard_normal(shape).astype(dtype)
    if how == "F":
        value = np.asfortranarray(value)
    elif how == "input-strided":
        value = np.repeat(value, 2, axis=1)[:, ::2]
    return value, lambda v: v


SHAPES = st.integers(0, 6) | st.sampled_from([1, 17, 33])
C_SHAPES = (None, "mn", "n", "m1", "1n", "", "11")
HOWS = ("c", "T", "strided", "F", "input-strided")


@given(
    m=SHAPES,
    n=SHAPES,
    k=SHAPES,
    dtype=st.sampled_from([np.float32, np.float64]),
    how_a=st.sampled_from(HOWS),
    how_b=st.sampled_from(HOWS),
    c_shape=st.sampled_from(C_SHAPES),
    alpha=st.sampled_from([1.0, 2.5, -1.0, -0.375, 0.0]),
    beta=st.sampled_from([1.0, -2.0, 0.5, 0.0]),
    seed=st.integers(0, 2**16),
)
def test_gemm_equals_numpy(m, n, k, dtype, how_a, how_b, c_shape, alpha, beta, seed):
    rng = np.random.default_rng(seed)
    a, view_a = _layout(rng, (m, k), dtype, how_a)
    b, view_b = _layout(rng, (k, n), dtype, how_b)
    dims = {"m": m, "n": n, "1": 1}
    shape = None if c_shape is None else [dims[d] for d in c_shape]
    c = None if shape is None else np.asarray(rng.standard_normal(shape), dtype)

    def f(a, b, *c):
        p = alpha * (view_a(a) @ view_b(b))
        return p + beta * c[0] if c else p

    args = (a, b) if c is None else (a, b, c)
    lowered = xp.jit(f).lower(*args)
    got = np.asarray(xp.jit(f)(*args))
    x, y = view_a(a), view_b(b)
    want = f(*args)
    assert got.dtype == want.dtype == dtype and got.shape == want.shape
    eps = np.finfo(dtype).eps
    bound = abs(alpha) * (np.abs(x) @ np.abs(y)) + (abs(beta) * np.abs(c) if c is not None else 0)
    assert np.all(np.abs(got - want) <= bound * eps * (k + 3)), (lowered.as_text(), got, want)
    if alpha != 0 and (beta != 0 if c is not None else alpha != 1):
        assert [op for op in ops_of(lowered) if op not in VIEWS] == ["gemm"], lowered.as_text()


def test_the_expression_is_one_gemm_step():
    rng = np.random.default_rng(1)
    a, b, c = rng.standard_normal((6, 4)), rng.standard_normal((5, 6)), rng.standard_normal(5)
    lowered = xp.jit(lambda a, b, c: 0.5 * (a.T @ b.T) - 2.0 * c).lower(a, b, c)
    assert ops_of(lowered) == ["permute_dims", "permute_dims", "gemm"]
    assert "alpha=0.5, beta=-2.0" in lowered.as_text()
    for f in (
        lambda a, b, c: a.T @ b.T + c,
        lambda a, b, c: c - a.T @ b.T,
        lambda a, b, c: (a.T @ b.T) * 3.0 + c * 0.25,
        lambda a, b, c: -(a.T @ b.T),
        lambda a, b, c: 2.0 * (3.0 * (a.T @ b.T)) + c,
    ):
        ops = ops_of(xp.jit(f).lower(a, b, c))
        assert ops.count("gemm") == 1 and "matmul" not in ops
        np.testing.assert_allclose(np.asarray(xp.jit(f)(a, b, c)), f(a, b, c), rtol=1e-13)
    out = io.StringIO()
    xp.pprint(lambda a, b, c: a.T @ b.T + c, a, b, c, file=out)
    assert out.getvalue() == "gemm(a.T, b.T, c, alpha=1.0, beta=1.0)\n"


def test_the_rule_declines_ints_complex_batches_vectors_and_shared_products():
    rng = np.random.default_rng(2)
    ints = rng.integers(-5, 5, (4, 4))
    assert "gemm" not in rules_fired(lambda a: 2 * (a @ a) + a, ints)
    want = 2 * (ints @ ints) + ints
    np.testing.assert_array_equal(np.asarray(xp.jit(lambda a: 2 * (a @ a) + a)(ints)), want)
    z = ints + 1j * ints.T
    assert "gemm" not in rules_fired(lambda a: 2.0 * (a @ a) + a, z)
    batch = rng.standard_normal((2, 3, 3))
    assert not {"gemm", "gemm_scale"} & set(rules_fired(lambda a: 2.0 * (a @ a) + a, batch))
    x, v = rng.standard_normal((4, 3)), rng.standard_normal(3)
    assert "gemm" not in ops_of(xp.jit(lambda x, v: 2.0 * (x @ v) + 1.0).lower(x, v))

    def shared(a):  # the product is a result too: computed once, by matmul
        p = a @ a
        return p, 2.0 * p + a

    lowered = xp.jit(shared).lower(x[:3])
    assert "gemm" not in ops_of(lowered) and ops_of(lowered).count("matmul") == 1
    assert ops_of(xp.jit(lambda a: a @ a + a @ a).lower(x[:3])) == ["matmul", "add"]
    mixed = rng.standard_normal((3, 3)).astype(np.float32)
    assert "gemm" not in rules_fired(lambda a, c: a @ a + c, mixed, x[:3])  # float64 c


def test_zero_factors_keep_numpys_nan_and_infinity():
    """``0 * x`` is NaN where ``x`` is infinite; BLAS with a zero factor would not read
    ``x`` at all, so zero factors are left to the elementwise work."""
    a = np.array([[np.inf, 1.0], [2.0, 3.0]])
    c = np.array([[1.0, np.inf], [np.nan, 2.0]])
    for f in (lambda a, c: 0.0 * (a @ a) + c, lambda a, c: 2.0 * (a @ a) + 0.0 * c):
        with np.errstate(invalid="ignore"):
            want = f(a, c)
        np.testing.assert_array_equal(np.asarray(xp.jit(f)(a, c)), want)


def _peak(f, *args) -> int:
    f(*args)  # traced and compiled before measuring
    tracemalloc.start()
    try:
        f(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "f",
    [lambda x, v: x @ v, lambda x, v: x.T @ v, lambda x, v: v @ x, lambda x, v: v @ x.T],
    ids=["x @ v", "x.T @ v", "v @ x", "v @ x.T"],
)
def test_matrix_vector_products_reach_blas_without_a_transpose_copy(f):
    """NumPy's ``matmul`` calls BLAS's GEMV with the transpose flag for a transposed
    view: the program has no copy step, and no copy of ``x`` is allocated."""
    x, v = np.random.default_rng(3).standard_normal((1000, 1000)), np.ones(1000)
    lowered = xp.jit(f).lower(x, v)
    assert {op for op in ops_of(lowered) if op != "matmul"} <= {"permute_dims", "reshape"}
    assert " [c " not in lowered.as_text()
    assert _peak(xp.jit(f), x, v) < x.nbytes // 8
    np.testing.assert_allclose(np.asarray(xp.jit(f)(x, v)), f(x, v), rtol=1e-12)


def test_transposed_operands_are_read_in_place(monkeypatch):
    rng = np.random.default_rng(4)
    a, b, c = rng.standard_normal((600, 400)), rng.standard_normal((300, 600)), np.ones(300)
    f = xp.jit(lambda a, b, c: 2.0 * (a.T @ b.T) + c)
    assert _peak(f, a, b, c) < 400 * 300 * 8 + a.nbytes // 8  # the result, no copies
    read = []
    operand = blas._operand

    def spy(x):
        out = operand(x)
        read.append(out[0] is x)
        return out

    monkeypatch.setattr(blas, "_operand", spy)
    np.testing.assert_allclose(np.asarray(f(a, b, c)), 2.0 * (a.T @ b.T) + c, atol=1e-12)
    assert read == [True, True] or not blas.available()


def test_without_the_library_the_reference_runs(monkeypatch):
    monkeypatch.setattr(blas, "_LOADED", None)
    a = np.arange(6.0).reshape(2, 3)
    want = 2.0 * (a @ a.T) + 3.0
    np.testing.assert_array_equal(blas.gemm(a, a.T, np.ones(2), alpha=2.0, beta=3.0), want)


# ----------------------------------------------------------------------------- threads
needs_thread_control = pytest.mark.skipif(
    not blas.holds_threads(), reason="this OpenBLAS has no thread-local thread count"
)


@needs_thread_control
def test_hold_keeps_blas_on_the_calling_thread_until_release():
    held = blas.hold()
    try:
        assert blas.hold() == 1  # what the first hold set
    finally:
        blas.release(held)
    assert blas.hold() == held
    blas.release(held)


@needs_thread_control
@pytest.mark.parametrize("threads", ["2", "3"])
@pytest.mark.parametrize("how_a", ["C", "T"])
def test_large_products_split_into_row_panels(monkeypatch, threads, how_a):
    """Row panels on several threads, each calling BLAS alone, give NumPy's product
    (transposed ``a`` read in place: its panels are column ranges of the stored matrix)."""
    monkeypatch.setenv("LAZYARR_NUM_THREADS", threads)
    monkeypatch.setattr(blas, "PARALLEL_MIN", 1)
    rng = np.random.default_rng(3)
    a, view = _layout(rng, (203, 31), np.float64, how_a)
    a = view(a)
    b = rng.standard_normal((31, 7))
    c = rng.standard_normal(7)
    got = blas.gemm(a, b, c, alpha=0.5, beta=-2.0)
    np.testing.assert_allclose(got, 0.5 * (a @ b) - 2.0 * c, rtol=1e-12, atol=1e-12)


def test_a_program_mixing_blas_and_kernels_runs_blas_on_its_thread():
    """A product between elementwise kernels: BLAS is held to the calling thread while
    the program runs (its idle threads would spin on the kernels' cores), and the
    calling thread's own setting is back afterwards."""
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((300, 200)), rng.standard_normal((200, 50))
    f = xp.jit(lambda a, b: xp.tanh(xp.exp(a * 0.01) @ b) * 2.0)
    expected = np.tanh(np.exp(a * 0.01) @ b) * 2.0
    np.testing.assert_allclose(f(a, b), expected, rtol=1e-10, atol=1e-13)
    if blas.holds_threads():
        held = blas.hold()
        blas.release(held)
        f(a, b)
        assert blas.hold() == held
        blas.release(held)
