"""Graphs as pictures: ``xp.to_dot`` writes Graphviz DOT; ``to_svg``/``to_png`` render it.

The graph is the one ``xp.pprint`` and ``xp.debugprint`` show (``printing.View``):
inputs and constants are boxes, operations ellipses, results dashed boxes with
their labels, and each fused C kernel a cluster around its nodes. Rendering runs
Graphviz's ``dot`` program; ``to_dot`` needs nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from .printing import View, location_text, node_label, shape_text, view_of

# Operand order is shown on edges except where it does not matter.
_COMMUTATIVE = frozenset(
    {
        "add",
        "multiply",
        "maximum",
        "minimum",
        "equal",
        "not_equal",
        "logical_and",
        "logical_or",
        "logical_xor",
        "bitwise_and",
        "bitwise_or",
        "bitwise_xor",
        "hypot",
        "logaddexp",
    }
)
_STYLE = {
    "input": 'shape=box, style="filled", fillcolor="#cfe2f3"',
    "State": 'shape=box, style="filled", fillcolor="#d9ead3"',
    "constant": 'shape=box, style="filled", fillcolor="#eeeeee", color="#999999"',
    "numpy": 'shape=ellipse, style="filled", fillcolor="#fff2cc"',
    "op": "shape=ellipse",
    "output": 'shape=box, style="dashed"',
}
TIMEOUT = 60  # seconds for dot to lay out a graph


class GraphvizUnavailableError(RuntimeError):
    """Graphviz's ``dot`` program, which renders graphs, is not installed."""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(*lines: str) -> str:
    return _quote("\n".join(lines)).replace("\n", "\\n")


def dot_text(view: View) -> str:
    """The DOT source of a View."""
    ids = {node: f"n{i}" for i, node in enumerate(view.order)}
    lines = [
        "digraph lazyarr {",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=8, arrowsize=0.6];',
    ]

    def declaration(node: Any) -> str:
        parts = [node_label(view, node), shape_text(node)]
        if view.is_leaf(node):
            style = _STYLE[view.kinds.get(node, "constant" if node.value is not None else "op")]
        else:
            style = _STYLE["numpy" if view.runs.get(node) == "numpy" else "op"]
            where = location_text(node.loc)
            if where:
                parts.append(where)
        return f"{ids[node]} [label={_label(*parts)}, {style}];"

    clustered = set()
    for k, (name, members) in enumerate(view.kernels):
        lines.append(f"  subgraph cluster_{k} {{")
        lines.append(f"    label={_quote(name)};")
        lines.append('    style="rounded,dashed"; color="#e69138"; fontname="Helvetica";')
        for member in members:
            if member in ids and member not in clustered:
                clustered.add(member)
                lines.append(f"    {declaration(member)}")
        lines.append("  }")
    lines += [f"  {declaration(n)}" for n in view.order if n not in clustered]
    for node in view.order:
        if view.is_leaf(node):
            continue
        numbered = len(node.inputs) > 1 and node.op.name not in _COMMUTATIVE
        for position, i in enumerate(node.inputs):
            edge = f"  {ids[i]} -> {ids[node]}"
            lines.append(f'{edge} [label="{position}"];' if numbered else f"{edge};")
    for k, (root, label) in enumerate(zip(view.roots, view.labels)):
        lines.append(f"  out{k} [label={_label(label or 'result')}, {_STYLE['output']}];")
        lines.append(f"  {ids[root]} -> out{k};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_dot(x: Any, /, *args: Any, optimized: bool = True, **kwargs: Any) -> str:
    """The graph as Graphviz DOT source (a string).

    Takes what ``xp.pprint`` takes: an Array, a function with example arguments, or
    a ``Lowered``. Inputs are blue boxes, States green ones, constants grey;
    operations are ellipses (yellow where the NumPy backend runs them), with their
    dtype and shape and the user's line; edges carry the operand position where it
    matters. With ``optimized=True`` each fused C kernel is a cluster labelled with
    its name; ``optimized=False`` draws the graph as recorded, before folding and
    fusion. Render with ``to_svg``/``to_png`` or ``dot -Tsvg``.

    >>> import lazyarr as xp
    >>> x = xp.asarray([1.0, 2.0])
    >>> print(xp.to_dot(x * 2, optimized=False).splitlines()[0])
    digraph lazyarr {
    """
    view = view_of(x, args, kwargs, optimized=optimized, kernels=optimized, what="to_dot")
    return dot_text(view)


def _dot_program() -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizUnavailableError(
            "rendering a graph needs Graphviz's `dot` program, which was not found on PATH. "
            "Install Graphviz (`apt install graphviz`, `brew install graphviz` or "
            "`conda install graphviz`), or use xp.to_dot(...), which needs no Graphviz, "
            "and render its text elsewhere"
        )
    return dot


def render(source: str, format: str) -> bytes:
    """``source`` (DOT) rendered by Graphviz's ``dot`` in ``format`` (svg, png, pdf...)."""
    try:
        result = subprocess.run(
            [_dot_program(), f"-T{format}"],
            input=source.encode(),
            capture_output=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"Graphviz's dot did not finish within {TIMEOUT} s") from None
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"Graphviz's dot failed ({result.returncode}): {message}")
    return result.stdout


def _rendered(x: Any, args: tuple, kwargs: dict, path: Any, optimized: bool, format: str):
    _dot_program()  # before tracing anything: no Graphviz, no work
    data = render(to_dot(x, *args, optimized=optimized, **kwargs), format)
    if path is None:
        return data
    with open(path, "wb") as f:
        f.write(data)
    return None


def to_svg(
    x: Any, /, *args: Any, path: Any = None, optimized: bool = True, **kwargs: Any
) -> str | None:
    """The graph drawn by Graphviz as SVG text, or written to ``path`` (then None).

    Takes what ``to_dot`` takes. Needs Graphviz's ``dot`` program: without it,
    raises ``GraphvizUnavailableError`` (a ``RuntimeError``) saying how to install it.
    """
    data = _rendered(x, args, kwargs, path, optimized, "svg")
    return None if data is None else data.decode()


def to_png(
    x: Any, /, *args: Any, path: Any = None, optimized: bool = True, **kwargs: Any
) -> bytes | None:
    """The graph drawn by Graphviz as PNG bytes, or written to ``path`` (then None).

    Takes what ``to_dot`` takes; needs Graphviz's ``dot`` (see ``to_svg``).
    """
    return _rendered(x, args, kwargs, path, optimized, "png")
