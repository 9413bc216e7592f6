"""Differential tests of matmul, tensordot, vecdot and matrix_transpose against NumPy.

Integer and boolean results must match NumPy exactly (wrapping arithmetic does not
depend on the order of the sums). Floating results match exactly where lazyarr
makes the same NumPy call on the same operands (``matmul`` of N-D operands, N >= 2).
Elsewhere lazyarr composes differently from NumPy -- a 1-D operand becomes a
(1, n) or (n, 1) matrix (GEMM where NumPy uses GEMV/DOT), operands are held in
their own memory layout, ``tensordot`` is a ``matmul`` where NumPy calls ``dot``,
``vecdot`` is a multiply and a ``sum`` where NumPy has a dedicated loop -- so the
order of the floating-point sums differs. There the results are checked against
the error bound of any summation order, ``|got - expected| <= c * k * eps * (|x1| . |x2|)``,
which is far tighter than a wrong result but cannot fail from rounding alone.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lazyarr as xp
from tests.helpers import (
    ALL,
    BOOL,
    COMPLEX,
    FLOAT,
    INTEGER,
    MORE_EXAMPLES,
    REAL_FLOAT,
    assert_matches,
    next_line,
    numpy_arrays,
    shapes,
)

EXACT = BOOL + INTEGER


def exact_pairs():
    """Pairs of boolean/integer dtypes whose promotion stays integral (NumPy and lazyarr)."""
    pairs = [(a, b) for a in EXACT for b in EXACT if np.result_type(a, b).kind in "biu"]
    return st.sampled_from(pairs)


def float_pairs():
    """Pairs of dtypes with a floating promotion, integer operands included."""
    pairs = [
        (a, b) for a in FLOAT + INTEGER[:3] for b in FLOAT if np.result_type(a, b).kind in "fc"
    ]
    return st.sampled_from(pairs + [(b, a) for a, b in pairs])


@st.composite
def bounded_arrays(draw, dtype: np.dtype, shape: tuple[int, ...]):
    """Arrays with |elements| <= 100 (no overflow, so every summation order is finite),
    in C, Fortran, strided or reversed layout."""
    if dtype.kind == "f":
        elements = st.floats(-100, 100, width=8 * dtype.itemsize)
    elif dtype.kind == "c":
        elements = st.complex_numbers(max_magnitude=100, width=8 * dtype.itemsize)
    else:
        return draw(numpy_arrays([dtype], shape=shape))
    layout = draw(st.sampled_from(["c", "f", "strided", "reversed"]))
    if layout == "strided" and shape:
        base = draw(hnp.arrays(dtype, tuple(2 * d for d in shape), elements=elements))
        return base[tuple(slice(None, None, 2) for _ in shape)]
    a = draw(hnp.arrays(dtype, shape, elements=elements))
    if layout == "f":
        return np.asfortranarray(a)
    if layout == "reversed" and shape:
        return np.ascontiguousarray(a[::-1])[::-1]
    return a


def assert_sum_of_products_close(actual, expected, bound, k: int):
    """``actual`` has ``expected``'s shape and dtype, and its values are within the
    rounding error bound of a length-``k`` sum of products whose magnitudes sum to ``bound``.
    """
    assert isinstance(actual, xp.Array)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"dtype {actual.dtype} != {expected.dtype}"
    got = np.asarray(actual)
    finfo = np.finfo(expected.dtype)
    tol = 4 * (k + 2) * float(finfo.eps) * bound + 4 * (k + 1) * float(finfo.smallest_subnormal)
    error = np.abs(got.astype(np.complex128) - expected.astype(np.complex128))
    assert np.isfinite(got).all()
    assert (error <= tol).all(), f"error {error.max()} exceeds the rounding bound {tol.max()}"


def magnitudes(a: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.complex128 if a.dtype.kind == "c" else np.float64))


# ----------------------------------------------------------------------------- matmul
matmul_shapes = hnp.mutually_broadcastable_shapes(
    signature=np.matmul.signature, max_dims=2, min_side=0, max_side=4
)


@MORE_EXAMPLES
@given(data=st.data())
def test_matmul_exact_dtypes(data):
    shape_1, shape_2 = data.draw(matmul_shapes, label="shapes").input_shapes
    d1, d2 = data.draw(exact_pairs(), label="dtypes")
    x1 = data.draw(numpy_arrays([d1], shape=shape_1), label="x1")
    x2 = data.draw(numpy_arrays([d2], shape=shape_2), label="x2")
    assert_matches(xp.matmul(xp.asarray(x1), xp.asarray(x2)), np.matmul(x1, x2))
    assert_matches(xp.asarray(x1) @ xp.asarray(x2), np.matmul(x1, x2))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf * 0 in the NumPy oracle
@MORE_EXAMPLES
@given(data=st.data())
def test_matmul_floats_same_call_is_exact(data):
    # N-D operands (N >= 2) of one dtype: lazyarr calls np.matmul on exactly these values,
    # NaN and inf included. The oracle uses lazyarr's held operands (same memory layout).
    shape_1, shape_2 = data.draw(
        hnp.mutually_broadcastable_shapes(signature="(m,n),(n,p)->(m,p)", max_dims=2, max_side=4),
        label="shapes",
    ).input_shapes
    dtype = data.draw(st.sampled_from(FLOAT), label="dtype")
    a = xp.asarray(data.draw(numpy_arrays([dtype], shape=shape_1), label="x1"))
    b = xp.asarray(data.draw(numpy_arrays([dtype], shape=shape_2), label="x2"))
    assert_matches(xp.matmul(a, b), np.matmul(np.asarray(a), np.asarray(b)))


@MORE_EXAMPLES
@given(data=st.data())
def test_matmul_floats(data):
    shape_1, shape_2 = data.draw(matmul_shapes, label="shapes").input_shapes
    d1, d2 = data.draw(float_pairs(), label="dtypes")
    x1 = data.draw(bounded_arrays(d1, shape_1), label="x1")
    x2 = data.draw(bounded_arrays(d2, shape_2), label="x2")
    bound = np.matmul(magnitudes(x1), magnitudes(x2))
    actual = xp.matmul(xp.asarray(x1), xp.asarray(x2))
    assert_sum_of_products_close(actual, np.matmul(x1, x2), bound, shape_1[-1])


def test_matmul_1d_rules():
    a = np.array([1, 2, 3], dtype=np.int32)
    m = np.arange(12, dtype=np.int32).reshape(3, 4)
    batch = np.arange(24, dtype=np.int16).reshape(2, 4, 3)
    assert_matches(xp.matmul(xp.asarray(a), xp.asarray(a)), np.matmul(a, a))  # 0-d
    assert_matches(xp.matmul(xp.asarray(a), xp.asarray(m)), np.matmul(a, m))
    assert_matches(xp.matmul(xp.asarray(m.T), xp.asarray(a)), np.matmul(m.T, a))
    assert_matches(xp.matmul(xp.asarray(batch), xp.asarray(a)), np.matmul(batch, a))
    assert_matches(xp.matmul(xp.asarray(a), xp.asarray(batch.mT)), np.matmul(a, batch.mT))


@pytest.mark.parametrize(
    ("shape_1", "shape_2"),
    [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (2,)), ((5,), (2, 3)), ((2, 2, 3), (3, 3, 1))],
)
def test_matmul_shape_errors_name_the_line(shape_1, shape_2):
    a, b = xp.ones(shape_1), xp.ones(shape_2)
    with pytest.raises(ValueError, match="matmul") as info:
        where = next_line()
        xp.matmul(a, b)
    assert where in str(info.value)
    with pytest.raises(ValueError, match="matmul") as info:
        where = next_line()
        a @ b
    assert where in str(info.value)


def test_matmul_0d_error_names_line():
    for a, b in [(xp.asarray(2.0), xp.ones(3)), (xp.ones((2, 2)), xp.asarray(2.0))]:
        with pytest.raises(ValueError, match="at least 1-D") as info:
            where = next_line()
            xp.matmul(a, b)
        assert where in str(info.value)


# ----------------------------------------------------------------------------- tensordot
@st.composite
def tensordot_cases(draw, dtypes):
    """Operands and an ``axes`` argument: an int, or two sequences of (possibly negative) axes."""
    d1, d2 = draw(dtypes, label="dtypes")
    free_1 = draw(shapes(max_dims=2), label="free_1")
    free_2 = draw(shapes(max_dims=2), label="free_2")
    contracted = draw(shapes(max_dims=3, min_side=0, max_side=3), label="contracted")
    n = len(contracted)
    if draw(st.booleans(), label="int axes"):
        shape_1, shape_2, axes = free_1 + contracted, contracted + free_2, n
    else:
        # Place the contracted axes anywhere, in any order, in each operand.
        order_1 = draw(st.permutations(range(len(free_1) + n)))
        order_2 = draw(st.permutations(range(len(free_2) + n)))
        dims_1, dims_2 = list(contracted) + list(free_1), list(contracted) + list(free_2)
        shape_1 = tuple(dims_1[order_1.index(i)] for i in range(len(dims_1)))
        shape_2 = tuple(dims_2[order_2.index(i)] for i in range(len(dims_2)))
        axes_1 = [order_1[i] for i in range(n)]
        axes_2 = [order_2[i] for i in range(n)]
        # Some axes negative; shape_1[axes_1[j]] == shape_2[axes_2[j]] == contracted[j].
        axes_1 = [a - len(shape_1) if draw(st.booleans()) else a for a in axes_1]
        axes_2 = [a - len(shape_2) if draw(st.booleans()) else a for a in axes_2]
        axes = (axes_1, tuple(axes_2))
    x1 = draw(bounded_arrays(d1, shape_1), label="x1")
    x2 = draw(bounded_arrays(d2, shape_2), label="x2")
    return x1, x2, axes, math.prod(contracted)


@MORE_EXAMPLES
@given(case=tensordot_cases(exact_pairs()))
def test_tensordot_exact_dtypes(case):
    x1, x2, axes, _ = case
    expected = np.tensordot(x1, x2, axes=axes)
    assert_matches(xp.tensordot(xp.asarray(x1), xp.asarray(x2), axes=axes), expected)


@MORE_EXAMPLES
@given(case=tensordot_cases(float_pairs()))
def test_tensordot_floats(case):
    x1, x2, axes, k = case
    expected = np.tensordot(x1, x2, axes=axes)
    bound = np.tensordot(magnitudes(x1), magnitudes(x2), axes=axes)
    actual = xp.tensordot(xp.asarray(x1), xp.asarray(x2), axes=axes)
    assert_sum_of_products_close(actual, expected, bound, k)


def test_tensordot_default_axes_and_outer_product():
    a = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    b = np.arange(60, dtype=np.int64).reshape(3, 4, 5)
    assert_matches(xp.tensordot(xp.asarray(a), xp.asarray(b)), np.tensordot(a, b))
    assert_matches(xp.tensordot(xp.asarray(a), xp.asarray(b), axes=0), np.tensordot(a, b, 0))
    s = np.asarray(3, dtype=np.int64)
    assert_matches(xp.tensordot(xp.asarray(s), xp.asarray(b), axes=0), np.tensordot(s, b, 0))
    c = np.arange(20, dtype=np.int64).reshape(4, 5)
    # A NumPy integer is an int axes argument too.
    expected = np.tensordot(a, c, axes=1)
    assert_matches(xp.tensordot(xp.asarray(a), xp.asarray(c), axes=np.int64(1)), expected)
    # A pair of ints contracts one axis of each.
    expected = np.tensordot(a, b, axes=(1, 0))
    assert_matches(xp.tensordot(xp.asarray(a), xp.asarray(b), axes=(1, 0)), expected)


def test_tensordot_errors_name_the_line():
    a, b = xp.ones((2, 3)), xp.ones((4, 3))
    with pytest.raises(ValueError, match="tensordot") as info:
        where = next_line()
        xp.tensordot(a, b, axes=1)
    assert where in str(info.value)
    with pytest.raises(ValueError, match="tensordot") as info:
        where = next_line()
        xp.tensordot(a, b, axes=3)
    assert where in str(info.value)
    with pytest.raises(ValueError, match="tensordot") as info:
        where = next_line()
        xp.tensordot(a, b, axes=([0, 1], [1]))
    assert where in str(info.value)
    with pytest.raises(ValueError, match="out of bounds") as info:
        where = next_line()
        xp.tensordot(a, b, axes=([2], [1]))
    assert where in str(info.value)


# ----------------------------------------------------------------------------- vecdot
@st.composite
def vecdot_cases(draw, dtypes):
    d1, d2 = draw(dtypes, label="dtypes")
    shape_1, shape_2 = draw(
        hnp.mutually_broadcastable_shapes(
            signature="(n),(n)->()", max_dims=3, min_side=0, max_side=4
        ),
        label="shapes",
    ).input_shapes
    # Move the vector axis to a (negative) position valid for both operands.
    axis = draw(st.integers(-min(len(shape_1), len(shape_2)), -1), label="axis")

    def place(shape):
        s = list(shape[:-1])
        s.insert(len(s) + axis + 1, shape[-1])
        return tuple(s)

    x1 = draw(bounded_arrays(d1, place(shape_1)), label="x1")
    x2 = draw(bounded_arrays(d2, place(shape_2)), label="x2")
    return x1, x2, axis, shape_1[-1]


@MORE_EXAMPLES
@given(case=vecdot_cases(exact_pairs()))
def test_vecdot_exact_dtypes(case):
    x1, x2, axis, _ = case
    expected = np.vecdot(x1, x2, axis=axis)
    assert_matches(xp.vecdot(xp.asarray(x1), xp.asarray(x2), axis=axis), expected)


@MORE_EXAMPLES
@given(case=vecdot_cases(float_pairs()))
def test_vecdot_floats(case):
    x1, x2, axis, k = case
    expected = np.vecdot(x1, x2, axis=axis)  # conjugates x1, as the standard does
    bound = np.vecdot(magnitudes(x1), magnitudes(x2), axis=axis)
    actual = xp.vecdot(xp.asarray(x1), xp.asarray(x2), axis=axis)
    assert_sum_of_products_close(actual, expected, bound, k)


@pytest.mark.parametrize("dtype", COMPLEX)
def test_vecdot_conjugates_first_argument(dtype):
    a = np.array([1 + 2j, 3 - 1j], dtype=dtype)
    b = np.array([2 - 1j, 1j], dtype=dtype)
    expected = np.sum(np.conj(a) * b)
    assert_matches(xp.vecdot(xp.asarray(a), xp.asarray(b)), expected)
    assert_matches(xp.vecdot(xp.asarray(b), xp.asarray(a)), np.conj(expected))
    real = np.array([1.0, 2.0], dtype=np.float64)
    assert_matches(xp.vecdot(xp.asarray(real), xp.asarray(a)), np.vecdot(real, a))
    assert_matches(xp.vecdot(xp.asarray(a), xp.asarray(real)), np.vecdot(a, real))


def test_vecdot_errors_name_the_line():
    with pytest.raises(ValueError, match="vecdot") as info:
        where = next_line()
        xp.vecdot(xp.ones((2, 3)), xp.ones((2, 4)))
    assert where in str(info.value)
    with pytest.raises(ValueError, match="vecdot") as info:
        where = next_line()
        xp.vecdot(xp.ones((2, 3)), xp.ones((2, 3)), axis=-3)
    assert where in str(info.value)
    with pytest.raises(ValueError) as info:
        where = next_line()
        xp.vecdot(xp.ones((2, 3)), xp.ones((4, 3)))
    assert where in str(info.value)
    with pytest.raises(ValueError, match="1-D") as info:
        where = next_line()
        xp.vecdot(xp.asarray(1.0), xp.ones(3))
    assert where in str(info.value)


# ----------------------------------------------------------------------------- matrix_transpose
@MORE_EXAMPLES
@given(x=numpy_arrays(ALL, shape=shapes(min_dims=2, max_dims=4)))
def test_matrix_transpose(x):
    assert_matches(xp.matrix_transpose(xp.asarray(x)), np.matrix_transpose(x))
    assert_matches(xp.asarray(x).mT, x.mT)


def test_matrix_transpose_error_names_line():
    for shape in [(), (3,)]:
        with pytest.raises(ValueError, match="at least 2 dimensions") as info:
            where = next_line()
            xp.matrix_transpose(xp.ones(shape))
        assert where in str(info.value)


@pytest.mark.parametrize("dtype", REAL_FLOAT)
def test_matmul_of_transposes(dtype):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 5, 4)).astype(dtype)
    b = rng.standard_normal((3, 5, 2)).astype(dtype)
    got = xp.matmul(xp.matrix_transpose(xp.asarray(a)), xp.asarray(b))
    bound = np.matmul(magnitudes(a).mT, magnitudes(b))
    assert_sum_of_products_close(got, np.matmul(a.mT, b), bound, 5)


def test_tensordot_axes_argument_errors_name_the_line():
    a, b = xp.ones((2, 2)), xp.ones((2, 2))
    with pytest.raises(ValueError, match="repeated axis") as info:
        where = next_line()
        xp.tensordot(a, b, axes=([0, 0], [0, 1]))
    assert where in str(info.value)
    with pytest.raises(TypeError, match="two sequences") as info:
        where = next_line()
        xp.tensordot(a, b, axes=([0], [0], [1]))
    assert where in str(info.value)
    ints = (np.array([1]), [np.int64(0)])
    assert_matches(
        xp.tensordot(a, b, axes=ints), np.tensordot(np.ones((2, 2)), np.ones((2, 2)), ints)
    )
