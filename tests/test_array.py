"""Differential tests of the Array object against NumPy: attributes, operators,
materialization points and the protocols that connect lazyarr to other libraries."""

from __future__ import annotations

import operator

import array_api_compat
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lazyarr as xp
from tests.helpers import (
    ALL,
    NUMERIC,
    assert_matches,
    next_line,
    numpy_arrays,
    numpy_function,
    reference,
    shapes,
)

# Python scalars that do not fit float32 overflow to inf with a warning, in NumPy as here.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")

BINARY_OPS = {
    "+": (operator.add, operator.iadd),
    "-": (operator.sub, operator.isub),
    "*": (operator.mul, operator.imul),
    "/": (operator.truediv, operator.itruediv),
    "//": (operator.floordiv, operator.ifloordiv),
    "%": (operator.mod, operator.imod),
    "**": (operator.pow, operator.ipow),
    "&": (operator.and_, operator.iand),
    "|": (operator.or_, operator.ior),
    "^": (operator.xor, operator.ixor),
    "<<": (operator.lshift, operator.ilshift),
    ">>": (operator.rshift, operator.irshift),
}
COMPARISON_OPS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
ALL_BINARY_OPS = {**{k: f for k, (f, _) in BINARY_OPS.items()}, **COMPARISON_OPS}
# NumPy's float floor division misses the standard's special cases with infinities.
ORACLES = {"//": numpy_function("floor_divide")}
UNARY_OPS = {"-": operator.neg, "+": operator.pos, "~": operator.invert, "abs": abs}


def check(build, expected, *, rtol=None):
    """``build()`` matches NumPy's ``expected`` or raises the same class of exception."""
    if isinstance(expected, type):
        with pytest.raises(expected):
            np.asarray(build())
        return
    assert_matches(build(), expected, rtol=rtol)


def ulps(symbol: str, expected) -> float | None:
    """The tolerance of complex products and quotients: NumPy's own loops for them
    differ in the last bit between layouts (its SIMD loop fuses multiply-adds, its
    scalar one does not), so a few ulps; other results exactly."""
    if isinstance(expected, type) or expected.dtype.kind != "c" or symbol not in ("*", "/", "**"):
        return None
    return 4 * float(np.finfo(expected.dtype).eps)


def pending(x: np.ndarray) -> xp.Array:
    """An Array equal to ``x`` whose value is not computed yet."""
    return xp.reshape(xp.expand_dims(xp.asarray(x), axis=0), x.shape)


def python_scalars(dtype: np.dtype):
    """Python scalars of every kind; ints fit ``dtype`` when it is an integer dtype."""
    if dtype.kind in "iu":
        ii = np.iinfo(dtype)
        ints = st.integers(int(ii.min), int(ii.max))
    else:
        ints = st.integers(-(2**53), 2**53)
    return st.one_of(st.booleans(), ints, st.floats(), st.complex_numbers())


@st.composite
def operands(draw, symbol: str):
    """An array x and another operand (a lazy Array, a NumPy array or a Python scalar)
    that broadcast together, in NumPy form, and how to pass the other operand."""
    s1, s2 = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, min_side=0, max_side=3),
        label="shapes",
    ).input_shapes
    x = draw(numpy_arrays(ALL, shape=s1), label="x")
    kind = draw(st.sampled_from(["lazy", "numpy", "scalar"]), label="kind")
    if kind == "scalar":
        y = draw(python_scalars(x.dtype), label="y")
        if symbol == "**" and x.dtype.kind in "iu" and isinstance(y, int) and y < 0:
            y = -y  # integers to negative integer powers raise; keep the draw useful
    else:
        y = draw(numpy_arrays(ALL, shape=s2), label="y")
        if symbol == "**" and y.dtype.kind == "i":
            y = y & np.iinfo(y.dtype).max
    return x, y, kind


def _other(y, kind):
    return xp.asarray(y) if kind == "lazy" else y


