"""C expressions for elementwise ops, and the source of fused elementwise kernels.

Each op's C form reproduces its NumPy reference, edge cases included (NaN
propagation in maximum, Python's floor division, shifts past the word size).
An op or dtype without a C form here (complex numbers, integer powers) is not
fused; it runs through NumPy inside the compiled function instead.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

import numpy as np

from .._graph import Node

C_TYPES = {
    np.dtype("bool"): "uint8_t",
    np.dtype("int8"): "int8_t",
    np.dtype("int16"): "int16_t",
    np.dtype("int32"): "int32_t",
    np.dtype("int64"): "int64_t",
    np.dtype("uint8"): "uint8_t",
    np.dtype("uint16"): "uint16_t",
    np.dtype("uint32"): "uint32_t",
    np.dtype("uint64"): "uint64_t",
    np.dtype("float32"): "float",
    np.dtype("float64"): "double",
}

# Functions of math.h, by array API name; float32 uses the "f" variants.
_MATH = {
    "exp": "exp",
    "expm1": "expm1",
    "log": "log",
    "log1p": "log1p",
    "log2": "log2",
    "log10": "log10",
    "sqrt": "sqrt",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "asin": "asin",
    "acos": "acos",
    "atan": "atan",
    "sinh": "sinh",
    "cosh": "cosh",
    "tanh": "tanh",
    "asinh": "asinh",
    "acosh": "acosh",
    "atanh": "atanh",
    "ceil": "ceil",
    "floor": "floor",
    "trunc": "trunc",
    "round": "nearbyint",
    "abs": "fabs",
    "atan2": "atan2",
    "hypot": "hypot",
    "copysign": "copysign",
    "nextafter": "nextafter",
    "pow": "pow",
}


def _glibc() -> tuple[int, ...]:
    """The C library's glibc version, () elsewhere (musl, macOS)."""
    try:
        name, _, version = (os.confstr("CS_GNU_LIBC_VERSION") or "").partition(" ")
        return tuple(int(p) for p in version.split(".")[:2]) if name == "glibc" else ()
    except (ValueError, OSError, AttributeError):
        return ()


# Vector variants that glibc's libmvec provides: declaring them lets the compiler
# vectorize loops that call them (as -ffast-math would, without its other effects).
# Their error bound is 4 ulp, as for the scalar functions of glibc's math library.
_VECTOR_MATH = {"exp": 1, "log": 1, "sin": 1, "cos": 1, "pow": 2}
if _glibc() >= (2, 35):  # tanh, log1p, expm1 joined libmvec in glibc 2.35
    _VECTOR_MATH.update({"tanh": 1, "log1p": 1, "expm1": 1})

_BINARY_OPERATORS = {
    "add": "+",
    "subtract": "-",
    "multiply": "*",
    "divide": "/",
    "equal": "==",
    "not_equal": "!=",
    "less": "<",
    "less_equal": "<=",
    "greater": ">",
    "greater_equal": ">=",
    "bitwise_and": "&",
    "bitwise_or": "|",
    "bitwise_xor": "^",
}
_IDENTITY_ON_INTEGERS = ("ceil", "floor", "trunc", "round", "positive", "real", "conj")

