"""Materialization outside jit: values are computed once and kept, read-only."""

import numpy as np
import pytest

import lazyarr as xp
from lazyarr.compile import eager


def test_values_are_kept_and_read_only():
    x = xp.exp(xp.asarray([0.0, 1.0]))
    assert x._node.value is None
    first = np.asarray(x)
    assert x._node.value is first
    assert np.asarray(x) is first
    assert not first.flags.writeable
    with pytest.raises(ValueError):
        first[0] = 5.0


def test_an_equal_expression_built_later_finds_the_value():
    a = xp.asarray([1.0, 2.0])
    y = xp.sin(a) * 2
    value = np.asarray(y)
    assert (xp.sin(a) * 2)._node.value is value
    del y


def test_materialize_several_nodes_in_one_pass():
    a = xp.asarray([1.0, 4.0])
    s, r = xp.sqrt(a), xp.sqrt(a) + 1
    eager.materialize([s._node, r._node, s._node])
    np.testing.assert_array_equal(np.asarray(s), [1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(r), [2.0, 3.0])


def test_compute_returns_the_arrays_with_their_values():
    a = xp.exp(xp.arange(3.0))
    total, peak = xp.compute(xp.sum(a), xp.max(a))
    assert total._node.value is not None and peak._node.value is not None
    assert float(total) == pytest.approx(np.exp(np.arange(3.0)).sum())
    assert xp.compute() == ()
    with pytest.raises(TypeError, match="compute"):
        xp.compute(np.ones(3))
