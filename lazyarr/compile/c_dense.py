"""One kernel for a dense layer's gradient step: ``X @ W``, the work on its rows, ``X.T @ R``.

A training step of a linear model (softmax or logistic regression, least squares,
the last layer of a network) computes ``Z = X @ W`` (plus a bias), elementwise work
and reductions along each row of ``Z`` (a softmax, the loss, the residual ``R``),
column and full sums of them (the bias gradient, the mean loss), and
``X.T @ R`` (the weights' gradient, usually as ``W - lr * (X.T @ R)``). With
``k = W.shape[1]`` small, BLAS does the products at half the FMA rate (its kernels
are built for wide matrices) and reads ``X`` twice, from memory each time when the
minibatch is a fresh slice of the data. This kernel streams ``X`` once, in blocks of
``BLOCK`` rows (``VECTOR_BLOCK`` for a vector ``w``): it computes the block's dot
products in register tiles (``R x C`` outputs at a time, vectorized along ``d``), runs
the region row by row (storing only what other steps read, adding up the sums), then
adds ``R[i] (x) X[i]`` into a ``k x d`` accumulator while the block is still in cache.
Row blocks are split between threads, each with its own accumulators, which are added
in thread order at the end.

The pattern claimed: ``M1 = matmul(X, W)`` or ``gemm(X, W[, C1])`` with ``X`` of shape
``(n, d)`` and ``W`` of ``(d, k)`` (a vector ``w`` is ``reshape(w, (d, 1))``); region
nodes downstream of ``M1`` over its rows (``elementwise`` ops ``c_kernels.expression``
writes, reshapes between ``(n,)`` and ``(n, 1)``, float ``sum``/``max``/``min`` along
axis 1) whose other inputs are computed before the kernel, and nodes computed before
it whose only readers are the region; float ``sum``s of region values over axis 0
(or all axes); and ``M2 = matmul(permute_dims(X), R)`` or ``gemm(permute_dims(X), R[,
C2])``, ``R`` of shape ``(n, k)`` in the region. Sizes are run-time arguments, as in
every kernel. Dot products add in another order than BLAS (as any two BLAS builds do)
and, with a vector ``w``, in one that depends on X's offset from a vector (as in BLAS
builds that align their loads): equal inputs at other addresses may differ in the last
bits.
"""

from __future__ import annotations

import functools
import hashlib
import math
import threading
from collections.abc import Callable, Sequence
from typing import NamedTuple

import cffi
import numpy as np

from .._graph import Node
from .buffers import POOLED_MIN, allocator
from .c_kernels import C_TYPES, expression, signature

_ffi = cffi.FFI()
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_ROW_REDUCTIONS = ("sum", "max", "min")

# Rows per block: the block stays in L2 between its two products. With one column of
# W (logistic regression) the block is 8 rows, most of which the accumulation (running
# back from the last column) still finds in L1: one thread, 400 x 784 float64 step,
# 56.6 us at 16 rows, 55.0 at 8, 58.5 at 4 (the rows' work then waits on each block).
BLOCK = 16
VECTOR_BLOCK = 8
# Widest W claimed: beyond it BLAS's cache-blocked GEMM wins (one thread, 600 x 784
# float32 softmax step: 1.9x NumPy at k = 10, 1.0x at 32, 0.9x at 64).
K_MAX = 32
ACC_TILES = (12, 8, 4, 2)  # columns of R per pass of the accumulation, widest first


class Pattern(NamedTuple):
    x: Node  # the (n, d) matrix
    w: Node  # the (d, k) matrix, or the (d,) vector of a (d, 1) one
    m1: Node  # X @ W
    m2: Node | None  # X.T @ R, the (d, k) result (None: the rows' work only)
    r: Node | None  # R
    region: tuple[Node, ...]  # the row nodes, in order (M1 among them)
    sums: tuple[Node, ...]  # sums of region values over the rows
    members: tuple[Node, ...]  # every node the kernel computes
    reads: tuple[Node, ...]  # X, W, then the others, each once
    results: tuple[Node, ...]  # M2, the stored region values, the sums, the stored tail
    below: frozenset[Node]  # every node that depends on M1 (so on the kernel)
    tail: tuple[Node, ...] = ()  # the work on M2 and the sums, after the rows, in order
    kinds: tuple[str, ...] = ()  # per tail node: 'e' per element of M2, 's' one value, 'p' after
    last: tuple[Node, ...] = ()  # results stored after every read (``Kernel.last``)


def _product(node: Node) -> tuple[Node, Node, Node | None, float, float] | None:
    """``node`` as ``alpha * (a @ b) + beta * c`` of 2-D operands, or None."""
    if node.value is not None or node.ndim != 2 or node.dtype not in _FLOATS:
        return None
    if node.op.name == "matmul" and len(node.inputs) == 2:
        a, b = node.inputs
        return (a, b, None, 1.0, 0.0) if a.ndim == b.ndim == 2 else None
    if node.op.name == "gemm":
        c = node.inputs[2] if len(node.inputs) > 2 else None
        return node.inputs[0], node.inputs[1], c, node.params["alpha"], node.params.get("beta")
    return None


def _space(shape: tuple, n: int, k: int) -> str | None:
    """'v' for ``k`` values per row, 's' for one, None for neither."""
    if shape == (n, k) and k > 1:
        return "v"
    if shape in ((n,), (n, 1)):
        return "s"
    return None


def _view(shape: tuple, space: tuple) -> str:
    """How a value of ``shape`` broadcast over ``space`` (``(rows, cols)`` or ``(rows,)``)
    varies: 'v' along both, 's' along the rows, 'c' along the columns, '0' neither. A
    value spans an axis where it has the axis's size (a single row too, not a single
    column: one column is one value per row)."""
    lead = len(space) - len(shape)
    spans = [a >= lead and shape[a - lead] == space[a] for a in range(len(space))]
    rows = spans[0]
    cols = len(space) > 1 and spans[1] and space[1] > 1
    return {(True, True): "v", (True, False): "s", (False, True): "c"}.get((rows, cols), "0")


def _element(shape: tuple, space: tuple, index: Sequence[str]) -> str:
    """The offset of the element of a C-contiguous ``shape`` that broadcasting over
    ``space`` puts at ``index`` (C expressions, one per axis of ``space``). A row of
    a 2-D ``shape`` is ``k`` long, or 1."""
    if len(shape) == 2 and shape[0] != 1 and shape[1] != 1:
        return f"{index[len(space) - 2]} * k + {index[len(space) - 1]}"
    lead = len(space) - len(shape)
    varying = [index[a + lead] for a in range(len(shape)) if shape[a] != 1]
    return varying[0] if varying else "0"


