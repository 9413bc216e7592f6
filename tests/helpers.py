"""Shared strategies and checks for the differential tests against NumPy.

NumPy is the oracle: every test computes the same thing with NumPy and with
lazyarr and compares values, shape and dtype.
"""

from __future__ import annotations

import inspect

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lazyarr as xp

BOOL = [np.dtype("bool")]
SIGNED = [np.dtype(d) for d in ("int8", "int16", "int32", "int64")]
UNSIGNED = [np.dtype(d) for d in ("uint8", "uint16", "uint32", "uint64")]
INTEGER = SIGNED + UNSIGNED
REAL_FLOAT = [np.dtype("float32"), np.dtype("float64")]
COMPLEX = [np.dtype("complex64"), np.dtype("complex128")]
FLOAT = REAL_FLOAT + COMPLEX
REAL = INTEGER + REAL_FLOAT
NUMERIC = INTEGER + FLOAT
ALL = BOOL + NUMERIC

DTYPE_NAMES = [str(d) for d in ALL]
DTYPE_KINDS = [
    "bool",
    "signed integer",
    "unsigned integer",
    "integral",
    "real floating",
    "complex floating",
    "numeric",
]

# For cheap tests: more examples than the profile's default (the "thorough" profile
# still raises them).
MORE_EXAMPLES = settings(max_examples=max(100, settings().max_examples))


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side: int = 4):
    """Shapes including 0-d and empty ones."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def _elements(dtype: np.dtype, finite: bool):
    if dtype.kind in "fc":
        return hnp.from_dtype(
            dtype, allow_nan=not finite, allow_infinity=not finite, allow_subnormal=False
        )
    return hnp.from_dtype(dtype)


@st.composite
def numpy_arrays(draw, dtypes=ALL, shape=None, finite: bool = False, layouts: bool = True):
    """NumPy arrays of the given dtypes, with NaN/inf/signed zeros for floats, and, when
    ``layouts``, non-contiguous and negative-stride views as well as contiguous arrays."""
    dtype = draw(st.sampled_from(dtypes))
    if shape is None:
        shape = draw(shapes())
    elif not isinstance(shape, tuple):
        shape = draw(shape)
    layout = draw(st.sampled_from(["c", "f", "strided", "reversed"])) if layouts else "c"
    if layout == "strided" and len(shape) > 0:
        big = tuple(2 * d for d in shape)
        base = draw(hnp.arrays(dtype, big, elements=_elements(dtype, finite)))
        return base[tuple(slice(None, None, 2) for _ in shape)]
    a = draw(hnp.arrays(dtype, shape, elements=_elements(dtype, finite)))
    if layout == "f" and len(shape) > 0:
        return np.asfortranarray(a)
    if layout == "reversed" and len(shape) > 0:
        return np.ascontiguousarray(a[::-1])[::-1]
    return a


def assert_matches(actual, expected, *, rtol: float | None = None, check_dtype: bool = True):
    """``actual`` (an Array) equals NumPy's ``expected`` in value, shape and dtype.

    Integers and booleans must agree exactly; floats agree to a few ulps (NaN
    matches NaN, and signed zeros are compared by sign when exact).
    """
    assert isinstance(actual, xp.Array), f"expected a lazyarr Array, got {type(actual)}"
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    if check_dtype:
        assert actual.dtype == expected.dtype, f"dtype {actual.dtype} != {expected.dtype}"
    got = np.asarray(actual)
    assert got.shape == expected.shape
    if expected.dtype.kind in "fc" and rtol is not None:
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=0, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, expected, strict=check_dtype)
        if expected.dtype.kind in "fc":
            both = (got == 0) & (expected == 0)
            for part in (np.real, np.imag) if expected.dtype.kind == "c" else (np.asarray,):
                g, e = part(got), part(expected)
                zeros = (g == 0) & (e == 0) & both
                assert (np.signbit(g)[zeros] == np.signbit(e)[zeros]).all(), "signed zeros differ"


def next_line() -> str:
    """``file:line`` of the line after the caller's, as lazyarr's error messages name it::

    with pytest.raises(ValueError) as info:
        where = next_line()
        xp.reshape(x, (5,))
    assert where in str(info.value)
    """
    frame = inspect.currentframe().f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno + 1}"


def lazy(a: np.ndarray) -> xp.Array:
    """``a`` as a lazy Array whose value is not known while the graph is built."""
    # NOTE: large constants are interned by identity, so this graph is never one built
    # (and computed) before. Adding -0.0 (-0.0 - 0.0j) keeps every float, signed zeros included.
    negative_zero = {"f": -0.0, "c": complex(-0.0, -0.0)}.get(a.dtype.kind, 0)
    zero = xp.asarray(np.full(65, negative_zero, dtype=a.dtype))[0]
    arr = xp.asarray(a)
    out = xp.logical_or(arr, zero) if a.dtype == np.bool_ else arr + zero
    assert out._node.value is None
    return out


_EXCEPTIONS = (TypeError, ValueError, OverflowError, ZeroDivisionError)

# Functions whose NumPy ufunc misses special cases of the standard: the op's reference
# implementation fixes them, and tests/test_special_cases.py pins the fixed values.
SPECIAL_CASE_FIXES = frozenset({"floor_divide", "expm1", "tanh"})


def numpy_function(name: str):
    """The NumPy function for the standard's ``name``, with the standard's special cases."""
    if name in SPECIAL_CASE_FIXES:
        from lazyarr._ops import REGISTRY

        return REGISTRY[name].impl
    return getattr(np, name)


def reference(f, *args):
    """NumPy's result, or the exception class it raises.

    A float16 result is recomputed with the arrays in float32, as lazyarr computes it.
    """
    # NOTE: NumPy's float loops for negative-stride inputs skip the SIMD code and may
    # differ from the contiguous result by an ulp (np.log10 of float32); the reference
    # is NumPy on contiguous data, which is what lazyarr computes on.
    args = [np.array(a, order="C") if isinstance(a, np.ndarray) else a for a in args]
    with np.errstate(all="ignore"):
        try:
            out = np.asarray(f(*args))
            if out.dtype == np.float16:
                args = [a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in args]
                out = np.asarray(f(*args))
        except _EXCEPTIONS as e:
            return next(t for t in _EXCEPTIONS if isinstance(e, t))
    return out
