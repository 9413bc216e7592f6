"""Differential tests of ``all``, ``any`` and ``diff`` against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lazyarr as xp
from tests.helpers import ALL, MORE_EXAMPLES, assert_matches, next_line, numpy_arrays, shapes
from tests.test_statistical_functions import axis_args


# ----------------------------------------------------------------------------- all / any
@pytest.mark.parametrize("name", ["all", "any"])
@MORE_EXAMPLES
@given(data=st.data())
def test_all_any(name, data):
    x = data.draw(numpy_arrays(ALL), label="x")
    axis = data.draw(axis_args(x.ndim), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    assert_matches(getattr(xp, name)(xp.asarray(x), axis=axis, keepdims=keepdims), expected)


@pytest.mark.parametrize(
    "values",
    [
        [0.0, -0.0],
        [np.nan, 0.0],
        [0j, 1j],
        [0j, np.nan * 1j],
        [np.inf, 1.0],
        [],
    ],
)
def test_all_any_truthiness_of_special_values(values):
    # -0.0 is false; NaN, inf and a non-zero imaginary part are true.
    x = np.array(
        values, dtype=np.complex128 if any(isinstance(v, complex) for v in values) else None
    )
    for name in ("all", "any"):
        assert_matches(getattr(xp, name)(xp.asarray(x)), getattr(np, name)(x))


def test_all_any_empty_reductions():
    x = np.zeros((0, 3), dtype=np.int8)
    for name in ("all", "any"):
        for axis in (None, 0, 1):
            expected = getattr(np, name)(x, axis=axis, keepdims=True)
            assert_matches(getattr(xp, name)(xp.asarray(x), axis=axis, keepdims=True), expected)


# ----------------------------------------------------------------------------- diff
@st.composite
def diff_cases(draw):
    x = draw(numpy_arrays(ALL, shape=shapes(min_dims=1)), label="x")
    axis = draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    n = draw(st.integers(0, 3), label="n")

    def extra():
        shape = list(x.shape)
        shape[axis] = draw(st.integers(0, 2))
        return draw(numpy_arrays([x.dtype], shape=tuple(shape)))

    prepend = extra() if draw(st.booleans(), label="has prepend") else None
    append = extra() if draw(st.booleans(), label="has append") else None
    return x, axis, n, prepend, append


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf - inf in NumPy
@MORE_EXAMPLES
@given(case=diff_cases())
def test_diff(case):
    x, axis, n, prepend, append = case
    kwargs = {}
    if prepend is not None:
        kwargs["prepend"] = prepend
    if append is not None:
        kwargs["append"] = append
    expected = np.diff(x, n=n, axis=axis, **kwargs)
    lazy_kwargs = {k: xp.asarray(v) for k, v in kwargs.items()}
    assert_matches(xp.diff(xp.asarray(x), n=n, axis=axis, **lazy_kwargs), expected)


def test_diff_bool_uses_not_equal():
    x = np.array([True, False, False, True, True])
    for n in range(4):
        out = xp.diff(xp.asarray(x), n=n)
        assert out.dtype == np.bool_
        assert_matches(out, np.diff(x, n=n))


def test_diff_unsigned_wraps_like_numpy():
    x = np.array([5, 3, 10], dtype=np.uint8)
    assert_matches(xp.diff(xp.asarray(x)), np.diff(x))
    assert_matches(xp.diff(xp.asarray(x), n=2), np.diff(x, n=2))


def test_diff_order_beyond_length_is_empty():
    x = np.arange(6, dtype=np.int32).reshape(2, 3)
    for n in (3, 4, 7):
        assert_matches(xp.diff(xp.asarray(x), n=n), np.diff(x, n=n))
        assert_matches(xp.diff(xp.asarray(x), axis=0, n=n), np.diff(x, axis=0, n=n))


def test_diff_prepend_append_numpy_arrays():
    x = np.array([[1.0, 4.0], [9.0, 16.0]])
    pre, app = np.array([[0.0], [1.0]]), np.array([[-1.0], [2.0]])
    expected = np.diff(x, axis=1, prepend=pre, append=app)
    assert_matches(xp.diff(xp.asarray(x), axis=1, prepend=pre, append=app), expected)


def test_diff_errors_name_the_line():
    with pytest.raises(ValueError) as info:
        where = next_line()
        xp.diff(xp.asarray(3))
    assert where in str(info.value)
    with pytest.raises(ValueError, match="non-negative") as info:
        where = next_line()
        xp.diff(xp.ones(3), n=-1)
    assert where in str(info.value)
    with pytest.raises(ValueError, match="out of bounds") as info:
        where = next_line()
        xp.diff(xp.ones((2, 3)), axis=2)
    assert where in str(info.value)
    with pytest.raises(TypeError, match="integer") as info:
        where = next_line()
        xp.diff(xp.ones(3), n=1.5)
    assert where in str(info.value)
    with pytest.raises(ValueError) as info:
        where = next_line()
        xp.diff(xp.ones((2, 3)), axis=1, prepend=xp.ones((3, 1)))
    assert where in str(info.value)
