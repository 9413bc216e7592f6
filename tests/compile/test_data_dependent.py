"""Data-dependent shapes inside ``xp.jit``: unknown (None) sizes, NumPy's values.

Boolean masks, ``nonzero``, ``unique_*`` and ``repeat`` with traced counts give
arrays of unknown length while tracing; the compiled program computes the sizes
when it runs. Each case is checked against NumPy on random arrays (empty results,
all-false masks and NaNs included), and what cannot work on an unknown size
raises at the user's line.
"""

from contextlib import nullcontext

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lazyarr as xp
from lazyarr import TracerConversionError
from tests.helpers import MORE_EXAMPLES, REAL, REAL_FLOAT, assert_matches, next_line, numpy_arrays

VECTORS = numpy_arrays(dtypes=REAL, shape=st.tuples(st.integers(0, 6)))
FLOAT_VECTORS = numpy_arrays(dtypes=REAL_FLOAT, shape=st.tuples(st.integers(1, 6)))


def traced(f, *args):
    """``f`` run by ``xp.jit``, and the shapes its results had while tracing."""
    shapes = []

    def body(*a):
        out = f(*a)
        shapes.append([o.shape for o in out])
        return out

    return xp.jit(body)(*args), shapes[0]


@MORE_EXAMPLES
@given(x=VECTORS)
def test_mask_indexing_and_reductions_match_numpy(x):
    (selected, total, count), shapes = traced(
        lambda x: (x[x > 0], xp.sum(x[x > 0]), xp.count_nonzero(x[x > 0] > 1)), x
    )
    assert shapes == [(None,), (), ()]
    assert_matches(selected, x[x > 0])
    assert_matches(total, np.sum(x[x > 0]))
    assert_matches(count, np.asarray(np.count_nonzero(x[x > 0] > 1)))


@MORE_EXAMPLES
@given(x=FLOAT_VECTORS, data=st.data())
def test_mean_and_var_of_masked_values_match_numpy(x, data):
    mask = np.asarray(data.draw(st.lists(st.booleans(), min_size=x.size, max_size=x.size)))
    (mean, var), _ = traced(lambda v, m: (xp.mean(v[m]), xp.var(v[m], correction=1)), x, mask)
    with (
        np.errstate(all="ignore"),
        pytest.warns(RuntimeWarning) if mask.sum() < 2 else nullcontext(),
    ):
        expected = np.mean(x[mask]), np.var(x[mask], ddof=1)
    assert_matches(mean, expected[0], rtol=1e-6)
    assert_matches(var, expected[1], rtol=1e-5)


@MORE_EXAMPLES
@given(x=numpy_arrays(dtypes=REAL, shape=st.tuples(st.integers(0, 3), st.integers(0, 3))))
def test_unique_functions_match_numpy(x):
    def f(x):
        values, counts = xp.unique_counts(x)
        everything = xp.unique_all(x)
        return values, counts, xp.sum(counts), everything.indices, everything.inverse_indices

    (values, counts, total, indices, inverse), shapes = traced(f, x)
    assert shapes == [(None,), (None,), (), (None,), x.shape]
    expected = np.unique(x, return_counts=True, return_index=True, return_inverse=True)
    eager = xp.unique_all(xp.asarray(x))
    assert_matches(values, np.asarray(eager.values))
    assert_matches(counts, np.asarray(eager.counts))
    assert_matches(indices, np.asarray(eager.indices))
    assert_matches(inverse, np.asarray(eager.inverse_indices))
    assert_matches(total, np.asarray(x.size, dtype=np.int64))
    if not np.isnan(x).any():  # NumPy merges NaNs; the standard keeps each distinct
        np.testing.assert_array_equal(np.asarray(values), expected[0])


@MORE_EXAMPLES
@given(x=VECTORS, data=st.data())
def test_nonzero_and_repeat_match_numpy(x, data):
    counts = data.draw(st.lists(st.integers(0, 3), min_size=x.size, max_size=x.size))
    counts = np.asarray(counts, dtype=np.int64)
    size = data.draw(st.integers(0, 8))

    def f(x, counts):
        return (xp.nonzero(x)[0], xp.repeat(x, counts), xp.nonzero(x, size=size, fill_value=-1)[0])

    (found, repeated, fixed), shapes = traced(f, x, counts)
    assert shapes == [(None,), (None,), (size,)]
    assert_matches(found, np.nonzero(x)[0].astype(np.int64))
    assert_matches(repeated, np.repeat(x, counts))
    padded = np.full(size, -1, dtype=np.int64)
    kept = np.nonzero(x)[0][:size]
    padded[: kept.size] = kept
    assert_matches(fixed, padded)


@MORE_EXAMPLES
@given(x=FLOAT_VECTORS)
def test_grad_through_mask_indexing_is_a_scatter(x):
    grad = xp.jit(xp.grad(lambda x: xp.sum(x[x > 0] ** 2)))
    with np.errstate(over="ignore"):  # 2 * x overflows to inf for the largest floats
        expected = np.where(x > 0, 2 * x, 0).astype(x.dtype)
    assert_matches(grad(x), expected, rtol=1e-6)


def test_slices_integers_and_reshape_on_an_unknown_axis():
    x = np.asarray([3.0, -1.0, 2.0, 5.0])

    def f(x):
        y = x[x > 0]
        return y[1:], y[::-1], y[-1], xp.reshape(y, (-1, 1)), xp.sort(y)

    out, shapes = traced(f, x)
    assert shapes == [(None,), (None,), (), (None, 1), (None,)]
    y = x[x > 0]
    for got, want in zip(out, (y[1:], y[::-1], y[-1], y.reshape(-1, 1), np.sort(y))):
        assert_matches(got, want)


def test_unknown_sizes_that_differ_at_run_time_raise_at_the_line():
    @xp.jit
    def f(x):
        where.append(next_line())
        return x[x > 0] + x[x < 0]

    where: list[str] = []
    with pytest.raises(ValueError, match="depends on array values") as info:
        f(np.asarray([1.0, 2.0, -1.0]))
    assert where[0] in str(info.value)
    np.testing.assert_array_equal(np.asarray(f(np.asarray([1.0, -2.0]))), [-1.0])


@pytest.mark.parametrize(
    "fn",
    [
        lambda y: len(y),
        lambda y: xp.broadcast_to(y, (3,)),
        lambda y: xp.squeeze(y, axis=0),
        lambda y: xp.unstack(y),
        lambda y: xp.roll(y, 1),
        lambda y: xp.reshape(y[:, None] * y[None, :], (-1,))[y[0] > 0],
    ],
    ids=["len", "broadcast_to", "squeeze", "unstack", "roll", "0-d mask"],
)
def test_what_needs_an_unknown_size_raises_at_the_line(fn):
    @xp.jit
    def f(x):
        y = x[x > 0]
        where.append(next_line())
        return fn(y)

    where: list[str] = []
    with pytest.raises(TracerConversionError, match="depends on array values") as info:
        f(np.ones(3))
    assert where[0].rsplit(":", 1)[0] in str(info.value)


def test_outside_jit_shapes_stay_concrete():
    x = xp.asarray([1.0, -1.0, 2.0])
    assert x[x > 0].shape == (2,)
    assert xp.unique_values(x).shape == (3,)
    assert xp.nonzero(x > 0)[0].shape == (2,)