PRELUDE = (
    r"""
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <limits.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GLIBC__)
"""
    + "".join(
        f'__attribute__((simd("notinbranch"))) double {f}({", ".join(["double"] * n)});\n'
        f'__attribute__((simd("notinbranch"))) float {f}f({", ".join(["float"] * n)});\n'
        for f, n in _VECTOR_MATH.items()
    )
    + r"""#endif

#ifdef __FP_FAST_FMAF
#define LZ_FMAF(a, b, c) __builtin_fmaf(a, b, c)
#else
#define LZ_FMAF(a, b, c) ((a) * (b) + (c))
#endif
#ifdef __FP_FAST_FMA
#define LZ_FMA(a, b, c) __builtin_fma(a, b, c)
#else
#define LZ_FMA(a, b, c) ((a) * (b) + (c))
#endif

/* exp without branches or calls, so that it vectorizes inline, inside reduction loops
   too, within 1 ulp of the true value (1.2 for float without FMA; glibc's libmvec: 4).
   exp(x) = 2^k exp(r) with k = round(x / ln 2) and |r| <= ln 2 / 2, exp(r) from a
   minimax polynomial (degree 6 for float, 11 for double, fitted to relative error).
   ln 2 is split in two (Cody-Waite), the first part short enough that k times it is
   exact without FMA.
   x is clamped as an integer (the bits of floats order like integers, negative ones
   in reverse), where min is one instruction: a float compare and select lets the
   compiler thread the clamped lanes' constants through the rest as separate paths,
   which it then cannot if-convert, so the loop does not vectorize. NaN skips the clamp.
   The polynomial gives 2 exp(r) and the exponent bits build 2^(k-1), so that the
   largest finite results need no 2^128 (2^1024) and larger x overflow to inf. Results
   below the normal range are built 2^64 (2^512) larger and scaled down by one
   multiplication, which rounds them to subnormals once; below the smallest subnormal,
   to 0. The selects are of integers (a select of a float factor is distributed into
   masked multiplications). */
static inline __attribute__((always_inline)) float lz_expf(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    const uint32_t c = u < 0xc2d00000u ? u : 0xc2d00000u; /* x >= -104 */
    const int32_t b = (int32_t)c < 0x42b18000 ? (int32_t)c : 0x42b18000; /* x <= 88.75 */
    const int32_t a = (u & 0x7fffffffu) > 0x7f800000u ? (int32_t)u : b;
    float y;
    memcpy(&y, &a, sizeof y);
    const float t = LZ_FMAF(y, 0x1.715476p+0f, 0x1.8p23f); /* k in the low bits */
    const float n = t - 0x1.8p23f;
    float r = LZ_FMAF(n, -0x1.62e4p-1f, y);
    r = LZ_FMAF(n, -0x1.7f7d1cp-20f, r);
    float q = LZ_FMAF(0x1.6a1a6ep-9f, r, 0x1.123fc6p-6f);
    q = LZ_FMAF(q, r, 0x1.555916p-4f);
    q = LZ_FMAF(q, r, 0x1.55548ap-2f);
    q = LZ_FMAF(q, r, 0x1.fffffcp-1f);
    q = LZ_FMAF(q, r, 2.0f);
    const float p = LZ_FMAF(q, r, 2.0f);
    int32_t k;
    memcpy(&k, &t, sizeof k); /* 0x4b400000 + k */
    const int tiny = k < 0x4b400000 - 125;
    const int32_t e = (tiny ? k + (126 + 64 - 0x4b400000) : k + (126 - 0x4b400000)) << 23;
    const int32_t g = tiny ? 0x3f800000 - (64 << 23) : 0x3f800000;
    float s, f;
    memcpy(&s, &e, sizeof s);
    memcpy(&f, &g, sizeof f);
    return p * s * f;
}
static inline __attribute__((always_inline)) double lz_exp(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    const uint64_t c = u < 0xc087500000000000u ? u : 0xc087500000000000u; /* x >= -746 */
    const int64_t b = (int64_t)c < 0x40862e51eb851eb8 ? (int64_t)c : 0x40862e51eb851eb8;
    const int64_t a = (u & 0x7fffffffffffffffu) > 0x7ff0000000000000u ? (int64_t)u : b;
    double y;
    memcpy(&y, &a, sizeof y);
    const double t = LZ_FMA(y, 0x1.71547652b82fep+0, 0x1.8p52);
    const double n = t - 0x1.8p52;
    double r = LZ_FMA(n, -0x1.62e42fee00000p-1, y);
    r = LZ_FMA(n, -0x1.a39ef35793c76p-33, r);
    double q = LZ_FMA(0x1.ad7e92f54d542p-26, r, 0x1.28ae34ee59bbfp-22);
    q = LZ_FMA(q, r, 0x1.71df271ae650bp-19);
    q = LZ_FMA(q, r, 0x1.a0199943bd070p-16);
    q = LZ_FMA(q, r, 0x1.a01a0128ff3dap-13);
    q = LZ_FMA(q, r, 0x1.6c16c1847006cp-10);
    q = LZ_FMA(q, r, 0x1.1111111128170p-7);
    q = LZ_FMA(q, r, 0x1.5555555550753p-5);
    q = LZ_FMA(q, r, 0x1.55555555554f8p-3);
    q = LZ_FMA(q, r, 0x1.000000000000ap-1);
    const double p = 2.0 + 2.0 * LZ_FMA(q, r * r, r);
    int64_t k;
    memcpy(&k, &t, sizeof k); /* 0x4338000000000000 + k */
    const int tiny = k < 0x4338000000000000 - 1021;
    const int64_t e = (tiny ? k + (1022 + 512 - 0x4338000000000000)
                            : k + (1022 - 0x4338000000000000)) << 52;
    const int64_t g = tiny ? 0x3ff0000000000000 - ((int64_t)512 << 52) : 0x3ff0000000000000;
    double s, f;
    memcpy(&s, &e, sizeof s);
    memcpy(&f, &g, sizeof f);
    return p * s * f;
}

/* NumPy's float floor division and remainder (npy_divmod): Python's conventions,
   except that an infinite operand with a finite one gives the quotient itself, as the
   standard says (inf // 2 is inf, 1 // -inf is -0). And NumPy's logaddexp, bit for bit,
   with selects for its branches: vectorized, a branch costs both sides' exp and log1p. */
#define LZ_DIVMOD(T, SUFFIX)                                                     \
static inline T lz_floordiv_##SUFFIX(T a, T b) {                                 \
    if (!b || isinf(a) != isinf(b)) return a / b; /* the standard's infinities */ \
    T mod = fmod##SUFFIX(a, b), div = (a - mod) / b, floordiv;                   \
    if (mod) { if ((b < 0) != (mod < 0)) div -= 1; }                             \
    if (div) { floordiv = floor##SUFFIX(div); if (div - floordiv > 0.5) floordiv += 1; } \
    else floordiv = copysign##SUFFIX(0, a / b);                                  \
    return floordiv;                                                             \
}                                                                                \
static inline T lz_remainder_##SUFFIX(T a, T b) {                                \
    if (!b) return fmod##SUFFIX(a, b);                                           \
    T mod = fmod##SUFFIX(a, b);                                                  \
    if (mod) { if ((b < 0) != (mod < 0)) mod += b; }                             \
    else mod = copysign##SUFFIX(0, b);                                           \
    return mod;                                                                  \
}                                                                                \
static inline T lz_logaddexp_##SUFFIX(T x, T y) {                                \
    const T d = x - y, r = (d > 0 ? x : y) + log1p##SUFFIX(exp##SUFFIX(-fabs##SUFFIX(d))); \
    return x == y ? x + (T)0.693147180559945309417232121458176568 : d == d ? r : d; \
}
LZ_DIVMOD(double, )
LZ_DIVMOD(float, f)

/* The same bits as another type of the same size (memcpy: defined, and vectorized). */
#define LZ_BITCAST(A, B)                                                         \
static inline B lz_bitcast_##A##_##B(A x) { B y; memcpy(&y, &x, sizeof y); return y; }
LZ_BITCAST(uint64_t, double)
LZ_BITCAST(double, uint64_t)
LZ_BITCAST(int64_t, double)
LZ_BITCAST(double, int64_t)
LZ_BITCAST(uint32_t, float)
LZ_BITCAST(float, uint32_t)
LZ_BITCAST(int32_t, float)
LZ_BITCAST(float, int32_t)
LZ_BITCAST(uint64_t, int64_t)
LZ_BITCAST(int64_t, uint64_t)
LZ_BITCAST(uint32_t, int32_t)
LZ_BITCAST(int32_t, uint32_t)

/* NumPy's integer floor division and remainder: zero divisors give 0. */
#define LZ_INTDIV(T, MIN)                                                        \
static inline T lz_floordiv_##T(T a, T b) {                                      \
    if (b == 0) return 0;                                                        \
    if (MIN && a == (T)MIN && b == (T)-1) return a;                              \
    T q = a / b;                                                                 \
    if (((a > 0) != (b > 0)) && q * b != a) q -= 1;                              \
    return q;                                                                    \
}                                                                                \
static inline T lz_remainder_##T(T a, T b) {                                     \
    if (b == 0) return 0;                                                        \
    if (MIN && a == (T)MIN && b == (T)-1) return 0;                              \
    T r = a % b;                                                                 \
    if (r != 0 && ((r < 0) != (b < 0))) r += b;                                  \
    return r;                                                                    \
}
LZ_INTDIV(int8_t, INT8_MIN)
LZ_INTDIV(int16_t, INT16_MIN)
LZ_INTDIV(int32_t, INT32_MIN)
LZ_INTDIV(int64_t, INT64_MIN)
LZ_INTDIV(uint8_t, 0)
LZ_INTDIV(uint16_t, 0)
LZ_INTDIV(uint32_t, 0)
LZ_INTDIV(uint64_t, 0)
"""
)


