"""Differential tests of the C backend: jitted functions against the eager NumPy backend.

The oracle is the same Python function evaluated eagerly (without jit), which runs every
op through its NumPy reference implementation. Integers and booleans must agree bit for
bit. Floats agree bit for bit for the operations IEEE 754 rounds exactly (arithmetic,
sqrt, rounding, min/max, floor division...) and within ``ULPS`` for the transcendental
functions (see there); NaN positions and the signs of zeros must always match.

Compiling costs about 35 ms per kernel plus 0.15 s per library (all kernels of a program
are compiled together), and a kernel is reused for any shape and layout of inputs of the
same dtypes: it only depends on which reads are 0-d or constant along the last axis. So
the tests build one jitted function per dtype that computes every op accepting that
dtype, and hypothesis varies shapes, layouts and values under it, broadcasting along
any axis but the last (``test_broadcast_along_the_last_axis`` covers that).

What runs through NumPy inside a compiled function (``[numpy]`` in ``as_text()``): every
op on complex numbers (and casts to or from them), integer ``pow`` (a negative exponent
raises) and integer ``reciprocal``, and loops over mixed dtypes, such as comparisons of
int64 with uint64.
"""

from __future__ import annotations

import functools
import re
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lazyarr as xp
from lazyarr._ops import REGISTRY
from lazyarr.compile import c_backend
from tests.helpers import ALL, BOOL, INTEGER, REAL, REAL_FLOAT, numpy_arrays, shapes

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")

if c_backend.compiler() is None:
    pytest.skip("no C compiler: jitted functions run on NumPy alone", allow_module_level=True)


@pytest.fixture(scope="module", autouse=True)
def _kernel_cache(tmp_path_factory):
    """Compiled kernels go to a fresh directory, not the user's cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAZYARR_CACHE_DIR", str(tmp_path_factory.mktemp("lazyarr-cache")))
        yield


# ----------------------------------------------------------------------------- the tables
ELEMENTWISE = sorted(
    name
    for name, op in REGISTRY.items()
    if op.kind == "elementwise" and name not in ("astype", "bitcast", "where")
)
UNARY = [n for n in ELEMENTWISE if REGISTRY[n].nin == 1]
BINARY = [n for n in ELEMENTWISE if REGISTRY[n].nin == 2]


def _accepts(name: str, *dtypes: np.dtype) -> bool:
    try:
        REGISTRY[name].signature(dtypes)
    except TypeError:
        return False
    return True


DTYPES = {
    name: [d for d in ALL if _accepts(name, *[d] * REGISTRY[name].nin)] for name in ELEMENTWISE
}
CLIP = BOOL + REAL

# Float results that IEEE 754 defines exactly (correctly rounded, or exact): C and NumPy
# must agree bit for bit. hypot and nextafter call the same libm function on both sides;
# floor_divide and remainder run NumPy's own algorithm (fmod is exact).
EXACT = {
    *("abs", "negative", "positive", "square", "reciprocal", "sqrt", "sign"),
    *("ceil", "floor", "trunc", "round", "real", "imag", "conj"),
    *("add", "subtract", "multiply", "divide", "maximum", "minimum", "clip"),
    *("copysign", "nextafter", "hypot", "floor_divide", "remainder"),
}
# The transcendental functions: the kernels call glibc (libm scalar functions, or its
# libmvec vector variants for log, sin, cos and pow in vectorized loops; exp is lazyarr's
# own polynomial, within 1 ulp), NumPy calls
# its own SIMD code (AVX-512 float32 exp/log/sin/cos, documented at up to 2.5-3.9 ulp) or
# SVML (float64, up to 4 ulp). glibc documents up to 4 ulp for libmvec and 1-2 for most
# scalar functions. Each side may be ~4 ulp from the true value, so 8 apart; the largest
# seen on 10**6 random values was 6 (float32 log), 4 for float64 (cos).
ULPS = 8


def _tolerance(name: str, dtype: np.dtype) -> int:
    return 0 if name in EXACT and dtype.kind != "c" else ULPS


# ----------------------------------------------------------------------------- comparison
def _ordinal(a: np.ndarray) -> np.ndarray:
    """Float bits as integers ordered like the floats (-0.0 and 0.0 both at 0)."""
    signed = np.int64 if a.dtype.itemsize == 8 else np.int32
    bits = np.ascontiguousarray(a).view(signed).astype(np.int64)
    return np.where(bits < 0, np.int64(np.iinfo(signed).min) - bits, bits)


def ulp_distance(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Ulps between non-NaN floats of one dtype (inf is one past the largest finite)."""
    d = _ordinal(got).astype(np.uint64) - _ordinal(expected).astype(np.uint64)
    # NOTE: modulo 2**64: true distances are below 2**64 - 2**53, so min(d, -d) never
    # makes a large distance look small.
    return np.minimum(d, -d)


