"""Differential tests of the statistical functions against NumPy.

``sum``/``prod``/``max``/``min``/cumulative ops call the same NumPy routine on the
same values, and ``mean``/``var``/``std`` are written to reproduce NumPy's own
algorithm, so every result (floats included) must match NumPy exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

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

# NumPy warns about empty slices and non-positive degrees of freedom; the values
# (NaN, inf) are what the tests compare.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@st.composite
def axis_args(draw, ndim: int, *, tuples: bool = True):
    """``None``, an int (possibly negative), or a tuple of distinct, possibly negative axes."""
    kinds = ["none"] + (["int"] if ndim else []) + (["tuple"] if tuples else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    axes = draw(st.permutations(range(ndim)))[: draw(st.integers(0, ndim))]
    return tuple(a - ndim if draw(st.booleans()) else a for a in axes)


def _castable(dtype: np.dtype) -> list[np.dtype]:
    """Accumulation dtypes that ``dtype`` casts to within its kind (or upwards in kind)."""
    return [d for d in ALL if np.can_cast(dtype, d, "same_kind") and d != np.bool_]


def _reduction_case(data, dtypes=ALL):
    x = data.draw(numpy_arrays(dtypes), label="x")
    axis = data.draw(axis_args(x.ndim), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    return x, axis, keepdims


# ----------------------------------------------------------------------------- sum / prod
@pytest.mark.parametrize("name", ["sum", "prod"])
@MORE_EXAMPLES
@given(data=st.data())
def test_sum_prod_default_dtype(name, data):
    x, axis, keepdims = _reduction_case(data)
    expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    assert_matches(getattr(xp, name)(xp.asarray(x), axis=axis, keepdims=keepdims), expected)


@pytest.mark.parametrize("name", ["sum", "prod"])
@MORE_EXAMPLES
@given(data=st.data())
def test_sum_prod_explicit_dtype(name, data):
    x, axis, keepdims = _reduction_case(data)
    dtype = data.draw(st.sampled_from(_castable(x.dtype)), label="dtype")
    expected = getattr(np, name)(x, axis=axis, dtype=dtype, keepdims=keepdims)
    actual = getattr(xp, name)(xp.asarray(x), axis=axis, dtype=dtype, keepdims=keepdims)
    assert_matches(actual, expected)


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        ("bool", "int64"),
        ("int8", "int64"),
        ("int16", "int64"),
        ("int32", "int64"),
        ("uint8", "uint64"),
        ("uint16", "uint64"),
        ("uint32", "uint64"),
        ("float32", "float32"),
        ("complex64", "complex64"),
    ],
)
@pytest.mark.parametrize("name", ["sum", "prod", "cumulative_sum", "cumulative_prod"])
def test_default_accumulation_dtype(name, dtype, expected):
    x = xp.asarray(np.ones(3, dtype=dtype))
    assert getattr(xp, name)(x).dtype == np.dtype(expected)


def test_sum_of_small_ints_does_not_wrap():
    x = np.full((4, 100), 100, dtype=np.int8)
    assert int(xp.sum(xp.asarray(x))) == 40000
    assert_matches(xp.sum(xp.asarray(x), axis=1), np.full(4, 10000, dtype=np.int64))


# ----------------------------------------------------------------------------- max / min
@pytest.mark.parametrize("name", ["max", "min"])
@MORE_EXAMPLES
@given(data=st.data())
def test_max_min(name, data):
    x, axis, keepdims = _reduction_case(data, BOOL + REAL)
    fn = getattr(xp, name)
    try:
        expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    except ValueError:  # NumPy: zero-size reduction with no identity
        with pytest.raises(ValueError, match="zero-size") as info:
            where = next_line()
            fn(xp.asarray(x), axis=axis, keepdims=keepdims)
        assert where in str(info.value)
        return
    assert_matches(fn(xp.asarray(x), axis=axis, keepdims=keepdims), expected)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_nan_propagates(name):
    x = np.array([[1.0, np.nan, 3.0], [-np.inf, 2.0, np.inf]], dtype=np.float32)
    for axis in (None, 0, 1):
        assert_matches(getattr(xp, name)(xp.asarray(x), axis=axis), getattr(np, name)(x, axis=axis))


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize(
    ("shape", "axis"), [((0,), None), ((2, 0), 1), ((0, 3), (0, 1)), ((0,), 0)]
)
def test_max_min_zero_size_error_names_line(name, shape, axis):
    x = xp.zeros(shape)
    with pytest.raises(ValueError, match=f"{name}: zero-size") as info:
        where = next_line()
        getattr(xp, name)(x, axis=axis)
    assert where in str(info.value)


def test_max_min_zero_size_with_nonempty_reduced_axis():
    # Only the reduced axes matter: a (2, 0) array reduced over axis 0 is empty, not an error.
    x = np.zeros((2, 0), dtype=np.int16)
    assert_matches(xp.max(xp.asarray(x), axis=0), np.max(x, axis=0))
    assert_matches(xp.min(xp.asarray(x), axis=0, keepdims=True), np.min(x, axis=0, keepdims=True))


# ----------------------------------------------------------------------------- mean / var / std
@MORE_EXAMPLES
@given(data=st.data())
def test_mean(data):
    x, axis, keepdims = _reduction_case(data)
    assert_matches(
        xp.mean(xp.asarray(x), axis=axis, keepdims=keepdims),
        np.mean(x, axis=axis, keepdims=keepdims),
    )


corrections = st.one_of(st.integers(0, 6), st.floats(0, 6, allow_nan=False, allow_infinity=False))


@pytest.mark.parametrize("name", ["var", "std"])
@MORE_EXAMPLES
@given(data=st.data())
def test_var_std(name, data):
    x, axis, keepdims = _reduction_case(data)
    correction = data.draw(corrections, label="correction")
    expected = getattr(np, name)(x, axis=axis, ddof=correction, keepdims=keepdims)
    actual = getattr(xp, name)(xp.asarray(x), axis=axis, correction=correction, keepdims=keepdims)
    assert_matches(actual, expected)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("dtype", REAL_FLOAT + COMPLEX)
@MORE_EXAMPLES
@given(data=st.data())
def test_var_std_finite_floats(name, dtype, data):
    # Finite, non-trivial values: the centring and squaring must be NumPy's to the bit.
    x = data.draw(numpy_arrays([dtype], shapes(min_dims=1, min_side=1), finite=True), label="x")
    axis = data.draw(axis_args(x.ndim), label="axis")
    correction = data.draw(corrections, label="correction")
    expected = getattr(np, name)(x, axis=axis, ddof=correction)
    assert_matches(getattr(xp, name)(xp.asarray(x), axis=axis, correction=correction), expected)


@pytest.mark.parametrize("correction", [2, 3, 3.5, 10])
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_correction_at_least_n(name, correction):
    x = np.array([[1.0, 2.0], [3.0, 3.0]], dtype=np.float32)
    for axis in (None, 0, 1):
        expected = getattr(np, name)(x, axis=axis, ddof=correction)
        actual = getattr(xp, name)(xp.asarray(x), axis=axis, correction=correction)
        assert_matches(actual, expected)


@pytest.mark.parametrize("name", ["mean", "var", "std"])
@pytest.mark.parametrize("dtype", INTEGER + BOOL)
def test_mean_var_std_of_integers_is_float64(name, dtype):
    x = np.arange(12).reshape(3, 4).astype(dtype)
    for axis in (None, 0, (1,)):
        out = getattr(xp, name)(xp.asarray(x), axis=axis)
        assert out.dtype == np.float64
        assert_matches(out, getattr(np, name)(x, axis=axis))


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_complex_is_real(name):
    x = np.array([1 + 2j, -3j, 4.5 + 0.25j, 2], dtype=np.complex64)
    out = getattr(xp, name)(xp.asarray(x))
    assert out.dtype == np.float32
    assert_matches(out, getattr(np, name)(x))


# ----------------------------------------------------------------------------- cumulative
@pytest.mark.parametrize("name", ["cumulative_sum", "cumulative_prod"])
@MORE_EXAMPLES
@given(data=st.data())
def test_cumulative(name, data):
    x = data.draw(numpy_arrays(shape=shapes(min_dims=1)), label="x")
    if x.ndim == 1:
        axis = data.draw(st.sampled_from([None, 0, -1]), label="axis")
    else:
        axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    include_initial = data.draw(st.booleans(), label="include_initial")
    dtype = data.draw(st.none() | st.sampled_from(_castable(x.dtype)), label="dtype")
    expected = getattr(np, name)(x, axis=axis, dtype=dtype, include_initial=include_initial)
    actual = getattr(xp, name)(
        xp.asarray(x), axis=axis, dtype=dtype, include_initial=include_initial
    )
    assert_matches(actual, expected)


@pytest.mark.parametrize("name", ["cumulative_sum", "cumulative_prod"])
def test_cumulative_include_initial_identity(name):
    x = np.array([[2, 3], [4, 5]], dtype=np.uint8)
    out = getattr(xp, name)(xp.asarray(x), axis=0, include_initial=True)
    assert out.shape == (3, 2)
    assert out.dtype == np.uint64
    identity = 0 if name == "cumulative_sum" else 1
    assert (np.asarray(out)[0] == identity).all()
    assert_matches(out, getattr(np, name)(x, axis=0, include_initial=True))


@pytest.mark.parametrize("name", ["cumulative_sum", "cumulative_prod"])
def test_cumulative_axis_required_for_nd(name):
    x = xp.ones((2, 3))
    with pytest.raises(ValueError, match="axis is required") as info:
        where = next_line()
        getattr(xp, name)(x)
    assert where in str(info.value)


@pytest.mark.parametrize("name", ["cumulative_sum", "cumulative_prod"])
def test_cumulative_rejects_0d_and_bad_axis(name):
    with pytest.raises(ValueError) as info:
        where = next_line()
        getattr(xp, name)(xp.asarray(1.0))
    assert where in str(info.value)
    with pytest.raises(ValueError) as info:
        where = next_line()
        getattr(xp, name)(xp.ones((2, 3)), axis=2)
    assert where in str(info.value)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "mean", "var", "std"])
def test_reduction_axis_errors_name_the_line(name):
    x = xp.ones((2, 3))
    fn = getattr(xp, name)
    with pytest.raises(ValueError, match=f"^{name}: axis 2 is out of bounds") as info:
        where = next_line()
        fn(x, axis=2)
    assert where in str(info.value)
    with pytest.raises(ValueError, match=f"^{name}: repeated axis") as info:
        where = next_line()
        fn(x, axis=(1, -1))
    assert where in str(info.value)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("correction", [None, True, "1", 1j])
def test_var_std_correction_type_error_names_line(name, correction):
    with pytest.raises(TypeError, match=f"^{name}: correction") as info:
        where = next_line()
        getattr(xp, name)(xp.ones(3), correction=correction)
    assert where in str(info.value)


def test_var_std_numpy_scalar_correction():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    for c in (np.int64(1), np.float32(1.5)):
        assert_matches(xp.var(xp.asarray(x), correction=c), np.var(x, ddof=c))
        assert_matches(xp.std(xp.asarray(x), correction=c), np.std(x, ddof=c))


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "mean", "var", "std"])
def test_reductions_are_lazy_and_0d(name):
    value = np.float64(np.random.default_rng().random())  # a fresh node, computed by no one yet
    out = getattr(xp, name)(xp.asarray(value))
    assert out.shape == ()
    assert out._node.value is None  # built, not computed
    assert_matches(out, getattr(np, name)(value))


@pytest.mark.parametrize("layout", ["c", "f", "strided", "reversed"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "int16"])
def test_large_reductions_bit_exact(dtype, layout):
    # Large enough for NumPy's pairwise summation to matter, in every memory layout.
    rng = np.random.default_rng(7)
    base = (rng.standard_normal((40, 300)) * 1000).astype(dtype)
    if dtype == "complex64":
        base = base + 1j * base[::-1]
    x = {
        "c": base,
        "f": np.asfortranarray(base),
        "strided": base[::2, ::3],
        "reversed": base[::-1, ::-1],
    }[layout]
    a = xp.asarray(x)
    for axis in (None, 0, 1):
        assert_matches(xp.sum(a, axis=axis), np.sum(x, axis=axis))
        assert_matches(xp.mean(a, axis=axis), np.mean(x, axis=axis))
        assert_matches(xp.var(a, axis=axis, correction=1), np.var(x, axis=axis, ddof=1))
        assert_matches(xp.std(a, axis=axis), np.std(x, axis=axis))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(1, 300), (40, 1)])
def test_reductions_of_broadcast_expressions_bit_exact(shape, dtype):
    # A large elementwise result of broadcast operands is held as a stride-0 view by the
    # NumPy backend; reducing it must still sum in NumPy's order for the materialized array.
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(shape) * 1000).astype(dtype)
    y = np.broadcast_to(x, (40, 300)) * np.asarray(1.5, dtype=dtype)
    a = xp.broadcast_to(xp.asarray(x), (40, 300)) * 1.5
    assert_matches(xp.sum(a), np.sum(y))
    assert_matches(xp.mean(a), np.mean(y))
    assert_matches(xp.var(a), np.var(y))
    assert_matches(xp.std(a, axis=(0, 1)), np.std(y, axis=(0, 1)))
