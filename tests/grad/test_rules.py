"""Every differentiable op's VJP and JVP against central finite differences (float64).

Each case builds a function around one op of the registry; hypothesis draws shapes
(broadcasting ones for binary ops), static parameters and a seed for the values,
which stay inside the op's domain and away from its kinks. The conventions at the
kinks are tested in ``test_conventions.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lazyarr as xp
from lazyarr._builder import apply
from lazyarr.grad.scatter import SCATTER_ADD
from tests.grad.checks import Case, check_case


def shape(draw, min_dims=0, max_dims=3, min_side=1):
    return draw(
        hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=4)
    )


def uniform(lo, hi):
    return lambda rng, s: rng.uniform(lo, hi, s)


def away_from_zero(rng, s):
    return rng.uniform(0.2, 2.0, s) * rng.choice([-1.0, 1.0], s)


def between_integers(rng, s):
    return rng.integers(-3, 3, s) + rng.uniform(0.2, 0.8, s)


def complex_values(rng, s):
    return rng.uniform(0.3, 1.5, s) * np.exp(1j * rng.uniform(-2.5, 2.5, s))


def distinct(rng, s):
    """Values without ties: max, min, maximum and minimum have no derivative there."""
    return rng.permutation(np.arange(int(np.prod(s)))).reshape(s) * 0.37 - 1.0


DEFAULT = uniform(-2.0, 2.0)


def unary(values, min_dims=0):
    return lambda draw, rng: ([np.asarray(values(rng, shape(draw, min_dims)))], {})


def binary(first, second):
    def arrays(draw, rng):
        shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
        a, b = shapes.input_shapes
        return [np.asarray(first(rng, a)), np.asarray(second(rng, b))], {}

    return arrays


def ew(name):
    return lambda *xs: getattr(xp, name)(*xs)


UNARY_DOMAINS = {
    "abs": away_from_zero,
    "acos": uniform(-0.9, 0.9),
    "acosh": uniform(1.1, 3.0),
    "asin": uniform(-0.9, 0.9),
    "atanh": uniform(-0.9, 0.9),
    "log": uniform(0.2, 3.0),
    "log1p": uniform(-0.8, 2.0),
    "log2": uniform(0.2, 3.0),
    "log10": uniform(0.2, 3.0),
    "reciprocal": away_from_zero,
    "sqrt": uniform(0.2, 3.0),
    "tan": uniform(-1.2, 1.2),
    "ceil": between_integers,
    "floor": between_integers,
    "round": between_integers,
    "trunc": between_integers,
    "sign": away_from_zero,
    **dict.fromkeys(
        ["asinh", "atan", "cos", "cosh", "exp", "expm1", "negative", "positive"], DEFAULT
    ),
    **dict.fromkeys(["sin", "sinh", "square", "tanh"], DEFAULT),
}
BINARY_DOMAINS = {
    "add": (DEFAULT, DEFAULT),
    "subtract": (DEFAULT, DEFAULT),
    "multiply": (DEFAULT, DEFAULT),
    "divide": (DEFAULT, away_from_zero),
    "pow": (uniform(0.3, 2.0), DEFAULT),
    "atan2": (away_from_zero, away_from_zero),
    "hypot": (away_from_zero, away_from_zero),
    "logaddexp": (DEFAULT, DEFAULT),
    "copysign": (away_from_zero, away_from_zero),
    "remainder": (uniform(0.1, 0.9), uniform(1.0, 2.0)),
    "floor_divide": (uniform(0.1, 0.9), uniform(1.0, 2.0)),
    "nextafter": (DEFAULT, DEFAULT),
}
# Holomorphic and non-holomorphic ops on complex input: JAX's convention, checked.
COMPLEX_UNARY = ["abs", "conj", "real", "imag", "exp", "log", "sin", "sqrt", "tanh", "reciprocal"]
COMPLEX_BINARY = ["multiply", "divide", "subtract"]


def _maximum_like(draw, rng):
    s = shape(draw, min_dims=1)
    both = distinct(rng, (2, *s))
    return [both[0], both[1]], {}


def _where(draw, rng):
    s = shape(draw)
    return [rng.standard_normal(s), rng.standard_normal(s)], {"mask": rng.random(s) < 0.5}


def _axes(draw, ndim):
    return draw(
        st.none() | st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(tuple)
    )


def _reduction(values, zeros=False):
    def arrays(draw, rng):
        s = shape(draw, min_dims=1)
        x = values(rng, s)
        if zeros and draw(st.booleans()):
            x[rng.random(s) < 0.3] = 0.0  # one or several zeros in a group
        return [x], {"axis": _axes(draw, len(s)), "keepdims": draw(st.booleans())}

    return arrays


def _reduce(name):
    return lambda x, axis, keepdims: getattr(xp, name)(x, axis=axis, keepdims=keepdims)


def _scan(zeros=False):
    def arrays(draw, rng):
        s = shape(draw, min_dims=1)
        x = rng.uniform(0.5, 1.5, s) * rng.choice([-1.0, 1.0], s)
        if zeros and draw(st.booleans()):
            x[rng.random(s) < 0.3] = 0.0
        axis = draw(st.integers(0, len(s) - 1))
        return [x], {"axis": axis, "include_initial": draw(st.booleans())}

    return arrays


def _scanned(name):
    return lambda x, axis, include_initial: getattr(xp, name)(
        x, axis=axis, include_initial=include_initial
    )


def _reshape(draw, rng):
    s = shape(draw)
    target = draw(st.sampled_from([(-1,), (1, -1), (*s, 1), s[::-1]]))
    if target == s[::-1]:
        target = (-1, *s[:1]) if s else ()
    return [rng.standard_normal(s)], {"shape": target}


def _broadcast(draw, rng):
    s = shape(draw)
    target = draw(hnp.broadcastable_shapes(s, max_dims=4, max_side=3).map(lambda t: t))
    full = np.broadcast_shapes(s, target)
    return [rng.standard_normal(s)], {"shape": full}


def _permute(draw, rng):
    s = shape(draw, min_dims=2)
    return [rng.standard_normal(s)], {"axes": tuple(draw(st.permutations(range(len(s)))))}


def _slices(draw, rng):
    s = shape(draw, min_dims=1, max_dims=3)
    key = tuple(
        slice(
            draw(st.integers(-5, 5) | st.none()),
            draw(st.integers(-5, 5) | st.none()),
            draw(st.sampled_from([None, 1, 2, 3, -1, -2])),
        )
        for _ in s
    )
    return [rng.standard_normal(s)], {"key": key}


def _concat(draw, rng):
    s = shape(draw, min_dims=1)
    axis = draw(st.integers(0, len(s) - 1))
    parts = []
    for _ in range(draw(st.integers(2, 3))):
        p = list(s)
        p[axis] = draw(st.integers(1, 3))
        parts.append(rng.standard_normal(p))
    return parts, {"axis": axis}


def _gather(draw, rng):
    """Integer-array indices on any set of axes (split ones move to the front, as NumPy's)."""
    s = shape(draw, min_dims=1)
    axes = draw(st.lists(st.integers(0, len(s) - 1), min_size=1, unique=True))
    index_shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    key = tuple(
        rng.integers(-d, d, index_shape) if a in axes else slice(None) for a, d in enumerate(s)
    )  # repeated indices accumulate
    return [rng.standard_normal(s)], {"key": key}


def _gather_rows(draw, rng):
    """``x[arange(n), idx]`` (or ``x[idx, arange(n)]``) on two adjacent axes: one pick per
    row, whose cotangent is an elementwise ``where`` (negative indices count from the end)."""
    s = shape(draw, min_dims=2)
    at = draw(st.integers(0, len(s) - 2))
    rows_first = draw(st.booleans())
    n, k = (s[at], s[at + 1]) if rows_first else (s[at + 1], s[at])
    rows = np.arange(n) if draw(st.booleans()) else "arange"  # a constant, or an iota
    picks = rng.integers(-k, k, n)
    pair = (rows, picks) if rows_first else (picks, rows)
    return [rng.standard_normal(s)], {"at": at, "pair": pair}


def _picked(x, at, pair):
    key = tuple(
        xp.arange(x.shape[a]) if isinstance(p, str) else p for a, p in zip((at, at + 1), pair)
    )
    return x[(slice(None),) * at + key]


def _take(draw, rng):
    s = shape(draw, min_dims=1)
    axis = draw(st.integers(0, len(s) - 1))
    idx = rng.integers(0, s[axis], draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)))
    return [rng.standard_normal(s)], {"indices": idx, "axis": axis}


