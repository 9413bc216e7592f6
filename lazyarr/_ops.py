"""The op registry: every primitive declared once.

An op holds everything that must agree about it: how its output shape and dtype
follow from its inputs (``infer``), and its NumPy reference implementation
(``impl``), which is the semantic oracle for every other backend. Later layers
add their own fields (a VJP rule, C and CUDA templates) to the same records, and
``tests/test_ops.py`` walks the registry to check that none is missing.

Everything else in the namespace (``mean``, ``var``, ``tensordot``, ``tril``...)
is a composition of these primitives, so it needs no rule of its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from . import _dtypes
from ._errors import TracerConversionError

Shape = tuple[int | None, ...]  # None: a data-dependent size, known when the program runs


class Op:
    """A primitive operation.

    ``infer(inputs, **params) -> (shape, dtype)`` gets nodes whose shapes and dtypes
    have already been validated by the namespace function that builds the node;
    ``impl(*values, **params)`` computes the result with NumPy.
    """

    kind = "op"

    def __init__(self, name: str, infer: Callable, impl: Callable, *, kind: str | None = None):
        self.name = name
        self.infer = infer
        self.impl = impl
        if kind is not None:
            self.kind = kind

    def __repr__(self) -> str:
        return f"Op({self.name})"


class Elementwise(Op):
    """An op applied independently at every (broadcast) position.

    Its dtype rule is ``signature(types) -> (computation dtype of each input, output
    dtype)``, where ``types`` holds the dtypes of the array arguments and the types
    of the Python scalar ones (weak, as in NEP 50). For ops backed by a NumPy ufunc
    the rule is the ufunc's own loop selection, so results match NumPy's, exact
    int64/uint64 comparisons included; float16 loops (``sin`` of int8) are computed
    in float32, the nearest supported dtype. Other ops declare ``resolve(common
    dtype) -> (computation dtype, output dtype)`` over the promoted inputs.
    """

    kind = "elementwise"

    def __init__(
        self,
        name: str,
        nin: int,
        impl: Callable,
        *,
        ufunc: np.ufunc | None = None,
        resolve: Callable[[np.dtype], tuple[np.dtype, np.dtype]] | None = None,
    ):
        super().__init__(name, self._infer, impl)
        self.nin = nin
        self.ufunc = ufunc
        self._resolve = resolve
        self._cache: dict[tuple, tuple[tuple[np.dtype, ...], np.dtype]] = {}

    def signature(self, types: tuple) -> tuple[tuple[np.dtype, ...], np.dtype]:
        try:
            return self._cache[types]
        except KeyError:
            pass
        shown = ", ".join(t.__name__ if isinstance(t, type) else str(t) for t in types)
        if self.ufunc is not None:
            # NOTE: resolve_dtypes takes int, float and complex as weak scalars, not bool.
            probe = tuple(_dtypes.bool if t is bool else t for t in types)
            try:
                loop = self.ufunc.resolve_dtypes((*probe, None))
            except TypeError:
                raise TypeError(f"{self.name} is not defined for {shown}") from None
            result = (tuple(_dtypes.substitute(d) for d in loop[:-1]), _dtypes.substitute(loop[-1]))
        else:
            values = types[1:] if self.name == "where" else types
            common = _dtypes.promote(*values)
            try:
                compute, out = self._resolve(common)
            except TypeError as e:
                raise TypeError(f"{self.name} is not defined for {shown}: {e}") from None
            computes = (compute,) * len(values)
            result = ((_dtypes.bool, *computes) if self.name == "where" else computes, out)
        self._cache[types] = result
        return result

    def _infer(self, inputs, **params):
        shape = broadcast_shapes(*(x.shape for x in inputs))
        return shape, self.signature(tuple(x.dtype for x in inputs))[1]


def broadcast_shapes(*shapes: Shape) -> Shape:
    """The broadcast of several shapes; ``ValueError`` naming them if incompatible.

    An unknown (``None``) dimension makes the result's unknown too: it must equal the
    other sizes along that axis when the program runs (``run_node`` checks), and it
    never broadcasts from 1 there, so gradients can sum over exactly the axes a
    known 1 was broadcast along.
    """
    if len(shapes) == 2:
        a, b = shapes
        if a == b or not b:
            return a
        if not a:
            return b
    elif len(shapes) == 1:
        return shapes[0]
    ndim = max(len(s) for s in shapes)
    out = []
    for i in range(-ndim, 0):
        size, unknown = 1, False
        for s in shapes:
            if len(s) >= -i:
                d = s[i]
                if d is None:
                    unknown = True
                elif d != 1:
                    if size != 1 and d != size:
                        shown = " and ".join(str(tuple(s)) for s in shapes)
                        raise ValueError(f"shapes {shown} cannot be broadcast together")
                    size = d
        out.append(None if unknown else size)
    return tuple(out)


def _numeric_same(name: str) -> Callable[[np.dtype], tuple[np.dtype, np.dtype]]:
    def resolve(d: np.dtype) -> tuple[np.dtype, np.dtype]:
        if _dtypes.is_bool(d):
            raise TypeError(f"{name} is not defined for dtype bool")
        return d, d

    return resolve


def _to_real(d: np.dtype) -> tuple[np.dtype, np.dtype]:
    return d, _dtypes.real_dtype(d)


def _same(d: np.dtype) -> tuple[np.dtype, np.dtype]:
    return d, d


REGISTRY: dict[str, Op] = {}


def _declare(op: Op) -> Op:
    assert op.name not in REGISTRY, op.name
    REGISTRY[op.name] = op
    return op


# ----------------------------------------------------------------------------- elementwise
# array API name -> NumPy ufunc. The ufunc is the reference implementation and its
# loops are the dtype rule.
_UFUNCS: dict[str, np.ufunc] = {
    "abs": np.absolute,
    "acos": np.arccos,
    "acosh": np.arccosh,
    "asin": np.arcsin,
    "asinh": np.arcsinh,
    "atan": np.arctan,
    "atanh": np.arctanh,
    "bitwise_invert": np.invert,
    "ceil": np.ceil,
    "conj": np.conjugate,
    "cos": np.cos,
    "cosh": np.cosh,
    "exp": np.exp,
    "expm1": np.expm1,
    "floor": np.floor,
    "isfinite": np.isfinite,
    "isinf": np.isinf,
    "isnan": np.isnan,
    "log": np.log,
    "log1p": np.log1p,
    "log2": np.log2,
    "log10": np.log10,
    "logical_not": np.logical_not,
    "negative": np.negative,
    "positive": np.positive,
    "reciprocal": np.reciprocal,
    "sign": np.sign,
    "signbit": np.signbit,
    "sin": np.sin,
    "sinh": np.sinh,
    "square": np.square,
    "sqrt": np.sqrt,
    "tan": np.tan,
    "tanh": np.tanh,
    "trunc": np.trunc,
    "add": np.add,
    "atan2": np.arctan2,
    "bitwise_and": np.bitwise_and,
    "bitwise_left_shift": np.left_shift,
    "bitwise_or": np.bitwise_or,
    "bitwise_right_shift": np.right_shift,
    "bitwise_xor": np.bitwise_xor,
    "copysign": np.copysign,
    "divide": np.divide,
    "equal": np.equal,
    "floor_divide": np.floor_divide,
    "greater": np.greater,
    "greater_equal": np.greater_equal,
    "hypot": np.hypot,
    "less": np.less,
    "less_equal": np.less_equal,
    "logaddexp": np.logaddexp,
    "logical_and": np.logical_and,
    "logical_or": np.logical_or,
    "logical_xor": np.logical_xor,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "multiply": np.multiply,
    "nextafter": np.nextafter,
    "not_equal": np.not_equal,
    "pow": np.power,
    "remainder": np.remainder,
    "subtract": np.subtract,
}


# Where NumPy misses a special case of the standard, the reference fixes it up.
def _floor_divide(x1, x2):
    out = np.floor_divide(x1, x2)
    if out.dtype.kind == "f":
        x1, x2 = np.asarray(x1, dtype=out.dtype), np.asarray(x2, dtype=out.dtype)
        # NOTE: an infinite operand (and a finite other) makes the quotient itself the
        # answer: inf // 2 is inf (NumPy: nan), 1 // -inf is -0 (NumPy: -1).
        special = np.isinf(x1) != np.isinf(x2)
        if special.any():
            out = np.where(special, np.divide(x1, x2), out)
    return out


def _expm1(x):
    out = np.expm1(x)
    if out.dtype.kind == "c":
        # NOTE: NumPy's complex expm1 gets infinities and NaN wrong (exp(x) - 1 is exact
        # there) and keeps the sign of a zero real part, which the standard makes +0.
        out = np.array(out)
        special = ~np.isfinite(x)
        out[special] = np.exp(x[special]) - 1
        out.real[x == 0] = 0.0
    return out


def _tanh(x):
    out = np.tanh(x)
    if out.dtype.kind == "c":
        # NOTE: the standard makes tanh(inf + bj) exactly 1 + 0j (signs by symmetry) for
        # every finite b; NumPy follows C99's 1 + 0*sin(2b)j, whose zero takes sin's sign.
        limit = np.isinf(x.real) & np.isfinite(x.imag)
        if limit.any():
            out = np.array(out)
            out.real[limit] = np.copysign(1, x.real[limit])
            out.imag[limit] = np.copysign(0, x.imag[limit])
    return out


_IMPLS = {"floor_divide": _floor_divide, "expm1": _expm1, "tanh": _tanh}

for _name, _ufunc in _UFUNCS.items():
    _declare(Elementwise(_name, _ufunc.nin, _IMPLS.get(_name, _ufunc), ufunc=_ufunc))

# NOTE: np.rint turns integers into floats; the standard's round keeps integer dtypes.
_declare(Elementwise("round", 1, np.round, resolve=_numeric_same("round")))
_declare(Elementwise("real", 1, np.real, resolve=_to_real))
_declare(Elementwise("imag", 1, np.imag, resolve=_to_real))
_declare(Elementwise("where", 3, np.where, resolve=_same))


def _cast_infer(inputs, *, dtype):
    return inputs[0].shape, dtype


def _cast_impl(x, *, dtype):
    return x.astype(dtype)


_declare(Op("astype", _cast_infer, _cast_impl, kind="elementwise"))
# The same bits read as another dtype of the same size (random bits become floats).
_declare(Op("bitcast", _cast_infer, lambda x, *, dtype: x.view(dtype), kind="elementwise"))


# ----------------------------------------------------------------------------- leaves
def _constant_infer(inputs, **params):
    raise AssertionError("constants are built with their value")


def _constant_impl(**params):
    raise AssertionError("constants carry their value")


_declare(Op("constant", _constant_infer, _constant_impl, kind="leaf"))


def _input_infer(inputs, *, index, shape, dtype, trace):
    return shape, dtype


def _input_impl(*, index, shape, dtype, trace):
    raise TracerConversionError(f"argument {index} of a traced function has no value yet")


# A traced function's argument: its value is bound when the compiled function runs.
_declare(Op("input", _input_infer, _input_impl, kind="leaf"))


def _iota_infer(inputs, *, n, dtype):
    return (n,), dtype


def _iota_impl(*, n, dtype):
    return np.arange(n, dtype=dtype)


_declare(Op("iota", _iota_infer, _iota_impl, kind="leaf"))


# ----------------------------------------------------------------------------- shape ops
def _reshape_infer(inputs, *, shape):
    return shape, inputs[0].dtype


def _reshape_impl(x, *, shape):
    return np.reshape(x, tuple(-1 if d is None else d for d in shape))


# At most one dimension of ``shape`` is unknown: it is what the known ones leave.
_declare(Op("reshape", _reshape_infer, _reshape_impl, kind="shape"))


def _broadcast_infer(inputs, *, shape):
    return shape, inputs[0].dtype


def _broadcast_impl(x, *like, shape):
    if like:
        shape = tuple(n if d is None else d for d, n in zip(shape, like[0].shape))
    return np.broadcast_to(x, shape)


# A ``shape`` with unknown dimensions takes them from a second input, ``like``, of as
# many axes: the zeros of a gradient have the shape of a value known only at run time.
_declare(Op("broadcast_to", _broadcast_infer, _broadcast_impl, kind="shape"))


def _permute_infer(inputs, *, axes):
    shape = inputs[0].shape
    return tuple(shape[a] for a in axes), inputs[0].dtype


_declare(Op("permute_dims", _permute_infer, lambda x, *, axes: np.transpose(x, axes), kind="shape"))


def slice_length(start: int, stop: int | None, step: int) -> int:
    return len(range(start, -1 if stop is None else stop, step))


def _slice_infer(inputs, *, slices):
    shape = inputs[0].shape
    return tuple(None if d is None else slice_length(*s) for s, d in zip(slices, shape)), inputs[
        0
    ].dtype


def _slice_impl(x, *, slices):
    return x[tuple(slice(*s) for s in slices)]


# ``slices`` holds one normalized (start, stop, step) per axis; stop is None when a
# negative step runs past the first element. Along an axis of unknown size the slice
# is as written (Python's rules apply when the program runs).
_declare(Op("slice", _slice_infer, _slice_impl, kind="shape"))


def _concat_infer(inputs, *, axis):
    shape = list(inputs[0].shape)
    sizes = [x.shape[axis] for x in inputs]
    shape[axis] = None if None in sizes else sum(sizes)
    return tuple(shape), inputs[0].dtype


_declare(Op("concat", _concat_infer, lambda *xs, axis: np.concatenate(xs, axis=axis), kind="shape"))


# ----------------------------------------------------------------------------- indexing
def gather_index_start(spec: tuple[int, ...]) -> int:
    """Where a gather's index dimensions start in its result (NumPy's rule: in place of
    the indexed axes when those are adjacent, else first)."""
    positions = [a for a, s in enumerate(spec) if s >= 0]
    return positions[0] if positions == list(range(positions[0], positions[-1] + 1)) else 0


def _gather_infer(inputs, *, spec):
    x, indices = inputs[0], inputs[1:]
    index_shape = broadcast_shapes(*(i.shape for i in indices))
    rest = [x.shape[a] for a, s in enumerate(spec) if s < 0]
    at = gather_index_start(spec)
    return tuple(rest[:at]) + index_shape + tuple(rest[at:]), x.dtype


def _gather_impl(x, *indices, spec):
    return x[tuple(slice(None) if s < 0 else indices[s] for s in spec)]


# NumPy's integer-array indexing: ``spec`` has one entry per axis of x, either -1
# (the whole axis) or the position of that axis' index array among the inputs.
_declare(Op("gather", _gather_infer, _gather_impl, kind="index"))


def _take_infer(inputs, *, axis):
    x, idx = inputs
    return x.shape[:axis] + idx.shape + x.shape[axis + 1 :], x.dtype


_declare(Op("take", _take_infer, lambda x, idx, *, axis: np.take(x, idx, axis=axis), kind="index"))


def _take_along_infer(inputs, *, axis):
    x, idx = inputs
    xs = x.shape[:axis] + (1,) + x.shape[axis + 1 :]
    ishape = idx.shape[:axis] + (1,) + idx.shape[axis + 1 :]
    shape = list(broadcast_shapes(xs, ishape))
    shape[axis] = idx.shape[axis]
    return tuple(shape), x.dtype


def _take_along_impl(x, idx, *, axis):
    shape = list(
        np.broadcast_shapes(
            x.shape[:axis] + (1,) + x.shape[axis + 1 :],
            idx.shape[:axis] + (1,) + idx.shape[axis + 1 :],
        )
    )
    xshape, ishape = list(shape), list(shape)
    xshape[axis], ishape[axis] = x.shape[axis], idx.shape[axis]
    return np.take_along_axis(np.broadcast_to(x, xshape), np.broadcast_to(idx, ishape), axis)


_declare(Op("take_along_axis", _take_along_infer, _take_along_impl, kind="index"))


def _searchsorted_infer(inputs, *, side):
    return inputs[1].shape, _dtypes.INDEX_DTYPE


def _searchsorted_impl(x1, x2, *, side):
    return np.searchsorted(x1, x2, side=side).astype(_dtypes.INDEX_DTYPE, copy=False)


_declare(Op("searchsorted", _searchsorted_infer, _searchsorted_impl, kind="index"))


def _same_infer(inputs, **params):
    return inputs[0].shape, inputs[0].dtype


def _sort_impl(x, *, axis, descending):
    if descending:
        return np.flip(np.sort(np.flip(x, axis), axis=axis, kind="stable"), axis)
    return np.sort(x, axis=axis, kind="stable")


def _argsort_infer(inputs, *, axis, descending):
    return inputs[0].shape, _dtypes.INDEX_DTYPE


def _argsort_impl(x, *, axis, descending):
    if not descending:
        return np.argsort(x, axis=axis, kind="stable").astype(_dtypes.INDEX_DTYPE, copy=False)
    # NOTE: a stable descending order keeps equal elements in their original order, so
    # it is not the reverse of the ascending one: sort the reversed array, map back.
    order = np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)
    return (x.shape[axis] - 1 - order).astype(_dtypes.INDEX_DTYPE, copy=False)


# Sorting is always stable: a stable sort is also a valid unstable one.
_declare(Op("sort", _same_infer, _sort_impl, kind="index"))
_declare(Op("argsort", _argsort_infer, _argsort_impl, kind="index"))


def _isin_infer(inputs, *, invert):
    return inputs[0].shape, _dtypes.bool


def _isin_impl(x1, x2, *, invert):
    return np.isin(x1, x2, invert=invert)


# Both inputs have their common dtype; membership is value equality, so NaN is in nothing.
_declare(Op("isin", _isin_infer, _isin_impl, kind="index"))


# ----------------------------------------------------------------------------- data-dependent sizes
# Outside ``xp.jit`` the namespace computes what these depend on and builds constants of
# concrete shapes; inside it, these nodes carry unknown (None) sizes into the program.
def _nonzero_infer(inputs, *, axis, size, fill_value):
    return (size,), _dtypes.INDEX_DTYPE


def _nonzero_impl(x, *, axis, size, fill_value):
    found = np.nonzero(x)[axis].astype(_dtypes.INDEX_DTYPE, copy=False)
    if size is None:
        return found
    out = np.full(size, fill_value, dtype=_dtypes.INDEX_DTYPE)
    kept = min(size, found.size)
    out[:kept] = found[:kept]
    return out


# The indices of x's non-zero elements along ``axis`` of x (one node per axis, as in
# ``np.nonzero``). With a static ``size``: the first ``size`` of them, padded with
# ``fill_value`` (JAX's ``jnp.nonzero(size=...)``), a concrete shape even inside jit.
_declare(Op("nonzero", _nonzero_infer, _nonzero_impl, kind="index"))


def unique_parts(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First indices, inverse indices and counts of the unique values of a 1-D array.

    Values are ascending (NaNs last); uniqueness is ``==``, so every NaN is distinct
    and ``-0.0`` equals ``0.0``.
    """
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    # NOTE: ``!=`` makes every NaN (and complex value with a NaN part) a new value.
    new = np.ones(flat.size, dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    inverse = np.empty(flat.size, dtype=_dtypes.INDEX_DTYPE)
    inverse[order] = np.cumsum(new) - 1
    counts = np.diff(np.append(starts, flat.size))
    index = _dtypes.INDEX_DTYPE
    return order[starts].astype(index, copy=False), inverse, counts.astype(index, copy=False)


UNIQUE_PARTS = ("indices", "inverse", "counts")


def _unique_infer(inputs, *, part):
    shape = inputs[0].shape if part == "inverse" else (None,)
    return shape, _dtypes.INDEX_DTYPE


def _unique_impl(x, *, part):
    return unique_parts(x)[UNIQUE_PARTS.index(part)]


# One ``part`` of ``unique_parts`` of a 1-D x; the values are ``take(x, indices)``.
_declare(Op("unique", _unique_infer, _unique_impl, kind="index"))


def _repeat_index_infer(inputs, *, axis):
    return (None,), _dtypes.INDEX_DTYPE


def _repeat_index_impl(counts, x, *, axis):
    n = x.shape[axis]
    if counts.size not in (1, n):
        raise ValueError(f"repeat: {counts.size} repeats for an axis of length {n}")
    if (counts < 0).any():
        raise ValueError(f"repeat: repeats must be non-negative, got {counts.min()}")
    return np.repeat(np.arange(n, dtype=_dtypes.INDEX_DTYPE), np.broadcast_to(counts, (n,)))


# The indices along ``axis`` of x that ``repeat`` takes for 1-D ``counts`` known only at
# run time: i, ``counts[i]`` times (one count: the same for every i). Only x's shape is read.
_declare(Op("repeat_index", _repeat_index_infer, _repeat_index_impl, kind="index"))


def _size_of_infer(inputs, *, axes, dtype):
    return (), dtype


def _size_of_impl(x, *, axes, dtype):
    return np.asarray(math.prod(x.shape[a] for a in axes), dtype=dtype)


# How many elements x has along ``axes``, as a 0-d ``dtype`` value read when the program
# runs: the count of ``mean`` over an axis of unknown size.
_declare(Op("size_of", _size_of_infer, _size_of_impl, kind="shape"))


def _setitem_impl(x, value, *indices, key):
    out = np.array(x, copy=True)
    index = decode_key(key, indices)
    extra = value.ndim - out[index].ndim
    if extra > 0:
        # NOTE: the standard broadcasts leading unit axes away; NumPy refuses them for
        # boolean-mask assignment.
        value = value.reshape(value.shape[extra:])
    out[index] = value
    return out


def decode_key(key: tuple, indices: tuple) -> tuple:
    """A NumPy index from ``setitem``'s static key and its index-array inputs."""
    out = []
    for entry in key:
        tag = entry[0] if type(entry) is tuple else None
        if tag == "s":
            out.append(slice(*entry[1:]))
        elif tag == "a":
            out.append(indices[entry[1]])
        elif tag == "b":
            out.append(entry[1])
        else:
            out.append(entry)
    return tuple(out)


# ``x`` with ``value`` (x's dtype, broadcastable to ``x[key]``) written at ``key``: the
# functional form of ``x[key] = value``. ``key`` holds ints, None, Ellipsis, ("s", start,
# stop, step) slices, ("b", flag) scalar booleans and ("a", i) for index-array input i.
_declare(Op("setitem", _same_infer, _setitem_impl, kind="index"))


def check_dynamic_start(start: int, size: int, dim: int, axis: int) -> None:
    """``IndexError`` unless a window of ``size`` at ``start`` fits in an axis of ``dim``.

    No clamping (JAX) and no wrap-around (Python): a start computed at run time that
    points outside the array is a bug in the caller's arithmetic, so it is reported.
    """
    if start < 0:
        raise IndexError(
            f"dynamic slice of length {size} starting at {start} starts before the beginning "
            f"of axis {axis} (size {dim}); a start computed at run time never wraps around"
        )
    if start > dim - size:
        raise IndexError(
            f"dynamic slice of length {size} starting at {start} runs past the end of axis "
            f"{axis} (size {dim})"
        )


def _dynamic_window(x_shape: Shape, starts: tuple, sizes: Shape) -> tuple[slice, ...]:
    window = []
    for axis, (start, size, dim) in enumerate(zip(starts, sizes, x_shape)):
        start = int(start)
        check_dynamic_start(start, size, dim, axis)
        window.append(slice(start, start + size))
    return tuple(window)


def _dynamic_slice_infer(inputs, *, sizes):
    return sizes, inputs[0].dtype


def _dynamic_slice_impl(x, *starts, sizes):
    return x[_dynamic_window(x.shape, starts, sizes)]


# ``x[s0:s0+n0, s1:s1+n1, ...]`` with the starts (0-d index-dtype inputs, one per axis of
# x) known only at run time and the sizes static. The result is a view of x, so it is an
# "index" op: run by ``run_node`` (which names the user's line in the IndexError of a bad
# start), never fused, and, as every NumPy step, taken as a possible alias of its input.
_declare(Op("dynamic_slice", _dynamic_slice_infer, _dynamic_slice_impl, kind="index"))


def _dynamic_update_slice_impl(x, update, *starts):
    out = np.array(x, copy=True)
    out[_dynamic_window(x.shape, starts, update.shape)] = update
    return out


# ``x`` with ``update`` (x's dtype and number of axes) written at run-time offsets ``starts``:
# the transpose of ``dynamic_slice`` (its cotangent is written into zeros).
_declare(Op("dynamic_update_slice", _same_infer, _dynamic_update_slice_impl, kind="index"))


# ----------------------------------------------------------------------------- reductions
def reduced_shape(shape: Shape, axes: tuple[int, ...], keepdims: bool) -> Shape:
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


class Reduction(Op):
    """A reduction over ``axes`` (a sorted tuple of non-negative axes).

    ``dtype_rule(input dtype, requested dtype) -> output dtype``.
    """

    kind = "reduction"

    def __init__(self, name: str, impl: Callable, dtype_rule: Callable):
        super().__init__(name, self._infer, impl)
        self.dtype_rule = dtype_rule

    def _infer(self, inputs, *, axes, keepdims, dtype=None):
        x = inputs[0]
        return reduced_shape(x.shape, axes, keepdims), self.dtype_rule(x.dtype, dtype)


def accumulation_dtype(d: np.dtype, requested: np.dtype | None) -> np.dtype:
    """sum/prod: small integers accumulate in the default integer dtype (NumPy, standard)."""
    if requested is not None:
        return requested
    if _dtypes.is_bool(d) or d.kind == "i":
        return _dtypes.DEFAULT_INT
    if d.kind == "u":
        return _dtypes.DEFAULT_UINT
    return d


def _keep(d, requested):
    return d


def _to_bool(d, requested):
    return _dtypes.bool


def _to_index(d, requested):
    return _dtypes.INDEX_DTYPE


def _sum_impl(x, *, axes, keepdims, dtype=None):
    return np.sum(x, axis=axes, dtype=dtype, keepdims=keepdims)


def _prod_impl(x, *, axes, keepdims, dtype=None):
    return np.prod(x, axis=axes, dtype=dtype, keepdims=keepdims)


def _arg_impl(fn):
    def impl(x, *, axes, keepdims):
        if len(axes) == x.ndim and x.ndim != 1:
            out = fn(x.reshape(-1))
            return np.reshape(out, (1,) * x.ndim if keepdims else ())
        return fn(x, axis=axes[0], keepdims=keepdims)

    return impl


_declare(Reduction("sum", _sum_impl, accumulation_dtype))
_declare(Reduction("prod", _prod_impl, accumulation_dtype))
_declare(
    Reduction("max", lambda x, *, axes, keepdims: np.max(x, axis=axes, keepdims=keepdims), _keep)
)
_declare(
    Reduction("min", lambda x, *, axes, keepdims: np.min(x, axis=axes, keepdims=keepdims), _keep)
)
_declare(
    Reduction("all", lambda x, *, axes, keepdims: np.all(x, axis=axes, keepdims=keepdims), _to_bool)
)
_declare(
    Reduction("any", lambda x, *, axes, keepdims: np.any(x, axis=axes, keepdims=keepdims), _to_bool)
)
# argmax/argmin reduce one axis, or all of them (axes is then every axis).
_declare(Reduction("argmax", _arg_impl(np.argmax), _to_index))
_declare(Reduction("argmin", _arg_impl(np.argmin), _to_index))


class Scan(Op):
    """A cumulative reduction along one axis."""

    kind = "scan"

    def __init__(self, name: str, impl: Callable):
        super().__init__(name, self._infer, impl)

    def _infer(self, inputs, *, axis, include_initial, dtype):
        shape = list(inputs[0].shape)
        if shape[axis] is not None:
            shape[axis] += int(include_initial)
        return tuple(shape), accumulation_dtype(inputs[0].dtype, dtype)


def _scan_impl(fn):
    def impl(x, *, axis, include_initial, dtype):
        return fn(x, axis=axis, dtype=dtype, include_initial=include_initial)

    return impl


_declare(Scan("cumulative_sum", _scan_impl(np.cumulative_sum)))
_declare(Scan("cumulative_prod", _scan_impl(np.cumulative_prod)))


# ----------------------------------------------------------------------------- linear algebra
def _matmul_infer(inputs, **params):
    a, b = inputs
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return batch + (a.shape[-2], b.shape[-1]), a.dtype


# Both operands are at least 2-D here; the namespace adds and removes the unit
# axes of 1-D operands, as matmul's definition does.
_declare(Op("matmul", _matmul_infer, np.matmul, kind="linalg"))


# The linalg extension's decompositions call NumPy's LAPACK wrappers. A function with
# several results (``eigh``, ``qr``, ``svd``, ``slogdet``, ``eig``) is one op whose
# ``part`` attribute picks the result: each part is its own node, and a VJP rule can
# build the sibling parts it needs (interning makes them the same nodes).
def complex_dtype(d: np.dtype) -> np.dtype:
    return _dtypes.complex64 if d in (_dtypes.float32, _dtypes.complex64) else _dtypes.complex128


def _square_infer(inputs, **params):
    return inputs[0].shape, inputs[0].dtype


def _det_infer(inputs):
    return inputs[0].shape[:-2], inputs[0].dtype


def _eigh_infer(inputs, *, part):
    x = inputs[0]
    if part == 0:
        return x.shape[:-1], _dtypes.real_dtype(x.dtype)
    return x.shape, x.dtype


def _eig_infer(inputs, *, part):
    x = inputs[0]
    return (x.shape[:-1] if part == 0 else x.shape), complex_dtype(x.dtype)


def _eig_impl(x, *, part):
    return np.linalg.eig(x)[part].astype(complex_dtype(x.dtype), copy=False)


def _qr_infer(inputs, *, mode, part):
    x = inputs[0]
    m, n = x.shape[-2:]
    k = m if mode == "complete" else min(m, n)
    return x.shape[:-2] + ((m, k) if part == 0 else (k, n)), x.dtype


def _slogdet_infer(inputs, *, part):
    x = inputs[0]
    return x.shape[:-2], x.dtype if part == 0 else _dtypes.real_dtype(x.dtype)


def _solve_infer(inputs):
    a, b = inputs
    if b.ndim == 1:
        return a.shape[:-1], a.dtype
    return broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], a.dtype


