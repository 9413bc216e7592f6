"""Differential tests of the manipulation functions against NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lazyarr as xp
from tests.helpers import ALL, INTEGER, assert_matches, lazy, next_line, numpy_arrays, shapes


@st.composite
def inputs(draw, shape=None, dtypes=ALL):
    """A NumPy array (any layout) and the same data as a constant or lazy Array."""
    if not isinstance(shape, tuple):
        shape = draw(shapes() if shape is None else shape)
    x_np = draw(numpy_arrays(dtypes=dtypes, shape=shape))
    if x_np.shape != shape:  # NOTE: helpers' "f" layout turns 0-d arrays into 1-d ones
        x_np = x_np.reshape(shape)
    form = draw(st.sampled_from(["constant", "lazy", "numpy"]))
    if form == "constant":
        return xp.asarray(x_np), x_np
    if form == "lazy":
        return lazy(x_np), x_np
    return x_np, x_np


def _raises_like_numpy(np_fn, xp_fn, exc=ValueError):
    """Both NumPy and lazyarr raise ``exc`` (lazyarr at the caller's line)."""
    with pytest.raises(exc):
        np_fn()
    with pytest.raises(exc) as info:
        xp_fn()
    assert "test_manipulation_functions.py:" in str(info.value)


def _error_at(exc, fn, *args, **kwargs):
    with pytest.raises(exc) as info:
        where = next_line()
        fn(*args, **kwargs)
    assert where in str(info.value)


# ----------------------------------------------------------------------------- reshape


@st.composite
def factorizations(draw, size: int):
    """A shape of ``size`` elements, with unit axes (and zeros when ``size`` is 0)."""
    if size == 0:
        dims = draw(st.lists(st.integers(0, 3), max_size=3)) + [0]
    else:
        dims, rest = [], size
        for _ in range(draw(st.integers(0, 3))):
            d = draw(st.sampled_from([d for d in range(1, rest + 1) if rest % d == 0]))
            dims.append(d)
            rest //= d
        if rest != 1:
            dims.append(rest)
    return tuple(draw(st.permutations(dims)))


@given(st.data())
def test_reshape(data):
    x, x_np = data.draw(inputs())
    shape = data.draw(factorizations(x_np.size))
    if shape and data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(shape) - 1))
        if not (x_np.size == 0 and math.prod(shape[:i] + shape[i + 1 :]) == 0):
            shape = shape[:i] + (-1,) + shape[i + 1 :]
    expected = np.reshape(x_np, shape)
    assert_matches(xp.reshape(x, shape), expected)


@given(st.data())
def test_reshape_arbitrary_shapes(data):
    """For any requested shape, lazyarr agrees with NumPy or both raise ValueError."""
    x, x_np = data.draw(inputs(shape=shapes(max_dims=3, max_side=3)))
    shape = tuple(data.draw(st.lists(st.integers(-1, 4), max_size=4)))
    try:
        expected = np.reshape(x_np, shape)
    except ValueError:
        with pytest.raises(ValueError):
            xp.reshape(x, shape)
        return
    assert_matches(xp.reshape(x, shape), expected)


@pytest.mark.parametrize(
    "shape, new",
    [((2, 3), (4,)), ((2, 3), (-1, -1)), ((2, 3), (-1, 4)), ((0, 3), (-1, 0)), ((6,), (-2, -3))],
)
def test_reshape_errors(shape, new):
    x_np = np.zeros(shape)
    with pytest.raises(ValueError):
        np.reshape(x_np, new)
    _error_at(ValueError, xp.reshape, xp.asarray(x_np), new)


def test_reshape_only_minus_one_is_unknown():
    """The standard allows -1 only; NumPy also reads -2 as unknown, lazyarr refuses it."""
    _error_at(ValueError, xp.reshape, xp.asarray(np.zeros(6)), (-2, 3))