def _take_along(draw, rng):
    s = shape(draw, min_dims=1)
    axis = draw(st.integers(0, len(s) - 1))
    ishape = [draw(st.sampled_from([1, d])) for d in s]
    ishape[axis] = draw(st.integers(1, 4))
    xshape = [draw(st.sampled_from([1, d])) if a != axis else d for a, d in enumerate(s)]
    idx = rng.integers(0, s[axis], ishape)
    return [rng.standard_normal(xshape)], {"indices": idx, "axis": axis}


def _sort(draw, rng):
    s = shape(draw, min_dims=1)
    axis = draw(st.integers(0, len(s) - 1))
    return [distinct(rng, s)], {"axis": axis, "descending": draw(st.booleans())}


def _setitem(draw, rng):
    """Basic keys, integer arrays with repeats (one write is kept), boolean masks."""
    s = shape(draw, min_dims=1)
    kind = draw(st.sampled_from(["basic", "integers", "mask", "mask-scalar"]))
    if kind == "basic":
        key = tuple(draw(st.sampled_from([slice(None), slice(1, None, 2), -1])) for _ in s)
    elif kind == "integers":
        key = (rng.integers(0, s[0], draw(st.integers(1, 5))),)
    else:
        key = (rng.random(s[: draw(st.integers(1, len(s)))]) < 0.5,)
    target = np.empty(s)[key].shape
    value_shape = (
        () if kind == "mask-scalar" else tuple(draw(st.sampled_from([1, d])) for d in target)
    )
    return [rng.standard_normal(s), rng.standard_normal(value_shape)], {"key": key}