def _svd_infer(inputs, *, full_matrices, part):
    x = inputs[0]
    m, n = x.shape[-2:]
    k = min(m, n)
    if part == 1:
        return x.shape[:-2] + (k,), _dtypes.real_dtype(x.dtype)
    if part == 0:
        return x.shape[:-2] + (m, m if full_matrices else k), x.dtype
    return x.shape[:-2] + (n if full_matrices else k, n), x.dtype


def _svdvals_infer(inputs):
    x = inputs[0]
    return x.shape[:-2] + (min(x.shape[-2:]),), _dtypes.real_dtype(x.dtype)


def _pinv_infer(inputs):
    x = inputs[0]
    return x.shape[:-2] + x.shape[-2:][::-1], x.dtype


def _pinv_impl(x, rtol):
    # NOTE: the standard's cutoff is rtol times the largest singular value, NumPy's rcond.
    return np.linalg.pinv(x, rcond=rtol)


_declare(
    Op(
        "cholesky",
        _square_infer,
        lambda x, *, upper: np.linalg.cholesky(x, upper=upper),
        kind="linalg",
    )
)
_declare(Op("det", _det_infer, np.linalg.det, kind="linalg"))
_declare(Op("eigh", _eigh_infer, lambda x, *, part: np.linalg.eigh(x)[part], kind="linalg"))
_declare(Op("eig", _eig_infer, _eig_impl, kind="linalg"))
_declare(Op("inv", _square_infer, np.linalg.inv, kind="linalg"))
_declare(
    Op("matrix_power", _square_infer, lambda x, *, n: np.linalg.matrix_power(x, n), kind="linalg")
)
_declare(Op("pinv", _pinv_infer, _pinv_impl, kind="linalg"))
_declare(
    Op("qr", _qr_infer, lambda x, *, mode, part: np.linalg.qr(x, mode=mode)[part], kind="linalg")
)
_declare(
    Op("slogdet", _slogdet_infer, lambda x, *, part: np.linalg.slogdet(x)[part], kind="linalg")
)
_declare(Op("solve", _solve_infer, np.linalg.solve, kind="linalg"))
_declare(
    Op(
        "svd",
        _svd_infer,
        lambda x, *, full_matrices, part: np.linalg.svd(x, full_matrices=full_matrices)[part],
        kind="linalg",
    )
)
_declare(Op("svdvals", _svdvals_infer, np.linalg.svdvals, kind="linalg"))


