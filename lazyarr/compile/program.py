"""A traced graph scheduled once into steps, run many times with new inputs.

Scheduling, slot assignment and release points are decided when the program is
built, and written into one generated function running the steps as straight-line
code, so a call only binds its inputs and runs it. Steps are either fused C
kernels (``c_backend``) or single nodes run by their NumPy reference
implementation, which is how ops the C backend cannot compile still run inside a
compiled function.
"""

from __future__ import annotations

import functools
import heapq
import math
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from .._errors import relocate
from .._graph import Node
from .._ops import REGISTRY
from . import blas, eager
from .numpy_backend import run_node, schedule

_INPUT = REGISTRY["input"]


@dataclass
class Step:
    """One unit of work: compute ``outs`` (slots) from ``args`` (slots), then release
    ``free``."""

    # Kernels: ``run(args, outs=None)``, their values. NumPy steps: ``run(args)``, the
    # one value; views and matmuls take their reads positionally (no list per call).
    run: Callable
    args: tuple[int, ...]
    outs: tuple[int, ...]
    free: tuple[int, ...]
    nodes: tuple[Node, ...]  # what the step computes, for printing
    backend: str
    reuse: tuple[bool, ...] = ()  # per out: the same buffer on every call (see Program)
    donors: tuple[int | None, ...] = ()  # per out: the donated input slot it may write into
    results: tuple[Node, ...] = ()  # per out: the node whose value it holds


def _numpy_step(node: Node) -> Callable:
    if node.op.kind == "shape":
        # NOTE: views (reshape, transpose, slices) cannot fail on shapes fixed at trace
        # time; calling the implementation directly saves run_node's checks per call.
        return functools.partial(node.op.impl, **dict(node.attrs))
    if _plain_matmul(node):
        return _matmul_step(node)
    return functools.partial(run_node, node)


def _positional(node: Node) -> bool:
    """Whether a NumPy step takes its reads as arguments rather than one list."""
    return node.op.kind == "shape" or _plain_matmul(node)


def _plain_matmul(node: Node) -> bool:
    """A matmul of operands of its own dtype and known shapes: ``np.matmul`` returns an
    array of the declared shape and dtype, so ``run_node`` has nothing to check."""
    return (
        node.op.name == "matmul"
        and all(i.dtype == node.dtype and None not in i.shape for i in node.inputs)
        and None not in node.shape
    )


def _mixes_blas_and_kernels(steps: Sequence[Step]) -> bool:
    """Whether NumPy steps that may call BLAS run between compiled kernels: BLAS then
    runs on the calling thread (see ``blas``), so that its idle threads do not spin on
    the cores the kernels' threads use."""
    return (
        blas.holds_threads()
        and any(s.backend != "numpy" for s in steps)
        and any(s.backend == "numpy" and s.nodes[0].op.kind == "linalg" for s in steps)
    )


