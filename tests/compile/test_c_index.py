"""Gathers, takes, concat, scans and searchsorted compiled through C, against NumPy.

Each of these ops is a kernel of its own (``[c ...]`` in ``as_text()``). Moves copy
items bit for bit, scans add in NumPy's sequential order, so every result must
equal NumPy's exactly, for every dtype and input layout.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lazyarr as xp
from lazyarr.compile import c_index
from tests.helpers import ALL, BOOL, INTEGER, REAL, REAL_FLOAT, next_line, numpy_arrays, shapes

pytestmark = pytest.mark.usefixtures("private_cache_dir")


@pytest.fixture(autouse=True)
def every_size_in_c(monkeypatch):
    """Small results normally go to NumPy's loops; here the kernels run at every size."""
    monkeypatch.setattr(c_index, "SMALL", 0)


# One jitted function per op, reused across examples: a new shape re-traces, and the
# kernels come from the in-process cache.
take = xp.jit(xp.take, static_argnames=("axis",))
take_along = xp.jit(xp.take_along_axis, static_argnames=("axis",))
cumulative_sum = xp.jit(xp.cumulative_sum, static_argnames=("axis", "dtype", "include_initial"))
cumulative_prod = xp.jit(xp.cumulative_prod, static_argnames=("axis", "dtype", "include_initial"))
searchsorted = xp.jit(xp.searchsorted, static_argnames=("side",))


def _backends(f, *args, **kwargs) -> dict[str, str]:
    """Op name -> the backend that ran it, from the lowered program's text."""
    text = f.lower(*args, **kwargs).as_text()
    return {
        line.split("= ")[1].split("(")[0]: line.split("[")[-1].split()[0].rstrip("]")
        for line in text.splitlines()
        if " [" in line and "(" in line
    }


def _equal(got, expected) -> None:
    expected = np.asarray(expected)
    got = np.asarray(got)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected, strict=True)
    if expected.dtype.kind in "fc":
        assert (np.signbit(got.real) == np.signbit(expected.real)).all()


@st.composite
def arrays_with_indices(draw, dtypes=ALL, index_ndim=(0, 2)):
    x = draw(numpy_arrays(dtypes, shape=shapes(min_dims=1, max_dims=3)))
    axis = draw(st.integers(0, x.ndim - 1))
    n = x.shape[axis]
    idx_shape = draw(shapes(min_dims=index_ndim[0], max_dims=index_ndim[1]))
    if n == 0:
        idx_shape = (0,) * max(1, len(idx_shape))
    values = st.integers(-n, n - 1) if n else st.just(0)
    idx = np.asarray(
        draw(st.lists(values, min_size=int(np.prod(idx_shape)), max_size=int(np.prod(idx_shape))))
    ).astype(np.int64)
    idx = idx.reshape(idx_shape)
    if idx.ndim and draw(st.booleans()):
        idx = np.ascontiguousarray(idx[::-1])[::-1]
    return x, axis, idx


@settings(max_examples=60, deadline=None)
@given(arrays_with_indices())
def test_take(case):
    x, axis, idx = case
    _equal(take(x, idx, axis=axis), np.take(x, idx, axis=axis))


@settings(max_examples=60, deadline=None)
@given(arrays_with_indices(), st.data())
def test_take_along_axis(case, data):
    x, axis, _ = case
    n = x.shape[axis]
    shape = list(x.shape)
    shape[axis] = data.draw(st.integers(0, 3)) if n else 0
    shape = [d if data.draw(st.booleans()) or d == 0 else 1 for d in shape]
    shape[axis] = shape[axis] if n else 0
    idx = np.asarray(
        data.draw(
            st.lists(
                st.integers(-n, n - 1) if n else st.just(0),
                min_size=int(np.prod(shape)),
                max_size=int(np.prod(shape)),
            )
        ),
        dtype=np.int64,
    ).reshape(shape)
    expected = xp.take_along_axis(xp.asarray(x), xp.asarray(idx), axis=axis)
    _equal(take_along(x, idx, axis=axis), np.asarray(expected))


@settings(max_examples=60, deadline=None)
@given(numpy_arrays(ALL, shape=shapes(min_dims=3, max_dims=3, min_side=1)), st.data())
def test_integer_array_indexing(x, data):
    i = data.draw(st.lists(st.integers(-x.shape[0], x.shape[0] - 1), min_size=1, max_size=4))
    j = data.draw(st.lists(st.integers(-x.shape[2], x.shape[2] - 1), min_size=1, max_size=1))
    i, j = np.asarray(i), np.asarray(j).reshape(1, 1)
    for f in (lambda a, i, j: a[i, :, j], lambda a, i, j: a[:, 0:1, j], lambda a, i, j: a[i]):
        _equal(xp.jit(f)(x, i, j), f(x, i, j))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_concat(data):
    dtype = data.draw(st.sampled_from(ALL))
    base = data.draw(shapes(min_dims=1, max_dims=3))
    axis = data.draw(st.integers(0, len(base) - 1))
    arrays = []
    for _ in range(data.draw(st.integers(1, 3))):
        shape = list(base)
        shape[axis] = data.draw(st.integers(0, 3))
        arrays.append(data.draw(numpy_arrays([dtype], shape=tuple(shape))))
    concat = xp.jit(lambda *a: xp.concat(a, axis=axis))
    _equal(concat(*arrays), np.concatenate(arrays, axis=axis))