def test_reshape_int_shape_and_copy():
    x_np = np.arange(6.0).reshape(2, 3)
    assert_matches(xp.reshape(xp.asarray(x_np), 6), x_np.reshape(6))
    assert_matches(xp.reshape(xp.asarray(x_np), (3, 2), copy=True), x_np.reshape(3, 2))


# ----------------------------------------------------------------------------- permute_dims


@given(st.data())
def test_permute_dims(data):
    x, x_np = data.draw(inputs(shape=shapes(max_dims=4)))
    ndim = x_np.ndim
    perm = data.draw(st.permutations(range(ndim)))
    axes = tuple(a - ndim if data.draw(st.booleans()) else a for a in perm)
    assert_matches(xp.permute_dims(x, axes), np.transpose(x_np, axes))


@pytest.mark.parametrize("axes", [(0, 0, 1), (0, 1), (0, 1, 3), (0, 1, -4), (0, 1, 2, 3)])
def test_permute_dims_errors(axes):
    x_np = np.zeros((2, 3, 4))
    with pytest.raises(ValueError):  # NumPy's AxisError is a ValueError too
        np.transpose(x_np, axes)
    _error_at(ValueError, xp.permute_dims, xp.asarray(x_np), axes)


# ----------------------------------------------------------------------------- broadcasting


@given(st.data())
def test_broadcast_to(data):
    target = data.draw(shapes(max_dims=4))
    drop = data.draw(st.integers(0, len(target)))
    shape = tuple(1 if data.draw(st.booleans()) else d for d in target[drop:])
    x, x_np = data.draw(inputs(shape=shape))
    assert_matches(xp.broadcast_to(x, target), np.broadcast_to(x_np, target))


@pytest.mark.parametrize(
    "shape, target", [((3,), (4,)), ((2, 3), (3,)), ((3,), (1,)), ((2, 1), (2, 0, 3, 4))]
)
def test_broadcast_to_errors(shape, target):
    x_np = np.zeros(shape)
    with pytest.raises(ValueError):
        np.broadcast_to(x_np, target)
    _error_at(ValueError, xp.broadcast_to, xp.asarray(x_np), target)


@given(st.data())
def test_broadcast_arrays(data):
    n = data.draw(st.integers(1, 4))
    bshapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=n, max_side=3))
    pairs = [data.draw(inputs(shape=s)) for s in bshapes.input_shapes]
    result = xp.broadcast_arrays(*(p[0] for p in pairs))
    expected = np.broadcast_arrays(*(p[1] for p in pairs))
    assert isinstance(result, tuple)
    assert len(result) == n
    for r, e in zip(result, expected):
        assert_matches(r, e)


def test_broadcast_arrays_no_arguments_and_errors():
    assert xp.broadcast_arrays() == ()
    a, b = xp.asarray(np.zeros((2, 3))), xp.asarray(np.zeros((4, 1)))
    _error_at(ValueError, xp.broadcast_arrays, a, b)


@given(st.data())
def test_broadcast_shapes(data):
    n = data.draw(st.integers(1, 4))
    bshapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=n, max_side=4))
    result = xp.broadcast_shapes(*bshapes.input_shapes)
    assert result == np.broadcast_shapes(*bshapes.input_shapes) == bshapes.result_shape
    assert isinstance(result, tuple)


@given(st.lists(shapes(max_dims=3, max_side=3), max_size=3))
def test_broadcast_shapes_arbitrary(shape_list):
    try:
        expected = np.broadcast_shapes(*shape_list)
    except ValueError:
        with pytest.raises(ValueError):
            xp.broadcast_shapes(*shape_list)
        return
    assert xp.broadcast_shapes(*shape_list) == expected


def test_broadcast_shapes_edge_cases():
    assert xp.broadcast_shapes() == ()
    assert xp.broadcast_shapes(()) == ()
    assert xp.broadcast_shapes((0,), (1,)) == (0,)
    assert xp.broadcast_shapes((2, 1), (1, 3), ()) == (2, 3)
    _error_at(ValueError, xp.broadcast_shapes, (2, 3), (3, 2))
    _error_at(ValueError, xp.broadcast_shapes, (0,), (2,))