# ----------------------------------------------------------------------------- attributes
@given(x=numpy_arrays(ALL))
def test_attributes(x):
    a = pending(x)
    assert a.shape == x.shape
    assert type(a.shape) is tuple
    assert all(type(d) is int for d in a.shape)
    assert a.dtype == x.dtype
    assert a.dtype == getattr(xp, x.dtype.name)
    assert a.ndim == x.ndim
    assert a.size == x.size
    assert type(a.size) is int
    assert a.device == "cpu"
    assert a.device in xp.__array_namespace_info__().devices()


@given(x=numpy_arrays(ALL, shape=shapes(max_dims=4, max_side=3)))
def test_T_reverses_all_axes(x):
    """NumPy semantics for any ndim (the standard only defines 2-D)."""
    assert_matches(pending(x).T, x.T)


@given(x=numpy_arrays(ALL, shape=shapes(max_dims=4, max_side=3)))
def test_mT(x):
    a = pending(x)
    if x.ndim < 2:
        with pytest.raises(ValueError) as info:
            where = next_line()
            a.mT
        assert where in str(info.value)
    else:
        assert_matches(a.mT, np.swapaxes(x, -1, -2))


@pytest.mark.parametrize("attr", ["shape", "dtype", "device", "ndim", "size", "T", "mT"])
def test_attributes_are_read_only(attr):
    a = xp.asarray(np.ones((2, 2)))
    with pytest.raises(AttributeError):
        setattr(a, attr, getattr(a, attr))


# ----------------------------------------------------------------------------- operators
@pytest.mark.parametrize("symbol", sorted(UNARY_OPS))
@given(x=numpy_arrays(ALL))
def test_unary_operator(symbol, x):
    fn = UNARY_OPS[symbol]
    check(lambda: fn(pending(x)), reference(fn, x))


@pytest.mark.parametrize("symbol", sorted(ALL_BINARY_OPS))
@given(data=st.data())
def test_binary_operator(symbol, data):
    """Forward and reflected, with a lazy Array, a NumPy array or a Python scalar on
    the other side; ``np_array op lazy`` gives a lazy Array too."""
    fn = ALL_BINARY_OPS[symbol]
    x, y, kind = data.draw(operands(symbol))
    lazy_first = data.draw(st.booleans(), label="lazy first")
    oracle = ORACLES.get(symbol, fn)
    if lazy_first:
        expected = reference(oracle, x, y)
        check(lambda: fn(pending(x), _other(y, kind)), expected, rtol=ulps(symbol, expected))
    else:
        expected = reference(oracle, y, x)
        check(lambda: fn(_other(y, kind), pending(x)), expected, rtol=ulps(symbol, expected))


@pytest.mark.parametrize("symbol", [*sorted(ALL_BINARY_OPS), "@"])
def test_numpy_array_on_the_left_stays_lazy(symbol):
    fn = ALL_BINARY_OPS.get(symbol, operator.matmul)
    x = np.arange(1, 5, dtype=np.int32).reshape(2, 2)
    y = np.array([[3, 1], [2, 5]], dtype=np.int32)
    result = fn(y, xp.asarray(x))
    assert isinstance(result, xp.Array), type(result)
    assert_matches(result, fn(y, x))


