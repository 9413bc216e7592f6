"""Creation functions against NumPy: asarray, zeros/ones/empty/full (+ _like), arange,
linspace, eye, tril/triu, meshgrid, from_dlpack; copy semantics, laziness, errors."""

from __future__ import annotations

import array
import math
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lazyarr as xp
from tests.helpers import (
    ALL,
    COMPLEX,
    INTEGER,
    REAL_FLOAT,
    assert_matches,
    next_line,
    numpy_arrays,
    shapes,
)


def assert_raises_here(exc: type[Exception], make) -> None:
    """``make`` is a one-line lambda; its error must be ``exc`` and name the lambda's line."""
    with pytest.raises(exc) as info:
        make()
    code = make.__code__
    assert f"{code.co_filename}:{code.co_firstlineno}" in str(info.value)


def python_scalars():
    return st.one_of(
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(),
        st.complex_numbers(),
    )


def _zero_index(a: np.ndarray) -> tuple[int, ...]:
    return (0,) * a.ndim


# ----------------------------------------------------------------------------- asarray
@given(python_scalars())
def test_asarray_python_scalar(value):
    assert_matches(xp.asarray(value), np.asarray(value))


@given(st.data())
def test_asarray_python_scalar_with_dtype(data):
    dtype = data.draw(st.sampled_from(ALL))
    value = data.draw(hnp.from_dtype(dtype)).item()
    assert_matches(xp.asarray(value, dtype=dtype), np.asarray(value, dtype=dtype))


@pytest.mark.parametrize(
    "value, dtype",
    [
        (2**63, None),
        (-(2**63) - 1, None),
        (2**64, None),
        (10**30, None),
        (300, xp.int8),
        (-1, xp.uint8),
        (2**32, xp.uint32),
        ([1, 2**64], None),
        ([[0], [-(2**64)]], None),
        ([300], xp.int8),
    ],
)
def test_asarray_out_of_range_int_overflows(value, dtype):
    with pytest.raises(OverflowError) as info:
        where = next_line()
        xp.asarray(value, dtype=dtype)
    assert where in str(info.value)


@given(numpy_arrays(layouts=False))
def test_asarray_nested_list_with_dtype(a):
    assert_matches(xp.asarray(a.tolist(), dtype=a.dtype), np.asarray(a.tolist(), dtype=a.dtype))


@given(numpy_arrays(dtypes=[np.dtype(d) for d in ("bool", "int64", "float64", "complex128")]))
def test_asarray_nested_list_infers_dtype(a):
    nested = a.tolist()
    assert_matches(xp.asarray(nested), np.asarray(nested))


def test_asarray_mixed_nested_lists_and_tuples():
    nested = [(1, 2.5), [True, -3]]
    assert_matches(xp.asarray(nested), np.asarray(nested))
    assert_matches(xp.asarray([]), np.asarray([]))
    assert_matches(xp.asarray([[], []]), np.asarray([[], []]))
    assert_matches(xp.asarray([1, 2j]), np.asarray([1, 2j]))


def test_asarray_sequence_of_arrays():
    nested = [[xp.asarray(1.0), xp.asarray(2.0)], [xp.asarray(3.0), 4.0]]
    assert_matches(xp.asarray(nested), np.asarray([[1.0, 2.0], [3.0, 4.0]]))
    assert_matches(
        xp.asarray([xp.asarray([1, 2]), xp.asarray([3, 4])], dtype=xp.float32),
        np.asarray([[1, 2], [3, 4]], dtype=np.float32),
    )


@given(numpy_arrays(), st.sampled_from([None, True]))
def test_asarray_numpy_array_is_copied(a, copy):
    expected = a.copy()
    x = xp.asarray(a, copy=copy)
    # Writing into the source (or, for views, into its base) must not reach the lazy array.
    a[...] = np.logical_not(expected) if a.dtype == bool else a.dtype.type(3)
    assert_matches(x, expected)
    if a.size:
        assert not np.shares_memory(np.asarray(x), a)


@given(numpy_arrays())
def test_asarray_numpy_array_copy_false_shares_memory(a):
    x = xp.asarray(a, copy=False)
    assert_matches(x, a)
    if a.size:
        assert np.shares_memory(np.asarray(x), a)
        new = ~a[_zero_index(a)] if a.dtype == bool else a.dtype.type(7)
        a[_zero_index(a)] = new
        assert np.asarray(x)[_zero_index(a)] == new


