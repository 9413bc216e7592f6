"""Differential tests of the standard's 67 elementwise functions against NumPy.

lazyarr's NumPy backend calls the same ufunc NumPy does, so results must be equal
exactly: values, NaN positions, signed zeros, shape and dtype. The one deliberate
deviation: where NumPy's loop would compute in float16 (``np.sin(int8)``), lazyarr
computes and returns float32, so the reference is then NumPy run in float32.
"""

from __future__ import annotations

import itertools

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
    NUMERIC,
    REAL,
    assert_matches,
    next_line,
    numpy_arrays,
    numpy_function,
    reference,
    shapes,
)

# Python scalars that do not fit float32 overflow to inf with a warning, in NumPy as here.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")

# ----------------------------------------------------------------------------- the tables
# Every dtype NumPy's function accepts (inputs promoted to one dtype). Bool and small
# integers go through float loops for the transcendental functions.
UNARY: dict[str, list[np.dtype]] = {
    "abs": ALL,
    "acos": ALL,
    "acosh": ALL,
    "asin": ALL,
    "asinh": ALL,
    "atan": ALL,
    "atanh": ALL,
    "bitwise_invert": BOOL + INTEGER,
    "ceil": BOOL + REAL,
    "conj": ALL,
    "cos": ALL,
    "cosh": ALL,
    "exp": ALL,
    "expm1": ALL,
    "floor": BOOL + REAL,
    "imag": ALL,
    "isfinite": ALL,
    "isinf": ALL,
    "isnan": ALL,
    "log": ALL,
    "log1p": ALL,
    "log2": ALL,
    "log10": ALL,
    "logical_not": ALL,
    "negative": NUMERIC,
    "positive": NUMERIC,
    "real": ALL,
    "reciprocal": ALL,
    "round": NUMERIC,
    "sign": NUMERIC,
    "signbit": BOOL + REAL,
    "sin": ALL,
    "sinh": ALL,
    "sqrt": ALL,
    "square": ALL,
    "tan": ALL,
    "tanh": ALL,
    "trunc": BOOL + REAL,
}
BINARY: dict[str, list[np.dtype]] = {
    "add": ALL,
    "atan2": BOOL + REAL,
    "bitwise_and": BOOL + INTEGER,
    "bitwise_left_shift": BOOL + INTEGER,
    "bitwise_or": BOOL + INTEGER,
    "bitwise_right_shift": BOOL + INTEGER,
    "bitwise_xor": BOOL + INTEGER,
    "copysign": BOOL + REAL,
    "divide": ALL,
    "equal": ALL,
    "floor_divide": BOOL + REAL,
    "greater": ALL,
    "greater_equal": ALL,
    "hypot": BOOL + REAL,
    "less": ALL,
    "less_equal": ALL,
    "logaddexp": BOOL + REAL,
    "logical_and": ALL,
    "logical_or": ALL,
    "logical_xor": ALL,
    "maximum": ALL,
    "minimum": ALL,
    "multiply": ALL,
    "nextafter": BOOL + REAL,
    "not_equal": ALL,
    "pow": ALL,
    "remainder": BOOL + REAL,
    "subtract": NUMERIC,
}
# Complex numbers have no order: clip rejects them (NumPy orders them lexicographically).
CLIP = BOOL + REAL
TABLE = {**UNARY, **BINARY, "clip": CLIP}
# Accepted by NumPy, rejected by lazyarr on purpose: np.round(bool) rounds into float16;
# the standard defines round for numeric dtypes only.
DEVIATIONS = {("round", np.dtype(bool))} | {("clip", d) for d in COMPLEX}
COMPARISONS = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]
# NumPy 2 answers these for a Python int outside an integer array's range (it compares
# exactly, or converts the int straight to the float loop's dtype); lazyarr raises.
NUMPY_TAKES_OUT_OF_RANGE_INTS = {
    *COMPARISONS,
    *("atan2", "copysign", "divide", "hypot", "logaddexp", "nextafter"),
    *("logical_and", "logical_or", "logical_xor"),
}


def nin(name: str) -> int:
    return 3 if name == "clip" else 1 if name in UNARY else 2


def check(build, expected, *, rtol=None):
    """``build()`` matches NumPy's ``expected``, or raises the same class of exception
    (when building the graph or when computing it)."""
    if isinstance(expected, type):
        with pytest.raises(expected):
            np.asarray(build())
        return
    assert_matches(build(), expected, rtol=rtol)


def lazy(a):
    return xp.asarray(a) if isinstance(a, np.ndarray) else a


