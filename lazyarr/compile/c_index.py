"""Kernels for ops that move items to computed places: gathers, takes, concat, scans, searchsorted.

Each such node is a kernel of its own; nothing fuses into it. Gathers copy items
by their size, so every dtype moves through them, complex included. Every read is
taken in place whatever its strides (broadcast and negative ones too), and an
index out of range stops the kernel before it reads outside its array: the step
raises ``IndexError`` at the user's line, with NumPy's message.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence

import cffi
import numpy as np

from .. import config
from .._errors import format_location
from .._graph import Node
from .._ops import gather_index_start
from .buffers import allocator
from .c_kernels import C_TYPES, _cast
from .numpy_backend import run_node

_INDEX = np.dtype(np.int64)
# Item types by size: a gather copies bits, so only the width matters.
_ITEMS = {1: "uint8_t", 2: "uint16_t", 4: "uint32_t", 8: "uint64_t", 16: "lz_item16"}
_PRELUDE = "typedef struct { uint64_t lo, hi; } lz_item16;\n"

_ffi = cffi.FFI()


def supported(node: Node) -> bool:
    """Whether ``node`` is an op this module compiles, for its dtypes."""
    if node.value is not None or None in node.shape:
        return False  # NOTE: runners are built for the sizes known when tracing
    if any(None in i.shape for i in node.inputs):
        return False
    name = node.op.name
    if name in ("gather", "take", "take_along_axis"):
        return node.dtype.itemsize in _ITEMS and all(i.dtype == _INDEX for i in node.inputs[1:])
    if name == "concat":
        return node.dtype.itemsize in _ITEMS
    if name == "searchsorted":
        x1, x2 = node.inputs
        return x1.dtype == x2.dtype and x1.dtype in C_TYPES
    if name in ("cumulative_sum", "cumulative_prod"):
        x = node.inputs[0]
        return (
            x.dtype in C_TYPES
            and node.dtype in C_TYPES
            and node.dtype != np.bool_
            and not (x.dtype.kind == "f" and node.dtype.kind != "f")
        )
    return False


def kernel_name(node: Node) -> str:
    """A name for what the kernel's code depends on: the op, item and index types."""
    if node.op.name == "searchsorted":
        what = f"searchsorted:{node.inputs[0].dtype}:{dict(node.attrs)['side']}"
    elif node.op.name.startswith("cumulative"):
        what = f"{node.op.name}:{node.inputs[0].dtype}:{node.dtype}"
    else:
        what = f"move:{node.dtype.itemsize}:{len(_indexed(node))}"
    return "lz_" + hashlib.sha256(what.encode()).hexdigest()[:20]


def source(name: str, node: Node) -> str:
    if node.op.name == "searchsorted":
        return _searchsorted_source(name, node)
    if node.op.name.startswith("cumulative"):
        return _scan_source(name, node)
    return _move_source(name, node.dtype.itemsize, len(_indexed(node)))


def declaration(name: str, node: Node) -> str:
    if node.op.name == "searchsorted":
        return _SEARCH_SIGNATURE.format(name=name)
    if node.op.name.startswith("cumulative"):
        return _SCAN_SIGNATURE.format(name=name)
    return _move_signature(name, len(_indexed(node)))


def prelude() -> str:
    return _PRELUDE


# Below this many items (of the result, or of a scan's input) the kernel's call, a few
# microseconds of Python and libffi, costs more than the work: NumPy's own C loop runs
# instead, through the reference backend (the same result, the same errors).
SMALL = 1 << 14


def runner(fn, node: Node, parallel_min: int) -> Callable[..., list[np.ndarray]]:
    """``run(args, outs=None) -> [value]``: the Python side of the node's kernel, which
    runs on several threads from ``parallel_min`` items."""
    if max(node.size, node.inputs[0].size) < SMALL:

        def small(args: list[np.ndarray], outs: list | None = None) -> list[np.ndarray]:
            return [run_node(node, args)]

        return small
    if node.op.name == "searchsorted":
        make = _searchsorted_runner
    elif node.op.name.startswith("cumulative"):
        make = _scan_runner
    elif node.op.name == "concat":
        make = _concat_runner
    else:
        make = _move_runner
    return make(fn, node, parallel_min)


