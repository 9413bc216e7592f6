"""``xp.jit``: trace a function once per input signature, run the compiled program after.

The first call with a new signature (pytree structure, shapes, dtypes, static
values) calls the Python function with traced arrays, which records a graph;
the graph becomes a ``Program`` whose fused elementwise work runs as compiled C
kernels. Kernels take their sizes and strides as arguments, so a new shape
re-traces (Python, cheap) but finds its kernels compiled already.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import threading
import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import _dtypes, _pytree, _state, _tracing, config
from .._array import Array
from .._builder import from_numpy
from .._errors import located
from .._graph import intern, unique
from .._ops import REGISTRY
from .optimize import Fired, check_names, optimize
from .program import Program

_INPUT = REGISTRY["input"]
_CONSTANT = REGISTRY["constant"]
_SCALARS = (bool, int, float, complex)
_trace_ids = itertools.count()


class _StaleStateError(Exception):
    """A State the entry reads or writes has been resized since it was traced."""


class _Entry:
    """A compiled signature: the program and how to rebuild the outputs.

    ``reads`` and ``writes`` are the States the traced function read and wrote:
    their buffers follow the arguments as program inputs (then one spare buffer per
    written State), and their new values follow the function's outputs.
    """

    __slots__ = (
        "aliased",
        "count",
        "direct",
        "fired",
        "fresh",
        "fresh_tuple",
        "out_leaves",
        "out_tree",
        "owned",
        "program",
        "reads",
        "shapes",
        "single",
        "tuple",
        "writes",
    )

    def __init__(
        self,
        program: Program,
        out_tree: Any,
        out_leaves: list,
        reads: Sequence[_state.State] = (),
        writes: Sequence[_state.State] = (),
    ):
        self.program = program
        self.fired: list[Fired] = []  # the rewrites applied to the traced graph
        self.out_tree = out_tree
        self.out_leaves = out_leaves  # None where a program output goes, else the static value
        self.reads = tuple(reads)
        self.writes = tuple(writes)
        self.shapes = tuple((s, s.shape) for s in dict.fromkeys((*reads, *writes)))
        self.single = out_tree == ("leaf",) and out_leaves == [None]
        # A flat tuple of program outputs is rebuilt without walking the tree.
        self.tuple = out_tree == ("tuple", (("leaf",),) * len(out_leaves)) and not any(out_leaves)
        self.fresh = program.fresh
        self.fresh_tuple = self.tuple and all(self.fresh) and not writes
        self.count = len(program.outputs) - len(self.writes)
        # The function's results that are a State's new value, which may be the very
        # buffer the State takes (its spare, written in place, or the value as it is).
        slots = program.output_slots
        self.aliased = tuple(
            (i, j)
            for i in range(self.count)
            for j in range(len(self.writes))
            if slots[i] == slots[self.count + j]
        )
        # The new values a State can take as they are, rather than copy into its spare.
        news = slots[self.count :]
        self.owned = tuple(
            program.owned[self.count + j] and news.count(slot) == 1 for j, slot in enumerate(news)
        )
        # NOTE: one kernel writing one fresh result is the per-call hot path.
        stateless = not self.shapes
        self.direct = program.direct if stateless and self.single and self.fresh[0] else None

    def run(self, values: list[np.ndarray]) -> Any:
        if self.direct is not None:
            return _fresh(self.direct(values)[0])
        if self.shapes:
            return self._run_with_states(values)
        if self.fresh_tuple:
            return tuple(map(_fresh, self.program(values)))
        return self._results(self.program(values), values)

    def _run_with_states(self, values: list[np.ndarray]) -> Any:
        """Run with the States' buffers; commit their new values only if all went well."""
        taken = _state.begin(self.reads, self.writes, self.shapes)
        if taken is None:
            raise _StaleStateError(tuple(s.shape for s, _ in self.shapes))
        buffers, spares = taken
        inputs = [*values, *buffers, *spares]
        try:
            outputs = self.program(inputs)
        except BaseException:
            _state.end(self.reads, buffers, self.writes, spares, None, ())
            raise
        count = self.count
        news = outputs[count:]
        installed = _state.end(self.reads, buffers, self.writes, spares, news, self.owned)
        outputs = outputs[:count]
        for i, j in self.aliased:
            if outputs[i] is installed[j]:
                outputs[i] = outputs[i].copy()
        return self._results(outputs, inputs)

    def _results(self, outputs: list, inputs: list) -> Any:
        """The outputs as the function returned them; never a buffer of the caller's or
        of a State."""
        if self.single:
            return _wrap(outputs[0], () if self.fresh[0] else inputs)
        if self.tuple:
            return tuple(
                [_wrap(value, () if fresh else inputs) for value, fresh in zip(outputs, self.fresh)]
            )
        it = iter(zip(outputs, self.fresh))
        results = []
        for static in self.out_leaves:
            if static is not None:
                results.append(static[0])
            else:
                value, fresh = next(it)
                results.append(_wrap(value, () if fresh else inputs))
        return _pytree.unflatten(self.out_tree, results)


