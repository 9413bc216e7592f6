"""Graphs you can read: ``xp.pprint`` (expressions) and ``xp.debugprint`` (a tree).

Both show what will run: the graph after the jit's rewrites and constant
folding, with each node's backend (a fused C kernel or NumPy). A function is
shown for example arguments, its leaves named after its parameters and the
States it reads. An Array is shown as a function of the arrays it was built from
(named after the caller's variables that hold them): the program a jitted
function taking those arrays as arguments would run. ``optimized=False`` shows
the graph as recorded. ``dot.py`` draws the same ``View`` with Graphviz.
"""

from __future__ import annotations

import inspect
import itertools
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from .. import _graph, _pytree, _tracing
from .._array import Array
from .._errors import _is_internal
from .._graph import Node, intern, postorder
from .._ops import REGISTRY
from .._state import State
from .optimize import optimize
from .program import Program

_INPUT = REGISTRY["input"]
_CONSTANT = REGISTRY["constant"]
_TINY = 8  # elements: unnamed arrays this small are shown by value
_print_traces = itertools.count()

# Python's operator precedence, lowest first: the printed text parses as the graph.
COMPARE, BOR, BXOR, BAND, SHIFT, ADD, MUL, UNARY, POW, ATOM = range(1, 11)
_BINARY = {
    "add": ("+", ADD),
    "subtract": ("-", ADD),
    "multiply": ("*", MUL),
    "divide": ("/", MUL),
    "floor_divide": ("//", MUL),
    "remainder": ("%", MUL),
    "matmul": ("@", MUL),
    "pow": ("**", POW),
    "bitwise_and": ("&", BAND),
    "bitwise_or": ("|", BOR),
    "bitwise_xor": ("^", BXOR),
    "bitwise_left_shift": ("<<", SHIFT),
    "bitwise_right_shift": (">>", SHIFT),
    "less": ("<", COMPARE),
    "less_equal": ("<=", COMPARE),
    "greater": (">", COMPARE),
    "greater_equal": (">=", COMPARE),
    "equal": ("==", COMPARE),
    "not_equal": ("!=", COMPARE),
}
_UNARY = {"negative": "-", "positive": "+", "bitwise_invert": "~"}


# ----------------------------------------------------------------------------- what is shown
@dataclass
class Labels:
    """Names for a program's inputs and outputs, from the jitted function's signature.

    ``inputs`` maps an input's position to its name and ``kinds`` to what it is
    ("input" or "State"); ``outputs`` holds one label per output (None for the only
    result of a function that returns one array).
    """

    inputs: dict[int, str]
    kinds: dict[int, str]
    outputs: list[str | None]


@dataclass
class View:
    """A graph to print: its roots, what its leaves are called, and how its nodes run.

    ``optimized`` views stop at nodes with values (constants, folded or not);
    recorded ones walk through them to the leaves. ``runs`` gives each node the
    backend that computes it ("c lz_…" or "numpy"), ``kernels`` the compiled kernels'
    names and member nodes (both empty when nothing was scheduled).
    """

    roots: list[Node]
    labels: list[str | None]
    names: dict[Node, str]
    kinds: dict[Node, str]
    optimized: bool
    runs: dict[Node, str] = field(default_factory=dict)
    kernels: list[tuple[str, tuple[Node, ...]]] = field(default_factory=list)
    order: list[Node] = field(init=False)
    uses: dict[Node, int] = field(init=False)

    def __post_init__(self) -> None:
        self.order = postorder(self.roots, self.optimized)
        uses = dict.fromkeys(self.order, 0)
        for node in self.order:
            if not self.is_leaf(node):
                for i in node.inputs:
                    uses[i] += 1
        for root in self.roots:
            uses[root] += 1
        self.uses = uses

    def is_leaf(self, node: Node) -> bool:
        return node in self.names or not node.inputs or (self.optimized and node.value is not None)


