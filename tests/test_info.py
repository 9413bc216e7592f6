"""The inspection API, ``xp.__array_namespace_info__()``, against the standard and NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lazyarr as xp
from tests.helpers import ALL, DTYPE_KINDS, DTYPE_NAMES, assert_matches, next_line, numpy_arrays


@pytest.fixture
def info():
    return xp.__array_namespace_info__()


def assert_raises_here(exc: type[Exception], make) -> None:
    """``make`` is a one-line lambda; its error must be ``exc`` and name the lambda's line."""
    with pytest.raises(exc) as raised:
        make()
    code = make.__code__
    assert f"{code.co_filename}:{code.co_firstlineno}" in str(raised.value)


def test_info_is_reachable_from_an_array():
    namespace = xp.asarray([1.0]).__array_namespace__()
    assert namespace is xp
    assert set(namespace.__array_namespace_info__().dtypes()) == set(DTYPE_NAMES)


# ----------------------------------------------------------------------------- capabilities
def test_capabilities_keys_and_types(info):
    caps = info.capabilities()
    assert isinstance(caps, dict)
    assert set(caps) == {"boolean indexing", "data-dependent shapes", "max dimensions"}
    assert type(caps["boolean indexing"]) is bool
    assert type(caps["data-dependent shapes"]) is bool
    m = caps["max dimensions"]
    assert m is None or (type(m) is int and m > 0)


def test_capabilities_max_dimensions_is_honest(info):
    """Arrays with the advertised number of dimensions can be built and computed."""
    m = info.capabilities()["max dimensions"]
    assert m is not None, "values are computed by NumPy, which has a dimension limit"
    x = xp.ones((1,) * m, dtype=xp.int8) + 1
    assert_matches(x, np.full((1,) * m, 2, np.int8))


@given(numpy_arrays(dtypes=[np.dtype("float64"), np.dtype("int16")], layouts=False), st.data())
def test_capabilities_boolean_indexing(a, data):
    if not xp.__array_namespace_info__().capabilities()["boolean indexing"]:
        return
    mask = data.draw(st.lists(st.booleans(), min_size=a.size, max_size=a.size))
    mask = np.array(mask, dtype=bool).reshape(a.shape)
    assert_matches(xp.asarray(a)[xp.asarray(mask)], a[mask])


@pytest.mark.parametrize("disabled", [False, True], ids=["jit", "jit disabled"])
def test_capabilities_inside_jit(info, disabled):
    """A jitted function can index with a boolean mask (the result has an unknown
    length), but creation functions cannot build arrays of such a length, so it reports
    no data-dependent shapes there. Run eagerly for debugging, it gets the same answers."""
    seen = []

    @xp.jit
    def positive_sum(x):
        caps = xp.__array_namespace_info__().capabilities()
        seen.append(caps)
        if caps["boolean indexing"]:
            return xp.sum(x[x > 0])
        return xp.sum(xp.where(x > 0, x, 0.0))

    with xp.disable_jit(disabled):
        assert_matches(positive_sum(np.array([-1.0, 2.0, 3.0])), np.asarray(5.0))
    assert seen[0]["boolean indexing"] is True
    assert seen[0]["data-dependent shapes"] is False
    assert seen[0]["max dimensions"] == info.capabilities()["max dimensions"]
    caps = info.capabilities()
    assert caps["boolean indexing"] is True
    assert caps["data-dependent shapes"] is True


# ----------------------------------------------------------------------------- devices
def test_devices(info):
    devices = info.devices()
    assert isinstance(devices, tuple)
    assert len(devices) >= 1
    assert info.default_device() in devices
    assert xp.asarray([1, 2]).device == info.default_device()
    for d in devices:
        assert xp.zeros(2, device=d).device == d
        assert xp.asarray([1.0], device=d).device == d
        assert xp.arange(3, device=d).device == d
        assert xp.asarray([1]).to_device(d).device == d
        assert info.default_dtypes(device=d) == info.default_dtypes()
        assert info.dtypes(device=d) == info.dtypes()


def test_cpu_device_by_name(info):
    assert info.default_dtypes(device="cpu") == info.default_dtypes()
    assert info.dtypes(device="cpu", kind="bool") == {"bool": xp.bool}
    assert "cpu" in info.devices()


