"""Differential tests of ``x[key]``, ``take`` and ``take_along_axis`` against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lazyarr as xp
from tests.helpers import (
    ALL,
    INTEGER,
    SIGNED,
    assert_matches,
    lazy,
    next_line,
    numpy_arrays,
    shapes,
)

# ----------------------------------------------------------------------------- strategies


def _index_dtype(draw, low: int, high: int) -> np.dtype:
    """An integer dtype that holds ``low..high``."""
    fits = [d for d in INTEGER if np.iinfo(d).min <= low and high <= np.iinfo(d).max]
    return draw(st.sampled_from(fits))


def _as_form(draw, a: np.ndarray, *, allow_list: bool = True):
    """``a`` as a NumPy array, a Python list, a constant Array or a lazy Array.

    Returns ``(lazyarr's index, NumPy's index)``.
    """
    forms = ["numpy", "constant", "lazy"]
    if allow_list and a.ndim > 0 and a.size > 0:
        forms.append("list")
    form = draw(st.sampled_from(forms))
    if form == "list":
        return a.tolist(), a.tolist()
    if form == "constant":
        return xp.asarray(a), a
    if form == "lazy":
        return lazy(a), a
    return a, a


@st.composite
def index_arrays(draw, size: int, shape: tuple[int, ...], *, allow_list: bool = True):
    """An integer index array of ``shape`` with values valid for an axis of ``size``."""
    n = int(np.prod(shape))
    if size == 0:
        values = [0] * n  # only usable when empty
    else:
        values = draw(st.lists(st.integers(-size, size - 1), min_size=n, max_size=n))
    low, high = min(values, default=0), max(values, default=0)
    a = np.asarray(values, dtype=_index_dtype(draw, low, high)).reshape(shape)
    return _as_form(draw, a, allow_list=allow_list)


def _broadcastable_to(draw, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts to ``shape``: leading axes dropped, some axes set to 1."""
    drop = draw(st.integers(0, len(shape)))
    return tuple(1 if draw(st.booleans()) else d for d in shape[drop:])


@st.composite
def bool_scalars(draw):
    value = draw(st.booleans())
    form = draw(st.sampled_from(["python", "numpy scalar", "numpy 0-d", "lazy 0-d"]))
    if form == "python":
        return value, value
    if form == "numpy scalar":
        return np.bool_(value), np.bool_(value)
    if form == "numpy 0-d":
        return np.asarray(value), np.asarray(value)
    return lazy(np.asarray(value)), np.asarray(value)


@st.composite
def index_keys(draw, shape: tuple[int, ...], *, arrays: bool = True, masks: bool = True):
    """A key valid for an array of ``shape``, as ``(lazyarr's key, NumPy's key)``.

    Integers, slices with every step sign and out-of-range bounds, ``...``, ``None``,
    integer arrays (broadcast together), one boolean mask and scalar booleans.
    Integer array keys of empty axes and unlucky mask/array mixes may not broadcast;
    those keys are invalid for NumPy as well.
    """
    ndim = len(shape)
    k = draw(st.integers(0, ndim))
    ellipsis_at = draw(st.none() | st.integers(0, k))
    if ellipsis_at is None:
        groups = [list(range(k))]
    else:
        groups = [list(range(ellipsis_at)), list(range(ndim - (k - ellipsis_at), ndim))]
    index_shape = draw(shapes(max_dims=2, max_side=3))
    mask_used = not masks
    parts: list[list] = []
    for axes in groups:
        entries = []
        while axes:
            size = shape[axes[0]]
            kinds = ["int", "slice", "slice"] if size else ["slice"]
            if arrays and (size or 0 in index_shape):
                kinds.append("array")
            if not mask_used:
                kinds.append("mask")
            kind = draw(st.sampled_from(kinds))
            if kind == "int":
                i = draw(st.integers(-size, size - 1))
                i = draw(st.sampled_from([i, np.int64(i), np.uint8(i % size)]))
                entries.append((i, i))
                axes = axes[1:]
            elif kind == "slice":
                bound = st.none() | st.integers(-size - 3, size + 3)
                step = st.sampled_from([None, 1, 2, 3, -1, -2, -3])
                s = slice(draw(bound), draw(bound), draw(step))
                entries.append((s, s))
                axes = axes[1:]
            elif kind == "array":
                ishape = _broadcastable_to(draw, index_shape)
                entries.append(draw(index_arrays(size, ishape)))
                axes = axes[1:]
            else:
                mask_used = True
                m = draw(st.integers(1, len(axes)))
                mshape = tuple(shape[a] for a in axes[:m])
                n = int(np.prod(mshape))
                bits = draw(st.lists(st.booleans(), min_size=n, max_size=n))
                mask = np.asarray(bits, dtype=bool).reshape(mshape)
                entries.append(_as_form(draw, mask))
                axes = axes[m:]
        parts.append(entries)
    entries = parts[0] + ([(..., ...)] + parts[1] if ellipsis_at is not None else [])
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(entries)))
        extra = draw(st.sampled_from(["none", "bool"]))
        entries.insert(at, (None, None) if extra == "none" else draw(bool_scalars()))
    key = tuple(e[0] for e in entries)
    np_key = tuple(e[1] for e in entries)
    if len(entries) == 1 and draw(st.booleans()):
        key, np_key = key[0], np_key[0]
    return key, np_key