# ----------------------------------------------------------------------------- concat, stack


@given(st.data())
def test_concat(data):
    base = data.draw(shapes(min_dims=1, max_dims=3))
    axis = data.draw(st.integers(-len(base), len(base) - 1))
    n = data.draw(st.integers(1, 4))
    dtypes = data.draw(st.sampled_from([ALL, INTEGER, [np.dtype("float32"), np.dtype("int8")]]))
    pairs = []
    for _ in range(n):
        shape = list(base)
        shape[axis] = data.draw(st.integers(0, 3))
        pairs.append(data.draw(inputs(shape=tuple(shape), dtypes=dtypes)))
    arrays = [p[0] for p in pairs]
    container = data.draw(st.sampled_from([list, tuple]))
    expected = np.concatenate([p[1] for p in pairs], axis=axis)
    assert_matches(xp.concat(container(arrays), axis=axis), expected)


@given(st.data())
def test_concat_axis_none(data):
    pairs = [data.draw(inputs()) for _ in range(data.draw(st.integers(1, 3)))]
    expected = np.concatenate([p[1] for p in pairs], axis=None)
    assert_matches(xp.concat([p[0] for p in pairs], axis=None), expected)


def test_concat_default_axis_and_promotion():
    a = np.arange(6, dtype=np.int8).reshape(2, 3)
    b = np.ones((1, 3), dtype=np.int16)
    c = np.ones((1, 3), dtype=np.uint8)
    result = xp.concat((xp.asarray(a), xp.asarray(b), xp.asarray(c)))
    assert_matches(result, np.concatenate((a, b, c)))
    assert result.dtype == xp.int16


@pytest.mark.parametrize(
    "shapes_, axis",
    [([(2, 3), (2, 4)], 0), ([(2, 3), (3,)], 0), ([(2, 3), (2, 3)], 2), ([(), ()], 0)],
)
def test_concat_errors(shapes_, axis):
    arrays = [np.zeros(s) for s in shapes_]
    with pytest.raises(ValueError):
        np.concatenate(arrays, axis=axis)
    _error_at(ValueError, xp.concat, [xp.asarray(a) for a in arrays], axis=axis)


def test_concat_and_stack_need_arrays():
    _error_at(ValueError, xp.concat, [])
    _error_at(ValueError, xp.stack, ())
    _error_at(TypeError, xp.concat, xp.asarray(np.zeros(3)))


@given(st.data())
def test_stack(data):
    shape = data.draw(shapes(max_dims=3))
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    pairs = [data.draw(inputs(shape=shape)) for _ in range(data.draw(st.integers(1, 3)))]
    expected = np.stack([p[1] for p in pairs], axis=axis)
    assert_matches(xp.stack([p[0] for p in pairs], axis=axis), expected)


def test_stack_errors():
    a, b = xp.asarray(np.zeros((2, 3))), xp.asarray(np.zeros((3, 2)))
    _error_at(ValueError, xp.stack, [a, b])
    _error_at(IndexError, xp.stack, [a, a], axis=3)
    _error_at(IndexError, xp.stack, [a, a], axis=-4)


@given(st.data())
def test_unstack(data):
    x, x_np = data.draw(inputs(shape=shapes(min_dims=1, max_dims=3)))
    axis = data.draw(st.integers(-x_np.ndim, x_np.ndim - 1))
    result = xp.unstack(x, axis=axis)
    expected = np.unstack(x_np, axis=axis)
    assert isinstance(result, tuple)
    assert len(result) == len(expected)
    for r, e in zip(result, expected):
        assert_matches(r, e)


def test_unstack_errors():
    _error_at(ValueError, xp.unstack, xp.asarray(np.float64(1.0)))
    _error_at(IndexError, xp.unstack, xp.asarray(np.zeros((2, 3))), axis=2)


