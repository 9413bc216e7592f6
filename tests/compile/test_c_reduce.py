"""Row kernels: reductions over the last axis chained with the work that reads them.

Sums add in NumPy's pairwise order inside a row kernel too, so with exactly rounded
ops (subtraction, division, max) the results equal NumPy's bit for bit. With exp (ours
within 1 ulp of the true value, NumPy's within 2.5 for float32 and 4 for float64) a
sum of positive terms and a quotient each stay within the terms' relative error: 8 ulps
for a sum of exps or a log of it, twice that for a softmax, as in test_c_backend.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lazyarr as xp
from lazyarr.compile import c_backend, c_reduce
from tests.compile.test_c_backend import ULPS, check, eager, kernels_of

pytestmark = [
    pytest.mark.usefixtures("private_cache_dir"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]

if c_backend.compiler() is None:
    pytest.skip("no C compiler: jitted functions run on NumPy alone", allow_module_level=True)


def logsumexp(x):
    m = xp.max(x, axis=-1, keepdims=True)
    return xp.log(xp.sum(xp.exp(x - m), axis=-1, keepdims=True)) + m


def softmax(x):
    m = xp.max(x, axis=-1, keepdims=True)
    e = xp.exp(x - m)
    return e / xp.sum(e, axis=-1, keepdims=True)


def centered(x):
    """Exact ops only: a map over the rows after two chained reductions."""
    m = xp.max(x, axis=-1, keepdims=True)
    return (x - m) / xp.sum(x - m, axis=-1, keepdims=True)


def spread(x):
    """Exact ops only: three reductions, one value per row, no keepdims."""
    m = xp.max(x, axis=-1, keepdims=True)
    return xp.sum(x - m, axis=-1) * 2 + xp.min(x, axis=-1)


EXACT = (centered, spread)
JITTED = {f: xp.jit(f, exclude_rewrites="stabilize") for f in (logsumexp, softmax, *EXACT)}


@st.composite
def matrices(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rows = draw(st.integers(0, 5))
    n = draw(st.sampled_from([1, 2, 7, 8, 9, 127, 128, 129, 300, 1000]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((rows, n)) * draw(st.sampled_from([1, 30, 1e30]))).astype(dtype)
    specials = ["none", "nan", "inf", "-inf row", "nan row"] if rows else ["none"]
    special = draw(st.sampled_from(specials))
    if special == "nan":
        x[0, n // 2] = np.nan
    elif special == "inf":
        x[-1, 0] = np.inf
    elif special == "-inf row":
        x[0] = -np.inf
    elif special == "nan row":
        x[-1] = np.nan
    layout = draw(st.sampled_from(["contiguous", "reversed", "strided", "transposed", "3-d"]))
    if layout == "reversed":
        x = x[::-1, ::-1]
    elif layout == "strided":
        x = np.repeat(x, 2, axis=1)[:, ::2]
    elif layout == "transposed":
        x = np.asfortranarray(x)
    elif layout == "3-d":
        x = np.stack([x, x[::-1]])
    return x


@settings(max_examples=60, deadline=None)
@given(matrices())
def test_row_kernels_match_numpy(x):
    """The oracle reads a C-contiguous copy: the kernels sum each row pairwise whatever
    the layout, where NumPy sums a Fortran-ordered temporary (``x - m`` of a
    Fortran-ordered ``x``) along its rows one element after another."""
    for f, jitted in JITTED.items():
        if f is logsumexp:
            _check_logsumexp(jitted(x), eager(f, np.ascontiguousarray(x)), x)
            continue
        tolerance = 0 if f in EXACT else 2 * ULPS if f is softmax else ULPS
        check(jitted(x), eager(f, np.ascontiguousarray(x)), tolerance, f.__name__)


def _check_logsumexp(got, want, x):
    """``m + log(s)`` cancels where the two terms nearly cancel (rows around -0.5), so a
    last-bit difference in ``exp`` or ``log`` is many ulps of the result: the bound is
    ULPS ulps of the terms, not of their sum. Non-finite results must be equal."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite], want[~finite])
    m = np.max(x, axis=-1, keepdims=True).astype(np.float64)
    scale = np.abs(m) + np.abs(want - m)
    bound = ULPS * np.finfo(x.dtype).eps * scale
    assert (np.abs(got - want)[finite] <= bound[finite]).all(), (got, want)