@st.composite
def arrays(draw, dtypes=ALL, shape=None):
    """``numpy_arrays`` of exactly the drawn shape (any layout)."""
    shape = draw(shapes() if shape is None else shape) if not isinstance(shape, tuple) else shape
    # NOTE: helpers' "f" layout turns 0-d arrays into 1-d ones.
    return draw(numpy_arrays(dtypes=dtypes, shape=shape)).reshape(shape)


def check_getitem(x_np: np.ndarray, key, np_key, make_lazy: bool = False) -> None:
    x = lazy(x_np) if make_lazy else xp.asarray(x_np)
    try:
        expected = x_np[np_key]
    except IndexError:
        with pytest.raises(IndexError):
            np.asarray(x[key])
        return
    assert_matches(x[key], expected)


# ----------------------------------------------------------------------------- x[key]


@given(st.data())
def test_getitem_basic(data):
    x_np = data.draw(arrays(dtypes=ALL, shape=shapes(max_dims=4)))
    key, np_key = data.draw(index_keys(x_np.shape, arrays=False, masks=False))
    check_getitem(x_np, key, np_key, make_lazy=data.draw(st.booleans()))


@given(st.data())
def test_getitem_advanced(data):
    x_np = data.draw(arrays(dtypes=ALL, shape=shapes(min_dims=1, max_dims=4)))
    key, np_key = data.draw(index_keys(x_np.shape, masks=False))
    check_getitem(x_np, key, np_key, make_lazy=data.draw(st.booleans()))


@given(st.data())
def test_getitem_masks(data):
    x_np = data.draw(arrays(dtypes=ALL, shape=shapes(min_dims=1, max_dims=3)))
    key, np_key = data.draw(index_keys(x_np.shape))
    check_getitem(x_np, key, np_key, make_lazy=data.draw(st.booleans()))


@given(st.data())
def test_getitem_slices(data):
    """A single slice of every kind, including empty and out-of-range ones."""
    x_np = data.draw(arrays(dtypes=SIGNED, shape=shapes(min_dims=1, max_dims=1, max_side=6)))
    size = x_np.shape[0]
    bound = st.none() | st.integers(-size - 12, size + 12)
    s = slice(data.draw(bound), data.draw(bound), data.draw(st.integers(-7, 7).filter(bool)))
    assert_matches(xp.asarray(x_np)[s], x_np[s])


@given(arrays(dtypes=ALL, shape=()))
def test_getitem_0d(x_np):
    x = xp.asarray(x_np)
    assert_matches(x[()], x_np[()])
    assert_matches(x[...], x_np[...])
    assert_matches(x[None], x_np[None])
    assert_matches(x[True], x_np[True])
    assert_matches(x[False], x_np[False])
    assert_matches(x[None, ..., None], x_np[None, ..., None])