def _row_reduction(node: Node, n: int, k: int) -> bool:
    if node.op.name not in _ROW_REDUCTIONS or node.value is not None or len(node.inputs) != 1:
        return False
    (x,) = node.inputs
    axes = tuple(a % 2 for a in (node.params.get("axes") or ())) if x.ndim == 2 else ()
    return (
        x.shape == (n, k)
        and axes == (1,)
        and x.dtype in _FLOATS
        and node.dtype == x.dtype
        and node.shape in ((n,), (n, 1))
    )


def _row_sum(node: Node, n: int, k: int) -> int:
    """How many values a sum over the rows of a region value keeps: ``k`` (one per
    column), 1 (the total), or 0 (not such a sum)."""
    if node.op.name != "sum" or node.value is not None or len(node.inputs) != 1:
        return 0
    (x,) = node.inputs
    if x.dtype not in _FLOATS or node.dtype != x.dtype or x.ndim not in (1, 2):
        return 0
    axes = node.params.get("axes")
    axes = tuple(sorted(a % x.ndim for a in axes)) if axes is not None else tuple(range(x.ndim))
    if axes == tuple(range(x.ndim)):
        return 1
    return k if axes == (0,) and x.shape == (n, k) else 0


def claim(
    order: Sequence[Node],
    outputs: Sequence[Node],
    readers: dict[Node, set[Node]],
    capable: Callable[[Node], bool],
) -> list[Pattern]:
    """The patterns found in ``order`` (each node in one at most)."""
    outs = set(outputs)
    position = {node: j for j, node in enumerate(order)}
    found: list[Pattern] = []
    needs: list[set[int]] = []  # per pattern found: those whose results it reads
    used: set[Node] = set()
    candidates = [(_match, node) for node in order] + [(_forward, node) for node in order]
    for match, node in candidates:
        p = match(node, order, position, outs, readers, capable, used)
        if p is None:
            continue
        reads = set(p.reads)
        before = {j for j, q in enumerate(found) if reads & q.below}
        after = {j for j, q in enumerate(found) if set(q.reads) & p.below}
        # NOTE: a kernel that reads, through other kernels or not, what it computes
        # would be a cycle.
        if any(_reaches(j, after, needs) for j in before):
            continue
        for j in after:
            needs[j].add(len(found))
        found.append(p)
        needs.append(before)
        used.update(p.members)
    return found


def _reaches(j: int, targets: set[int], needs: list[set[int]]) -> bool:
    """Whether pattern ``j`` reads, directly or through others, one of ``targets``."""
    seen, stack = set(), [j]
    while stack:
        i = stack.pop()
        if i in targets:
            return True
        if i not in seen:
            seen.add(i)
            stack.extend(needs[i])
    return False


def _match(m2, order, position, outs, readers, capable, used) -> Pattern | None:
    second = _product(m2)
    if second is None or m2 in used:
        return None
    pt, r, c2, _, _ = second
    if pt.op.name != "permute_dims" or tuple(pt.params.get("axes") or ()) != (1, 0):
        return None
    x = pt.inputs[0]
    if x.ndim != 2 or None in x.shape or x.dtype != m2.dtype or 0 in x.shape:
        return None
    n, d = x.shape
    k = m2.shape[1]
    if not 0 < k <= K_MAX or r.shape != (n, k) or r.dtype != x.dtype or r in used:
        return None
    if c2 is not None and (c2.dtype != x.dtype or len(c2.shape) > 2):
        return None
    for m1 in sorted(readers.get(x, ()), key=position.__getitem__):
        first = _product(m1)
        if (
            first is None
            or m1 in used
            or m1 is m2
            or first[0] is not x
            or m1.shape != (n, k)
            or first[1].shape != (d, k)
            or first[1].dtype != x.dtype
            or position[m1] > position[r]
        ):
            continue
        if first[2] is not None and (first[2].dtype != x.dtype or len(first[2].shape) > 2):
            continue
        p = _rows(m1, m2, x, r, c2, first, order, position, outs, readers, capable, used)
        if p is not None:
            return p
    return None


def _forward(m1, order, position, outs, readers, capable, used) -> Pattern | None:
    """``X @ W`` and the work on its rows without a product by ``X.T`` (a classifier's
    prediction, a loss): claimed where the rows are reduced (a softmax), the work
    BLAS's narrow products and separate passes do worst."""
    first = _product(m1)
    if first is None or m1 in used:
        return None
    x, w, c1 = first[:3]
    if x.ndim != 2 or None in x.shape or 0 in x.shape or x.dtype != m1.dtype:
        return None
    n, d = x.shape
    k = m1.shape[1]
    if not 0 < k <= K_MAX or w.shape != (d, k) or w.dtype != x.dtype:
        return None
    if c1 is not None and (c1.dtype != x.dtype or len(c1.shape) > 2):
        return None
    p = _rows(m1, None, x, None, None, first, order, position, outs, readers, capable, used)
    if p is None or not any(_row_reduction(m, n, k) for m in p.region):
        return None
    return p


def _rows(m1, m2, x, r, c2, first, order, position, outs, readers, capable, used):
    """The pattern with these products, if the work between them runs row by row."""
    n = x.shape[0]
    k = m1.shape[1]
    below = {m1}
    for node in order[position[m1] + 1 :]:
        if any(i in below for i in node.inputs):
            below.add(node)
    if (r is not None and r not in below) or any(
        i in below for i in (first[1], first[2], c2) if i is not None
    ):
        return None

    def fits(node: Node, region: set[Node]) -> bool:
        """Whether ``node`` runs row by row, reading the region as it computes it."""
        space = _space(node.shape, n, k)
        if space is None or node in used:
            return False
        if node.op.name == "reshape":
            ok = space == "s" and _space(node.inputs[0].shape, n, k) == "s"
        elif _row_reduction(node, n, k):
            ok = True
        else:
            ok = capable(node)
        if not ok:
            return False
        for i in node.inputs:
            if i in region:
                own = node.op.name == "reshape" or _row_reduction(node, n, k)
                if not own and _view(i.shape, node.shape) != _space(i.shape, n, k):
                    return False
            elif i in below or len(i.shape) > 2 or None in i.shape:
                return False
        return True

    region: set[Node] = {m1}
    for node in order[position[m1] + 1 :]:
        if any(i in region for i in node.inputs) and fits(node, region):
            region.add(node)
    if r is not None and r not in region:
        return None
    # Nodes computed before, read by the region only (the terms of the labels).
    grown = True
    while grown:
        grown = False
        for node in list(region):
            for i in node.inputs:
                if (
                    i not in region
                    and i not in outs
                    and i not in below
                    and i.value is None
                    and readers.get(i, set()) <= region
                    and not _row_reduction(i, n, k)
                    and fits(i, region)
                ):
                    region.add(i)
                    grown = True
    sums = [
        node
        for node in order[position[m1] + 1 :]
        if node not in used and node.inputs and node.inputs[0] in region and _row_sum(node, n, k)
    ]
    members_set = {*region, *sums}
    products = (m2,) if m2 is not None else ()
    pt = m2.inputs[0] if m2 is not None else None
    if m2 is not None:
        members_set.add(m2)
        if readers.get(pt, set()) <= members_set and pt not in outs:
            members_set.add(pt)
    d = x.shape[1]
    tail, kinds = _tail(
        m2, sums, members_set | used, below, order, position, outs, readers, capable, d, k
    )
    members_set.update(tail)
    w = first[1]
    if (
        w.op.name == "reshape"
        and w.inputs[0].shape == (d,)
        and w.value is None
        and w not in outs
        and w not in used
        and readers.get(w, set()) <= members_set
    ):
        members_set.add(w)  # a vector as a column: the kernel reads the vector
        w = w.inputs[0]
    members = tuple(node for node in order if node in members_set)
    inside = set(members)
    rows = tuple(node for node in order if node in region)
    extra = [
        i
        for m in (*rows, *products, *tail)
        for i in m.inputs
        if i not in inside and i not in (x, w, pt)
    ]
    reads = tuple(dict.fromkeys([x, w, *extra]))

    def kept(m: Node) -> bool:
        return m in outs or any(j not in inside for j in readers.get(m, ()))

    products = tuple(m for m in products if kept(m))
    stored = tuple(m for m in rows if kept(m))
    ends = tuple(m for m in tail if kept(m))
    # NOTE: a sum with one value per column is read outside (the tail reads single ones).
    kept_sums = tuple(m for m in sums if kept(m) or _row_sum(m, n, k) > 1)
    return Pattern(
        x,
        w,
        m1,
        m2,
        r,
        rows,
        tuple(sums),
        members,
        reads,
        (*products, *stored, *kept_sums, *ends),
        frozenset(below),
        tail,
        kinds,
        (*products, *ends),
    )


