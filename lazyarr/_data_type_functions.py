"""Data type functions of the standard.

The rules live in ``_dtypes``; these are the public entry points, which add the
user's file and line to the errors they raise.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from . import _dtypes
from ._array import Array
from ._builder import cast, node_of
from ._devices import check_device
from ._dtypes import finfo_object, iinfo_object
from ._errors import located

__all__ = ["astype", "can_cast", "finfo", "iinfo", "isdtype", "result_type"]


def astype(x: Any, dtype: Any, /, *, copy: builtins.bool = True, device: Any = None) -> Array:
    """``x`` converted to ``dtype``.

    Complex to real casts are refused (use ``xp.real`` or ``xp.abs``): NumPy's
    silent drop of the imaginary part is a classic source of wrong results. Complex
    to bool is allowed, as the standard says (nonzero is True).

    >>> import lazyarr as xp
    >>> xp.astype(xp.asarray([1.7, -1.7]), xp.int32).dtype
    dtype('int32')
    """
    check_device(device)
    node = node_of(x, "astype: x")
    try:
        dtype = _dtypes.normalize(dtype)
    except TypeError as e:
        raise located(TypeError, f"astype: {e}") from None
    if _dtypes.is_complex(node.dtype) and not (_dtypes.is_complex(dtype) or _dtypes.is_bool(dtype)):
        raise located(
            TypeError,
            f"astype: cannot cast complex {node.dtype} to {dtype}; "
            f"take xp.real(x) or xp.abs(x) first",
        )
    if dtype == node.dtype:
        return Array._new(node) if copy or not isinstance(x, Array) else x
    return Array._new(cast(node, dtype))


def can_cast(from_: Any, to: Any, /) -> builtins.bool:
    """Whether ``from_`` (a dtype or an array) casts to ``to`` without loss."""
    if not isinstance(from_, Array):
        from_ = _dtype_or_error(from_, "can_cast", "from_ must be a dtype or an array")
    return _dtypes.can_cast(from_, _dtype_or_error(to, "can_cast", "to must be a dtype"))


def finfo(type: Any, /) -> finfo_object:
    """Machine limits of a floating-point dtype (of the real dtype, for complex ones)."""
    try:
        return _dtypes.finfo(type)
    except TypeError as e:
        raise located(TypeError, str(e)) from None


def iinfo(type: Any, /) -> iinfo_object:
    """Machine limits of an integer dtype."""
    try:
        return _dtypes.iinfo(type)
    except TypeError as e:
        raise located(TypeError, str(e)) from None


def isdtype(dtype: Any, kind: Any) -> builtins.bool:
    """Whether ``dtype`` is of ``kind``: a dtype, a kind name, or a tuple of those.

    NumPy scalar types (``np.float64``) stand for their dtypes, as in ``np.isdtype``
    and everywhere else lazyarr takes a dtype: libraries pass them (scikit-learn's
    ``check_array(X, dtype=np.float64)``). Dtype names (``"float64"``) are not dtypes.
    """
    if isinstance(kind, tuple):
        kind = tuple(map(_scalar_type_as_dtype, kind))
    try:
        return _dtypes.isdtype(_scalar_type_as_dtype(dtype), _scalar_type_as_dtype(kind))
    except (TypeError, ValueError) as e:
        raise located(type(e), str(e)) from None


def _scalar_type_as_dtype(d: Any) -> Any:
    """``np.float64`` as ``np.dtype("float64")``; anything else unchanged."""
    if isinstance(d, type) and issubclass(d, np.generic):
        try:
            return np.dtype(d)
        except TypeError:
            return d
    return d


def result_type(*arrays_and_dtypes: Any) -> np.dtype:
    """The dtype type promotion gives for arrays, dtypes and (weak) Python scalars."""
    try:
        return _dtypes.result_type(*arrays_and_dtypes)
    except (TypeError, ValueError) as e:
        raise located(type(e), str(e)) from None


def _dtype_or_error(d: Any, fname: str, expected: str) -> np.dtype:
    try:
        return _dtypes.normalize(d)
    except TypeError:
        raise located(TypeError, f"{fname}: {expected}, got {_dtypes.describe(d)}") from None