def test_asarray_copy_false_is_not_merged_with_equal_content():
    """A shared buffer is keyed by identity: equal content elsewhere must not alias it."""
    shared = np.array([1.0, 2.0, 3.0])
    x = xp.asarray(shared, copy=False)
    shared[0] = 100.0
    y = xp.asarray(np.array([1.0, 2.0, 3.0]))
    assert_matches(y, np.array([1.0, 2.0, 3.0]))
    assert_matches(x, np.array([100.0, 2.0, 3.0]))

    z = xp.asarray(np.array([5.0, 6.0]))
    other = np.array([5.0, 6.0])
    w = xp.asarray(other, copy=False)
    assert np.shares_memory(np.asarray(w), other)
    other[1] = -1.0
    assert_matches(z, np.array([5.0, 6.0]))
    assert_matches(w, np.array([5.0, -1.0]))


def test_asarray_copy_false_expression_built_after_a_write_sees_it():
    """An expression written after the shared buffer changed computes from the new data."""
    shared = np.array([1.0, 2.0])
    x = xp.asarray(shared, copy=False)
    before = x * 2
    assert_matches(before, np.array([2.0, 4.0]))
    shared[0] = 10.0
    assert_matches(x * 3, np.array([30.0, 6.0]))
    # The same expression as before the write (still alive, so the same interned node):
    # it must not reuse the value computed before the write.
    assert_matches(x * 2, np.array([20.0, 4.0]))
    assert before.shape == (2,)


@pytest.mark.parametrize("copy", [None, False, True])
def test_asarray_of_an_array(copy):
    x = xp.asarray([1.0, 2.0])
    y = xp.asarray(x, copy=copy)
    if copy:
        assert y is not x
    else:
        assert y is x
    assert_matches(y, np.array([1.0, 2.0]))
    assert (xp.asarray(x, dtype=xp.float64, copy=copy) is x) == (not copy)
    assert_matches(xp.asarray(x, dtype=xp.float32), np.array([1.0, 2.0], np.float32))


def test_asarray_of_an_array_dtype_change_without_copy_raises():
    x = xp.asarray([1, 2])
    with pytest.raises(ValueError) as info:
        where = next_line()
        xp.asarray(x, dtype=xp.float64, copy=False)
    assert where in str(info.value)


def test_asarray_buffers():
    raw = bytearray(b"\x01\x02\x03")
    copied = xp.asarray(raw)
    shared = xp.asarray(raw, copy=False)
    raw[0] = 9
    assert_matches(copied, np.array([1, 2, 3], np.uint8))
    assert_matches(shared, np.array([9, 2, 3], np.uint8))

    doubles = array.array("d", [1.5, -2.0])
    assert_matches(xp.asarray(doubles), np.asarray(doubles))
    ints = array.array("i", [1, 2, 3])
    assert_matches(xp.asarray(ints), np.asarray(ints))
    view = memoryview(np.arange(6, dtype=np.int16).reshape(2, 3))
    assert_matches(xp.asarray(view), np.arange(6, dtype=np.int16).reshape(2, 3))


@given(numpy_arrays(shape=shapes(max_dims=2)), st.sampled_from(ALL))
def test_asarray_numpy_array_with_dtype(a, dtype):
    assume(not (a.dtype.kind == "c" and dtype.kind not in "cb"))
    if a.dtype.kind == "f" and dtype.kind in "iu":
        # Out-of-range float to integer conversions are undefined; keep to defined ones.
        assume(np.isfinite(a).all() and ((a >= 0) & (a < 100)).all())
    with np.errstate(all="ignore"):
        expected = np.asarray(a, dtype=dtype)
        got = xp.asarray(a, dtype=dtype)
    assert_matches(got, expected)


