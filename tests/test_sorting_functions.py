"""Differential tests of ``sort`` and ``argsort`` against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lazyarr as xp
from tests.helpers import BOOL, MORE_EXAMPLES, REAL, assert_matches, lazy, next_line, numpy_arrays


def _reference_argsort(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """The standard's stable order, built from Python's stable ``sorted`` per lane."""
    moved = np.moveaxis(x, axis, -1)
    out = np.empty(moved.shape, dtype=np.int64)
    for lane in np.ndindex(moved.shape[:-1]):
        row = moved[lane]
        # NaN after everything ascending, before everything descending (NumPy's flip);
        # Python's sort stays stable with reverse=True: ties keep their original order.
        key = [(bool(np.isnan(v)) if row.dtype.kind == "f" else False, v) for v in row]
        out[lane] = sorted(range(len(row)), key=key.__getitem__, reverse=descending)
    return np.moveaxis(out, -1, axis)


@MORE_EXAMPLES
@given(data=st.data())
def test_sort_and_argsort(data):
    x = data.draw(numpy_arrays(BOOL + REAL, shape=st.sampled_from([(0,), (5,), (3, 4), (2, 0, 3)])))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    descending = data.draw(st.booleans(), label="descending")
    stable = data.draw(st.booleans(), label="stable")
    a = lazy(x) if data.draw(st.booleans()) else xp.asarray(x)
    order = _reference_argsort(x, axis, descending)
    assert_matches(xp.argsort(a, axis=axis, descending=descending, stable=stable), order)
    expected = np.take_along_axis(x, order, axis)
    assert_matches(xp.sort(a, axis=axis, descending=descending, stable=stable), expected)


def test_descending_argsort_keeps_ties_in_order():
    x = xp.asarray([1, 3, 1, 3, 2])
    assert np.asarray(xp.argsort(x, descending=True)).tolist() == [1, 3, 4, 0, 2]
    assert np.asarray(xp.argsort(x)).tolist() == [0, 2, 4, 1, 3]


def test_sort_nan_placement():
    x = xp.asarray([np.nan, 1.0, -np.inf, np.nan, 0.0])
    np.testing.assert_array_equal(np.asarray(xp.sort(x)), [-np.inf, 0.0, 1.0, np.nan, np.nan])
    np.testing.assert_array_equal(
        np.asarray(xp.sort(x, descending=True)), [np.nan, np.nan, 1.0, 0.0, -np.inf]
    )


@pytest.mark.parametrize(
    ("x", "kwargs", "error"),
    [
        (np.asarray(1.0), {}, ValueError),
        (np.ones(3), {"axis": 1}, IndexError),
        (np.ones(3, dtype=np.complex128), {}, TypeError),
    ],
)
@pytest.mark.parametrize("name", ["sort", "argsort"])
def test_sort_errors(name, x, kwargs, error):
    with pytest.raises(error) as info:
        where = next_line()
        getattr(xp, name)(xp.asarray(x), **kwargs)
    assert where in str(info.value)


def test_sort_is_lazy():
    x = lazy(np.array([3.0, 1.0, 2.0]))
    s = xp.sort(x)
    assert s._node.value is None and s._node.op.name == "sort"