@pytest.mark.parametrize("shape", [(3, 0), (0, 5), (0, 0), (2, 0, 4)])
def test_empty_rows_and_no_rows(shape):
    """Chains need at least one element per row; sums of empty rows are 0 either way."""

    def f(x):
        return xp.sum(x * xp.sum(x, axis=-1, keepdims=True), axis=-1)

    x = np.ones(shape)
    check(xp.jit(f)(x), eager(f, x))
    if shape[-1]:
        check(JITTED[logsumexp](x), eager(logsumexp, x))


def test_a_reduction_of_values_kept_per_row():
    """Rows of one element: the max's value per row is itself a row the sum reduces."""

    def f(x):
        m = xp.max(x, axis=-1, keepdims=True)
        return xp.sum(m, axis=-1, keepdims=True) + xp.sum(x - m, axis=-1, keepdims=True)

    x = np.random.default_rng(6).standard_normal((5, 1)).astype(np.float32)
    jitted = xp.jit(f)
    assert len(kernels_of(jitted.lower(x))) == 1
    check(jitted(x), eager(f, x))


def test_logsumexp_and_softmax_are_one_row_kernel_each():
    """logsumexp: the max, the sum of exps and the log per row. softmax: the max, the
    exps (kept in a row buffer) and their sum, the quotients."""
    x = np.random.default_rng(0).standard_normal((50, 200)).astype(np.float32)
    (ops,) = kernels_of(JITTED[logsumexp].lower(x)).values()
    assert sorted(ops) == ["add", "exp", "log", "max", "subtract", "sum"]
    (ops,) = kernels_of(JITTED[softmax].lower(x)).values()
    assert ops == ["max", "subtract", "exp", "sum", "divide"]


def test_elementwise_work_read_outside_the_chain_is_stored_by_its_own_kernel():
    """The exps are returned too: their kernel stores them; the sum and the division
    read them."""

    def f(x):
        m = xp.max(x, axis=1, keepdims=True)
        e = xp.exp(x - m)
        return e / xp.sum(e, axis=1, keepdims=True), e

    x = np.random.default_rng(5).standard_normal((20, 300))
    jitted = xp.jit(f, exclude_rewrites="stabilize")
    kernels = sorted(kernels_of(jitted.lower(x)).values())
    assert kernels == [["max", "subtract", "exp"], ["sum", "divide"]]
    for got, expected in zip(jitted(x), eager(f, x)):
        check(got, expected, 2 * ULPS)


def sum_of_exps(x):
    m = xp.max(x, axis=-1, keepdims=True)
    return xp.sum(xp.exp(x - m), axis=-1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_kernels_are_bit_identical_to_separate_kernels(monkeypatch, dtype):
    """Not logsumexp: its log runs once per row in the row kernel (libm's scalar log)
    and in a vectorized loop alone (libmvec's), which may differ by an ulp."""
    x = (np.random.default_rng(2).standard_normal((64, 513)) * 10).astype(dtype)
    x[3] = -np.inf
    functions = (softmax, sum_of_exps, *EXACT)
    chained = {f: np.asarray(xp.jit(f)(x)) for f in functions}
    monkeypatch.setattr(c_reduce, "row_chains", lambda *args: [])
    for f, got in chained.items():
        jitted = xp.jit(f)
        assert len(kernels_of(jitted.lower(x))) > 1
        np.testing.assert_array_equal(got, np.asarray(jitted(x)), err_msg=f.__name__)


def test_only_sums_of_inexact_values_leave_numpys_order():
    """A sum of exps adds in registers (``_registers``), prefetching the next row in a
    row kernel; a sum of exactly rounded values keeps NumPy's pairwise order."""
    x = np.ones((4, 100), np.float32)
    assert "registers_" in xp.jit(lambda x: xp.sum(xp.exp(x), axis=-1)).lower(x).source()
    assert "__builtin_prefetch" in JITTED[logsumexp].lower(x).source()
    for f in (lambda x: xp.sum(x * 2 + 1, axis=-1), lambda x: xp.sum(x**2, axis=-1), *EXACT):
        assert "registers_" not in xp.jit(f).lower(x).source()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 15, 16, 17, 1000, 1024, 1025, 3001, 4097, 16384])
