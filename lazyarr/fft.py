"""The standard's ``fft`` extension: ``xp.fft``.

The transforms are graph nodes whose NumPy reference calls ``np.fft``; ``fftn``
is ``fft`` over several axes, and the shifts are ``roll``. Single precision stays
single precision (``float32`` in, ``complex64`` out).

>>> import lazyarr as xp
>>> xp.fft.fft(xp.asarray([1.0, 0.0, 0.0, 0.0])).dtype
dtype('complex128')
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _dtypes
from ._array import Array
from ._axes import normalize_axes, normalize_axis
from ._builder import apply, cast, constant_node, node_of
from ._creation_functions import _dtype_arg
from ._devices import check_device
from ._errors import located
from ._manipulation_functions import roll
from ._ops import REGISTRY, complex_dtype

__all__ = [
    "fft",
    "fftfreq",
    "fftn",
    "fftshift",
    "hfft",
    "ifft",
    "ifftn",
    "ifftshift",
    "ihfft",
    "irfft",
    "irfftn",
    "rfft",
    "rfftfreq",
    "rfftn",
]

_NORMS = ("backward", "ortho", "forward")


def _input(x: Any, fname: str, want: str):
    """``x`` in the dtype the transform reads: complex (``want='c'``) or real floating.

    Integers are computed in ``float64``, as in ``xp.linalg`` and NumPy (SciPy's
    ``scipy.fft.fft`` passes integer arrays through); booleans are refused.
    """
    node = node_of(x, f"{fname}: x")
    d = node.dtype
    if d.kind in "iu":
        node, d = cast(node, _dtypes.DEFAULT_FLOAT), _dtypes.DEFAULT_FLOAT
    if want == "c" and d.kind == "f":
        return cast(node, complex_dtype(d))
    if d.kind != want:
        kind = "complex" if want == "c" else "real floating-point"
        raise located(TypeError, f"{fname}: x must have a {kind} dtype, got {d}")
    return node


def _size(n: Any, fname: str) -> int:
    try:
        n = operator.index(n)
    except TypeError:
        raise located(TypeError, f"{fname}: sizes must be integers, got {n!r}") from None
    if n < 1:
        raise located(ValueError, f"{fname}: sizes must be at least 1, got {n}")
    return n


def _transform(name, node, sizes, axes, norm, fname) -> Array:
    if norm not in _NORMS:
        raise located(ValueError, f"{fname}: norm must be one of {_NORMS}, got {norm!r}")
    return apply(REGISTRY[name], (node,), s=tuple(sizes), axes=tuple(axes), norm=norm)


def _one(name: str, fname: str, want: str, x: Any, n: Any, axis: int, norm: str, default) -> Array:
    node = _input(x, fname, want)
    if node.ndim == 0:
        raise located(ValueError, f"{fname}: x must have at least one dimension")
    axis = normalize_axis(axis, node.ndim, fname)
    n = _size(default(node.shape[axis]) if n is None else n, fname)
    return _transform(name, node, (n,), (axis,), norm, fname)


def _many(name: str, fname: str, want: str, x: Any, s: Any, axes: Any, norm: str, last) -> Array:
    node = _input(x, fname, want)
    if axes is None:
        axes = tuple(range(node.ndim)) if s is None else tuple(range(node.ndim - len(s), node.ndim))
    axes = [normalize_axis(a, node.ndim, fname) for a in axes]
    if len(set(axes)) != len(axes):
        raise located(ValueError, f"{fname}: repeated axis in {axes}")
    if s is None:
        s = [-1] * len(axes)
    if not isinstance(s, Sequence) or len(s) != len(axes):
        raise located(ValueError, f"{fname}: s and axes must have the same length")
    sizes = [node.shape[a] if d == -1 else _size(d, fname) for d, a in zip(s, axes)]
    if not axes:
        raise located(ValueError, f"{fname}: no axes to transform")
    if s[-1] == -1:
        sizes[-1] = _size(last(node.shape[axes[-1]]), fname)
    return _transform(name, node, sizes, axes, norm, fname)


def _same(m: int) -> int:
    return m


def _full(m: int) -> int:
    return 2 * (m - 1)


def fft(x: Any, /, *, n: Any = None, axis: int = -1, norm: str = "backward") -> Array:
    """One-dimensional discrete Fourier transform along ``axis``."""
    return _one("fft", "fft", "c", x, n, axis, norm, _same)


def ifft(x: Any, /, *, n: Any = None, axis: int = -1, norm: str = "backward") -> Array:
    """One-dimensional inverse discrete Fourier transform along ``axis``."""
    return _one("ifft", "ifft", "c", x, n, axis, norm, _same)


def fftn(x: Any, /, *, s: Any = None, axes: Any = None, norm: str = "backward") -> Array:
    """n-dimensional discrete Fourier transform over ``axes``."""
    return _many("fft", "fftn", "c", x, s, axes, norm, _same)


def ifftn(x: Any, /, *, s: Any = None, axes: Any = None, norm: str = "backward") -> Array:
    """n-dimensional inverse discrete Fourier transform over ``axes``."""
    return _many("ifft", "ifftn", "c", x, s, axes, norm, _same)


def rfft(x: Any, /, *, n: Any = None, axis: int = -1, norm: str = "backward") -> Array:
    """Transform of real input: the ``n // 2 + 1`` non-negative frequencies."""
    return _one("rfft", "rfft", "f", x, n, axis, norm, _same)


