"""Data type functions and dtype objects against NumPy: astype, can_cast, finfo, iinfo,
isdtype, result_type."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lazyarr as xp
from tests.helpers import (
    ALL,
    COMPLEX,
    DTYPE_KINDS,
    DTYPE_NAMES,
    FLOAT,
    INTEGER,
    assert_matches,
    next_line,
    numpy_arrays,
)


def assert_raises_here(exc: type[Exception], make) -> None:
    """``make`` is a one-line lambda; its error must be ``exc`` and name the lambda's line."""
    with pytest.raises(exc) as info:
        make()
    code = make.__code__
    assert f"{code.co_filename}:{code.co_firstlineno}" in str(info.value)


# ----------------------------------------------------------------------------- dtype objects
def test_api_version():
    assert xp.__array_api_version__ == "2025.12"


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_dtype_objects(name):
    d = getattr(xp, name)
    assert d == np.dtype(name)
    assert d == getattr(np, "bool_" if name == "bool" else name)
    assert hash(d) == hash(np.dtype(name))
    others = [getattr(xp, n) for n in DTYPE_NAMES if n != name]
    assert all(d != o for o in others)
    assert xp.asarray(np.zeros(1, name)).dtype == d
    assert xp.zeros(1, dtype=d).dtype == d


def test_dtype_equality_with_numpy_types():
    assert xp.float64 == np.float64
    assert xp.int32 == np.int32
    assert xp.float32 != np.float64
    assert xp.asarray(1.0).dtype == xp.float64


# ----------------------------------------------------------------------------- astype
def _defined(a: np.ndarray, to: np.dtype) -> np.ndarray:
    """Positions where NumPy's cast is defined (float to integer is not when out of range)."""
    if a.dtype.kind == "f" and to.kind in "iu":
        info = np.iinfo(to)
        with np.errstate(invalid="ignore"):
            return np.isfinite(a) & (a > float(info.min) - 1) & (a < float(info.max) + 1)
    return np.ones(a.shape, bool)


@pytest.mark.parametrize("source", ALL, ids=str)
@given(data=st.data())
def test_astype_all_pairs(source, data):
    a = data.draw(numpy_arrays(dtypes=[source]))
    x = xp.asarray(a)
    for to in ALL:
        if source.kind == "c" and to.kind not in "cb":
            continue
        got = xp.astype(x, to)
        assert (got.shape, got.dtype) == (a.shape, to)
        with np.errstate(all="ignore"):
            expected = a.astype(to)
        keep = _defined(a, to)
        if keep.all():
            assert_matches(got, expected)
        else:
            np.testing.assert_array_equal(np.asarray(got)[keep], expected[keep])


@pytest.mark.parametrize("source", COMPLEX, ids=str)
@pytest.mark.parametrize("to", [d for d in ALL if d.kind not in "cb"], ids=str)
def test_astype_complex_to_real_raises(source, to):
    x = xp.asarray([1 + 2j, 3], dtype=source)
    with pytest.raises(TypeError) as info:
        where = next_line()
        xp.astype(x, to)
    assert where in str(info.value)
    with pytest.raises(TypeError) as info:
        where = next_line()
        x.astype(to)
    assert where in str(info.value)


def test_astype_complex_to_bool_is_nonzero():
    a = np.array([0, 1j, 2, -0.0 + 0j, complex("nan"), 0 - 0j])
    assert_matches(xp.astype(xp.asarray(a), xp.bool), a.astype(bool))


@given(numpy_arrays(), st.sampled_from(ALL))
def test_astype_method_matches_function(a, to):
    x = xp.asarray(a)
    if a.dtype.kind == "c" and to.kind not in "cb":
        return
    with np.errstate(all="ignore"):
        expected = np.asarray(xp.astype(x, to))
    np.testing.assert_array_equal(np.asarray(x.astype(to)), expected)
    assert x.astype(to).dtype == to