def check(got, expected, ulps: int = 0, what: str = "") -> None:
    """``got`` (the jitted result) equals ``expected`` (the eager one): shape, dtype,
    integers and booleans exactly, floats within ``ulps``, NaN positions and signs of
    zeros exactly."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype} != {expected.dtype}"
    if expected.dtype.kind == "c":
        _check_complex(got, expected, ulps, what)
        return
    if expected.dtype.kind != "f":
        np.testing.assert_array_equal(got, expected, strict=True, err_msg=what)
        return
    nan = np.isnan(expected)
    if not np.array_equal(np.isnan(got), nan):
        wrong = np.isnan(got) != nan
        raise AssertionError(f"{what}: NaN at other positions: {got[wrong]} vs {expected[wrong]}")
    g, e = got[~nan], expected[~nan]
    zeros = (g == 0) & (e == 0)
    if (np.signbit(g[zeros]) != np.signbit(e[zeros])).any():
        raise AssertionError(f"{what}: signed zeros differ")
    if g.size:
        distance = ulp_distance(g, e)
        worst = int(distance.argmax())
        assert distance[worst] <= ulps, (
            f"{what}: {int(distance[worst])} ulps apart (allowed {ulps}): "
            f"{g[worst]!r} vs {e[worst]!r}"
        )


def _check_complex(got: np.ndarray, expected: np.ndarray, ulps: int, what: str) -> None:
    """Each part within ``ulps``, or within ``ulps`` of the larger finite part: NumPy's
    own complex products cancel differently in its SIMD and strided loops (``np.square``
    of ``4097+3967j``: the real part differs by 16 ulps)."""
    scale = np.maximum(
        np.where(np.isfinite(expected.real), np.abs(expected.real), 0),
        np.where(np.isfinite(expected.imag), np.abs(expected.imag), 0),
    )
    eps = np.finfo(expected.real.dtype).eps
    for part, name in ((np.real, "real"), (np.imag, "imaginary")):
        g, e = part(got), part(expected)
        nan = np.isnan(e)
        if not np.array_equal(np.isnan(g), nan):
            raise AssertionError(f"{what}: NaN at other positions: {got} vs {expected}")
        g, e, tol = g[~nan], e[~nan], ulps * eps * scale[~nan]
        with np.errstate(invalid="ignore"):
            ok = (ulp_distance(g, e) <= ulps) | (np.abs(g - e) <= tol)
        assert ok.all(), f"{what} ({name} part): {g[~ok]} vs {e[~ok]}"


def eager(f, *args):
    """The oracle: ``f`` on lazy arrays, evaluated by the NumPy backend.

    The arrays keep their layout (no copy), so where the compiled function runs NumPy
    too (complex numbers) both run the same NumPy loop: NumPy's strided and SIMD loops
    differ (``np.square`` of complex64 ``1.8e19+1.8e19j`` is ``nan+infj`` in one,
    ``-inf+infj`` in the other).
    """
    return f(*(xp.asarray(a, copy=False) if isinstance(a, np.ndarray) else a for a in args))


def lines(lowered) -> list[tuple[str, str]]:
    """(op, backend) for each computed node of a lowered function."""
    out = []
    for line in lowered.as_text().splitlines():
        m = re.match(r"%\d+ = (\w+)\(.*\[(c \w+|numpy)\]", line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def nonnegative(x: np.ndarray) -> np.ndarray:
    """Signed integer exponents for ``pow`` (a negative one raises, in NumPy as here)."""
    return x & np.iinfo(x.dtype).max if x.dtype.kind == "i" else x


def special_values(dtype: np.dtype) -> np.ndarray:
    """Extremes, and values where rounding, overflow, sign and NaN rules show."""
    if dtype.kind == "b":
        return np.array([False, True])
    if dtype.kind in "iu":
        ii = np.iinfo(dtype)
        vals = {int(ii.min), int(ii.min) + 1, -2, -1, 0, 1, 2, 3, 7, 8, 63, 64}
        vals |= {int(ii.max) - 1, int(ii.max), int(ii.max) // 2, 2**53 + 1}
        return np.array(sorted(v for v in vals if ii.min <= v <= ii.max), dtype=dtype)
    parts = [np.nan, -np.inf, -2.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 1.5, 3.0, np.inf]
    if dtype.kind == "c":
        return np.array([complex(a, b) for a in parts for b in parts[::3]], dtype=dtype)
    fi = np.finfo(dtype)
    extra = [fi.max, -fi.max, fi.tiny, fi.smallest_subnormal, -fi.smallest_subnormal]
    extra += [1e-7, 0.9999999, np.pi / 2, 88.8, -103.0, 710.0, 2.0**31, 2.0**63, 1e30]
    return np.array(parts + extra, dtype=dtype)


# ----------------------------------------------------------------------------- all ops
@functools.cache
def unary_ops(dtype: np.dtype):
    """Every unary op accepting ``dtype``, eager and jitted (compiled once per dtype)."""
    names = [n for n in UNARY if dtype in DTYPES[n]]

    def f(x):
        return {n: getattr(xp, n)(x) for n in names}

    return names, f, xp.jit(f)


@functools.cache
def binary_ops(dtype: np.dtype):
    """Every binary op accepting two arrays of ``dtype``, and clip; ``e`` is the
    exponent of ``pow``.

    The casts to the ops' loop dtypes are outputs too. Otherwise a cast read by one op
    only (int8 / int8 computes in float64) would join that op's kernel or not depending
    on whether its input is broadcast, and each pattern would compile another library.
    """
    names = [n for n in BINARY if dtype in DTYPES[n]]
    loops = {c for n in names for c in REGISTRY[n].signature((dtype, dtype))[0]} - {dtype}
    casts = [f"astype {c}" for c in sorted(loops, key=str)]

    def f(x1, x2, e):
        out = {n: getattr(xp, n)(x1, e if n == "pow" else x2) for n in names}
        if dtype in CLIP:
            out["clip"] = xp.clip(x1, x2, e)
        for c in loops:
            out[f"astype {c}"] = (xp.astype(x1, c), xp.astype(x2, c))
        return out

    return [*names, *(["clip"] if dtype in CLIP else []), *casts], f, xp.jit(f)


def pow_reference(x1: np.ndarray, e: np.ndarray, expected) -> np.ndarray:
    """NumPy's ``pow`` with C99's answer where NumPy's own answer depends on its loop.

    When the exponent is broadcast (a stride-0 loop), NumPy computes ``x ** 0.5`` as
    ``sqrt(x)``: NaN for -inf and -0.0 for -0.0, where its other loops and C99's pow
    (the kernels) give inf and 0.0. There the reference is NumPy's general loop.
    """
    expected = np.asarray(expected)
    if expected.dtype.kind != "f":
        return expected
    a, b = (np.ascontiguousarray(v) for v in np.broadcast_arrays(x1, e))
    a, b = a.astype(expected.dtype), b.astype(expected.dtype)
    fast = (b == 0.5) & ((a == -np.inf) | ((a == 0) & np.signbit(a)))
    if not fast.any():
        return expected
    with np.errstate(all="ignore"):
        return np.where(fast, np.power(a, b), expected)


def check_all(names, f, jitted, *args):
    got = jitted(*args)
    expected = eager(f, *args)
    if "pow" in expected:
        expected["pow"] = pow_reference(args[0], args[2], expected["pow"])
    for name in names:
        if name.startswith("astype"):
            for g, e in zip(got[name], expected[name]):
                check(g, e, 0, name)
        else:
            check(got[name], expected[name], _tolerance(name, args[0].dtype), name)


def test_the_tables_cover_the_standard():
    """67 elementwise functions: the registry's ops and clip (a composition)."""
    assert len(ELEMENTWISE) + 1 == 67
    for name, dtypes in DTYPES.items():
        assert dtypes, name
    assert DTYPES["bitwise_and"] == BOOL + INTEGER
    assert DTYPES["sin"] == ALL