def _assigned(x, value, key):
    x[key] = value
    return x


def _scatter_add(draw, rng):
    n = draw(st.integers(1, 5))
    idx = rng.integers(0, n, draw(st.integers(1, 6)))
    return [rng.standard_normal(idx.shape)], {"indices": idx, "n": n}


def _window(draw, s):
    """Static sizes and in-range starts for ``dynamic_slice`` of an array of shape ``s``."""
    sizes = tuple(draw(st.integers(0, d)) for d in s)
    starts = tuple(draw(st.integers(0, d - n)) for d, n in zip(s, sizes))
    return starts, sizes


def _dynamic_slice(draw, rng):
    s = shape(draw, min_dims=1)
    starts, sizes = _window(draw, s)
    return [rng.standard_normal(s)], {"starts": starts, "sizes": sizes}


def _dynamic_update_slice(draw, rng):
    s = shape(draw, min_dims=1)
    starts, sizes = _window(draw, s)
    return [rng.standard_normal(s), rng.standard_normal(sizes)], {"starts": starts}


def _run_time_starts(starts):
    """Starts as 0-d arrays, so the op stays dynamic (Python ints make a static slice)."""
    return tuple(xp.asarray(np.int64(i)) for i in starts)


def _matmul(draw, rng):
    k = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["matrix", "batch", "vector-right", "vector-left"]))
    a_shape, b_shape = {
        "matrix": ((2, k), (k, 3)),
        "batch": ((2, 1, 3, k), (4, k, 2)),
        "vector-right": ((3, k), (k,)),
        "vector-left": ((k,), (2, k, 3)),
    }[kind]
    return [rng.standard_normal(a_shape), rng.standard_normal(b_shape)], {}