def view_of(
    x: Any, args: tuple, kwargs: dict, *, optimized: bool, kernels: bool, what: str
) -> View:
    """The View of an Array (or a pytree of them), a Lowered, or a function and arguments.

    ``kernels``: an Array's program is partitioned into compiled kernels (which may
    compile C) only when the caller draws them.
    """
    from .jit import Jitted, Lowered, jit

    if isinstance(x, Lowered):
        _no_arguments(args, kwargs, what)
        return _lowered_view(x, optimized)
    if callable(x) and not isinstance(x, Array):
        f = x if isinstance(x, Jitted) else jit(x)
        if not optimized:  # traced again without rewrites: the graph as recorded
            f = jit(
                f._fun,
                static_argnums=f._static_argnums,
                static_argnames=f._static_argnames,
                exclude_rewrites="all",
            )
        return _lowered_view(lower_with_labels(f, args, kwargs), optimized)
    _no_arguments(args, kwargs, what)
    leaves, treedef = _pytree.flatten(x)
    if not leaves or not all(isinstance(a, Array) for a in leaves):
        shown = type(x).__name__ if not leaves else type(next(a for a in leaves)).__name__
        raise TypeError(
            f"{what}: expected an Array (or a tuple, list or dict of them), a jitted function "
            f"with example arguments, or a Lowered; got {shown}"
        )
    roots = [a._node for a in leaves]
    labels = [None] if treedef == ("leaf",) else _treedef_paths(treedef, "out")
    return _array_view(roots, labels, optimized, kernels)


def _no_arguments(args: tuple, kwargs: dict, what: str) -> None:
    if args or kwargs:
        raise TypeError(
            f"{what}: arguments are given only with a function; to show several arrays "
            f"together pass them as one tuple, {what}((a, b))"
        )


def _lowered_view(lowered: Any, optimized: bool) -> View:
    """A Lowered's program; recorded, its graph before folding and fusion (and before
    the rewrites, where the Lowered kept the traced outputs as ``traced``)."""
    program = lowered.program
    labels = getattr(lowered, "labels", None) or _default_labels(program)
    names = {program.inputs[i]: name for i, name in labels.inputs.items()}
    kinds = {program.inputs[i]: kind for i, kind in labels.kinds.items()}
    roots = program.outputs if optimized else getattr(lowered, "traced", program.outputs)
    return _program_view(program, roots, labels.outputs, names, kinds, optimized)


def _program_view(
    program: Program,
    roots: Sequence[Node],
    labels: list[str | None],
    names: dict[Node, str],
    kinds: dict[Node, str],
    optimized: bool,
) -> View:
    view = View(list(roots), labels, _distinct(names), kinds, optimized)
    if optimized:
        for step in program.steps:
            for member in step.nodes:
                view.runs[member] = step.backend
            if step.backend != "numpy":
                view.kernels.append((step.backend, step.nodes))
    return view


def _default_labels(program: Program) -> Labels:
    """Labels from the inputs' own attributes, for a Lowered made without names."""
    inputs, kinds = {}, {}
    for position, node in enumerate(program.inputs):
        index = node.params.get("index") if node.op is _INPUT else None
        if isinstance(index, int):
            inputs[position], kinds[position] = f"arg{index}", "input"
        elif isinstance(index, tuple):
            inputs[position], kinds[position] = f"state{index[1]}", "State"
    count = len(program.outputs)
    return Labels(inputs, kinds, [None] if count == 1 else [f"out[{i}]" for i in range(count)])


def _array_view(roots: list[Node], labels: list, optimized: bool, kernels: bool) -> View:
    """An Array's graph as a function of the arrays it reads (its variables).

    Variables are the arrays the user made (not constants the library made: those
    are interned), inputs of a trace in progress and, optimized, values already
    computed from those (eager evaluation will not compute them again). Those held
    by the caller's variables take their names; other small ones are shown by
    value, as constants.
    """
    recorded = postorder(roots, stop_at_values=False)
    depends: set[Node] = set()
    for node in recorded:
        if _is_data(node) or any(i in depends for i in node.inputs):
            depends.add(node)
    if optimized:
        walked = postorder(roots, stop_at_values=True)
        candidates = [n for n in walked if n in depends and (n.value is not None or not n.inputs)]
    else:
        candidates = [n for n in recorded if n in depends and not n.inputs]
    found, taken = _caller_names(set(candidates))
    names: dict[Node, str] = {}
    kinds: dict[Node, str] = {}
    fresh = _fresh_names(taken | {name for name, _ in found.values()})
    for node in candidates:
        if node in found:
            names[node], kinds[node] = found[node]
        elif node.op is _INPUT or node.size > _TINY:
            names[node], kinds[node] = next(fresh), "input"
    if not optimized:
        return View(roots, labels, _distinct(names), kinds, optimized)
    # As a jitted function taking the variables as arguments would run it: the rest folds.
    trace = ("print", next(_print_traces))
    mapping = {}
    for position, node in enumerate(names):
        if node.op is not _INPUT:
            attrs = (
                ("dtype", node.dtype),
                ("index", position),
                ("shape", node.shape),
                ("trace", trace),
            )
            mapping[node] = intern(_INPUT, (), attrs, node.shape, node.dtype, None)
    from . import c_backend

    # NOTE: what Jitted._compile does with a traced graph: rewrite, then schedule.
    outputs, _ = optimize(_substitute(roots, mapping))
    program = Program(
        [mapping.get(n, n) for n in names],
        outputs,
        partition=c_backend.partitioner() if kernels else None,
    )
    return _program_view(
        program,
        program.outputs,
        labels,
        {mapping.get(n, n): name for n, name in names.items()},
        {mapping.get(n, n): kind for n, kind in kinds.items()},
        optimized,
    )


