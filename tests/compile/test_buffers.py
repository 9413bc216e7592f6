"""The output pool: large results reuse blocks that dropped results gave back, and never
while any view of them is alive."""

import gc

import numpy as np

import lazyarr as xp
from lazyarr.compile import buffers


def empty(shape, dtype):
    return buffers.allocator(shape, dtype)()


def address(a) -> int:
    return np.asarray(a).__array_interface__["data"][0]


def test_small_arrays_come_from_numpy():
    a = empty((10,), np.dtype(np.float64))
    assert a.flags.owndata and a.flags.c_contiguous and a.flags.writeable


def test_a_dropped_block_is_reused():
    shape, dtype = (512, 1024), np.dtype(np.float64)  # 4 MiB
    a = empty(shape, dtype)
    assert a.shape == shape and a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable
    first = address(a)
    del a
    gc.collect()
    b = empty(shape, dtype)
    assert address(b) == first


def test_a_block_stays_taken_while_a_view_of_it_lives():
    shape, dtype = (512, 1024), np.dtype(np.float64)
    a = empty(shape, dtype)
    a[...] = 7.0
    view = a[::2, 3:].T
    del a
    gc.collect()
    b = empty(shape, dtype)
    b[...] = -1.0
    assert not np.shares_memory(b, view)
    assert (view == 7.0).all()


def test_jitted_results_recycle_their_memory_and_stay_correct():
    f = xp.jit(lambda x: 1 / (1 + xp.exp(-x)))
    x = np.linspace(-5, 5, 600_000)
    expected = 1 / (1 + np.exp(-x))
    kept = [f(x) for _ in range(3)]  # three live results: three blocks
    assert len({address(k) for k in kept}) == 3
    first = address(kept[0])
    del kept[0]
    gc.collect()
    again = f(2 * x)
    assert address(again) == first
    for k in kept:
        np.testing.assert_allclose(np.asarray(k), expected, rtol=1e-15)
    np.testing.assert_allclose(np.asarray(again), 1 / (1 + np.exp(-2 * x)), rtol=1e-15)


def test_idle_memory_is_bounded():
    shape, dtype = (1 << 18,), np.dtype(np.float64)  # 2 MiB each
    arrays = [empty(shape, dtype) for _ in range(10)]
    before = buffers.idle_bytes()
    del arrays
    gc.collect()
    assert buffers.idle_bytes() - before <= 4 * (1 << 21)
    assert buffers.idle_bytes() <= buffers.IDLE_MAX