def test_astype_copy_semantics():
    x = xp.asarray([1, 2, 3], dtype=xp.int16)
    same = xp.astype(x, xp.int16)
    assert same is not x
    assert_matches(same, np.array([1, 2, 3], np.int16))
    assert xp.astype(x, xp.int16, copy=False) is x
    assert x.astype(xp.int16, copy=False) is x
    assert x.astype(xp.int16) is not x
    changed = xp.astype(x, xp.float32, copy=False)
    assert changed is not x
    assert_matches(changed, np.array([1, 2, 3], np.float32))
    assert_matches(xp.astype(x, "float64", device="cpu"), np.array([1.0, 2.0, 3.0]))


def test_astype_is_lazy_and_interned():
    x = xp.ones((10**6, 10**6), dtype=xp.float32)
    y = xp.astype(x, xp.int8)
    assert (y.shape, y.dtype) == ((10**6, 10**6), np.dtype("int8"))
    assert xp.astype(x, xp.int8)._node is y._node
    assert_matches(y[:1, :2], np.ones((1, 2), np.int8))


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: xp.astype(xp.asarray(1), np.float16), TypeError),
        (lambda: xp.astype(xp.asarray(1), "float16"), TypeError),
        (lambda: xp.astype(xp.asarray(1), "foo"), TypeError),
        (lambda: xp.astype(xp.asarray(1), None), TypeError),
        (lambda: xp.astype(xp.asarray(1), object), TypeError),
        (lambda: xp.asarray(1).astype(str), TypeError),
        (lambda: xp.astype([1, 2], xp.int8), TypeError),
        (lambda: xp.astype(1.5, xp.int8), TypeError),
        (lambda: xp.astype(xp.asarray(1), xp.int8, device="gpu"), ValueError),
        (lambda: xp.astype(xp.asarray(1j), xp.float64), TypeError),
    ],
)
def test_astype_errors(make, exc):
    assert_raises_here(exc, make)


# ----------------------------------------------------------------------------- can_cast
@pytest.mark.parametrize("source", ALL, ids=str)
def test_can_cast_all_pairs(source):
    x = xp.zeros(2, dtype=source)
    for to in ALL:
        expected = bool(np.can_cast(source, to, "safe"))
        assert xp.can_cast(source, to) is expected, (source, to)
        assert xp.can_cast(x, to) is expected, (source, to)


def test_can_cast_standard_table():
    assert xp.can_cast(xp.int8, xp.int16)
    assert xp.can_cast(xp.uint8, xp.int16)
    assert not xp.can_cast(xp.int16, xp.int8)
    assert not xp.can_cast(xp.int64, xp.uint64)
    assert not xp.can_cast(xp.float64, xp.float32)
    assert xp.can_cast(xp.float32, xp.complex64)
    assert not xp.can_cast(xp.complex64, xp.float64)
    assert xp.can_cast(xp.bool, xp.int8)


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: xp.can_cast(xp.int8, "foo"), TypeError),
        (lambda: xp.can_cast(xp.int8, np.float16), TypeError),
        (lambda: xp.can_cast(xp.int8, xp.asarray(1)), TypeError),
        (lambda: xp.can_cast([1], xp.int8), TypeError),
        (lambda: xp.can_cast(np.float16, xp.float32), TypeError),
        (lambda: xp.can_cast(None, xp.float32), TypeError),
    ],
)
def test_can_cast_errors(make, exc):
    assert_raises_here(exc, make)


# ----------------------------------------------------------------------------- finfo, iinfo
@pytest.mark.parametrize("dtype", FLOAT, ids=str)
def test_finfo(dtype):
    real = np.dtype(dtype.char.lower()) if dtype.kind == "c" else dtype
    expected = np.finfo(real)
    for arg in (dtype, xp.asarray([1], dtype=dtype), dtype.name):
        info = xp.finfo(arg)
        assert type(info.bits) is int
        assert info.bits == expected.bits
        for field in ("eps", "max", "min", "smallest_normal"):
            value = getattr(info, field)
            assert type(value) is float, field
            assert value == float(getattr(expected, field)), field
        assert info.dtype == real
        assert info.dtype != np.float16