def _math(name: str, dtype: np.dtype) -> str:
    return _MATH[name] + ("f" if dtype == np.float32 else "")


def expression(node: Node, args: Sequence[str]) -> str | None:
    """The C expression computing ``node`` from its inputs' C expressions, or None."""
    op = node.op.name
    ins = [i.dtype for i in node.inputs]
    if node.dtype not in C_TYPES or any(d not in C_TYPES for d in ins):
        return None
    if op == "astype":
        return _cast(args[0], ins[0], node.dtype)
    if op == "where":
        return f"({args[0]} ? {args[1]} : {args[2]})"
    if op == "bitcast":
        return f"lz_bitcast_{C_TYPES[ins[0]]}_{C_TYPES[node.dtype]}({args[0]})"
    if len(set(ins)) != 1:
        return None  # mixed loops (int64 with uint64) stay with NumPy's exact rules
    t = ins[0]
    kind = t.kind
    a = args[0]
    b = args[1] if len(args) > 1 else None
    ctype = C_TYPES[t]
    if kind == "f":
        exponent = baked_exponent(node)
        if exponent is not None:
            return _power(a, exponent, ctype, t)
        if op == "exp":
            return f"lz_exp{'f' if t == np.float32 else ''}({a})"
        if op in _MATH and op != "abs":
            return f"{_math(op, t)}({', '.join(args)})"
        float_forms = {
            "abs": f"{_math('abs', t)}({a})",
            "negative": f"(-{a})",
            "positive": f"(+{a})",
            "square": f"({a} * {a})",
            "reciprocal": f"(({ctype})1 / {a})",
            "sign": f"({a} > 0 ? ({ctype})1 : ({a} < 0 ? ({ctype})-1 : "
            f"({a} == 0 ? ({ctype})0 : {a})))",
            # NaN from either side; on ties (-0.0 with 0.0) NumPy returns the second.
            "maximum": f"(({a} > {b} || {a} != {a}) ? {a} : {b})",
            "minimum": f"(({a} < {b} || {a} != {a}) ? {a} : {b})",
            "isnan": f"({a} != {a})",
            "logical_not": f"({a} == 0)",
            "isinf": f"(isinf({a}) != 0)",
            "isfinite": f"(isfinite({a}) != 0)",
            "signbit": f"(signbit({a}) != 0)",
            "floor_divide": f"lz_floordiv_{'f' if t == np.float32 else ''}({a}, {b})",
            "remainder": f"lz_remainder_{'f' if t == np.float32 else ''}({a}, {b})",
            "logaddexp": f"lz_logaddexp_{'f' if t == np.float32 else ''}({a}, {b})",
            "real": a,
            "conj": a,
            "imag": f"(({ctype})0)",
        }
        if op in float_forms:
            return float_forms[op]
    else:
        if op in _IDENTITY_ON_INTEGERS:
            return a
        bits = t.itemsize * 8
        unsigned = "uint" + str(bits) + "_t"
        int_forms = {
            "imag": "0",
            "negative": f"(({ctype})-{a})",
            "square": f"(({ctype})({a} * {a}))",
            "maximum": f"({a} >= {b} ? {a} : {b})",
            "minimum": f"({a} <= {b} ? {a} : {b})",
            "isnan": "0",
            "isinf": "0",
            "isfinite": "1",
            "bitwise_invert": f"(({ctype})~{a})" if kind != "b" else f"(!{a})",
            "logical_not": f"({a} == 0)",
        }
        if kind in "iu":
            int_forms.update(
                {
                    "abs": f"(({ctype})({a} < 0 ? -{a} : {a}))" if kind == "i" else a,
                    "sign": f"(({ctype})(({a} > 0) - ({a} < 0)))",
                    "floor_divide": f"lz_floordiv_{ctype}({a}, {b})",
                    "remainder": f"lz_remainder_{ctype}({a}, {b})",
                    "bitwise_left_shift": f"((uint64_t){b} < {bits} ? "
                    f"({ctype})(({unsigned}){a} << {b}) : ({ctype})0)",
                    "bitwise_right_shift": f"((uint64_t){b} < {bits} ? ({ctype})({a} >> {b}) : "
                    f"({ctype})({a} < 0 ? -1 : 0))",
                }
            )
        else:
            int_forms.update({"abs": a, "add": f"({a} | {b})", "multiply": f"({a} & {b})"})
        if op in int_forms:
            return int_forms[op]
    if op in ("logical_and", "logical_or", "logical_xor"):
        symbol = {"logical_and": "&&", "logical_or": "||", "logical_xor": "!="}[op]
        return f"(({a} != 0) {symbol} ({b} != 0))"
    if op in _BINARY_OPERATORS:
        if op == "divide" and kind != "f":
            return None
        if op.startswith("bitwise") and kind == "f":
            return None
        if kind == "b" and op in ("subtract", "divide"):
            return None  # not defined for bool (the namespace refuses them)
        return f"({a} {_BINARY_OPERATORS[op]} {b})"
    return None