# ----------------------------------------------------------------------------- expand_dims, squeeze


@given(st.data())
def test_expand_dims(data):
    x, x_np = data.draw(inputs(shape=shapes(max_dims=3)))
    n = data.draw(st.integers(0, 3))
    m = x_np.ndim + n
    slots = st.integers(0, max(m - 1, 0))
    positions = data.draw(st.lists(slots, min_size=n, max_size=n, unique=True))
    axes = tuple(p - m if data.draw(st.booleans()) else p for p in positions)
    if n == 1 and data.draw(st.booleans()):
        axes = axes[0]
    assert_matches(xp.expand_dims(x, axis=axes), np.expand_dims(x_np, axes))


@pytest.mark.parametrize("axis", [3, -4, (0, 4), (-5, 0), (1, 1), (0, -4)])
def test_expand_dims_errors(axis):
    x_np = np.zeros((2, 3))
    exc = ValueError if axis in [(1, 1), (0, -4)] else IndexError
    with pytest.raises(exc):
        np.expand_dims(x_np, axis)
    _error_at(exc, xp.expand_dims, xp.asarray(x_np), axis=axis)


@given(st.data())
def test_squeeze(data):
    shape = data.draw(shapes(max_dims=4, max_side=2))
    x, x_np = data.draw(inputs(shape=shape))
    units = [a for a, d in enumerate(shape) if d == 1]
    axes = data.draw(st.lists(st.sampled_from(units), unique=True)) if units else []
    axes = tuple(a - len(shape) if data.draw(st.booleans()) else a for a in axes)
    if len(axes) == 1 and data.draw(st.booleans()):
        axes = axes[0]
    assert_matches(xp.squeeze(x, axis=axes), np.squeeze(x_np, axis=axes))


@pytest.mark.parametrize("axis", [0, (1, 2), -1])
def test_squeeze_non_unit_axis(axis):
    x_np = np.zeros((2, 1, 3))
    with pytest.raises(ValueError):
        np.squeeze(x_np, axis=axis)
    _error_at(ValueError, xp.squeeze, xp.asarray(x_np), axis=axis)


def test_squeeze_axis_out_of_range():
    _error_at(IndexError, xp.squeeze, xp.asarray(np.zeros((1, 1))), axis=2)


# ----------------------------------------------------------------------------- flip, roll


def _axis_arg(data, ndim: int, allow_none: bool = True):
    """None, an int or a tuple of distinct (possibly negative) axes."""
    kinds = ["tuple"] + (["int"] if ndim else []) + (["none"] if allow_none else [])
    kind = data.draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    if kind == "int":
        return data.draw(st.integers(-ndim, ndim - 1))
    axes = data.draw(st.lists(st.integers(0, ndim - 1), unique=True)) if ndim else []
    return tuple(a - ndim if data.draw(st.booleans()) else a for a in axes)


@given(st.data())
def test_flip(data):
    x, x_np = data.draw(inputs(shape=shapes(max_dims=4)))
    axis = _axis_arg(data, x_np.ndim)
    if axis is None and data.draw(st.booleans()):
        result = xp.flip(x)
    else:
        result = xp.flip(x, axis=axis)
    assert_matches(result, np.flip(x_np, axis=axis))


def test_flip_errors():
    x = xp.asarray(np.zeros((2, 3)))
    _error_at(IndexError, xp.flip, x, axis=2)
    _error_at(ValueError, xp.flip, x, axis=(0, -2))


@given(st.data())
def test_roll(data):
    x, x_np = data.draw(inputs(shape=shapes(max_dims=3)))
    axis = _axis_arg(data, x_np.ndim)
    shift_ints = st.integers(-20, 20)
    if isinstance(axis, tuple) and data.draw(st.booleans()):
        shift = tuple(data.draw(shift_ints) for _ in axis)
    else:
        shift = data.draw(shift_ints)
    if axis is None and data.draw(st.booleans()):
        result, expected = xp.roll(x, shift), np.roll(x_np, shift)
    elif x_np.ndim == 0 and axis == ():  # NOTE: np.roll fails here; nothing is rolled
        result, expected = xp.roll(x, shift, axis=axis), x_np
    else:
        result, expected = xp.roll(x, shift, axis=axis), np.roll(x_np, shift, axis=axis)
    assert_matches(result, expected)


