"""The C prelude's own exp (``lz_expf``, ``lz_exp``) against NumPy and the true value.

NumPy's exp is within 2.5 ulp (float32, AVX-512) and 4 ulp (float64, SVML) of the
true value; the kernels' exp is within 1 ulp of it (float32 without FMA: 1.2), so it
is checked against a more accurate reference than NumPy: float32 against float64's
exp, float64 against the 80-bit long double's. Overflow, underflow, NaN and
infinities must match NumPy exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import lazyarr as xp
from lazyarr.compile import c_backend

pytestmark = [
    pytest.mark.usefixtures("private_cache_dir"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]

if c_backend.compiler() is None:
    pytest.skip("no C compiler: jitted functions run on NumPy alone", allow_module_level=True)

EDGES = [
    *(np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 1.0, -1.0),
    *(88.72283, 88.72284, 88.75, 89.0, 100.0, 1e30, -1e30),  # float32 overflow
    *(-87.33654, -87.33655, -103.27893, -103.972, -103.973, -104.0, -105.0),  # subnormals
    *(709.782712893384, 709.7827128933841, 709.79, 710.0),  # float64 overflow
    *(-708.3964185322641, -708.4, -744.44007192138, -745.1332191019411, -745.14, -746.0),
]


def _ulps(got: np.ndarray, true: np.ndarray, dtype) -> np.ndarray:
    """|got - true| in units of the spacing of ``dtype`` at ``true`` (subnormal: fixed)."""
    info = np.finfo(dtype)
    rounded = np.abs(true.astype(dtype))
    spacing = np.where(rounded < info.tiny, info.smallest_subnormal, np.spacing(rounded))
    return np.abs(got.astype(true.dtype) - true) / spacing.astype(true.dtype)


def _check(got: np.ndarray, x: np.ndarray, true: np.ndarray, dtype, ulps: float) -> None:
    numpy = np.exp(x)
    special = ~np.isfinite(numpy) | (numpy == 0) | ~np.isfinite(true)
    np.testing.assert_array_equal(got[special], numpy[special])
    finite = ~special
    worst = _ulps(got[finite], true[finite], dtype)
    assert worst.max() <= ulps, (x[finite][worst.argmax()], worst.max())


@pytest.mark.parametrize("layout", ["contiguous", "reversed"])
def test_float32_exp_is_within_about_an_ulp_over_a_dense_sweep_of_all_floats(layout):
    """Every 257th bit pattern (16.7 million floats, all binades, NaNs included)."""
    bits = np.arange(0, 2**32, 257, dtype=np.uint64).astype(np.uint32)
    x = np.concatenate([bits.view(np.float32), np.array(EDGES, np.float32)])
    if layout == "reversed":
        x = x[::-1]
    got = np.asarray(xp.jit(xp.exp)(x))
    assert got.dtype == np.float32
    # NOTE: 0.86 where the CPU has FMA, 1.17 without (the polynomial rounds twice a step).
    _check(got, x, np.exp(x.astype(np.float64)), np.float32, 1.2)


@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 63, reason="needs 80-bit long double")
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
def test_float64_exp_is_within_an_ulp_of_the_long_double_exp(layout):
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.uniform(-750, 712, 1_000_000),
            rng.uniform(-1, 1, 200_000),
            rng.uniform(-745.2, -708, 200_000),  # subnormal results
            rng.standard_normal(10_000) * 1e-12,
            np.array(EDGES),
        ]
    )
    if layout == "strided":
        x = np.repeat(x, 2)[::-2]
    got = np.asarray(xp.jit(xp.exp)(x))
    _check(got, x, np.exp(x.astype(np.longdouble)), np.float64, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_inside_a_fused_reduction_matches_the_elementwise_kernel(dtype):
    """The max (min) of exps is that of the stored exps, bit for bit; their sum, added
    in registers rather than in NumPy's order, is within a few ulps of the exact sum."""
    x = np.random.default_rng(1).standard_normal((37, 300)).astype(dtype) * 30
    x[0, :5] = [np.nan, np.inf, -np.inf, 90, -110]
    x[1, :3] = [np.inf, -np.inf, 90]
    e = np.asarray(xp.jit(xp.exp)(x))
    for reduce, expected in [(xp.max, np.max), (xp.min, np.min)]:
        got = np.asarray(xp.jit(lambda x, reduce=reduce: reduce(xp.exp(x), axis=1))(x))
        np.testing.assert_array_equal(got, expected(e, axis=1))
    s = np.asarray(xp.jit(lambda x: xp.sum(xp.exp(x), axis=1))(x))
    exact = np.array([math.fsum(row) for row in e.astype(np.float64)])
    np.testing.assert_array_equal(np.isnan(s), np.isnan(exact))
    np.testing.assert_array_equal(np.isinf(s), np.isinf(exact))
    finite = np.isfinite(exact)
    spacing = np.spacing(exact[finite].astype(dtype)).astype(np.float64)
    assert np.all(np.abs(s[finite] - exact[finite]) <= 4 * spacing)
