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
from .c_kernels import C_TYPES, expression

REDUCTIONS = ("sum", "prod", "max", "min")


def supported(node: Node) -> bool:
    """Whether ``node`` is a reduction this module compiles."""
    if node.value is not None or node.op.kind != "reduction" or node.op.name not in REDUCTIONS:
        return False
    x = node.inputs[0]
    params = dict(node.attrs)
    if x.ndim == 0 or params["axes"] != (x.ndim - 1,):
        return False
    if x.dtype not in C_TYPES or node.dtype not in C_TYPES or x.dtype.kind == "b":
        return False
    # NOTE: NumPy sums floats through a cast in buffered chunks: its order is not ours.
    return not (node.dtype.kind == "f" and node.dtype != x.dtype)


def reduction_source(
    name: str, reduction: Node, members: Sequence[Node], reads: Sequence[Node]
) -> str:
    """The kernel: one output per row of the reduction's input, rows in parallel."""
    x = reduction.inputs[0]
    acc = C_TYPES[reduction.dtype]
    kind = reduction.op.name
    arrays = [j for j, r in enumerate(reads) if r.shape != ()]
    fields = [f"const {C_TYPES[reads[j].dtype]} *p{j}; int64_t t{j};" for j in arrays]
    fields += [f"{C_TYPES[r.dtype]} s{j};" for j, r in enumerate(reads) if r.shape == ()]
    names: dict[Node, str] = {}
    loads = []
    for j, r in enumerate(reads):
        names[r] = f"c->s{j}" if r.shape == () else f"r{j}"
        if r.shape != ():
            loads.append(f"    const {C_TYPES[r.dtype]} r{j} = c->p{j}[i * c->t{j}];")
    for k, m in enumerate(members):
        loads.append(
            f"    const {C_TYPES[m.dtype]} v{k} = {expression(m, [names[i] for i in m.inputs])};"
        )
        names[m] = f"v{k}"
    ctx = f"ctx_{name}"
    lines = [
        f"typedef struct {{ {' '.join(fields)} }} {ctx};",
        f"static inline {acc} value_{name}(const {ctx} *c, int64_t i) {{",
        *loads,
        f"    return ({acc}){names[x]};",
        "}",
    ]
    if kind == "sum" and reduction.dtype.kind == "f":
        lines += _pairwise(name, ctx, acc)
        row = f"pairwise_{name}(&c, 0, n) + ({acc})0"
    else:
        lines += _sequential(name, ctx, acc, kind)
        row = f"sequential_{name}(&c, n)"
    lines += [
        f"void {name}(int64_t ndim, const int64_t *restrict shape, "
        "const int64_t *restrict strides, void **restrict args, void *restrict out, "
        "int64_t nthreads, int64_t parallel_min)",
        "{",
        "    int64_t n = shape[ndim - 1], rows = 1;",
        "    for (int64_t d = 0; d + 1 < ndim; d++) rows *= shape[d];",
        f"    {acc} *restrict o = ({acc} *)out;",
        "    #pragma omp parallel for if(rows * n >= parallel_min) num_threads(nthreads)",
        "    for (int64_t row = 0; row < rows; row++) {",
        f"        {ctx} c;",
    ]
    for k, j in enumerate(arrays):
        lines.append(
            f"        c.p{j} = (const {C_TYPES[reads[j].dtype]} *)args[{j}];"
            f" c.t{j} = strides[{k} * ndim + ndim - 1];"
        )
    for j, r in enumerate(reads):
        if r.shape == ():
            lines.append(f"        c.s{j} = *(const {C_TYPES[r.dtype]} *)args[{j}];")
    lines += [
        "        int64_t rest = row;",
        "        for (int64_t d = ndim - 2; d >= 0; d--) {",
        "            int64_t k = rest % shape[d]; rest /= shape[d];",
        *(f"            c.p{j} += k * strides[{i} * ndim + d];" for i, j in enumerate(arrays)),
        "        }",
        f"        o[row] = {row};",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _pairwise(name: str, ctx: str, acc: str) -> list[str]:
    """NumPy's pairwise summation (numpy/_core/src/umath/loops_utils.h.src), over values."""
    return [
        f"static {acc} pairwise_{name}(const {ctx} *c, int64_t s, int64_t n) {{",
        "    if (n < 8) {",
        f"        {acc} res = 0;",
        f"        for (int64_t i = 0; i < n; i++) res += value_{name}(c, s + i);",
        "        return res;",
        "    }",
        "    if (n <= 128) {",
        f"        {acc} r[8];",
        f"        for (int j = 0; j < 8; j++) r[j] = value_{name}(c, s + j);",
        "        int64_t i;",
        "        for (i = 8; i < n - (n % 8); i += 8)",
        f"            for (int j = 0; j < 8; j++) r[j] += value_{name}(c, s + i + j);",
        f"        {acc} res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));",
        f"        for (; i < n; i++) res += value_{name}(c, s + i);",
        "        return res;",
        "    }",
        "    int64_t n2 = n / 2;",
        "    n2 -= n2 % 8;",
        f"    return pairwise_{name}(c, s, n2) + pairwise_{name}(c, s + n2, n - n2);",
        "}",
    ]


def _sequential(name: str, ctx: str, acc: str, kind: str) -> list[str]:
    step = {
        "sum": "a = a + v;",
        "prod": "a = a * v;",
        "max": "a = (a >= v || a != a) ? a : v;",
        "min": "a = (a <= v || a != a) ? a : v;",
    }[kind]
    first = "0" if kind == "sum" else "1" if kind == "prod" else f"value_{name}(c, 0)"
    start = "1" if kind in ("max", "min") else "0"
    return [
        f"static {acc} sequential_{name}(const {ctx} *c, int64_t n) {{",
        f"    {acc} a = {first};",
        f"    for (int64_t i = {start}; i < n; i++) {{",
        f"        const {acc} v = value_{name}(c, i);",
        f"        {step}",
        "    }",
        "    return a;",
        "}",
    ]