# Float ops whose C form is exactly rounded (or exact), as NumPy's: arithmetic, and
# what only moves bits or rounds to an integer.
_EXACTLY_ROUNDED = {
    *("abs", "negative", "positive", "square", "reciprocal", "sqrt", "sign"),
    *("ceil", "floor", "trunc", "round", "real", "imag", "conj"),
    *("add", "subtract", "multiply", "divide", "maximum", "minimum", "clip"),
    *("copysign", "nextafter", "hypot", "floor_divide", "remainder"),
    *("astype", "where", "bitcast"),
}


def exactly_rounded(node: Node) -> bool:
    """Whether ``node``'s C value is NumPy's to the bit for any input: false for the
    transcendental functions (``exp``, ``log``, ``sin``, powers other than NumPy's fast
    paths ...), each within a few ulps of the true value on both sides, not equal."""
    if node.dtype.kind != "f" or node.op.name in _EXACTLY_ROUNDED:
        return True
    if node.op.name == "pow":
        return baked_exponent(node) in (0.5, -1, 0, 1, 2)
    return False


def baked_exponent(node: Node) -> float | None:
    """The constant exponent of a float ``pow`` that compiles to multiplications (or sqrt).

    ``x**10`` becomes four multiplications instead of a call to ``pow``: small
    integer exponents are part of the kernel's code (and name), not an argument.
    A 0-d exponent of 0.5 is NumPy's own fast path to ``sqrt`` (so -0.0 stays -0.0).

    Each multiplication adds rounding error: a float64 chain for x**16 is up to 12
    ulps from NumPy's pow, x**10 up to 6, so float64 bakes exponents up to 10 only.
    float32 chains run in double (see ``_power``), within an ulp of powf up to 16.
    """
    if node.op.name != "pow" or node.dtype.kind != "f":
        return None
    e = node.inputs[1]
    if e.value is None or e.shape != ():
        return None
    v = float(e.value)
    if v == 0.5 or (v.is_integer() and -1 <= v <= (16 if node.dtype == np.float32 else 10)):
        return v
    return None