# ----------------------------------------------------------------------------- moves
# A move copies ``src`` into ``dst`` over the output's shape. Per output axis, each
# array advances by its stride (0 where it does not vary): ``strides`` holds a row of
# ``ndim`` element strides for src, one for dst, then one per index array. Index
# array k picks the position along one axis of src, whose stride and size are
# ``axes[2k]`` and ``axes[2k + 1]``; a negative index counts from the end.
def _move_parameters(k: int) -> str:
    indices = "".join(f", const int64_t *idx{j}" for j in range(k))
    return (
        "int64_t ndim, const int64_t *shape, const int64_t *strides, const int64_t *axes, "
        f"const void *src, void *dst, int64_t nthreads, int64_t parallel_min, int64_t *err{indices}"
    )


def _move_signature(name: str, k: int) -> str:
    return f"int64_t {name}({_move_parameters(k)})"


def _move_source(name: str, itemsize: int, k: int) -> str:
    item = _ITEMS[itemsize]
    args = ", ".join(
        ["ndim", "shape", "strides", "axes", "src", "dst", "nthreads", "parallel_min", "err"]
        + [f"idx{j}" for j in range(k)]
    )
    lines = [
        f"static int64_t {name}_rows(int64_t lo, int64_t hi, {_move_parameters(k)})",
        "{",
        f"    const {item} *x = (const {item} *)src;",
        f"    {item} *o = ({item} *)dst;",
        "    const int64_t inner = ndim ? shape[ndim - 1] : 1;",
        "    const int64_t ts = ndim ? strides[ndim - 1] : 0;",
        "    const int64_t to = ndim ? strides[2 * ndim - 1] : 0;",
    ]
    lines += [
        f"    const int64_t t{j} = ndim ? strides[({j} + 3) * ndim - 1] : 0;" for j in range(k)
    ]
    lines += [
        "    for (int64_t row = lo; row < hi; row++) {",
        "        int64_t rest = row, ps = 0, po = 0;",
        *(f"        int64_t p{j} = 0;" for j in range(k)),
        "        for (int64_t d = ndim - 2; d >= 0; d--) {",
        "            const int64_t c = rest % shape[d];",
        "            rest /= shape[d];",
        "            ps += c * strides[d];",
        "            po += c * strides[ndim + d];",
        *(f"            p{j} += c * strides[({j} + 2) * ndim + d];" for j in range(k)),
        "        }",
    ]

    def locate(i: str) -> list[str]:
        out = []
        for j in range(k):
            out += [
                f"{{ int64_t v = idx{j}[p{j} + {i} * t{j}];",
                f"  if (v < 0) v += axes[{2 * j + 1}];",
                f"  if (v < 0 || v >= axes[{2 * j + 1}]) {{",
                "    #pragma omp critical (lz_index_error)",
                f"    if (!err[3]) {{ err[0] = idx{j}[p{j} + {i} * t{j}]; "
                f"err[1] = axes[{2 * j + 1}]; err[2] = {j}; err[3] = 1; }}",
                "    return 1;",
                "  }",
                f"  at += v * axes[{2 * j}]; }}",
            ]
        return out

    constant = " && ".join(f"t{j} == 0" for j in range(k)) or "1"
    lines += [
        f"        if ({constant}) {{",
        "            int64_t at = ps;",
        *("            " + line for line in locate("0")),
        "            if (ts == 1 && to == 1) {",
        "                #pragma omp simd",
        "                for (int64_t i = 0; i < inner; i++) o[po + i] = x[at + i];",
        "            } else {",
        "                for (int64_t i = 0; i < inner; i++) o[po + i * to] = x[at + i * ts];",
        "            }",
        "            continue;",
        "        }",
        "        for (int64_t i = 0; i < inner; i++) {",
        "            int64_t at = ps + i * ts;",
        *("            " + line for line in locate("i")),
        "            o[po + i * to] = x[at];",
        "        }",
        "    }",
        "    return 0;",
        "}",
        _move_signature(name, k),
        "{",
        "    int64_t outer = 1;",
        "    for (int64_t d = 0; d + 1 < ndim; d++) outer *= shape[d];",
        "    const int64_t total = outer * (ndim ? shape[ndim - 1] : 1);",
        "    if (total == 0) return 0;",
        "    int64_t status = 0;",
        "    if (nthreads > 1 && outer > 1 && total >= parallel_min) {",
        "        #pragma omp parallel num_threads(nthreads) reduction(|:status)",
        "        {",
        "            const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();",
        f"            status |= {name}_rows(outer * t / n, outer * (t + 1) / n, {args});",
        "        }",
        "    } else {",
        f"        status = {name}_rows(0, outer, {args});",
        "    }",
        "    return status;",
        "}",
        "",
    ]
    return "\n".join(lines)


