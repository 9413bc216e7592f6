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


# ----------------------------------------------------------------------------- traced slices
# Theano's minibatch pattern: X[i * n:(i + 1) * n] with i traced inside xp.jit becomes a
# dynamic_slice of static length n. xp.dynamic_slice is the explicit form.


def _start_forms(draw, value: int):
    """``value`` as a dynamic_slice start: Python int, NumPy scalars, 0-d arrays, lazy."""
    form = draw(st.sampled_from(["int", "int64", "int32", "uint8", "array", "asarray", "lazy"]))
    if form == "uint8" and not 0 <= value <= 255:
        form = "int64"
    if form == "int":
        return value
    if form in ("int64", "int32", "uint8"):
        return np.dtype(form).type(value)
    if form == "array":
        return np.asarray(value, dtype=np.int16)
    if form == "asarray":
        return xp.asarray(np.int32(value))
    return lazy(np.asarray(value, dtype=np.int64))


@st.composite
def windows(draw, shape: tuple[int, ...]):
    """Sizes and in-range starts of a dynamic slice of ``shape``: (starts, sizes, NumPy key)."""
    sizes = tuple(draw(st.integers(0, d)) for d in shape)
    starts = tuple(draw(st.integers(0, d - n)) for d, n in zip(shape, sizes))
    key = tuple(slice(s, s + n) for s, n in zip(starts, sizes))
    return starts, sizes, key


@given(st.data())
def test_dynamic_slice_matches_numpy(data):
    x_np = data.draw(arrays(dtypes=ALL, shape=shapes(min_dims=1, max_dims=3, max_side=5)))
    starts, sizes, key = data.draw(windows(x_np.shape))
    given_starts = tuple(_start_forms(data.draw, s) for s in starts)
    assert_matches(xp.dynamic_slice(xp.asarray(x_np), given_starts, sizes), x_np[key])


@given(st.data())
def test_dynamic_slice_inside_jit_matches_numpy(data):
    x_np = data.draw(arrays(dtypes=ALL, shape=shapes(min_dims=1, max_dims=3, max_side=5)))
    starts, sizes, key = data.draw(windows(x_np.shape))
    dtype = data.draw(st.sampled_from([np.int64, np.int32, np.uint16]))

    @xp.jit
    def f(x, starts):
        return xp.dynamic_slice(x, starts, sizes)

    assert_matches(f(x_np, tuple(dtype(s) for s in starts)), x_np[key])


def test_dynamic_slice_static_starts_are_a_static_slice():
    x = xp.asarray(np.arange(12.0).reshape(3, 4))
    y = xp.dynamic_slice(x, (1, np.int64(2)), (2, 2))
    assert y._node.op.name == "slice"
    assert_matches(y, np.arange(12.0).reshape(3, 4)[1:3, 2:4])
    assert xp.dynamic_slice(x, (0, 0), (3, 4))._node is x._node


# Keys with traced bounds (i is a traced 0-d integer) and the same key for NumPy.
TRACED_KEYS = {
    "i:i+2": lambda i: (slice(i, i + 2),),
    "i*3:(i+1)*3": lambda i: (slice(i * 3, (i + 1) * 3),),
    "i*3:i*3+3": lambda i: (slice(i * 3, i * 3 + 3),),
    "i-1:i+1": lambda i: (slice(i - 1, i + 1),),
    "-(-i):2+i": lambda i: (slice(-(-i), 2 + i),),  # noqa: B002
    "2*i-i:i+3": lambda i: (slice(2 * i - i, i + 3),),
    "i:i": lambda i: (slice(i, i),),
    "i:i+n, :": lambda i: (slice(i, i + 2), slice(None)),
    ":, i:i+2": lambda i: (slice(None), slice(i, i + 2)),
    "i:i+2, i-1:i+1": lambda i: (slice(i, i + 2), slice(i - 1, i + 1)),
    "1, i:i+2": lambda i: (1, slice(i, i + 2)),
    "::2, i:i+2": lambda i: (slice(None, None, 2), slice(i, i + 2)),
    "..., i:i+1": lambda i: (Ellipsis, slice(i, i + 1)),
    "None, i:i+2": lambda i: (None, slice(i, i + 2)),
    "[0, 2], i:i+2": lambda i: ([0, 2], slice(i, i + 2)),
    "i:i+2, [3, 0]": lambda i: (slice(i, i + 2), [3, 0]),
    "i:i+2 (step 1)": lambda i: (slice(i, i + 2, 1),),
    "astype": lambda i: (slice(xp.astype(i, xp.int32) if isinstance(i, xp.Array) else i, i + 2),),
}


