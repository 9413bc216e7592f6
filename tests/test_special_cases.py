"""The standard's special cases, as a table: inputs and the exact result they must give.

The rows are the cases NumPy's ufuncs get wrong (the op's reference implementation
fixes them) plus neighbours that check the fix leaves the ordinary values alone.
Results are compared bit for bit: NaN matches NaN, and zeros by sign.
"""

from __future__ import annotations

import numpy as np
import pytest

import lazyarr as xp
from tests.helpers import COMPLEX, REAL_FLOAT

inf, nan = np.inf, np.nan

BINARY_REAL = [
    # floor_divide with infinities: the quotient itself, not NaN or -1.
    ("floor_divide", inf, 2.0, inf),
    ("floor_divide", inf, -2.0, -inf),
    ("floor_divide", -inf, 2.0, -inf),
    ("floor_divide", -inf, -2.0, inf),
    ("floor_divide", 1.0, -inf, -0.0),
    ("floor_divide", -1.0, inf, -0.0),
    ("floor_divide", 1.0, inf, 0.0),
    ("floor_divide", -1.0, -inf, 0.0),
    ("floor_divide", 0.0, inf, 0.0),
    ("floor_divide", -0.0, inf, -0.0),
    ("floor_divide", inf, inf, nan),
    ("floor_divide", nan, inf, nan),
    ("floor_divide", inf, nan, nan),
    ("floor_divide", 7.0, 2.0, 3.0),
    ("floor_divide", -7.0, 2.0, -4.0),
    ("floor_divide", 1.0, 0.0, inf),
    # remainder with infinities (NumPy gets these right; kept as a guard).
    ("remainder", 1.0, inf, 1.0),
    ("remainder", -1.0, inf, inf),
    ("remainder", 1.0, -inf, -inf),
    ("remainder", -1.0, -inf, -1.0),
    ("remainder", inf, 2.0, nan),
]

UNARY_COMPLEX = [
    ("expm1", complex(0.0, 0.0), complex(0.0, 0.0)),
    ("expm1", complex(-0.0, 0.0), complex(0.0, 0.0)),
    ("expm1", complex(inf, 0.0), complex(inf, 0.0)),
    ("expm1", complex(-inf, inf), complex(-1.0, 0.0)),
    ("expm1", complex(-inf, nan), complex(-1.0, 0.0)),
    ("expm1", complex(-inf, 1.0), complex(-1.0, 0.0)),
    ("expm1", complex(nan, 0.0), complex(nan, 0.0)),
    ("expm1", complex(nan, 1.0), complex(nan, nan)),
    ("expm1", complex(1.0, inf), complex(nan, nan)),
    ("tanh", complex(inf, 1.0), complex(1.0, 0.0)),
    ("tanh", complex(inf, 3.0), complex(1.0, 0.0)),
    ("tanh", complex(-inf, -3.0), complex(-1.0, -0.0)),
    ("tanh", complex(inf, -0.0), complex(1.0, -0.0)),
    ("tanh", complex(0.0, 0.0), complex(0.0, 0.0)),
    ("tanh", complex(nan, 0.0), complex(nan, 0.0)),
]
# Real and imaginary parts whose value only the standard leaves unspecified (a sign, or
# which infinity), keyed by (function, input): checked by magnitude only.
SIGN_FREE = {("expm1", complex(-inf, inf)), ("expm1", complex(-inf, nan))}


def _same(got: np.ndarray, want: np.ndarray, sign_free: bool = False) -> bool:
    got, want = np.asarray(got), np.asarray(want)
    parts = (np.real, np.imag) if want.dtype.kind == "c" else (np.asarray,)
    for part in parts:
        g, w = part(got), part(want)
        if np.isnan(w):
            if not np.isnan(g):
                return False
        elif g != w or (not sign_free and np.signbit(g) != np.signbit(w)):
            return False
    return True


def _rows(table):
    return [pytest.param(*row, id=f"{row[0]}{row[1:-1]}") for row in table]


@pytest.mark.parametrize("dtype", REAL_FLOAT)
@pytest.mark.parametrize(("name", "x1", "x2", "expected"), _rows(BINARY_REAL))
def test_binary_special_cases(name, x1, x2, expected, dtype):
    for a1, a2 in [
        (xp.asarray(x1, dtype=dtype), xp.asarray(x2, dtype=dtype)),
        (xp.asarray([x1, 1.0], dtype=dtype), xp.asarray([x2, 1.0], dtype=dtype)),
        (xp.asarray(x1, dtype=dtype), x2),
    ]:
        got = np.asarray(getattr(xp, name)(a1, a2)).reshape(-1)[0]
        assert _same(got, np.asarray(expected, dtype=dtype)), (name, x1, x2, got)


@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize(("name", "x", "expected"), _rows(UNARY_COMPLEX))
def test_unary_complex_special_cases(name, x, expected, dtype):
    sign_free = (name, x) in SIGN_FREE
    for a in [xp.asarray(x, dtype=dtype), xp.asarray([x, 0.5 + 0.5j], dtype=dtype)]:
        got = np.asarray(getattr(xp, name)(a)).reshape(-1)[0]
        assert _same(got, np.asarray(expected, dtype=dtype), sign_free), (name, x, got)


def test_ordinary_values_are_numpys():
    z = np.array([0.5 + 0.25j, -1.0 + 2.0j, 1e-8 + 1e-8j])
    np.testing.assert_array_equal(np.asarray(xp.expm1(xp.asarray(z))), np.expm1(z))
    np.testing.assert_array_equal(np.asarray(xp.tanh(xp.asarray(z))), np.tanh(z))
    x = np.array([7.5, -7.5, 3.0, 0.0])
    y = np.array([2.0, 2.0, -0.5, 3.0])
    np.testing.assert_array_equal(
        np.asarray(xp.floor_divide(xp.asarray(x), xp.asarray(y))), np.floor_divide(x, y)
    )