@pytest.mark.parametrize("dtype", ALL, ids=str)
@given(data=st.data())
def test_unary(dtype, data):
    """Every unary op: empty shapes, any layout (Fortran, strided, negative strides)."""
    x = data.draw(numpy_arrays([dtype], shape=shapes(min_dims=1)), label="x")
    check_all(*unary_ops(dtype), x)


def broadcast_shapes(num_shapes: int):
    """Mutually broadcastable shapes (empty ones included) of at least one axis, whose
    last axes agree: a read constant along the last axis compiles other kernels."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=1, max_dims=3, max_side=4
    ).map(lambda b: [s[:-1] + b.result_shape[-1:] for s in b.input_shapes])


@pytest.mark.parametrize("dtype", ALL, ids=str)
@given(data=st.data())
def test_binary(dtype, data):
    """Every binary op: broadcast pairs ((n, 1, m) with (k, m)), empty shapes, any layout."""
    s1, s2 = data.draw(broadcast_shapes(2), label="shapes")
    x1 = data.draw(numpy_arrays([dtype], shape=s1), label="x1")
    x2 = data.draw(numpy_arrays([dtype], shape=s2), label="x2")
    check_all(*binary_ops(dtype), x1, x2, nonnegative(x2))


@pytest.mark.parametrize("dtype", ALL, ids=str)
def test_special_values(dtype):
    """Every op on extremes, NaN, infinities, signed zeros and subnormals; binary ops on
    every pair of them (stride-0 views of (n, 1) and (1, n) arrays)."""
    x = special_values(dtype)
    check_all(*unary_ops(dtype), x)
    check_all(*unary_ops(dtype), x[::-1])
    grid = (x.size, x.size)
    x1, x2 = np.broadcast_to(x[:, None], grid), np.broadcast_to(x[None, :], grid)
    check_all(*binary_ops(dtype), x1, x2, nonnegative(x2))
    check_all(*binary_ops(dtype), x2, x1.T.copy(), nonnegative(x1))


# Where NumPy's own answer is undefined: out-of-range float-to-integer conversions.
def _defined_cast(x: np.ndarray, target: np.dtype) -> np.ndarray:
    if x.dtype.kind != "f" or target.kind not in "iu":
        return np.ones(x.shape, bool)
    t = np.trunc(x.astype(np.float64))
    ii = np.iinfo(target)
    # Negative values wrap in unsigned targets (-2.5 -> 2**32 - 2), from int32's range.
    low = -(2.0**31) if target.kind == "u" else float(ii.min)
    return np.isfinite(t) & (t >= low) & (t < float(ii.max) + 1)


@functools.cache
def casts(source: np.dtype):
    """``astype`` from ``source`` to every other dtype (complex only to complex or bool)."""
    targets = [t for t in ALL if t != source and (source.kind != "c" or t.kind in "cb")]

    def f(x):
        return {t: xp.astype(x, t) for t in targets}

    return targets, f, xp.jit(f)


def check_casts(x: np.ndarray) -> None:
    targets, f, jitted = casts(x.dtype)
    got, expected = jitted(x), eager(f, x)
    for t in targets:
        keep = _defined_cast(x, t)
        g, e = np.asarray(got[t]), np.asarray(expected[t])
        check(g[keep], e[keep], 0, f"astype {x.dtype} -> {t}")


@pytest.mark.parametrize("dtype", ALL, ids=str)
@given(data=st.data())
def test_astype(dtype, data):
    """Casts between every pair of dtypes are exact (conversions round correctly).

    A float out of an integer's range converts to what C leaves undefined and NumPy
    gives different answers for by loop (``np.full(24, np.nan).astype(np.uint32)`` is
    2**31 each, ``np.full(1, np.nan).astype(np.uint32)`` is 0): those are not compared.
    """
    x = data.draw(numpy_arrays([dtype], shape=shapes(min_dims=1)), label="x")
    check_casts(x)


@pytest.mark.parametrize("dtype", ALL, ids=str)
def test_astype_special_values(dtype):
    x = special_values(dtype)
    if dtype.kind == "f":
        more = [-2.5, -129.0, 255.5, 65535.9, 2.0**31 - 1, 2.0**32 - 1, -(2.0**31), 1.8e19]
        x = np.concatenate([x, np.array(more, dtype)])
    check_casts(x)
    check_casts(np.repeat(x, 2)[::-2])


@functools.cache
def where_and_clip(dtype: np.dtype):
    """``maximum(x, lo)`` (clip's first step) is an output, so that whether it joins
    clip's kernel does not depend on the shapes (each way would compile a library)."""
    names = ["where", "clip", "maximum"] if dtype in CLIP else ["where"]

    def f(c, x, lo, hi):
        out = {"where": xp.where(c, x, lo)}
        if dtype in CLIP:
            out["clip"] = xp.clip(x, lo, hi)
            out["maximum"] = xp.maximum(x, lo)
        return out

    return names, f, xp.jit(f)


@pytest.mark.parametrize("dtype", ALL, ids=str)
@given(data=st.data())
def test_where_and_clip(dtype, data):
    """where and clip with four mutually broadcast arguments."""
    sc, sx, slo, shi = data.draw(broadcast_shapes(4), label="shapes")
    c = data.draw(numpy_arrays(BOOL, shape=sc), label="condition")
    x = data.draw(numpy_arrays([dtype], shape=sx), label="x")
    lo = data.draw(numpy_arrays([dtype], shape=slo), label="lo")
    hi = data.draw(numpy_arrays([dtype], shape=shi), label="hi")
    names, f, jitted = where_and_clip(dtype)
    got, expected = jitted(c, x, lo, hi), eager(f, c, x, lo, hi)
    for name in names:
        check(got[name], expected[name], 0, name)


def _where(x1, x2, c):
    return xp.where(c, x1, x2)


@given(data=st.data())
@settings(max_examples=20)
def test_binary_mixed_dtypes(data):
    """Inputs of two dtypes are cast to the loop's dtype inside the op's kernel (each
    example compiles one: a few only)."""
    name = data.draw(st.sampled_from([*BINARY, "where"]), label="op")
    dtypes = ALL if name == "where" else DTYPES[name]
    pairs = [
        (a, b)
        for a in dtypes
        for b in dtypes
        if a != b and (name == "where" or _accepts(name, a, b))
    ]
    d1, d2 = data.draw(st.sampled_from(pairs), label="dtypes")
    s1, s2, sc = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=1, max_dims=3, max_side=4),
        label="shapes",
    ).input_shapes
    x1 = data.draw(numpy_arrays([d1], shape=s1), label="x1")
    x2 = data.draw(numpy_arrays([d2], shape=s2), label="x2")
    c = data.draw(numpy_arrays(BOOL, shape=sc), label="condition")
    if name == "pow":
        x2 = nonnegative(x2)
    f = _where if name == "where" else getattr(xp, name)
    args = (x1, x2, c) if name == "where" else (x1, x2)
    expected = eager(f, *args)
    if name == "pow":
        expected = pow_reference(x1, x2, expected)
    check(_jitted(f)(*args), expected, _tolerance(name, expected.dtype), name)