def _tail(m2, sums, taken, below, order, position, outs, readers, capable, d, k) -> tuple:
    """The nodes that run after the rows, on ``M2`` and the sums (a weight update, the
    mean loss), in order: elementwise ones over ``M2``'s ``(d, k)`` elements (in any
    shape ``_elements`` takes), in one loop, with full sums of them; and single values,
    before that loop or, those that read its sums, after it. Nodes computed before the
    kernel and read only by these join them (the update's terms, a penalty)."""
    kinds: dict[Node, str] = {}
    for v in (m2, *sums):
        if v is not None:
            kinds[v] = "e" if v is m2 else "s" if math.prod(v.shape) == 1 else ""

    def elements(shape: tuple) -> bool:
        return _elements(shape, d, k)

    def kind(node: Node) -> str | None:
        """The kind ``node`` would have in the tail, or None where it cannot join."""
        if node.value is not None or node in taken or node.dtype not in C_TYPES:
            return None
        if any(kinds.get(i) == "" for i in node.inputs):
            return None  # a sum with one value per column
        if any(i in below and i not in kinds for i in node.inputs):
            return None  # computed from the kernel outside it
        known = [kinds[i] for i in node.inputs if i in kinds]
        if node.op.name == "sum" and len(node.inputs) == 1:
            (i,) = node.inputs
            axes = node.params.get("axes")
            full = axes is None or len(set(a % max(i.ndim, 1) for a in axes)) == i.ndim
            ok = full and i.dtype in _FLOATS and node.dtype == i.dtype and elements(i.shape)
            return "p" if ok and known in ([], ["e"]) else None
        if node.op.name == "reshape":
            (i,) = node.inputs
            if math.prod(node.shape) == 1 and "e" not in known:
                return "p" if "p" in known else "s"  # NOTE: d * k == 1 too: a single value
            return "e" if elements(node.shape) and elements(i.shape) else None
        if not capable(node):
            return None
        if elements(node.shape) and ("e" in known or math.prod(node.shape) != 1):
            ok = all(
                kinds.get(i) in ("e", "s") or (i not in kinds and _fits(i.shape, node.shape))
                for i in node.inputs
            )
            return "e" if ok else None
        single = all(math.prod(i.shape) == 1 for i in node.inputs)
        if math.prod(node.shape) == 1 and "e" not in known and single:
            return "p" if "p" in known else "s"
        return None

    tail: list[Node] = []
    for node in order:
        if node in taken or node in kinds or not any(i in kinds for i in node.inputs):
            continue
        found = kind(node)
        if found is not None:
            kinds[node] = found
            tail.append(node)
    # Nodes computed before, read by the tail only.
    inside = set(tail)
    grown = True
    while grown:
        grown = False
        for node in sorted(inside, key=position.__getitem__, reverse=True):
            for i in node.inputs:
                if i in kinds or i in outs or i in below or not readers.get(i, set()) <= inside:
                    continue
                found = kind(i)
                if found is None or (found == "p" and _feeds_elements(i, inside, readers, kinds)):
                    continue
                kinds[i] = found
                inside.add(i)
                grown = True
        # NOTE: a grown sum makes the single values it feeds come after the loop.
        for node in order:
            if node in inside and kinds[node] == "s" and "p" in {kinds.get(i) for i in node.inputs}:
                kinds[node] = "p"
    nodes = tuple(sorted(inside, key=position.__getitem__))
    return nodes, tuple(kinds[m] for m in nodes)


def _elements(shape: tuple, d: int, k: int) -> bool:
    """Whether a C-contiguous value of ``shape`` holds ``M2``'s ``(d, k)`` elements in
    its order (element ``(j, c)`` at ``j * k + c``): flattened, or a column as a vector."""
    return shape in ((d, k), (d * k,)) or (k == 1 and shape == (d, 1))


def _fits(shape: tuple, space: tuple) -> bool:
    """Whether a value of ``shape`` broadcasts over ``space`` as ``_element`` reads it."""
    return len(shape) <= len(space) and all(
        a == 1 or a == b for a, b in zip(shape[::-1], space[::-1])
    )


def _feeds_elements(node: Node, inside: set, readers: dict, kinds: dict) -> bool:
    """Whether a tail node over the elements reads ``node``, through single values."""
    stack, seen = [node], set()
    while stack:
        m = stack.pop()
        for r in readers.get(m, ()):
            if r in inside and r not in seen:
                if kinds.get(r) == "e":
                    return True
                seen.add(r)
                stack.append(r)
    return False


# ----------------------------------------------------------------------------- C source
_VECTORS = {np.dtype(np.float32): "lz_dn_float", np.dtype(np.float64): "lz_dn_double"}
# Register tiles of the dot products (rows x columns of W), per vector register file:
# with AVX-512's 32 registers a 5 x 5 tile keeps 25 sums, 5 of W and a row of X.
_TILES = (("defined(__AVX512VL__)", 5, 5), ("1", 4, 3))


