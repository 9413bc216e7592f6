"""Differential tests of the ``xp.fft`` extension against ``np.fft``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lazyarr as xp
from tests.helpers import COMPLEX, REAL_FLOAT, assert_matches, lazy, next_line

NORMS = st.sampled_from(["backward", "ortho", "forward"])


def _complex_of(d: np.dtype) -> np.dtype:
    return np.dtype(np.complex64 if d in (np.float32, np.complex64) else np.complex128)


def _real_of(d: np.dtype) -> np.dtype:
    return np.dtype(np.float32 if d in (np.float32, np.complex64) else np.float64)


@st.composite
def signals(draw, dtypes):
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    real = st.floats(-10, 10, width=32)
    a = draw(hnp.arrays(_real_of(dtype), shape, elements=real)).astype(dtype)
    if dtype.kind == "c":
        a = a + 1j * draw(hnp.arrays(_real_of(dtype), shape, elements=real)).astype(dtype)
    return a.astype(dtype)


def _close(actual, expected):
    rtol = 1e-4 if expected.dtype in (np.float32, np.complex64) else 1e-10
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=rtol, atol=rtol * 100)


ONE_D = {
    "fft": (REAL_FLOAT + COMPLEX, _complex_of),
    "ifft": (REAL_FLOAT + COMPLEX, _complex_of),
    "rfft": (REAL_FLOAT, _complex_of),
    "irfft": (COMPLEX, _real_of),
    "hfft": (COMPLEX, _real_of),
    "ihfft": (REAL_FLOAT, _complex_of),
}


@pytest.mark.parametrize("name", sorted(ONE_D))
@given(data=st.data())
def test_one_dimensional(name, data):
    dtypes, out_of = ONE_D[name]
    x = data.draw(signals(dtypes), label="x")
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    n = data.draw(st.none() | st.integers(1, 7), label="n")
    norm = data.draw(NORMS, label="norm")
    if n is None and name in ("irfft", "hfft") and x.shape[axis] == 1:
        with pytest.raises(ValueError):
            getattr(xp.fft, name)(xp.asarray(x), axis=axis, norm=norm)
        return
    expected = getattr(np.fft, name)(x, n=n, axis=axis, norm=norm).astype(out_of(x.dtype))
    _close(getattr(xp.fft, name)(lazy(x), n=n, axis=axis, norm=norm), expected)


N_D = {"fftn": REAL_FLOAT + COMPLEX, "ifftn": COMPLEX, "rfftn": REAL_FLOAT, "irfftn": COMPLEX}


@pytest.mark.parametrize("name", sorted(N_D))
@given(data=st.data())
def test_n_dimensional(name, data):
    x = data.draw(signals(N_D[name]), label="x")
    axes = data.draw(
        st.none() | st.lists(st.integers(0, x.ndim - 1), min_size=1, unique=True).map(tuple),
        label="axes",
    )
    count = x.ndim if axes is None else len(axes)
    s = data.draw(st.none() | st.lists(st.integers(2, 6), min_size=count, max_size=count))
    if axes is None and s is not None:
        axes = tuple(range(x.ndim - count, x.ndim))
    norm = data.draw(NORMS, label="norm")
    last = x.shape[(axes or range(x.ndim))[-1]]
    if name == "irfftn" and s is None and last == 1:
        return
    out_of = _real_of if name == "irfftn" else _complex_of
    expected = getattr(np.fft, name)(x, s=s, axes=axes, norm=norm).astype(out_of(x.dtype))
    _close(getattr(xp.fft, name)(lazy(x), s=s, axes=axes, norm=norm), expected)


@given(n=st.integers(1, 9), d=st.sampled_from([1.0, 0.5, 3]), dtype=st.sampled_from(REAL_FLOAT))
def test_frequencies(n, d, dtype):
    assert_matches(xp.fft.fftfreq(n, d=d, dtype=dtype), np.fft.fftfreq(n, d).astype(dtype))
    assert_matches(xp.fft.rfftfreq(n, d=d, dtype=dtype), np.fft.rfftfreq(n, d).astype(dtype))
    assert xp.fft.fftfreq(n).dtype == np.float64


@given(x=signals(REAL_FLOAT + COMPLEX), data=st.data())
def test_shifts(x, data):
    axes = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1) | st.just((0,)))
    assert_matches(xp.fft.fftshift(lazy(x), axes=axes), np.fft.fftshift(x, axes=axes))
    assert_matches(xp.fft.ifftshift(lazy(x), axes=axes), np.fft.ifftshift(x, axes=axes))


def test_round_trip():
    x = np.linspace(0.0, 1.0, 8)
    back = xp.fft.irfft(xp.fft.rfft(xp.asarray(x)), n=8)
    np.testing.assert_allclose(np.asarray(back), x, atol=1e-12)


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "ihfft", "irfft", "hfft", "fftn", "rfftn"])
@pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.int64])
def test_integers_are_computed_in_float64(name, dtype):
    """As in ``xp.linalg`` and NumPy: ``scipy.fft.fft`` passes integer arrays through."""
    x = np.array([[3, 1, 4, 1], [5, 9, 2, 6]], dtype=dtype)
    expected = getattr(np.fft, name)(x.astype(np.float64))
    _close(getattr(xp.fft, name)(xp.asarray(x)), expected)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: xp.fft.fft(xp.ones(4), norm="none"), ValueError),
        (lambda: xp.fft.fft(xp.ones(4), n=0), ValueError),
        (lambda: xp.fft.fft(xp.asarray(1.0)), ValueError),
        (lambda: xp.fft.rfft(xp.ones(4, dtype=xp.complex128)), TypeError),
        (lambda: xp.fft.irfft(xp.ones(4, dtype=xp.bool)), TypeError),
        (lambda: xp.fft.fft(xp.ones(4, dtype=xp.bool)), TypeError),
        (lambda: xp.fft.fftn(xp.ones((2, 2)), s=(2,), axes=(0, 1)), ValueError),
        (lambda: xp.fft.fftfreq(0), ValueError),
        (lambda: xp.fft.fftfreq(4, dtype=xp.int64), TypeError),
    ],
)
def test_errors_name_the_line(call, error):
    with pytest.raises(error) as info:
        where = next_line()
        call()
    assert where.rsplit(":", 1)[0] in str(info.value)