def _indexed(node: Node) -> list[tuple[int, int, tuple[int, ...]]]:
    """Per index array of a gather-like node: (its input position, the axis of x it
    picks along, for each output axis the index array's axis or -1)."""
    x, out = node.inputs[0], node.shape
    params = dict(node.attrs)
    name = node.op.name
    if name == "take":
        axis, idx = params["axis"], node.inputs[1]
        axes = (-1,) * axis + tuple(range(idx.ndim)) + (-1,) * (x.ndim - axis - 1)
        return [(1, axis, axes)]
    if name == "take_along_axis":
        axis, idx = params["axis"], node.inputs[1]
        return [(1, axis, _broadcast_axes(idx.shape, out, 0))]
    if name == "gather":
        spec = params["spec"]
        indexed = [a for a, s in enumerate(spec) if s >= 0]
        first, index_shape = _gather_layout(node)
        return [
            (
                spec[a] + 1,
                a,
                _broadcast_axes(node.inputs[spec[a] + 1].shape, index_shape, first, len(out)),
            )
            for a in indexed
        ]
    return []


def _gather_layout(node: Node) -> tuple[int, tuple[int, ...]]:
    """Where a gather's index dimensions start in its output, and their shape."""
    spec = dict(node.attrs)["spec"]
    first = gather_index_start(spec)
    index_ndim = node.ndim - sum(1 for s in spec if s < 0)
    return first, node.shape[first : first + index_ndim]


def _broadcast_axes(
    shape: tuple[int, ...], target: tuple[int, ...], at: int, ndim: int | None = None
) -> tuple[int, ...]:
    """For each of ``ndim`` output axes, the axis of an array of ``shape`` broadcast to
    ``target`` (placed from output axis ``at``), or -1 where it does not vary."""
    ndim = len(target) + at if ndim is None else ndim
    offset = len(target) - len(shape)
    axes = []
    for d in range(ndim):
        t = d - at
        a = t - offset
        inside = 0 <= t < len(target) and a >= 0
        axes.append(a if inside and not (shape[a] == 1 and target[t] != 1) else -1)
    return tuple(axes)


def _source_axes(node: Node) -> tuple[int, ...]:
    """For each output axis of a gather-like node, the axis of x it walks, or -1."""
    x, out = node.inputs[0], node.shape
    params = dict(node.attrs)
    name = node.op.name
    if name == "take":
        axis, k = params["axis"], node.inputs[1].ndim
        return tuple(range(axis)) + (-1,) * k + tuple(range(axis + 1, x.ndim))
    if name == "take_along_axis":
        axis = params["axis"]
        return tuple(
            -1 if d == axis or (x.shape[d] == 1 and out[d] != 1) else d for d in range(x.ndim)
        )
    spec = params["spec"]
    first, index_shape = _gather_layout(node)
    rest = [a for a, s in enumerate(spec) if s < 0]
    return tuple(rest[:first]) + (-1,) * len(index_shape) + tuple(rest[first:])