def prelude(patterns: Sequence[Pattern]) -> str:
    """Vector types and the products' register-tiled loops the ``patterns`` use."""
    lines = [
        "#if defined(__AVX__)",
        "#define LZ_DN_BYTES 32",
        "#else",
        "#define LZ_DN_BYTES 16",
        "#endif",
        "typedef float lz_dn_float"
        " __attribute__((vector_size(LZ_DN_BYTES), aligned(4), may_alias));",
        "typedef double lz_dn_double"
        " __attribute__((vector_size(LZ_DN_BYTES), aligned(8), may_alias));",
        # NOTE: kernels compile with -ffp-contract=off so that elementwise results match
        # NumPy's; the products' sums need no such match, and FMA doubles their rate.
        "#if defined(__clang__)",
        '#define LZ_DN_FMA _Pragma("clang fp contract(fast)")',
        "#define LZ_DN_FAST",
        "#else",
        "#define LZ_DN_FMA",
        '#define LZ_DN_FAST __attribute__((optimize("fp-contract=fast")))',
        "#endif",
        '#define LZ_DN_UNROLL _Pragma("GCC unroll 32")',
        "#define LZ_DN_R64(b) ((((int64_t)(b)) + 63) & ~(int64_t)63)",
        "#define LZ_DN_ALIGN(p) ((char *)(((uintptr_t)(p) + 63) & ~(uintptr_t)63))",
        # NOTE: the products load X from column p0 on, where every row of X is aligned to
        # a vector (if one is): half of the loads from an unaligned X split a cache line.
        "static inline int64_t lz_dn_peel(const void *x, int64_t ldx, int64_t d, int64_t size)",
        "{",
        "    const uintptr_t at = (uintptr_t)x;",
        "    if (at % size || ldx * size % LZ_DN_BYTES) return 0;",
        "    const int64_t p0 = (int64_t)((LZ_DN_BYTES - at % LZ_DN_BYTES) % LZ_DN_BYTES) / size;",
        "    return p0 < d ? p0 : d;",
        "}",
        # The accumulator's offset from a vector: the same as X's, so that its loads
        # from column p0 on are aligned too.
        "#define LZ_DN_SHIFT(x, size) ((int64_t)((uintptr_t)(x) % LZ_DN_BYTES / (size) * (size)))",
    ]
    for dtype in sorted({p.x.dtype for p in patterns}, key=str):
        t, v = C_TYPES[dtype], _VECTORS[dtype]
        ks = {p.m1.shape[1] for p in patterns if p.x.dtype == dtype}
        for j, (condition, rows, cols) in enumerate(_TILES):
            lines.append(f"#if {condition}" if j == 0 else f"#elif {condition}")
            tiles = {tile for k in ks for tile in _dot_tiles(k, rows, cols)}
            for r, c in sorted(tiles):
                lines += _dot(t, v, r, c)
        lines.append("#endif")
        backward = {p.m1.shape[1] for p in patterns if p.x.dtype == dtype and p.m2 is not None}
        for c in sorted({c for k in backward for c in _acc_tiles(k)}):
            lines += _acc(t, v, c)
    return "\n".join(lines) + "\n"


def _block(k: int) -> int:
    return VECTOR_BLOCK if k == 1 else BLOCK


def _dot_tiles(k: int, rows: int, cols: int) -> list[tuple[int, int]]:
    """The dot-product tiles for ``k`` columns: ``rows x cols`` ones, then one for the
    columns left (one column takes a block's rows, up to 8: 8 sums hide the additions'
    latency), each with its one-row form for the block's last rows; ``1 x 1`` for any
    other ``k``."""
    tiles = [(1, 1)]
    if k >= cols:
        tiles += [(rows, cols), (1, cols)]
    if k % cols:
        tiles += [(_rows_for(k % cols, rows, k), k % cols), (1, k % cols)]
    return tiles


def _rows_for(cols: int, rows: int, k: int) -> int:
    return min(8, _block(k)) if cols == 1 else rows


def _acc_tiles(k: int) -> list[int]:
    """The accumulation passes for ``k`` columns: ``ACC_TILES[0]`` at a time, then the
    rest in fewer; 1 for any other ``k``."""
    tiles, left = [1], k % ACC_TILES[0]
    if k >= ACC_TILES[0]:
        tiles.append(ACC_TILES[0])
    for c in ACC_TILES[1:]:
        if left >= c:
            tiles.append(c)
            left -= c
    return tiles