class Lowered:
    """A traced and scheduled function, for inspection."""

    def __init__(self, program: Program, fired: Sequence[Fired] = ()):
        self.program = program
        self.fired = list(fired)

    def rewrites(self) -> list[str]:
        """The rewrites that fired on the traced graph, in order: ``phase/rule: op at
        file:line``."""
        return [str(f) for f in self.fired]

    def as_text(self) -> str:
        """The optimized graph: one node per line, with the backend that runs it."""
        return self.program.as_text()

    def source(self) -> str:
        """The generated C source of the compiled kernels ('' if none)."""
        return self.program.c_source

    def pprint(self, *, file: Any = None, optimized: bool = True) -> None:
        """Print the graph as expressions (``xp.pprint``)."""
        from .printing import pprint

        pprint(self, file=file, optimized=optimized)

    def debugprint(self, *, file: Any = None, optimized: bool = True) -> None:
        """Print the graph as a tree, one node per line (``xp.debugprint``)."""
        from .printing import debugprint

        debugprint(self, file=file, optimized=optimized)

    def to_dot(self, *, optimized: bool = True) -> str:
        """The graph as Graphviz DOT source, kernels as clusters (``xp.to_dot``)."""
        from .dot import to_dot

        return to_dot(self, optimized=optimized)


class Jitted:
    """A function compiled per input signature; call it like the function."""

    def __init__(
        self,
        fun: Callable,
        static_argnums: Sequence[int],
        static_argnames: Sequence[str],
        donate_argnames: Sequence[str],
        exclude_rewrites: Sequence[str] = (),
    ):
        if not callable(fun):
            raise TypeError(f"jit: expected a function, got {type(fun).__name__}")
        functools.update_wrapper(self, fun)
        self._fun = fun
        self._name = getattr(fun, "__name__", type(fun).__name__)
        self._static_argnums = tuple(static_argnums)
        self._static_argnames = tuple(static_argnames)
        self._donate_argnames = tuple(donate_argnames)
        self._exclude_rewrites = tuple(exclude_rewrites)
        self._exclude = check_names(exclude_rewrites)
        self._signature = None
        self._static: set[str] = set()
        if self._static_argnums or self._static_argnames or self._donate_argnames:
            self._signature = inspect.signature(fun)
            params = list(self._signature.parameters)
            for name in self._donate_argnames:
                if name not in self._signature.parameters:
                    raise ValueError(f"jit: {fun.__name__} has no parameter {name!r} to donate")
            for i in self._static_argnums:
                if not -len(params) <= i < len(params):
                    raise ValueError(f"jit: static_argnums {i} out of range for {fun.__name__}")
            for name in self._static_argnames:
                if name not in self._signature.parameters:
                    raise ValueError(f"jit: {fun.__name__} has no parameter {name!r}")
            self._static = {params[i] for i in self._static_argnums} | set(self._static_argnames)
        self._cache: dict[tuple, _Entry] = {}
        self._fast: dict[tuple, _Entry] = {}  # positional array arguments: shapes and dtypes
        self._lock = threading.RLock()
        self._last_key: tuple | None = None

    def __get__(self, obj, objtype=None):
        return self if obj is None else types.MethodType(self, obj)

    def __repr__(self) -> str:
        return f"<jitted {getattr(self._fun, '__qualname__', self._fun)}>"

    def __reduce__(self):
        """The Python function and the options: compiled code is rebuilt on first call."""
        module = inspect.getmodule(self._fun)
        qualname = getattr(self, "__qualname__", None)
        if module is not None and qualname and _lookup(module, qualname) is self:
            return qualname  # a module-level jitted function: pickled by name
        options = (
            self._static_argnums,
            self._static_argnames,
            self._donate_argnames,
            self._exclude_rewrites,
        )
        return (Jitted, (self._fun, *options))

    # ------------------------------------------------------------------ calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _tracing.state.depth or _tracing.state.transaction is not None:
            return self._fun(*args, **kwargs)  # inlined into the function being traced
        if config.jit_disabled():
            return self._call_eagerly(args, kwargs)
        if not kwargs:
            # NOTE: the common calls, NumPy arrays (or those and Arrays) as positional
            # arguments, skip pytrees and build their key in one pass.
            fast: tuple | None = ()
            values: Sequence = args
            for a in args:
                if type(a) is not np.ndarray:
                    values, fast = _mixed_key(args)
                    break
                fast += (a.shape, a.dtype)
            if fast is not None:
                entry = self._fast.get(fast)
                if entry is not None:
                    try:
                        return entry.run(values)
                    except _StaleStateError:
                        pass  # a State was resized: find or trace the variant below
        key, leaves, bound = self._key(args, kwargs)
        entry = self._cache.get(key)
        if entry is None:
            entry = self._compile(key, leaves, bound)
        values = [_value_of(leaf) for leaf in leaves if _is_array(leaf)]
        if (
            not kwargs
            and bound is None
            and len(leaves) == len(args) == len(values)
            and all(
                type(a) in (np.ndarray, Array) and v.dtype.isnative for a, v in zip(args, values)
            )
        ):
            self._fast[_fast_key(values)] = entry
        while True:
            try:
                return entry.run(values)
            except _StaleStateError as stale:
                key = (key, stale.args[0])
                entry = self._cache.get(key) or self._compile(key, leaves, bound, "resized State")

    def _call_eagerly(self, args: tuple, kwargs: dict) -> Any:
        """For debugging: NumPy inputs become Arrays, as the traced function sees; States
        read their values at the call's start and change when it returns."""
        leaves, treedef = _pytree.flatten((args, kwargs))
        leaves = [
            Array._new(from_numpy(x)) if isinstance(x, (np.ndarray, np.generic)) else x
            for x in leaves
        ]
        args, kwargs = _pytree.unflatten(treedef, leaves)
        transaction = _state.Transaction()
        with _tracing.transacting(transaction):
            out = self._fun(*args, **kwargs)
        transaction.commit_eager()
        return out

    def lower(self, *args: Any, **kwargs: Any) -> Lowered:
        """Trace and schedule for these arguments, without running."""
        key, leaves, bound = self._key(args, kwargs)
        entry = self._cache.get(key) or self._compile(key, leaves, bound)
        lowered = Lowered(entry.program, entry.fired)
        from . import printing

        # The parameters' names, the States' names and the results' paths, for the printers.
        lowered.labels = printing.labels_for(self, entry, args, kwargs, bound)
        return lowered

    # ------------------------------------------------------------------ signatures
    def _key(self, args: tuple, kwargs: dict) -> tuple[tuple, list, Any]:
        """The cache key, the dynamic leaves and what to trace with."""
        if self._signature is None:
            leaves, treedef = _pytree.flatten((args, kwargs))
            static: tuple = ()
            bound = None
        else:
            try:
                ba = self._signature.bind(*args, **kwargs)
            except TypeError as e:
                raise located(TypeError, f"{self._name}: {e}") from None
            static_items = []
            dynamic = {}
            for name, value in ba.arguments.items():
                if name in self._static:
                    try:
                        hash(value)
                    except TypeError:
                        raise located(
                            TypeError,
                            f"{self.__name__}: static argument {name!r} "
                            f"must be hashable, got {type(value).__name__}",
                        ) from None
                    static_items.append((name, type(value), value))
                else:
                    dynamic[name] = value
            leaves, treedef = _pytree.flatten(dynamic)
            static = tuple(static_items)
            bound = ba
        return (
            (treedef, tuple(_leaf_key(leaf, self._name) for leaf in leaves), static),
            leaves,
            bound,
        )

    # ------------------------------------------------------------------ tracing
    def _compile(self, key: tuple, leaves: list, bound: Any, reason: str = "") -> _Entry:
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None:
                return entry
            trace = next(_trace_ids)
            tracers: list[Any] = []
            inputs = []
            donated_leaves = self._donated_leaves(bound)
            donated = []
            for position, (leaf, leaf_key) in enumerate(zip(leaves, _base(key)[1])):
                if not _is_array(leaf):
                    tracers.append(leaf)
                    continue
                if position in donated_leaves:
                    donated.append(len(inputs))
                shape, dtype = leaf_key
                node = intern(
                    _INPUT,
                    (),
                    (("dtype", dtype), ("index", len(inputs)), ("shape", shape), ("trace", trace)),
                    shape,
                    dtype,
                    None,
                )
                inputs.append(node)
                tracers.append(Array._new(node))
            transaction = _state.Transaction(trace)
            with _tracing.recording(), _tracing.transacting(transaction):
                out = self._call_traced(_base(key), tracers, bound)
            out_leaves, out_tree = _pytree.flatten(out)
            outputs, statics = [], []
            for leaf in out_leaves:
                if isinstance(leaf, Array):
                    outputs.append(leaf._node)
                    statics.append(None)
                elif isinstance(leaf, (np.ndarray, np.generic)):
                    outputs.append(from_numpy(leaf))
                    statics.append(None)
                else:
                    statics.append((leaf,))
            # NOTE: writes in one global order (by id), the order their locks are taken in.
            reads, writes = list(transaction.reads), sorted(transaction.writes, key=id)
            inputs += transaction.reads.values()
            targets = {}
            for state in writes:  # the spare buffer each new value is written into
                index = len(inputs)
                targets[index] = len(outputs)
                dtype, shape = state.dtype, state.shape
                attrs = (("dtype", dtype), ("index", index), ("shape", shape), ("trace", trace))
                spare = intern(_INPUT, (), attrs, shape, dtype, None)
                inputs.append(spare)
                outputs.append(transaction.writes[state])
            outputs, fired = optimize(outputs, self._exclude)
            from . import c_backend

            built = c_backend.compiles
            program = Program(
                inputs,
                outputs,
                partition=_partition(),
                donated=donated + list(targets),
                targets=targets,
            )
            self._log(key, c_backend.compiles - built, bool(program.c_source), reason)
            entry = _Entry(program, out_tree, statics, reads, writes)
            entry.fired = fired
            self._cache[key] = entry
            return entry

    def _donated_leaves(self, bound: Any) -> set[int]:
        """Positions, among the leaves ``_key`` flattens, of the donated arguments' arrays."""
        if not self._donate_argnames or bound is None:
            return set()
        dynamic = {n: v for n, v in bound.arguments.items() if n not in self._static}
        positions: set[int] = set()
        start = 0
        for name in sorted(dynamic, key=repr):  # the order _pytree flattens a dict in
            count = len(_pytree.flatten(dynamic[name])[0])
            if name in self._donate_argnames:
                positions.update(range(start, start + count))
            start += count
        return positions

    def _call_traced(self, key: tuple, tracers: list, bound: Any) -> Any:
        treedef, _, static = key
        if bound is None:
            args, kwargs = _pytree.unflatten(treedef, tracers)
            return self._fun(*args, **kwargs)
        dynamic = _pytree.unflatten(treedef, tracers)
        arguments = {**dynamic, **{n: v for n, _, v in static}}
        ba = self._signature.bind_partial()
        ba.arguments.update({n: arguments[n] for n in self._signature.parameters if n in arguments})
        return self._fun(*ba.args, **ba.kwargs)

    def _log(self, key: tuple, compiled: int, has_kernels: bool, reason: str) -> None:
        if not config.log_compiles():
            return
        key = _base(key)
        previous, self._last_key = self._last_key, key
        name = getattr(self._fun, "__qualname__", "function")
        if reason:
            pass  # the caller knows it (a State was resized)
        elif previous is None:
            reason = "first call"
        elif previous[0] != key[0]:
            reason = "new argument structure"
        elif previous[2] != key[2]:
            reason = f"new static arguments { ({n: v for n, _, v in key[2]}) }"
        else:
            labels = _leaf_labels(key[0], self._fun)
            changes = [
                _describe_change(labels[i], a, b)
                for i, (a, b) in enumerate(zip(previous[1], key[1]))
                if a != b
            ]
            reason = "; ".join(changes)
        if compiled:
            kernels = f"{compiled} kernel library compiled"
        else:
            kernels = "kernels reused" if has_kernels else "no compiled kernels (NumPy backend)"
        config.log.info("jit(%s): traced for %s; %s", name, reason, kernels)


