"""Random words to numbers, with arithmetic that rounds identically on every backend.

The C backend evaluates ``xp.log``, ``xp.sin`` and ``xp.cos`` with glibc's (or
libmvec's vector) functions, which differ from NumPy's in the last bits, so
normal variates built on them would differ between eager code and ``xp.jit``.
The transforms here use only ``+ - * /``, ``sqrt``, integer ops, comparisons,
``where`` and ``bitcast``; all of those are correctly rounded or exact in both
NumPy and the generated C (compiled with ``-ffp-contract=off`` and no
fast-math), so the same words give the same bits everywhere.

``log`` and the sine and cosine kernels are fdlibm's (Sun Microsystems, 1993:
``e_log.c``, ``k_sin.c``, ``k_cos.c``, as in FreeBSD's msun), written as graph
ops: each is within one ulp of the true value on the inputs used here.
"""

from __future__ import annotations

import numpy as np

from .. import _dtypes
from .._array import Array
from .._builder import apply
from .._data_type_functions import astype
from .._elementwise_functions import sqrt
from .._ops import REGISTRY
from .._searching_functions import where

_BITCAST = REGISTRY["bitcast"]

TWO_M53 = 2.0**-53  # 1.1102230246251565e-16
TWO_M24 = 2.0**-24

# e_log.c
_LN2_HI = 6.93147180369123816490e-01  # 3fe62e42 fee00000
_LN2_LO = 1.90821492927058770002e-10  # 3dea39ef 35793c76
_LG = (
    6.666666666666735130e-01,  # 3FE55555 55555593
    3.999999999940941908e-01,  # 3FD99999 9997FA04
    2.857142874366239149e-01,  # 3FD24924 94229359
    2.222219843214978396e-01,  # 3FCC71C5 1D8E78AF
    1.818357216161805012e-01,  # 3FC74664 96CB03DE
    1.531383769920937332e-01,  # 3FC39A09 D078C69F
    1.479819860511658591e-01,  # 3FC2F112 DF3E5244
)
# k_sin.c
_S = (
    -1.66666666666666324348e-01,  # 0xBFC55555, 0x55555549
    8.33333333332248946124e-03,  # 0x3F811111, 0x1110F8A6
    -1.98412698298579493134e-04,  # 0xBF2A01A0, 0x19C161D5
    2.75573137070700676789e-06,  # 0x3EC71DE3, 0x57B1FE7D
    -2.50507602534068634195e-08,  # 0xBE5AE5E6, 0x8A2B9CEB
    1.58969099521155010221e-10,  # 0x3DE5D93A, 0x5ACFD57C
)
# k_cos.c
_C = (
    4.16666666666666019037e-02,  # 0x3FA55555, 0x5555554C
    -1.38888888888741095749e-03,  # 0xBF56C16C, 0x16C15177
    2.48015872894767294178e-05,  # 0x3EFA01A0, 0x19CB1590
    -2.75573143513906633035e-07,  # 0xBE927E4F, 0x809C52AD
    2.08757232129817482790e-09,  # 0x3E21EE9E, 0xBDB4B1C4
    -1.13596475577881948265e-11,  # 0xBDA8FAE9, 0xBE8838D4
)
_PIO2 = 1.57079632679489655800e00  # float64 pi / 2


def bitcast(x: Array, dtype: np.dtype) -> Array:
    """The same bits read as ``dtype`` (of the same size)."""
    return apply(_BITCAST, (x._node,), dtype=np.dtype(dtype))


def unit_float64(words: Array) -> Array:
    """[0, 1) from uint64 words exactly as NumPy's ``next_double``: (w >> 11) * 2**-53."""
    return astype(words >> 11, _dtypes.float64) * TWO_M53


def open_unit_float64(words: Array) -> Array:
    """(0, 1] from uint64 words: ((w >> 11) + 1) * 2**-53, never 0 (a safe log argument)."""
    return astype((words >> 11) + 1, _dtypes.float64) * TWO_M53