@functools.cache
def _jitted(f):
    return xp.jit(f)


@functools.cache
def last_axis_chain(dtype: np.dtype):
    def f(x, y):
        return xp.where(xp.less(x, y), xp.maximum(x, y) * y, xp.minimum(y, x) + x)

    return f, xp.jit(f)


@pytest.mark.parametrize("dtype", [d for d in ALL if d.kind != "c"], ids=str)
@given(data=st.data())
def test_broadcast_along_the_last_axis(dtype, data):
    """Reads constant along the last axis ((n, 1) with (1, m), (n, 1) with (n, m)) are
    loaded once per row; any other read pattern, empty shapes and layouts as well."""
    s1, s2 = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=4),
        label="shapes",
    ).input_shapes
    x = data.draw(numpy_arrays([dtype], shape=s1), label="x")
    y = data.draw(numpy_arrays([dtype], shape=s2), label="y")
    f, jitted = last_axis_chain(dtype)
    check(jitted(x, y), eager(f, x, y))


# ----------------------------------------------------------------------------- 0-d and scalars
def python_scalars(dtype: np.dtype):
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        ii = np.iinfo(dtype)
        return st.integers(int(ii.min), int(ii.max))
    return st.floats() | st.sampled_from([-0.0, 0.5, 3.0])