# ----------------------------------------------------------------------------- fft
# ``axes`` and ``s`` are normalized by the namespace: one output length per axis (for
# the real transforms, the length of the full real signal).
def _fft_infer(complex_out: bool, half: bool):
    def infer(inputs, *, s, axes, norm):
        shape = list(inputs[0].shape)
        for size, axis in zip(s, axes):
            shape[axis] = size
        if half:
            shape[axes[-1]] = s[-1] // 2 + 1
        d = inputs[0].dtype
        return tuple(shape), complex_dtype(d) if complex_out else _dtypes.real_dtype(d)

    return infer


def _fft_impl(fn: Callable, complex_out: bool):
    def impl(x, *, s, axes, norm):
        out = fn(x, s=s, axes=axes, norm=norm)
        d = complex_dtype(x.dtype) if complex_out else _dtypes.real_dtype(x.dtype)
        return out.astype(d, copy=False)

    return impl


def _hfft_impl(fn: Callable, complex_out: bool):
    def impl(x, *, s, axes, norm):
        out = fn(x, n=s[0], axis=axes[0], norm=norm)
        d = complex_dtype(x.dtype) if complex_out else _dtypes.real_dtype(x.dtype)
        return out.astype(d, copy=False)

    return impl


_declare(Op("fft", _fft_infer(True, False), _fft_impl(np.fft.fftn, True), kind="linalg"))
_declare(Op("ifft", _fft_infer(True, False), _fft_impl(np.fft.ifftn, True), kind="linalg"))
_declare(Op("rfft", _fft_infer(True, True), _fft_impl(np.fft.rfftn, True), kind="linalg"))
_declare(Op("irfft", _fft_infer(False, False), _fft_impl(np.fft.irfftn, False), kind="linalg"))
_declare(Op("hfft", _fft_infer(False, False), _hfft_impl(np.fft.hfft, False), kind="linalg"))
_declare(Op("ihfft", _fft_infer(True, True), _hfft_impl(np.fft.ihfft, True), kind="linalg"))


# ``alpha * (a @ b)``, plus ``beta * c`` where a third operand ``c`` (broadcast to the
# result) is given: the BLAS GEMM of 2-D float matrices, formed by the specialize
# rewrites only (after grad has run). This NumPy form is the reference; compile/blas.py
# installs as the impl a direct BLAS call, which reads transposed operands in place.
def _gemm_impl(a, b, *c, alpha, beta=None):
    out = alpha * np.matmul(a, b)
    return out + beta * c[0] if c else out


_declare(
    Op(
        "gemm",
        lambda inputs, **params: ((inputs[0].shape[0], inputs[1].shape[1]), inputs[0].dtype),
        _gemm_impl,
        kind="linalg",
    )
)


def all_ops() -> list[Op]:
    return list(REGISTRY.values())
