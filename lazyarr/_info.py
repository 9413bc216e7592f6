"""The standard's inspection API: ``xp.__array_namespace_info__()``."""

from __future__ import annotations

from typing import Any

from . import _dtypes, _tracing
from ._devices import CPU, Device, check_device
from ._errors import located


class Info:
    """What this namespace supports, as the standard's inspection API reports it."""

    def capabilities(self) -> dict[str, Any]:
        """What this namespace supports here.

        Boolean masks, ``nonzero``, ``unique_*`` and ``repeat`` with array counts
        compute what their shapes depend on outside ``xp.jit``; inside it they give
        arrays whose data-dependent sizes are ``None`` (see docs/jit.md), so boolean
        indexing works everywhere. Inside jit "data-dependent shapes" is still False:
        the creation functions (``ones_like`` of such an array) need concrete sizes,
        so libraries that ask (array-api-extra's ``nunique``) take their fixed-shape
        path. A jitted function run eagerly (``xp.disable_jit``) gets the same answer.
        Values are computed by NumPy, which supports at most 64 dimensions.
        """
        # NOTE: a transaction is open exactly while a jitted function runs its Python body.
        outside_jit = _tracing.state.transaction is None
        return {
            "boolean indexing": True,
            "data-dependent shapes": outside_jit,
            "max dimensions": 64,
        }

    def default_device(self) -> Device:
        return CPU

    def devices(self) -> tuple[Device, ...]:
        return (CPU,)

    def default_dtypes(self, *, device: Any = None) -> dict[str, Any]:
        check_device(device)
        return {
            "real floating": _dtypes.DEFAULT_FLOAT,
            "complex floating": _dtypes.DEFAULT_COMPLEX,
            "integral": _dtypes.DEFAULT_INT,
            "indexing": _dtypes.INDEX_DTYPE,
        }

    def dtypes(self, *, device: Any = None, kind: Any = None) -> dict[str, Any]:
        check_device(device)
        if kind is None:
            return dict(_dtypes.DTYPES)
        try:
            return {n: d for n, d in _dtypes.DTYPES.items() if _dtypes.isdtype(d, kind)}
        except (TypeError, ValueError) as e:
            raise located(type(e), f"dtypes: {e}") from None


def __array_namespace_info__() -> Info:  # noqa: N807 - the standard's name
    """The inspection object of this namespace."""
    return Info()