def _describe_change(label: str, old: tuple, new: tuple) -> str:
    if isinstance(old[0], tuple) and isinstance(new[0], tuple) and old[1] == new[1]:
        return f"new shape for {label}: {old[0]} → {new[0]}"
    if isinstance(old[0], tuple) and isinstance(new[0], tuple):
        return f"new dtype for {label}: {old[1]} → {new[1]}"
    return f"new value for {label}: {old[-1]} → {new[-1]}"


def _leaf_labels(treedef: tuple, fun: Callable) -> list[str]:
    """For each leaf of a call's arguments, the argument it belongs to (for log messages)."""
    try:
        names = list(inspect.signature(fun).parameters)
    except (TypeError, ValueError):
        names = []

    def count(t: tuple) -> int:
        if t[0] == "leaf":
            return 1
        if t[0] == "none":
            return 0
        return sum(count(c) for c in (t[1] if t[0] in ("tuple", "list") else t[-1]))

    labels: list[str] = []
    if treedef[0] == "tuple":  # (positional arguments, keyword arguments)
        positional, keywords = treedef[1]
        for i, child in enumerate(positional[1]):
            labels += [f"argument {names[i] if i < len(names) else i}"] * count(child)
        named = zip(keywords[1], keywords[2])
    else:  # the dynamic arguments by name
        named = zip(treedef[1], treedef[2])
    for name, child in named:
        labels += [f"argument {name}"] * count(child)
    return labels