@functools.cache
def with_scalars(dtype: np.dtype):
    """0-d arrays and Python scalars read inside kernels, and 0-d results."""

    def f(x, s, k):
        return {
            "array, 0-d, scalar": xp.maximum(x, s) * k + s,
            "0-d condition": xp.where(xp.less(s, x), x == k, s != k),
            "0-d result": xp.minimum(s, k) * s,
            "0-d exp": xp.exp(s),
            "scalar first": xp.add(k, xp.multiply(k, x)),
        }

    return f, xp.jit(f)


@pytest.mark.parametrize("dtype", ALL, ids=str)
@given(data=st.data())
def test_zero_d_arrays_and_python_scalars(dtype, data):
    """A 0-d array is loaded once per call; a Python scalar is a constant of the program
    in the function's dtype (``int8_array * 3`` stays int8). A new scalar re-traces but
    finds its kernels compiled."""
    x = data.draw(numpy_arrays([dtype], shape=shapes(min_dims=1)), label="x")
    s = data.draw(numpy_arrays([dtype], shape=()), label="s")
    k = data.draw(python_scalars(dtype), label="k")
    f, jitted = with_scalars(dtype)
    got, expected = jitted(x, s, k), eager(f, x, s, k)
    for what, value in expected.items():
        ulps = ULPS if "exp" in what or dtype.kind == "c" else 0
        check(got[what], value, ulps, what)
    if dtype.kind != "c":
        assert all(backend != "numpy" for _, backend in lines(jitted.lower(x, s, k)))


def test_new_scalar_values_reuse_kernels():
    f = xp.jit(lambda x, k: x * k + 1.0)
    x = np.arange(5.0)
    np.asarray(f(x, 2.0))
    built = c_backend.compiles
    for k in (3.0, -0.0, float("nan"), float("inf")):
        with np.errstate(invalid="ignore"):
            check(f(x, k), x * k + 1.0)
    check(f(np.arange(12.0).reshape(3, 4).T, 2.5), np.arange(12.0).reshape(3, 4).T * 2.5 + 1)
    assert c_backend.compiles == built


# ----------------------------------------------------------------------------- fusion
def one_kernel(lowered) -> str:
    """The name of the single kernel computing every node of ``lowered``."""
    backends = {backend for _, backend in lines(lowered)}
    assert len(backends) == 1 and next(iter(backends)).startswith("c "), lowered.as_text()
    return next(iter(backends))[2:]


@pytest.mark.parametrize("dtype", REAL_FLOAT, ids=str)
def test_fused_chains_are_one_kernel(dtype):
    chains = {
        "sigmoid": lambda x: 1 / (1 + xp.exp(-x)),
        "polynomial": lambda x: (x - 4) * (x**2 + 6),
        "x**10 as multiplies": lambda x: x * x * x * x * x * x * x * x * x * x,
        "softplus": lambda x: xp.where(x > 20, x, xp.log1p(xp.exp(xp.minimum(x, 20)))),
    }
    x = np.concatenate([special_values(dtype), np.linspace(-30, 30, 101, dtype=dtype)])
    for what, chain in chains.items():
        jitted = xp.jit(chain)
        name = one_kernel(jitted.lower(x))
        assert name in jitted.lower(x).source()
        exact = what == "x**10 as multiplies"
        check(jitted(x), eager(chain, x), 0 if exact else 2 * ULPS, what)
        check(jitted(x[::-3]), eager(chain, x[::-3]), 0 if exact else 2 * ULPS, what)


def kernels_of(lowered) -> dict[str, list[str]]:
    """The ops each kernel of ``lowered`` computes, by kernel name."""
    out: dict[str, list[str]] = {}
    for op, backend in lines(lowered):
        if backend != "numpy":
            out.setdefault(backend[2:], []).append(op)
    return out


@pytest.mark.parametrize("dtype", REAL_FLOAT, ids=str)
def test_results_over_the_same_shape_come_from_one_loop(dtype):
    """A value and its derivative (sharing ``x**2``), plus a comparison of another dtype:
    one kernel reading ``x`` once and storing three results."""

    def f(x):
        return (x - 4) * (x**2 + 6), 3 * x**2 - 8 * x + 6, x**2 > 2

    jitted = xp.jit(f)
    x = np.concatenate([special_values(dtype), np.linspace(-30, 30, 101, dtype=dtype)])
    name = one_kernel(jitted.lower(x))
    assert name in jitted.lower(x).source()
    for args in ((x,), (x[::-3],), (np.broadcast_to(x[:1], (7,)),)):
        for g, e in zip(jitted(*args), eager(f, *args)):
            check(g, e, 2 * ULPS)
    big = np.linspace(-3, 3, 200_099, dtype=dtype).reshape(401, 499)
    for g, e in zip(jitted(big.T), eager(f, big.T)):
        check(g, e, 2 * ULPS)