def test_asarray_numpy_scalars():
    for value in (
        np.float32(1.5),
        np.int8(-3),
        np.uint64(2**64 - 1),
        np.bool_(True),
        np.float64(2),
    ):
        assert_matches(xp.asarray(value), np.asarray(value))


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: xp.asarray([1, 2], copy=False), ValueError),
        (lambda: xp.asarray((1, 2), copy=False), ValueError),
        (lambda: xp.asarray(1.5, copy=False), ValueError),
        (lambda: xp.asarray(np.arange(3), dtype=xp.float64, copy=False), ValueError),
        (lambda: xp.asarray(np.zeros(3, np.float16)), TypeError),
        (lambda: xp.asarray(np.zeros(3, np.float16), copy=False), TypeError),
        (lambda: xp.asarray(np.float16(1)), TypeError),
        (lambda: xp.asarray(np.array([None, 1])), TypeError),
        (lambda: xp.asarray("abc"), TypeError),
        (lambda: xp.asarray(["a", "b"]), TypeError),
        (lambda: xp.asarray(b"abc"), TypeError),
        (lambda: xp.asarray(None), TypeError),
        (lambda: xp.asarray({1: 2}), TypeError),
        (lambda: xp.asarray(np.array(["2020-01-01"], dtype="datetime64[D]")), TypeError),
        (lambda: xp.asarray([1, 2], dtype=np.float16), TypeError),
        (lambda: xp.asarray([1, 2], dtype="float16"), TypeError),
        (lambda: xp.asarray([1, 2], dtype=object), TypeError),
        (lambda: xp.asarray([1, 2], dtype="not a dtype"), TypeError),
        (lambda: xp.asarray([[1], [1, 2]]), ValueError),
        (lambda: xp.asarray(1j, dtype=xp.float64), TypeError),
        (lambda: xp.asarray([1j], dtype=xp.float32), TypeError),
        (lambda: xp.asarray(np.array([1j]), dtype=xp.float64), TypeError),
        (lambda: xp.asarray(xp.asarray([1j]), dtype=xp.int64), TypeError),
        (lambda: xp.asarray([1], device="gpu"), ValueError),
        (lambda: xp.asarray(np.arange(3, dtype=">f8"), copy=False), ValueError),
    ],
)
def test_asarray_errors(make, exc):
    assert_raises_here(exc, make)


def test_asarray_keeps_byte_order_values():
    a = np.arange(4, dtype=">i4")
    assert_matches(xp.asarray(a), np.arange(4, dtype=np.int32))


# ----------------------------------------------------------------------------- zeros, ones, ...
dtypes_or_none = st.sampled_from([None, *ALL])


@pytest.mark.parametrize("name", ["zeros", "ones"])
@given(shape=shapes(max_side=3), dtype=dtypes_or_none)
def test_zeros_ones(name, shape, dtype):
    assert_matches(getattr(xp, name)(shape, dtype=dtype), getattr(np, name)(shape, dtype=dtype))


@given(shape=shapes(max_side=3), dtype=dtypes_or_none)
def test_empty(shape, dtype):
    x = xp.empty(shape, dtype=dtype)
    expected = np.empty(shape, dtype=dtype)
    assert (x.shape, x.dtype) == (expected.shape, expected.dtype)
    assert np.asarray(x).shape == expected.shape


def test_shape_as_int_and_numpy_ints():
    assert_matches(xp.zeros(3), np.zeros(3))
    assert_matches(xp.ones((np.int64(2), np.int32(0))), np.ones((2, 0)))
    assert_matches(xp.full((), 5), np.full((), 5))


@given(st.data())
def test_full_with_dtype(data):
    dtype = data.draw(st.sampled_from(ALL))
    shape = data.draw(shapes(max_side=3))
    fill = data.draw(hnp.from_dtype(dtype)).item()
    assert_matches(xp.full(shape, fill, dtype=dtype), np.full(shape, fill, dtype=dtype))


@given(shapes(max_side=3), python_scalars())
def test_full_default_dtype(shape, fill):
    assert_matches(xp.full(shape, fill), np.full(shape, fill))