@pytest.mark.parametrize("dtype", INTEGER, ids=str)
def test_iinfo(dtype):
    expected = np.iinfo(dtype)
    for arg in (dtype, xp.asarray([1], dtype=dtype), dtype.name):
        info = xp.iinfo(arg)
        for field in ("bits", "max", "min"):
            value = getattr(info, field)
            assert type(value) is int, field
            assert value == int(getattr(expected, field)), field
        assert info.dtype == dtype


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: xp.finfo(xp.int8), TypeError),
        (lambda: xp.finfo(xp.bool), TypeError),
        (lambda: xp.finfo(xp.asarray([1])), TypeError),
        (lambda: xp.finfo(np.float16), TypeError),
        (lambda: xp.finfo(None), TypeError),
        (lambda: xp.finfo("foo"), TypeError),
        (lambda: xp.iinfo(xp.float32), TypeError),
        (lambda: xp.iinfo(xp.complex64), TypeError),
        (lambda: xp.iinfo(xp.bool), TypeError),
        (lambda: xp.iinfo(xp.asarray([1.0])), TypeError),
        (lambda: xp.iinfo(None), TypeError),
        (lambda: xp.iinfo([1]), TypeError),
    ],
)
def test_finfo_iinfo_errors(make, exc):
    assert_raises_here(exc, make)


# ----------------------------------------------------------------------------- isdtype
@pytest.mark.parametrize("dtype", ALL, ids=str)
def test_isdtype_kinds(dtype):
    for kind in DTYPE_KINDS:
        assert xp.isdtype(dtype, kind) is bool(np.isdtype(dtype, kind)), kind
    for other in ALL:
        assert xp.isdtype(dtype, other) is (dtype == other)


@given(st.sampled_from(ALL), st.lists(st.sampled_from(DTYPE_KINDS + ALL), max_size=4))
def test_isdtype_tuples(dtype, kinds):
    kind = tuple(kinds)
    assert xp.isdtype(dtype, kind) is bool(np.isdtype(dtype, kind))


def test_isdtype_spec_examples():
    assert xp.isdtype(xp.uint8, "integral")
    assert not xp.isdtype(xp.uint8, "signed integer")
    assert xp.isdtype(xp.complex64, "numeric")
    assert not xp.isdtype(xp.bool, "numeric")
    assert xp.isdtype(xp.float32, ("bool", "real floating"))
    assert not xp.isdtype(xp.int8, ())
    assert xp.isdtype(xp.asarray(1.0).dtype, xp.float64)


@pytest.mark.parametrize("dtype", ALL, ids=str)
def test_isdtype_takes_numpy_scalar_types(dtype):
    """``np.float64`` stands for its dtype, as in ``np.isdtype`` and in every function
    that takes a dtype (scikit-learn asks ``xp.isdtype(np.float64, "integral")``)."""
    scalar_type = dtype.type
    for kind in DTYPE_KINDS:
        assert xp.isdtype(scalar_type, kind) is bool(np.isdtype(scalar_type, kind)), kind
    assert xp.isdtype(dtype, scalar_type) is True
    assert xp.isdtype(scalar_type, ("bool", scalar_type)) is True
    for other in ALL:
        assert xp.isdtype(other, scalar_type) is (other == dtype)


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: xp.isdtype(xp.int8, "integer"), ValueError),
        (lambda: xp.isdtype(xp.int8, "Integral"), ValueError),
        (lambda: xp.isdtype(xp.int8, 1), TypeError),
        (lambda: xp.isdtype(xp.int8, None), TypeError),
        (lambda: xp.isdtype(xp.int8, np.dtype("float16")), TypeError),
        (lambda: xp.isdtype(xp.int8, ((xp.int8,),)), TypeError),
        (lambda: xp.isdtype(xp.int8, (xp.int8, "foo")), ValueError),
        (lambda: xp.isdtype(xp.int8, ("integral", 3)), TypeError),
        (lambda: xp.isdtype("int8", "integral"), TypeError),
        (lambda: xp.isdtype(np.dtype("float16"), "real floating"), TypeError),
        (lambda: xp.isdtype(xp.asarray(1), "integral"), TypeError),
        (lambda: xp.isdtype(None, "bool"), TypeError),
        (lambda: xp.isdtype(np.float16, "real floating"), TypeError),
        (lambda: xp.isdtype(np.floating, "real floating"), TypeError),
        (lambda: xp.isdtype(float, "real floating"), TypeError),
        (lambda: xp.isdtype(xp.int8, (np.float16,)), TypeError),
    ],
)
def test_isdtype_errors(make, exc):
    assert_raises_here(exc, make)