def test_roll_repeated_axes_and_shift_tuples():
    x_np = np.arange(12).reshape(3, 4)
    x = xp.asarray(x_np)
    assert_matches(xp.roll(x, (1, 2), axis=(1, 1)), np.roll(x_np, (1, 2), axis=(1, 1)))
    assert_matches(xp.roll(x, (1, -5)), np.roll(x_np, (1, -5)))
    assert_matches(xp.roll(x, (1, -5), axis=0), np.roll(x_np, (1, -5), axis=0))
    assert_matches(xp.roll(x, 2, axis=(0, 1)), np.roll(x_np, 2, axis=(0, 1)))
    assert_matches(xp.roll(x, (1, 2), axis=(0,)), np.roll(x_np, (1, 2), axis=(0,)))
    assert_matches(xp.roll(x, (3,), axis=(0, 1)), np.roll(x_np, (3,), axis=(0, 1)))
    assert_matches(xp.roll(x, 1, axis=()), np.roll(x_np, 1, axis=()))
    assert_matches(xp.roll(x, (), axis=1), np.roll(x_np, (), axis=1))
    _error_at(ValueError, xp.roll, x, (1, 2, 3), axis=(0, 1))
    _error_at(IndexError, xp.roll, x, 1, axis=2)


# ----------------------------------------------------------------------------- moveaxis


@given(st.data())
def test_moveaxis(data):
    x, x_np = data.draw(inputs(shape=shapes(min_dims=1, max_dims=4)))
    ndim = x_np.ndim
    n = data.draw(st.integers(1, ndim))
    src = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=n, max_size=n))
    dst = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=n, max_size=n))
    if len({a % ndim for a in src}) < n or len({a % ndim for a in dst}) < n:
        _raises_like_numpy(
            lambda: np.moveaxis(x_np, src, dst), lambda: xp.moveaxis(x, tuple(src), tuple(dst))
        )
        return
    if n == 1 and data.draw(st.booleans()):
        src, dst = src[0], dst[0]
    else:
        src, dst = tuple(src), tuple(dst)
    assert_matches(xp.moveaxis(x, src, dst), np.moveaxis(x_np, src, dst))


def test_moveaxis_errors():
    x = xp.asarray(np.zeros((2, 3, 4)))
    _error_at(ValueError, xp.moveaxis, x, (0, 1), (2,))
    _error_at(IndexError, xp.moveaxis, x, 3, 0)
    _error_at(IndexError, xp.moveaxis, x, 0, -4)


# ----------------------------------------------------------------------------- tile, repeat


@given(st.data())
def test_tile(data):
    x, x_np = data.draw(inputs(shape=shapes(max_dims=3, max_side=3)))
    reps = tuple(data.draw(st.lists(st.integers(0, 3), max_size=4)))
    assert_matches(xp.tile(x, reps), np.tile(x_np, reps))


def test_tile_errors():
    _error_at(ValueError, xp.tile, xp.asarray(np.zeros(3)), (2, -1))


@given(st.data())
def test_repeat_int(data):
    x, x_np = data.draw(inputs(shape=shapes(max_dims=3)))
    repeats = data.draw(st.integers(0, 4))
    if x_np.ndim and data.draw(st.booleans()):
        axis = data.draw(st.integers(-x_np.ndim, x_np.ndim - 1))
        result, expected = xp.repeat(x, repeats, axis=axis), np.repeat(x_np, repeats, axis=axis)
    elif data.draw(st.booleans()):
        result, expected = xp.repeat(x, repeats), np.repeat(x_np, repeats)
    else:
        result = xp.repeat(x, repeats, axis=None)
        expected = np.repeat(x_np, repeats, axis=None)
    assert_matches(result, expected)