def test_full_fill_value_kinds():
    assert_matches(xp.full(2, 1.5, dtype=xp.int8), np.full(2, 1.5, dtype=np.int8))
    assert_matches(xp.full(2, 3, dtype=xp.float32), np.full(2, 3, dtype=np.float32))
    assert_matches(xp.full(2, 2, dtype=xp.bool), np.full(2, 2, dtype=bool))
    assert_matches(xp.full(2, 1j, dtype=xp.bool), np.full(2, 1j, dtype=bool))
    assert_matches(xp.full(2, -0.0), np.full(2, -0.0))
    assert_matches(xp.full((2, 2), xp.asarray(3, dtype=xp.int16)), np.full((2, 2), 3, np.int16))
    assert_matches(xp.full(2, np.float32(0.5)), np.full(2, 0.5, np.float32))


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like"])
@given(a=numpy_arrays(), dtype=dtypes_or_none)
def test_like(name, a, dtype):
    x = getattr(xp, name)(xp.asarray(a), dtype=dtype)
    expected = getattr(np, name)(a, dtype=dtype)
    if name == "empty_like":
        assert (x.shape, x.dtype) == (expected.shape, expected.dtype)
    else:
        assert_matches(x, expected)


@given(st.data())
def test_full_like(data):
    a = data.draw(numpy_arrays(shape=shapes(max_side=3)))
    dtype = data.draw(dtypes_or_none)
    fill = data.draw(hnp.from_dtype(dtype or a.dtype)).item()
    assume(not (isinstance(fill, complex) and (dtype or a.dtype).kind != "c"))
    assert_matches(
        xp.full_like(xp.asarray(a), fill, dtype=dtype), np.full_like(a, fill, dtype=dtype)
    )


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: xp.zeros((2, -1)), ValueError),
        (lambda: xp.ones(-3), ValueError),
        (lambda: xp.empty((-1,)), ValueError),
        (lambda: xp.full((-2, 2), 1.0), ValueError),
        (lambda: xp.zeros((2.0, 3)), TypeError),
        (lambda: xp.zeros("ab"), TypeError),
        (lambda: xp.zeros(None), TypeError),
        (lambda: xp.zeros(2, dtype=np.float16), TypeError),
        (lambda: xp.ones(2, dtype="foo"), TypeError),
        (lambda: xp.empty(2, dtype=object), TypeError),
        (lambda: xp.zeros(2, device="gpu"), ValueError),
        (lambda: xp.ones(2, device=0), ValueError),
        (lambda: xp.empty(2, device="cuda:0"), ValueError),
        (lambda: xp.full(2, 1.0, device="gpu"), ValueError),
        (lambda: xp.full(2, "a"), TypeError),
        (lambda: xp.full(2, None), TypeError),
        (lambda: xp.full(2, [1, 2]), TypeError),
        (lambda: xp.full(2, xp.asarray([1, 2])), ValueError),
        (lambda: xp.full(2, 300, dtype=xp.int8), OverflowError),
        (lambda: xp.full(2, -1, dtype=xp.uint16), OverflowError),
        (lambda: xp.full(2, 1j, dtype=xp.float64), TypeError),
        (lambda: xp.full(2, xp.asarray(1j), dtype=xp.float32), TypeError),
        (lambda: xp.full(2, 1.0, dtype=np.float16), TypeError),
        (lambda: xp.zeros_like([1, 2]), TypeError),
        (lambda: xp.ones_like(3.0), TypeError),
        (lambda: xp.empty_like(None), TypeError),
        (lambda: xp.full_like([1], 2), TypeError),
        (lambda: xp.full_like(xp.asarray([1.0]), 1j), TypeError),
        (lambda: xp.full_like(xp.asarray([1], dtype=xp.int8), 300), OverflowError),
        (lambda: xp.zeros_like(xp.asarray([1]), dtype="float16"), TypeError),
        (lambda: xp.ones_like(xp.asarray([1]), device="gpu"), ValueError),
    ],
)
def test_constant_creation_errors(make, exc):
    assert_raises_here(exc, make)


# ----------------------------------------------------------------------------- arange
INT_RANGE_DTYPES = [None, *INTEGER, *REAL_FLOAT, *COMPLEX]


def _differential(make_lazy, make_numpy):
    """Compare values, or error types where NumPy refuses."""
    try:
        with np.errstate(all="ignore"):
            expected = make_numpy()
    except (OverflowError, ValueError, TypeError) as e:
        with pytest.raises(type(e)):
            make_lazy()
        return
    assert_matches(make_lazy(), expected)


@given(
    start=st.integers(-40, 40),
    stop=st.none() | st.integers(-40, 40),
    step=st.integers(-9, 9).filter(bool),
    dtype=st.sampled_from(INT_RANGE_DTYPES),
)
def test_arange_int_arguments(start, stop, step, dtype):
    if stop is None:
        _differential(lambda: xp.arange(start, dtype=dtype), lambda: np.arange(start, dtype=dtype))
    else:
        _differential(
            lambda: xp.arange(start, stop, step, dtype=dtype),
            lambda: np.arange(start, stop, step, dtype=dtype),
        )