CASES = (
    [Case(name, ew(name), unary(values)) for name, values in UNARY_DOMAINS.items()]
    + [Case(name, ew(name), binary(*domains)) for name, domains in BINARY_DOMAINS.items()]
    + [
        Case(name, ew(name), unary(complex_values), label=f"{name}-complex")
        for name in COMPLEX_UNARY
    ]
    + [
        Case(name, ew(name), binary(complex_values, complex_values), label=f"{name}-complex")
        for name in COMPLEX_BINARY
    ]
    + [
        Case("maximum", xp.maximum, _maximum_like),
        Case("minimum", xp.minimum, _maximum_like),
        Case("where", lambda a, b, mask: xp.where(xp.asarray(mask), a, b), _where),
        Case(
            "astype",
            lambda x: xp.real(xp.astype(x, xp.complex128) * (1 + 2j)),
            unary(DEFAULT),
            label="astype-real-to-complex",
        ),
        Case(
            "astype",
            lambda x: xp.astype(xp.astype(x * x, xp.float32), xp.float64),
            unary(uniform(0.5, 1.5)),
            rtol=1e-3,
            h=0.5,  # x*x: central differences are exact; a large step shrinks float32 rounding
            label="astype-through-float32",
        ),
        Case("sum", _reduce("sum"), _reduction(DEFAULT)),
        Case("prod", _reduce("prod"), _reduction(uniform(0.5, 1.5), zeros=True)),
        Case("max", _reduce("max"), _reduction(distinct)),
        Case("min", _reduce("min"), _reduction(distinct)),
        Case("cumulative_sum", _scanned("cumulative_sum"), _scan()),
        Case("cumulative_prod", _scanned("cumulative_prod"), _scan(zeros=True)),
        Case("reshape", lambda x, shape: xp.reshape(x, shape), _reshape),
        Case("broadcast_to", lambda x, shape: xp.broadcast_to(x, shape), _broadcast),
        Case("permute_dims", lambda x, axes: xp.permute_dims(x, axes), _permute),
        Case("slice", lambda x, key: x[key], _slices),
        Case("concat", lambda *xs, axis: xp.concat(xs, axis=axis), _concat),
        Case("gather", lambda x, key: x[key], _gather),
        Case("gather", _picked, _gather_rows, label="gather-one-per-row"),
        Case(
            "sort", lambda x, axis, descending: xp.sort(x, axis=axis, descending=descending), _sort
        ),
        Case("setitem", _assigned, _setitem),
        Case("take", lambda x, indices, axis: xp.take(x, indices, axis=axis), _take),
        Case(
            "take_along_axis",
            lambda x, indices, axis: xp.take_along_axis(x, xp.asarray(indices), axis=axis),
            _take_along,
        ),
        Case(
            "scatter_add",
            lambda v, indices, n: apply(
                SCATTER_ADD, (v._node, xp.asarray(indices)._node), spec=(0,), shape=(n,)
            ),
            _scatter_add,
        ),
        Case(
            "dynamic_slice",
            lambda x, starts, sizes: xp.dynamic_slice(x, _run_time_starts(starts), sizes),
            _dynamic_slice,
        ),
        Case(
            "dynamic_update_slice",
            lambda x, u, starts: xp.dynamic_update_slice(x, u, _run_time_starts(starts)),
            _dynamic_update_slice,
        ),
        Case("matmul", xp.matmul, _matmul),
    ]
)


@pytest.mark.parametrize("case", CASES, ids=Case.id)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_vjp_and_jvp_match_finite_differences(case, data, seed):
    check_case(case, data.draw, seed)
