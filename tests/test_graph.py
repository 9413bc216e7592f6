"""The graph: interned immutable nodes, iterative traversal, source locations."""

import gc
import sys

import numpy as np

import lazyarr as xp
from lazyarr import _graph


def test_equal_expressions_are_one_node():
    x = xp.asarray([1.0, 2.0])
    a = xp.exp(x) + x * 2
    b = xp.exp(x) + x * 2
    assert a._node is b._node
    assert (x + 1)._node is not (x + 2)._node


def test_literals_are_interned_by_bits():
    x, y = xp.asarray([1.0]), xp.asarray([1.0], dtype=xp.float32)

    def literal(a):
        return a._node.inputs[1]

    assert literal(x * 1.5) is literal(x + 1.5)
    assert literal(x * 0.0) is not literal(x * -0.0)
    assert literal(x * 1.5) is not literal(y * 1.5)
    assert np.isnan(float((x * float("nan"))[0]))
    # Data from the user is its own leaf, even when equal to a literal.
    assert xp.asarray(1.5)._node is not literal(x * 1.5)


def test_each_users_buffer_is_a_leaf_of_its_own():
    """Equal data, or the same data given twice, never merges: each is its own leaf,
    keyed by its buffer, so an expression over two of them reads both."""
    a, b = xp.asarray([1.0, 2.0]), xp.asarray([1.0, 2.0])
    assert a._node is not b._node
    assert a._node.inputs == () and a._node.loc is None
    assert a._node.attrs != b._node.attrs
    assert (a + b)._node.inputs == (a._node, b._node)
    assert (a + b)._node is not (a + a)._node
    np.testing.assert_array_equal(np.asarray(a + b), [2.0, 4.0])


def test_nodes_are_released_when_unreferenced():
    x = xp.asarray(np.arange(5.0))
    gc.collect()
    before = _graph.live_node_count()
    y = xp.sin(x) * x + xp.cos(x)  # no Python scalars: those are cached on purpose
    assert _graph.live_node_count() > before
    del y
    gc.collect()
    assert _graph.live_node_count() <= before


def test_deep_chain_builds_evaluates_and_frees_without_recursion():
    limit = sys.getrecursionlimit()
    x = xp.asarray(0.0)
    for _ in range(100_000):
        x = x + 1.0
    assert float(x) == 100_000.0
    assert sys.getrecursionlimit() == limit
    del x
    gc.collect()


def test_nodes_record_the_users_line():
    x = xp.asarray([1.0])
    y = x * 7.25  # the line recorded below
    filename, lineno, function = y._node.loc
    assert filename == __file__
    assert lineno == sys._getframe().f_lineno - 3
    assert function == "test_nodes_record_the_users_line"