finite = st.floats(-1e6, 1e6, allow_subnormal=False)


@given(
    start=finite,
    stop=finite,
    step=st.floats(-1e4, 1e4).filter(lambda s: abs(s) > 1e-3),
    dtype=st.sampled_from([None, *REAL_FLOAT, *COMPLEX, np.dtype("int64"), np.dtype("int16")]),
)
def test_arange_float_arguments(start, stop, step, dtype):
    assume(math.ceil((stop - start) / step) <= 2000)
    _differential(
        lambda: xp.arange(start, stop, step, dtype=dtype),
        lambda: np.arange(start, stop, step, dtype=dtype),
    )


@pytest.mark.parametrize(
    "args, dtype",
    [
        ((0.1, 1.0, 0.1), None),
        ((0.1, 1.0, 0.1), xp.float32),
        ((1.0, 0.0, -0.1), xp.float32),
        ((-0.0, 3.0), None),
        ((-0.0, 3.0, 1.0), xp.float32),
        ((0.0, -3.0, -1.0), None),
        ((10, 0, -3), xp.uint8),
        ((0, 300, 100), xp.int8),
        ((0, 1000, 1), xp.int8),
        ((10.0, 1.0, -0.3), xp.int32),
        ((0.5, 5.5, 1.0), xp.int32),
        ((1e308, 1.7e308, 1e308), None),
        ((2.5,), None),
        ((0, 5, 2), xp.complex64),
        ((0, 1, 0.1), xp.complex128),
        ((3, 3), None),
        ((0, 1), xp.bool),
        ((0, 2), xp.bool),
        ((1, 3), xp.bool),
        ((5,), xp.uint64),
        ((2**62, 2**62 + 3), None),
        ((0, 10**7, 10**6), xp.float32),
    ],
)
def test_arange_matches_numpy_exactly(args, dtype):
    assert_matches(xp.arange(*args, dtype=dtype), np.arange(*args, dtype=dtype))


def test_arange_accepts_numpy_integers():
    assert_matches(xp.arange(np.int64(4)), np.arange(4))
    assert_matches(xp.arange(np.int8(1), np.int32(7), np.int16(2)), np.arange(1, 7, 2))


def test_arange_is_lazy():
    start = time.perf_counter()
    x = xp.arange(10**12)
    y = xp.arange(0.0, 1.0, 1e-12, dtype=xp.float32)
    assert time.perf_counter() - start < 1.0
    assert (x.shape, x.dtype) == ((10**12,), np.dtype("int64"))
    assert (y.shape, y.dtype) == ((10**12,), np.dtype("float32"))


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: xp.arange(0, 1, 0), ValueError),
        (lambda: xp.arange(0.0, 1.0, 0.0), ValueError),
        (lambda: xp.arange(True), TypeError),
        (lambda: xp.arange(0, 3, True), TypeError),
        (lambda: xp.arange(1j), TypeError),
        (lambda: xp.arange("3"), TypeError),
        (lambda: xp.arange(None), TypeError),
        (lambda: xp.arange(xp.asarray(3)), TypeError),
        (lambda: xp.arange(0, float("inf")), ValueError),
        (lambda: xp.arange(0, float("nan")), ValueError),
        (lambda: xp.arange(float("nan"), 1.0), ValueError),
        (lambda: xp.arange(3, dtype=xp.bool), TypeError),
        (lambda: xp.arange(-1, 3, dtype=xp.uint8), OverflowError),
        (lambda: xp.arange(300, 302, dtype=xp.int8), OverflowError),
        (lambda: xp.arange(3, dtype=np.float16), TypeError),
        (lambda: xp.arange(3, dtype="foo"), TypeError),
        (lambda: xp.arange(3, device="gpu"), ValueError),
    ],
)
def test_arange_errors(make, exc):
    assert_raises_here(exc, make)


