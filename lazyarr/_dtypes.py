"""Data types and type promotion.

lazyarr's dtypes are NumPy's ``np.dtype`` objects, restricted to the thirteen the
array API standard names. Using NumPy's objects keeps interop free (``x.dtype ==
np.float64`` holds) and lets promotion follow NumPy 2's rules (NEP 50), which agree
with the standard wherever the standard specifies a result and give NumPy's answer
where it does not (``int8 * 0.5``, ``uint64 + int64``).
"""

from __future__ import annotations

import builtins
import reprlib
from dataclasses import dataclass

import numpy as np

bool = np.dtype("bool")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
uint16 = np.dtype("uint16")
uint32 = np.dtype("uint32")
uint64 = np.dtype("uint64")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
complex64 = np.dtype("complex64")
complex128 = np.dtype("complex128")

DTYPES = {
    "bool": bool,
    "int8": int8,
    "int16": int16,
    "int32": int32,
    "int64": int64,
    "uint8": uint8,
    "uint16": uint16,
    "uint32": uint32,
    "uint64": uint64,
    "float32": float32,
    "float64": float64,
    "complex64": complex64,
    "complex128": complex128,
}
_SUPPORTED = frozenset(DTYPES.values())

DEFAULT_INT = int64
DEFAULT_UINT = uint64
DEFAULT_FLOAT = float64
DEFAULT_COMPLEX = complex128
INDEX_DTYPE = int64

_REAL_OF = {complex64: float32, complex128: float64}

_KINDS = {
    "bool": frozenset({bool}),
    "signed integer": frozenset({int8, int16, int32, int64}),
    "unsigned integer": frozenset({uint8, uint16, uint32, uint64}),
    "real floating": frozenset({float32, float64}),
    "complex floating": frozenset({complex64, complex128}),
}
_KINDS["integral"] = _KINDS["signed integer"] | _KINDS["unsigned integer"]
_KINDS["numeric"] = _KINDS["integral"] | _KINDS["real floating"] | _KINDS["complex floating"]


def describe(obj: object) -> str:
    """``obj`` for an error message, briefly, and without computing a lazy array."""
    if obj is None or isinstance(
        obj, (builtins.bool, int, float, complex, str, np.dtype, type, np.generic)
    ):
        return repr(obj)
    if isinstance(obj, (list, tuple)):
        return reprlib.repr(obj) if all(map(_is_plain, obj)) else f"a {type(obj).__name__}"
    shape, dtype = getattr(obj, "shape", None), getattr(obj, "dtype", None)
    if isinstance(shape, tuple) and dtype is not None:
        return f"{type(obj).__name__} of shape {shape} and dtype {dtype}"
    return f"a {type(obj).__name__}"


def _is_plain(obj: object) -> builtins.bool:
    plain = (builtins.bool, int, float, complex, str, np.dtype, type)
    return obj is None or isinstance(obj, plain)


def is_supported(dtype: object) -> builtins.bool:
    return dtype in _SUPPORTED if isinstance(dtype, np.dtype) else False


def normalize(dtype: object) -> np.dtype:
    """A supported dtype from a dtype, a NumPy scalar type or a dtype name.

    Accepting ``np.float32`` and ``"float32"`` is a convenience for NumPy users;
    anything outside the standard's thirteen dtypes, and anything that is not a
    dtype (an array, say), is a ``TypeError``.
    """
    if isinstance(dtype, np.dtype) and dtype in _SUPPORTED:
        return dtype
    # NOTE: np.dtype also reads the ``.dtype`` of arrays; an array is not a dtype.
    try:
        d = np.dtype(dtype) if isinstance(dtype, (np.dtype, type, str)) else None
    except TypeError:
        d = None
    if d is None or d not in _SUPPORTED or dtype is None:
        raise TypeError(
            f"unsupported dtype {describe(dtype)}; lazyarr supports {', '.join(DTYPES)}"
        )
    return d


def isdtype(dtype: np.dtype, kind: object) -> builtins.bool:
    """Whether ``dtype`` is of ``kind`` (a dtype, a kind name, or a tuple of either)."""
    if not is_supported(dtype):
        raise TypeError(f"isdtype: expected a dtype, got {describe(dtype)}")
    if isinstance(kind, tuple):
        for k in kind:
            if isinstance(k, tuple):
                raise TypeError(f"isdtype: kind tuples must not be nested, got {describe(kind)}")
        # NOTE: every entry is checked, so a bad kind is an error wherever it appears.
        results = [isdtype(dtype, k) for k in kind]
        return any(results)
    if isinstance(kind, str):
        if kind not in _KINDS:
            raise ValueError(f"isdtype: unknown kind {kind!r}; expected one of {sorted(_KINDS)}")
        return dtype in _KINDS[kind]
    if is_supported(kind):
        return dtype == kind
    raise TypeError(f"isdtype: kind must be a dtype, a kind name or a tuple, got {describe(kind)}")