@pytest.mark.parametrize(
    "key",
    [
        (0, slice(None), [1, 2]),
        ([0, 1], slice(None), [1, 2]),
        (slice(None), [0, 1], [1, 2]),
        ([0, 1], slice(None), 2),
        ([[0], [1]], slice(None), [0, 1, 2]),
        (slice(None), 0, [0, 1]),
        (0, None, [1, 2]),
        (Ellipsis, [0, 1], 2),
        (np.array([1, 0]), Ellipsis),
        (slice(None), [0, 1], Ellipsis, [1, 2]),  # an empty ellipsis still separates
        ([0, 1], Ellipsis, slice(None), 1),
        (1, slice(None), Ellipsis, np.array([[0], [3]])),
        (0, slice(None), True),
        (True, [0, 1]),
        (slice(None), True, [0, 1]),
        (False, Ellipsis, True),
        (False, None, True),
        ([1, 0], slice(None), True, [1, 2]),
        (np.array([True, False]), slice(None), [1, 2]),
        (slice(None), np.arange(12).reshape(3, 4) % 3 == 0),
        (np.array([True, False]), 1, np.array([False, True, True, True])),
    ],
    ids=str,
)
def test_getitem_advanced_placement(key):
    """NumPy's rule: advanced indices separated by a slice (or None) move to the front."""
    x_np = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    assert_matches(xp.asarray(x_np)[key], x_np[key])


def test_getitem_lazy_mask():
    x_np = np.arange(12.0).reshape(3, 4)
    x = xp.asarray(x_np)
    assert_matches(x[x > 4.5], x_np[x_np > 4.5])
    assert_matches(x[xp.sum(x, axis=1) > 10.0, 1:], x_np[x_np.sum(axis=1) > 10, 1:])


def test_getitem_is_lazy():
    x = lazy(np.arange(24).reshape(2, 3, 4))
    ys = [x[0], x[:, ::-1], x[..., None, 1], x[[0, 1], :, [2, 3]], x[lazy(np.array([1, 0]))]]
    assert x._node.value is None
    assert all(y._node.value is None for y in ys)


# ----------------------------------------------------------------------------- x[key] errors


def test_getitem_out_of_range_int():
    x = xp.asarray(np.zeros((2, 3)))
    with pytest.raises(IndexError) as info:
        where = next_line()
        x[0, 3]
    assert where in str(info.value)
    with pytest.raises(IndexError) as info:
        where = next_line()
        x[-3]
    assert where in str(info.value)


@pytest.mark.parametrize(
    "key",
    [
        (0, 0, 0),
        (0, 0, None, 0),
        (Ellipsis, 0, Ellipsis),
        (1.0,),
        (0, 1.5),
        (slice(None), np.float64(1.0)),
        (np.array([0.0, 1.0]),),
        (np.array([True, False, True]),),
        (slice(None), np.array([True, False])),
        (np.ones((2, 2), dtype=bool),),
        ([0, 1], [0, 1, 2]),
        (True, [0, 1, 2]),
        ("a",),
    ],
    ids=str,
)
def test_getitem_invalid_keys(key):
    x_np = np.zeros((2, 3))
    with pytest.raises(IndexError):
        x_np[key]
    with pytest.raises(IndexError) as info:
        where = next_line()
        xp.asarray(x_np)[key]
    assert where in str(info.value)


@pytest.mark.parametrize(
    "key",
    [
        [0, 2],
        np.array([-3, 0]),
        (slice(None), [0, 3]),
        (slice(None), np.array([[5]], dtype=np.uint8)),
        ([2], 0),
        (0, [[1, -4]]),
    ],
    ids=str,
)
@pytest.mark.parametrize("form", ["plain", "constant"])
def test_getitem_out_of_range_constant_index_array(key, form):
    x = xp.asarray(np.zeros((2, 3)))
    if form == "constant":
        entries = key if isinstance(key, tuple) else (key,)
        key = tuple(xp.asarray(np.asarray(k)) if not isinstance(k, slice) else k for k in entries)
    with pytest.raises(IndexError) as info:
        where = next_line()
        x[key]
    assert where in str(info.value)