def irfft(x: Any, /, *, n: Any = None, axis: int = -1, norm: str = "backward") -> Array:
    """Inverse of ``rfft``: a real signal of length ``n`` (default ``2 * (m - 1)``)."""
    return _one("irfft", "irfft", "c", x, n, axis, norm, _full)


def rfftn(x: Any, /, *, s: Any = None, axes: Any = None, norm: str = "backward") -> Array:
    """n-dimensional transform of real input (the last axis halved)."""
    return _many("rfft", "rfftn", "f", x, s, axes, norm, _same)


def irfftn(x: Any, /, *, s: Any = None, axes: Any = None, norm: str = "backward") -> Array:
    """Inverse of ``rfftn``."""
    return _many("irfft", "irfftn", "c", x, s, axes, norm, _full)


def hfft(x: Any, /, *, n: Any = None, axis: int = -1, norm: str = "backward") -> Array:
    """Transform of a Hermitian-symmetric signal given by its first half: a real spectrum."""
    return _one("hfft", "hfft", "c", x, n, axis, norm, _full)


def ihfft(x: Any, /, *, n: Any = None, axis: int = -1, norm: str = "backward") -> Array:
    """Inverse of ``hfft`` for a real signal."""
    return _one("ihfft", "ihfft", "f", x, n, axis, norm, _same)


def _frequencies(values: np.ndarray, dtype: Any, device: Any, fname: str) -> Array:
    check_device(device)
    dtype = _dtype_arg(dtype) or _dtypes.DEFAULT_FLOAT
    if dtype.kind != "f":
        raise located(TypeError, f"{fname}: dtype must be a real floating-point dtype")
    out = values.astype(dtype)
    out.setflags(write=False)
    return Array._new(constant_node(out))


def _freq_args(n: Any, d: Any, fname: str) -> tuple[int, float]:
    n = _size(n, fname)
    if isinstance(d, builtins.bool) or not isinstance(d, (int, float)):
        raise located(TypeError, f"{fname}: d must be a number, got {d!r}")
    return n, float(d)


def fftfreq(n: int, /, *, d: float = 1.0, dtype: Any = None, device: Any = None) -> Array:
    """Sample frequencies of an ``n``-point transform with sample spacing ``d``."""
    n, d = _freq_args(n, d, "fftfreq")
    return _frequencies(np.fft.fftfreq(n, d), dtype, device, "fftfreq")


def rfftfreq(n: int, /, *, d: float = 1.0, dtype: Any = None, device: Any = None) -> Array:
    """Sample frequencies of an ``n``-point ``rfft`` (the non-negative ones)."""
    n, d = _freq_args(n, d, "rfftfreq")
    return _frequencies(np.fft.rfftfreq(n, d), dtype, device, "rfftfreq")


def _shift(x: Any, axes: Any, fname: str, sign: int) -> Array:
    node = node_of(x, f"{fname}: x")
    axes = normalize_axes(axes, node.ndim, fname)
    if not axes:
        return Array._new(node)
    shifts = tuple(sign * (node.shape[a] // 2) for a in axes)
    return roll(Array._new(node), shifts, axis=axes)


def fftshift(x: Any, /, *, axes: Any = None) -> Array:
    """``x`` with the zero frequency moved to the middle of ``axes``."""
    return _shift(x, axes, "fftshift", 1)


def ifftshift(x: Any, /, *, axes: Any = None) -> Array:
    """Inverse of ``fftshift``."""
    return _shift(x, axes, "ifftshift", -1)
