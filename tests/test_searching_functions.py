"""Differential tests of the searching functions against NumPy."""

from __future__ import annotations

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
    INTEGER,
    MORE_EXAMPLES,
    REAL,
    REAL_FLOAT,
    assert_matches,
    next_line,
    numpy_arrays,
    shapes,
)
from tests.test_statistical_functions import axis_args

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def python_scalars(dtype: np.dtype):
    """Python scalars that the standard allows to mix with an array of ``dtype``."""
    if dtype == np.bool_:
        return st.booleans()
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return st.integers(int(info.min), int(info.max))
    bits = 32 if dtype in (np.float32, np.complex64) else 64
    reals = st.integers(-(2**53), 2**53) | st.floats(width=bits)
    # A Python complex next to a real floating array gives the matching complex dtype.
    return reals | st.complex_numbers(width=2 * bits)


def as_array_scalar(value, like: np.dtype) -> np.ndarray:
    """``value`` as the 0-d array the standard converts it to next to an array of ``like``."""
    probe = {bool: False, int: 0, float: 0.0, complex: 0j}[type(value)]
    return np.asarray(value, dtype=np.result_type(like, probe))


# ----------------------------------------------------------------------------- argmax / argmin
@pytest.mark.parametrize("name", ["argmax", "argmin"])
@MORE_EXAMPLES
@given(data=st.data())
def test_argmax_argmin(name, data):
    x = data.draw(numpy_arrays(BOOL + REAL), label="x")
    axis = data.draw(axis_args(x.ndim, tuples=False), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    fn = getattr(xp, name)
    try:
        expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    except ValueError:  # NumPy: "attempt to get argmax of an empty sequence"
        with pytest.raises(ValueError, match="zero-size") as info:
            where = next_line()
            fn(xp.asarray(x), axis=axis, keepdims=keepdims)
        assert where in str(info.value)
        return
    assert_matches(fn(xp.asarray(x), axis=axis, keepdims=keepdims), expected)


@pytest.mark.parametrize("dtype", REAL_FLOAT)
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_nan_and_ties(name, dtype):
    # The first NaN wins (NumPy), and among equal extremes the first index.
    cases = [
        [1.0, np.nan, 3.0, np.nan],
        [np.inf, 2.0, np.inf, -np.inf, -np.inf],
        [0.0, -0.0, 0.0],
        [[5.0, np.nan], [np.nan, 5.0], [5.0, 5.0]],
    ]
    for values in cases:
        x = np.array(values, dtype=dtype)
        for axis in [None, *range(x.ndim)]:
            for keepdims in (False, True):
                expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
                actual = getattr(xp, name)(xp.asarray(x), axis=axis, keepdims=keepdims)
                assert_matches(actual, expected)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_errors(name):
    fn = getattr(xp, name)
    with pytest.raises(ValueError, match="zero-size") as info:
        where = next_line()
        fn(xp.zeros((3, 0)), axis=1)
    assert where in str(info.value)
    with pytest.raises(ValueError, match="zero-size"):
        fn(xp.zeros((0,)))
    with pytest.raises(ValueError, match="out of bounds") as info:
        where = next_line()
        fn(xp.zeros((3, 2)), axis=-3)
    assert where in str(info.value)
    # One axis or all of them: a tuple is a TypeError at the call, not a wrong result later.
    for axis in [(0, 1), (0, 1, 2), (0,), 1.0]:
        with pytest.raises(TypeError, match="axis must be an integer") as info:
            where = next_line()
            fn(xp.zeros((2, 3, 4)), axis=axis)
        assert where in str(info.value)


# ----------------------------------------------------------------------------- where
@MORE_EXAMPLES
@given(data=st.data())
def test_where_arrays(data):
    shape_c, shape_1, shape_2 = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3),
        label="shapes",
    ).input_shapes
    condition = data.draw(numpy_arrays(ALL, shape=shape_c), label="condition")
    x1 = data.draw(numpy_arrays(ALL, shape=shape_1), label="x1")
    x2 = data.draw(numpy_arrays(ALL, shape=shape_2), label="x2")
    expected = np.where(condition, x1, x2)
    actual = xp.where(xp.asarray(condition), xp.asarray(x1), xp.asarray(x2))
    assert_matches(actual, expected)