# ----------------------------------------------------------------------------- default dtypes
def test_default_dtypes(info):
    defaults = info.default_dtypes()
    assert set(defaults) == {"real floating", "complex floating", "integral", "indexing"}
    assert defaults["real floating"] in (xp.float32, xp.float64)
    assert defaults["complex floating"] == (
        xp.complex64 if defaults["real floating"] == xp.float32 else xp.complex128
    )
    assert xp.isdtype(defaults["integral"], "integral")
    assert xp.isdtype(defaults["indexing"], "signed integer")
    assert defaults == {
        "real floating": np.float64,
        "complex floating": np.complex128,
        "integral": np.int64,
        "indexing": np.int64,
    }


def test_default_dtypes_are_what_functions_use(info):
    defaults = info.default_dtypes()
    assert xp.asarray(1.5).dtype == defaults["real floating"]
    assert xp.asarray([1.5, 2]).dtype == defaults["real floating"]
    assert xp.zeros(2).dtype == defaults["real floating"]
    assert xp.linspace(0, 1, 3).dtype == defaults["real floating"]
    assert xp.arange(0.5).dtype == defaults["real floating"]
    assert xp.asarray(1j).dtype == defaults["complex floating"]
    assert xp.asarray(1).dtype == defaults["integral"]
    assert xp.arange(3).dtype == defaults["integral"]
    assert xp.full(2, 7).dtype == defaults["integral"]
    assert xp.argmax(xp.asarray([1, 3, 2])).dtype == defaults["indexing"]


# ----------------------------------------------------------------------------- dtypes
def test_dtypes_all(info):
    dtypes = info.dtypes()
    assert list(dtypes) == DTYPE_NAMES
    for name, d in dtypes.items():
        assert d == np.dtype(name)
        assert getattr(xp, name) == d
    assert info.dtypes(kind=None) == dtypes


@pytest.mark.parametrize("kind", DTYPE_KINDS)
def test_dtypes_kind(info, kind):
    expected = {n: np.dtype(n) for n in DTYPE_NAMES if np.isdtype(np.dtype(n), kind)}
    assert info.dtypes(kind=kind) == expected


@given(st.lists(st.sampled_from(DTYPE_KINDS + ALL), max_size=4))
def test_dtypes_kind_tuple(kinds):
    info = xp.__array_namespace_info__()
    kind = tuple(kinds)
    expected = {n: np.dtype(n) for n in DTYPE_NAMES if np.isdtype(np.dtype(n), kind)}
    assert info.dtypes(kind=kind) == expected


@pytest.mark.parametrize("dtype", ALL, ids=str)
def test_dtypes_kind_is_a_dtype(info, dtype):
    assert info.dtypes(kind=dtype) == {dtype.name: dtype}


def test_dtypes_spec_examples(info):
    assert set(info.dtypes(kind="integral")) == {
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
    }
    assert info.dtypes(kind=("bool", "complex floating")) == {
        "bool": xp.bool,
        "complex64": xp.complex64,
        "complex128": xp.complex128,
    }
    assert info.dtypes(kind=()) == {}
    assert "float16" not in info.dtypes()


# ----------------------------------------------------------------------------- errors
def test_dtypes_bad_kind_names_the_line(info):
    with pytest.raises(ValueError) as raised:
        where = next_line()
        info.dtypes(kind="integer")
    assert where in str(raised.value)


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: xp.__array_namespace_info__().dtypes(kind="float"), ValueError),
        (lambda: xp.__array_namespace_info__().dtypes(kind=("bool", "foo")), ValueError),
        (lambda: xp.__array_namespace_info__().dtypes(kind=1), TypeError),
        (lambda: xp.__array_namespace_info__().dtypes(kind=(("bool",),)), TypeError),
        (lambda: xp.__array_namespace_info__().dtypes(kind=np.dtype("float16")), TypeError),
        (lambda: xp.__array_namespace_info__().dtypes(device="gpu"), ValueError),
        (lambda: xp.__array_namespace_info__().dtypes(device="cuda:0"), ValueError),
        (lambda: xp.__array_namespace_info__().default_dtypes(device="gpu"), ValueError),
        (lambda: xp.__array_namespace_info__().default_dtypes(device=1), ValueError),
    ],
)
def test_info_errors(make, exc):
    assert_raises_here(exc, make)