def test_a_reduction_between_row_passes_makes_one_row_kernel():
    """``exp(x)`` feeds a row sum that the division reads: one loop cannot compute the
    division before the sum exists, so the row kernel runs them as passes over each
    row in turn (exps, their sum, the division). ``x + 1`` and ``e * 2`` join it."""

    def f(x):
        e = xp.exp(x)
        return e / xp.sum(e, axis=1, keepdims=True), x + 1, e * 2

    jitted = xp.jit(f, exclude_rewrites="stabilize")  # the softmax as written
    x = np.random.default_rng(8).standard_normal((30, 40))
    kernels = kernels_of(jitted.lower(x))
    assert list(map(sorted, kernels.values())) == [["add", "divide", "exp", "multiply", "sum"]]
    for g, e in zip(jitted(x), eager(f, x)):
        check(g, e, 2 * ULPS)


def test_a_merged_kernel_runs_after_what_its_later_results_read():
    """The second result reads a NumPy step (a reshape of the first kernel's work) so
    they cannot merge; and a kernel merged from two whose reads are ready at different
    points of the schedule runs once all of them are."""

    def f(x, y):
        a = xp.exp(x)
        r = xp.reshape(a, (-1,))
        t = xp.reshape(y * 2, (4, 3))
        return a + 1, xp.sum(r), x - t, xp.reshape(r, (4, 3)) + x

    jitted = xp.jit(f)
    x, y = np.arange(12.0).reshape(4, 3) / 7, np.arange(12.0)
    for g, e in zip(jitted(x, y), eager(f, x, y)):
        check(g, e, 2 * ULPS)


@pytest.mark.parametrize("dtype", REAL_FLOAT, ids=str)
def test_constant_exponents(dtype):
    """``x ** k`` for a constant k: NumPy's fast paths (-1, 0, 0.5, 1, 2) exactly, small
    integer powers (multiplication chains) and any other within ``ULPS`` of ``pow``."""
    rng = np.random.default_rng(5)
    x = np.concatenate([special_values(dtype), rng.uniform(-3, 3, 3000).astype(dtype)])
    x = np.concatenate([x, (10.0 ** rng.uniform(-40, 40, 3000)).astype(dtype)])
    for k in (-1, 0, 0.5, 1, 2, 3, 4, 7, 10, 15, 16, 17, -2, 2.5, -0.5):

        def power(x, k=k):
            return x**k

        jitted = xp.jit(power, exclude_rewrites="all")  # the backend's own pow forms
        assert [b[:2] for _, b in lines(jitted.lower(x))] == ["c "], k
        check(jitted(x), eager(power, x), 0 if k in (-1, 0, 0.5, 1, 2) else ULPS, f"x ** {k}")


@pytest.mark.parametrize("dtype", ["int32", "uint8", "int64"])
def test_fused_integer_chain(dtype):
    """Integer arithmetic wraps as NumPy's does, shifts past the width included."""

    def chain(x, y):
        return ((x - 4) * (x * x + 6) // (y | 1) % 7) ^ (x << (y & 7)) >> 1

    jitted = xp.jit(chain)
    rng = np.random.default_rng(0)
    ii = np.iinfo(dtype)
    x = rng.integers(ii.min, ii.max, (7, 9), dtype=dtype, endpoint=True)
    y = rng.integers(ii.min, ii.max, (7, 9), dtype=dtype, endpoint=True)
    one_kernel(jitted.lower(x, y))
    check(jitted(x, y), eager(chain, x, y))
    check(jitted(x.T[::-1].T, y[::-1]), eager(chain, x.T[::-1].T, y[::-1]))
    # (A node of a smaller shape, y[0] | 1 here, is computed once, in its own kernel.)
    check(jitted(x, y[0]), eager(chain, x, y[0]))


def test_outer_broadcast_is_not_materialized():
    """(n, 1) with (1, m): one kernel reads both inputs with stride-0 axes; nothing of
    size n * m exists but the result."""

    def f(a, b):
        return xp.sqrt(xp.abs(a - b)) * a + b

    a = np.linspace(-1, 1, 500)[:, None]
    b = np.linspace(-2, 2, 400)[None, :]
    jitted = xp.jit(f)
    lowered = jitted.lower(a, b)
    assert "broadcast_to" not in lowered.as_text()
    one_kernel(lowered)
    np.asarray(jitted(a, b))  # warm
    tracemalloc.start()
    try:
        out = np.asarray(jitted(a, b))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * out.nbytes, peak
    check(out, eager(f, a, b))


# ----------------------------------------------------------------------------- fallback
def test_complex_ops_fall_back_to_numpy():
    def f(z, x):
        w = z * z + xp.exp(z)
        return xp.abs(w) + x, xp.real(w) * 2.0, xp.astype(x, xp.complex128) * z

    rng = np.random.default_rng(1)
    z = (rng.standard_normal((4, 5)) + 1j * rng.standard_normal((4, 5))).astype(np.complex128)
    z[0, :3] = [complex("nan+1j"), complex("inf-infj"), -0.0j]
    x = rng.standard_normal(5)
    backends = lines(xp.jit(f).lower(z, x))
    numpy_ops = {op for op, backend in backends if backend == "numpy"}
    assert {"exp", "multiply", "abs", "real", "astype"} <= numpy_ops, backends
    assert any(backend.startswith("c ") for _, backend in backends), backends  # abs(w) + x
    got, expected = xp.jit(f)(z, x), eager(f, z, x)
    for g, e in zip(got, expected):
        check(g, e, ULPS)


def test_integer_pow_falls_back_to_numpy():
    f = xp.jit(lambda a, b: a**b + 1)
    a = np.arange(-5, 5, dtype=np.int64)
    b = np.arange(10, dtype=np.int64)[::-1]
    (pow_op, pow_backend), (add_op, add_backend) = lines(f.lower(a, b))
    assert (pow_op, pow_backend, add_op) == ("pow", "numpy", "add")
    assert add_backend.startswith("c ")
    check(f(a, b), a**b + 1)
    with pytest.raises(ValueError, match="negative"):
        np.asarray(f(a, -b))


def test_int64_with_uint64_comparisons_fall_back_to_numpy():
    """NumPy compares int64 with uint64 exactly (no float64 loop): so does jit."""
    names = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]

    def f(a, u):
        return {n: getattr(xp, n)(a, u) for n in names} | {"add": a + u}

    a = special_values(np.dtype("int64"))[:, None]
    u = special_values(np.dtype("uint64"))[None, :]
    jitted = xp.jit(f)
    backends = lines(jitted.lower(a, u))
    assert {op for op, backend in backends if backend == "numpy"} == set(names), backends
    got, expected = jitted(a, u), eager(f, a, u)
    for n in names:
        check(got[n], expected[n], 0, n)
        check(got[n], getattr(np, n)(a, u), 0, n)
    check(got["add"], expected["add"], 0, "add")


