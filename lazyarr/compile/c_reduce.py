"""Reduction kernels: a reduction over the last axis fused with the elementwise work feeding it.

``sum(exp(x - m), axis=-1)`` becomes one pass over ``x``: each row's values are
computed in registers and accumulated, never stored. Sums of floats add in
NumPy's own pairwise order (blocks of 8 lanes, halves above 128), so results
equal NumPy's summation of the materialized array bit for bit; except where the
values are not exactly rounded (``exp``, ``log``, ...: never NumPy's bits anyway),
which add in registers as they are computed (``_registers``). Max and min
propagate NaN as NumPy does.

A reduction over the last axis whose result the next work over the same rows reads
(``m`` in ``sum(exp(x - m))``) runs with it in one row kernel (``row_chains``,
``row_source``): per row, one pass after another, the row in cache after the first.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._graph import Node
from .c_kernels import C_TYPES, dispatch, exactly_rounded, expression, read_class, signature

# Elements per row at most for a row kernel: 64 KiB of float32, in L2 between passes.
ROW_MAX = 1 << 14
# A sum in registers (``_registers``): LANES accumulators, blocks of at most LEAF values.
LANES = 16
LEAF = 1024
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
    arrays = [j for j, r in enumerate(reads) if r.shape != ()]
    lines, row = _reducer(name, reduction, members, reads, set())
    lines += [
        dispatch(name, len(reads)),
        signature(name + "_part", len(reads), 1, "int64_t part, int64_t parts, "),
        "{",
        "    int64_t n = shape[ndim - 1], rows = 1;",
        "    for (int64_t d = 0; d + 1 < ndim; d++) rows *= shape[d];",
        f"    {C_TYPES[reduction.dtype]} *restrict o = ({C_TYPES[reduction.dtype]} *)out;",
        "    const int64_t lo = rows * part / parts, hi = rows * (part + 1) / parts;",
        "    for (int64_t row = lo; row < hi; row++) {",
        f"        ctx_{name} c;",
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
        + ("1" if innermost(reduction) else "0")
        + "".join(
            f" && c.t{j} == {0 if read_class(reads[j], x.shape) == 'r' else 1}" for j in arrays
        )
        + ";",
        f"        o[row] = {row};",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _reducer(
    name: str,
    reduction: Node,
    members: Sequence[Node],
    reads: Sequence[Node],
    scalars: set[Node],
    ahead: Sequence[int] = (),
) -> tuple[list[str], str]:
    """The functions that reduce one row, and the C expression that calls them on the
    row context ``c`` (fields ``p``/``t`` per array read, ``s`` per 0-d read or read in
    ``scalars``, ``unit`` when every array is contiguous along the row).

    ``ahead``: reads (indices) whose next row a sum in registers prefetches as it goes
    (field ``f`` per read; a row kernel's later pass, while the first pass's next row
    comes from memory)."""
    x = reduction.inputs[0]
    kind = reduction.op.name
    last = innermost(reduction)
    out_type = C_TYPES[reduction.dtype]
    # The values' type: what is accumulated, or for argmax/argmin what is compared.
    acc = C_TYPES[x.dtype] if kind in _COMPARING else out_type
    scalar = [r.shape == () or r in scalars for r in reads]
    fields = [
        f"const {C_TYPES[r.dtype]} *p{j}; int64_t t{j};"
        for j, r in enumerate(reads)
        if not scalar[j]
    ]
    fields += [f"{C_TYPES[r.dtype]} s{j};" for j, r in enumerate(reads) if scalar[j]]
    registers = (
        kind == "sum"
        and reduction.dtype.kind == "f"
        and last
        and not all(exactly_rounded(m) for m in members)
    )
    if registers:
        fields += [f"const {C_TYPES[reads[j].dtype]} *f{j};" for j in ahead]
    fields.append("int unit;")

    def value(unit: bool) -> list[str]:
        names: dict[Node, str] = {}
        loads = []
        for j, r in enumerate(reads):
            names[r] = f"c->s{j}" if scalar[j] else f"r{j}"
            if not scalar[j]:
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
        "/* A block of values, computed in a loop the compiler vectorizes. */",
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
    elif registers:
        prefetch = [(j, reads[j].dtype.itemsize) for j in ahead]
        lines += _registers(name, ctx, acc, prefetch)
        row = f"registers_{name}(&c, 0, n)"
    elif kind == "sum" and reduction.dtype.kind == "f" and last:
        direct = (
            not members
            and x not in scalars
            and read_class(x, x.shape) == "a"
            and C_TYPES[x.dtype] == acc
        )
        lines += _pairwise(name, ctx, acc, direct)
        row = f"pairwise_{name}(&c, 0, n) + ({acc})0"
    elif kind == "sum" and reduction.dtype.kind == "f":
        # NOTE: over another axis NumPy adds whole rows in order: sequential per element.
        lines += _sequential(name, ctx, acc)
        row = f"sequential_{name}(&c, n)"
    else:
        direct = not members and kind in ("max", "min")
        lines += _blocked(name, ctx, acc, kind, reduction.dtype.kind == "f", direct)
        row = f"blocked_{name}(&c, n)"
    return lines, row


def row_chains(
    order: Sequence[Node],
    groups: dict[Node, list[Node]],
    space: dict[Node, tuple],
    readers: dict[Node, set[Node]],
    outs: set[Node],
) -> list[list[Node]]:
    """Kernels that run as one row kernel: the roots of each chain, in pass order.

    A chain ends in a tail kernel (a reduction over the last axis, elementwise work over
    its rows, or elementwise work over one value per row) and takes in the kernels over
    the same rows whose results only the chain reads: reductions over the last axis,
    kept along the row (keepdims) where elementwise work over the rows reads them, and
    elementwise work over the rows, whose row the kernel keeps in a buffer. Each row
    is then read from memory once, by the first pass; the later passes find it in
    cache (``logsumexp``: the max, the sum of exps, the log, per row; ``softmax``: the
    max, the exps and their sum, the quotients). Rows longer than ``ROW_MAX`` would not
    stay in cache between the passes and are left alone.
    """
    position = {node: k for k, node in enumerate(order)}
    group_of = {m: root for root, members in groups.items() for m in members}

    def per_row(root: Node) -> bool:
        x = root.inputs[0]
        return (
            root.op.kind == "reduction"
            and reduced_axis(root) == x.ndim - 1
            and 0 < x.shape[-1] <= ROW_MAX
        )

    def over_rows(root: Node) -> bool:
        shape = space[root]
        return root.op.kind == "elementwise" and len(shape) > 0 and 0 < shape[-1] <= ROW_MAX

    def joins(p: Node, chain: set[Node], full: tuple, tail: Node) -> bool:
        """Whether kernel ``p`` over ``full`` can run as a pass of ``chain``."""
        rows = full[:-1]
        if space[p] != full or space[tail] not in (full, (*rows, 1), rows):
            return False
        if any(m in outs for m in groups[p]):
            return False
        for m in groups[p]:
            for r in readers.get(m, ()):
                if group_of.get(r) == p:
                    continue
                if group_of.get(r) not in chain:
                    return False
                if m.op.kind == "reduction":
                    epilogue = group_of[r] == tail and space[tail] != full
                    if m.shape != (space[tail] if epilogue else (*rows, 1)):
                        return False
                elif space[group_of[r]] != full:
                    return False
        return True

    taken: set[Node] = set()
    chains = []
    for tail in sorted(groups, key=lambda r: -max(position[m] for m in groups[r])):
        if tail in taken or not (per_row(tail) or tail.op.kind == "elementwise"):
            continue
        chain, full = {tail}, space[tail] if per_row(tail) else None
        grown = True
        while grown:
            grown = False
            for i in {i for g in chain for m in groups[g] for i in m.inputs}:
                p = group_of.get(i)
                if p is None or p in chain or p in taken:
                    continue
                if (per_row(p) or (over_rows(p) and full)) and joins(
                    p, chain, full or space[p], tail
                ):
                    chain.add(p)
                    full = space[p]
                    grown = True
        if not any(per_row(g) for g in chain - {tail}):
            continue
        if space[tail] == full[:-1] and any(
            i.shape != () and group_of.get(i) not in chain for m in groups[tail] for i in m.inputs
        ):
            continue  # NOTE: a read of one value per row without keepdims: not along rows
        taken |= chain
        chains.append(sorted(chain, key=lambda r: max(position[m] for m in groups[r])))
    return chains


def row_source(
    name: str,
    stages: Sequence[list[Node]],
    reads: Sequence[Node],
    results: Sequence[Node],
    full: tuple,
) -> str:
    """A row kernel: for each row of ``full``, the passes of ``stages`` (the members of
    each chained kernel, see ``row_chains``) in turn; rows in parallel.

    A reduction's value per row is a local variable that later passes read; an
    elementwise pass before the last stores its row in a buffer of the thread's (at
    most ``ROW_MAX`` elements, on the stack), which later passes read. Sums add in the
    same order as alone, so results are bit-identical to the kernels run one after
    another. The last reduction pass after the first prefetches the next row of the
    arrays it reads, if it sums in registers (``_registers``): the first pass of the
    next row then finds it in cache.
    """
    arrays = [j for j, r in enumerate(reads) if r.shape != ()]
    names: dict[Node, str] = {r: f"s{j}" for j, r in enumerate(reads) if r.shape == ()}
    # Per array read, and per row kept in a buffer: the row's pointer and stride.
    rows: dict[Node, tuple[str, str]] = {reads[j]: (f"q{j}", f"t{j}") for j in arrays}
    lines = [
        f"static inline int64_t offset_{name}(int64_t row, int64_t ndim, const int64_t *shape,"
        " const int64_t *strides) {",
        "    int64_t offset = 0;",
        "    for (int64_t d = ndim - 2; d >= 0; d--) {",
        "        offset += row % shape[d] * strides[d]; row /= shape[d];",
        "    }",
        "    return offset;",
        "}",
    ]
    buffers = []
    body = [
        f"        const {C_TYPES[reads[j].dtype]} *q{j} = "
        f"(const {C_TYPES[reads[j].dtype]} *)arg{j}"
        f" + offset_{name}(row, ndim, shape, strides + {k} * ndim);"
        f" const int64_t t{j} = strides[{k} * ndim + ndim - 1];"
        for k, j in enumerate(arrays)
    ]

    def stage_reads(members: Sequence[Node]) -> list[Node]:
        inside = set(members)
        return list(dict.fromkeys(i for m in members for i in m.inputs if i not in inside))

    later = [k for k, stage in enumerate(stages) if k and stage[-1].op.kind == "reduction"]
    ahead_pass = later[-1] if later else None

    def reduce(label: str, members: list[Node], c: str, ahead: bool) -> str:
        """Adds the reduction pass of ``members``; returns its value for the row."""
        used = stage_reads(members)
        scalars = {r for r in used if r in names and r not in reads}
        fetched = [
            j
            for j, r in enumerate(used)
            if ahead and r in reads and r not in scalars and read_class(r, full) == "a"
        ]
        more, row = _reducer(f"{name}_{label}", members[-1], members[:-1], used, scalars, fetched)
        lines.extend(more)
        body.append(f"        ctx_{name}_{label} {c};")
        if f"registers_{name}_{label}" in row:
            for j in fetched:
                i = reads.index(used[j])
                t = C_TYPES[used[j].dtype]
                body.append(
                    f"        {c}.f{j} = row + 1 < hi ? (const {t} *)arg{i} + offset_{name}"
                    f"(row + 1, ndim, shape, strides + {arrays.index(i)} * ndim) : q{i};"
                )
        unit = []
        for j, r in enumerate(used):
            if r.shape == () or r in scalars:
                body.append(f"        {c}.s{j} = {names[r]};")
            else:
                pointer, stride = rows[r]
                body.append(f"        {c}.p{j} = {pointer}; {c}.t{j} = {stride};")
                if stride != "1":  # NOTE: rows kept in buffers are contiguous
                    unit.append(f" && {stride} == {0 if read_class(r, full) == 'r' else 1}")
        body.append(f"        {c}.unit = 1{''.join(unit)};")
        return row.replace("(&c,", f"(&{c},")

    for k, members in enumerate(stages[:-1]):
        if members[-1].op.kind == "reduction":
            value = reduce(str(k), members, f"c{k}", k == ahead_pass)
            names[members[-1]] = f"a{k}"
            body.append(f"        const {C_TYPES[members[-1].dtype]} a{k} = {value};")
            continue
        later = {i for stage in stages[k + 1 :] for m in stage for i in m.inputs}
        kept = [m for m in members if m in later]
        for m in kept:
            buffer = f"b{len(buffers)}"
            buffers.append(f"    {C_TYPES[m.dtype]} {buffer}[n > 0 ? n : 1];")
            rows[m] = (buffer, "1")
        stores = [(m, rows[m][0]) for m in kept]
        body += _row_map(members, stage_reads(members), stores, names, rows, full)
    tail = stages[-1]
    if tail[-1].op.kind == "reduction":
        value = reduce("t", tail, "c", len(stages) - 1 == ahead_pass)
        body.append(f"        o0[row] = {value};")
    elif tail[-1].shape == full:
        stores = [(r, f"o{k} + row * n") for k, r in enumerate(results)]
        body += _row_map(tail, stage_reads(tail), stores, names, rows, full)
    else:
        names.update({r: f"q{j}[0]" for j, r in enumerate(reads) if r.shape != ()})
        body += _row_values(tail, names, "        ")
        body += [f"        o{k}[row] = {names[r]};" for k, r in enumerate(results)]
    lines += [
        dispatch(name, len(reads), len(results)),
        signature(name + "_part", len(reads), len(results), "int64_t part, int64_t parts, "),
        "{",
        "    int64_t n = shape[ndim - 1], rows = 1;",
        "    for (int64_t d = 0; d + 1 < ndim; d++) rows *= shape[d];",
        *(
            f"    {C_TYPES[r.dtype]} *restrict o{k} = ({C_TYPES[r.dtype]} *)out{k or ''};"
            for k, r in enumerate(results)
        ),
        *(
            f"    const {C_TYPES[r.dtype]} s{j} = *(const {C_TYPES[r.dtype]} *)arg{j};"
            for j, r in enumerate(reads)
            if r.shape == ()
        ),
        *buffers,
        "    const int64_t lo = rows * part / parts, hi = rows * (part + 1) / parts;",
        "    for (int64_t row = lo; row < hi; row++) {",
        *body,
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _row_values(members: Sequence[Node], names: dict[Node, str], indent: str) -> list[str]:
    """``members`` computed from ``names`` (C expressions of their inputs), which gains
    theirs."""
    lines = []
    for m in members:
        names[m] = f"w{len(names)}"
        expr = expression(m, [names[i] for i in m.inputs])
        lines.append(f"{indent}const {C_TYPES[m.dtype]} {names[m]} = {expr};")
    return lines


def _row_map(
    members: Sequence[Node],
    used: Sequence[Node],
    stores: Sequence[tuple[Node, str]],
    names: dict[Node, str],
    rows: dict[Node, tuple[str, str]],
    full: tuple,
) -> list[str]:
    """An elementwise pass over the row: ``members`` from the ``used`` values (row
    values in ``names``, rows in ``rows``), each of ``stores`` (a member, the row's
    pointer) stored. Vectorized where every row read is contiguous."""
    along = [r for r in used if r in rows and read_class(r, full) != "r"]
    fixed = {r: f"{rows[r][0]}[0]" for r in used if r in rows and r not in along}

    def loop(strided: bool) -> list[str]:
        here = {**names, **fixed}
        for r in along:
            pointer, stride = rows[r]
            here[r] = f"{pointer}[i * {stride}]" if strided else f"{pointer}[i]"
        return [
            *_row_values(members, here, "                "),
            *(f"                ({pointer})[i] = {here[m]};" for m, pointer in stores),
        ]

    unit = " && ".join(f"{rows[r][1]} == 1" for r in along if rows[r][1] != "1")
    contiguous = [
        "            #pragma omp simd",
        "            for (int64_t i = 0; i < n; i++) {",
        *loop(False),
        "            }",
    ]
    if not unit:
        return [line[4:] for line in contiguous]
    return [
        f"        if ({unit}) {{",
        *contiguous,
        "        } else {",
        "            for (int64_t i = 0; i < n; i++) {",
        *loop(True),
        "            }",
        "        }",
    ]


def _registers(
    name: str, ctx: str, acc: str, prefetch: Sequence[tuple[int, int]] = ()
) -> list[str]:
    """A float sum of values that are not exactly rounded (``exp``, ``log``, ...): they
    differ from NumPy's anyway, so NumPy's order (``_pairwise``, through a buffer) buys
    nothing. The values add into ``LANES`` accumulators in registers as they are
    computed, in blocks of at most ``LEAF`` values, whose lanes combine as a tree; the
    blocks combine pairwise (splits at multiples of ``LANES``, so that only the last
    block has a partial step). At worst about LEAF / LANES + log2(n) roundings from the
    exact sum; on random rows of exps up to 16384 long, 2-4 ulps (NumPy's order: 1-2).
    Strided rows add in the same order as contiguous ones, to the same bits.

    ``prefetch``: (read, bytes per element) of the reads whose next row (field ``f``)
    is prefetched as the contiguous loop goes, a cache line per 64 bytes of the row.
    """
    value = f"unit_{name}(c, s + i + j)"
    fetch = [
        f"            __builtin_prefetch(c->f{j} + s + i + {k * 64 // size});"
        for j, size in prefetch
        for k in range(max(1, LANES * size // 64))
    ]
    return [
        f"static {acc} registers_{name}(const {ctx} *c, int64_t s, int64_t n) {{",
        f"    if (n > {LEAF}) {{",
        "        int64_t n2 = n / 2;",
        f"        n2 -= n2 % {LANES};",
        f"        return registers_{name}(c, s, n2) + registers_{name}(c, s + n2, n - n2);",
        "    }",
        f"    {acc} r[{LANES}];",
        f"    for (int j = 0; j < {LANES}; j++) r[j] = 0;",
        "    int64_t i = 0;",
        "    if (c->unit) {",
        f"        for (; i + {LANES} <= n; i += {LANES}) {{",
        *fetch,
        f"            for (int j = 0; j < {LANES}; j++) r[j] += {value};",
        "        }",
        f"        for (int j = 0; i < n; i++, j++) r[j] += unit_{name}(c, s + i);",
        "    } else {",
        f"        for (; i + {LANES} <= n; i += {LANES})",
        f"            for (int j = 0; j < {LANES}; j++) r[j] += value_{name}(c, s + i + j);",
        f"        for (int j = 0; i < n; i++, j++) r[j] += value_{name}(c, s + i);",
        "    }",
        f"    for (int w = {LANES // 2}; w; w /= 2)",
        "        for (int j = 0; j < w; j++) r[j] += r[j + w];",
        "    return r[0];",
        "}",
    ]


def _pairwise(name: str, ctx: str, acc: str, direct: bool = False) -> list[str]:
    """NumPy's pairwise summation (numpy/_core/src/umath/loops_utils.h.src), over values.

    Up to 2048 values are computed in one loop into a buffer and summed there (filling
    in blocks of 128 leaves the loop's pipeline to drain after every block). Each block
    of at most 128 values adds into eight lanes, one chain of dependent additions; where
    both halves of a split are such blocks, their two chains run in one loop, so that
    they overlap. ``direct``: the values are the elements of a contiguous row, summed in
    place, block after block as NumPy does, each loop prefetching 512 bytes ahead
    (``stream_``): two blocks read at once defeat the hardware prefetcher on rows from
    memory (a 24-million-element row took 2.6 times NumPy's time on an AMD EPYC), where
    in cache they gain about 10 %. The order of the additions is NumPy's either way.
    """
    tree = "((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))"
    return [
        f"static {acc} sum_{name}(const {acc} *b, int64_t n) {{",
        "    if (n < 8) {",
        f"        {acc} res = 0;",
        "        for (int64_t i = 0; i < n; i++) res += b[i];",
        "        return res;",
        "    }",
        "    if (n <= 128) {",
        f"        {acc} r[8];",
        "        for (int j = 0; j < 8; j++) r[j] = b[j];",
        "        int64_t i;",
        "        for (i = 8; i < n - (n % 8); i += 8)",
        "            for (int j = 0; j < 8; j++) r[j] += b[i + j];",
        f"        {acc} res = {tree};",
        "        for (; i < n; i++) res += b[i];",
        "        return res;",
        "    }",
        "    int64_t n2 = n / 2;",
        "    n2 -= n2 % 8;",
        f"    if (n - n2 > 128) return sum_{name}(b, n2) + sum_{name}(b + n2, n - n2);",
        f"    const {acc} *b2 = b + n2;",
        "    const int64_t end = (n - n2) - (n - n2) % 8;",
        f"    {acc} r[8], q[8];",
        "    for (int j = 0; j < 8; j++) { r[j] = b[j]; q[j] = b2[j]; }",
        "    int64_t i;",
        "    for (i = 8; i < n2 && i < end; i += 8)",
        "        for (int j = 0; j < 8; j++) { r[j] += b[i + j]; q[j] += b2[i + j]; }",
        "    for (int64_t k = i; k < n2; k += 8)",
        "        for (int j = 0; j < 8; j++) r[j] += b[k + j];",
        "    for (int64_t k = i; k < end; k += 8)",
        "        for (int j = 0; j < 8; j++) q[j] += b2[k + j];",
        f"    const {acc} left = {tree};",
        f"    {acc} right = {tree.replace('r[', 'q[')};",
        "    for (int64_t k = end; k < n - n2; k++) right += b2[k];",
        "    return left + right;",
        "}",
        *(_stream(name, acc) if direct else []),
        f"static __attribute__((noinline)) {acc} block_{name}(const {ctx} *c, int64_t s,"
        " int64_t n) {",
        *([f"    if (c->unit) return stream_{name}(c->p0 + s, n);"] if direct else []),
        f"    {acc} b[2048];",
        f"    fill_{name}(c, s, n, b);",
        f"    return sum_{name}(b, n);",
        "}",
        f"static {acc} pairwise_{name}(const {ctx} *c, int64_t s, int64_t n) {{",
        f"    if (n <= 2048) return block_{name}(c, s, n);",
        "    int64_t n2 = n / 2;",
        "    n2 -= n2 % 8;",
        f"    return pairwise_{name}(c, s, n2) + pairwise_{name}(c, s + n2, n - n2);",
        "}",
    ]


def _stream(name: str, acc: str) -> list[str]:
    """NumPy's pairwise sum of a contiguous row in memory, as NumPy writes it: blocks of
    at most 128 values one after another, a cache line 512 bytes ahead prefetched at
    each step of eight values."""
    tree = "((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))"
    return [
        f"static {acc} stream_{name}(const {acc} *b, int64_t n) {{",
        "    if (n < 8) {",
        f"        {acc} res = 0;",
        "        for (int64_t i = 0; i < n; i++) res += b[i];",
        "        return res;",
        "    }",
        "    if (n > 128) {",
        "        int64_t n2 = n / 2;",
        "        n2 -= n2 % 8;",
        f"        return stream_{name}(b, n2) + stream_{name}(b + n2, n - n2);",
        "    }",
        f"    {acc} r[8];",
        "    for (int j = 0; j < 8; j++) r[j] = b[j];",
        "    int64_t i;",
        "    for (i = 8; i < n - (n % 8); i += 8) {",
        f"        __builtin_prefetch(b + i + 512 / sizeof({acc}), 0, 3);",
        "        for (int j = 0; j < 8; j++) r[j] += b[i + j];",
        "    }",
        f"    {acc} res = {tree};",
        "    for (; i < n; i++) res += b[i];",
        "    return res;",
        "}",
    ]


def _blocked(
    name: str, ctx: str, acc: str, kind: str, floating: bool, direct: bool = False
) -> list[str]:
    """Products, integer sums, max and min: exact in any order, so eight lanes over
    blocks of computed values, combined at the end. Float max/min keep a separate
    NaN flag so the lanes vectorize, and return NaN if any value was NaN.

    ``direct``: the values are the elements of a contiguous row (max or min of an
    array), read in place into sixteen lanes rather than copied into blocks first.
    """
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
    lines = [f"static {acc} blocked_{name}(const {ctx} *c, int64_t n) {{"]
    if direct:
        value = f"const {acc} v = unit_{name}(c,"
        lines += [
            "    if (c->unit && n >= 16) {",
            f"        {acc} r[16];",
            "        int nan[16] = {0};",
            f"        for (int j = 0; j < 16; j++) r[j] = unit_{name}(c, 0);",
            "        int64_t i = 0;",
            "        for (; i + 16 <= n; i += 16)",
            f"            for (int j = 0; j < 16; j++) {{ {value} i + j); {step} }}",
            f"        for (int j = 0; i < n; i++, j++) {{ {value} i); {step} }}",
            f"        for (int j = 1; j < 16; j++) {{ {combine} nan[0] |= nan[j]; }}",
            f"        return nan[0] ? ({acc})NAN : r[0];" if track_nan else "        return r[0];",
            "    }",
        ]
    lines += [
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