def python_scalars(dtype: np.dtype):
    """Python scalars of every kind; ints fit ``dtype`` when it is an integer dtype."""
    if dtype.kind in "iu":
        ii = np.iinfo(dtype)
        ints = st.integers(int(ii.min), int(ii.max))
    elif dtype.kind == "b":
        ints = st.integers(-(2**63), 2**63 - 1)
    else:
        ints = st.integers(-(2**53), 2**53)
    return st.one_of(st.booleans(), ints, st.floats(), st.complex_numbers())


def nonnegative_exponent(name: str, x: np.ndarray) -> np.ndarray:
    """Integer ``pow`` of a negative exponent raises; keep most draws computable."""
    if name == "pow" and x.dtype.kind == "i":
        return x & np.iinfo(x.dtype).max
    return x


def special_values(dtype: np.dtype) -> np.ndarray:
    """Extremes and the values where rounding, sign and NaN rules show."""
    if dtype.kind == "b":
        return np.array([False, True])
    if dtype.kind in "iu":
        ii = np.iinfo(dtype)
        vals = {ii.min, ii.min + 1, -1, 0, 1, 2, 7, ii.max - 1, ii.max}
        if ii.bits == 64:
            vals |= {2**53, 2**53 + 1}
        return np.array(sorted(v for v in vals if ii.min <= v <= ii.max), dtype=dtype)
    fi = np.finfo(dtype)
    reals = [np.nan, -np.inf, -fi.max, -2.5, -1.0, -0.5, -0.0, 0.0, fi.tiny, 0.5, 1.0, 1.5]
    reals += [3.0, fi.max, np.inf]
    if dtype.kind == "f":
        return np.array(reals, dtype=dtype)
    parts = [np.nan, -np.inf, -1.5, -0.0, 0.0, 0.5, 2.0, np.inf]
    return np.array([complex(a, b) for a in parts for b in parts], dtype=dtype)


# ----------------------------------------------------------------------------- tables
def test_tables_cover_the_standard():
    names = set(UNARY) | set(BINARY) | {"clip"}
    assert len(names) == 67
    for name in names:
        assert callable(getattr(xp, name)), name


@pytest.mark.parametrize("name", sorted(TABLE))
def test_dtype_table(name):
    """Each accepted dtype gives NumPy's result dtype; every other dtype is a TypeError,
    as in NumPy, raised where the user called the function."""
    for dtype in ALL:
        x = np.ones((2,), dtype=dtype)
        args = (x,) * nin(name)
        expected = reference(numpy_function(name), *args)
        if dtype in TABLE[name]:
            assert not isinstance(expected, type), (name, dtype)
            assert getattr(xp, name)(*map(xp.asarray, args)).dtype == expected.dtype
            continue
        if (name, dtype) not in DEVIATIONS:
            assert expected is TypeError, (name, dtype)
        with pytest.raises(TypeError) as info:
            where = next_line()
            getattr(xp, name)(*map(xp.asarray, args))
        assert where in str(info.value)


# ----------------------------------------------------------------------------- values
@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary(name, data):
    x = data.draw(numpy_arrays(UNARY[name]), label="x")
    # NumPy arrays are accepted as arguments too (taken as constants).
    as_lazy = data.draw(st.booleans(), label="as_lazy")
    expected = reference(numpy_function(name), x)
    check(lambda: getattr(xp, name)(xp.asarray(x) if as_lazy else x), expected)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_special_values(name):
    for dtype in UNARY[name]:
        x = special_values(dtype)
        check(lambda x=x: getattr(xp, name)(xp.asarray(x)), reference(numpy_function(name), x))


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary(name, data):
    """Broadcast shapes (0-d and empty included), same or mixed dtypes, any layout."""
    s1, s2 = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, min_side=0, max_side=4),
        label="shapes",
    ).input_shapes
    x1 = data.draw(numpy_arrays(BINARY[name], shape=s1), label="x1")
    same = data.draw(st.booleans(), label="same dtype")
    x2 = data.draw(numpy_arrays([x1.dtype] if same else BINARY[name], shape=s2), label="x2")
    x2 = nonnegative_exponent(name, x2)
    expected = reference(numpy_function(name), x1, x2)
    check(lambda: getattr(xp, name)(xp.asarray(x1), xp.asarray(x2)), expected)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_dtype_pairs(name):
    """Every pair of dtypes, on every pair of special values: mixed-kind promotion
    (``int16`` with ``uint16``, ``int64`` with ``uint64``) must pick NumPy's loop."""
    f_np, f_xp = numpy_function(name), getattr(xp, name)
    for d1, d2 in itertools.product(ALL, ALL):
        x1 = special_values(d1)[:, None]
        x2 = nonnegative_exponent(name, special_values(d2))[None, :]
        check(lambda x1=x1, x2=x2: f_xp(xp.asarray(x1), xp.asarray(x2)), reference(f_np, x1, x2))


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_python_scalar(name, data):
    """Python scalars on either side are weak (NEP 50): ``int8_array + 1`` stays int8."""
    x = data.draw(numpy_arrays(BINARY[name]), label="x")
    s = data.draw(python_scalars(x.dtype), label="scalar")
    args = (s, x) if data.draw(st.booleans(), label="scalar first") else (x, s)
    expected = reference(numpy_function(name), *args)
    if name.startswith("logical_") and expected is OverflowError:
        # NOTE: NumPy converts a Python int to its bool loop through a C long, which
        # overflows from 2**63 on; the truth value of the int is the answer.
        expected = reference(numpy_function(name), *(bool(a) if a is s else a for a in args))
    check(lambda: getattr(xp, name)(*map(lazy, args)), expected)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_python_scalar_dtypes(name):
    """Every array dtype with every kind of Python scalar, on both sides."""
    f_np, f_xp = numpy_function(name), getattr(xp, name)
    for dtype in ALL:
        x = special_values(dtype)
        for s in (True, 2, 2.5, -0.0, float("nan"), 1e-300, 1.5 - 0.5j):
            for args in ((x, s), (s, x)):
                check(lambda args=args: f_xp(*map(lazy, args)), reference(f_np, *args))