@MORE_EXAMPLES
@given(data=st.data())
def test_where_scalar_operand(data):
    condition = data.draw(numpy_arrays(ALL), label="condition")
    shape = data.draw(
        hnp.broadcastable_shapes(condition.shape, min_side=0, max_side=4, max_dims=3), label="shape"
    )
    array = data.draw(numpy_arrays(ALL, shape=shape), label="array")
    scalar = data.draw(python_scalars(array.dtype), label="scalar")
    scalar_first = data.draw(st.booleans(), label="scalar_first")
    s = as_array_scalar(scalar, array.dtype)
    a = xp.asarray(array)
    if scalar_first:
        expected = np.where(condition, s, array)
        actual = xp.where(xp.asarray(condition), scalar, a)
    else:
        expected = np.where(condition, array, s)
        actual = xp.where(xp.asarray(condition), a, scalar)
    assert_matches(actual, expected)


def test_where_non_bool_condition_and_dtypes():
    cond = np.array([0.0, -0.0, np.nan, 2.5])
    x1 = np.arange(4, dtype=np.int8)
    x2 = np.full(4, -1, dtype=np.int16)
    out = xp.where(xp.asarray(cond), xp.asarray(x1), xp.asarray(x2))
    assert_matches(out, np.where(cond, x1, x2))
    assert out.dtype == np.int16
    f32 = np.array([1.0, 2.0], dtype=np.float32)
    out = xp.where(xp.asarray([True, False]), xp.asarray(f32), 1j)
    assert out.dtype == np.complex64
    assert_matches(out, np.array([1.0, 1j], dtype=np.complex64))


def test_where_broadcast_error_names_line():
    with pytest.raises(ValueError) as info:
        where = next_line()
        xp.where(xp.asarray([True, False]), xp.ones(3), 0.0)
    assert where in str(info.value)


# ----------------------------------------------------------------------------- searchsorted
@MORE_EXAMPLES
@given(data=st.data())
def test_searchsorted(data):
    x1 = data.draw(numpy_arrays(REAL, shape=shapes(min_dims=1, max_dims=1, max_side=8)), label="x1")
    # Mixed dtypes compare in the promoted dtype, as NumPy does.
    x2 = data.draw(numpy_arrays(REAL), label="x2")
    if x1.size and data.draw(st.booleans(), label="ties"):
        idx = data.draw(hnp.arrays(np.intp, x2.shape, elements=st.integers(0, x1.size - 1)))
        x2 = np.sort(x1)[idx].astype(x2.dtype)
    side = data.draw(st.sampled_from(["left", "right"]), label="side")
    if data.draw(st.booleans(), label="use sorter"):
        sorter = np.argsort(x1, kind="stable").astype(data.draw(st.sampled_from(INTEGER[2:4])))
        expected = np.searchsorted(x1, x2, side=side, sorter=sorter)
        actual = xp.searchsorted(
            xp.asarray(x1), xp.asarray(x2), side=side, sorter=xp.asarray(sorter)
        )
    else:
        x1 = np.sort(x1)
        expected = np.searchsorted(x1, x2, side=side)
        actual = xp.searchsorted(xp.asarray(x1), xp.asarray(x2), side=side)
    assert_matches(actual, expected)


@MORE_EXAMPLES
@given(data=st.data())
def test_searchsorted_scalar_x2(data):
    x1 = data.draw(numpy_arrays(REAL, shape=shapes(min_dims=1, max_dims=1, max_side=8)), label="x1")
    x1 = np.sort(x1)
    if x1.dtype.kind == "f":
        values = st.integers(-(2**53), 2**53) | st.floats(width=8 * x1.dtype.itemsize)
    else:
        values = st.integers(int(np.iinfo(x1.dtype).min), int(np.iinfo(x1.dtype).max))
    if x1.size:
        values = values | st.sampled_from(x1.tolist())
    x2 = data.draw(values, label="x2")
    side = data.draw(st.sampled_from(["left", "right"]), label="side")
    # The standard converts the scalar to x1's dtype first (NumPy would compare in float64).
    expected = np.searchsorted(x1, as_array_scalar(x2, x1.dtype), side=side)
    actual = xp.searchsorted(xp.asarray(x1), x2, side=side)
    assert actual.shape == ()
    assert_matches(actual, expected)