def _is_array(leaf: Any) -> bool:
    """Arrays (and what NumPy can convert) are traced; Python scalars (np.float64 is a
    float, but an array), States and other objects are passed to the function as
    they are."""
    return isinstance(leaf, (Array, np.ndarray, np.generic)) or (
        not isinstance(leaf, _SCALARS)
        and (hasattr(leaf, "__array__") or hasattr(leaf, "__array_interface__"))
    )


def _base(key: tuple) -> tuple:
    """The argument key of a key that also names the sizes of resized States."""
    while len(key) == 2:
        key = key[0]
    return key


def _lookup(module: Any, qualname: str) -> Any:
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


def _leaf_key(leaf: Any, fname: str) -> Any:
    if isinstance(leaf, Array):
        return (leaf.shape, leaf.dtype)
    if _is_array(leaf):
        leaf = np.asarray(leaf)
        dtype = leaf.dtype
        if not _dtypes.is_supported(dtype):
            dtype = _dtypes.normalize(dtype.newbyteorder("=") if not dtype.isnative else dtype)
        return (np.shape(leaf), dtype)
    if isinstance(leaf, _SCALARS):
        # NOTE: repr tells 0.0 from -0.0, which compare equal, and names NaNs.
        return (type(leaf), leaf if leaf == leaf else "nan", repr(leaf))
    try:
        hash(leaf)
    except TypeError:
        raise located(
            TypeError,
            f"{fname}: argument of type {type(leaf).__name__} is neither an array, a "
            f"Python scalar nor hashable; pass it as a static argument (static_argnames) "
            f"or close over it",
        ) from None
    # NOTE: objects (a model holding States, a State itself) are static: the function
    # sees them as they are, and a different object traces again.
    return ("object", type(leaf), leaf)


