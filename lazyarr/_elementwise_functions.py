"""Elementwise functions of the standard.

Each is one op of the registry; Python scalars mix with arrays as the standard
and NumPy 2 say (``int8_array + 1`` stays int8), and arguments broadcast.

>>> import lazyarr as xp
>>> x = xp.asarray([0.0, 1.0])
>>> float(xp.sum(xp.exp(x) + 1))
4.718281828459045
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ._array import Array
from ._builder import elementwise, node_of
from ._errors import located


def abs(x: Any, /) -> Array:
    """Absolute value (for complex input, the magnitude)."""
    return elementwise("abs", _array_arg(x, "abs"))


def acos(x: Any, /) -> Array:
    """Inverse cosine."""
    return elementwise("acos", _array_arg(x, "acos"))


def acosh(x: Any, /) -> Array:
    """Inverse hyperbolic cosine."""
    return elementwise("acosh", _array_arg(x, "acosh"))


def add(x1: Any, x2: Any, /) -> Array:
    """``x1 + x2``."""
    return elementwise("add", x1, x2)


def asin(x: Any, /) -> Array:
    """Inverse sine."""
    return elementwise("asin", _array_arg(x, "asin"))


def asinh(x: Any, /) -> Array:
    """Inverse hyperbolic sine."""
    return elementwise("asinh", _array_arg(x, "asinh"))


def atan(x: Any, /) -> Array:
    """Inverse tangent."""
    return elementwise("atan", _array_arg(x, "atan"))


def atan2(x1: Any, x2: Any, /) -> Array:
    """Quadrant-aware inverse tangent of ``x1 / x2``."""
    return elementwise("atan2", x1, x2)


def atanh(x: Any, /) -> Array:
    """Inverse hyperbolic tangent."""
    return elementwise("atanh", _array_arg(x, "atanh"))


def bitwise_and(x1: Any, x2: Any, /) -> Array:
    """Bitwise AND."""
    return elementwise("bitwise_and", x1, x2)


def bitwise_invert(x: Any, /) -> Array:
    """Bitwise NOT of integer or boolean input."""
    return elementwise("bitwise_invert", _array_arg(x, "bitwise_invert"))


def bitwise_left_shift(x1: Any, x2: Any, /) -> Array:
    """Shift the bits of x1 left by x2."""
    return elementwise("bitwise_left_shift", x1, x2)


def bitwise_or(x1: Any, x2: Any, /) -> Array:
    """Bitwise OR."""
    return elementwise("bitwise_or", x1, x2)


def bitwise_right_shift(x1: Any, x2: Any, /) -> Array:
    """Shift the bits of x1 right by x2."""
    return elementwise("bitwise_right_shift", x1, x2)


def bitwise_xor(x1: Any, x2: Any, /) -> Array:
    """Bitwise XOR."""
    return elementwise("bitwise_xor", x1, x2)


def ceil(x: Any, /) -> Array:
    """Smallest integer-valued number not less than x."""
    return elementwise("ceil", _array_arg(x, "ceil"))


def conj(x: Any, /) -> Array:
    """Complex conjugate."""
    return elementwise("conj", _array_arg(x, "conj"))


def copysign(x1: Any, x2: Any, /) -> Array:
    """x1 with the sign of x2."""
    return elementwise("copysign", x1, x2)


def cos(x: Any, /) -> Array:
    """Cosine."""
    return elementwise("cos", _array_arg(x, "cos"))


def cosh(x: Any, /) -> Array:
    """Hyperbolic cosine."""
    return elementwise("cosh", _array_arg(x, "cosh"))


def divide(x1: Any, x2: Any, /) -> Array:
    """``x1 / x2``."""
    return elementwise("divide", x1, x2)


def equal(x1: Any, x2: Any, /) -> Array:
    """``x1 == x2``."""
    return elementwise("equal", x1, x2)


def exp(x: Any, /) -> Array:
    """Exponential."""
    return elementwise("exp", _array_arg(x, "exp"))


def expm1(x: Any, /) -> Array:
    """``exp(x) - 1``, accurate for small x."""
    return elementwise("expm1", _array_arg(x, "expm1"))


def floor(x: Any, /) -> Array:
    """Largest integer-valued number not greater than x."""
    return elementwise("floor", _array_arg(x, "floor"))


def floor_divide(x1: Any, x2: Any, /) -> Array:
    """``x1 // x2``."""
    return elementwise("floor_divide", x1, x2)


def greater(x1: Any, x2: Any, /) -> Array:
    """``x1 > x2``."""
    return elementwise("greater", x1, x2)


def greater_equal(x1: Any, x2: Any, /) -> Array:
    """``x1 >= x2``."""
    return elementwise("greater_equal", x1, x2)


def hypot(x1: Any, x2: Any, /) -> Array:
    """``sqrt(x1**2 + x2**2)`` without overflow."""
    return elementwise("hypot", x1, x2)


def imag(x: Any, /) -> Array:
    """Imaginary part."""
    return elementwise("imag", _array_arg(x, "imag"))


def isfinite(x: Any, /) -> Array:
    """Whether x is finite."""
    return elementwise("isfinite", _array_arg(x, "isfinite"))


def isinf(x: Any, /) -> Array:
    """Whether x is infinite."""
    return elementwise("isinf", _array_arg(x, "isinf"))


def isnan(x: Any, /) -> Array:
    """Whether x is NaN."""
    return elementwise("isnan", _array_arg(x, "isnan"))


def less(x1: Any, x2: Any, /) -> Array:
    """``x1 < x2``."""
    return elementwise("less", x1, x2)


def less_equal(x1: Any, x2: Any, /) -> Array:
    """``x1 <= x2``."""
    return elementwise("less_equal", x1, x2)