# ----------------------------------------------------------------------------- result_type
@pytest.mark.parametrize("first", ALL, ids=str)
def test_result_type_all_pairs(first):
    x = xp.zeros((), dtype=first)
    for second in ALL:
        expected = np.result_type(first, second)
        assert xp.result_type(first, second) == expected, (first, second)
        assert xp.result_type(x, second) == expected
        assert xp.result_type(second, x) == expected
        assert xp.result_type(x, xp.ones(2, dtype=second)) == expected
    assert xp.result_type(first) == first
    assert xp.result_type(x) == first


SCALARS = [True, False, 0, -3, 2**40, 0.5, -0.0, float("inf"), 1j, 2 + 0j]


@st.composite
def promotion_arguments(draw):
    """A mix of dtypes, lazy arrays and Python scalars with at least one non-scalar."""
    items = draw(
        st.lists(
            st.one_of(
                st.sampled_from(ALL).map(lambda d: ("dtype", d)),
                st.sampled_from(ALL).map(lambda d: ("array", d)),
                st.sampled_from(SCALARS).map(lambda s: ("scalar", s)),
            ),
            min_size=1,
            max_size=4,
        )
    )
    if all(kind == "scalar" for kind, _ in items):
        items.insert(draw(st.integers(0, len(items))), ("dtype", draw(st.sampled_from(ALL))))
    return items


@given(promotion_arguments())
def test_result_type_mixed_with_weak_scalars(items):
    lazy_args, numpy_args = [], []
    for kind, v in items:
        if kind == "array":
            lazy_args.append(xp.zeros((), dtype=v))
            numpy_args.append(np.zeros((), dtype=v))
        else:
            lazy_args.append(v)
            numpy_args.append(v)
    assert xp.result_type(*lazy_args) == np.result_type(*numpy_args), items


def test_result_type_weak_scalars_keep_the_array_dtype():
    # NEP 50 / the standard: Python scalars do not upcast arrays of their kind.
    assert xp.result_type(xp.int8, 1000) == xp.int8
    assert xp.result_type(xp.uint8, 1) == xp.uint8
    assert xp.result_type(xp.float32, 1.0) == xp.float32
    assert xp.result_type(xp.float32, 1j) == xp.complex64
    assert xp.result_type(xp.complex64, 1.0, 1) == xp.complex64
    assert xp.result_type(xp.bool, True) == xp.bool
    assert xp.result_type(1, xp.int16, 2.0) == np.result_type(1, np.int16, 2.0)


def test_result_type_accepts_numpy_arrays_and_names():
    assert xp.result_type(np.zeros(2, np.int8), xp.uint8) == xp.int16
    assert xp.result_type("int8", "float32") == xp.float32


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: xp.result_type(), ValueError),
        (lambda: xp.result_type(1, 2.0), ValueError),
        (lambda: xp.result_type(True), ValueError),
        (lambda: xp.result_type([1]), TypeError),
        (lambda: xp.result_type(xp.int8, "foo"), TypeError),
        (lambda: xp.result_type(np.float16), TypeError),
        (lambda: xp.result_type(xp.int8, None), TypeError),
        (lambda: xp.result_type(xp.int8, np.zeros(2, np.float16)), TypeError),
    ],
)
def test_result_type_errors(make, exc):
    assert_raises_here(exc, make)


def test_result_type_agrees_with_operators():
    """The promotion result_type reports is the one arithmetic uses."""
    for a, b in itertools.product(ALL, repeat=2):
        if a == xp.bool and b == xp.bool:
            continue
        got = (xp.zeros(1, dtype=a) + xp.zeros(1, dtype=b)).dtype
        assert got == xp.result_type(a, b), (a, b)