def _is_data(node: Node) -> bool:
    """A leaf that stands for data: a trace's input, or an array made by ``unique``
    (the user's data, a State's value, a jitted function's result), never interned."""
    if node.op is _INPUT:
        return True
    if node.op is not _CONSTANT:
        return False
    ref = _graph._table.get((node.op, node.inputs, node.attrs))
    return ref is None or ref() is not node


def _substitute(roots: Sequence[Node], mapping: dict[Node, Node]) -> list[Node]:
    """``roots`` rebuilt with each node of ``mapping`` replaced by its image (nodes with
    values are kept as they are)."""
    if not mapping:
        return list(roots)
    new = dict(mapping)
    for node in postorder(roots, stop_at_values=True):
        if node not in new and node.value is None and node.inputs:
            inputs = tuple(new.get(i, i) for i in node.inputs)
            if inputs != node.inputs:
                new[node] = intern(node.op, inputs, node.attrs, node.shape, node.dtype, node.loc)
    return [new.get(r, r) for r in roots]


def _caller_names(nodes: set[Node]) -> tuple[dict[Node, tuple[str, str]], set[str]]:
    """The names (and kinds) the calling code's variables give to ``nodes``: Arrays
    whose node it is, and States whose current value it is; and the names the calling
    function sees (which other leaves must not take).

    Every user frame on the stack is searched, so a helper that prints what its
    caller built still finds the caller's names.
    """
    if not nodes:
        return {}, set()
    local_scopes, global_scopes = [], {}
    frame = sys._getframe(1)
    while frame is not None:
        if not _is_internal(frame.f_code.co_filename):
            local_scopes.append(frame.f_locals)
            global_scopes.setdefault(id(frame.f_globals), frame.f_globals)
        frame = frame.f_back
    transaction = _tracing.state.transaction
    found: dict[Node, tuple[str, str]] = {}
    # The nearest function's variables first (a helper's, then its caller's...), then
    # module globals: the most specific name wins.
    for scope in (*local_scopes, *global_scopes.values()):
        for name, value in list(scope.items()):
            if name.startswith("_") or not name.isidentifier():  # pytest's @py_assert1
                continue
            if isinstance(value, Array):
                node, kind = value._node, "input"
            elif isinstance(value, State):
                if transaction is not None:
                    node = transaction.reads.get(value)
                else:
                    node = value._node() if value._node is not None else None
                name, kind = value.name or name, "State"
            else:
                continue
            if node in nodes and node not in found:
                found[node] = (name, kind)
    taken = (
        set(local_scopes[0]) | set(next(iter(global_scopes.values()))) if local_scopes else set()
    )
    return found, taken


def _fresh_names(taken: set[str]) -> Any:
    """x, y, z, u, v, w, then x6, x7, ...: names no variable of the caller has."""
    candidates = itertools.chain("xyzuvw", (f"x{i}" for i in itertools.count(6)))
    return (n for n in candidates if n not in taken)


def _distinct(names: dict[Node, str]) -> dict[Node, str]:
    """The names, with a suffix where two leaves would print the same."""
    seen: dict[str, int] = {}
    out = {}
    for node, name in names.items():
        count = seen.get(name, 0)
        seen[name] = count + 1
        out[node] = name if count == 0 else f"{name}_{count + 1}"
    return out


