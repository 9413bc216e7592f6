"""The standard's inspection API: ``xp.__array_namespace_info__()``."""

from __future__ import annotations

from typing import Any

from . import _dtypes, _tracing
from ._devices import CPU, Device, check_device
from ._errors import located


class Info:
    """What this namespace supports, as the standard's inspection API reports it."""

    def capabilities(self) -> dict[str, Any]:
        """What this namespace supports here: inside ``xp.jit``, no data-dependent shapes.

        Boolean masks, ``nonzero``, ``unique_*`` and ``repeat`` with array counts compute
        what their shapes depend on outside jit; while a jitted function is traced they
        raise, so there the answer is False and libraries that ask (array-api-extra's
        ``apply_where``, ``isclose``, ``nunique``) take their fixed-shape path. A jitted
        function run eagerly (``xp.disable_jit``) gets the same answer, so it takes the
        same path. Values are computed by NumPy, which supports at most 64 dimensions.
        """
        # NOTE: a transaction is open exactly while a jitted function runs its Python body.
        dynamic = _tracing.state.transaction is None
        return {
            "boolean indexing": dynamic,
            "data-dependent shapes": dynamic,
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