@settings(max_examples=80, deadline=None)
@given(
    numpy_arrays(BOOL + INTEGER + REAL_FLOAT, shape=shapes(min_dims=1, max_dims=3)),
    st.data(),
)
def test_cumulative(x, data):
    axis = data.draw(st.integers(0, x.ndim - 1))
    initial = data.draw(st.booleans())
    for ours, theirs in (
        (cumulative_sum, np.cumulative_sum),
        (cumulative_prod, np.cumulative_prod),
    ):
        expected = np.asarray(
            getattr(xp, theirs.__name__)(xp.asarray(x), axis=axis, include_initial=initial)
        )
        with np.errstate(all="ignore"):
            assert expected.dtype == theirs(x, axis=axis, include_initial=initial).dtype
        _equal(ours(x, axis=axis, include_initial=initial), expected)


@pytest.mark.parametrize("dtype", ["int8", "uint16", "float32", "float64"])
def test_cumulative_with_a_dtype(dtype):
    x = np.arange(24, dtype=np.int16).reshape(2, 3, 4)[:, ::-1]
    _equal(
        cumulative_sum(x, axis=1, dtype=np.dtype(dtype)), np.cumulative_sum(x, axis=1, dtype=dtype)
    )


@settings(max_examples=60, deadline=None)
@given(
    numpy_arrays(REAL, shape=shapes(min_dims=1, max_dims=1)),
    st.data(),
    st.sampled_from(["left", "right"]),
)
def test_searchsorted(x1, data, side):
    x1 = np.sort(x1)
    x2 = data.draw(numpy_arrays([x1.dtype], shape=shapes(max_dims=2)))
    _equal(searchsorted(x1, x2, side=side), np.searchsorted(x1, x2, side=side))


def test_every_op_runs_in_c():
    x, idx = np.arange(12.0).reshape(3, 4), np.array([2, 0])
    cases = {
        "take": (take, (x, idx), {"axis": 1}),
        "gather": (xp.jit(lambda a, i: a[i, 1:]), (x, idx), {}),
        "take_along_axis": (take_along, (x, idx.reshape(1, 2)), {"axis": 1}),
        "concat": (xp.jit(lambda a, b: xp.concat([a, b])), (x, x), {}),
        "cumulative_sum": (cumulative_sum, (x,), {"axis": 0}),
        "searchsorted": (searchsorted, (x[0], x), {}),
    }
    for op, (f, args, kwargs) in cases.items():
        backends = _backends(f, *args, **kwargs)
        assert backends[op] == "c", (op, backends)


@pytest.mark.parametrize("size", [5, 1 << 17])
def test_out_of_range_index_raises_at_the_users_line(size):
    x = np.arange(size, dtype=np.float64)

    @xp.jit
    def f(a, i):
        where[0] = next_line()
        return xp.take(a, i) * 2

    where = [None]
    idx = np.zeros(size, np.int64)
    idx[size // 2] = size
    with pytest.raises(IndexError, match=f"index {size} is out of bounds") as info:
        f(x, idx)
    assert where[0] in str(info.value)
    idx[size // 2] = -size - 1
    with pytest.raises(IndexError, match=f"index {-size - 1} is out of bounds"):
        f(x, idx)
    idx[size // 2] = -size
    np.testing.assert_array_equal(np.asarray(f(x, idx)), np.take(x, idx) * 2)


def test_small_results_run_through_numpy_and_agree(monkeypatch):
    monkeypatch.setattr(c_index, "SMALL", 1 << 14)
    x, idx = np.arange(12.0).reshape(3, 4), np.array([2, 0, -1])
    f = xp.jit(
        lambda a, i: (xp.take(a, i, axis=1), xp.concat([a, a]), xp.cumulative_sum(a, axis=0))
    )
    for got, want in zip(f(x, idx), (np.take(x, idx, axis=1), np.concatenate([x, x]), x.cumsum(0))):
        _equal(got, want)
    with pytest.raises(IndexError, match="out of bounds") as info:
        where = next_line()
        f(x, np.array([4]))
    assert where.rsplit(":", 1)[0] in str(info.value)


def test_large_moves_run_on_threads_and_agree():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 500))
    idx = rng.integers(-300, 300, 400)
    _equal(take(x, idx, axis=0), np.take(x, idx, axis=0))
    _equal(cumulative_sum(x.T, axis=1), np.cumulative_sum(x.T, axis=1))
    _equal(xp.jit(lambda a: xp.concat([a, a[::-1]], axis=1))(x), np.concatenate([x, x[::-1]], 1))