# ----------------------------------------------------------------------------- jitted functions
def lower_with_labels(f: Any, args: tuple, kwargs: dict) -> Any:
    """``f.lower(*args, **kwargs)``, with names for its inputs and outputs attached
    (``labels``): the parameters' names, the States' names and the results' paths."""
    lowered = f.lower(*args, **kwargs)
    key, _, bound = f._key(args, kwargs)
    entry = f._cache.get(key)
    if entry is not None and entry.program is lowered.program:
        lowered.labels = labels_for(f, entry, args, kwargs, bound)
    return lowered


def labels_for(f: Any, entry: Any, args: tuple, kwargs: dict, bound: Any) -> Labels:
    """Names for the program of a jitted function's cache ``entry`` (see ``Labels``)."""
    from .jit import _is_array

    paths = [p for p, leaf in _argument_paths(f, args, kwargs, bound) if _is_array(leaf)]
    inputs = dict(enumerate(paths))
    kinds = dict.fromkeys(inputs, "input")
    states = _state_names(f._fun, dict.fromkeys((*entry.reads, *entry.writes)))
    for k, state in enumerate(entry.reads):
        inputs[len(paths) + k], kinds[len(paths) + k] = states[state], "State"
    if entry.single:
        outputs: list[str | None] = [None]
    else:
        every = _treedef_paths(entry.out_tree, "out")
        outputs = [p for p, static in zip(every, entry.out_leaves) if static is None]
    outputs += [f"{states[s]}.value" for s in entry.writes]
    return Labels(inputs, kinds, outputs)


def _argument_paths(f: Any, args: tuple, kwargs: dict, bound: Any) -> list[tuple[str, Any]]:
    """Each leaf of a call's arguments with its path (``x``, ``params['w']``), in the
    order the jit flattens them."""
    out: list[tuple[str, Any]] = []
    if bound is not None:
        dynamic = {n: v for n, v in bound.arguments.items() if n not in f._static}
        for name in sorted(dynamic, key=repr):
            _tree_paths(dynamic[name], name, out)
        return out
    try:
        params = list(inspect.signature(f._fun).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    rest = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
    for i, a in enumerate(args):
        if i < len(positional):
            name = positional[i]
        else:
            name = f"{rest}[{i - len(positional)}]" if rest else f"arg{i}"
        _tree_paths(a, name, out)
    for name in sorted(kwargs, key=repr):
        _tree_paths(kwargs[name], name, out)
    return out


def _tree_paths(tree: Any, path: str, out: list) -> None:
    """Mirrors ``_pytree.flatten``: the same leaves in the same order, with paths."""
    if tree is None:
        return
    kind = type(tree)
    if kind is tuple or kind is list:
        for i, t in enumerate(tree):
            _tree_paths(t, f"{path}[{i}]", out)
    elif isinstance(tree, tuple) and hasattr(tree, "_fields"):
        for name, t in zip(tree._fields, tree):
            _tree_paths(t, f"{path}.{name}", out)
    elif isinstance(tree, dict):
        for k in sorted(tree, key=repr):
            _tree_paths(tree[k], f"{path}[{k!r}]", out)
    else:
        out.append((path, tree))


def _treedef_paths(treedef: tuple, path: str) -> list[str]:
    """The path of each leaf of a structure made by ``_pytree.flatten``."""
    tag = treedef[0]
    if tag == "leaf":
        return [path]
    if tag == "none":
        return []
    if tag in ("tuple", "list"):
        children = [(f"{path}[{i}]", t) for i, t in enumerate(treedef[1])]
    elif tag == "namedtuple":
        children = [(f"{path}.{n}", t) for n, t in zip(treedef[1]._fields, treedef[2])]
    else:
        children = [(f"{path}[{k!r}]", t) for k, t in zip(treedef[1], treedef[2])]
    return [p for child, t in children for p in _treedef_paths(t, child)]


def _state_names(fun: Callable, states: dict[State, None]) -> dict[State, str]:
    """A name per State: its own, else the variable the function finds it in."""
    scopes: list[dict] = []
    for f in dict.fromkeys((fun, inspect.unwrap(fun))):
        code, cells = getattr(f, "__code__", None), getattr(f, "__closure__", None)
        if code is not None and cells:
            scopes.append(
                {n: c.cell_contents for n, c in zip(code.co_freevars, cells) if _filled(c)}
            )
        scopes.append(getattr(f, "__globals__", {}))
    names = {}
    for k, state in enumerate(states):
        name = state.name
        for scope in scopes:
            if name is not None:
                break
            name = next((n for n, v in scope.items() if v is state and n[0] != "_"), None)
        names[state] = name or f"state{k}"
    return names


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------------------- text of nodes
def shape_text(node: Node) -> str:
    return f"{node.dtype}{list(node.shape)}"


def _value_text(v: Any) -> str:
    if isinstance(v, np.dtype):
        return str(v)
    if isinstance(v, tuple):
        inner = ", ".join(map(_value_text, v))
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, np.generic):
        return str(v)
    return repr(v)