# ----------------------------------------------------------------------------- linspace
@given(
    start=finite,
    stop=finite,
    num=st.integers(0, 40),
    endpoint=st.booleans(),
    dtype=st.sampled_from([None, *REAL_FLOAT, *COMPLEX, np.dtype("int32"), np.dtype("int64")]),
)
def test_linspace_real(start, stop, num, endpoint, dtype):
    with np.errstate(all="ignore"):
        expected = np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype)
    assert_matches(xp.linspace(start, stop, num, endpoint=endpoint, dtype=dtype), expected)


@given(
    start=st.complex_numbers(max_magnitude=1e6) | st.integers(-100, 100),
    stop=st.complex_numbers(max_magnitude=1e6),
    num=st.integers(0, 20),
    endpoint=st.booleans(),
    dtype=st.sampled_from([None, *COMPLEX]),
)
def test_linspace_complex(start, stop, num, endpoint, dtype):
    expected = np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype)
    assert_matches(xp.linspace(start, stop, num, endpoint=endpoint, dtype=dtype), expected)


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((0, 1, 0), {}),
        ((0, 1, 1), {}),
        ((0, 1, 1), {"endpoint": False}),
        ((2, 3, 5), {"endpoint": False}),
        ((0, 10, 4), {"dtype": xp.int32}),
        ((-10, 0, 4), {"dtype": xp.int64}),
        ((0, 1, 3), {"dtype": xp.uint8}),
        ((0, 1, 3), {"dtype": xp.bool}),
        ((0, 1, 5), {"dtype": xp.complex64}),
        ((1e10, 1e10 + 1, 7), {}),
        ((0.1, 0.7, 6), {"dtype": xp.float32}),
        ((5, -5, 11), {}),
        ((0, 0, 4), {}),
        ((-0.0, 0.0, 3), {}),
        ((0, float("inf"), 3), {}),
        ((1, 1j, 4), {}),
    ],
)
def test_linspace_matches_numpy_exactly(args, kwargs):
    with np.errstate(all="ignore"):
        expected = np.linspace(*args, **kwargs)
    assert_matches(xp.linspace(*args, **kwargs), expected)


def test_linspace_huge_int_endpoints():
    # NumPy refuses Python ints beyond int64 here; they are converted to float64.
    assert_matches(xp.linspace(0, 2**70, 3), np.linspace(0.0, float(2**70), 3))
    assert_matches(xp.linspace(2**64, 0, 5), np.linspace(float(2**64), 0.0, 5))


def test_linspace_is_lazy():
    start = time.perf_counter()
    x = xp.linspace(0.0, 1.0, 10**12)
    assert time.perf_counter() - start < 1.0
    assert (x.shape, x.dtype) == ((10**12,), np.dtype("float64"))


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: xp.linspace(0, 1, -1), ValueError),
        (lambda: xp.linspace(0, 1, 3.0), TypeError),
        (lambda: xp.linspace(0, 1, True), TypeError),
        (lambda: xp.linspace(0, 1, None), TypeError),
        (lambda: xp.linspace("0", 1, 3), TypeError),
        (lambda: xp.linspace(0, None, 3), TypeError),
        (lambda: xp.linspace(False, 1, 3), TypeError),
        (lambda: xp.linspace(0, 1j, 3, dtype=xp.float64), TypeError),
        (lambda: xp.linspace(1j, 2, 3, dtype=xp.int32), TypeError),
        (lambda: xp.linspace(0, 1, 3, dtype=np.float16), TypeError),
        (lambda: xp.linspace(0, 1, 3, device="gpu"), ValueError),
    ],
)
def test_linspace_errors(make, exc):
    assert_raises_here(exc, make)


# ----------------------------------------------------------------------------- eye
@given(
    n_rows=st.integers(0, 6),
    n_cols=st.none() | st.integers(0, 6),
    k=st.integers(-8, 8),
    dtype=dtypes_or_none,
)
def test_eye(n_rows, n_cols, k, dtype):
    assert_matches(
        xp.eye(n_rows, n_cols, k=k, dtype=dtype), np.eye(n_rows, n_cols, k=k, dtype=dtype)
    )