@pytest.mark.parametrize("symbol", sorted(BINARY_OPS))
@given(data=st.data())
def test_inplace_operator(symbol, data):
    """``a op= b`` rebinds the same Array object to ``a op b``, cast back to ``a``'s dtype
    as NumPy's in-place operators cast (``same_kind``: ``float32 += float64`` is float32);
    a result of another kind is a TypeError and one of another shape a ValueError, and
    ``a`` is unchanged."""
    fn, ifn = BINARY_OPS[symbol]
    x, y, kind = data.draw(operands(symbol))
    expected = reference(ORACLES.get(symbol, fn), x, y)
    a = pending(x)
    alias = a
    if isinstance(expected, type):
        # NOTE: lazyarr may refuse the dtype change of an in-place operator (TypeError)
        # before evaluating what NumPy refuses (bool **= -1 is int64 ** -1 there).
        with pytest.raises((expected, TypeError)):
            a = ifn(a, _other(y, kind))
            np.asarray(a)
        return
    same_kind = np.can_cast(expected.dtype, x.dtype, "same_kind")
    if not same_kind or expected.shape != x.shape:
        with pytest.raises(ValueError if same_kind else TypeError) as info:
            where = next_line()
            a = ifn(a, _other(y, kind))
        assert where in str(info.value)
        assert a is alias
        assert_matches(a, x)
        return
    a = ifn(a, _other(y, kind))
    assert a is alias
    assert_matches(alias, expected.astype(x.dtype), rtol=ulps(symbol, expected))


def test_inplace_operator_casts_back_within_a_kind_as_numpy_does():
    """``x32 *= x64`` (SciPy's ``fft.fht`` on float32 input) is float32, as in NumPy;
    ``int_array += 1.5`` changes the kind, a TypeError."""
    x_np = np.array([1.5, -2.0, 3.25], dtype=np.complex64)
    u_np = np.exp(1j * np.arange(3.0))  # complex128
    a = xp.asarray(x_np)
    alias = a
    a *= xp.asarray(u_np)
    expected = x_np.copy()
    expected *= u_np
    assert a is alias
    assert_matches(a, expected)
    b = xp.asarray(np.arange(3, dtype=np.int8))
    b += xp.asarray(np.array([1, 2, 300], dtype=np.int16))
    assert_matches(b, np.array([1, 3, 46], dtype=np.int8))  # wraps, as NumPy's b += ...
    c = xp.asarray(np.arange(3))
    with pytest.raises(TypeError) as info:
        where = next_line()
        c += 1.5
    assert where in str(info.value)
    u = xp.asarray(np.arange(3, dtype=np.uint8))
    with pytest.raises(TypeError):
        u += xp.asarray(np.ones(3, dtype=np.int8))  # int16 result: NumPy refuses it too


def test_inplace_operator_is_seen_through_every_name():
    a = xp.asarray(np.arange(3, dtype=np.int8))
    b = a
    a += 1
    a *= 2
    assert b is a
    assert_matches(b, np.array([2, 4, 6], dtype=np.int8))


@pytest.mark.parametrize("symbol", sorted(ALL_BINARY_OPS))
@pytest.mark.parametrize("other", [None, "1", object()], ids=repr)
def test_operator_rejects_other_types(symbol, other):
    fn = ALL_BINARY_OPS[symbol]
    a = xp.asarray(np.ones(2))
    if symbol in ("==", "!="):
        # Python falls back to identity comparison, as for NumPy arrays.
        assert fn(a, other) is (symbol == "!=")
        return
    with pytest.raises(TypeError):
        fn(a, other)
    if isinstance(other, str) and symbol == "%":
        return  # ``"1" % a`` is string formatting, which Python decides before asking a
    with pytest.raises(TypeError):
        fn(other, a)


# ----------------------------------------------------------------------------- assignment
@pytest.mark.parametrize(
    ("dtype", "value"),
    [
        (np.float32, np.array([0.1, 2.0], dtype=np.float64)),
        (np.float32, np.float64(0.1)),
        (np.complex64, np.array([0.1 + 1j, 2.0], dtype=np.complex128)),
        (np.int8, np.array([1, 300], dtype=np.int64)),  # wraps, as NumPy's x[1:] = ... does
        (np.uint8, np.array([1, 2], dtype=np.uint32)),
    ],
    ids=repr,
)
@pytest.mark.parametrize("lazy_value", [False, True])
def test_setitem_casts_a_wider_value_of_the_same_kind(dtype, value, lazy_value):
    """``x32[i] = y64`` stores ``y`` as float32, as NumPy, JAX's ``.at[].set`` and PyTorch
    do: library code writes ``x[i] = xp.minimum(x[i], y)`` (array-api-extra's
    ``at(x)[i].min(0.0)`` on float32, SciPy's ``signal.savgol_filter``)."""
    x_np = np.zeros(3, dtype=dtype)
    expected = x_np.copy()
    expected[1:] = value
    a = xp.asarray(x_np)
    a[1:] = xp.asarray(value) if lazy_value else value
    assert_matches(a, expected)

    @xp.jit
    def f(x, v):
        x[1:] = v
        return x

    assert_matches(f(x_np, np.asarray(value)), expected)