def _scalar_text(v: np.generic) -> tuple[str, int]:
    text = str(v)
    return text, UNARY if text.startswith("-") else ATOM


def _nested(value: np.ndarray) -> str:
    if value.ndim == 0:
        return str(value[()])
    return "[" + ", ".join(_nested(v) for v in value) + "]"


def constant_text(node: Node) -> tuple[str, int]:
    """A constant as a Python literal (scalars, small arrays), ``full(shape, v)`` (arrays
    of one value) or ``constant<float64[3, 4]>``; with its precedence."""
    value = node.value
    if value.ndim == 0:
        return _scalar_text(value[()])
    if value.size > 1 and bool(np.all(value == value.flat[0])):
        return f"full({_value_text(node.shape)}, {value.flat[0]})", ATOM
    if value.size <= _TINY:
        return _nested(value), ATOM
    return f"constant<{shape_text(node)}>", ATOM


def leaf_text(view: View, node: Node) -> tuple[str, int]:
    name = view.names.get(node)
    if name is not None:
        return name, ATOM
    if node.value is not None:
        return constant_text(node)
    if node.op.name == "iota":
        n, dtype = node.params["n"], node.params["dtype"]
        return (f"arange({n})" if dtype == np.int64 else f"arange({n}, dtype={dtype})"), ATOM
    return _call(node.op.name, [], node), ATOM


def _params(node: Node, skip: Sequence[str] = ()) -> list[str]:
    return [f"{k}={_value_text(v)}" for k, v in node.attrs if v is not None and k not in skip]


def _call(name: str, args: Sequence[str], node: Node, skip: Sequence[str] = ()) -> str:
    return f"{name}({', '.join([*args, *_params(node, skip)])})"


def _wrap(text: tuple[str, int], below: int) -> str:
    """The text, parenthesized if it binds less tightly than ``below`` requires."""
    return f"({text[0]})" if text[1] < below else text[0]


def _slice_text(spec: tuple, dim: int) -> str:
    start, stop, step = spec
    if step > 0:
        first = "" if start == 0 else str(start)
        last = "" if stop == dim else str(stop)
    else:
        first = "" if start == dim - 1 else str(start)
        last = "" if stop is None else str(stop)
    return f"{first}:{last}" + ("" if step == 1 else f":{step}")


def _subscript(base: tuple[str, int], items: list[str]) -> str:
    while len(items) > 1 and items[-1] == ":":
        items.pop()
    return f"{_wrap(base, ATOM)}[{', '.join(items)}]"


