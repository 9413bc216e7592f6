"""Data type functions of the standard."""

from __future__ import annotations

import builtins
from typing import Any

from . import _dtypes
from ._array import Array
from ._builder import cast, node_of
from ._devices import check_device
from ._dtypes import can_cast, finfo, iinfo, isdtype, result_type
from ._errors import located

__all__ = ["astype", "can_cast", "finfo", "iinfo", "isdtype", "result_type"]


def astype(x: Any, dtype: Any, /, *, copy: builtins.bool = True, device: Any = None) -> Array:
    """``x`` converted to ``dtype``.

    Complex to real casts are refused (use ``xp.real`` or ``xp.abs``): NumPy's
    silent drop of the imaginary part is a classic source of wrong results.

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
    if _dtypes.is_complex(node.dtype) and not _dtypes.is_complex(dtype):
        raise located(
            TypeError,
            f"astype: cannot cast complex {node.dtype} to {dtype}; "
            f"take xp.real(x) or xp.abs(x) first",
        )
    if dtype == node.dtype:
        return Array._new(node) if copy or not isinstance(x, Array) else x
    return Array._new(cast(node, dtype))