def _matmul_step(node: Node) -> Callable:
    """``np.matmul`` called directly (``run_node`` costs as much as a small product).

    Operands with stride-0 axes go through ``run_node``, which multiplies them as
    NumPy multiplies real arrays. An error names the user's line, as there.
    """
    slow = functools.partial(run_node, node)
    matmul = np.matmul
    a, b = node.inputs
    if (
        a.ndim == b.ndim == 2
        and node.dtype in blas.DTYPES
        and math.prod((*a.shape, b.shape[1])) >= blas.PARALLEL_MIN
    ):
        # NOTE: a large product through gemm, whose row panels run on lazyarr's threads
        matmul = functools.partial(blas.gemm, alpha=1.0)

    def run(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if 0 in a.strides or 0 in b.strides:
            return slow([a, b])
        try:
            return matmul(a, b)
        except Exception as e:
            raise relocate(e, node.loc, node.op.name) from e

    return run


def _view(node: Node) -> tuple[str, object] | None:
    """A view step as generated code, an ndarray method call or subscript
    (``"{x}.reshape({c})"``) of its read ``x`` with the constant ``c``; None for other
    steps. Every slot holds an ndarray, and the method costs a fifth of calling the
    op's implementation (``np.reshape`` calls it)."""
    attrs = dict(node.attrs)
    name = node.op.name
    if name == "reshape" and None not in attrs["shape"]:
        return "{x}.reshape({c})", attrs["shape"]
    if name == "permute_dims":
        return "{x}.transpose({c})", attrs["axes"]
    if name == "slice":
        return "{x}[{c}]", tuple(slice(*s) for s in attrs["slices"])
    return None


def _quiet_errors() -> tuple[Callable, Callable, object] | None:
    """``(set, reset, state)`` of NumPy's floating-point error state, with ``state``
    ignoring every error, or None where this NumPy keeps it elsewhere.

    ``np.errstate`` builds its state anew on every entry (about 1 us); the state is a
    context variable, so setting a prebuilt one is as thread-safe as ``np.errstate``.
    Unlike ``np.errstate`` it keeps NumPy's default buffer size, not one a caller set
    with ``np.setbufsize`` (a tuning knob for ufunc loops).
    """
    try:
        from numpy._core._ufunc_config import _extobj_contextvar as errors
        from numpy._core.umath import _make_extobj

        ignore = _make_extobj(all="ignore")
        token = errors.set(ignore)
        try:
            ignoring = set(np.geterr().values()) == {"ignore"}
        finally:
            errors.reset(token)
    except (ImportError, AttributeError, TypeError):
        return None
    return (errors.set, errors.reset, ignore) if ignoring else None


_QUIET = _quiet_errors()


def fold_constants(outputs: Sequence[Node]) -> None:
    """Compute, once, every part of the graph that does not depend on an input.

    Such parts come from arrays the traced function closed over; their values
    become constants of the program.
    """
    order, _ = schedule(outputs)
    varying: set[Node] = set()
    constant: set[Node] = set()
    for node in order:
        if node.op is _INPUT or any(i in varying for i in node.inputs):
            varying.add(node)
        elif node.value is None:
            constant.add(node)
    # The constant parts the varying ones read, and constant outputs: computed now.
    found = {i: None for n in order if n in varying for i in n.inputs if i in constant}
    found.update({n: None for n in outputs if n in constant})
    roots = list(found)
    if roots:
        for node, value in zip(roots, eager.materialize(roots)):
            if node.value is None:  # a value read from a shared buffer is not kept
                node.value = value


class Program:
    """The steps that compute ``outputs`` from bound ``inputs``.

    ``partition(order, outputs)`` may claim groups of nodes for compiled kernels; it
    returns the kernels (``c_backend.Kernel``: ``run``, ``results``, ``reads``,
    ``members``, ``name``), the set of nodes computed inside kernels (so never
    stored), and the kernels' source.
    """

    def __init__(
        self,
        inputs: Sequence[Node],
        outputs: Sequence[Node],
        partition=None,
        donated: Sequence[int] = (),
        targets: dict[int, int] | None = None,
    ):
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        fold_constants(self.outputs)
        order, _ = schedule(self.outputs)
        kernels, fused, self.c_source = (
            partition(order, self.outputs) if partition is not None else ([], set(), "")
        )
        kernel_of = {r: k for k in kernels for r in k.results}
        self._last = {r for k in kernels for r in k.last}
        self.order = order
        slot: dict[Node, int] = {n: i for i, n in enumerate(self.inputs)}
        template: list[np.ndarray | None] = [None] * len(self.inputs)
        steps: list[tuple[tuple[Node, ...], Callable, tuple[Node, ...], tuple, str]] = []
        for node in order:
            if node in slot or node in fused:
                continue
            if node.value is not None:
                slot[node] = len(template)
                template.append(_compact(node.value))
                continue
            if node.op is _INPUT:
                raise ValueError("the traced function reads an input of another trace")
            kernel = kernel_of.get(node)
            if kernel is not None:
                step = (kernel.results, kernel.run, kernel.reads, kernel.members)
                steps.append((*step, f"c {kernel.name}"))
            else:
                steps.append(((node,), _numpy_step(node), node.inputs, (node,), "numpy"))
            for result in steps[-1][0]:
                slot[result] = len(template)
                template.append(None)
        steps = _topological(steps)
        last_use: dict[Node, int] = {}
        for index, (_, _, reads, _, _) in enumerate(steps):
            for r in reads:
                last_use[r] = index
        keep = set(self.outputs) | set(self.inputs)
        frees: list[list[int]] = [[] for _ in steps]
        for node, index in last_use.items():
            if node not in keep and node.value is None:
                frees[index].append(slot[node])
        self.steps = [
            Step(
                run,
                tuple(slot[r] for r in reads),
                tuple(slot[r] for r in results),
                tuple(free),
                members,
                backend,
                results=results,
            )
            for (results, run, reads, members, backend), free in zip(steps, frees)
        ]
        # The memory plan: a kernel's result that only other kernels read (they copy what
        # they read into their own results) never escapes the call, so each thread keeps
        # its buffer for the next call instead of faulting in fresh pages.
        read_by_numpy = {i for step in self.steps if step.backend == "numpy" for i in step.args}
        outs = {slot[n] for n in self.outputs}
        for step in self.steps:
            if step.backend != "numpy":
                step.reuse = tuple(o not in outs and o not in read_by_numpy for o in step.outs)
        self._buffers = threading.local()
        self.output_slots = [slot[n] for n in self.outputs]
        # Outputs a kernel wrote into a new buffer cannot alias an argument.
        by_slot = {o: step for step in self.steps for o in step.outs}
        self._donate(donated, targets or {})
        self.fresh = [
            slot in by_slot and by_slot[slot].backend != "numpy" for slot in self.output_slots
        ]
        # Fresh outputs in buffers of their own that no NumPy step reads (so no output
        # can be a view of them): a State may take one as its new buffer.
        in_place = {o for s in self.steps for o, d in zip(s.outs, s.donors) if d is not None}
        self.owned = [
            fresh and slot not in read_by_numpy and slot not in in_place
            for fresh, slot in zip(self.fresh, self.output_slots)
        ]
        only = self.steps[0] if len(self.steps) == 1 else None
        # NOTE: a lone kernel over the arguments is called directly (the per-call hot path).
        self.direct = (
            only.run
            if only is not None
            and only.backend != "numpy"
            and only.args == tuple(range(len(self.inputs)))
            and self.output_slots == list(only.outs)
            and not only.donors
            else None
        )
        self._run = self.direct or self._straight_line(template)

    def __call__(self, args: Sequence[np.ndarray]) -> list[np.ndarray]:
        return self._run(args)

    def _straight_line(self, template: list[np.ndarray | None]) -> Callable:
        """The steps as one generated Python function of the arguments.

        Interpreting the steps cost about 1.5 us each per call (argument lists, the
        memory plan's bookkeeping, slot writes), which dominated programs on small
        arrays. The function holds each slot in a local variable ``v<slot>`` and
        ``del``s it where the step loop released it, so peak memory is unchanged; the
        steps, constants and helpers are its closure, so nothing is shared between
        calls but the per-thread buffers.
        """
        scope: dict[str, object] = {"local": self._buffers}
        scope.update((f"v{i}", value) for i, value in enumerate(template) if value is not None)
        used = {i for step in self.steps for i in (*step.args, *step.donors) if i is not None}
        used.update(self.output_slots)
        names = "".join(f"v{i}, " if i in used else "_, " for i in range(len(self.inputs)))
        head = [f"{names}= args"] if names else []
        if self.donated:
            scope.update(donations=_donations, donated=self.donated, donation=_donation)
            head.append("usable = donations(args, donated)")
        if any(any(step.reuse) for step in self.steps):
            head += [
                "try:",
                "    buffers = local.slots",
                "except AttributeError:",
                "    buffers = local.slots = {}",
            ]
        body = []
        for k, step in enumerate(self.steps):
            scope[f"run{k}"] = step.run
            reads = ", ".join(f"v{i}" for i in step.args)
            outs = [f"v{o}" for o in step.outs]
            inline = _view(step.nodes[0]) if step.backend == "numpy" else None
            if inline is not None:
                code, scope[f"c{k}"] = inline
                body.append(f"v{step.outs[0]} = {code.format(x=reads, c=f'c{k}')}")
            elif step.backend == "numpy":
                listed = not _positional(step.nodes[0])
                body.append(f"v{step.outs[0]} = run{k}({f'[{reads}]' if listed else reads})")
            elif not step.donors and not any(step.reuse):
                body.append(f"{', '.join(outs)}, = run{k}([{reads}])")
            else:
                listed = any(d is not None and d not in self.trusted for d in step.donors)
                if listed:
                    body.append(f"a = [{reads}]")
                given = [
                    (f"buffers.get({o})" if r else "None")
                    if d is None
                    else (f"v{d}" if d in self.trusted else f"donation(v{d}, {d}, a, usable)")
                    for o, r, d in zip(step.outs, step.reuse, step.donors or [None] * len(outs))
                ]
                call = f"run{k}({'a' if listed else f'[{reads}]'}, [{', '.join(given)}])"
                body.append(f"{', '.join(outs)}, = {call}")
                body += [f"buffers[{o}] = v{o}" for o, r in zip(step.outs, step.reuse) if r]
                if listed:
                    body.append("del a")  # it would keep the reads alive past their release
            if step.free:
                body.append(f"del {', '.join(f'v{i}' for i in step.free)}")
        # Compiled kernels never warn; views do no arithmetic.
        if any(s.backend == "numpy" and s.nodes[0].op.kind != "shape" for s in self.steps):
            body = [f"    {line}" for line in body]
            if _QUIET is None:
                scope["errstate"] = np.errstate
                body.insert(0, 'with errstate(all="ignore"):')
            else:
                scope["quiet"], scope["loud"], scope["ignore"] = _QUIET
                body = ["token = quiet(ignore)", "try:", *body, "finally:", "    loud(token)"]
        if _mixes_blas_and_kernels(self.steps):
            scope["hold"], scope["release"] = blas.hold, blas.release
            body = ["held = hold()", "try:", *(f"    {line}" for line in body)]
            body += ["finally:", "    release(held)"]
        outputs = ", ".join(f"v{i}" for i in self.output_slots)
        lines = [*head, *body, f"return [{outputs}]"]
        source = "\n".join(
            [f"def make({', '.join(scope)}):", "    def run(args):"]
            + [f"        {line}" for line in lines]
            + ["    return run"]
        )
        namespace: dict[str, Callable] = {}
        exec(compile(source, "<lazyarr program>", "exec"), namespace)
        return namespace["make"](**scope)

    def _donate(self, donated: Sequence[int], targets: dict[int, int]) -> None:
        """Let kernels write program outputs into donated inputs of their shape and dtype.

        A donated input can take an output of an elementwise kernel that runs after
        every read of it and of every view of it (anything NumPy computes from it may
        be a view); the kernel reads it at the very positions it writes. Other kernels'
        results qualify where the kernel stores them after all its reads (``last``). ``targets``
        reserves a donated input for one output (by position): a State's spare buffer
        takes the State's new value and nothing else.
        """
        self.donated: list[int] = []
        self.trusted: set[int] = set()
        if not donated:
            return
        compiled = {m for step in self.steps if step.backend != "numpy" for m in step.nodes}
        aliases = {i: {self.inputs[i]} for i in donated}
        for node in self.order:
            for group in aliases.values():
                if node not in compiled and any(i in group for i in node.inputs):
                    group.add(node)
        slot_of = {n: i for i, n in enumerate(self.inputs)}
        for step in self.steps:
            slot_of.update(zip(step.results, step.outs))
        last = {}
        for index, step in enumerate(self.steps):
            for a in step.args:
                last[a] = index
        outputs = set(self.output_slots)
        # An output that is (or may be a view of) a donated input keeps it from being written.
        returned = set(self.outputs)
        free = [i for i in donated if not any(a in returned for a in aliases[i])]
        for index, step in enumerate(self.steps):
            if step.backend == "numpy":
                continue
            elementwise = all(m.op.kind == "elementwise" for m in step.nodes)
            donors: list[int | None] = []
            for o, node in zip(step.outs, step.results):
                if not elementwise and node not in self._last:
                    donors.append(None)
                    continue
                match = next(
                    (
                        i
                        for i in free
                        if o in outputs
                        and (i not in targets or self.output_slots[targets[i]] == o)
                        and self.inputs[i].shape == node.shape
                        and self.inputs[i].dtype == node.dtype
                        and all(
                            last.get(slot_of.get(a), -1) <= index
                            for a in aliases[i]
                            if a in slot_of
                        )
                    ),
                    None,
                )
                if match is not None:
                    free.remove(match)
                donors.append(match)
            if any(d is not None for d in donors):
                step.donors = tuple(donors)
        used = {d for step in self.steps for d in step.donors if d is not None}
        # Buffers reserved for one output (a State's spare) are the program's own: they
        # need no per-call check. Arguments the caller donated do.
        self.trusted = used & set(targets)
        self.donated = sorted(used - self.trusted)

    def as_text(self) -> str:
        """The scheduled graph, one node per line, with the backend that runs it."""
        names: dict[Node, str] = {}
        lines = []
        for i, node in enumerate(self.inputs):
            names[node] = f"%{i}"
            lines.append(f"%{i} = input {_describe(node)}")
        for node in self.order:
            if node not in names and node.value is not None:
                names[node] = f"%{len(names)}"
                lines.append(f"{names[node]} = constant {_describe(node)}")
        for step in self.steps:
            for member in step.nodes:
                names[member] = f"%{len(names)}"
                args = ", ".join(names.get(i, "?") for i in member.inputs)
                params = ", ".join(f"{k}={v}" for k, v in member.attrs)
                call = f"{member.op.name}({args}{', ' if params and args else ''}{params})"
                where = f"  # {member.loc[0]}:{member.loc[1]}" if member.loc else ""
                lines.append(
                    f"{names[member]} = {call} {_describe(member)} [{step.backend}]{where}"
                )
        outs = ", ".join(names[n] for n in self.outputs)
        lines.append(f"return ({outs})")
        return "\n".join(lines)


_COMPACT_MAX = 1 << 20  # bytes


def _compact(value: np.ndarray) -> np.ndarray:
    """A small constant laid out C-contiguously once (a folded ``1/n`` broadcast to a
    row, say), so kernels read it through the fast path on every call."""
    if value.flags.c_contiguous or value.nbytes > _COMPACT_MAX:
        return value
    value = np.ascontiguousarray(value)
    value.setflags(write=False)
    return value


def _donations(args: Sequence[np.ndarray], donated: list[int]) -> set[int]:
    """The donated arguments a kernel may overwrite in this call: writable, C-contiguous
    NumPy arrays sharing no memory with another argument."""
    usable = set()
    for i in donated:
        a = args[i]
        if (
            type(a) is np.ndarray
            and a.flags.writeable
            and a.flags.c_contiguous
            and a.dtype.isnative
            and not any(j != i and np.may_share_memory(a, b) for j, b in enumerate(args))
        ):
            usable.add(i)
    return usable


def _donation(
    value: np.ndarray, slot: int, args: list, usable: Collection[int]
) -> np.ndarray | None:
    """The donated input ``value`` (in ``slot``) if the kernel can write into it: it reads
    nothing else in that memory (a view of it, made inside the function)."""
    if slot not in usable:
        return None
    if any(b is not value and np.may_share_memory(value, b) for b in args):
        return None
    return value


def _topological(steps: list) -> list:
    """The steps ordered so each runs after those computing what it reads, keeping
    their given order where it may (a kernel storing several results is placed at
    its first one, which may come before another of its reads is computed)."""
    producer = {r: i for i, step in enumerate(steps) for r in step[0]}
    waiting = [
        {producer[r] for r in step[2] if r in producer and producer[r] != i}
        for i, step in enumerate(steps)
    ]
    if not any(waiting[i] and max(waiting[i]) > i for i in range(len(steps))):
        return steps
    readers: list[list[int]] = [[] for _ in steps]
    for i, deps in enumerate(waiting):
        for d in deps:
            readers[d].append(i)
    ready = [i for i, deps in enumerate(waiting) if not deps]
    heapq.heapify(ready)
    ordered = []
    while ready:
        i = heapq.heappop(ready)
        ordered.append(steps[i])
        for j in readers[i]:
            waiting[j].discard(i)
            if not waiting[j]:
                heapq.heappush(ready, j)
    return ordered


def _describe(node: Node) -> str:
    return f": {node.dtype}{list(node.shape)}"
