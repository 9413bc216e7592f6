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

from collections.abc import Callable

import numpy as np

from . import _dtypes
from ._errors import TracerConversionError

Shape = tuple[int, ...]


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
    """The broadcast of several shapes; ``ValueError`` naming them if incompatible."""
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
        size = 1
        for s in shapes:
            if len(s) >= -i:
                d = s[i]
                if d != 1:
                    if size != 1 and d != size:
                        shown = " and ".join(str(tuple(s)) for s in shapes)
                        raise ValueError(f"shapes {shown} cannot be broadcast together")
                    size = d
        out.append(size)
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

for _name, _ufunc in _UFUNCS.items():
    _declare(Elementwise(_name, _ufunc.nin, _ufunc, ufunc=_ufunc))

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


_declare(Op("reshape", _reshape_infer, lambda x, *, shape: np.reshape(x, shape), kind="shape"))


def _broadcast_infer(inputs, *, shape):
    return shape, inputs[0].dtype


_declare(
    Op(
        "broadcast_to",
        _broadcast_infer,
        lambda x, *, shape: np.broadcast_to(x, shape),
        kind="shape",
    )
)


def _permute_infer(inputs, *, axes):
    shape = inputs[0].shape
    return tuple(shape[a] for a in axes), inputs[0].dtype


_declare(Op("permute_dims", _permute_infer, lambda x, *, axes: np.transpose(x, axes), kind="shape"))


def slice_length(start: int, stop: int | None, step: int) -> int:
    return len(range(start, -1 if stop is None else stop, step))


def _slice_infer(inputs, *, slices):
    return tuple(slice_length(*s) for s in slices), inputs[0].dtype


def _slice_impl(x, *, slices):
    return x[tuple(slice(*s) for s in slices)]


# ``slices`` holds one normalized (start, stop, step) per axis; stop is None when a
# negative step runs past the first element.
_declare(Op("slice", _slice_infer, _slice_impl, kind="shape"))


def _concat_infer(inputs, *, axis):
    shape = list(inputs[0].shape)
    shape[axis] = sum(x.shape[axis] for x in inputs)
    return tuple(shape), inputs[0].dtype


_declare(Op("concat", _concat_infer, lambda *xs, axis: np.concatenate(xs, axis=axis), kind="shape"))


# ----------------------------------------------------------------------------- indexing
def _gather_infer(inputs, *, spec):
    x, indices = inputs[0], inputs[1:]
    index_shape = broadcast_shapes(*(i.shape for i in indices))
    positions = [a for a, s in enumerate(spec) if s >= 0]
    rest = [x.shape[a] for a, s in enumerate(spec) if s < 0]
    contiguous = positions == list(range(positions[0], positions[-1] + 1))
    at = positions[0] if contiguous else 0
    before = [x.shape[a] for a in range(at) if spec[a] < 0]
    return tuple(before) + index_shape + tuple(rest[len(before) :]), x.dtype


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


def all_ops() -> list[Op]:
    return list(REGISTRY.values())