def log(x: Any, /) -> Array:
    """Natural logarithm."""
    return elementwise("log", _array_arg(x, "log"))


def log10(x: Any, /) -> Array:
    """Base-10 logarithm."""
    return elementwise("log10", _array_arg(x, "log10"))


def log1p(x: Any, /) -> Array:
    """``log(1 + x)``, accurate for small x."""
    return elementwise("log1p", _array_arg(x, "log1p"))


def log2(x: Any, /) -> Array:
    """Base-2 logarithm."""
    return elementwise("log2", _array_arg(x, "log2"))


def logaddexp(x1: Any, x2: Any, /) -> Array:
    """``log(exp(x1) + exp(x2))`` without overflow."""
    return elementwise("logaddexp", x1, x2)


def logical_and(x1: Any, x2: Any, /) -> Array:
    """Logical AND."""
    return elementwise("logical_and", x1, x2)


def logical_not(x: Any, /) -> Array:
    """Logical NOT."""
    return elementwise("logical_not", _array_arg(x, "logical_not"))


def logical_or(x1: Any, x2: Any, /) -> Array:
    """Logical OR."""
    return elementwise("logical_or", x1, x2)


def logical_xor(x1: Any, x2: Any, /) -> Array:
    """Logical XOR."""
    return elementwise("logical_xor", x1, x2)


def maximum(x1: Any, x2: Any, /) -> Array:
    """Elementwise maximum (NaN propagates)."""
    return elementwise("maximum", x1, x2)


def minimum(x1: Any, x2: Any, /) -> Array:
    """Elementwise minimum (NaN propagates)."""
    return elementwise("minimum", x1, x2)


def multiply(x1: Any, x2: Any, /) -> Array:
    """``x1 * x2``."""
    return elementwise("multiply", x1, x2)


def negative(x: Any, /) -> Array:
    """Numerical negative."""
    return elementwise("negative", _array_arg(x, "negative"))


def nextafter(x1: Any, x2: Any, /) -> Array:
    """The next representable value after x1 toward x2."""
    return elementwise("nextafter", x1, x2)


def not_equal(x1: Any, x2: Any, /) -> Array:
    """``x1 != x2``."""
    return elementwise("not_equal", x1, x2)


def positive(x: Any, /) -> Array:
    """Numerical positive (a copy)."""
    return elementwise("positive", _array_arg(x, "positive"))


def pow(x1: Any, x2: Any, /) -> Array:
    """``x1 ** x2``."""
    return elementwise("pow", x1, x2)


def real(x: Any, /) -> Array:
    """Real part."""
    return elementwise("real", _array_arg(x, "real"))


def reciprocal(x: Any, /) -> Array:
    """``1 / x``."""
    return elementwise("reciprocal", _array_arg(x, "reciprocal"))


def remainder(x1: Any, x2: Any, /) -> Array:
    """``x1 % x2`` (sign of x2, as Python)."""
    return elementwise("remainder", x1, x2)


def round(x: Any, /) -> Array:
    """Round to the nearest integer, halves to even."""
    return elementwise("round", _array_arg(x, "round"))


def sign(x: Any, /) -> Array:
    """Sign (for complex input, ``x / |x|``)."""
    return elementwise("sign", _array_arg(x, "sign"))


def signbit(x: Any, /) -> Array:
    """Whether the sign bit is set."""
    return elementwise("signbit", _array_arg(x, "signbit"))


def sin(x: Any, /) -> Array:
    """Sine."""
    return elementwise("sin", _array_arg(x, "sin"))


def sinh(x: Any, /) -> Array:
    """Hyperbolic sine."""
    return elementwise("sinh", _array_arg(x, "sinh"))


def sqrt(x: Any, /) -> Array:
    """Square root."""
    return elementwise("sqrt", _array_arg(x, "sqrt"))


def square(x: Any, /) -> Array:
    """``x * x``."""
    return elementwise("square", _array_arg(x, "square"))


def subtract(x1: Any, x2: Any, /) -> Array:
    """``x1 - x2``."""
    return elementwise("subtract", x1, x2)


def tan(x: Any, /) -> Array:
    """Tangent."""
    return elementwise("tan", _array_arg(x, "tan"))


def tanh(x: Any, /) -> Array:
    """Hyperbolic tangent."""
    return elementwise("tanh", _array_arg(x, "tanh"))


def trunc(x: Any, /) -> Array:
    """Round toward zero."""
    return elementwise("trunc", _array_arg(x, "trunc"))


def clip(x: Any, /, min: Any = None, max: Any = None) -> Array:
    """``x`` limited to ``[min, max]``; scalar bounds take x's dtype, as other scalars do.

    Complex numbers have no order: complex ``x`` or bounds are a ``TypeError``.
    """
    out = _array_arg(x, "clip")
    for bound, fn in ((min, "maximum"), (max, "minimum")):
        if bound is None:
            continue
        kind = bound.dtype.kind if isinstance(bound, (Array, np.ndarray, np.generic)) else None
        if out.dtype.kind == "c" or isinstance(bound, complex) or kind == "c":
            raise located(TypeError, "clip: complex numbers have no order")
        if isinstance(bound, int) and not isinstance(bound, bool) and out.dtype.kind in "iu":
            # NOTE: a bound outside the dtype's range cannot clip anything; clamp it so it fits.
            info = np.iinfo(out.dtype)
            bound = builtins.min(builtins.max(bound, int(info.min)), int(info.max))
        out = elementwise(fn, out, bound)
    return out


def _array_arg(x: Any, fname: str) -> Array:
    return x if isinstance(x, Array) else Array._new(node_of(x, f"{fname}: x"))