def test_eye_is_lazy():
    tracemalloc.start()
    try:
        x = xp.eye(10**6, 10**5, k=3, dtype=xp.float32)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (x.shape, x.dtype) == ((10**6, 10**5), np.dtype("float32"))
    assert peak < 1_000_000


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: xp.eye(-1), ValueError),
        (lambda: xp.eye(2, -3), ValueError),
        (lambda: xp.eye(2.0), TypeError),
        (lambda: xp.eye(2, 2.5), TypeError),
        (lambda: xp.eye(2, k=1.0), TypeError),
        (lambda: xp.eye(2, k=None), TypeError),
        (lambda: xp.eye(2, dtype="float16"), TypeError),
        (lambda: xp.eye(2, device="gpu"), ValueError),
    ],
)
def test_eye_errors(make, exc):
    assert_raises_here(exc, make)


# ----------------------------------------------------------------------------- tril, triu
@pytest.mark.parametrize("name", ["tril", "triu"])
@given(a=numpy_arrays(shape=shapes(min_dims=2, max_dims=4)), k=st.integers(-5, 5))
def test_tril_triu(name, a, k):
    x = xp.asarray(a)
    assert_matches(getattr(xp, name)(x, k=k), getattr(np, name)(a, k=k))
    if k == 0:
        assert_matches(getattr(xp, name)(x), getattr(np, name)(a))


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: xp.tril(xp.asarray([1, 2])), ValueError),
        (lambda: xp.triu(xp.asarray(1.0)), ValueError),
        (lambda: xp.tril([[1, 2], [3, 4]]), TypeError),
        (lambda: xp.triu(xp.ones((2, 2)), k=0.5), TypeError),
        (lambda: xp.tril(xp.ones((2, 2)), k="1"), TypeError),
    ],
)
def test_tril_triu_errors(make, exc):
    assert_raises_here(exc, make)


# ----------------------------------------------------------------------------- meshgrid
@given(st.data())
def test_meshgrid(data):
    dtype = data.draw(st.sampled_from(ALL))
    count = data.draw(st.integers(0, 4))
    arrays = [data.draw(numpy_arrays(dtypes=[dtype], shape=shapes(1, 1))) for _ in range(count)]
    indexing = data.draw(st.sampled_from(["xy", "ij"]))
    got = xp.meshgrid(*(xp.asarray(a) for a in arrays), indexing=indexing)
    expected = np.meshgrid(*arrays, indexing=indexing)
    assert isinstance(got, tuple)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert_matches(g, e)


def test_meshgrid_default_is_xy():
    a, b = xp.asarray([1, 2, 3]), xp.asarray([4.0, 5.0])
    gx, gy = xp.meshgrid(a, b)
    assert gx.shape == gy.shape == (2, 3)
    assert_matches(gy, np.meshgrid(np.array([1, 2, 3]), np.array([4.0, 5.0]))[1])


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: xp.meshgrid(xp.asarray([1]), indexing="xx"), ValueError),
        (lambda: xp.meshgrid(xp.asarray([[1, 2]])), ValueError),
        (lambda: xp.meshgrid(xp.asarray(1)), ValueError),
        (lambda: xp.meshgrid([1, 2], xp.asarray([1])), TypeError),
    ],
)
def test_meshgrid_errors(make, exc):
    assert_raises_here(exc, make)


# ----------------------------------------------------------------------------- from_dlpack
@given(numpy_arrays())
def test_from_dlpack_numpy(a):
    expected = a.copy()
    x = xp.from_dlpack(a)
    if a.size:
        a[_zero_index(a)] = ~a[_zero_index(a)] if a.dtype == bool else a.dtype.type(3)
    assert_matches(x, expected)


def test_from_dlpack_copy_false_shares_memory():
    a = np.arange(4.0)
    x = xp.from_dlpack(a, copy=False)
    a[0] = -7.0
    assert_matches(x, np.array([-7.0, 1.0, 2.0, 3.0]))
    # The shared buffer is not aliased by an equal-content constant built later.
    assert_matches(xp.asarray(np.array([-7.0, 1.0, 2.0, 3.0])), np.array([-7.0, 1.0, 2.0, 3.0]))
    a[1] = 5.0
    assert_matches(xp.asarray(np.array([-7.0, 1.0, 2.0, 3.0])), np.array([-7.0, 1.0, 2.0, 3.0]))
    assert_matches(x, np.array([-7.0, 5.0, 2.0, 3.0]))


