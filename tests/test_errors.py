"""Error messages name the user's file and line."""

import pytest

import lazyarr as xp
from lazyarr import _errors
from tests.helpers import next_line


def test_user_location_skips_lazyarr_frames():
    x = xp.asarray([1.0, 2.0])
    where = next_line()
    loc = xp.negative(x)._node.loc  # several lazyarr frames deep
    assert f"{loc[0]}:{loc[1]}" == where


def test_build_time_error_names_the_line():
    a, b = xp.ones((2, 3)), xp.ones((4,))
    with pytest.raises(ValueError) as info:
        where = next_line()
        a + b
    assert where in str(info.value)
    assert "(2, 3)" in str(info.value) and "(4,)" in str(info.value)


def test_dtype_error_names_the_line_and_dtypes():
    with pytest.raises(TypeError) as info:
        where = next_line()
        xp.bitwise_and(xp.ones(3), xp.ones(3))
    assert where in str(info.value)
    assert "float64" in str(info.value)


def test_evaluation_error_names_the_line_that_built_the_node():
    x = xp.asarray([1, 2, 3])
    idx = xp.asarray([0, 1]) * 5  # a lazy index: only known when evaluated
    where = next_line()
    y = xp.take(x, idx)
    with pytest.raises(IndexError) as info:
        y.__array__()
    assert where in str(info.value)


def test_relocate_keeps_the_exception_type_and_cause():
    original = KeyError("boom")
    moved = _errors.relocate(original, ("f.py", 3, "g"), "op")
    assert isinstance(moved, KeyError)
    assert moved.__cause__ is original
    assert "f.py:3" in str(moved)