def unit_float32(halves: Array) -> Array:
    """[0, 1) float32 from uint32 values as NumPy's ``next_float``: (h >> 8) * 2**-24."""
    return astype(halves >> 8, _dtypes.float32) * np.float32(TWO_M24)


def log(x: Array) -> Array:
    """Natural log of positive, normal (not subnormal), finite float64 ``x``: fdlibm's
    ``__ieee754_log`` without its special cases (zero, negatives, infinities, NaN,
    subnormals) and without its shortcut for ``|x - 1| < 2**-20``, which the general
    formula covers as accurately."""
    bits = bitcast(x, _dtypes.int64)
    high = bits >> 32
    k = (high >> 20) - 1023
    hx = high & 0x000FFFFF
    i = (hx + 0x95F64) & 0x100000  # the mantissa's choice of x or x / 2, so f near 0
    mantissa = bitcast(((hx | (i ^ 0x3FF00000)) << 32) | (bits & 0xFFFFFFFF), _dtypes.float64)
    k = k + (i >> 20)
    f = mantissa - 1.0
    s = f / (2.0 + f)
    dk = astype(k, _dtypes.float64)
    z = s * s
    w = z * z
    t1 = w * (_LG[1] + w * (_LG[3] + w * _LG[5]))
    t2 = z * (_LG[0] + w * (_LG[2] + w * (_LG[4] + w * _LG[6])))
    r = t2 + t1
    wide = ((hx - 0x6147A) | (0x6B851 - hx)) > 0  # f far from 0: the hfsq form is exact
    hfsq = 0.5 * f * f
    near = dk * _LN2_HI - ((hfsq - (s * (hfsq + r) + dk * _LN2_LO)) - f)
    far = dk * _LN2_HI - ((s * (f - r) - dk * _LN2_LO) - f)
    return where(wide, near, far)


def sin_kernel(x: Array) -> Array:
    """sin(x) for |x| <= pi/4 (fdlibm's ``__kernel_sin`` with no tail)."""
    z = x * x
    v = z * x
    r = _S[1] + z * (_S[2] + z * (_S[3] + z * (_S[4] + z * _S[5])))
    return x + v * (_S[0] + z * r)


def cos_kernel(x: Array) -> Array:
    """cos(x) for |x| <= pi/4 (fdlibm's ``__kernel_cos`` with no tail)."""
    z = x * x
    w = z * z
    r = z * (_C[0] + z * (_C[1] + z * _C[2])) + w * w * (_C[3] + z * (_C[4] + z * _C[5]))
    hz = 0.5 * z
    w = 1.0 - hz
    return w + (((1.0 - w) - hz) + z * r)


def unit_circle(words: Array) -> tuple[Array, Array]:
    """(cos t, sin t) for an angle t uniform on the circle, from the top 53 bits of
    uint64 words.

    The top two bits pick a quadrant q, the other 51 a position x in [-1/2, 1/2)
    within it (exactly, as an integer times 2**-51); t = (q + x) * pi / 2, and the
    quadrant turns (cos, sin) of the reduced angle x * pi / 2 by exact sign flips
    and swaps, so no argument reduction error enters.
    """
    quadrant = words >> 62
    x = astype(bitcast((words >> 11) & ((1 << 51) - 1), _dtypes.int64) - (1 << 50), _dtypes.float64)
    angle = x * (2.0**-51 * _PIO2)
    c, s = cos_kernel(angle), sin_kernel(angle)
    odd = (quadrant & 1) == 1
    cos_t = where(odd, -s, c)
    sin_t = where(odd, c, s)
    flip = quadrant >= 2
    return where(flip, -cos_t, cos_t), where(flip, -sin_t, sin_t)


def box_muller(radius_words: Array, angle_words: Array) -> tuple[Array, Array]:
    """Two independent standard normal float64 arrays from two arrays of uint64 words
    (Box and Muller, 1958): sqrt(-2 log u) times the cosine and sine of a uniform
    angle, with u in (0, 1] from the first words and the angle from the second."""
    radius = sqrt(-2.0 * log(open_unit_float64(radius_words)))
    c, s = unit_circle(angle_words)
    return radius * c, radius * s