def test_searchsorted_scalar_is_converted_to_x1_dtype():
    x1 = np.array([0.1], dtype=np.float32)
    # float32(0.1) > 0.1, but the scalar becomes float32(0.1) and so ties with x1[0].
    assert int(xp.searchsorted(xp.asarray(x1), 0.1, side="left")) == 0
    assert int(xp.searchsorted(xp.asarray(x1), 0.1, side="right")) == 1


def test_searchsorted_nan_sorts_last():
    x1 = np.array([-np.inf, 0.0, 1.0, np.nan, np.nan])
    x2 = np.array([np.nan, np.inf, -np.inf, 0.5])
    for side in ("left", "right"):
        expected = np.searchsorted(x1, x2, side=side)
        assert_matches(xp.searchsorted(xp.asarray(x1), xp.asarray(x2), side=side), expected)


def test_searchsorted_errors_name_the_line():
    x1 = xp.asarray([1.0, 2.0])
    with pytest.raises(ValueError, match="sorter") as info:
        where = next_line()
        xp.searchsorted(x1, xp.asarray([1.0]), sorter=xp.asarray([0]))
    assert where in str(info.value)
    with pytest.raises(TypeError, match="sorter") as info:
        where = next_line()
        xp.searchsorted(x1, xp.asarray([1.0]), sorter=xp.asarray([0.0, 1.0]))
    assert where in str(info.value)
    with pytest.raises(ValueError, match="side") as info:
        where = next_line()
        xp.searchsorted(x1, xp.asarray([1.0]), side="middle")
    assert where in str(info.value)
    with pytest.raises(ValueError, match="1-D") as info:
        where = next_line()
        xp.searchsorted(xp.ones((2, 2)), xp.asarray([1.0]))
    assert where in str(info.value)
    with pytest.raises(TypeError, match="complex") as info:
        where = next_line()
        xp.searchsorted(xp.asarray(np.array([1, 2], dtype=np.complex64)), xp.asarray([1j]))
    assert where in str(info.value)


# ----------------------------------------------------------------------------- count_nonzero
@MORE_EXAMPLES
@given(data=st.data())
def test_count_nonzero(data):
    x = data.draw(numpy_arrays(ALL), label="x")
    axis = data.draw(axis_args(x.ndim), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    expected = np.count_nonzero(x, axis=axis, keepdims=keepdims)
    assert_matches(xp.count_nonzero(xp.asarray(x), axis=axis, keepdims=keepdims), expected)


# ----------------------------------------------------------------------------- nonzero
@MORE_EXAMPLES
@given(x=numpy_arrays(ALL, shape=shapes(min_dims=1)))
def test_nonzero(x):
    expected = np.nonzero(x)
    actual = xp.nonzero(xp.asarray(x))
    assert isinstance(actual, tuple)
    assert len(actual) == len(expected) == x.ndim
    for a, e in zip(actual, expected):
        assert a.dtype == np.int64
        assert_matches(a, e)


def test_nonzero_of_lazy_expression():
    a = xp.asarray(np.array([[0.0, 1.5], [np.nan, -0.0]]))
    rows, cols = xp.nonzero(a * 2)
    assert_matches(rows, np.array([0, 1]))
    assert_matches(cols, np.array([1, 0]))


def test_nonzero_0d_error_names_line():
    with pytest.raises(ValueError) as info:
        where = next_line()
        xp.nonzero(xp.asarray(1))
    assert where in str(info.value)


@pytest.mark.parametrize("dtype", COMPLEX)
def test_count_nonzero_and_nonzero_complex(dtype):
    x = np.array([0, 1j, -0.0 + 0j, np.nan], dtype=dtype)
    assert_matches(xp.count_nonzero(xp.asarray(x)), np.asarray(np.count_nonzero(x)))
    assert_matches(xp.nonzero(xp.asarray(x))[0], np.nonzero(x)[0])