@pytest.mark.parametrize("name", TRACED_KEYS)
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, "asarray"])
def test_getitem_traced_bounds_match_numpy(name, dtype):
    make = TRACED_KEYS[name]
    x_np = np.arange(9 * 5 * 4, dtype=np.float32).reshape(9, 5, 4)
    traces = []

    @xp.jit
    def f(x, i):
        traces.append(1)
        return x[make(i)]

    shapes_seen = set()
    for i in range(1, 3):
        start = xp.asarray(np.int64(i)) if dtype == "asarray" else dtype(i)
        y = f(x_np, start)
        assert_matches(y, x_np[make(i)])
        shapes_seen.add(y.shape)
    assert len(traces) == 1, "a new start must not re-trace"
    assert len(shapes_seen) == 1


def test_getitem_traced_slice_is_one_dynamic_slice_node():
    @xp.jit
    def f(x, i):
        return x[i * 4 : (i + 1) * 4, 1:]

    text = f.lower(np.zeros((12, 3)), np.int64(0)).as_text()
    assert text.count("dynamic_slice(") == 1 and "sizes=(4, 2)" in text


def test_minibatch_pattern_traces_once():
    rng = np.random.default_rng(0)
    data_x = rng.standard_normal((500, 28)).astype(np.float32)
    w = rng.standard_normal((28, 3)).astype(np.float32)
    batch = 60
    traces = []

    @xp.jit
    def score(data_x, w, i):
        traces.append(1)
        return xp.sum(data_x[i * batch : (i + 1) * batch] @ w, axis=0)

    for i in range(500 // batch):
        got = np.asarray(score(data_x, w, np.int64(i)))
        expected = (data_x[i * batch : (i + 1) * batch] @ w).sum(axis=0)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert len(traces) == 1
    # The data set closed over instead of passed in: the same.
    data = xp.asarray(data_x)

    @xp.jit
    def closed(i):
        return data[i * batch : (i + 1) * batch]

    assert_matches(closed(np.int64(3)), data_x[180:240])


def test_traced_slice_out_of_range_raises_at_run_time():
    data_x = np.zeros((50, 4))

    @xp.jit
    def f(data_x, i):
        where.append(next_line())
        return data_x[i * 6 : (i + 1) * 6]

    where: list[str] = []
    assert f(data_x, np.int64(7)).shape == (6, 4)  # 42..48: fits
    with pytest.raises(
        IndexError, match=r"length 6 starting at 48 runs past the end of axis 0 \(size 50\)"
    ) as info:
        f(data_x, np.int64(8))
    assert where[0] in str(info.value)
    with pytest.raises(IndexError, match="starting at -6 starts before the beginning") as info:
        f(data_x, np.int64(-1))  # no wrap-around
    assert where[0] in str(info.value)
    assert_matches(f(data_x, np.int64(0)), data_x[:6])  # the program still works after an error


def test_dynamic_slice_out_of_range_eagerly():
    x = xp.asarray(np.arange(10.0))
    for start in (9, np.int64(9), xp.asarray(9), np.asarray(-1), -1):
        with pytest.raises(IndexError, match="dynamic slice of length 3") as info:
            where = next_line()
            xp.dynamic_slice(x, (start,), (3,))
        assert where in str(info.value)
    where = next_line()
    y = xp.dynamic_slice(x, (lazy(np.asarray(8)),), (3,))  # value not known yet: at evaluation
    with pytest.raises(IndexError, match="starting at 8 runs past the end") as info:
        np.asarray(y)
    assert where in str(info.value)


@pytest.mark.parametrize(
    "body, error, match",
    [
        (lambda x, i, j: x[i:j], TypeError, "cannot be proven"),
        (lambda x, i, j: x[i * j : (i + 1) * j], TypeError, "cannot be proven"),
        (lambda x, i, j: x[i : i * 2], TypeError, "cannot be proven"),
        (lambda x, i, j: x[i // 2 : i // 2 + 2], None, None),  # // is a leaf: still provable
        (lambda x, i, j: x[i:], TypeError, "depends on the start's value"),
        (lambda x, i, j: x[:i], TypeError, "cannot be proven"),
        (lambda x, i, j: x[3:i], TypeError, "cannot be proven"),
        (lambda x, i, j: x[i : i + 2 : 2], IndexError, "step 1"),
        (lambda x, i, j: x[0:4:i], IndexError, "step 1"),
        (lambda x, i, j: x[i + 2 : i], IndexError, "negative length"),
        (lambda x, i, j: x[i : i + 11], IndexError, "cannot fit"),
        (lambda x, i, j: x[xp.astype(i, xp.float64) : 3], TypeError, "integer"),
    ],
)
def test_traced_slice_length_must_be_provable(body, error, match):
    @xp.jit
    def f(x, i, j):
        return body(x, i, j)

    args = (np.arange(10.0), np.int64(1), np.int64(4))
    if error is None:
        assert_matches(f(*args), np.arange(10.0)[0:2])
        return
    with pytest.raises(error, match=match) as info:
        f(*args)
    assert "test_indexing_functions.py" in str(info.value)


def test_unprovable_length_suggests_the_fixes():
    @xp.jit
    def f(x, i, j):
        return x[i:j]

    with pytest.raises(xp.TracerConversionError) as info:
        f(np.arange(10.0), np.int64(1), np.int64(4))
    message = str(info.value)
    assert "xp.dynamic_slice" in message and "static_argnames" in message


def test_concrete_array_bounds_keep_numpy_semantics():
    x_np = np.arange(10.0)
    x = xp.asarray(x_np)
    assert_matches(x[xp.asarray(-3) :], x_np[-3:])
    assert_matches(x[lazy(np.asarray(8)) : xp.asarray(20)], x_np[8:20])
    bound = xp.asarray(2)

    @xp.jit
    def f(y):
        return y[bound : bound + 3]  # closed over: known while tracing, a static slice

    assert_matches(f(x_np), x_np[2:5])


@pytest.mark.parametrize("wrt", ["W", "X"])
def test_grad_through_traced_slice(wrt):
    rng = np.random.default_rng(1)
    data_x = rng.standard_normal((20, 4))
    w = rng.standard_normal((4, 3))
    b = 5

    def loss(data_x, w, i):
        return xp.sum(xp.sin(data_x[i * b : (i + 1) * b]) @ w)

    @xp.jit
    def g(data_x, w, i):
        if wrt == "W":
            return xp.grad(lambda w: loss(data_x, w, i))(w)
        return xp.grad(lambda data_x: loss(data_x, w, i))(data_x)

    for i in range(4):
        rows = slice(i * b, (i + 1) * b)
        if wrt == "W":
            expected = np.broadcast_to(np.sin(data_x[rows]).sum(axis=0)[:, None], w.shape)
        else:
            expected = np.zeros_like(data_x)
            expected[rows] = np.cos(data_x[rows]) * w.sum(axis=1)
        np.testing.assert_allclose(np.asarray(g(data_x, w, np.int64(i))), expected, rtol=1e-12)


def test_grad_of_dynamic_slice_eagerly():
    x_np = np.arange(12.0).reshape(3, 4)
    g = xp.grad(lambda x: xp.sum(xp.dynamic_slice(x, (xp.asarray(1), 2), (2, 2)) ** 2))(
        xp.asarray(x_np)
    )
    expected = np.zeros_like(x_np)
    expected[1:3, 2:4] = 2 * x_np[1:3, 2:4]
    assert_matches(g, expected)


@pytest.mark.parametrize(
    "starts, sizes, error, match",
    [
        ((1,), (2, 2), ValueError, "2 axes but start_indices has 1"),
        ((1, 0), (2,), ValueError, "2 axes but the sizes have 1"),
        ((1, 0), (4, 2), ValueError, "does not fit in axis 0"),
        ((1, 0), (2, -1), ValueError, "does not fit in axis 1"),
        ((1, 0), (2.0, 2), TypeError, "sizes must be a tuple of Python integers"),
        (1, (2, 2), TypeError, "one start per axis"),
        ((1.0, 0), (2, 2), TypeError, "start_indices\\[0\\] must be an integer"),
        ((True, 0), (2, 2), TypeError, "start_indices\\[0\\] must be an integer"),
        ((np.asarray([1]), 0), (2, 2), TypeError, "0-d integer array"),
        ((np.float64(1.0), 0), (2, 2), TypeError, "0-d integer array"),
    ],
)
def test_dynamic_slice_argument_errors(starts, sizes, error, match):
    x = xp.asarray(np.zeros((3, 4)))
    with pytest.raises(error, match=match) as info:
        where = next_line()
        xp.dynamic_slice(x, starts, sizes)
    assert where in str(info.value)


@given(st.data())
def test_dynamic_update_slice_matches_numpy(data):
    x_np = data.draw(arrays(dtypes=ALL, shape=shapes(min_dims=1, max_dims=3, max_side=5)))
    starts, sizes, key = data.draw(windows(x_np.shape))
    update = data.draw(arrays(dtypes=[x_np.dtype], shape=sizes))
    expected = x_np.copy()
    expected[key] = update
    original = x_np.copy()
    given_starts = tuple(_start_forms(data.draw, s) for s in starts)
    assert_matches(xp.dynamic_update_slice(xp.asarray(x_np), update, given_starts), expected)

    @xp.jit
    def f(x, u, starts):
        return xp.dynamic_update_slice(x, u, starts)

    assert_matches(f(x_np, update, tuple(np.int64(s) for s in starts)), expected)
    assert original.tobytes() == x_np.tobytes()  # the input is not written


def test_dynamic_update_slice_errors():
    x = xp.asarray(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="update must have x's 2 axes"):
        xp.dynamic_update_slice(x, np.ones(2), (0, 0))
    with pytest.raises(TypeError, match="cannot assign"):
        xp.dynamic_update_slice(x, np.ones((1, 1), dtype=complex), (0, 0))
    with pytest.raises(IndexError, match="runs past the end of axis 1"):
        xp.dynamic_update_slice(x, np.ones((1, 2)), (0, xp.asarray(3)))

    @xp.jit
    def f(x, i):
        return xp.dynamic_update_slice(x, xp.ones((2, 2)), (i, i))

    with pytest.raises(IndexError, match="starting at 2 runs past the end of axis 0"):
        f(np.zeros((3, 4)), np.int64(2))


def test_setitem_with_bounds():
    x_np = np.arange(6.0)
    x = xp.asarray(x_np)
    x[xp.asarray(1) : np.int64(3)] = 0.0  # concrete bounds: as NumPy
    expected = x_np.copy()
    expected[1:3] = 0.0
    assert_matches(x, expected)

    @xp.jit
    def f(x, i):
        x[i : i + 2] = 0.0
        return x

    with pytest.raises(TypeError, match="dynamic_update_slice"):
        f(x_np, np.int64(1))


def test_setitem_scalar_through_mask_beside_other_advanced_indices():
    # A scalar through a mask is checked with an all-true probe only when the mask is the
    # one advanced index: here its positions must broadcast with the False's empty axis.
    x_np = np.zeros((1, 1, 2), dtype=bool)
    key = (False, None, 0, 0, np.array([False, False]))
    expected = x_np.copy()
    expected[key] = True
    x = xp.asarray(x_np)
    x[key] = True
    assert_matches(x, expected)
    with pytest.raises(IndexError):
        x_np[(False, None, 0, 0, np.array([True, True]))] = True
    with pytest.raises(IndexError):
        x[(False, None, 0, 0, np.array([True, True]))] = True