@pytest.mark.parametrize(
    ("dtype", "value"),
    [
        (np.int8, np.array([1.0, 2.0])),  # float into int: another kind
        (np.float32, np.array([1j, 2.0], dtype=np.complex64)),  # complex into real
        (np.uint8, np.array([1, 2], dtype=np.int8)),  # NumPy's same_kind refuses it too
        (np.bool_, np.array([1, 0], dtype=np.int8)),
    ],
    ids=repr,
)
def test_setitem_refuses_a_value_of_another_kind(dtype, value):
    a = xp.zeros(3, dtype=dtype)
    with pytest.raises(TypeError) as info:
        where = next_line()
        a[1:] = value
    assert where in str(info.value)
    assert_matches(a, np.zeros(3, dtype=dtype))


# ----------------------------------------------------------------------------- matmul
@given(data=st.data())
def test_matmul(data):
    """1-D and batched operands, lazy or NumPy on either side, mixed dtypes.

    Values are small integers, so float results are exact in any summation order.
    """
    s1, s2 = data.draw(
        hnp.mutually_broadcastable_shapes(
            signature=np.matmul.signature, max_dims=2, min_side=0, max_side=3
        ),
        label="shapes",
    ).input_shapes
    d1 = data.draw(st.sampled_from(ALL), label="d1")
    d2 = data.draw(st.sampled_from(ALL), label="d2")
    x1 = data.draw(hnp.arrays(np.int64, s1, elements=st.integers(0, 4)), label="x1").astype(d1)
    x2 = data.draw(hnp.arrays(np.int64, s2, elements=st.integers(0, 4)), label="x2").astype(d2)
    kind = data.draw(st.sampled_from(["lazy-lazy", "lazy-numpy", "numpy-lazy"]), label="kind")
    a1 = x1 if kind == "numpy-lazy" else pending(x1)
    a2 = x2 if kind == "lazy-numpy" else pending(x2)
    check(lambda: a1 @ a2, reference(operator.matmul, x1, x2))


@pytest.mark.parametrize(("s1", "s2"), [((), (2,)), ((2,), ()), ((2, 3), (2, 3)), ((3,), (2,))])
def test_matmul_errors(s1, s2):
    x1, x2 = np.ones(s1), np.ones(s2)
    assert reference(operator.matmul, x1, x2) is ValueError
    with pytest.raises(ValueError) as info:
        where = next_line()
        xp.asarray(x1) @ xp.asarray(x2)
    assert where in str(info.value)


def test_matmul_rejects_python_scalars():
    a = xp.asarray(np.ones((2, 2)))
    with pytest.raises(TypeError):
        a @ 2
    with pytest.raises(TypeError):
        2 @ a


def test_inplace_matmul():
    x = np.arange(4.0).reshape(2, 2)
    a = xp.asarray(x)
    alias = a
    a @= xp.asarray(x)
    assert a is alias
    assert_matches(alias, x @ x)
    b = xp.asarray(np.ones((2, 3)))
    with pytest.raises(ValueError) as info:
        where = next_line()
        b @= xp.asarray(np.ones((3, 4)))
    assert where in str(info.value)
    assert_matches(b, np.ones((2, 3)))