def test_getitem_out_of_range_lazy_index_array():
    x = xp.asarray(np.zeros((2, 3)))
    index = lazy(np.array([0, 7]))
    where = next_line()
    y = x[:, index]  # builds: the index values are not known yet
    with pytest.raises(IndexError) as info:
        np.asarray(y)
    assert where in str(info.value)
    index = lazy(np.array([-3]))
    where = next_line()
    y = x[index, 1:]
    with pytest.raises(IndexError) as info:
        float(xp.sum(y))
    assert where in str(info.value)


# ----------------------------------------------------------------------------- take


@given(st.data())
def test_take(data):
    x_np = data.draw(arrays(dtypes=ALL, shape=shapes(max_dims=3)))
    if x_np.ndim == 0 or data.draw(st.booleans()):
        axis, size = None, x_np.size
    else:
        axis = data.draw(st.integers(-x_np.ndim, x_np.ndim - 1))
        size = x_np.shape[axis]
    ishape = data.draw(shapes(max_dims=2, max_side=3)) if size else (0,)
    idx, idx_np = data.draw(index_arrays(size, ishape))
    expected = np.take(x_np, idx_np, axis=axis)
    x = xp.asarray(x_np) if data.draw(st.booleans()) else x_np
    if axis is None:
        assert_matches(xp.take(x, idx), expected)
    else:
        assert_matches(xp.take(x, idx, axis=axis), expected)


def test_take_scalar_and_negative_indices():
    x_np = np.arange(12).reshape(3, 4)
    x = xp.asarray(x_np)
    assert_matches(xp.take(x, np.array(-1)), np.take(x_np, -1))
    assert_matches(xp.take(x, xp.asarray([-1, -12, 5]), axis=None), np.take(x_np, [-1, -12, 5]))
    assert_matches(xp.take(x, np.array([-4, 3]), axis=-1), np.take(x_np, [-4, 3], axis=-1))


def test_take_errors():
    x = xp.asarray(np.arange(12).reshape(3, 4))
    with pytest.raises(IndexError) as info:
        where = next_line()
        xp.take(x, np.array([0, 12]))
    assert where in str(info.value)
    with pytest.raises(IndexError) as info:
        where = next_line()
        xp.take(x, xp.asarray([-4]), axis=0)
    assert where in str(info.value)
    with pytest.raises(IndexError):
        xp.take(x, xp.asarray([0.0]), axis=0)
    with pytest.raises(IndexError):  # AxisError: an IndexError and a ValueError
        xp.take(x, xp.asarray([0]), axis=2)
    y = xp.take(x, lazy(np.array([1, 3])), axis=0)
    where = f"{__file__}:{y._node.loc[1]}"
    with pytest.raises(IndexError) as info:
        np.asarray(y)
    assert where in str(info.value)


def test_take_lazy_out_of_range_names_line():
    x = xp.asarray(np.arange(5.0))
    where = next_line()
    y = xp.take(x, lazy(np.array([2, -6])))
    with pytest.raises(IndexError) as info:
        np.asarray(y)
    assert where in str(info.value)


# ----------------------------------------------------------------------------- take_along_axis


@given(st.data())
def test_take_along_axis(data):
    x_np = data.draw(arrays(dtypes=ALL, shape=shapes(min_dims=1, max_dims=3)))
    ndim = x_np.ndim
    axis = data.draw(st.integers(-ndim, ndim - 1))
    ishape = []
    for a, d in enumerate(x_np.shape):
        if a == axis % ndim:
            ishape.append(data.draw(st.integers(0, 4)))
        elif d == 1:
            ishape.append(data.draw(st.integers(0, 3)))  # x broadcasts along this axis
        else:
            ishape.append(data.draw(st.sampled_from([d, 1])))  # indices broadcast
    size = x_np.shape[axis]
    if size == 0:
        ishape[axis % ndim] = 0
    idx, idx_np = data.draw(index_arrays(size, tuple(ishape), allow_list=False))
    expected = np.take_along_axis(x_np, idx_np, axis=axis)
    assert_matches(xp.take_along_axis(xp.asarray(x_np), idx, axis=axis), expected)


def test_take_along_axis_default_axis():
    x_np = np.arange(12).reshape(3, 4)
    idx_np = np.argsort(-x_np, axis=-1)
    assert_matches(xp.take_along_axis(xp.asarray(x_np), xp.asarray(idx_np)), x_np[:, ::-1])