def _mixed_key(args: tuple) -> tuple[Sequence, tuple | None]:
    """The values and the ``Jitted._fast`` key of positional NumPy arrays and Arrays;
    no key where another kind of argument is among them."""
    values = []
    key = []
    for a in args:
        kind = type(a)
        if kind is np.ndarray:
            v = a
        elif kind is Array:
            v = a._node.value
            if v is None:
                v = a._value()
        else:
            return args, None
        values.append(v)
        key.append(v.shape)
        key.append(v.dtype)
    return values, tuple(key)


def _fast_key(values: Sequence[np.ndarray]) -> tuple:
    """The key of ``Jitted._fast``: each positional array's shape and dtype."""
    return tuple(x for v in values for x in (v.shape, v.dtype))


def _value_of(leaf: Any) -> np.ndarray:
    if isinstance(leaf, Array):
        return leaf._value()
    a = np.asarray(leaf)
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    return a


def _wrap(value: np.ndarray, inputs: Sequence[np.ndarray]) -> Array:
    """A program output as an Array; never the caller's own buffer (``inputs``)."""
    for v in inputs:
        if value is v or np.may_share_memory(value, v):
            value = value.copy()
            break
    return _fresh(value)


def _fresh(value: np.ndarray, _new=object.__new__) -> Array:
    """A buffer no one else holds as an Array (read-only: Arrays are values)."""
    value.setflags(write=False)
    a = _new(Array)  # NOTE: ``Array._new`` inlined: every result of every call is one
    a._node = unique(_CONSTANT, value.shape, value.dtype, value)
    return a