def test_python_int_keeps_integer_dtype():
    for dtype in INTEGER:
        x = xp.asarray(np.arange(3, dtype=dtype))
        assert (x + 1).dtype == dtype
        assert xp.multiply(2, x).dtype == dtype
    assert xp.add(xp.asarray(np.ones(2, np.float32)), 1.5).dtype == np.float32
    assert xp.add(xp.asarray(np.ones(2, np.float32)), 1j).dtype == np.complex64


@pytest.mark.parametrize("name", [n for n in sorted(BINARY) if set(INTEGER) <= set(BINARY[n])])
def test_out_of_range_python_int(name):
    """A Python int that does not fit the integer dtype the function computes in is an
    OverflowError at the user's line, as in NumPy. Where NumPy's loop is not an integer
    one, or it compares exactly (``NUMPY_TAKES_OUT_OF_RANGE_INTS``), the standard leaves
    the result unspecified: lazyarr raises OverflowError or gives NumPy's answer."""
    f_np, f_xp = numpy_function(name), getattr(xp, name)
    for dtype in INTEGER:
        ii = np.iinfo(dtype)
        x = np.array([0, 1, ii.max], dtype=dtype)
        for value in (int(ii.max) + 1, int(ii.min) - 1, 2**70):
            for args in ((x, value), (value, x)):
                expected = reference(f_np, *args)
                if name not in NUMPY_TAKES_OUT_OF_RANGE_INTS:
                    assert expected is OverflowError, (name, dtype, value)
                try:
                    where = next_line()
                    result = f_xp(*map(lazy, args))
                except OverflowError as e:
                    assert where in str(e)
                    continue
                assert name in NUMPY_TAKES_OUT_OF_RANGE_INTS, (name, dtype, value)
                if expected is not OverflowError:  # NumPy itself raises for some (2**70)
                    check(lambda result=result: result, expected)


def test_float16_loops_compute_in_float32():
    """The deliberate deviation: NumPy's float16 loops become float32 ones."""
    x = np.array([1, 2, 100], dtype=np.int8)
    assert np.sin(x).dtype == np.float16
    assert_matches(xp.sin(xp.asarray(x)), np.sin(x.astype(np.float32)))
    assert_matches(
        xp.atan2(xp.asarray(x), xp.asarray(np.array([True, False, True]))),
        np.arctan2(x.astype(np.float32), np.array([1, 0, 1], dtype=np.float32)),
    )


# ----------------------------------------------------------------------------- clip
def _bounds(dtype: np.dtype):
    return st.none() | python_scalars(dtype).filter(lambda v: not isinstance(v, complex))


def clip_reference(x, lo, hi):
    """``np.clip``, except that no bounds at all give x back (NumPy's clip then calls
    ``np.positive``, which rejects bool)."""
    if lo is None and hi is None:
        return np.asarray(x)
    return reference(np.clip, x, lo, hi)


@given(data=st.data())
def test_clip_scalar_bounds(data):
    """Scalar bounds follow the promotion rules for scalars, as in NumPy.

    NaN and infinities included. Zeros are compared without their sign: NumPy's own
    clip picks the sign of a tied zero differently for scalar and array bounds.
    """
    x = data.draw(numpy_arrays(CLIP), label="x")
    lo = data.draw(_bounds(x.dtype), label="min")
    hi = data.draw(_bounds(x.dtype), label="max")
    expected = clip_reference(x, lo, hi)
    if data.draw(st.booleans(), label="keywords"):
        check(lambda: xp.clip(xp.asarray(x), min=lo, max=hi), expected, rtol=0)
    else:
        check(lambda: xp.clip(xp.asarray(x), lo, hi), expected, rtol=0)