def _power(a: str, e: float, ctype: str, t: np.dtype) -> str:
    if t == np.float32 and e not in (0.5, -1, 0, 1, 2):
        # NOTE: in double, the chain's rounding errors vanish in the final rounding.
        return f"((float){_power(f'((double){a})', e, 'double', np.dtype('float64'))})"
    if e == 0.5:
        return f"{_math('sqrt', t)}({a})"
    if e == -1:
        return f"(({ctype})1 / {a})"
    if e == 0:
        return f"(({ctype})1)"
    if e == 1:
        return a
    # NOTE: the compiler merges the repeated subexpressions: x**10 is 4 multiplications.
    half = _power(a, e // 2, ctype, t)
    square = f"({half} * {half})"
    return square if e % 2 == 0 else f"({square} * {a})"


def read_class(read: Node, space: tuple) -> str:
    """How a kernel loads a read: 's' 0-d (once), 'r' constant along the last axis
    (once per row, so the inner loop still vectorizes), 'a' an array."""
    if read.shape == ():
        return "s"
    if read.shape[-1] == 1 and space and space[-1] != 1:
        return "r"
    return "a"


def _cast(a: str, source: np.dtype, target: np.dtype) -> str:
    """C's conversion, except where it leaves a value NumPy converts undefined.

    NumPy (x86-64) converts a float to uint32 or uint64 through the signed type of the
    same width, offset by half the range for large values, so negative values wrap
    (-2.5 -> 2**32 - 2) and NaN gives 2**31 (2**63), where C's direct conversion is
    undefined and AVX-512 saturates; uint8 and uint16 go through int32 in both
    already. Other out-of-range float-to-integer conversions stay undefined in both
    (x86 gives the "integer indefinite" INT_MIN; NumPy's unvectorized tail loops then
    differ from its vectorized ones).
    """
    if target == np.bool_:
        return f"({a} != 0)"
    t = C_TYPES[target]
    if source.kind == "f" and target.kind == "u" and target.itemsize >= 4:
        bits = target.itemsize * 8
        half = f"0x1p{bits - 1}"
        signed = f"int{bits}_t"
        return (
            f"({a} >= {half} ? ({t})({signed})({a} - {half}) ^ (({t})1 << {bits - 1}) "
            f": ({t})({signed}){a})"
        )
    return f"(({t}){a})"


def signature(name: str, n_reads: int, n_outs: int = 1, prefix: str = "") -> str:
    """What every kernel takes: sizes and element strides (one row of ``ndim`` per
    array read), the output, the thread count, a pointer per read, then a pointer per
    further output of a kernel that stores several results."""
    return f"void {name}({prefix}{_parameters(n_reads, n_outs)})"


def _parameters(n_reads: int, n_outs: int) -> str:
    pointers = "".join(f", const void *arg{j}" for j in range(n_reads))
    extra = "".join(f", void *out{k}" for k in range(1, n_outs))
    return (
        "int64_t ndim, const int64_t *shape, const int64_t *strides, void *out, "
        f"int64_t nthreads, int64_t parallel_min{pointers}{extra}"
    )


def dispatch(name: str, n_reads: int, n_outs: int = 1) -> str:
    """The kernel ``name``: it runs ``name_part`` (the same parameters after a part
    number and a part count, each part doing its share of the work) once on this
    thread, or once per thread when the loop is large enough to profit.

    NOTE: an OpenMP region with a false ``if`` clause still costs about 0.5 µs in
    libgomp, so small calls branch around the region instead.
    """
    arguments = ", ".join(
        ["ndim", "shape", "strides", "out", "nthreads", "parallel_min"]
        + [f"arg{j}" for j in range(n_reads)]
        + [f"out{k}" for k in range(1, n_outs)]
    )
    return "\n".join(
        [
            f"static void __attribute__((noinline)) {name}_part("
            f"int64_t part, int64_t parts, {_parameters(n_reads, n_outs)});",
            signature(name, n_reads, n_outs),
            "{",
            "    int64_t total = 1;",
            "    for (int64_t d = 0; d < ndim; d++) total *= shape[d];",
            "    if (nthreads > 1 && total >= parallel_min) {",
            "        #pragma omp parallel num_threads(nthreads)",
            f"        {name}_part(omp_get_thread_num(), omp_get_num_threads(), {arguments});",
            "    } else {",
            f"        {name}_part(0, 1, {arguments});",
            "    }",
            "}",
            "",
        ]
    )


def kernel_source(
    name: str, members: Sequence[Node], reads: Sequence[Node], results: Sequence[Node] = ()
) -> str:
    """A fused elementwise kernel computing ``members`` and storing ``results`` (by
    default the last member) in one pass.

    The kernel works for any shape and any strides: ``shape`` holds ``ndim`` sizes
    and ``strides`` one row of ``ndim`` element strides per non-scalar read (0 where
    it is broadcast). Reads of 0-d arrays are loaded once. A contiguous fast path
    runs one flat loop the compiler vectorizes; large loops run on ``nthreads``
    OpenMP threads, each taking an equal share of the elements or rows.
    """
    results = list(results) or [members[-1]]
    space = results[0].shape
    arrays = [j for j, r in enumerate(reads) if r.shape != ()]
    lines = [
        dispatch(name, len(reads), len(results)),
        signature(name + "_part", len(reads), len(results), "int64_t part, int64_t parts, "),
        "{",
    ]
    for j, r in enumerate(reads):
        t = C_TYPES[r.dtype]
        if r.shape == ():
            lines.append(f"    const {t} s{j} = *(const {t} *)arg{j};")
        else:
            lines.append(f"    const {t} *restrict a{j} = (const {t} *)arg{j};")
    for k, res in enumerate(results):
        t = C_TYPES[res.dtype]
        lines.append(f"    {t} *restrict o{k} = ({t} *)out{k or ''};")
    lines += [
        "    int64_t inner = ndim ? shape[ndim - 1] : 1, outer = 1;",
        "    for (int64_t d = 0; d + 1 < ndim; d++) outer *= shape[d];",
        "    int64_t total = outer * inner;",
        "    int flat = 1;",
    ]
    for k in range(len(arrays)):
        lines += [
            "    { int64_t expect = 1; for (int64_t d = ndim - 1; d >= 0; d--) {",
            f"        if (shape[d] != 1 && strides[{k} * ndim + d] != expect) flat = 0;",
            "        expect *= shape[d]; } }",
        ]

    def body(index: str, loads: dict[int, str], store: str = "o") -> list[str]:
        names: dict[Node, str] = {}
        out: list[str] = []
        for j, r in enumerate(reads):
            names[r] = f"s{j}" if r.shape == () else f"r{j}"
            if r.shape != ():
                out.append(f"const {C_TYPES[r.dtype]} r{j} = {loads[j]};")
        for k, m in enumerate(members):
            expr = expression(m, [names[i] for i in m.inputs])
            names[m] = f"v{k}"
            out.append(f"const {C_TYPES[m.dtype]} v{k} = {expr};")
        out.extend(f"{store}{k}[{index}] = {names[res]};" for k, res in enumerate(results))
        return out

    flat_loads = {j: f"a{j}[i]" for j in arrays}
    lines += [
        "    if (flat) {",
        "        const int64_t lo = total * part / parts, hi = total * (part + 1) / parts;",
        "        #pragma omp simd",
        "        for (int64_t i = lo; i < hi; i++) {",
        *("            " + line for line in body("i", flat_loads)),
        "        }",
        "        return;",
        "    }",
        "    const int64_t lo = outer * part / parts, hi = outer * (part + 1) / parts;",
        "    for (int64_t row = lo; row < hi; row++) {",
        "        int64_t rest = row;",
    ]
    for j in arrays:
        lines.append(f"        const {C_TYPES[reads[j].dtype]} *p{j} = a{j};")
    lines.append("        for (int64_t d = ndim - 2; d >= 0; d--) {")
    lines.append("            int64_t c = rest % shape[d]; rest /= shape[d];")
    for k, j in enumerate(arrays):
        lines.append(f"            p{j} += c * strides[{k} * ndim + d];")
    lines.append("        }")
    for k, j in enumerate(arrays):
        lines.append(f"        const int64_t t{j} = ndim ? strides[{k} * ndim + ndim - 1] : 0;")
    for k, res in enumerate(results):
        t = C_TYPES[res.dtype]
        lines.append(f"        {t} *restrict q{k} = o{k} + row * inner;")
    rows = [j for j in arrays if read_class(reads[j], space) == "r"]
    for j in rows:
        lines.append(f"        const {C_TYPES[reads[j].dtype]} h{j} = p{j}[0];")
    unit = " && ".join(f"t{j} == 1" for j in arrays if j not in rows) or "1"
    row_loads = {j: f"h{j}" if j in rows else f"p{j}[i]" for j in arrays}
    strided_loads = {j: f"h{j}" if j in rows else f"p{j}[i * t{j}]" for j in arrays}
    row_body = body("i", row_loads, "q")
    strided_body = body("i", strided_loads, "q")
    lines += [
        f"        if ({unit}) {{",
        "            #pragma omp simd",
        "            for (int64_t i = 0; i < inner; i++) {",
        *("                " + line for line in row_body),
        "            }",
        "        } else {",
        "            for (int64_t i = 0; i < inner; i++) {",
        *("                " + line for line in strided_body),
        "            }",
        "        }",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def kernel_name(
    members: Sequence[Node],
    reads: Sequence[Node],
    space: tuple = (),
    variant: str = "",
    results: Sequence[Node] = (),
) -> str:
    """A name that identifies the kernel's structure: ops, dtypes, how each read is
    loaded, baked exponents, which members it stores (never sizes, which the kernel
    takes at run time)."""
    index = {r: f"r{j}{read_class(r, space)}" for j, r in enumerate(reads)}
    parts = []
    for k, m in enumerate(members):
        index[m] = f"v{k}"
        parts.append(
            f"{m.op.name}:{m.dtype}:{m.attrs}:{baked_exponent(m)}:"
            f"{','.join(index[i] for i in m.inputs)}"
        )
    parts.append("reads:" + ",".join(str(r.dtype) for r in reads) + ":" + variant)
    parts.append("stores:" + ",".join(index[r] for r in results))
    return "lz_" + hashlib.sha256(";".join(parts).encode()).hexdigest()[:20]