# ----------------------------------------------------------------------------- materialization
@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
@given(x=numpy_arrays(ALL), dtype=st.sampled_from(ALL))
def test_array_protocol(x, dtype):
    """``np.asarray`` gives the computed value, read-only (lazyarr values are immutable);
    ``__array__`` converts dtypes and copies on request, as NumPy's protocol asks."""
    a = pending(x)
    value = np.asarray(a)
    np.testing.assert_array_equal(value, x, strict=True)
    assert not value.flags.writeable
    copy = a.__array__(copy=True)
    np.testing.assert_array_equal(copy, x, strict=True)
    assert copy.flags.writeable
    assert not np.shares_memory(copy, value)
    writable = np.array(a)
    assert writable.flags.writeable
    np.testing.assert_array_equal(writable, x, strict=True)
    converted = [a.__array__(dtype=dtype), np.asarray(a, dtype=dtype)]
    for c in converted:
        assert c.dtype == dtype
        assert c.shape == x.shape
    if np.can_cast(x.dtype, dtype, casting="same_kind"):
        # (Out-of-range float to integer casts are undefined, and differ by layout.)
        for c in converted:
            np.testing.assert_array_equal(c, x.astype(dtype), strict=True)
    if dtype != x.dtype:
        with pytest.raises(ValueError):
            a.__array__(dtype=dtype, copy=False)
    else:
        assert np.shares_memory(a.__array__(dtype=dtype, copy=False), value) or x.size == 0


@pytest.mark.parametrize(
    "convert", [bool, int, float, complex, operator.index], ids=lambda f: f.__name__
)
@given(x=numpy_arrays(ALL, shape=shapes(max_dims=2, max_side=2)))
def test_python_scalar_conversion(convert, x):
    """Same value and type as NumPy, or the same error (size != 1, NaN to int, ...)."""
    try:
        expected = convert(x)
    except (TypeError, ValueError, OverflowError) as e:
        with pytest.raises(type(e)):
            convert(pending(x))
        return
    got = convert(pending(x))
    assert type(got) is type(expected)
    assert repr(got) == repr(expected)  # NaN and signed zeros compare through repr


@given(x=numpy_arrays(ALL, shape=shapes(max_dims=3, max_side=3)))
def test_repr_and_str(x):
    a = pending(x)
    r = repr(a)
    assert r.startswith("Array(")
    assert r.endswith(f", dtype={x.dtype})")
    assert np.array2string(x, separator=", ", prefix="Array(") in r
    assert str(a) == str(x)


@given(x=numpy_arrays(ALL, shape=shapes(max_dims=3, max_side=3)))
def test_len_and_iter(x):
    a = pending(x)
    if x.ndim == 0:
        with pytest.raises(TypeError):
            len(a)
        with pytest.raises(TypeError):
            iter(a)
        return
    assert len(a) == len(x)
    items = list(a)
    assert len(items) == len(x)
    for got, expected in zip(items, x):
        assert_matches(got, expected)


@given(x=numpy_arrays(ALL))
def test_dlpack(x):
    a = pending(x)
    assert a.__dlpack_device__() == (1, 0)  # kDLCPU, device 0
    assert a.__dlpack_device__() == x.__dlpack_device__()
    got = np.from_dlpack(a)
    np.testing.assert_array_equal(got, x, strict=True)
    assert not got.flags.writeable  # the buffer is lazyarr's and must not change
    copy = np.from_dlpack(a, copy=True)
    np.testing.assert_array_equal(copy, x, strict=True)
    assert copy.flags.writeable
    assert type(a.__dlpack__()).__name__ == "PyCapsule"
    np.testing.assert_array_equal(np.from_dlpack(pending(x)), x, strict=True)


def test_to_device():
    x = np.arange(3.0)
    a = pending(x)
    for device in ("cpu", a.device, xp.__array_namespace_info__().default_device()):
        b = a.to_device(device)
        assert b.device == a.device
        assert_matches(b, x)
    with pytest.raises(ValueError) as info:
        where = next_line()
        a.to_device("cuda:0")
    assert where in str(info.value)