@given(data=st.data())
def test_clip_array_bounds(data):
    """Array bounds of x's dtype broadcast with x (and may broadcast x)."""
    s, s_lo, s_hi = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, min_side=0, max_side=3),
        label="shapes",
    ).input_shapes
    x = data.draw(numpy_arrays(CLIP, shape=s), label="x")
    lo = data.draw(st.none() | numpy_arrays([x.dtype], shape=s_lo), label="min")
    hi = data.draw(st.none() | numpy_arrays([x.dtype], shape=s_hi), label="max")
    expected = clip_reference(x, lo, hi)
    check(lambda: xp.clip(xp.asarray(x), lazy(lo), lazy(hi)), expected, rtol=0)


@given(
    x=numpy_arrays(INTEGER),
    lo=st.none() | st.integers(-(2**70), 2**70),
    hi=st.none() | st.integers(-(2**70), 2**70),
)
def test_clip_out_of_range_int_bounds(x, lo, hi):
    """Python int bounds outside an integer dtype's range clamp to it: the dtype stays."""
    ii = np.iinfo(x.dtype)

    def clamp(b):
        return None if b is None else min(max(b, int(ii.min)), int(ii.max))

    expected = np.clip(x, clamp(lo), clamp(hi))
    assert expected.dtype == x.dtype
    assert_matches(xp.clip(xp.asarray(x), lo, hi), expected)


def test_clip_nan_bounds_propagate():
    x = np.array([-1.0, 0.5, np.nan, 3.0])
    for lo, hi in ((np.nan, None), (None, np.nan), (0.0, np.nan), (np.nan, 1.0)):
        assert_matches(xp.clip(xp.asarray(x), lo, hi), np.clip(x, lo, hi))


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("name", [*sorted(UNARY), "clip"])
@pytest.mark.parametrize("arg", [1.5, True, [1.0, 2.0], None, np.ones(2, np.float16)], ids=repr)
def test_unary_rejects_non_arrays(name, arg):
    """A Python scalar, a list or an array of an unsupported dtype is a TypeError."""
    with pytest.raises(TypeError) as info:
        where = next_line()
        getattr(xp, name)(arg)
    assert where in str(info.value)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_incompatible_shapes(name):
    dtype = BINARY[name][-1]
    x1, x2 = xp.asarray(np.ones((2, 3), dtype)), xp.asarray(np.ones((4,), dtype))
    for args in ((x1, x2), (x2, x1)):
        with pytest.raises(ValueError) as info:
            where = next_line()
            getattr(xp, name)(*args)
        assert where in str(info.value)
        assert reference(numpy_function(name), *map(np.asarray, args)) is ValueError


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_all_scalars(name):
    with pytest.raises(TypeError) as info:
        where = next_line()
        getattr(xp, name)(1, 2)
    assert where in str(info.value)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("other", [None, "1", [1, 2], np.ones(2, np.float16)], ids=repr)
def test_binary_rejects_other_operands(name, other):
    x = xp.asarray(np.ones(2, BINARY[name][-1]))
    for args in ((x, other), (other, x)):
        with pytest.raises(TypeError) as info:
            where = next_line()
            getattr(xp, name)(*args)
        assert where in str(info.value)


@pytest.mark.parametrize(
    "x, bound",
    [(np.ones(2, np.complex128), 0.5), (np.ones(2), 1j), (np.ones(2), np.ones(2, np.complex64))],
    ids=["complex x", "complex scalar", "complex array"],
)
def test_clip_rejects_complex(x, bound):
    with pytest.raises(TypeError) as info:
        where = next_line()
        xp.clip(xp.asarray(x), bound)
    assert where in str(info.value)


def test_clip_incompatible_bounds():
    x = xp.asarray(np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError) as info:
        where = next_line()
        xp.clip(x, xp.asarray(np.zeros(4)))
    assert where in str(info.value)


@given(x=numpy_arrays(ALL, shape=shapes(max_dims=2)))
def test_results_are_lazy_arrays_of_the_namespace(x):
    """Every result is an Array whose namespace is lazyarr, ready to chain."""
    y = xp.isnan(xp.asarray(x))
    assert isinstance(y, xp.Array)
    assert y.__array_namespace__() is xp
    assert_matches(xp.logical_not(y), np.logical_not(np.isnan(x)))