def test_from_dlpack_of_a_lazy_array():
    x = xp.asarray([[1, 2], [3, 4]], dtype=xp.int16) * 2
    assert xp.from_dlpack(x) is x
    y = xp.from_dlpack(x, copy=True)
    assert y is not x
    assert_matches(y, np.array([[2, 4], [6, 8]], np.int16))
    assert_matches(xp.from_dlpack(x, device="cpu"), np.array([[2, 4], [6, 8]], np.int16))
    np.testing.assert_array_equal(np.from_dlpack(x), np.array([[2, 4], [6, 8]], np.int16))


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: xp.from_dlpack([1, 2]), TypeError),
        (lambda: xp.from_dlpack(3.0), TypeError),
        (lambda: xp.from_dlpack(np.zeros(2, np.float16)), TypeError),
        (lambda: xp.from_dlpack(np.zeros(2), device="gpu"), ValueError),
    ],
)
def test_from_dlpack_errors(make, exc):
    assert_raises_here(exc, make)


# ----------------------------------------------------------------------------- laziness
def test_huge_constant_expression_is_lazy():
    tracemalloc.start()
    try:
        start = time.perf_counter()
        a = xp.ones((10**6, 10**6)) * 2 + 1
        built = time.perf_counter() - start
        assert_matches(a[:2, :3], np.full((2, 3), 3.0))
        assert float(a[-1, 10**6 - 1]) == 3.0
        assert_matches(a[999_999, -3:], np.full(3, 3.0))
        z = xp.zeros((10**6, 10**6), dtype=xp.int8) - 1
        assert_matches(z[:1, :2], np.full((1, 2), -1, np.int8))
        assert_matches(xp.full((10**9,), 2.5, dtype=xp.float32)[-2:], np.full(2, 2.5, np.float32))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert built < 1.0
    assert a.shape == (10**6, 10**6)
    assert peak < 5_000_000


def test_huge_creations_build_without_allocating():
    tracemalloc.start()
    try:
        n = 10**6
        xs = [
            xp.zeros((n, n)),
            xp.empty((n, n), dtype=xp.complex128),
            xp.ones_like(xp.zeros((n, n))),
            xp.arange(n * n),
            xp.linspace(0, 1, n * n),
            xp.eye(n),
            xp.tril(xp.ones((n, n))),
            *xp.meshgrid(xp.arange(n), xp.arange(n)),
        ]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert all(x.size >= n * n for x in xs)
    assert peak < 5_000_000


def test_same_expression_is_the_same_node():
    makers = [
        (lambda: xp.ones((3, 4)) * 2 + 1),
        (lambda: xp.zeros(5, dtype=xp.int8)),
        (lambda: xp.full((2, 2), 7.5)),
        (lambda: xp.arange(5)),
        (lambda: xp.arange(0.0, 1.0, 0.1)),
        (lambda: xp.linspace(0, 1, 7)),
        (lambda: xp.eye(3, 4, k=1)),
        (lambda: xp.tril(xp.ones((3, 3)), k=-1)),
        (lambda: xp.meshgrid(xp.arange(2), xp.arange(3))[1]),
    ]
    for make in makers:
        assert make()._node is make()._node
    assert xp.arange(5)._node is not xp.arange(6)._node
    assert xp.zeros(3)._node is not xp.zeros(3, dtype=xp.float32)._node


def test_user_data_is_a_leaf_of_its_own():
    """Equal data from the user never merges with a literal of the same value: the
    exponent in ``x**2`` is not ``x`` (that would break ``grad(x**2, x)``)."""
    for make in (
        lambda: xp.asarray(2.0),
        lambda: xp.asarray([1, 2, 3]),
        lambda: xp.asarray(np.ones(2)),
    ):
        assert make()._node is not make()._node
    x = xp.asarray(2.0)
    assert (x**2)._node.inputs[1] is not x._node
    assert float(xp.grad(x**2, x)) == 4.0


def test_asarray_python_complex_keeps_signed_zero_parts():
    # Python scalars are cached by value, and complex(inf, -0.0) == complex(inf, 0.0).
    for z in (complex(np.inf, 0.0), complex(np.inf, -0.0), complex(-0.0, 1.0), complex(0.0, 1.0)):
        got = np.asarray(xp.asarray(z))
        assert np.signbit(got.real) == np.signbit(z.real)
        assert np.signbit(got.imag) == np.signbit(z.imag)
