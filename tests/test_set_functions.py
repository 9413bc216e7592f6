"""Differential tests of the set functions (``unique_*``, ``isin``) against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lazyarr as xp
from tests.helpers import ALL, MORE_EXAMPLES, assert_matches, lazy, numpy_arrays


def _check_unique(x: np.ndarray, a: xp.Array) -> None:
    values, indices, inverse, counts = xp.unique_all(a)
    flat = x.reshape(-1)
    expected = np.unique(flat, equal_nan=False) if x.size else flat
    assert_matches(values, expected)
    assert indices.dtype == inverse.dtype == counts.dtype == np.int64
    assert inverse.shape == x.shape
    v, i, inv, c = (np.asarray(t) for t in (values, indices, inverse, counts))
    np.testing.assert_array_equal(flat[i], v)
    np.testing.assert_array_equal(v[inv], x)
    assert c.sum() == x.size
    for value, index, count in zip(v, i, c):
        same = flat == value  # False for NaN: each NaN counts once
        assert count == max(same.sum(), 1)
        assert index == (np.argmax(same) if same.any() else index)
    # Every NaN is distinct.
    if x.dtype.kind in "fc":
        assert np.isnan(v).sum() == np.isnan(flat).sum()
    for name, fields in [
        ("unique_counts", ("values", "counts")),
        ("unique_inverse", ("values", "inverse_indices")),
    ]:
        result = getattr(xp, name)(a)
        assert result._fields == fields
        assert_matches(result.values, expected)
    assert_matches(xp.unique_values(a), expected)


@MORE_EXAMPLES
@given(data=st.data())
def test_unique(data):
    x = data.draw(numpy_arrays(ALL), label="x")
    # Few distinct values, so that repeats are common.
    x = x if x.dtype == np.bool_ else (x % 3 if x.dtype.kind in "iu" else x)
    a = lazy(x) if data.draw(st.booleans()) else xp.asarray(x)
    _check_unique(x, a)


def test_unique_signed_zeros_are_one_value():
    values, counts = xp.unique_counts(xp.asarray([0.0, -0.0, np.nan, np.nan, 1.0]))
    assert np.asarray(counts).tolist() == [2, 1, 1, 1]
    assert np.isnan(np.asarray(values)).sum() == 2


@MORE_EXAMPLES
@given(data=st.data())
def test_isin(data):
    dtypes = data.draw(st.sampled_from([[np.dtype(d)] for d in ALL]))
    x1 = data.draw(numpy_arrays(dtypes), label="x1")
    x2 = data.draw(numpy_arrays(dtypes), label="x2")
    invert = data.draw(st.booleans(), label="invert")
    expected = np.isin(x1, x2, invert=invert)
    assert_matches(xp.isin(lazy(x1), xp.asarray(x2), invert=invert), expected)


def test_isin_scalars_and_promotion():
    assert_matches(xp.isin(2, xp.asarray([1, 2])), np.asarray(True))
    assert_matches(xp.isin(xp.asarray([1, 5], dtype=xp.int8), 5), np.asarray([False, True]))
    assert_matches(xp.isin(xp.asarray([np.nan, 1.0]), xp.asarray([np.nan])), [False, False])
    with pytest.raises(TypeError):
        xp.isin(1, 2)


@pytest.mark.parametrize(
    ("fn", "reference"),
    [
        (xp.unique_values, np.unique),
        (lambda x: xp.nonzero(x)[0], lambda x: np.nonzero(x)[0]),
        (lambda x: xp.repeat(x, xp.astype(x, xp.int64)), lambda x: np.repeat(x, x.astype(int))),
        (lambda x: x[x > 0], lambda x: x[x > 0]),
    ],
)
def test_data_dependent_shapes_inside_jit_have_unknown_length(fn, reference):
    shapes = []

    @xp.jit
    def f(x):
        out = fn(x)
        shapes.append((out.shape, out.size))
        return out

    x = np.asarray([2.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(f(x)), reference(x))
    assert shapes == [((None,), None)]