@pytest.mark.parametrize("version", [None, "2021.12", "2022.12", "2023.12", "2024.12", "2025.12"])
def test_array_namespace(version):
    a = xp.asarray(np.ones(2))
    assert a.__array_namespace__(api_version=version) is xp
    assert xp.__array_api_version__ == "2025.12"


@pytest.mark.parametrize("version", ["2020.10", "2026.12", "1.0", ""])
def test_array_namespace_rejects_unknown_versions(version):
    with pytest.raises(ValueError):
        xp.asarray(np.ones(2)).__array_namespace__(api_version=version)


def test_array_api_compat():
    a, b = xp.asarray(np.ones(2)), pending(np.zeros((2, 2)))
    assert array_api_compat.array_namespace(a) is xp
    assert array_api_compat.array_namespace(a, b) is xp
    assert array_api_compat.is_array_api_obj(b)


# ----------------------------------------------------------------------------- NumPy ufuncs
_UFUNC_INPUTS = [
    np.array([-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, np.inf, -np.inf, np.nan]),
    np.array([-3, -1, 0, 1, 2, 7], dtype=np.int16),
    np.array([True, False, True]),
    np.array([1 + 2j, -0.0 - 1j, np.inf + 0j, 0j], dtype=np.complex64),
]
_UFUNCS = sorted(
    n for n in dir(np) if isinstance(getattr(np, n), np.ufunc) and hasattr(xp, n) and n != "where"
)


@pytest.mark.parametrize("name", _UFUNCS)
def test_numpy_ufunc_on_lazy_arrays_stays_lazy(name):
    """``np.exp(lazy)`` (any ufunc the standard names) builds a lazy Array."""
    ufunc = getattr(np, name)
    for x in _UFUNC_INPUTS:
        if ufunc.nin == 1:
            cases = [((pending(x),), (x,))]
        else:
            y = x[::-1].copy()
            cases = [((pending(x), y), (x, y)), ((y, pending(x)), (y, x))]
        for lazy_args, np_args in cases:
            expected = reference(numpy_function(name), *np_args)
            if isinstance(expected, type):
                with pytest.raises(expected):
                    np.asarray(ufunc(*lazy_args))
                continue
            result = ufunc(*lazy_args)
            assert isinstance(result, xp.Array), (name, type(result))
            assert_matches(result, expected)


def test_other_numpy_ufunc_uses_compute_eagerly():
    x = np.array([1.0, np.nan, -2.0])
    a = pending(x)
    out = np.empty(3)
    assert np.exp(a, out=out) is out
    np.testing.assert_array_equal(out, np.exp(x))
    np.testing.assert_array_equal(np.add.reduce(a), np.add.reduce(x))
    np.testing.assert_array_equal(np.fmax(a, 0.0), np.fmax(x, 0.0))


# ----------------------------------------------------------------------------- object protocol
def test_arrays_are_not_hashable():
    assert xp.Array.__hash__ is None
    with pytest.raises(TypeError):
        hash(xp.asarray(np.ones(2)))


@pytest.mark.parametrize("args", [(), (np.ones(2),), ([1, 2],)], ids=repr)
def test_arrays_are_not_constructed_directly(args):
    with pytest.raises(TypeError):
        xp.Array(*args)


@given(x=numpy_arrays(NUMERIC, shape=shapes(max_dims=2)))
def test_results_are_lazy_until_materialized(x):
    """Operators return Arrays of the namespace; the value appears at ``np.asarray``."""
    a = pending(x)
    b = -(a * 1) + a
    assert isinstance(b, xp.Array)
    assert b.__array_namespace__() is xp
    with np.errstate(all="ignore"):
        expected = -(x * 1) + x
    assert_matches(b, expected)
