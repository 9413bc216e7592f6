"""Libraries written against the array API standard, on lazyarr arrays.

array-api-compat finds the namespace; array-api-extra's functions, SciPy's
array-API-enabled functions (``SCIPY_ARRAY_API=1``) and scikit-learn with
``array_api_dispatch=True`` give on lazyarr arrays what they give on NumPy arrays:
the same values and dtypes, returned as lazyarr arrays. A few run inside ``xp.jit``
too, where a library sees arrays without values.

Each library's tests skip when it is not installed (CI installs only lazyarr's own
dependencies and the test tools). SciPy reads ``SCIPY_ARRAY_API`` once, when it is
first imported, so this module sets it before importing SciPy (nothing else in the
suite imports SciPy); the SciPy and scikit-learn tests skip if SciPy was imported
earlier without it.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

import array_api_compat
import array_api_compat.numpy as numpy_api  # NumPy as a standard namespace: the reference
import numpy as np
import pytest

import lazyarr as xp

if "scipy" not in sys.modules:
    os.environ.setdefault("SCIPY_ARRAY_API", "1")

RNG = np.random.default_rng(7)
X = RNG.standard_normal((5, 4))
X32 = X.astype(np.float32)
V = RNG.standard_normal(24)
V32 = V.astype(np.float32)
P = RNG.uniform(0.05, 0.95, 12)
NAN = np.array([1.0, np.nan, 3.0, -np.inf, 2.0, np.inf, np.nan])
FINITE_NAN = np.array([1.0, np.nan, 3.0, -4.0, 2.0, np.nan])
INTS = np.array([3, 1, 2, 3, 1, 5, 0])

Case = Callable[..., Any]


# ----------------------------------------------------------------------------- helpers
def _inputs(namespace, arrays: tuple) -> list:
    """Fresh copies of the NumPy inputs, as arrays of ``namespace`` (a library may write
    into its input: ``xpx.at(x)[i].set(y)`` does on NumPy)."""
    return [namespace.asarray(a.copy()) if isinstance(a, np.ndarray) else a for a in arrays]


def assert_same(case: Case, *arrays: Any, lazy: bool = True) -> None:
    """``case(namespace, *inputs)`` on lazyarr arrays gives what it gives on NumPy arrays:
    lazyarr Arrays where NumPy gives arrays or NumPy scalars (unless not ``lazy``: the
    library computes through NumPy and returns NumPy's), Python scalars where it gives
    those, with the same shapes, dtypes and values."""
    expected = case(numpy_api, *_inputs(numpy_api, arrays))
    actual = case(xp, *_inputs(xp, arrays))
    _assert_same_result(actual, expected, lazy)


def _assert_same_result(actual: Any, expected: Any, lazy: bool) -> None:
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)), type(actual)
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            _assert_same_result(a, e, lazy)
        return
    if isinstance(expected, (np.ndarray, np.generic)):
        if lazy:
            assert isinstance(actual, xp.Array), f"a {type(actual).__name__}, not an Array"
    else:
        assert type(actual) is type(expected), (type(actual), type(expected))
    a, e = np.asarray(actual), np.asarray(expected)
    assert (a.shape, a.dtype) == (e.shape, e.dtype)
    if e.dtype.kind in "fc":
        tol = 2e-5 if e.dtype in (np.float32, np.complex64) else 1e-10
        np.testing.assert_allclose(a, e, rtol=tol, atol=tol)
    else:
        np.testing.assert_array_equal(a, e)


def assert_same_jitted(case: Case, *arrays: np.ndarray, rtol: float = 1e-10) -> None:
    """``case`` traced by ``xp.jit`` (the library sees arrays without values) gives what
    it gives on NumPy arrays."""
    expected = np.asarray(case(numpy_api, *_inputs(numpy_api, arrays)))
    actual = xp.jit(lambda *a: case(xp, *a))(*arrays)
    assert isinstance(actual, np.ndarray | np.generic | xp.Array)
    actual = np.asarray(actual)
    assert (actual.shape, actual.dtype) == (expected.shape, expected.dtype)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol)


# ----------------------------------------------------------------------------- array-api-compat
def test_array_namespace_is_lazyarr():
    a = xp.asarray([1.0, 2.0])
    assert array_api_compat.array_namespace(xp.asarray(1.0)) is xp
    assert array_api_compat.array_namespace(a, 2.0, None) is xp
    for version in ("2023.12", "2024.12", xp.__array_api_version__):
        assert array_api_compat.array_namespace(a, api_version=version) is xp
    with pytest.raises(TypeError):
        array_api_compat.array_namespace(a, np.ones(2))  # two namespaces


def test_array_api_compat_helpers():
    a = xp.ones((2, 0, 3))
    assert array_api_compat.is_array_api_obj(a)
    assert not array_api_compat.is_numpy_array(a)
    assert not array_api_compat.is_numpy_namespace(xp)
    assert array_api_compat.device(a) == xp.__array_namespace_info__().default_device()
    assert array_api_compat.size(a) == 0
    assert array_api_compat.size(xp.ones((2, 3))) == 6
    assert array_api_compat.to_device(a, "cpu").device == a.device
    assert array_api_compat.is_writeable_array(a)  # x[key] = value works (see docs)
    assert not array_api_compat.is_lazy_array(a)  # outside jit, bool(a) computes

    seen = []

    @xp.jit
    def f(x):
        seen.append(array_api_compat.is_lazy_array(x))  # inside, bool(x) cannot
        return x + 1

    f(np.ones(2))
    assert seen == [True]


def test_version_and_inspection_agree():
    assert xp.__array_api_version__ == "2025.12"
    a = xp.asarray(1.0)
    assert a.__array_namespace__(api_version=xp.__array_api_version__) is xp
    info = xp.__array_namespace_info__()
    assert a.device in info.devices()
    defaults = info.default_dtypes(device=a.device)
    assert defaults == info.default_dtypes(device=info.default_device())
    assert set(info.dtypes(device=a.device).values()) >= set(defaults.values())
    assert xp.isdtype(defaults["indexing"], "signed integer")
    assert info.capabilities()["max dimensions"] >= 4


# ----------------------------------------------------------------------------- array-api-extra
def _xpx():
    return pytest.importorskip("array_api_extra")


def _in_order(m, x):
    return m.sort(x)


XPX_CASES = {
    # name: (function it needs, case, inputs)
    "angle": ("angle", lambda m, x: _xpx().angle(x + 1j * x), (X,)),
    "apply_where": (
        "apply_where",
        lambda m, x: _xpx().apply_where(x > 0, x, m.sqrt, fill_value=-1.0),
        (X,),
    ),
    "apply_where-f2": (
        "apply_where",
        lambda m, x: _xpx().apply_where(x > 0, (x, x), lambda a, b: a * b, lambda a, b: a - b),
        (X32,),
    ),
    "argpartition": (
        "argpartition",
        lambda m, x: _in_order(m, m.take(x, _xpx().argpartition(x, 3)[:3])),
        (V,),
    ),
    "at-set": ("at", lambda m, x: _xpx().at(x)[1:, 0].set(9.0), (X,)),
    "at-set-copy": (
        "at",
        lambda m, x: _xpx().at(x, (0, slice(None))).set(x[1, :], copy=True),
        (X,),
    ),
    "at-add-mask": ("at", lambda m, x: _xpx().at(x)[x > 0].add(1.0), (X,)),
    "at-multiply-indices": (
        "at",
        lambda m, x: _xpx().at(x)[m.asarray([0, 2])].multiply(3.0),
        (X,),
    ),
    "at-divide": ("at", lambda m, x: _xpx().at(x)[0].divide(2.0), (X32,)),
    "at-power": ("at", lambda m, x: _xpx().at(x)[0].power(2), (X,)),
    "at-subtract": ("at", lambda m, x: _xpx().at(x)[:, -1].subtract(0.5), (X32,)),
    "at-min-float32": ("at", lambda m, x: _xpx().at(x)[0].min(0.0), (X32,)),
    "at-max-float32": ("at", lambda m, x: _xpx().at(x)[:, 1].max(0.5), (X32,)),
    "atleast_nd": ("atleast_nd", lambda m, x: _xpx().atleast_nd(x, ndim=4), (X,)),
    "atleast_nd-0d": (
        "atleast_nd",
        lambda m, x: _xpx().atleast_nd(m.asarray(2.5), ndim=2, xp=m),
        (X,),
    ),
    "broadcast_shapes": (
        "broadcast_shapes",
        lambda m, x: _xpx().broadcast_shapes(x.shape, (1, 1, 4), (7, 1, 1)),
        (X,),
    ),
    "cov": ("cov", lambda m, x: _xpx().cov(x), (X,)),
    "cov-float32": ("cov", lambda m, x: _xpx().cov(x), (X32,)),
    "cov-1d": ("cov", lambda m, x: _xpx().cov(x[0, :]), (X,)),
    "create_diagonal": (
        "create_diagonal",
        lambda m, x: _xpx().create_diagonal(x[0], offset=-1),
        (X,),
    ),
    "create_diagonal-batch": ("create_diagonal", lambda m, x: _xpx().create_diagonal(x), (X32,)),
    "default_dtype": (
        "default_dtype",
        lambda m, x: [
            m.zeros(1, dtype=_xpx().default_dtype(m, k))
            for k in ("real floating", "integral", "indexing")
        ],
        (X,),
    ),
    "deg2rad": ("deg2rad", lambda m, x: _xpx().deg2rad(x), (X,)),
    "rad2deg": ("rad2deg", lambda m, x: _xpx().rad2deg(x), (X32,)),
    "diag_indices": ("diag_indices", lambda m, x: m.stack(_xpx().diag_indices(3, xp=m)), (X,)),
    "expand_dims": ("expand_dims", lambda m, x: _xpx().expand_dims(x, axis=(0, -1)), (X,)),
    "isclose": ("isclose", lambda m, x: _xpx().isclose(x, x + 1e-9), (X,)),
    "isclose-nan": ("isclose", lambda m, x: _xpx().isclose(x, m.flip(x), equal_nan=True), (NAN,)),
    "isclose-int": ("isclose", lambda m, x: _xpx().isclose(x, x + 1, atol=1), (INTS,)),
    "isin": ("isin", lambda m, x: _xpx().isin(x, m.asarray([1, 3])), (INTS,)),
    "kron": ("kron", lambda m, x: _xpx().kron(x, x[:2, :2]), (X,)),
    "lazy_apply": (
        "lazy_apply",
        lambda m, x: _xpx().lazy_apply(
            lambda y: np.cumsum(y), x, shape=x.shape, dtype=x.dtype, as_numpy=True
        ),
        (V,),
    ),
    "nan_to_num": ("nan_to_num", lambda m, x: _xpx().nan_to_num(x), (NAN,)),
    "nanmax": ("nanmax", lambda m, x: _xpx().nanmax(x), (FINITE_NAN,)),
    "nanmin": ("nanmin", lambda m, x: _xpx().nanmin(x), (FINITE_NAN,)),
    "nanmean": ("nanmean", lambda m, x: _xpx().nanmean(x), (FINITE_NAN,)),
    "nansum": ("nansum", lambda m, x: _xpx().nansum(x), (FINITE_NAN,)),
    "nunique": ("nunique", lambda m, x: _xpx().nunique(x), (INTS,)),
    "one_hot": ("one_hot", lambda m, x: _xpx().one_hot(x, 6), (INTS,)),
    "pad": ("pad", lambda m, x: _xpx().pad(x, 2), (X,)),
    "pad-pairs": (
        "pad",
        lambda m, x: _xpx().pad(x, ((1, 0), (0, 2)), constant_values=7.0),
        (X32,),
    ),
    "partition": ("partition", lambda m, x: _in_order(m, _xpx().partition(x, 3)[:3]), (V,)),
    "searchsorted": (
        "searchsorted",
        lambda m, x: _xpx().searchsorted(m.sort(x), m.asarray([0, 2, 4])),
        (INTS,),
    ),
    "setdiff1d": ("setdiff1d", lambda m, x: _xpx().setdiff1d(x, m.asarray([1, 2])), (INTS,)),
    "setdiff1d-unique": (
        "setdiff1d",
        lambda m, x: _xpx().setdiff1d(m.unique_values(x), m.asarray([2]), assume_unique=True),
        (INTS,),
    ),
    "sinc": ("sinc", lambda m, x: _xpx().sinc(x), (X,)),
    "sinc-float32": ("sinc", lambda m, x: _xpx().sinc(x), (X32,)),
    "union1d": ("union1d", lambda m, x: _xpx().union1d(x, m.asarray([7, 0])), (INTS,)),
    "unravel_index": (
        "unravel_index",
        lambda m, x: m.stack(_xpx().unravel_index(x, (2, 3))),
        (INTS,),
    ),
}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # now in the standard itself
@pytest.mark.parametrize("name", sorted(XPX_CASES))
def test_array_api_extra(name):
    xpx = _xpx()
    needs, case, inputs = XPX_CASES[name]
    if not hasattr(xpx, needs):
        pytest.skip(f"array-api-extra {xpx.__version__} has no {needs}")
    assert_same(case, *inputs)


def test_array_api_extra_at_writes_into_the_array_as_on_numpy():
    """With ``copy=None`` (the default) ``at`` writes into a writeable array: the caller's
    Array object is rebound to the updated value, as a NumPy array is written."""
    xpx = _xpx()
    a = xp.asarray(X)
    out = xpx.at(a)[0, 0].set(5.0)
    assert out is a
    assert float(a[0, 0]) == 5.0
    b = xp.asarray(X)
    out = xpx.at(b)[0, 0].set(5.0, copy=True)
    assert out is not b
    assert float(b[0, 0]) == X[0, 0]


JIT_XPX_CASES = {
    "cov": lambda m, x: _xpx().cov(x),
    "sinc": lambda m, x: _xpx().sinc(x),
    "kron": lambda m, x: _xpx().kron(x, x[:2, :2]),
    "pad": lambda m, x: _xpx().pad(x, 1),
    "at-mask-set": lambda m, x: _xpx().at(x)[x < 0].set(0.0),
    # These ask the namespace's capabilities: no boolean indexing inside jit.
    "isclose": lambda m, x: _xpx().isclose(x, x * (1 + 1e-9)),
    "apply_where": lambda m, x: _xpx().apply_where(x > 0, x, m.log, fill_value=0.0),
    "nunique": lambda m, x: _xpx().nunique(m.round(x)),
}


@pytest.mark.parametrize("name", sorted(JIT_XPX_CASES))
def test_array_api_extra_inside_jit(name):
    _xpx()
    assert_same_jitted(JIT_XPX_CASES[name], X)


# ----------------------------------------------------------------------------- SciPy
def _scipy(module: str):
    """``scipy.<module>``, imported with the array API support on, or a skip."""
    pytest.importorskip("scipy")
    try:
        from scipy._lib._array_api import SCIPY_ARRAY_API

        enabled = SCIPY_ARRAY_API
    except ImportError:
        enabled = os.environ.get("SCIPY_ARRAY_API")
    if not enabled:
        pytest.skip("SciPy was imported before this module, without SCIPY_ARRAY_API=1")
    return pytest.importorskip(f"scipy.{module}")


def special():
    return _scipy("special")


def stats():
    return _scipy("stats")


def sfft():
    return _scipy("fft")


def signal():
    return _scipy("signal")


def ndimage():
    return _scipy("ndimage")


def _fields(result, *names):
    return [getattr(result, n) for n in names]


NUMPY = "computes through NumPy"  # marks the functions that return NumPy arrays
SCIPY_CASES = {
    # A case is (function of the namespace and the inputs, inputs[, NUMPY]).
    # scipy.special
    "special.erf": (lambda m, x: special().erf(x), (V,)),
    "special.erf-float32": (lambda m, x: special().erf(x), (V32,)),
    "special.gammaln": (lambda m, x: special().gammaln(m.abs(x) + 0.5), (V,)),
    "special.expit": (lambda m, x: special().expit(x), (V,)),
    "special.logit": (lambda m, p: special().logit(p), (P,)),
    "special.ndtr": (lambda m, x: special().ndtr(x), (V,)),
    "special.ndtri": (lambda m, p: special().ndtri(p), (P,)),
    "special.log_ndtr": (lambda m, x: special().log_ndtr(x), (V,)),
    "special.i0": (lambda m, x: special().i0(x), (V,)),
    "special.i1e": (lambda m, x: special().i1e(x), (V,)),
    "special.entr": (lambda m, x: special().entr(m.abs(x)), (V,)),
    "special.logsumexp": (lambda m, x: special().logsumexp(x, axis=0), (X,)),
    "special.logsumexp-b": (lambda m, x: special().logsumexp(x, b=m.abs(x), axis=1), (X,)),
    "special.logsumexp-sign": (
        lambda m, x: list(special().logsumexp(x, b=x, return_sign=True, axis=0)),
        (X,),
    ),
    "special.logsumexp-float32": (lambda m, x: special().logsumexp(x), (X32,)),
    "special.softmax": (lambda m, x: special().softmax(x, axis=1), (X,)),
    "special.log_softmax": (lambda m, x: special().log_softmax(x, axis=0), (X32,)),
    "special.xlogy": (lambda m, x: special().xlogy(x, m.abs(x)), (V,)),
    "special.xlog1py": (lambda m, x: special().xlog1py(x, m.abs(x)), (V,)),
    "special.rel_entr": (lambda m, x: special().rel_entr(m.abs(x), m.abs(x) + 1), (V,)),
    "special.betainc": (lambda m, p: special().betainc(2.0 + 0 * p, 3.0 + 0 * p, p), (P,)),
    "special.gammainc": (lambda m, x: special().gammainc(2.0 + 0 * x, m.abs(x)), (V,)),
    "special.stdtr": (lambda m, x: special().stdtr(3.0 + 0 * x, x), (V,)),
    "special.zeta": (lambda m, x: special().zeta(m.abs(x) + 1.5), (V,)),
    # scipy.stats
    "stats.moment": (lambda m, x: stats().moment(x, order=3, axis=0), (X,)),
    "stats.moment-orders": (lambda m, x: stats().moment(x, order=[1, 2, 3]), (V,)),
    "stats.skew": (lambda m, x: stats().skew(x, axis=0), (X,)),
    "stats.skew-float32": (lambda m, x: stats().skew(x, axis=1), (X32,)),
    "stats.skew-nan-omit": (lambda m, x: stats().skew(x, nan_policy="omit"), (FINITE_NAN,)),
    "stats.kurtosis": (lambda m, x: stats().kurtosis(x, axis=0), (X,)),
    "stats.zscore": (lambda m, x: stats().zscore(x, axis=0), (X,)),
    "stats.zscore-nan-omit": (lambda m, x: stats().zscore(x, nan_policy="omit"), (FINITE_NAN,)),
    "stats.zmap": (lambda m, x: stats().zmap(x, x[:3], axis=0), (X,)),
    "stats.pearsonr": (
        lambda m, v: _fields(stats().pearsonr(v[:12], v[12:]), "statistic", "pvalue"),
        (V,),
    ),
    "stats.pearsonr-axis": (
        lambda m, x: _fields(stats().pearsonr(x[:, :2], x[:, 2:], axis=0), "statistic", "pvalue"),
        (X,),
    ),
    "stats.gmean": (lambda m, x: stats().gmean(m.abs(x), axis=0), (X,)),
    "stats.hmean": (lambda m, x: stats().hmean(m.abs(x), axis=0), (X,)),
    "stats.pmean": (lambda m, x: stats().pmean(m.abs(x), 2.5, axis=0), (X,)),
    "stats.variation": (lambda m, x: stats().variation(x, axis=0, ddof=1), (X,)),
    "stats.sem": (lambda m, x: stats().sem(x, axis=0), (X,)),
    "stats.tmean": (lambda m, v: stats().tmean(v, (-1, 1)), (V,)),
    "stats.tvar": (lambda m, v: stats().tvar(v, (-1, 1)), (V,)),
    "stats.ttest_1samp": (
        lambda m, v: _fields(stats().ttest_1samp(v, 0.1), "statistic", "pvalue"),
        (V,),
    ),
    "stats.ttest_ind-welch": (
        lambda m, v: _fields(
            stats().ttest_ind(v[:9], v[9:], equal_var=False), "statistic", "pvalue"
        ),
        (V,),
    ),
    "stats.ttest_rel": (
        lambda m, v: _fields(stats().ttest_rel(v[:12], v[12:]), "statistic", "pvalue"),
        (V,),
    ),
    "stats.normaltest": (lambda m, v: list(stats().normaltest(v)), (V,)),
    "stats.jarque_bera": (lambda m, v: list(stats().jarque_bera(v)), (V,)),
    "stats.entropy": (lambda m, x: stats().entropy(m.abs(x), axis=0), (X,)),
    "stats.differential_entropy": (lambda m, v: stats().differential_entropy(v), (V,)),
    "stats.rankdata": (lambda m, v: stats().rankdata(v), (V,)),
    "stats.rankdata-ties": (lambda m, i: stats().rankdata(i, method="min"), (INTS,)),
    "stats.quantile": (lambda m, v: stats().quantile(v, m.asarray([0.25, 0.5, 0.9])), (V,)),
    "stats.linregress": (
        lambda m, v: _fields(stats().linregress(v[:12], v[12:]), "slope", "intercept", "rvalue"),
        (V,),
        NUMPY,
    ),
    "stats.chisquare": (lambda m, v: list(stats().chisquare(m.abs(v) + 1)), (V,)),
    "stats.spearmanr": (lambda m, v: list(stats().spearmanr(v[:12], v[12:])), (V,), NUMPY),
    "stats.circmean": (lambda m, v: stats().circmean(v), (V,)),
    "stats.circvar": (lambda m, v: stats().circvar(v), (V,)),
    "stats.bartlett": (lambda m, v: list(stats().bartlett(v[:12], v[12:])), (V,)),
    "stats.f_oneway": (lambda m, v: list(stats().f_oneway(v[:8], v[8:16], v[16:])), (V,)),
    "stats.directional_stats": (lambda m, x: stats().directional_stats(x).mean_direction, (X,)),
    "stats.trim_mean": (lambda m, v: stats().trim_mean(v, 0.1), (V,)),
    "stats.kstat": (lambda m, v: stats().kstat(v, 3), (V,)),
    # scipy.fft
    "fft.fft": (lambda m, v: sfft().fft(v), (V,)),
    "fft.fft-float32": (lambda m, v: sfft().fft(v, n=32, norm="ortho"), (V32,)),
    "fft.fft-int": (lambda m, i: sfft().fft(i), (INTS,)),
    "fft.ifft": (lambda m, v: sfft().ifft(v), (V,)),
    "fft.rfft": (lambda m, v: sfft().rfft(v), (V,)),
    "fft.irfft": (lambda m, v: sfft().irfft(v), (V,)),
    "fft.hfft": (lambda m, v: sfft().hfft(v), (V,)),
    "fft.fft2": (lambda m, x: sfft().fft2(x), (X,)),
    "fft.rfftn": (lambda m, x: sfft().rfftn(x), (X,)),
    "fft.fftshift": (lambda m, x: sfft().fftshift(x), (X,)),
    "fft.fftfreq": (lambda m, x: sfft().fftfreq(8, d=0.5, xp=m), (X,)),
    "fft.dct": (lambda m, v: sfft().dct(v, norm="ortho"), (V,)),
    "fft.idct": (lambda m, v: sfft().idct(v), (V,)),
    "fft.dst": (lambda m, v: sfft().dst(v, type=3), (V,)),
    "fft.dctn": (lambda m, x: sfft().dctn(x), (X,)),
    "fft.fht": (lambda m, v: sfft().fht(v, dln=0.1, mu=0.5), (V,)),
    "fft.fht-float32": (lambda m, v: sfft().fht(v, dln=0.1, mu=0.0), (V32,)),
    # scipy.cluster, scipy.signal, scipy.ndimage, scipy.integrate, ...
    "cluster.vq.whiten": (lambda m, x: _scipy("cluster.vq").whiten(x), (X,)),
    "cluster.vq.vq": (lambda m, x: list(_scipy("cluster.vq").vq(x, x[:2])), (X,)),
    "signal.convolve": (lambda m, v: signal().convolve(v, v[:3]), (V,)),
    "signal.fftconvolve": (lambda m, v: signal().fftconvolve(v, v[:5], mode="same"), (V,)),
    "signal.correlate": (lambda m, v: signal().correlate(v, v[:3]), (V,)),
    "signal.convolve2d": (lambda m, x: signal().convolve2d(x, x[:2, :2]), (X,)),
    "signal.lfilter": (
        lambda m, v: signal().lfilter(m.asarray([1.0, 0.5]), m.asarray([1.0, -0.2]), v),
        (V,),
    ),
    "signal.filtfilt": (
        lambda m, v: signal().filtfilt(m.asarray([1.0, 0.5]), m.asarray([1.0, -0.2]), v),
        (V,),
    ),
    "signal.detrend": (lambda m, v: signal().detrend(v), (V,)),
    "signal.welch": (lambda m, v: list(signal().welch(v, nperseg=8)), (V,), NUMPY),
    "signal.periodogram": (lambda m, v: list(signal().periodogram(v)), (V,), NUMPY),
    "signal.get_window": (lambda m, x: signal().get_window("hamming", 8, xp=m), (X,)),
    "signal.savgol_filter": (lambda m, v: signal().savgol_filter(v, 5, 2), (V,)),
    "signal.savgol_filter-float32": (lambda m, v: signal().savgol_filter(v, 5, 2), (V32,)),
    "signal.hilbert": (lambda m, v: signal().hilbert(v), (V,)),
    "signal.resample": (lambda m, v: signal().resample(v, 10), (V,)),
    "signal.resample_poly": (lambda m, v: signal().resample_poly(v, 2, 3), (V,)),
    "signal.medfilt": (lambda m, v: signal().medfilt(v, 3), (V,)),
    "ndimage.gaussian_filter": (lambda m, x: ndimage().gaussian_filter(x, 1.0), (X,)),
    "ndimage.uniform_filter": (lambda m, x: ndimage().uniform_filter(x, 3), (X,)),
    "ndimage.zoom": (lambda m, x: ndimage().zoom(x, 2, order=1), (X,)),
    "ndimage.sobel": (lambda m, x: ndimage().sobel(x), (X,)),
    "ndimage.median_filter": (lambda m, x: ndimage().median_filter(x, 3), (X,)),
    "ndimage.binary_dilation": (lambda m, x: ndimage().binary_dilation(x > 0), (X,)),
    "integrate.trapezoid": (lambda m, v: _scipy("integrate").trapezoid(v), (V,)),
    "integrate.cumulative_trapezoid": (
        lambda m, v: _scipy("integrate").cumulative_trapezoid(v, dx=0.5),
        (V,),
    ),
    "integrate.tanhsinh": (
        lambda m, x: (
            _scipy("integrate").tanhsinh(m.exp, m.asarray(0.0), m.asarray([1.0, 2.0])).integral
        ),
        (X,),
    ),
    "differentiate.derivative": (
        lambda m, v: _scipy("differentiate").derivative(m.sin, v[:4]).df,
        (V,),
    ),
    "optimize.elementwise.find_root": (
        lambda m, x: (
            _scipy("optimize.elementwise")
            .find_root(lambda t: t**3 - 2, (m.asarray(0.0), m.asarray([2.0, 3.0])))
            .x
        ),
        (X,),
    ),
    "spatial.distance.pdist": (lambda m, x: _scipy("spatial.distance").pdist(x), (X,)),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", sorted(SCIPY_CASES))
def test_scipy(name):
    case, inputs, *numpy = SCIPY_CASES[name]
    assert_same(case, *inputs, lazy=not numpy)


JIT_SCIPY_CASES = {
    "special.logsumexp": lambda m, x: special().logsumexp(x, axis=1),
    "special.softmax": lambda m, x: special().softmax(x, axis=0),
    "special.xlogy": lambda m, x: special().xlogy(x, m.abs(x)),
    "stats.zscore": lambda m, x: stats().zscore(x, axis=0),
    "stats.skew": lambda m, x: stats().skew(x, axis=0),
}


@pytest.mark.parametrize("name", sorted(JIT_SCIPY_CASES))
def test_scipy_inside_jit(name):
    assert_same_jitted(JIT_SCIPY_CASES[name], X)


def test_grad_through_scipy_logsumexp():
    g = xp.grad(lambda x: xp.sum(special().logsumexp(x, axis=1)))(xp.asarray(X))
    softmax = np.exp(X) / np.exp(X).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(g), softmax, rtol=1e-12)


# ----------------------------------------------------------------------------- scikit-learn
def _sklearn():
    _scipy("special")  # scikit-learn's array API support needs SciPy's
    sklearn = pytest.importorskip("sklearn")
    for module in ("metrics.pairwise", "model_selection", "preprocessing", "utils"):
        importlib.import_module(f"sklearn.{module}")
    return sklearn


def _estimators():
    """The estimators with array API support, in well-posed settings (full-rank data,
    fewer PCA components than features: the other components are arbitrary)."""
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.kernel_approximation import Nystroem
    from sklearn.linear_model import (
        LogisticRegression,
        PoissonRegressor,
        Ridge,
        RidgeClassifierCV,
        RidgeCV,
    )
    from sklearn.naive_bayes import GaussianNB
    from sklearn.preprocessing import (
        Binarizer,
        KernelCenterer,
        MinMaxScaler,
        Normalizer,
        PolynomialFeatures,
        StandardScaler,
    )

    return {
        "Binarizer": Binarizer(threshold=0.1),
        "GaussianNB": GaussianNB(),
        "KernelCenterer": KernelCenterer(),
        "LinearDiscriminantAnalysis": LinearDiscriminantAnalysis(),
        "LogisticRegression": LogisticRegression(max_iter=5),
        "MinMaxScaler": MinMaxScaler(feature_range=(-1, 2)),
        "Normalizer": Normalizer(),
        "Nystroem": Nystroem(n_components=10, random_state=0),
        "PCA-full": PCA(n_components=3, svd_solver="full"),
        "PCA-covariance_eigh": PCA(n_components=3, svd_solver="covariance_eigh"),
        "PCA-whiten": PCA(n_components=2, svd_solver="full", whiten=True),
        "PoissonRegressor": PoissonRegressor(max_iter=5),
        "PolynomialFeatures": PolynomialFeatures(2),
        "Ridge-svd": Ridge(alpha=0.5, solver="svd"),
        "RidgeCV": RidgeCV(alphas=(0.1, 1.0, 10.0)),
        "RidgeClassifierCV": RidgeClassifierCV(),
        "StandardScaler": StandardScaler(),
    }


ESTIMATORS = [
    "Binarizer",
    "GaussianNB",
    "KernelCenterer",
    "LinearDiscriminantAnalysis",
    "LogisticRegression",
    "MinMaxScaler",
    "Normalizer",
    "Nystroem",
    "PCA-covariance_eigh",
    "PCA-full",
    "PCA-whiten",
    "PoissonRegressor",
    "PolynomialFeatures",
    "Ridge-svd",
    "RidgeCV",
    "RidgeClassifierCV",
    "StandardScaler",
]


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ESTIMATORS)
def test_sklearn_estimator(name, dtype):
    """scikit-learn's own check: fitted attributes and the results of every method
    (``transform``, ``predict``, ``score``, ...) on lazyarr arrays match those on NumPy
    arrays, and are lazyarr arrays of the same dtype on the same device."""
    _sklearn()
    try:
        from sklearn.utils.estimator_checks import check_array_api_input_and_values
    except ImportError:
        pytest.skip("this scikit-learn has no check_array_api_input_and_values")
    estimator = _estimators()[name]
    check_array_api_input_and_values(name, estimator, "lazyarr", dtype_name=dtype)


Y_CLASS = (X @ np.array([1.0, -2.0, 0.5, 0.0]) > 0).astype(np.int64)
Y_PRED = np.roll(Y_CLASS, 1)
Y3 = np.digitize(V, [-0.5, 0.5]).astype(np.int64)
Y3_PRED = np.roll(Y3, 2)
Y_TRUE = V
Y_EST = V + 0.3 * RNG.standard_normal(V.shape)
PROBA = RNG.uniform(0.01, 1.0, (24, 3))
PROBA = PROBA / PROBA.sum(axis=1, keepdims=True)


def _metric(name: str, **kwargs):
    def case(m, *args):
        from sklearn import metrics

        return getattr(metrics, name)(*args, **kwargs)

    return case


def _positive(name: str):
    def case(m, a, b):
        from sklearn import metrics

        return getattr(metrics, name)(m.abs(a) + 0.1, m.abs(b) + 0.1)

    return case


def _pairwise(name: str, positive: bool = False, **kwargs):
    def case(m, x):
        from sklearn.metrics import pairwise

        x = m.abs(x) if positive else x
        return getattr(pairwise, name)(x, x[:3], **kwargs)

    return case


SKLEARN_CASES = {
    "accuracy_score": (_metric("accuracy_score"), (Y_CLASS, Y_PRED)),
    "balanced_accuracy_score": (_metric("balanced_accuracy_score"), (Y3, Y3_PRED)),
    "cohen_kappa_score": (_metric("cohen_kappa_score"), (Y3, Y3_PRED)),
    "confusion_matrix": (_metric("confusion_matrix"), (Y3, Y3_PRED)),
    "f1_score": (_metric("f1_score"), (Y_CLASS, Y_PRED)),
    "f1_score-macro": (_metric("f1_score", average="macro"), (Y3, Y3_PRED)),
    "fbeta_score": (_metric("fbeta_score", beta=2.0), (Y_CLASS, Y_PRED)),
    "hamming_loss": (_metric("hamming_loss"), (Y3, Y3_PRED)),
    "jaccard_score": (_metric("jaccard_score"), (Y_CLASS, Y_PRED)),
    "multilabel_confusion_matrix": (_metric("multilabel_confusion_matrix"), (Y3, Y3_PRED)),
    "precision_recall_fscore_support": (
        lambda m, a, b: list(_metric("precision_recall_fscore_support")(m, a, b)),
        (Y3, Y3_PRED),
    ),
    "precision_score": (_metric("precision_score"), (Y_CLASS, Y_PRED)),
    "recall_score": (_metric("recall_score"), (Y_CLASS, Y_PRED)),
    "zero_one_loss": (_metric("zero_one_loss"), (Y_CLASS, Y_PRED)),
    "log_loss": (_metric("log_loss"), (Y3, PROBA)),
    "brier_score_loss": (
        lambda m, y, p: _metric("brier_score_loss")(m, y, p[:, 0]),
        (Y_CLASS[:5], PROBA[:5]),
    ),
    "r2_score": (_metric("r2_score"), (Y_TRUE, Y_EST)),
    "mean_squared_error": (_metric("mean_squared_error"), (Y_TRUE, Y_EST)),
    "root_mean_squared_error": (_metric("root_mean_squared_error"), (Y_TRUE, Y_EST)),
    "mean_absolute_error": (_metric("mean_absolute_error"), (Y_TRUE, Y_EST)),
    "median_absolute_error": (_metric("median_absolute_error"), (Y_TRUE, Y_EST)),
    "explained_variance_score": (_metric("explained_variance_score"), (Y_TRUE, Y_EST)),
    "mean_absolute_percentage_error": (_metric("mean_absolute_percentage_error"), (Y_TRUE, Y_EST)),
    "max_error": (_metric("max_error"), (Y_TRUE, Y_EST)),
    "mean_pinball_loss": (_metric("mean_pinball_loss", alpha=0.3), (Y_TRUE, Y_EST)),
    "d2_pinball_score": (_metric("d2_pinball_score", alpha=0.9), (Y_TRUE, Y_EST)),
    "mean_poisson_deviance": (_positive("mean_poisson_deviance"), (Y_TRUE, Y_EST)),
    "mean_gamma_deviance": (_positive("mean_gamma_deviance"), (Y_TRUE, Y_EST)),
    "mean_tweedie_deviance": (_positive("mean_tweedie_deviance"), (Y_TRUE, Y_EST)),
    "mean_squared_log_error": (_positive("mean_squared_log_error"), (Y_TRUE, Y_EST)),
    "pairwise.rbf_kernel": (_pairwise("rbf_kernel", gamma=0.3), (X,)),
    "pairwise.euclidean_distances": (_pairwise("euclidean_distances"), (X,)),
    "pairwise.cosine_similarity": (_pairwise("cosine_similarity"), (X,)),
    "pairwise.cosine_distances": (_pairwise("cosine_distances"), (X,)),
    "pairwise.linear_kernel": (_pairwise("linear_kernel"), (X,)),
    "pairwise.polynomial_kernel": (_pairwise("polynomial_kernel", degree=2), (X,)),
    "pairwise.sigmoid_kernel": (_pairwise("sigmoid_kernel"), (X,)),
    "pairwise.laplacian_kernel": (_pairwise("laplacian_kernel"), (X,)),
    "pairwise.manhattan_distances": (_pairwise("manhattan_distances"), (X,)),
    "pairwise.chi2_kernel": (_pairwise("chi2_kernel", positive=True), (X,)),
    "pairwise.pairwise_distances": (_pairwise("pairwise_distances", metric="cosine"), (X,)),
    "pairwise.pairwise_kernels": (_pairwise("pairwise_kernels", metric="rbf"), (X,)),
    "preprocessing.LabelEncoder": (
        lambda m, y: _sklearn().preprocessing.LabelEncoder().fit_transform(y),
        (INTS,),
    ),
    "preprocessing.LabelBinarizer": (
        lambda m, y: _sklearn().preprocessing.LabelBinarizer().fit_transform(y),
        (INTS,),
    ),
    "preprocessing.normalize": (
        lambda m, x: _sklearn().preprocessing.normalize(x, norm="l1"),
        (X,),
    ),
    "utils.check_array-numpy-dtype": (
        lambda m, x: _sklearn().utils.check_array(x, dtype=np.float64),
        (X32,),
    ),
    "model_selection.train_test_split": (
        lambda m, x, y: _sklearn().model_selection.train_test_split(x, y, random_state=0),
        (X, Y_CLASS),
    ),
}


@pytest.mark.parametrize("name", sorted(SKLEARN_CASES))
def test_sklearn_function(name):
    sklearn = _sklearn()
    case, inputs = SKLEARN_CASES[name]
    with sklearn.config_context(array_api_dispatch=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert_same(case, *inputs)