def test_sums_in_registers_are_within_a_few_ulps_of_the_exact_sum(dtype, n):
    """Alone and in a row kernel, contiguous and strided (the same order, so the same
    bits): within 2 ulps x log2(n) of the exact sum (``math.fsum``) of the same exps."""
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((6, n)) * 3).astype(dtype)
    x[0] = np.linspace(-20, 20, n, dtype=dtype)  # a few large values, many small ones
    for f, values in [
        (lambda x: xp.sum(xp.exp(x), axis=-1), xp.exp),
        (sum_of_exps, lambda x: xp.exp(x - xp.max(x, axis=-1, keepdims=True))),
    ]:
        e = np.asarray(xp.jit(values)(x)).astype(np.float64)
        exact = np.array([math.fsum(row) for row in e])
        got = np.asarray(xp.jit(f)(x)).astype(np.float64)
        ulp = np.spacing(exact.astype(dtype)).astype(np.float64)
        assert np.all(np.abs(got - exact) <= 2 * max(1, math.log2(n)) * ulp)
        strided = np.asarray(xp.jit(f)(np.repeat(x, 2, axis=1)[:, ::2]))
        np.testing.assert_array_equal(strided, got.astype(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sums_in_registers_propagate_nan_and_inf_as_numpy(dtype):
    """inf - inf, rows of -inf (all exps 0 after a -inf max: NaN), NaN rows, overflow."""
    x = np.random.default_rng(5).standard_normal((6, 1000)).astype(dtype)
    x[0, 7] = np.inf
    x[1] = -np.inf
    x[2] = np.nan
    x[3, 999] = np.nan
    x[4, :2] = [np.inf, -np.inf]
    x[5, 500] = 1e4  # exp overflows: inf
    for f in (logsumexp, sum_of_exps, lambda x: xp.sum(xp.exp(x), axis=-1)):
        got = np.asarray(xp.jit(f)(x))
        check(got, eager(f, x), ULPS)
        expected = np.asarray(eager(f, x))
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
        np.testing.assert_array_equal(np.isposinf(got), np.isposinf(expected))


def test_a_reduction_read_outside_the_chain_stays_its_own_kernel():
    """The max is also returned: it is stored, so the sum of exps does not take it in."""

    def f(x):
        m = xp.max(x, axis=1, keepdims=True)
        return xp.sum(xp.exp(x - m), axis=1), m

    x = np.random.default_rng(3).standard_normal((20, 30))
    jitted = xp.jit(f)
    assert len(kernels_of(jitted.lower(x))) == 2
    for got, expected in zip(jitted(x), eager(f, x)):
        check(got, expected, ULPS)


def test_rows_longer_than_the_cache_are_not_chained():
    x = np.random.default_rng(4).standard_normal((2, c_reduce.ROW_MAX + 1))
    jitted = xp.jit(centered)
    kernels = sorted(kernels_of(jitted.lower(x)).values())
    assert kernels == [["divide"], ["max"], ["subtract"], ["sum"]]
    check(jitted(x), eager(centered, x))


def test_a_row_constant_read_without_keepdims_is_not_taken_along_the_rows():
    """``sum(x, axis=1)`` of shape (n,) added to an (n, n) matrix broadcasts along the
    columns, not the rows: the sum is no per-row value of the second reduction."""

    def f(x):
        return xp.sum(x + xp.sum(x, axis=1), axis=1)

    x = np.arange(16.0).reshape(4, 4)
    check(xp.jit(f)(x), eager(f, x))


# ------------------------------------------------------------ reductions over axes apart
# Non-adjacent axis tuples (rewrites.split_reduced_axes nests them, the innermost first).
APART = {3: [(0, 2)], 4: [(0, 2), (1, 3), (0, 3), (0, 1, 3), (0, 2, 3)]}
APART_DTYPES = [np.float32, np.float64, np.int8, np.int64, np.bool_]
APART_OPS = ("sum", "prod", "max", "min", "any", "all", "mean", "sum_dtype")


def _factors(x, where):
    """Moderate factors for a float product: up to 343 of them stay in range in any order."""
    return where(x < 0, 0.9, where(x > 0, 1.1, x + 1.0))


def _reduction(op, axis, keepdims, dtype, ns):
    """``op`` over ``axis`` in namespace ``ns`` (lazyarr or NumPy)."""

    def f(x):
        if op == "mean":
            return ns.mean(x, axis=axis, keepdims=keepdims)
        if op == "sum_dtype":  # a dtype argument: int16 sums wrap in int16, as NumPy's
            to = ns.int16 if dtype.kind == "i" else dtype if dtype.kind == "f" else None
            return ns.sum(x, axis=axis, keepdims=keepdims, dtype=to)
        if op == "prod" and dtype.kind == "f":
            x = _factors(x, ns.where)
            if ns is np:
                x = x.astype(dtype)
        return getattr(ns, op)(x, axis=axis, keepdims=keepdims)

    return f


def _check_rounded(got, want, bound, what):
    """Floats added or multiplied in another order: NaN and infinities where NumPy has
    them, finite values within ``bound`` (an array, broadcast)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, what
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=what)
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite], want[~finite], err_msg=what)
    error = np.abs(got.astype(np.float64) - want.astype(np.float64))
    bound = np.broadcast_to(bound, want.shape)
    assert (error[finite] <= bound[finite]).all(), (what, got, want)


@st.composite
def apart_cases(draw):
    ndim = draw(st.sampled_from([3, 4]))
    axis = draw(st.sampled_from(APART[ndim]))
    axis = tuple(a - ndim if draw(st.booleans()) else a for a in axis)  # negative too
    shape = tuple(draw(st.sampled_from([0, 1, 1, 2, 3, 7])) for _ in range(ndim))
    dtype = np.dtype(draw(st.sampled_from(APART_DTYPES)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    layout = draw(st.sampled_from(["contiguous", "transposed", "strided", "reversed"]))
    made = shape[::-1] if layout == "transposed" else shape
    if layout == "strided":
        made = (*shape[:-1], 2 * shape[-1])
    if dtype.kind == "f":
        x = (rng.standard_normal(made) * draw(st.sampled_from([1, 1e3]))).astype(dtype)
        x[rng.random(made) < 0.2] = 0.0
        if x.size and draw(st.booleans()):
            specials = [np.nan, np.inf, -np.inf, -0.0]
            flat = x.reshape(-1)
            for k in rng.integers(0, x.size, draw(st.integers(1, 3))):
                flat[k] = specials[rng.integers(len(specials))]
    elif dtype.kind == "i":
        x = rng.integers(-100, 100, made).astype(dtype)
        x[rng.random(made) < 0.2] = 0
    else:
        x = rng.random(made) < draw(st.sampled_from([0.1, 0.5, 0.9]))
    if layout == "transposed":
        x = x.transpose(tuple(reversed(range(ndim))))
    elif layout == "strided":
        x = x[..., ::2]
    elif layout == "reversed":
        x = x[::-1, ..., ::-1]
    op = draw(st.sampled_from([op for op in APART_OPS if op != "mean" or dtype.kind == "f"]))
    return x, op, axis, draw(st.booleans())


def _compiled(op: str, dtype: np.dtype) -> bool:
    """Whether the C backend compiles ``op`` of ``dtype`` over one axis."""
    return dtype.kind != "b" or op in ("any", "all")


@settings(max_examples=25, deadline=None)
@given(apart_cases())
def test_reductions_over_axes_apart_match_numpy_and_run_compiled(case):
    """One reduction over one axis after another, each a compiled kernel. Integers,
    booleans, max, min, any and all to the bit; float sums, means and products within
    the rounding of adding (multiplying) in another order: NumPy adds rows of the
    innermost axis pairwise and the rest in sequence, as the nested kernels do where the
    last axis is reduced. Max and min of a size-0 axis raise, as in NumPy."""
    x, op, axis, keepdims = case
    jitted = xp.jit(_reduction(op, axis, keepdims, x.dtype, xp))
    if op in ("max", "min") and any(x.shape[a] == 0 for a in axis):
        with pytest.raises(ValueError):
            jitted(x)
        return
    text = jitted.lower(x).as_text()
    reductions = [
        line for line in text.splitlines() if re.search(r"= (sum|prod|max|min|any|all)\(", line)
    ]
    if _compiled(op, x.dtype):
        assert reductions, text
        assert all(re.search(r"axes=\(\d+,\).*\[c lz_", line) for line in reductions), text
    got = jitted(x)
    want = _reduction(op, axis, keepdims, x.dtype, np)(x)
    if x.dtype.kind != "f" or op in ("max", "min", "any", "all"):
        check(got, want, 0, op)
        return
    count = math.prod(x.shape[a] for a in axis)
    eps = np.finfo(x.dtype).eps
    if op == "prod":
        _check_rounded(got, want, 2 * count * eps * np.abs(want), op)
        return
    with np.errstate(invalid="ignore", over="ignore"):
        magnitude = np.sum(np.abs(x.astype(np.float64)), axis=axis, keepdims=keepdims)
    bound = 2 * count * eps * magnitude / (count if op == "mean" else 1)
    _check_rounded(got, want, bound + np.finfo(x.dtype).tiny, op)