def test_take_along_axis_errors():
    x = xp.asarray(np.arange(12).reshape(3, 4))
    with pytest.raises(IndexError) as info:
        where = next_line()
        xp.take_along_axis(x, np.array([[4]]), axis=1)
    assert where in str(info.value)
    with pytest.raises(ValueError):
        xp.take_along_axis(x, np.array([0, 1]), axis=1)  # indices of another ndim
    with pytest.raises(ValueError):
        xp.take_along_axis(x, np.zeros((2, 1), dtype=np.int64), axis=1)  # 2 vs 3: no broadcast
    with pytest.raises(IndexError):
        xp.take_along_axis(x, np.zeros((1, 1), dtype=np.int64), axis=2)
    where = next_line()
    y = xp.take_along_axis(x, lazy(np.array([[0], [-5], [1]])), axis=1)
    with pytest.raises(IndexError) as info:
        np.asarray(y)
    assert where in str(info.value)


# ----------------------------------------------------------------------------- x[key] = value


def _values_for(draw, dtype: np.dtype, shape: tuple[int, ...]):
    """A value to assign to ``x[key]`` of ``shape``: a Python scalar or a broadcastable array."""
    if draw(st.booleans()):
        scalar = draw(
            st.booleans()
            if dtype == np.bool_
            else st.integers(int(np.iinfo(dtype).min), int(np.iinfo(dtype).max))
            if dtype.kind in "iu"
            else st.floats(width=32 if dtype in (np.float32, np.complex64) else 64)
        )
        return scalar, scalar
    vshape = _broadcastable_to(draw, shape)
    if vshape and draw(st.booleans()):
        vshape = (1, *vshape)
    value = draw(arrays(dtypes=[dtype], shape=vshape))
    return _as_form(draw, value, allow_list=False)


@given(st.data())
def test_setitem(data):
    x_np = data.draw(arrays(shape=shapes(max_side=3)), label="x")
    key, np_key = data.draw(index_keys(x_np.shape), label="key")
    try:
        target = x_np[np_key]
    except IndexError:
        x = xp.asarray(x_np)
        with pytest.raises(IndexError):
            x[key] = 0
            np.asarray(x)
        return
    value, np_value = _values_for(data.draw, x_np.dtype, target.shape)
    expected = x_np.copy()
    extra = np.ndim(np_value) - target.ndim
    expected[np_key] = np_value.reshape(np_value.shape[extra:]) if extra > 0 else np_value
    x = lazy(x_np) if data.draw(st.booleans()) else xp.asarray(x_np)
    alias = x
    x[key] = value
    assert alias is x
    assert_matches(x, expected)


def test_setitem_records_a_node_and_leaves_other_arrays():
    a = xp.asarray([1.0, 2.0, 3.0])
    before = a[0]
    a[0] = 5.0
    assert float(before) == 1.0 and float(a[0]) == 5.0
    assert a._node.op.name == "setitem"


def test_setitem_lazy_mask_with_scalar_needs_no_values():
    @xp.jit
    def f(x):
        x[x > 1] = 0.0
        return x

    np.testing.assert_array_equal(f(np.arange(4.0)), [0.0, 1.0, 0.0, 0.0])


@pytest.mark.parametrize(
    ("dtype", "value", "error"),
    [
        (np.int8, 1.5, TypeError),
        (np.int8, 300, OverflowError),
        (np.float32, 1j, TypeError),
        (np.int8, np.ones(3), TypeError),
        (np.float32, np.ones(3, dtype=np.complex64), TypeError),
        (np.float32, np.ones(2, dtype=np.float32), ValueError),
    ],
)
def test_setitem_errors(dtype, value, error):
    x = xp.zeros(3, dtype=dtype)
    with pytest.raises(error) as info:
        where = next_line()
        x[:] = value
    assert where in str(info.value)


def test_setitem_promotes_value_into_x():
    x = xp.zeros(3, dtype=xp.float64)
    x[1:] = xp.asarray([1, 2], dtype=xp.int8)
    assert_matches(x, np.array([0.0, 1.0, 2.0]))


def test_setitem_out_of_range():
    x = xp.zeros(3)
    with pytest.raises(IndexError):
        x[3] = 1.0
