"""Every function and method of the standard has exactly the standard's signature.

``tests/array_api_signatures.txt`` lists the standard's signatures (from the spec's
stubs); each line is rebuilt as a Python signature and compared with lazyarr's
through ``inspect``: parameter names, kinds (positional-only, keyword-only) and
defaults, so introspection and keyword calls work as the standard says.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import lazyarr as xp

_LINES = [
    line
    for line in (Path(__file__).parent / "array_api_signatures.txt").read_text().splitlines()
    if line and not line.startswith("#")
]


def _standard(line: str) -> tuple[str, inspect.Signature]:
    name, params = line.split("(", 1)
    namespace: dict = {}
    exec(f"def f({params}: pass", namespace)  # the list holds only literals
    return name, inspect.signature(namespace["f"])


def _ours(name: str) -> inspect.Signature:
    owner, _, attr = name.rpartition(".")
    if owner == "Array":
        params = list(inspect.signature(getattr(xp.Array, attr)).parameters.values())[1:]
        return inspect.Signature(params)
    if owner == "Info":
        return inspect.signature(getattr(xp.__array_namespace_info__(), attr))
    return inspect.signature(getattr(getattr(xp, owner) if owner else xp, attr))


# Keyword-only additions of our own, as JAX spells them (fixed-size results inside jit).
EXTENSIONS = {"nonzero": ("size", "fill_value")}


def _described(sig: inspect.Signature, extra: tuple[str, ...] = ()) -> list[tuple]:
    return [
        (p.name, p.kind, p.default, type(p.default))
        for p in sig.parameters.values()
        if p.name not in extra
    ]


@pytest.mark.parametrize("line", _LINES, ids=lambda line: line.split("(")[0])
def test_signature_matches_the_standard(line):
    name, expected = _standard(line)
    ours = _ours(name)
    extra = EXTENSIONS.get(name, ())
    assert _described(ours, extra) == _described(expected), f"{name}{ours} != {expected}"
    for p in extra:
        assert ours.parameters[p].kind is inspect.Parameter.KEYWORD_ONLY
        assert ours.parameters[p].default is None


def test_list_covers_the_namespace():
    names = {_standard(line)[0] for line in _LINES}
    assert len(names) == len(_LINES) > 200
    for sub in ("linalg", "fft"):
        assert set(getattr(xp, sub).__all__) <= {n.split(".", 1)[1] for n in names if "." in n}
