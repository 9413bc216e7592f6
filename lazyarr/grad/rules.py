"""One VJP rule per op of the registry, installed on the op records as ``op.vjp``.

A rule reads like the math: ``rule(g, y, *xs, **params)`` gets the output's
cotangent ``g``, the output ``y`` and the inputs ``xs`` as Arrays (and the node's
static parameters), and returns one cotangent per input (None: zero). Rules are
written with the namespace's own functions, so gradients are graphs of ordinary
ops. Elementwise rules may return a cotangent of the broadcast shape and in the
computation dtype: ``backward`` sums it down to the input's shape and casts it.

Complex numbers follow JAX: a rule is the transpose of the derivative without
conjugation, ``g * f'(x)`` for a holomorphic ``f``, so ``grad`` of a real
function of ``z`` is ``df/dx - i df/dy`` (the conjugate of the steepest-ascent
direction).

Conventions at points where the derivative does not exist: ``abs``, ``sign``,
``floor``, ``ceil``, ``round``, ``trunc`` and ``floor_divide`` give 0 there (the
last five everywhere); ties of ``maximum``/``minimum`` and of the ``max``/``min``
reductions share the cotangent evenly; ``sqrt`` at 0 gives +inf, its one-sided
derivative; ``hypot`` at (0, 0) gives 0.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .. import _dtypes
from .._array import Array
from .._builder import apply, broadcast_node, cast, elementwise, reshape_node, scalar_node
from .._creation_functions import arange, full, zeros
from .._elementwise_functions import (
    conj,
    copysign,
    cos,
    cosh,
    exp,
    floor,
    log,
    logical_and,
    logical_not,
    logical_or,
    sign,
    sin,
    sinh,
    sqrt,
)
from .._linear_algebra_functions import matmul, matrix_transpose
from .._manipulation_functions import concat, flip, permute_dims, reshape
from .._ops import REGISTRY, decode_key
from .._searching_functions import where
from .._sorting_functions import argsort
from .._statistical_functions import cumulative_prod, cumulative_sum, prod, reduce
from ..compile.patterns import is_literal
from .backprop import Masked, NotDifferentiable, one_hot, sum_to
from .scatter import SCATTER_ADD

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _is_complex(x: Array) -> bool:
    return _dtypes.is_complex(x.dtype)


def _scalar(x: Array) -> float | complex | None:
    """The value of a 0-d literal (the 2 of ``x**2``), else None: not of data (an
    argument, a user's array), a variable that a gradient may be taken with respect to,
    on which the gradient built here must keep depending (``b`` in ``x**b``)."""
    node = x._node
    if node.shape == () and is_literal(node):
        return node.value.item()
    return None


def _safe_divide(a: Array, b: Array) -> Array:
    """``a / b``, and 0 where ``b`` is 0 (the zero subgradient)."""
    zero = b == 0
    return where(zero, 0, a / where(zero, 1, b))


# ----------------------------------------------------------------------------- elementwise
def _abs(g, y, x):
    return g * (_safe_divide(conj(x), y) if _is_complex(x) else sign(x))


UNARY = {
    "abs": _abs,
    "acos": lambda g, y, x: -g / sqrt(1 - x * x),
    "acosh": lambda g, y, x: g / (sqrt(x - 1) * sqrt(x + 1)),
    "asin": lambda g, y, x: g / sqrt(1 - x * x),
    "asinh": lambda g, y, x: g / sqrt(x * x + 1),
    "atan": lambda g, y, x: g / (1 + x * x),
    "atanh": lambda g, y, x: g / (1 - x * x),
    "conj": lambda g, y, x: conj(g),
    "cos": lambda g, y, x: -g * sin(x),
    "cosh": lambda g, y, x: g * sinh(x),
    "exp": lambda g, y, x: g * y,
    "expm1": lambda g, y, x: g * (y + 1),
    "imag": lambda g, y, x: g * -1j,
    "log": lambda g, y, x: g / x,
    "log1p": lambda g, y, x: g / (1 + x),
    "log2": lambda g, y, x: g / (x * _LN2),
    "log10": lambda g, y, x: g / (x * _LN10),
    "negative": lambda g, y, x: -g,
    "positive": lambda g, y, x: g,
    "real": lambda g, y, x: g,
    "reciprocal": lambda g, y, x: -g * y * y,
    "sin": lambda g, y, x: g * cos(x),
    "sinh": lambda g, y, x: g * cosh(x),
    "sqrt": lambda g, y, x: g / (2 * y),
    "square": lambda g, y, x: g * (2 * x),
    "tan": lambda g, y, x: g * (1 + y * y),
    "tanh": lambda g, y, x: g * (1 - y * y),
    # Piecewise constant: zero wherever the derivative exists, and zero by convention at jumps.
    "ceil": lambda g, y, x: None,
    "floor": lambda g, y, x: None,
    "round": lambda g, y, x: None,
    "sign": lambda g, y, x: None,
    "trunc": lambda g, y, x: None,
}


def _pow(g, y, a, b):
    # NOTE: as JAX: 0 (not 0 * inf) for a zero exponent, and for the exponent where a == 0.
    db = where(a == 0, 0, g * y * log(where(a == 0, 1, a)))
    e = _scalar(b)
    if e is None:
        return where(b == 0, 0, g * b * a ** (b - 1)), db
    # A literal exponent: x**2 differentiates to 2*x, x**3 to 3*x**2.
    return None if e == 0 else g if e == 1 else g * (e * a if e == 2 else e * a ** (e - 1)), db


def _maximum(g, y, a, b):
    share = where(a == b, 0.5, where(a > b, 1.0, 0.0))  # ties split evenly
    return g * share, g * (1 - share)


def _minimum(g, y, a, b):
    share = where(a == b, 0.5, where(a < b, 1.0, 0.0))
    return g * share, g * (1 - share)


def _atan2(g, y, a, b):
    r = a * a + b * b
    return g * b / r, -g * a / r


def _hypot(g, y, a, b):
    return g * _safe_divide(a, y), g * _safe_divide(b, y)


BINARY = {
    "add": lambda g, y, a, b: (g, g),
    "subtract": lambda g, y, a, b: (g, -g),
    "multiply": lambda g, y, a, b: (g * b, g * a),
    "divide": lambda g, y, a, b: (g / b, -g * y / b),
    "pow": _pow,
    "maximum": _maximum,
    "minimum": _minimum,
    "atan2": _atan2,
    "hypot": _hypot,
    "logaddexp": lambda g, y, a, b: (g * exp(a - y), g * exp(b - y)),
    "copysign": lambda g, y, a, b: (g * copysign(1.0, a) * copysign(1.0, b), None),
    "remainder": lambda g, y, a, b: (g, -g * floor(a / b)),
    "nextafter": lambda g, y, a, b: (g, None),
    "floor_divide": lambda g, y, a, b: (None, None),
}


def _where(g, y, c, a, b):
    # The cotangent of the branch not taken is exactly zero, even where it is inf or NaN.
    not_c = logical_not(c)
    return None, Masked(where(c, g, 0), c), Masked(where(c, 0, g), not_c)


def _astype(g, y, x, *, dtype):
    if not _dtypes.is_floating(x.dtype):
        return (None,)
    if _is_complex(g) and not _is_complex(x):
        g = elementwise("real", g)
    return (Array._new(cast(g._node, x.dtype)),)


# ----------------------------------------------------------------------------- reductions
def _expanded(g: Array, x: Array, axes: tuple[int, ...], keepdims: bool) -> Array:
    """A reduction's cotangent (or output) with its reduced axes back, as size-1 axes.

    ``g`` may be lazily broadcast (smaller than the output, see ``backward``): it stays so.
    """
    out_ndim = x.ndim if keepdims else x.ndim - len(axes)
    shape = (1,) * (out_ndim - g.ndim) + g.shape
    if not keepdims:
        dims = iter(shape)
        shape = tuple(1 if i in axes else next(dims) for i in range(x.ndim))
    return Array._new(reshape_node(g._node, shape))


def _sum(g, y, x, *, axes, keepdims, dtype=None):
    # Lazily broadcast: elementwise rules below broadcast it inside their loops.
    return (_expanded(g, x, axes, keepdims),)


def _prod(g, y, x, *, axes, keepdims, dtype=None):
    # Exact with zeros: the product of the other elements is p/x where there is no zero,
    # the product of the non-zeros at a lone zero, and 0 everywhere else.
    g = _expanded(g, x, axes, keepdims)
    zero = x == 0
    safe = where(zero, 1, x)
    nonzero_product = prod(safe, axis=axes, keepdims=True, dtype=safe.dtype)
    zeros = reduce("sum", zero, axes, True, dtype=_dtypes.INDEX_DTYPE)
    others = where(
        zero, where(zeros == 1, nonzero_product, 0), where(zeros == 0, nonzero_product / safe, 0)
    )
    return (g * others,)


def _extremum(g, y, x, *, axes, keepdims):
    # Ties share the cotangent evenly; a NaN extremum passes no gradient.
    hit = x == _expanded(y, x, axes, keepdims)
    count = reduce("sum", hit, axes, True, dtype=x.dtype)
    return (where(hit, _expanded(g, x, axes, keepdims) / count, 0),)


def _reverse_cumsum(a: Array, axis: int) -> Array:
    return flip(cumulative_sum(flip(a, axis=axis), axis=axis), axis=axis)


def _initial_dropped(g: Array, axis: int, include_initial: bool) -> Array:
    if not include_initial:
        return g
    index = tuple(slice(1, None) if a == axis else slice(None) for a in range(g.ndim))
    return g[index]


def _cumulative_sum(g, y, x, *, axis, include_initial, dtype):
    return (_reverse_cumsum(_initial_dropped(g, axis, include_initial), axis),)


def _cumulative_prod(g, y, x, *, axis, include_initial, dtype):
    # dy_j/dx_i is y_j / x_i before the first zero, the product of the others (the
    # running product with that zero replaced by 1) at the first zero, and 0 after it.
    g = _initial_dropped(g, axis, include_initial)
    y = _initial_dropped(y, axis, include_initial)
    zero = x == 0
    zeros_so_far = cumulative_sum(zero, axis=axis, dtype=_dtypes.INDEX_DTYPE)
    before = zeros_so_far == 0
    first = logical_and(zero, zeros_so_far == 1)
    around = cumulative_prod(where(first, 1, x), axis=axis)
    return (
        where(before, _reverse_cumsum(g * y, axis) / where(before, x, 1), 0)
        + where(first, _reverse_cumsum(g * around, axis), 0),
    )


# ----------------------------------------------------------------------------- shape ops
def _reshape(g, y, x, *, shape):
    return (Array._new(reshape_node(g._node, x.shape)),)


def _broadcast_to(g, y, x, *like, shape):
    # ``backward`` sums it down, as for an elementwise op (g may be lazily broadcast).
    return (g, *(None,) * len(like))


def _permute_dims(g, y, x, *, axes):
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    return (permute_dims(g, tuple(inverse)),)


def _slice(g, y, x, *, slices):
    if x.size is None:  # bounds as written on axes of unknown size: write g into zeros
        zeros = broadcast_node(scalar_node(0, g.dtype), x.shape, like=x._node)
        key = tuple(("s", *s) for s in slices)
        return (apply(REGISTRY["setitem"], (zeros, g._node), key=key),)
    for axis, (start, _, step) in enumerate(slices):
        g = _unslice_axis(g, axis, x.shape[axis], start, step)
    return (g,)


def _unslice_axis(g: Array, axis: int, n: int, start: int, step: int) -> Array:
    """``g`` placed at ``start, start + step, ...`` of a zero axis of length ``n``."""
    m = g.shape[axis]
    if (start, step, m) == (0, 1, n):
        return g
    if m == 0:
        return _zeros_along(g, axis, n)
    if step < 0:
        g = flip(g, axis=axis)
        start, step = start + (m - 1) * step, -step
    if step > 1:  # step - 1 zeros after each element, then the last ones trimmed
        unit = reshape(g, g.shape[: axis + 1] + (1,) + g.shape[axis + 1 :])
        spread = concat([unit, _zeros_along(unit, axis + 1, step - 1)], axis=axis + 1)
        g = reshape(spread, g.shape[:axis] + (m * step,) + g.shape[axis + 1 :])
        g = g[(slice(None),) * axis + (slice(0, (m - 1) * step + 1),)]
    parts = [_zeros_along(g, axis, start), g, _zeros_along(g, axis, n - start - g.shape[axis])]
    return concat([p for p in parts if p.shape[axis]], axis=axis)


def _zeros_along(g: Array, axis: int, n: int) -> Array:
    """Zeros shaped like ``g`` but of length ``n`` along ``axis``."""
    return zeros(g.shape[:axis] + (n,) + g.shape[axis + 1 :], dtype=g.dtype)


def _concat(g, y, *xs, axis):
    bounds = [0]
    for x in xs:
        bounds.append(bounds[-1] + x.shape[axis])
    return tuple(
        g[tuple(slice(lo, hi) if a == axis else slice(None) for a in range(g.ndim))]
        for lo, hi in itertools.pairwise(bounds)
    )


# ----------------------------------------------------------------------------- indexing
def _scatter(g: Array, indices: tuple[Array, ...], spec: tuple[int, ...], shape) -> Array:
    nodes = tuple(i._node for i in indices)
    return apply(SCATTER_ADD, (g._node, *nodes), spec=spec, shape=shape)


def _gather(g, y, x, *indices, spec):
    ct = _one_hot_gather(g, x, indices, spec)
    if ct is None:
        ct = _scatter(g, indices, spec, x.shape)
    return (ct, *(None,) * len(indices))


def _one_hot_gather(g: Array, x: Array, indices: tuple[Array, ...], spec) -> Array | None:
    """The cotangent of ``x[arange(n), idx]`` (or ``x[idx, arange(n)]``, on any two adjacent
    axes) as ``where(iota == idx, g, 0)``: an elementwise expression, fused into the
    loops around it, instead of a scatter. Each row is picked once, so nothing adds up.
    None for other indices."""
    axes = [a for a, s in enumerate(spec) if s >= 0]
    if len(axes) != 2 or axes[1] != axes[0] + 1:
        return None
    p = axes[0]
    first, second = indices[spec[p]], indices[spec[p + 1]]
    if first.ndim != 1 or first.shape != second.shape:
        return None
    n = first.shape[0]
    if x.shape[p] == n and _is_arange(first, n):
        cols, col_axis = second, p + 1
    elif x.shape[p + 1] == n and _is_arange(second, n):
        cols, col_axis = first, p
    else:
        return None
    k = x.shape[col_axis]
    unit = (1,) * (x.ndim - p - 2)
    g = reshape(
        g,
        g.shape[: p + 1] + (1,) + g.shape[p + 1 :]
        if col_axis > p
        else g.shape[:p] + (1,) + g.shape[p:],
    )
    pair = (n, 1) if col_axis > p else (1, n)
    positions = reshape(_iota(k), (1, k) + unit if col_axis > p else (k, 1) + unit)
    return one_hot(_picks(positions, reshape(cols, pair + unit), k), g, col_axis)


def _is_arange(idx: Array, n: int) -> bool:
    """Whether ``idx`` is ``0, 1, ..., n - 1``: an ``iota`` (``xp.arange(n)``), or a constant."""
    node = idx._node
    if node.op.name == "iota":
        return True
    return node.op.name == "constant" and np.array_equal(node.value, np.arange(n))


def _iota(n: int) -> Array:
    return apply(REGISTRY["iota"], (), n=n, dtype=_dtypes.INDEX_DTYPE)


def _picks(positions: Array, idx: Array, n: int) -> Array:
    """Where ``idx`` (in ``[-n, n)``, negative ones counted from the end) picks ``positions``.

    ``positions - n`` is an input-free constant, so this is two compares in the fused loop.
    """
    return logical_or(positions == idx, (positions - n) == idx)


def _scatter_add(g, y, values, *indices, spec, shape):
    nodes = tuple(i._node for i in indices)
    return (apply(REGISTRY["gather"], (g._node, *nodes), spec=spec), *(None,) * len(indices))


def _take(g, y, x, idx, *, axis):
    spec = tuple(0 if a == axis else -1 for a in range(x.ndim))
    return _scatter(g, (idx,), spec, x.shape), None


def _take_along_axis(g, y, x, idx, *, axis):
    if idx.shape[axis] == 1:
        # One pick per row (take_along_axis(x, y[:, None], 1)): where(iota == idx, g, 0),
        # elementwise, so it is fused; ``backward`` sums it over x's broadcast axes.
        k = x.shape[axis]
        positions = reshape(_iota(k), tuple(k if a == axis else 1 for a in range(x.ndim)))
        return one_hot(_picks(positions, idx, k), g, axis), None
    # Every axis indexed: the matched indices along ``axis``, and along the others the
    # position in the (broadcast) output, or 0 where x itself has length 1.
    indices = []
    for a in range(x.ndim):
        if a == axis:
            indices.append(idx)
            continue
        if x.shape[a] == 1:
            indices.append(Array._new(scalar_node(0, _dtypes.INDEX_DTYPE)))
        else:
            shape = tuple(y.shape[a] if b == a else 1 for b in range(x.ndim))
            indices.append(reshape(_iota(y.shape[a]), shape))
    return _scatter(g, tuple(indices), tuple(range(x.ndim)), x.shape), None


def _dynamic_slice(g, y, x, *starts, sizes):
    # The cotangent written into zeros at the run-time offsets; starts get none.
    nodes = tuple(s._node for s in starts)
    zero = zeros(x.shape, dtype=g.dtype)
    return (
        apply(REGISTRY["dynamic_update_slice"], (zero._node, g._node, *nodes)),
        *(None,) * len(starts),
    )


def _dynamic_update_slice(g, y, x, update, *starts):
    # x gets g with the overwritten window zeroed, update the window of g.
    nodes = tuple(s._node for s in starts)
    hole = zeros(update.shape, dtype=g.dtype)
    return (
        apply(REGISTRY["dynamic_update_slice"], (g._node, hole._node, *nodes)),
        apply(REGISTRY["dynamic_slice"], (g._node, *nodes), sizes=update.shape),
        *(None,) * len(starts),
    )


def _sort(g, y, x, *, axis, descending):
    # sort(x) is take_along_axis(x, argsort(x)); tied elements get the cotangent in
    # argsort's (stable) order.
    order = argsort(x, axis=axis, descending=descending)
    return (_take_along_axis(g, y, x, order, axis=axis)[0],)


def _setitem(g, y, x, value, *indices, key):
    """``x`` gets ``g`` with zeros where it was overwritten, ``value`` the rest of ``g``."""

    def put(a: Array, v: Array) -> Array:  # a with v written at key, as the forward wrote
        nodes = tuple(i._node for i in indices)
        return apply(REGISTRY["setitem"], (a._node, v._node, *nodes), key=key)

    none = (None,) * len(indices)
    if value.ndim == 0:
        # No positions needed, so a lazy boolean mask is never computed (x[x > 0] = 0).
        true = Array._new(scalar_node(True, _dtypes.bool))
        written = put(zeros(x.shape, dtype=_dtypes.bool), true)
        return where(written, 0, g), reduce("sum", where(written, g, 0), None, False), *none
    numpy_key = decode_key(key, indices)
    at = g[numpy_key]
    if any(not _dtypes.is_bool(i.dtype) for i in indices):
        # A repeated index keeps one write only (JAX's trick: write ids, read them back).
        ids = reshape(arange(math.prod(at.shape), dtype=_dtypes.INDEX_DTYPE), at.shape)
        kept = put(full(x.shape, -1, dtype=_dtypes.INDEX_DTYPE), ids)[numpy_key] == ids
        at = where(kept, at, 0)
    return put(g, zeros((), dtype=g.dtype)), sum_to(at, value.shape), *none


# ----------------------------------------------------------------------------- linear algebra
def _matmul(g, y, a, b):
    return matmul(g, matrix_transpose(b)), matmul(matrix_transpose(a), g)


# ----------------------------------------------------------------------------- the table
def _unary_rule(f):
    def rule(g, y, x):
        return (f(g, y, x),)

    return rule


RULES = {
    **{name: _unary_rule(f) for name, f in UNARY.items()},
    **BINARY,
    "where": _where,
    "astype": _astype,
    "sum": _sum,
    "prod": _prod,
    "max": _extremum,
    "min": _extremum,
    "cumulative_sum": _cumulative_sum,
    "cumulative_prod": _cumulative_prod,
    "reshape": _reshape,
    "broadcast_to": _broadcast_to,
    "permute_dims": _permute_dims,
    "slice": _slice,
    "concat": _concat,
    "gather": _gather,
    "scatter_add": _scatter_add,
    "take": _take,
    "take_along_axis": _take_along_axis,
    "dynamic_slice": _dynamic_slice,
    "dynamic_update_slice": _dynamic_update_slice,
    "sort": _sort,
    "setitem": _setitem,
    "matmul": _matmul,
}

_BOOLEAN_OR_INTEGER = NotDifferentiable("its result is boolean or integer")
_LEAF = NotDifferentiable("a leaf: differentiated with respect to, never through")

NOT_DIFFERENTIABLE = {
    **dict.fromkeys(
        [
            "bitcast",
            "bitwise_and",
            "bitwise_invert",
            "bitwise_left_shift",
            "bitwise_or",
            "bitwise_right_shift",
            "bitwise_xor",
            "equal",
            "not_equal",
            "greater",
            "greater_equal",
            "less",
            "less_equal",
            "isfinite",
            "isinf",
            "isnan",
            "signbit",
            "logical_and",
            "logical_or",
            "logical_xor",
            "logical_not",
            "all",
            "any",
            "argmax",
            "argmin",
            "argsort",
            "isin",
            "searchsorted",
            "nonzero",
            "unique",
            "repeat_index",
            "size_of",
        ],
        _BOOLEAN_OR_INTEGER,
    ),
    **dict.fromkeys(["constant", "input", "iota"], _LEAF),
    # Formed only by the specialize rewrites, which run after grad has built its graph.
    "gemm": NotDifferentiable("formed by the rewrites after differentiation"),
}


def install(*tables: dict) -> None:
    """Put each rule on its op record (``op.vjp``), next to its shape rule and NumPy impl."""
    for name, rule in itertools.chain.from_iterable(t.items() for t in tables):
        if name in REGISTRY:
            REGISTRY[name].vjp = rule