def _partition():
    """The C backend's kernel partitioner, or None when no compiler is usable."""
    from . import c_backend

    return c_backend.partitioner()


def jit(
    fun: Callable | None = None,
    *,
    static_argnums: Sequence[int] | int = (),
    static_argnames: Sequence[str] | str = (),
    donate_argnames: Sequence[str] | str = (),
    exclude_rewrites: Sequence[str] | str = (),
):
    """Compile ``fun`` per input signature: trace once, run native code after.

    Arguments and results may be nested tuples, lists and dicts of arrays (lazyarr
    or NumPy) and Python scalars. Python scalar arguments are static: a new value
    re-traces, but kernels are reused. ``exclude_rewrites`` names rewrite phases or
    rules to skip (``"all"``: NumPy's exact operation order); see docs/rewrites.md.

    >>> import lazyarr as xp
    >>> @xp.jit
    ... def f(x, y):
    ...     return xp.exp(x) * y + 1
    >>> f(xp.asarray([0.0, 1.0]), 2.0).shape
    (2,)
    """

    def norm(v):
        return (v,) if isinstance(v, (int, str)) else tuple(v)

    if fun is None:
        return lambda f: jit(
            f,
            static_argnums=static_argnums,
            static_argnames=static_argnames,
            donate_argnames=donate_argnames,
            exclude_rewrites=exclude_rewrites,
        )
    return Jitted(
        fun,
        norm(static_argnums),
        norm(static_argnames),
        norm(donate_argnames),
        norm(exclude_rewrites),
    )
