"""Reduction kernels: a reduction over the last axis fused with the elementwise work feeding it.

``sum(exp(x - m), axis=-1)`` becomes one pass over ``x``: each row's values are
computed in registers and accumulated, never stored. Sums of floats add in
NumPy's own pairwise order (blocks of 8 lanes, halves above 128), so results
equal NumPy's summation of the materialized array bit for bit; max and min
propagate NaN as NumPy does.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._graph import Node
from .c_kernels import C_TYPES, dispatch, expression, read_class, signature

REDUCTIONS = ("sum", "prod", "max", "min", "argmax", "argmin", "all", "any")
_COMPARING = ("argmax", "argmin", "all", "any")  # values keep their own dtype


def supported(node: Node) -> bool:
    """Whether ``node`` is a reduction this module compiles."""
    if node.value is not None or node.op.kind != "reduction" or node.op.name not in REDUCTIONS:
        return False
    x = node.inputs[0]
    params = dict(node.attrs)
    if x.ndim == 0 or None in x.shape or len(params["axes"]) != 1:
        return False
    if x.dtype not in C_TYPES or node.dtype not in C_TYPES:
        return False
    if node.op.name in _COMPARING:
        return node.op.name in ("all", "any") or x.dtype.kind != "b"
    if x.dtype.kind == "b":
        return False
    # NOTE: NumPy sums floats through a cast in buffered chunks: its order is not ours.
    return not (node.dtype.kind == "f" and node.dtype != x.dtype)


def reduced_axis(node: Node) -> int:
    """The one axis a supported reduction reduces; kernels iterate with it last."""
    return dict(node.attrs)["axes"][0]


def innermost(node: Node) -> bool:
    """Whether the reduced axis is the innermost one that varies: NumPy then sums in
    pairwise order; over another axis it adds whole rows in sequence."""
    x = node.inputs[0]
    return all(d == 1 for d in x.shape[reduced_axis(node) + 1 :])


def reduction_source(
    name: str, reduction: Node, members: Sequence[Node], reads: Sequence[Node]
) -> str:
    """The kernel: one output per row of the reduction's input, rows in parallel."""
    x = reduction.inputs[0]
    kind = reduction.op.name
    last = innermost(reduction)
    out_type = C_TYPES[reduction.dtype]
    # The values' type: what is accumulated, or for argmax/argmin what is compared.
    acc = C_TYPES[x.dtype] if kind in _COMPARING else out_type
    arrays = [j for j, r in enumerate(reads) if r.shape != ()]
    fields = [f"const {C_TYPES[reads[j].dtype]} *p{j}; int64_t t{j};" for j in arrays]
    fields += [f"{C_TYPES[r.dtype]} s{j};" for j, r in enumerate(reads) if r.shape == ()]
    fields.append("int unit;")

    def value(unit: bool) -> list[str]:
        names: dict[Node, str] = {}
        loads = []
        for j, r in enumerate(reads):
            names[r] = f"c->s{j}" if r.shape == () else f"r{j}"
            if r.shape != ():
                index = "i" if unit else f"i * c->t{j}"
                if unit and read_class(r, x.shape) == "r":
                    index = "0"  # constant along the row: the same element for every i
                loads.append(f"    const {C_TYPES[r.dtype]} r{j} = c->p{j}[{index}];")
        for k, m in enumerate(members):
            expr = expression(m, [names[i] for i in m.inputs])
            loads.append(f"    const {C_TYPES[m.dtype]} v{k} = {expr};")
            names[m] = f"v{k}"
        return [*loads, f"    return ({acc}){names[x]};"]

    ctx = f"ctx_{name}"
    lines = [
        f"typedef struct {{ {' '.join(fields)} }} {ctx};",
        f"static inline {acc} value_{name}(const {ctx} *c, int64_t i) {{",
        *value(False),
        "}",
        f"static inline {acc} unit_{name}(const {ctx} *c, int64_t i) {{",
        *value(True),
        "}",
        "/* A block of at most 128 values, computed in a loop the compiler vectorizes. */",
        f"static inline void fill_{name}(const {ctx} *c, int64_t s, int64_t n, {acc} *b) {{",
        "    if (c->unit) {",
        "        #pragma omp simd",
        f"        for (int64_t i = 0; i < n; i++) b[i] = unit_{name}(c, s + i);",
        "    } else {",
        f"        for (int64_t i = 0; i < n; i++) b[i] = value_{name}(c, s + i);",
        "    }",
        "}",
    ]
    if kind in ("argmax", "argmin"):
        lines += _arg(name, ctx, acc, kind)
        row = f"arg_{name}(&c, n)"
    elif kind in ("all", "any"):
        lines += _logical(name, ctx, acc, kind)
        row = f"logical_{name}(&c, n)"
    elif kind == "sum" and reduction.dtype.kind == "f" and last:
        lines += _pairwise(name, ctx, acc)
        row = f"pairwise_{name}(&c, 0, n) + ({acc})0"
    elif kind == "sum" and reduction.dtype.kind == "f":
        # NOTE: over another axis NumPy adds whole rows in order: sequential per element.
        lines += _sequential(name, ctx, acc)
        row = f"sequential_{name}(&c, n)"
    else:
        lines += _blocked(name, ctx, acc, kind, reduction.dtype.kind == "f")
        row = f"blocked_{name}(&c, n)"
    lines += [
        dispatch(name, len(reads)),
        signature(name + "_part", len(reads), 1, "int64_t part, int64_t parts, "),
        "{",
        "    int64_t n = shape[ndim - 1], rows = 1;",
        "    for (int64_t d = 0; d + 1 < ndim; d++) rows *= shape[d];",
        f"    {out_type} *restrict o = ({out_type} *)out;",
        "    const int64_t lo = rows * part / parts, hi = rows * (part + 1) / parts;",
        "    for (int64_t row = lo; row < hi; row++) {",
        f"        {ctx} c;",
    ]
    for k, j in enumerate(arrays):
        lines.append(
            f"        c.p{j} = (const {C_TYPES[reads[j].dtype]} *)arg{j};"
            f" c.t{j} = strides[{k} * ndim + ndim - 1];"
        )
    for j, r in enumerate(reads):
        if r.shape == ():
            lines.append(f"        c.s{j} = *(const {C_TYPES[r.dtype]} *)arg{j};")
    lines += [
        "        int64_t rest = row;",
        "        for (int64_t d = ndim - 2; d >= 0; d--) {",
        "            int64_t k = rest % shape[d]; rest /= shape[d];",
        *(f"            c.p{j} += k * strides[{i} * ndim + d];" for i, j in enumerate(arrays)),
        "        }",
        "        c.unit = "
        + ("1" if last else "0")
        + "".join(
            f" && c.t{j} == {0 if read_class(reads[j], x.shape) == 'r' else 1}" for j in arrays
        )
        + ";",
        f"        o[row] = {row};",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _pairwise(name: str, ctx: str, acc: str) -> list[str]:
    """NumPy's pairwise summation (numpy/_core/src/umath/loops_utils.h.src), over values."""
    return [
        f"static {acc} pairwise_{name}(const {ctx} *c, int64_t s, int64_t n) {{",
        f"    {acc} b[128];",
        "    if (n < 8) {",
        f"        fill_{name}(c, s, n, b);",
        f"        {acc} res = 0;",
        "        for (int64_t i = 0; i < n; i++) res += b[i];",
        "        return res;",
        "    }",
        "    if (n <= 128) {",
        f"        fill_{name}(c, s, n, b);",
        f"        {acc} r[8];",
        "        for (int j = 0; j < 8; j++) r[j] = b[j];",
        "        int64_t i;",
        "        for (i = 8; i < n - (n % 8); i += 8)",
        "            for (int j = 0; j < 8; j++) r[j] += b[i + j];",
        f"        {acc} res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));",
        "        for (; i < n; i++) res += b[i];",
        "        return res;",
        "    }",
        "    int64_t n2 = n / 2;",
        "    n2 -= n2 % 8;",
        f"    return pairwise_{name}(c, s, n2) + pairwise_{name}(c, s + n2, n - n2);",
        "}",
    ]


def _blocked(name: str, ctx: str, acc: str, kind: str, floating: bool) -> list[str]:
    """Products, integer sums, max and min: exact in any order, so eight lanes over
    blocks of computed values, combined at the end. Float max/min keep a separate
    NaN flag so the lanes vectorize, and return NaN if any value was NaN."""
    step = {
        "sum": "r[j] = r[j] + v;",
        "prod": "r[j] = r[j] * v;",
        "max": "r[j] = v > r[j] ? v : r[j];",
        "min": "r[j] = v < r[j] ? v : r[j];",
    }[kind]
    track_nan = floating and kind in ("max", "min")
    if track_nan:
        step += " nan[j] |= (v != v);"
    start = "0" if kind == "sum" else "1" if kind == "prod" else "b[0]"
    combine = step.split(" nan[j]")[0].replace("r[j]", "r[0]").replace("v", "r[j]")
    lines = [
        f"static {acc} blocked_{name}(const {ctx} *c, int64_t n) {{",
        f"    {acc} b[128], r[8];",
        "    int nan[8] = {0, 0, 0, 0, 0, 0, 0, 0};",
        f"    fill_{name}(c, 0, n < 128 ? n : 128, b);",
        f"    for (int j = 0; j < 8; j++) r[j] = {start};",
        "    for (int64_t s = 0; s < n; s += 128) {",
        "        int64_t m = n - s < 128 ? n - s : 128;",
        f"        if (s) fill_{name}(c, s, m, b);",
        "        int64_t i = 0;",
        "        for (; i + 8 <= m; i += 8)",
        f"            for (int j = 0; j < 8; j++) {{ const {acc} v = b[i + j]; {step} }}",
        f"        for (int j = 0; i < m; i++, j++) {{ const {acc} v = b[i]; {step} }}",
        "    }",
        f"    for (int j = 1; j < 8; j++) {{ {combine} nan[0] |= nan[j]; }}",
    ]
    if track_nan:
        lines.append(f"    if (nan[0]) return ({acc})NAN;")
    lines += ["    return r[0];", "}"]
    return lines


def _arg(name: str, ctx: str, value_type: str, kind: str) -> list[str]:
    """The index of the first maximum (minimum); the first NaN wins, as in NumPy."""
    better = ">" if kind == "argmax" else "<"
    return [
        f"static int64_t arg_{name}(const {ctx} *c, int64_t n) {{",
        f"    {value_type} b[128], best = 0;",
        "    int64_t index = 0;",
        "    for (int64_t s = 0; s < n; s += 128) {",
        "        int64_t m = n - s < 128 ? n - s : 128;",
        f"        fill_{name}(c, s, m, b);",
        "        for (int64_t i = 0; i < m; i++) {",
        f"            const {value_type} v = b[i];",
        "            if (v != v) return s + i;",
        f"            if (s + i == 0 || v {better} best) {{ best = v; index = s + i; }}",
        "        }",
        "    }",
        "    return index;",
        "}",
    ]


def _logical(name: str, ctx: str, value_type: str, kind: str) -> list[str]:
    """all/any, stopping at the first value that decides (NaN counts as true)."""
    decides = "v == 0" if kind == "all" else "v != 0"
    found = "0" if kind == "all" else "1"
    return [
        f"static uint8_t logical_{name}(const {ctx} *c, int64_t n) {{",
        f"    {value_type} b[128];",
        "    for (int64_t s = 0; s < n; s += 128) {",
        "        int64_t m = n - s < 128 ? n - s : 128;",
        f"        fill_{name}(c, s, m, b);",
        "        for (int64_t i = 0; i < m; i++) {",
        f"            const {value_type} v = b[i];",
        f"            if ({decides}) return {found};",
        "        }",
        "    }",
        f"    return {1 - int(found)};",
        "}",
    ]


def _sequential(name: str, ctx: str, acc: str) -> list[str]:
    return [
        f"static {acc} sequential_{name}(const {ctx} *c, int64_t n) {{",
        f"    {acc} a = 0;",
        f"    for (int64_t i = 0; i < n; i++) a = a + value_{name}(c, i);",
        "    return a;",
        "}",
    ]