def op_text(node: Node, args: list[tuple[str, int]]) -> tuple[str, int]:
    """A node applied to its inputs' texts, as Python would write it; with its precedence."""
    name = node.op.name
    if name in _BINARY and len(args) == 2:
        symbol, p = _BINARY[name]
        (left, right) = args
        if p == POW:  # right-associative, and binds tighter than a unary minus on its left
            return f"{_wrap(left, POW + 1)} ** {_wrap(right, UNARY)}", POW
        if p == COMPARE:  # comparisons chain in Python: parenthesize both sides
            return f"{_wrap(left, p + 1)} {symbol} {_wrap(right, p + 1)}", p
        return f"{_wrap(left, p)} {symbol} {_wrap(right, p + 1)}", p
    if name in _UNARY:
        (x,) = args
        inner = f"({x[0]})" if x[1] <= UNARY else x[0]
        return f"{_UNARY[name]}{inner}", UNARY
    texts = [a[0] for a in args]
    kind = node.op.kind
    if kind == "reduction":
        params = node.params
        axes = params["axes"]
        shown = []
        if set(axes) != set(range(node.inputs[0].ndim)):
            shown.append(f"axis={axes[0] if len(axes) == 1 else _value_text(axes)}")
        if params["keepdims"]:
            shown.append("keepdims=True")
        if params.get("dtype") is not None:
            shown.append(f"dtype={params['dtype']}")
        return f"{name}({', '.join([texts[0], *shown])})", ATOM
    if name in ("astype", "bitcast"):
        return f"{name}({texts[0]}, {node.params['dtype']})", ATOM
    if name == "slice":
        dims = node.inputs[0].shape
        items = [_slice_text(s, d) for s, d in zip(node.params["slices"], dims)]
        return _subscript(args[0], items), ATOM
    if name == "gather":
        spec = node.params["spec"]
        return _subscript(args[0], [":" if s < 0 else texts[1 + s] for s in spec]), ATOM
    if name == "permute_dims":
        axes, n = node.params["axes"], node.ndim
        if n == 2 and axes == (1, 0):
            return f"{_wrap(args[0], ATOM)}.T", ATOM
        if n > 2 and axes == (*range(n - 2), n - 1, n - 2):
            return f"{_wrap(args[0], ATOM)}.mT", ATOM
        return f"permute_dims({texts[0]}, {_value_text(axes)})", ATOM
    if name in ("reshape", "broadcast_to"):
        return f"{name}({texts[0]}, {_value_text(node.params['shape'])})", ATOM
    if name == "concat":
        return f"concat({_value_text(tuple(map(_Raw, texts)))}, axis={node.params['axis']})", ATOM
    if name == "dynamic_slice":
        starts = _value_text(tuple(map(_Raw, texts[1:])))
        return f"dynamic_slice({texts[0]}, {starts}, {_value_text(node.params['sizes'])})", ATOM
    if name == "dynamic_update_slice":
        starts = _value_text(tuple(map(_Raw, texts[2:])))
        return f"dynamic_update_slice({texts[0]}, {texts[1]}, {starts})", ATOM
    if name == "setitem":
        return f"setitem({texts[0]}, [{_key_text(node, texts)}], {texts[1]})", ATOM
    part = node.params.get("part")
    if part is not None:
        return f"{_call(name, texts, node, skip=('part',))}[{part}]", ATOM
    return _call(name, texts, node), ATOM


class _Raw(str):
    """Text shown as it is inside a tuple (``_value_text`` would quote a str)."""

    def __repr__(self) -> str:
        return str(self)


def _key_text(node: Node, texts: list[str]) -> str:
    items = []
    for entry in node.params["key"]:
        tag = entry[0] if type(entry) is tuple else None
        if tag == "s":
            start, stop, step = entry[1:]
            items.append(
                f"{'' if start is None else start}:{'' if stop is None else stop}"
                + ("" if step in (None, 1) else f":{step}")
            )
        elif tag == "a":
            items.append(texts[2 + entry[1]])
        elif tag == "b":
            items.append(repr(entry[1]))
        else:
            items.append("..." if entry is Ellipsis else repr(entry))
    return ", ".join(items)


def node_label(view: View, node: Node) -> str:
    """A node in one line: a leaf's name or value, else its op and static attributes."""
    if view.is_leaf(node):
        return leaf_text(view, node)[0]
    if node.op.name == "slice":
        return f"slice{{{op_text(node, [('', ATOM)])[0][1:-1]}}}"
    params = _params(node)
    return f"{node.op.name}{{{', '.join(params)}}}" if params else node.op.name


def location_text(loc: tuple | None) -> str:
    """The user's file and line, relative to the working directory when inside it."""
    if loc is None:
        return ""
    path = loc[0]
    try:
        relative = os.path.relpath(path)
        if not relative.startswith(".."):
            path = relative
    except ValueError:  # another drive (Windows)
        pass
    return f"{path}:{loc[1]}"


