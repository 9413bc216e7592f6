"""The NumPy reference backend, tested with nodes built directly on the graph."""

import tracemalloc

import numpy as np
import pytest

import lazyarr as xp
from lazyarr._graph import intern
from lazyarr._ops import Op
from lazyarr.compile import numpy_backend


def _counting_op(calls, fn=np.negative, dtype=None):
    def impl(x):
        calls.append(1)
        return fn(x)

    return Op(
        "test_count",
        lambda inputs: (inputs[0].shape, dtype or inputs[0].dtype),
        impl,
        kind="elementwise",
    )


def _node(op, x):
    shape, dtype = op.infer((x,))
    return intern(op, (x,), (), shape, dtype, None)


def test_shared_subgraph_is_computed_once():
    calls = []
    op = _counting_op(calls)
    x = xp.asarray([1.0, 2.0])._node
    shared = _node(op, x)
    a = xp.exp(xp.Array._new(shared))._node
    b = xp.sin(xp.Array._new(shared))._node
    (va, vb), _ = numpy_backend.evaluate([a, b])
    assert len(calls) == 1
    np.testing.assert_array_equal(va, np.exp([-1.0, -2.0]))
    np.testing.assert_array_equal(vb, np.sin([-1.0, -2.0]))


def test_nodes_with_values_are_not_recomputed():
    calls = []
    op = _counting_op(calls)
    n = _node(op, xp.asarray([3.0])._node)
    n.value = np.asarray([-3.0])
    assert numpy_backend.evaluate([n])[0][0] is n.value
    assert calls == []


def test_impl_errors_keep_their_type_and_gain_the_users_line():
    def impl(x):
        raise IndexError("index 9 is out of bounds")

    op = Op("test_fail", lambda inputs: (inputs[0].shape, inputs[0].dtype), impl, kind="index")
    n = intern(op, (xp.asarray([1.0])._node,), (), (1,), np.dtype("float64"), ("user.py", 12, "f"))
    with pytest.raises(IndexError, match=r"user\.py:12"):
        numpy_backend.evaluate([n])


def test_a_value_that_disagrees_with_the_declaration_is_an_internal_error():
    op = _counting_op([], fn=lambda x: x.astype(np.float32), dtype=np.dtype("float64"))
    n = _node(op, xp.asarray([1.0])._node)
    with pytest.raises(numpy_backend.InternalError, match="float32"):
        numpy_backend.evaluate([n])


def test_intermediates_are_released_along_a_chain():
    n = 1_000_000  # 8 MB per intermediate
    x = xp.asarray(np.ones(n))
    y = x
    for _ in range(20):
        y = y * 1.0001 + 0.5
    tracemalloc.start()
    try:
        np.asarray(y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 8 * n, f"peak {peak / 1e6:.0f} MB: intermediates were kept"


def test_broadcast_work_is_done_once_per_distinct_value():
    huge = xp.ones((10**6, 10**6)) * 2 + 1
    tracemalloc.start()
    try:
        value = np.asarray(huge)
        corner = np.asarray(huge[:2, :3])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
    assert value.strides == (0, 0)
    np.testing.assert_array_equal(corner, np.full((2, 3), 3.0))


def test_floating_point_warnings_are_silenced():
    with np.errstate(all="raise"):
        # NOTE: the backend evaluates with warnings off whatever the caller's state.
        assert np.isinf(float(xp.log(xp.asarray(0.0))))


def test_results_reading_a_shared_writeable_buffer_are_not_kept():
    buffer = np.array([1.0, 2.0])
    x = xp.asarray(buffer, copy=False)
    doubled = x * 2
    (value,), keepable = numpy_backend.evaluate([doubled._node])
    assert not keepable
    np.testing.assert_array_equal(value, [2.0, 4.0])
    (value,), keepable = numpy_backend.evaluate([(xp.asarray([1.0]) * 2)._node])
    assert keepable


def test_schedule_puts_inputs_first_and_counts_readers():
    x = xp.asarray([1.0, 2.0])
    shared = xp.exp(x * 3)
    y = shared * shared + shared
    order, uses = numpy_backend.schedule([y._node])
    assert len(order) == len({id(n) for n in order})
    position = {id(n): i for i, n in enumerate(order)}
    for n in order:
        for i in n.inputs:
            assert position[id(i)] < position[id(n)]
    assert order[-1] is y._node
    assert uses[shared._node] == 3
    assert uses[y._node] == 1  # the root is read once more, by the caller


def test_deep_graphs_and_large_values_take_the_scheduled_path():
    deep = xp.asarray(0.0)
    for _ in range(1000):
        deep = deep + 1.0
    assert float(deep) == 1000.0
    big = xp.sum(xp.asarray(np.arange(10_000.0)) * 2)
    assert float(big) == 2 * np.arange(10_000.0).sum()