@given(st.data())
def test_repeat_per_element(data):
    x, x_np = data.draw(inputs(shape=shapes(max_dims=3)))
    if x_np.ndim and data.draw(st.booleans()):
        axis = data.draw(st.integers(-x_np.ndim, x_np.ndim - 1))
        n = x_np.shape[axis]
    else:
        axis, n = None, x_np.size
    count = data.draw(st.sampled_from([n, 1]))
    counts = np.asarray(
        data.draw(st.lists(st.integers(0, 3), min_size=count, max_size=count)),
        dtype=data.draw(st.sampled_from(INTEGER)),
    )
    form = data.draw(st.sampled_from(["list", "numpy", "constant", "lazy"]))
    repeats = {
        "list": counts.tolist(),
        "numpy": counts,
        "constant": xp.asarray(counts),
        "lazy": lazy(counts),
    }[form]
    expected = np.repeat(x_np, counts.astype(np.int64), axis=axis)  # NumPy refuses uint64
    assert_matches(xp.repeat(x, repeats, axis=axis), expected)


def test_repeat_numpy_scalar_and_errors():
    x_np = np.arange(6).reshape(2, 3)
    x = xp.asarray(x_np)
    assert_matches(xp.repeat(x, np.int64(2), axis=1), np.repeat(x_np, 2, axis=1))
    assert_matches(xp.repeat(x, np.array([3]), axis=0), np.repeat(x_np, [3], axis=0))
    _error_at(ValueError, xp.repeat, x, -1)
    _error_at(ValueError, xp.repeat, x, [1, 2], axis=1)
    _error_at(ValueError, xp.repeat, x, [1, -1], axis=0)
    _error_at(TypeError, xp.repeat, x, np.array([1.0, 2.0]), axis=0)
    _error_at(IndexError, xp.repeat, x, 2, axis=2)


# ----------------------------------------------------------------------------- laziness


def test_manipulations_are_lazy():
    x = lazy(np.arange(24.0).reshape(2, 3, 4))
    results = [
        xp.reshape(x, (4, -1)),
        xp.permute_dims(x, (2, 0, 1)),
        xp.broadcast_to(x, (5, 2, 3, 4)),
        xp.concat([x, x], axis=1),
        xp.stack([x, x], axis=-1),
        *xp.unstack(x, axis=1),
        xp.expand_dims(x, axis=(0, -1)),
        xp.squeeze(xp.expand_dims(x, axis=1), axis=1),
        xp.flip(x, axis=(0, 2)),
        xp.roll(x, 5),
        xp.roll(x, (1, -1), axis=(0, 2)),
        xp.moveaxis(x, 0, -1),
        xp.tile(x, (2, 1, 1)),
        xp.repeat(x, 3, axis=2),
        xp.repeat(x, [1, 0, 2], axis=1),
    ]
    assert x._node.value is None
    assert all(r._node.value is None for r in results)
    expected = np.arange(24.0).reshape(2, 3, 4)
    assert_matches(results[-1], np.repeat(expected, [1, 0, 2], axis=1))


def test_composed_manipulations():
    """A graph of several manipulations of a negative-stride input, against the same NumPy calls."""
    x_np = np.arange(-12, 12, dtype=np.int16).reshape(2, 3, 4)[:, ::-1, ::2]
    x = xp.asarray(x_np)
    y = xp.roll(xp.flip(xp.permute_dims(x, (-1, 0, 1)), axis=-1), 4, axis=None)
    y_np = np.roll(np.flip(np.transpose(x_np, (2, 0, 1)), axis=-1), 4, axis=None)
    assert_matches(xp.reshape(xp.tile(y, (2,)), (-1,)), np.tile(y_np, (2,)).reshape(-1))