def is_bool(d: np.dtype) -> builtins.bool:
    return d.kind == "b"


def is_integer(d: np.dtype) -> builtins.bool:
    return d.kind in "iu"


def is_floating(d: np.dtype) -> builtins.bool:
    return d.kind in "fc"


def is_complex(d: np.dtype) -> builtins.bool:
    return d.kind == "c"


def real_dtype(d: np.dtype) -> np.dtype:
    """The real counterpart of a complex dtype; other dtypes map to themselves."""
    return _REAL_OF.get(d, d)


def substitute(d: np.dtype) -> np.dtype:
    """Map a dtype NumPy may pick internally (float16) onto the nearest supported one."""
    if d in _SUPPORTED:
        return d
    if d == np.float16:
        return float32
    raise TypeError(f"unsupported dtype {d}")


_SCALAR_PROBES = {builtins.bool: False, int: 0, float: 0.0, complex: 0j}
_promotion_cache: dict[tuple, np.dtype] = {}


def promote(*dtypes_or_scalar_types: object) -> np.dtype:
    """Promote dtypes and Python scalar types (``int``, ``float``, ...) together.

    Python scalar types are weak, as in NEP 50 and the standard: ``int8`` with
    ``int`` stays ``int8``.
    """
    key = dtypes_or_scalar_types
    try:
        return _promotion_cache[key]
    except KeyError:
        pass
    probes = [_SCALAR_PROBES.get(t, t) for t in key]
    result = np.result_type(*probes)
    if result not in _SUPPORTED:
        raise TypeError(f"no supported result dtype for {key}")
    _promotion_cache[key] = result
    return result


def result_type(*arrays_and_dtypes: object) -> np.dtype:
    """The dtype that results from applying type promotion to the arguments."""
    from ._array import Array

    if not arrays_and_dtypes:
        raise ValueError("result_type: at least one array or dtype is required")
    items: list[object] = []
    for a in arrays_and_dtypes:
        if isinstance(a, Array):
            items.append(a.dtype)
        elif isinstance(a, np.ndarray):
            items.append(normalize(a.dtype))
        elif type(a) in _SCALAR_PROBES:
            items.append(type(a))
        else:
            try:
                items.append(normalize(a))
            except TypeError:
                raise TypeError(
                    f"result_type: expected arrays, dtypes or Python scalars, got {describe(a)}"
                ) from None
    if all(type(t) is type for t in items):
        raise ValueError("result_type: at least one array or dtype is required besides scalars")
    # NOTE: promote dtypes first and scalars last, so the weak scalars see the final dtype.
    dtypes = [t for t in items if type(t) is not type]
    scalars = [t for t in items if type(t) is type]
    result = promote(*dtypes)
    for s in scalars:
        result = promote(result, s)
    return result


def can_cast(from_: object, to: object, /) -> builtins.bool:
    """Whether ``from_`` promotes to ``to`` without loss (the standard's safe casting)."""
    from ._array import Array

    src = from_.dtype if isinstance(from_, Array) else normalize(from_)
    return builtins.bool(np.can_cast(src, normalize(to), casting="safe"))


@dataclass(frozen=True)
class finfo_object:  # noqa: N801 - the standard calls the type this way
    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: np.dtype


@dataclass(frozen=True)
class iinfo_object:  # noqa: N801
    bits: int
    max: int
    min: int
    dtype: np.dtype


def _dtype_of(type: object, fname: str) -> np.dtype:
    from ._array import Array

    if isinstance(type, Array):
        return type.dtype
    try:
        return normalize(type)
    except TypeError:
        raise TypeError(f"{fname}: expected a dtype or an array, got {describe(type)}") from None


def finfo(type: object, /) -> finfo_object:
    """Machine limits of a floating-point dtype, as Python floats."""
    d = _dtype_of(type, "finfo")
    if not is_floating(d):
        raise TypeError(f"finfo: {d} is not a floating-point dtype")
    fi = np.finfo(d)
    return finfo_object(
        bits=int(fi.bits),
        eps=float(fi.eps),
        max=float(fi.max),
        min=float(fi.min),
        smallest_normal=float(fi.smallest_normal),
        dtype=real_dtype(d),
    )


def iinfo(type: object, /) -> iinfo_object:
    """Machine limits of an integer dtype, as Python ints."""
    d = _dtype_of(type, "iinfo")
    if not is_integer(d):
        raise TypeError(f"iinfo: {d} is not an integer dtype")
    ii = np.iinfo(d)
    return iinfo_object(bits=int(ii.bits), max=int(ii.max), min=int(ii.min), dtype=d)