def _dot(t: str, v: str, rows: int, cols: int) -> list[str]:
    """``z[a * k + b] = x[a] . wt[b]`` for a tile of ``rows`` rows of ``X`` by ``cols``
    rows of ``W.T``, vectorized along ``d`` from column ``p0`` (``lz_dn_peel``); small
    tiles keep several vectors of sums per output (enough sums to hide the additions'
    latency)."""
    u = max(1, 8 // (rows * cols))

    def columns(u: int) -> list[str]:
        """A pass over ``u`` vectors of ``d``."""
        return [
            f"    for (; j + {u} * W <= d; j += {u} * W) {{",
            f"        {v} w[{cols}][{u}];",
            f"        LZ_DN_UNROLL for (int b = 0; b < {cols}; b++)",
            f"            LZ_DN_UNROLL for (int e = 0; e < {u}; e++)",
            f"                w[b][e] = *(const {v} *)(wt + b * d + j + e * W);",
            f"        LZ_DN_UNROLL for (int a = 0; a < {rows}; a++)",
            f"            LZ_DN_UNROLL for (int e = 0; e < {u}; e++) {{",
            f"                const {v} xa = *(const {v} *)(x + a * ldx + j + e * W);",
            f"                LZ_DN_UNROLL for (int b = 0; b < {cols}; b++)",
            "                    acc[a][b][e] += xa * w[b][e];",
            "            }",
            "    }",
        ]

    return [
        f"static void LZ_DN_FAST lz_dn_dot_{t}_{rows}_{cols}(const {t} *restrict x,"
        f" int64_t ldx, const {t} *restrict wt, int64_t d, int64_t p0, {t} *restrict z,"
        " int64_t k) {",
        "    LZ_DN_FMA",
        f"    enum {{ W = sizeof({v}) / sizeof({t}) }};",
        f"    {v} acc[{rows}][{cols}][{u}];",
        f"    LZ_DN_UNROLL for (int a = 0; a < {rows}; a++)",
        f"        LZ_DN_UNROLL for (int b = 0; b < {cols}; b++)",
        f"            LZ_DN_UNROLL for (int e = 0; e < {u}; e++) acc[a][b][e] = ({v}){{0}};",
        "    int64_t j = p0;",
        *columns(u),
        *(columns(1) if u > 1 else []),
        f"    LZ_DN_UNROLL for (int a = 0; a < {rows}; a++)",
        f"        LZ_DN_UNROLL for (int b = 0; b < {cols}; b++) {{",
        f"            {v} sum = acc[a][b][0];",
        f"            LZ_DN_UNROLL for (int e = 1; e < {u}; e++) sum += acc[a][b][e];",
        f"            {t} s = 0;",
        "            LZ_DN_UNROLL for (int e = 0; e < W; e++) s += sum[e];",
        "            for (int64_t i = j; i < d; i++) s += x[a * ldx + i] * wt[b * d + i];",
        "            for (int64_t i = 0; i < p0; i++) s += x[a * ldx + i] * wt[b * d + i];",
        "            z[a * k + b] = s;",
        "        }",
        "}",
    ]


def _acc(t: str, v: str, c: int) -> list[str]:
    """``gt[b * d + j] += sum_a g[a * k + b] x[a * ldx + j]`` for ``b < c``: the block's
    rows added into ``c`` rows of the ``k x d`` accumulator, several vectors of each in
    registers where ``c`` is small (enough sums to hide the additions' latency), from
    column ``p0`` (``lz_dn_peel``; ``gt`` lies at the same offset from a vector as ``x``,
    so neither load splits a cache line). The
    columns run from the last where ``down``: each pass goes back over the columns the
    one before (the dot products, another pass) read last, still in L1 (the
    logistic-regression step 1-2 % faster); each sum keeps its order either way."""

    def columns(u: int, loop: str) -> list[str]:
        """A pass over ``u`` vectors of ``d`` at a time."""
        return [
            f"        for ({loop}) {{",
            f"            {v} acc[{c}][{u}], xa[{u}];",
            f"            LZ_DN_UNROLL for (int b = 0; b < {c}; b++)",
            f"                LZ_DN_UNROLL for (int e = 0; e < {u}; e++)",
            f"                    acc[b][e] = *(const {v} *)(gt + b * d + j + e * W);",
            "            for (int64_t a = 0; a < rows; a++) {",
            f"                LZ_DN_UNROLL for (int e = 0; e < {u}; e++)",
            f"                    xa[e] = *(const {v} *)(x + a * ldx + j + e * W);",
            f"                LZ_DN_UNROLL for (int b = 0; b < {c}; b++)",
            f"                    LZ_DN_UNROLL for (int e = 0; e < {u}; e++)",
            "                        acc[b][e] += g[a * k + b] * xa[e];",
            "            }",
            f"            LZ_DN_UNROLL for (int b = 0; b < {c}; b++)",
            f"                LZ_DN_UNROLL for (int e = 0; e < {u}; e++)",
            f"                    *({v} *)(gt + b * d + j + e * W) = acc[b][e];",
            "        }",
        ]

    def singles(loop: str) -> list[str]:
        return [
            f"        for ({loop})",
            f"            LZ_DN_UNROLL for (int b = 0; b < {c}; b++) {{",
            f"                {t} s = gt[b * d + j];",
            "                for (int64_t a = 0; a < rows; a++)",
            "                    s += g[a * k + b] * x[a * ldx + j];",
            "                gt[b * d + j] = s;",
            "            }",
        ]

    u = max(1, 8 // c)
    return [
        f"static void LZ_DN_FAST lz_dn_acc_{t}_{c}(const {t} *restrict x, int64_t ldx,"
        f" int64_t rows, const {t} *restrict g, int64_t k, int64_t d, int64_t p0,"
        f" {t} *restrict gt, int down) {{",
        "    LZ_DN_FMA",
        f"    enum {{ W = sizeof({v}) / sizeof({t}) }};",
        # [0, p0) and [narrow, d) one by one, [p0, wide) in passes of u vectors,
        # [wide, narrow) of one
        f"    const int64_t wide = p0 + (d - p0) / ({u} * W) * ({u} * W);",
        "    const int64_t narrow = p0 + (d - p0) / W * W;",
        "    if (down) {",
        *singles("int64_t j = d - 1; j >= narrow; j--"),
        *(columns(1, "int64_t j = narrow - W; j >= wide; j -= W") if u > 1 else []),
        *columns(u, f"int64_t j = wide - {u} * W; j >= p0; j -= {u} * W"),
        *singles("int64_t j = p0 - 1; j >= 0; j--"),
        "    } else {",
        *singles("int64_t j = 0; j < p0; j++"),
        *columns(u, f"int64_t j = p0; j < wide; j += {u} * W"),
        *(columns(1, "int64_t j = wide; j < narrow; j += W") if u > 1 else []),
        *singles("int64_t j = narrow; j < d; j++"),
        "    }",
        "}",
    ]


def _products(name: str, t: str, k: int, backward: bool) -> list[str]:
    """``name_dots`` (the block's ``rows x k`` dot products into ``z``) and ``name_accs``
    (the block's rows of ``g`` times ``X`` into ``gt``), through the tiles for ``k``;
    any ``k`` is right, others through the smallest tiles."""
    lines = [
        f"static void {name}_dots(const {t} *x, int64_t ldx, int64_t rows, const {t} *wt,"
        f" int64_t d, int64_t p0, int64_t k, {t} *z) {{",
        "    int64_t c = 0, a;",
    ]
    for j, (condition, rows, cols) in enumerate(_TILES):
        lines.append(f"#if {condition}" if j == 0 else f"#elif {condition}")
        groups = [(rows, cols, "for (; c + {cols} <= k; c += {cols})")] if k >= cols else []
        if k % cols:
            groups.append((_rows_for(k % cols, rows, k), k % cols, "if (k - c == {cols})"))
        for r, c, loop in groups:
            call = "(x + a * ldx, ldx, wt + c * d, d, p0, z + a * k + c, k);"
            lines += [
                "    " + loop.format(cols=c) + " {",
                f"        for (a = 0; a + {r} <= rows; a += {r}) lz_dn_dot_{t}_{r}_{c}{call}",
                f"        for (; a < rows; a++) lz_dn_dot_{t}_1_{c}{call}",
                f"        c += {c};" if loop.startswith("if") else "",
                "    }",
            ]
    lines += [
        "#endif",
        "    for (; c < k; c++)",
        "        for (a = 0; a < rows; a++)",
        f"            lz_dn_dot_{t}_1_1(x + a * ldx, ldx, wt + c * d, d, p0, z + a * k + c, k);",
        "}",
    ]
    if not backward:
        return [line for line in lines if line]
    lines += [
        f"static void {name}_accs(const {t} *x, int64_t ldx, int64_t rows, const {t} *g,"
        f" int64_t k, int64_t d, int64_t p0, {t} *gt) {{",
        "    int64_t c = 0;",
        "    int down = 1;",
    ]
    call = "(x, ldx, rows, g + c, k, d, p0, gt + c * d, down); down = !down;"
    for c in sorted(_acc_tiles(k), reverse=True):
        if c == ACC_TILES[0]:
            lines.append(f"    for (; c + {c} <= k; c += {c}) {{ lz_dn_acc_{t}_{c}{call} }}")
        elif c != 1:
            lines.append(f"    if (k - c >= {c}) {{ lz_dn_acc_{t}_{c}{call} c += {c}; }}")
    lines += [f"    for (; c < k; c++) {{ lz_dn_acc_{t}_1{call} }}", "}"]
    return [line for line in lines if line]


def kernel_name(p: Pattern) -> str:
    return "lz_dense_" + hashlib.sha256(source("NAME", p).encode()).hexdigest()[:20]


def declaration(name: str, p: Pattern) -> list[str]:
    """The kernel (``c_kernels.signature``: ``shape`` holds ``(n, d, k)``; ``out`` is
    ``X.T @ R``, then the reads, the further results and the scratch memory), and the
    size of that scratch memory for ``d``, ``k`` and a number of threads."""
    return [
        signature(name, len(p.reads), len(p.results) + 1),
        f"int64_t {name}_scratch(int64_t d, int64_t k, int64_t parts)",
    ]


def _arguments(n_reads: int, n_outs: int) -> str:
    return ", ".join(
        ["ndim", "shape", "strides", "out", "nthreads", "parallel_min"]
        + [f"arg{j}" for j in range(n_reads)]
        + [f"out{j}" for j in range(1, n_outs)]
    )


class _Rows:
    """The C statements of the region for row ``i`` of the block (``q``): the dot
    products in ``zq``, ``R`` into ``gq``, the sums into ``u``."""

    def __init__(self, p: Pattern):
        self.p = p
        self.n, self.k = p.x.shape[0], p.m1.shape[1]
        self.scalars = {r for r in p.reads[2:] if math.prod(r.shape) == 1}
        self.where = {m: j for j, m in enumerate(p.region)}
        self.read_at = {r: j for j, r in enumerate(p.reads)}
        self.sums = {s: j for j, s in enumerate(p.sums)}
        self.stored = {m: j for j, m in enumerate(p.results) if m in self.where}
        self.summed: dict[Node, list[Node]] = {}
        for s in p.sums:
            self.summed.setdefault(s.inputs[0], []).append(s)
        # NOTE: with one value per row the block's rows run as one vectorized loop.
        self.vector_rows = self.k == 1

    def row(self, m: Node) -> bool:
        """Whether ``m`` has ``k`` values per row (one otherwise)."""
        return _space(m.shape, self.n, self.k) == "v"

    def read(self, i: Node, space: tuple, index: tuple[str, ...]) -> str:
        j = self.read_at[i]
        return f"s{j}" if i in self.scalars else f"a{j}[{_element(i.shape, space, index)}]"

    def value(self, i: Node, reader: Node, local: set[Node]) -> str:
        """``i`` where ``reader``, a region node, reads it (``local``: the values of the
        open loop over the row, the others in buffers)."""
        if i in self.read_at:
            if reader.op.name == "reshape" or _row_reduction(reader, self.n, self.k):
                reader = i  # NOTE: read along its own rows, not broadcast
            return self.read(i, reader.shape, ("i", "c") if reader.ndim == 2 else ("i",))
        j = self.where[i]
        if not self.row(i):
            return f"r{j}"
        return f"v{j}" if i in local else f"b{j}[c]"

    def finish(self, m: Node, v: str) -> list[str]:
        """Where ``m``'s value ``v`` goes besides the region: its store, ``R``, sums."""
        row = self.row(m)
        lines = []
        if m in self.stored:
            lines.append(f"o{self.stored[m]}[{'i * k + c' if row else 'i'}] = {v};")
        if m is self.p.r:
            lines.append(f"gq[{'c' if row else '0'}] = {v};")
        for s in self.summed.get(m, ()):
            j = self.sums[s]
            column = "c" if row and _row_sum(s, self.n, self.k) == self.k else "0"
            lines.append(f"u{j} += {v};" if self.vector_rows else f"u[{j} * k + {column}] += {v};")
        return lines

    def statements(self, buffered: set[Node]) -> tuple[list[str], dict[Node, int]]:
        """The row's statements, values read after their loop kept in ``buffered``, and
        the loop each value is computed in."""
        n, k = self.n, self.k
        body: list[str] = []
        stage: list[str] = []  # the open loop over the row's k values
        local: set[Node] = set()
        pending: set[Node] = set()  # row reductions the open loop computes
        after: list[str] = []  # where their values go
        loop_of: dict[Node, int] = {}
        loops = 0

        def close() -> None:
            nonlocal loops
            if stage:
                body.extend(
                    ["for (int64_t c = 0; c < k; c++) {", *("    " + s for s in stage), "}"]
                )
                loops += 1
            body.extend(after)
            for x in (stage, local, pending, after):
                x.clear()

        for j, m in enumerate(self.p.region):
            ct = C_TYPES[m.dtype]
            if pending.intersection(m.inputs):
                close()
            loop_of[m] = loops
            if _row_reduction(m, n, k) and k > 1:
                operand = self.value(m.inputs[0], m.inputs[0], local)
                nan = f"{operand} != {operand}"
                init, step = {
                    "sum": ("0", f"r{j} + {operand}"),
                    "max": ("-INFINITY", f"{operand} > r{j} || {nan} ? {operand} : r{j}"),
                    "min": ("INFINITY", f"{operand} < r{j} || {nan} ? {operand} : r{j}"),
                }[m.op.name]
                body.append(f"{ct} r{j} = {init};")
                stage.append(f"r{j} = {step};")
                pending.add(m)
                after.extend(self.finish(m, f"r{j}"))
                continue
            if m is self.p.m1:
                _, _, c1, alpha, beta = _product(m)
                expr = "zq[c]" if self.row(m) else "zq[0]"
                if m.op.name == "gemm":
                    expr = f"({ct}){alpha!r} * {expr}"
                if c1 is not None:
                    expr += f" + ({ct}){beta!r} * {self.value(c1, m, local)}"
            elif m.op.name == "reshape" or _row_reduction(m, n, k):  # k == 1: the value
                expr = self.value(m.inputs[0], m, local)
            else:
                expr = expression(m, [self.value(i, m, local) for i in m.inputs])
            if not self.row(m):
                body.append(f"const {ct} r{j} = {expr};")
                body.extend(self.finish(m, f"r{j}"))
                continue
            stage.append(f"const {ct} v{j} = {expr};")
            local.add(m)
            if m in buffered:
                stage.append(f"b{j}[c] = v{j};")
            stage.extend(self.finish(m, f"v{j}"))
        close()
        return body, loop_of

    def code(self) -> tuple[list[str], list[Node]]:
        """The row's statements and the values they keep in buffers: those read in a
        later loop than their own."""
        rows = [m for m in self.p.region if self.row(m)]
        _, loop_of = self.statements(set(rows))
        later = {
            i
            for m in self.p.region
            for i in m.inputs
            if i in loop_of and self.row(i) and loop_of[m] != loop_of[i]
        }
        buffered = [m for m in rows if m in later]
        body, _ = self.statements(set(buffered))
        return body, buffered


def _out(j: int) -> str:
    """The C parameter of result ``j`` (``c_kernels.signature``)."""
    return f"out{j or ''}"


def source(name: str, p: Pattern) -> str:
    """The kernel's C source (after ``prelude``): the parts, each a range of row
    blocks with its own accumulators, then their totals and the tail."""
    n = p.x.shape[0]
    k = p.m1.shape[1]
    t = C_TYPES[p.x.dtype]
    size = np.dtype(p.x.dtype).itemsize
    n_reads, n_outs = len(p.reads), len(p.results) + 1
    rows = _Rows(p)
    body, buffered = rows.code()
    backward = p.m2 is not None
    c2 = _product(p.m2)[2] if backward else None

    def declare(reads: Sequence[Node]) -> list[str]:
        lines = []
        for r in reads:
            ct, j = C_TYPES[r.dtype], rows.read_at[r]
            if r in rows.scalars:
                lines.append(f"    const {ct} s{j} = *(const {ct} *)arg{j};")
            else:
                lines.append(f"    const {ct} *restrict a{j} = (const {ct} *)arg{j};")
        return lines

    matrix = f"LZ_DN_R64(k * d * {size} + LZ_DN_BYTES)"  # room to move to X's offset
    # NOTE: aligned loads of X pay for the columns before them with one column of W
    # (one thread, 400 x 784 float64 logistic step: 1.5 us less), not with ten (600 x
    # 784 float32 softmax epoch: 5 % more).
    peel, shift = (f"lz_dn_peel(arg0, d, d, {size})", f"LZ_DN_SHIFT(arg0, {size})")
    if k > 1:
        peel = shift = "0"
    rows_per_block = _block(k)
    block = f"LZ_DN_R64({rows_per_block} * k * {size})"
    sums_bytes = f"LZ_DN_R64({len(p.sums)} * k * 8)"
    part_bytes = " + ".join(
        [matrix] * backward + [f"2 * {block}", f"{len(buffered)} * LZ_DN_R64(k * 8)", sums_bytes]
    )
    arguments = _arguments(n_reads, n_outs)
    accumulate = "            ".join(
        [
            *(f"double u{j} = 0;\n" for j in rows.sums.values()),
            "#pragma omp simd"
            + (
                f" reduction(+:{', '.join(f'u{j}' for j in rows.sums.values())})\n"
                if p.sums
                else "\n"
            ),
        ]
    )
    lines = [
        *_products(name, t, k, backward),
        f"int64_t {name}_scratch(int64_t d, int64_t k, int64_t parts)",
        "{",
        f"    return 64 + {matrix} + parts * ({part_bytes});",
        "}",
        "static " + signature(f"{name}_part", n_reads, n_outs, "int64_t part, int64_t parts, "),
        "{",
        "    const int64_t n = shape[0], d = shape[1], k = shape[2];",
        f"    const {t} *restrict X = (const {t} *)arg0;",
        *declare([r for r in p.reads[2:] if r is not c2]),
        *(
            f"    {C_TYPES[m.dtype]} *restrict o{j} = ({C_TYPES[m.dtype]} *)" + _out(j) + ";"
            for m, j in rows.stored.items()
        ),
        f"    char *base = LZ_DN_ALIGN(out{n_outs - 1});",
        # NOTE: one column of W is its own transpose.
        f"    const {t} *restrict wt = k == 1 ? (const {t} *)arg1 : (const {t} *)base;",
        f"    base += {matrix} + part * ({part_bytes});",
        *(
            [
                f"    {t} *restrict gt = ({t} *)(base + {shift});",
                f"    base += {matrix};",
                f"    memset(gt, 0, k * d * {size});",
            ]
            if backward
            else []
        ),
        f"    {t} *restrict zb = ({t} *)base; base += {block};",
        f"    {t} *restrict gb = ({t} *)base; base += {block};",
        *(
            f"    {C_TYPES[m.dtype]} *restrict b{rows.where[m]} = ({C_TYPES[m.dtype]} *)base;"
            " base += LZ_DN_R64(k * 8);"
            for m in buffered
        ),
        "    double *restrict u = (double *)base;",
        f"    memset(u, 0, {len(p.sums)} * k * 8);",
        f"    const int64_t p0 = {peel};",
        f"    const int64_t blocks = (n + {rows_per_block - 1}) / {rows_per_block};",
        "    const int64_t first = blocks * part / parts, last = blocks * (part + 1) / parts;",
        "    for (int64_t block = first; block < last; block++) {",
        f"        const int64_t r0 = block * {rows_per_block};",
        f"        const int64_t rows = n - r0 < {rows_per_block} ? n - r0 : {rows_per_block};",
        f"        {name}_dots(X + r0 * d, d, rows, wt, d, p0, k, zb);",
        *([f"        {accumulate}"] if rows.vector_rows else []),
        "        for (int64_t q = 0; q < rows; q++) {",
        "            const int64_t i = r0 + q;",
        f"            const {t} *zq = zb + q * k;",
        f"            {t} *gq = gb + q * k;",
        *("            " + line for line in body),
        "        }",
        *(f"        u[{j} * k] += u{j};" for j in rows.sums.values() if rows.vector_rows),
        *([f"        {name}_accs(X + r0 * d, d, rows, gb, k, d, p0, gt);"] if backward else []),
        "    }",
        "}",
        signature(name, n_reads, n_outs),
        "{",
        "    const int64_t n = shape[0], d = shape[1], k = shape[2];",
        f"    const {t} *restrict W = (const {t} *)arg1;",
        f"    char *base = LZ_DN_ALIGN(out{n_outs - 1});",
        f"    {t} *restrict wt = ({t} *)base;",
        "    for (int64_t j = 0; j < d && k > 1; j++)",
        "        for (int64_t c = 0; c < k; c++) wt[c * d + j] = W[j * k + c];",
        f"    const int64_t blocks = (n + {rows_per_block - 1}) / {rows_per_block};",
        "    int64_t parts = nthreads > 1 && n * d * k >= parallel_min ? nthreads : 1;",
        "    if (parts > blocks) parts = blocks;",
        "    if (parts > 1) {",
        "        int64_t team = parts;",
        "        #pragma omp parallel num_threads(parts)",
        "        {",
        "            if (omp_get_thread_num() == 0) team = omp_get_num_threads();",
        f"            {name}_part(omp_get_thread_num(), omp_get_num_threads(), {arguments});",
        "        }",
        "        parts = team;",
        "    } else {",
        f"        {name}_part(0, 1, {arguments});",
        "    }",
        f"    base += {matrix};",
        f"    const int64_t part_bytes = {part_bytes};",
        *([f"    const int64_t shift = {shift};"] if backward else []),
    ]
    for s, j in rows.sums.items():
        ct = C_TYPES[s.dtype]
        totals = f"(double *)(base + (p + 1) * part_bytes - {sums_bytes})"  # each part's u
        if _row_sum(s, n, k) == k and k > 1:
            lines += [
                "    for (int64_t c = 0; c < k; c++) {",
                "        double s = 0;",
                f"        for (int64_t p = 0; p < parts; p++) s += ({totals})[{j} * k + c];",
                f"        (({ct} *){_out(p.results.index(s))})[c] = ({ct})s;",
                "    }",
            ]
            continue
        lines += [
            f"    double t{j} = 0;",
            f"    for (int64_t p = 0; p < parts; p++) t{j} += ({totals})[{j} * k];",
        ]
        if s in p.results:
            lines.append(f"    *({ct} *){_out(p.results.index(s))} = ({ct})t{j};")
    lines += _tail_source(p, rows, declare, backward and _total(p, rows, t))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _total(p: Pattern, rows: _Rows, t: str) -> str:
    """``M2``'s element ``(j, c)`` from the parts' accumulators."""
    d, k = p.x.shape[1], p.m1.shape[1]
    _, _, c2, alpha2, beta2 = _product(p.m2)
    total = f"({t}){alpha2!r} * s" if p.m2.op.name == "gemm" else "s"
    if c2 is not None:
        total += f" + ({t}){beta2!r} * {rows.read(c2, (d, k), ('j', 'c'))}"
    return total


def _tail_source(p: Pattern, rows: _Rows, declare: Callable, total: str | bool) -> list[str]:
    """After the parts: ``M2``'s elements (``total``, False without ``M2``) and the tail
    over them in one loop, the single values before it and after it, then the tail's
    results, each stored after every read (``Pattern.last``)."""
    d, k = p.x.shape[1], p.m1.shape[1]
    t = C_TYPES[p.x.dtype]
    index = {m: j for j, m in enumerate(p.tail)}
    kind = dict(zip(p.tail, p.kinds))
    elements = [m for m in p.tail if kind[m] == "e"]
    summed = [m for m in p.tail if m.op.name == "sum" and kind[m] == "p"]
    inside = {*p.tail, *rows.sums, *((p.m2,) if total else ())}
    reads = list(dict.fromkeys(i for m in p.tail for i in m.inputs if i not in inside))
    if total:
        reads = [r for r in dict.fromkeys([_product(p.m2)[2], *reads]) if r is not None]

    def value(i: Node, space: tuple) -> str:
        """``i`` where a tail node over ``space`` (``(d, k)``, ``(d,)`` or ``()``) reads it."""
        if i is p.m2:
            return "m"
        if i in rows.sums:
            return f"(({C_TYPES[i.dtype]})t{rows.sums[i]})"
        if i in index:
            return f"y{index[i]}"
        if space and _elements(i.shape, d, k) and i not in rows.scalars:
            return f"a{rows.read_at[i]}[j * k + c]"
        return rows.read(i, space, ("j", "c")[: len(space)])

    def computed(m: Node) -> str:
        space = m.shape if kind[m] == "e" else ()
        if m.op.name == "reshape":
            return value(m.inputs[0], space)
        return expression(m, [value(i, space) for i in m.inputs])

    def singles(which: str) -> list[str]:
        return [
            f"    const {C_TYPES[m.dtype]} y{index[m]} = "
            + (f"({C_TYPES[m.dtype]})u{index[m]};" if m in summed else f"{computed(m)};")
            for m in p.tail
            if kind[m] == which
        ]

    lines = [*declare(reads), *singles("s")]
    stores = [m for m in p.results if m in index or (total and m is p.m2)]
    if total or elements or summed:
        body = []
        if total:
            body += [
                f"{t} s = 0;",
                "for (int64_t p = 0; p < parts; p++)",
                f"    s += (({t} *)(base + p * part_bytes + shift))[c * d + j];",
                f"const {t} m = {total};",
            ]
        for m in p.tail:
            if m in summed:
                body.append(f"u{index[m]} += {value(m.inputs[0], m.inputs[0].shape)};")
            elif kind[m] == "e":
                body.append(f"const {C_TYPES[m.dtype]} y{index[m]} = {computed(m)};")
        for m in stores:
            if m is p.m2 or kind[m] == "e":
                v = "m" if m is p.m2 else f"y{index[m]}"
                body.append(f"(({C_TYPES[m.dtype]} *){_out(p.results.index(m))})[j * k + c] = {v};")
        lines += [
            *(f"    double u{index[m]} = 0;" for m in summed),
            "    for (int64_t c = 0; c < k; c++)",
            "        #pragma omp simd"
            + (f" reduction(+:{', '.join(f'u{index[m]}' for m in summed)})" if summed else ""),
            "        for (int64_t j = 0; j < d; j++) {",
            *("            " + line for line in body),
            "        }",
        ]
    lines += singles("p")
    lines += [
        f"    *({C_TYPES[m.dtype]} *){_out(p.results.index(m))} = y{index[m]};"
        for m in stores
        if m is not p.m2 and kind[m] != "e"
    ]
    return lines
    lines.append("}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- runner
def runner(lib, name: str, p: Pattern, launch, threads: int, parallel_min: int):
    """``run(args, outs=None)``: the kernel's results, in ``p.results``'s order, through
    ``launch`` (``c_backend.launcher()``, or None) where every array is C-contiguous,
    else through cffi with contiguous copies of the reads."""
    fn = getattr(lib, name)
    n, d = p.x.shape
    k = p.m1.shape[1]
    size = int(getattr(lib, name + "_scratch")(d, k, threads))
    local = threading.local()

    def scratch() -> np.ndarray:
        """Small scratch memory is kept between calls, one per thread (allocating it
        cost a tenth of a small step's overhead); large memory is not held."""
        try:
            return local.memory
        except AttributeError:
            memory = np.empty(size, np.uint8)
            if size < POOLED_MIN:
                local.memory = memory
            return memory

    allocate = [allocator(r.shape, r.dtype) for r in p.results]
    c_shape = _ffi.new("int64_t[]", [n, d, k])
    c_strides = _ffi.new("int64_t[]", [0])
    head = (3, c_shape, c_strides)
    if launch is not None:
        launch = functools.partial(
            launch,
            int(_ffi.cast("uintptr_t", fn)),
            3,
            int(_ffi.cast("uintptr_t", c_shape)),  # both arrays live as long as ``run``
            int(_ffi.cast("uintptr_t", c_strides)),
            threads,
            parallel_min,
            len(p.results) + 1,
        )
    buf = _ffi.from_buffer

    def run(args: list[np.ndarray], outs: list | None = None) -> list[np.ndarray]:
        if outs is None:
            res = [new() for new in allocate]
        else:
            res = [new() if o is None else o for o, new in zip(outs, allocate)]
        memory = scratch()
        if launch is not None:
            try:
                launch(res[0], *args, *res[1:], memory)
                return res
            except ValueError:
                pass
        args = [np.ascontiguousarray(a) for a in args]
        writable = [buf(o, require_writable=True) for o in (*res, memory)]
        fn(*head, writable[0], threads, parallel_min, *map(buf, args), *writable[1:])
        return res

    return run