@pytest.mark.parametrize("dtype", ALL, ids=str)
def test_what_runs_in_c(dtype):
    """Every op with a C form runs in a kernel; only the documented ones fall back."""
    if dtype.kind == "c":
        expected = set(UNARY + BINARY)
    elif dtype.kind in "biu":
        expected = {"pow", "reciprocal"}
    else:
        expected = set()
    x = special_values(dtype)
    for names, _, jitted, args in (
        (*unary_ops(dtype), (x,)),
        (*binary_ops(dtype), (x, x, x)),
    ):
        backends = lines(jitted.lower(*args))
        ops = {op for op, _ in backends}
        assert {op for op, b in backends if b == "numpy"} == expected & ops, backends
        assert {n for n in names if n != "clip" and not n.startswith("astype")} <= ops


# ----------------------------------------------------------------------------- mixed work
def test_reductions_mixed_with_elementwise_work():
    """Reductions run through NumPy between kernels that read their results broadcast."""

    def standardize(x):
        m = xp.mean(x, axis=0)
        s = xp.sqrt(xp.mean((x - m) ** 2, axis=0))
        z = (x - m) / s
        return z, xp.sum(xp.exp(-z * z / 2), axis=1), xp.max(xp.abs(z)) + xp.min(x)

    rng = np.random.default_rng(2)
    x = rng.standard_normal((50, 30)) * 3 + 1
    jitted = xp.jit(standardize)
    backends = lines(jitted.lower(x))
    assert {op for op, b in backends if b.startswith("c ")} >= {"subtract", "divide", "exp"}
    assert {op for op, _ in backends} >= {"sum", "max", "min"}
    for layout in (x, x.T.copy().T, x[::-1]):
        for got, expected in zip(jitted(layout), eager(standardize, layout)):
            # The reductions sum values that differ by ulps (pow, exp): relative error.
            np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-12)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_large_arrays(threads, monkeypatch):
    """Over 65536 elements kernels run on OpenMP threads: contiguous (one flat loop),
    transposed, reversed and broadcast inputs (a loop over rows)."""
    monkeypatch.setenv("LAZYARR_NUM_THREADS", threads)

    def f(x, y, n):
        return 1 / (1 + xp.exp(-x * y)), (n >> 3) ^ (n * 7), xp.where(x > y, n, -n)

    jitted = xp.jit(f)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 260))
    n = rng.integers(-(2**40), 2**40, (300, 260))
    y = rng.standard_normal(260)
    cases = [
        (x, y, n),
        (x.T.copy().T, y[::-1], n[::-1]),
        (np.asfortranarray(x), rng.standard_normal((300, 1)), np.asfortranarray(n)),
        (x[:, :1], y, n),
    ]
    for args in cases:
        got, expected = jitted(*args), eager(f, *args)
        assert got[0].size > 65536
        for g, e, ulps in zip(got, expected, (2 * ULPS, 0, 0)):
            check(g, e, ulps)
    # One long strided row: a single row, on one thread.
    v = rng.standard_normal(300_000)[::-3]
    g = xp.jit(lambda v: xp.sqrt(xp.abs(v)) * 2 - v)
    check(g(v), eager(lambda v: xp.sqrt(xp.abs(v)) * 2 - v, v))


def test_multidimensional_strided_inputs():
    """4-D and 5-D inputs, permuted, sliced with negative and large steps, broadcast."""
    rng = np.random.default_rng(4)

    def f(a, b, c):
        return xp.where(c, a * b - xp.floor(a), xp.maximum(a, b)), (a + b) / 3

    base = rng.standard_normal((6, 5, 8, 7))
    a = base.transpose(2, 0, 3, 1)[::-2, 1:, ::3, :]  # (4, 5, 3, 5)
    b = rng.standard_normal((5, 9, 1)).transpose(1, 2, 0)[::-2]  # (5, 1, 5)
    c = rng.integers(0, 2, (4, 1, 3, 5, 2)).astype(bool)[..., 0]  # (4, 1, 3, 5)
    jitted = xp.jit(f)
    for args in ((a, b, c), (a[None], b, c), (a.copy(), b.copy(), c.copy())):
        for g, e in zip(jitted(*args), eager(f, *args)):
            check(g, e)


