"""Printing graphs: ``xp.pprint`` expressions, ``xp.debugprint`` trees, ``xp.to_dot`` and
its rendering through Graphviz."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lazyarr as xp
from lazyarr.compile import c_backend, dot, printing
from lazyarr.compile.printing import debugprint, pprint

compiles = pytest.mark.skipif(c_backend.compiler() is None, reason="no C compiler")


pytestmark = pytest.mark.usefixtures("private_cache_dir")


def shown(fn, *args, **kwargs) -> str:
    out = io.StringIO()
    fn(*args, file=out, **kwargs)
    return out.getvalue().rstrip("\n")


a = xp.asarray(np.arange(1.0, 13.0).reshape(3, 4))
b = xp.asarray(np.linspace(-2.0, 2.0, 12).reshape(3, 4))


# ----------------------------------------------------------------------------- pprint
@pytest.mark.parametrize(
    "text",
    [
        "(a + b) * a - a / (b - a)",
        "a - (b - a) - b",
        "-(a + b) ** 2.0",
        "(-a) ** 2.0 + a ** -b",
        "a ** b ** 2.0",
        "(a ** b) ** 2.0",
        "a @ b.T + 1.0",
        "(a < b) == (b >= a)",
        "a // 2.0 % 3.0",
        "-(-a)",
        "(-1.0) ** a",
        "a[1:, ::2] * (a + b)[:2, 1:3]",
        "sum(a, axis=1, keepdims=True) + max(a) + sum(a, axis=0)",
        "exp(a) * sin(b) + where(a > b, a, 0.5)",
        "astype(a, float32)",
    ],
)
def test_expressions_print_as_written(text):
    namespace = {**vars(xp), "a": a, "b": b}
    expr = eval(text, namespace)
    assert shown(pprint, expr, optimized=False) == text


OPS = ["+", "-", "*", "/", "**", "<", "=="]


@st.composite
def expressions(draw, depth=4):
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(["a", "b", "2.0", "-1.5"]))
    if draw(st.integers(0, 4)) == 0:
        return f"-({draw(expressions(depth - 1))})"
    left, right = draw(expressions(depth - 1)), draw(expressions(depth - 1))
    return f"({left}) {draw(st.sampled_from(OPS))} ({right})"


@given(expressions())
def test_printed_expressions_parse_back_to_the_same_graph(source):
    namespace = {**vars(xp), "a": a, "b": b}
    try:
        expr = eval(source, namespace)
    except (TypeError, ArithmeticError):  # -(a < b); 2.0 / 0.0 between Python floats
        return
    if not isinstance(expr, xp.Array):
        return  # only literals: no graph
    text = shown(pprint, expr, optimized=False)
    namespace["expr"] = expr  # a leaf prints with the nearest variable's name
    *lets, last = text.splitlines()
    for line in lets:
        exec(line.removeprefix("let "), namespace)
    assert eval(last, namespace)._node is expr._node, (source, text)


def softmax(x):
    e = xp.exp(x - xp.max(x, axis=1, keepdims=True))
    return e / xp.sum(e, axis=1, keepdims=True)


def test_shared_subexpressions_are_bound_once():
    x = xp.asarray(np.ones((3, 4)))
    assert shown(pprint, softmax(x), optimized=False) == (
        "let t1 = exp(x - max(x, axis=1, keepdims=True))\nt1 / sum(t1, axis=1, keepdims=True)"
    )

    # A function traced again without rewrites, for the graph as recorded.
    assert shown(pprint, softmax, np.ones((3, 4)), optimized=False) == (
        "let t1 = exp(x - max(x, axis=1, keepdims=True))\nt1 / sum(t1, axis=1, keepdims=True)"
    )

    def f(x):
        t = xp.exp(x) + 1
        return t * t - t

    assert shown(pprint, f, np.ones(3)) == "let t1 = exp(x) + 1.0\nt1 * t1 - t1"
    y = x
    for _ in range(40):  # 2**40 leaves as a tree
        y = y * y + 1.0
    lines = shown(pprint, y).splitlines()
    assert len(lines) == 40
    assert lines[0] == "let t1 = x * x + 1.0"
    assert lines[-1] == "t39 * t39 + 1.0"


def test_constants():
    big = np.arange(12.0).reshape(3, 4)
    f = xp.jit(lambda x: x + big - np.array([1.0, 2.0, 3.0, 4.0]) + 2)
    assert shown(pprint, f, np.zeros((3, 4))) == (
        "x + constant<float64[3, 4]> - [1.0, 2.0, 3.0, 4.0] + 2.0"
    )
    # A constant part of the graph folds into one constant; one value is shown once.
    x = xp.asarray(np.zeros(5))
    assert shown(pprint, x + xp.ones(5) * 3) == "x + full((5,), 3.0)"
    assert shown(pprint, xp.asarray(1, dtype=xp.int8) + xp.asarray(True)) == "2"
    assert shown(pprint, x * xp.asarray(-2.5), optimized=False) == "x * -2.5"


def test_leaves_are_named_after_the_callers_variables():
    weights = xp.State(np.ones(12), name="w")
    bias = xp.State(np.zeros(3))
    out = xp.reshape(weights.value, (3, 4)) * a + xp.reshape(bias.value, (3, 1))
    assert shown(pprint, out) == "reshape(w, (3, 4)) * a + reshape(bias, (3, 1))"
    # Arrays no variable holds: x, y, ...; tiny ones by value.
    assert shown(pprint, xp.asarray(np.ones(10)) * xp.sum(xp.asarray(np.ones(9)))) == "x * sum(y)"
    assert shown(pprint, a + xp.asarray([1.0, 2.0, 3.0, 4.0])) == "a + [1.0, 2.0, 3.0, 4.0]"
    x = "a name of the caller's"  # noqa: F841 - not taken for another array
    text = io.StringIO()
    pprint(xp.asarray(np.ones(10)) + 1, file=text)
    assert text.getvalue() == "y + 1.0\n"


def test_optimized_and_recorded_graphs():
    data = xp.asarray(np.zeros(4))
    y = data + xp.exp(xp.zeros(4)) * 3
    assert shown(pprint, y) == "data + full((4,), 3.0)"
    assert shown(pprint, y, optimized=False) == "data + exp(broadcast_to(0.0, (4,))) * 3.0"
    # A value already computed is not computed again; recorded, it has its history.
    e = xp.exp(data)
    np.asarray(e)
    assert shown(pprint, e + 1) == "e + 1.0"
    assert shown(pprint, e + 1, optimized=False) == "exp(data) + 1.0"
    # Without a name: x, y, ..., or by value if tiny; computed from constants: folded.
    assert shown(pprint, xp.compute(xp.exp(xp.asarray(np.ones(9))))[0] + 1) == "x + 1.0"
    assert shown(pprint, xp.compute(xp.exp(data[:2]))[0] + 1) == "full((2,), 2.0)"
    twos = xp.compute(xp.ones(9) * 2)[0]
    assert shown(pprint, twos + data[:1]) == "full((9,), 2.0) + data[:1]"


def test_jitted_functions_name_parameters_results_and_states():
    w = xp.State(np.zeros(3), name="w")
    b = xp.State(0.0)

    @xp.jit
    def train(X, y, options):  # noqa: N803
        p = X @ w.value + b.value
        cost = xp.sum((p - y) * (p - y))
        gw, gb = xp.grad(cost, [w, b])
        w.value = w.value - options["lr"] * gw
        b.value = b.value - options["lr"] * gb
        return cost, {"p": p}

    text = shown(pprint, train, np.ones((4, 3)), np.ones(4), {"lr": np.float64(0.1)})
    lines = text.splitlines()
    assert lines[0] == "let t1 = reshape(X @ reshape(w, (3, 1)), (4,)) + b"
    assert lines[1] == "let t2 = t1 - y"
    assert "out[0] = sum(t2 * t2)" in lines
    assert "out[1]['p'] = t1" in lines
    assert any(line.startswith("w.value = w - options['lr'] * ") for line in lines)
    assert any(line.startswith("b.value = b - options['lr'] * ") for line in lines)
    # The same program as lower() gives it, its inputs named as the function names them.
    lowered = train.lower(np.ones((4, 3)), np.ones(4), {"lr": np.float64(0.1)})
    assert shown(lowered.pprint) == text
    assert shown(lowered.pprint) == shown(pprint, lowered)


def test_a_function_that_is_not_jitted_is_traced_as_jit_would():
    assert shown(pprint, xp.grad(xp.sin), np.float64(1.0)) == "cos(x)"
    # Python scalars are static, as in jit: nothing is left to compute.
    assert shown(pprint, xp.grad(xp.sin), 0.0) == "1.0"
    assert shown(pprint, lambda x, *rest: x + rest[1], np.ones(2), 1, np.ones(2)) == ("x + rest[1]")


def test_pprint_inside_a_traced_function(capsys):
    @xp.jit
    def f(x):
        y = xp.exp(x) + 1
        xp_pprint = pprint
        xp_pprint(y)
        return y

    f(np.ones(3))
    assert capsys.readouterr().out == "exp(x) + 1.0\n"


def test_what_pprint_accepts():
    with pytest.raises(TypeError, match="arguments are given only with a function"):
        pprint(a, b)
    with pytest.raises(TypeError, match="expected an Array"):
        pprint(np.ones(3))
    assert shown(pprint, (a, {"s": a + b})) == "out[0] = a\nout[1]['s'] = a + b"


# ----------------------------------------------------------------------------- debugprint
def test_debugprint_tree_with_ids_types_and_lines():
    x = xp.asarray(np.ones(3))
    line = _lineno() + 1
    e = xp.exp(x)
    y = e * e + x
    lines = shown(debugprint, y, optimized=False).splitlines()
    where = f"tests/compile/test_printing.py:{line + 1}"
    assert lines[0] == f"add [id A] : float64[3]  # {where}"
    assert lines[1] == f" |multiply [id B] : float64[3]  # {where}"
    assert lines[2] == f" | |exp [id C] : float64[3]  # tests/compile/test_printing.py:{line}"
    assert lines[3] == " | | |x [id D] : float64[3] input"
    assert lines[4] == " | |exp [id C] : float64[3] ..."  # shown once, then by its id
    assert lines[5] == " |x [id D] : float64[3] input"
    assert len(lines) == 6


def _lineno() -> int:
    import inspect

    return inspect.currentframe().f_back.f_lineno


def test_debugprint_attributes_constants_and_labels():
    w = xp.State(np.ones(4), name="w")

    @xp.jit
    def f(x):
        w.value = w.value * 2
        return xp.sum(x, axis=1, keepdims=True), x[::2]

    lines = shown(debugprint, f, np.ones((3, 4))).splitlines()
    assert re.match(
        r"out\[0\] = sum\{axes=\(1,\), keepdims=True\} \[id A\] : float64\[3, 1\]", lines[0]
    )
    assert lines[1] == " |x [id B] : float64[3, 4] input"
    assert lines[2].startswith("out[1] = slice{::2} [id C] : float64[2, 4] [numpy]  # ")
    assert lines[3] == " |x [id B] : float64[3, 4] input"
    assert lines[4].startswith("w.value = multiply [id D] : float64[4]")
    assert lines[5] == " |w [id E] : float64[4] State"
    assert lines[6] == " |2.0 [id F] : float64[] constant"


@compiles
def test_debugprint_names_the_kernel_that_runs_each_node():
    def f(x):
        return xp.exp(x) * 2 + xp.sort(x)

    lines = shown(debugprint, f, np.ones(5)).splitlines()
    kernels = {re.search(r"\[c (lz_\w+)\]", s).group(1) for s in lines if "[c " in s}
    assert len(kernels) == 1  # exp, multiply and add: one fused loop
    assert re.match(
        r" \|sort\{axis=0, descending=False\} \[id F\] : float64\[5\] \[numpy\]", lines[5]
    )
    recorded = shown(debugprint, f, np.ones(5), optimized=False)
    assert "[c " not in recorded and "[numpy]" not in recorded


# ----------------------------------------------------------------------------- DOT
def check_dot(text: str) -> tuple[set[str], list[tuple[str, str]], list[str]]:
    """Parses the DOT this module writes: declared nodes, edges, cluster labels; checks
    that braces balance and every edge joins declared nodes."""
    assert text.startswith("digraph lazyarr {") and text.rstrip().endswith("}")
    depth = 0
    for ch in re.sub(r'"(\\.|[^"\\])*"', '""', text):  # braces inside labels do not count
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    nodes = set(re.findall(r"^\s*(\w+) \[label=", text, re.M))
    edges = re.findall(r"^\s*(\w+) -> (\w+)", text, re.M)
    assert edges and all(s in nodes and t in nodes for s, t in edges)
    clusters = re.findall(r'subgraph cluster_\d+ \{\n\s*label="([^"]*)"', text)
    return nodes, edges, clusters


@compiles
def test_dot_draws_kernels_as_clusters():
    f = xp.jit(softmax)
    text = dot.to_dot(f, np.ones((3, 4)))
    _, edges, clusters = check_dot(text)
    assert clusters and all(c.startswith("c lz_") for c in clusters)
    assert 'n0 [label="x\\nfloat64[3, 4]"' in text
    assert any(t == "out0" for _, t in edges)
    recorded = dot.to_dot(f, np.ones((3, 4)), optimized=False)
    assert check_dot(recorded)[2] == []
    lowered = f.lower(np.ones((3, 4)))
    assert lowered.to_dot() == text


def test_dot_styles_and_escapes():
    x = xp.asarray(np.ones(3))
    text = dot.to_dot(x * 2 - x, optimized=False)
    assert check_dot(text)[2] == []
    assert 'label="x\\nfloat64[3]", shape=box' in text  # inputs are boxes
    assert '[label="0"]' in text and '[label="1"]' in text  # subtract's operands, in order
    assert 'out0 [label="result"' in text
    assert dot._quote('a "b" \\ c') == '"a \\"b\\" \\\\ c"'


def test_rendering_without_graphviz_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(dot.shutil, "which", lambda name: None)
    with pytest.raises(dot.GraphvizUnavailableError, match="apt install graphviz") as info:
        dot.to_svg(a + 1)
    assert "brew install graphviz" in str(info.value)
    assert "conda install graphviz" in str(info.value)
    assert "to_dot" in str(info.value)
    with pytest.raises(RuntimeError, match="Graphviz"):
        dot.to_png(a + 1)
    assert dot.to_dot(a + 1).startswith("digraph")  # needs no Graphviz


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_rendering_with_graphviz(tmp_path):
    svg = dot.to_svg(xp.exp(a) + 1)
    assert "<svg" in svg and "exp" in svg
    assert dot.to_png(softmax, np.ones((2, 3))).startswith(b"\x89PNG")
    path = tmp_path / "graph.svg"
    assert dot.to_svg(a * 2, path=path, optimized=False) is None
    assert "<svg" in path.read_text()


# ----------------------------------------------------------------------------- the guide
def _normalized(text: str) -> str:
    """Without what differs between runs: kernel hashes and the file names of lines."""
    text = re.sub(r"lz_[0-9a-f]+", "lz_K", text)
    return re.sub(r"(# |\\n)[\w./-]+:\d+", r"\1FILE:LINE", text).strip()


@compiles
def test_guide_examples_print_what_the_guide_shows(monkeypatch):
    """docs/printing.md: each Python block, run in turn, prints the text block after it."""
    for name in ("pprint", "debugprint", "to_dot", "to_svg", "to_png"):
        module = dot if name.startswith("to_") else printing
        monkeypatch.setattr(xp, name, getattr(module, name), raising=False)
    guide = Path(__file__).parents[2] / "docs" / "printing.md"
    text = guide.read_text()
    blocks = list(re.finditer(r"```(python|text)\n(.*?)```", text, re.S))
    namespace: dict = {}
    checked = 0
    for block, after in zip(blocks, [*blocks[1:], None]):
        if block.group(1) != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block.group(2), str(guide), "exec"), namespace)
        if (
            after is not None
            and after.group(1) == "text"
            and not text[block.end() : after.start()].strip()
        ):
            assert _normalized(out.getvalue()) == _normalized(after.group(2))
            checked += 1
    assert checked >= 4
    drawing = next(b.group(2) for b in blocks if b.group(2).startswith("digraph"))
    assert _normalized(xp.to_dot(namespace["f"], np.ones(5))) == _normalized(drawing)