# ----------------------------------------------------------------------------- pprint
def expression_lines(view: View) -> list[str]:
    """The graph as expressions: ``let`` lines for values used more than once, then one
    line per result (``label = expression`` where it has a label)."""
    texts: dict[Node, tuple[str, int]] = {}
    lines = []
    taken = set(view.names.values())
    fresh = (f"t{i}" for i in itertools.count(1) if f"t{i}" not in taken)
    for node in view.order:
        if view.is_leaf(node):
            texts[node] = leaf_text(view, node)
            continue
        text = op_text(node, [texts[i] for i in node.inputs])
        if view.uses[node] > 1:
            name = next(fresh)
            lines.append(f"let {name} = {text[0]}")
            text = (name, ATOM)
        texts[node] = text
    for root, label in zip(view.roots, view.labels):
        lines.append(texts[root][0] if label is None else f"{label} = {texts[root][0]}")
    return lines


def pprint(
    x: Any, /, *args: Any, file: TextIO | None = None, optimized: bool = True, **kwargs: Any
) -> None:
    """Print a graph as readable expressions, as it will run.

    ``x`` is an Array (or a tuple, list or dict of them), a function with example
    arguments (``pprint(f, *args, **kwargs)``, traced as ``xp.jit(f)`` would trace
    it: Python scalars are static), or a ``Lowered``. Operators print with Python's
    precedence, constants as literals; a value used more than once is bound once
    (``let t1 = ...``). An Array is shown as a function of the arrays it was built
    from, named after the caller's variables that hold them, after the folding a
    jitted function taking them as arguments would do; ``optimized=False`` shows
    the graph as recorded. Prints to ``file`` (default: standard output).

    >>> import lazyarr as xp
    >>> x = xp.asarray([1.0, 2.0])
    >>> xp.pprint(xp.sin(x) * 2 + x)
    sin(x) * 2.0 + x
    """
    view = view_of(x, args, kwargs, optimized=optimized, kernels=False, what="pprint")
    print("\n".join(expression_lines(view)), file=file if file is not None else sys.stdout)


# ----------------------------------------------------------------------------- debugprint
def _ids() -> Any:
    """A, B, ..., Z, AA, AB, ...: Theano's debugprint ids."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for size in itertools.count(1):
        for chars in itertools.product(letters, repeat=size):
            yield "".join(chars)


def tree_lines(view: View) -> list[str]:
    """One node per line, children indented below their reader; a node shown before is
    referred to by its id, without its inputs again."""
    ids: dict[Node, str] = {}
    fresh = _ids()
    expanded: set[Node] = set()
    lines = []
    for root, label in zip(view.roots, view.labels):
        stack = [(root, "", f"{label} = " if label is not None else "")]
        while stack:
            node, prefix, head = stack.pop()
            if node not in ids:
                ids[node] = next(fresh)
            line = f"{prefix}{head}{node_label(view, node)} [id {ids[node]}] : {shape_text(node)}"
            leaf = view.is_leaf(node)
            if leaf:
                kind = view.kinds.get(node)
                line += f" {kind}" if kind else " constant" if node.value is not None else ""
            elif node in expanded:
                lines.append(line + " ...")
                continue
            else:
                run = view.runs.get(node)
                line += f" [{run}]" if run else ""
            # NOTE: a leaf's line would be misleading: equal constants are one node.
            where = "" if leaf else location_text(node.loc)
            lines.append(line + (f"  # {where}" if where else ""))
            if not leaf:
                expanded.add(node)
                stack.extend((i, prefix + " |", "") for i in reversed(node.inputs))
    return lines


def debugprint(
    x: Any, /, *args: Any, file: TextIO | None = None, optimized: bool = True, **kwargs: Any
) -> None:
    """Print a graph as a tree, one node per line, as it will run.

    Takes what ``pprint`` takes. Each line shows the node (its op and static
    attributes, or a leaf's name or value), an id, its dtype and shape, the backend
    that computes it (``[c lz_…]``: nodes with the same kernel name run in one
    fused loop; ``[numpy]``) and the user's line that wrote it. A node's inputs are
    the lines below it indented one step (`` |``); a node already shown is printed
    again with its id and ``...`` in place of its inputs.

    >>> import lazyarr as xp
    >>> x = xp.asarray([1.0, 2.0])
    >>> xp.debugprint(x * 2, optimized=False)  # doctest: +ELLIPSIS
    multiply [id A] : float64[2]  # ...
     |x [id B] : float64[2] input
     |2.0 [id C] : float64[] constant
    """
    view = view_of(x, args, kwargs, optimized=optimized, kernels=optimized, what="debugprint")
    print("\n".join(tree_lines(view)), file=file if file is not None else sys.stdout)