def test_misaligned_and_odd_stride_inputs():
    """Inputs whose strides are no multiple of the itemsize, or misaligned ones."""
    rec = np.zeros(1000, dtype=[("a", "i4"), ("b", "f8")])
    rec["b"] = np.linspace(-3, 3, 1000)
    raw = np.zeros(8 * 1000 + 1, np.uint8)
    misaligned = raw[1:].view(np.float64)
    misaligned[:] = np.linspace(5, -5, 1000)

    def f(x, y):
        return xp.sqrt(xp.abs(x)) * y + x

    jitted = xp.jit(f)
    for x, y in ((rec["b"], misaligned), (misaligned, rec["b"][::-1])):
        check(jitted(x, y), eager(f, x, y))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint8])
def test_arg_reductions_over_the_last_axis_compile_and_match(name, dtype):
    """First occurrence on ties; the first NaN wins, as in NumPy; fused with the producer."""
    rng = np.random.default_rng(3)
    x = np.round(rng.standard_normal((6, 300)) * 3).astype(dtype)  # many ties
    if x.dtype.kind == "f":
        x[1, 7] = x[1, 50] = np.nan
        x[2, 0] = np.nan
    f = xp.jit(lambda x: getattr(xp, name)(x * 1, axis=-1, keepdims=True))
    assert "[numpy]" not in f.lower(x).as_text().split(name)[1].splitlines()[0]
    got = f(x)
    expected = getattr(np, name)(x * 1, axis=-1, keepdims=True)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(np.asarray(got), expected)


@pytest.mark.parametrize("name", ["all", "any"])
@pytest.mark.parametrize("dtype", [np.bool_, np.float64, np.int16])
def test_logical_reductions_over_the_last_axis_compile_and_match(name, dtype):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((7, 200)) > 1.5).astype(dtype)
    x[0] = 1
    x[1] = 0
    if x.dtype.kind == "f":
        x[2, 3] = np.nan  # NaN is true
    f = xp.jit(lambda x: getattr(xp, name)(x != 0, axis=-1))
    assert "[numpy]" not in f.lower(x).as_text()
    np.testing.assert_array_equal(np.asarray(f(x)), getattr(np, name)(x != 0, axis=-1))
    g = xp.jit(lambda x: getattr(xp, name)(x, axis=-1, keepdims=True))
    np.testing.assert_array_equal(np.asarray(g(x)), getattr(np, name)(x, axis=-1, keepdims=True))


@pytest.mark.parametrize("shape", [(7, 3), (30, 100), (4, 5, 6), (9, 1), (3, 4, 1)])
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "argmax", "any"])
def test_reductions_over_any_one_axis_compile_and_match_numpy_exactly(shape, name):
    """Over the innermost varying axis NumPy sums pairwise, over others row by row;
    the kernels add in the same order, so float sums are bit-identical."""
    rng = np.random.default_rng(5)
    for dtype in (np.float32, np.float64, np.int32):
        x = (rng.standard_normal(shape) * 3).astype(dtype)
        for axis in range(len(shape)):
            f = xp.jit(lambda x, axis=axis: getattr(xp, name)(x * 1, axis=axis))
            text = f.lower(x).as_text()
            assert f"{name if name != 'mean' else 'sum'}(" in text
            # NOTE: the mean of integers sums through a cast to float64, in NumPy's buffered
            # order; that reduction stays with NumPy.
            assert "[numpy]" not in text or (name == "mean" and x.dtype.kind == "i")
            got, expected = f(x), getattr(np, name)(x * 1, axis=axis)
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(np.asarray(got), expected)


@pytest.mark.parametrize(
    "source, target",
    [("uint64", "float64"), ("float64", "int64"), ("uint32", "float32"), ("float32", "int32")],
)
def test_bitcast_reads_the_same_bits_as_numpy_view(source, target):
    from lazyarr._builder import apply

    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**63, size=(7, 5), dtype=np.int64).astype(np.uint64)
    x = bits.view(np.float64).astype(source) if source.startswith("float") else bits
    x = np.ascontiguousarray(x.astype(source)[:, ::-2])  # negative strides, then contiguous
    for value in (x, x[::-1, ::2]):
        f = xp.jit(lambda v: apply(REGISTRY["bitcast"], (v._node,), dtype=np.dtype(target)))
        assert "c lz_" in f.lower(value).as_text()
        assert np.asarray(f(value)).tobytes() == value.view(target).tobytes()


def test_merging_kernels_never_makes_a_cycle_through_an_earlier_merge():
    # B reads A through a NumPy step; C merges into B; D reads B and would merge into A.
    @xp.jit
    def f(x, y):
        a1 = x * 2.0
        b1 = xp.flip(a1)[:2] * 3.0
        c2 = y * 5.0
        a2 = xp.concat([xp.flip(c2), y]) + 1.0
        return b1, a2

    b1, a2 = f(xp.asarray([1.0, 2.0, 3.0, 4.0]), xp.asarray([1.0, 2.0]))
    np.testing.assert_array_equal(np.asarray(b1), [24.0, 18.0])
    np.testing.assert_array_equal(np.asarray(a2), [11.0, 6.0, 2.0, 3.0])