def _element_strides(a: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """``a`` (a contiguous copy if a stride is not a whole number of items) and its
    strides in items."""
    size = a.itemsize
    if any(s % size for s in a.strides):
        a = np.ascontiguousarray(a)
    return a, [s // size for s in a.strides]


def _pick(strides: list[int], axes: Sequence[int]) -> list[int]:
    return [0 if a < 0 else strides[a] for a in axes]


def _contiguous(shape: tuple[int, ...]) -> list[int]:
    out, step = [], 1
    for d in reversed(shape):
        out.append(step)
        step *= d
    return out[::-1]


def _raise(node: Node, err, position: int) -> None:
    value, size = int(err[0]), int(err[1])
    raise IndexError(
        f"index {value} is out of bounds for axis {position} with size {size} "
        f"(in {node.op.name} written at {format_location(node.loc)})"
    )


def _move_runner(fn, node: Node, parallel_min: int) -> Callable[..., list[np.ndarray]]:
    out_shape = node.shape
    ndim = len(out_shape)
    indexed = _indexed(node)
    src_axes = _source_axes(node)
    x_node = node.inputs[0]
    c_shape = _ffi.new("int64_t[]", list(out_shape) or [1])
    dst_strides = _contiguous(out_shape)
    new = allocator(out_shape, node.dtype)
    threads = config.num_threads()

    def run(args: list[np.ndarray], outs: list | None = None) -> list[np.ndarray]:
        out = new() if outs is None or outs[0] is None else outs[0]
        x, xs = _element_strides(args[0])
        strides = _pick(xs, src_axes) + dst_strides
        axes, keep = [], [x]
        for position, axis, idx_axes in indexed:
            idx, ix = _element_strides(args[position])
            keep.append(idx)
            strides += _pick(ix, idx_axes)
            axes += [xs[axis], x_node.shape[axis]]
        err = _ffi.new("int64_t[4]")
        status = fn(
            ndim,
            c_shape,
            _ffi.new("int64_t[]", strides),
            _ffi.new("int64_t[]", axes or [0]),
            _pointer(x),
            _ffi.from_buffer(out, require_writable=True),
            threads,
            parallel_min,
            err,
            *(_pointer(a) for a in keep[1:]),
        )
        if status:
            _raise(node, err, indexed[int(err[2])][1])
        return [out]

    return run


def _concat_runner(fn, node: Node, parallel_min: int) -> Callable[..., list[np.ndarray]]:
    """Each input is a move (with no index array) into its slab of the output."""
    axis = dict(node.attrs)["axis"]
    out_shape = node.shape
    dst_strides = _contiguous(out_shape)
    offsets = np.cumsum([0] + [i.shape[axis] for i in node.inputs[:-1]]).tolist()
    shapes = [_ffi.new("int64_t[]", list(i.shape) or [1]) for i in node.inputs]
    itemsize = node.dtype.itemsize
    new = allocator(out_shape, node.dtype)
    threads = config.num_threads()
    no_axes = _ffi.new("int64_t[1]")

    def run(args: list[np.ndarray], outs: list | None = None) -> list[np.ndarray]:
        out = new() if outs is None or outs[0] is None else outs[0]
        if out.size == 0:
            return [out]
        base = _ffi.cast("char *", _ffi.from_buffer(out, require_writable=True))
        err = _ffi.new("int64_t[4]")
        for a, shape, offset in zip(args, shapes, offsets):
            if a.size == 0:
                continue
            a, strides = _element_strides(a)
            fn(
                a.ndim,
                shape,
                _ffi.new("int64_t[]", strides + dst_strides),
                no_axes,
                _pointer(a),
                base + offset * dst_strides[axis] * itemsize,
                threads,
                parallel_min,
                err,
            )
        return [out]

    return run


def _pointer(a: np.ndarray):
    """The address of ``a``'s first item (views, negative strides included)."""
    return _ffi.cast("void *", a.__array_interface__["data"][0])


# ----------------------------------------------------------------------------- searchsorted
_SEARCH_SIGNATURE = (
    "void {name}(int64_t n, int64_t step, const void *sorted, int64_t ndim, "
    "const int64_t *shape, const int64_t *strides, const void *values, int64_t *out, "
    "int64_t nthreads, int64_t parallel_min)"
)


def _searchsorted_source(name: str, node: Node) -> str:
    """Binary search with NumPy's order: NaN sorts after everything, equal to NaN."""
    dtype = node.inputs[0].dtype
    t = C_TYPES[dtype]
    if dtype.kind == "f":
        less = "((a) < (b) || ((b) != (b) && (a) == (a)))"
    else:
        less = "((a) < (b))"
    left = dict(node.attrs)["side"] == "left"
    test = "LZ_LT(s[mid * step], v)" if left else "!LZ_LT(v, s[mid * step])"
    return "\n".join(
        [
            f"#define LZ_LT(a, b) {less}",
            f"static void {name}_rows(int64_t lo, int64_t hi, int64_t n, int64_t step, "
            f"const {t} *s, int64_t ndim, const int64_t *shape, const int64_t *strides, "
            f"const {t} *x, int64_t *out)",
            "{",
            "    const int64_t inner = ndim ? shape[ndim - 1] : 1;",
            "    const int64_t t = ndim ? strides[ndim - 1] : 0;",
            "    for (int64_t row = lo; row < hi; row++) {",
            "        int64_t rest = row, p = 0;",
            "        for (int64_t d = ndim - 2; d >= 0; d--) {",
            "            p += (rest % shape[d]) * strides[d];",
            "            rest /= shape[d];",
            "        }",
            "        for (int64_t i = 0; i < inner; i++) {",
            f"            const {t} v = x[p + i * t];",
            "            int64_t a = 0, b = n;",
            "            while (a < b) {",
            "                const int64_t mid = a + (b - a) / 2;",
            f"                if ({test}) a = mid + 1; else b = mid;",
            "            }",
            "            out[row * inner + i] = a;",
            "        }",
            "    }",
            "}",
            "#undef LZ_LT",
            _SEARCH_SIGNATURE.format(name=name),
            "{",
            "    int64_t outer = 1;",
            "    for (int64_t d = 0; d + 1 < ndim; d++) outer *= shape[d];",
            "    const int64_t total = outer * (ndim ? shape[ndim - 1] : 1);",
            f"    const {t} *s = (const {t} *)sorted, *x = (const {t} *)values;",
            "    if (nthreads > 1 && outer > 1 && total >= parallel_min) {",
            "        #pragma omp parallel num_threads(nthreads)",
            "        {",
            "            const int64_t t = omp_get_thread_num(), m = omp_get_num_threads();",
            f"            {name}_rows(outer * t / m, outer * (t + 1) / m, n, step, s, ndim, "
            "shape, strides, x, out);",
            "        }",
            "    } else {",
            f"        {name}_rows(0, outer, n, step, s, ndim, shape, strides, x, out);",
            "    }",
            "}",
            "",
        ]
    )


def _searchsorted_runner(fn, node: Node, parallel_min: int) -> Callable[..., list[np.ndarray]]:
    shape = node.shape
    c_shape = _ffi.new("int64_t[]", list(shape) or [1])
    new = allocator(shape, node.dtype)
    threads = config.num_threads()

    def run(args: list[np.ndarray], outs: list | None = None) -> list[np.ndarray]:
        out = new() if outs is None or outs[0] is None else outs[0]
        if out.size == 0:
            return [out]
        (s, (step,)), (x, strides) = _element_strides(args[0]), _element_strides(args[1])
        fn(
            s.shape[0],
            step,
            _pointer(s),
            x.ndim,
            c_shape,
            _ffi.new("int64_t[]", strides or [0]),
            _pointer(x),
            _ffi.cast("int64_t *", _ffi.from_buffer(out, require_writable=True)),
            threads,
            parallel_min,
        )
        return [out]

    return run


# ----------------------------------------------------------------------------- scans
# The input is seen as (outer, n, inner) with the scanned axis in the middle; the
# output, (outer, n + initial, inner), is C-contiguous. Each step adds (multiplies)
# in the output's dtype, in sequence, as NumPy's accumulate does.
_SCAN_SIGNATURE = (
    "void {name}(int64_t outer, int64_t n, int64_t inner, const int64_t *strides, "
    "const void *src, void *dst, int64_t initial, int64_t nthreads, int64_t parallel_min)"
)


def _scan_source(name: str, node: Node) -> str:
    x = node.inputs[0]
    xt, ot = C_TYPES[x.dtype], C_TYPES[node.dtype]
    op, start = ("+", "0") if node.op.name == "cumulative_sum" else ("*", "1")
    load = _cast("p[(i) * sn + (j) * sj]", x.dtype, node.dtype)
    return "\n".join(
        [
            f"#define LZ_LOAD(i, j) {load}",
            f"static void {name}_rows(int64_t lo, int64_t hi, int64_t n, int64_t inner, "
            f"const int64_t *strides, const {xt} *x, {ot} *o, int64_t initial)",
            "{",
            "    const int64_t sn = strides[1], sj = strides[2], m = n + initial;",
            "    for (int64_t a = lo; a < hi; a++) {",
            f"        const {xt} *p = x + a * strides[0];",
            f"        {ot} *q = o + a * m * inner;",
            f"        if (initial) for (int64_t j = 0; j < inner; j++) q[j] = {start};",
            "        if (n == 0) continue;",
            "        q += initial * inner;",
            "        if (inner == 1) {",
            f"            {ot} acc = LZ_LOAD(0, 0);",
            "            q[0] = acc;",
            "            for (int64_t i = 1; i < n; i++) {",
            f"                acc = acc {op} LZ_LOAD(i, 0);",
            "                q[i] = acc;",
            "            }",
            "            continue;",
            "        }",
            "        for (int64_t j = 0; j < inner; j++) q[j] = LZ_LOAD(0, j);",
            "        for (int64_t i = 1; i < n; i++) {",
            "            #pragma omp simd",
            f"            for (int64_t j = 0; j < inner; j++) "
            f"q[i * inner + j] = q[(i - 1) * inner + j] {op} LZ_LOAD(i, j);",
            "        }",
            "    }",
            "}",
            "#undef LZ_LOAD",
            _SCAN_SIGNATURE.format(name=name),
            "{",
            f"    const {xt} *x = (const {xt} *)src;",
            f"    {ot} *o = ({ot} *)dst;",
            "    if (nthreads > 1 && outer > 1 && outer * n * inner >= parallel_min) {",
            "        #pragma omp parallel num_threads(nthreads)",
            "        {",
            "            const int64_t t = omp_get_thread_num(), k = omp_get_num_threads();",
            f"            {name}_rows(outer * t / k, outer * (t + 1) / k, n, inner, strides, "
            "x, o, initial);",
            "        }",
            "    } else {",
            f"        {name}_rows(0, outer, n, inner, strides, x, o, initial);",
            "    }",
            "}",
            "",
        ]
    )


def _scan_runner(fn, node: Node, parallel_min: int) -> Callable[..., list[np.ndarray]]:
    params = dict(node.attrs)
    axis, initial = params["axis"], int(params["include_initial"])
    shape = node.inputs[0].shape
    outer, n, inner = math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :])
    new = allocator(node.shape, node.dtype)
    threads = config.num_threads()

    def run(args: list[np.ndarray], outs: list | None = None) -> list[np.ndarray]:
        out = new() if outs is None or outs[0] is None else outs[0]
        if out.size == 0:
            return [out]
        x = args[0]
        try:
            view = x.reshape((outer, n, inner), copy=False)
        except ValueError:
            view = np.ascontiguousarray(x).reshape(outer, n, inner)
        view, strides = _element_strides(view)
        fn(
            outer,
            n,
            inner,
            _ffi.new("int64_t[]", strides),
            _pointer(view),
            _ffi.from_buffer(out, require_writable=True),
            initial,
            threads,
            parallel_min,
        )
        return [out]

    return run
