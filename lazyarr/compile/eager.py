"""Evaluation outside jit: what happens at a materialization point.

Interactive use must feel immediate, so eager evaluation runs the NumPy
reference backend and never waits for a compiler. Results are kept (read-only)
on their nodes: an array computes at most once, and an equal expression built
later is the same interned node and finds the value there.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._graph import Node
from . import numpy_backend


def materialize(nodes: Sequence[Node]) -> None:
    """Compute and keep the values of ``nodes`` that do not have one, in one pass."""
    pending = [n for n in nodes if n.value is None]
    if not pending:
        return
    for node, value in zip(pending, numpy_backend.evaluate(pending)):
        if value.flags.writeable:
            value.flags.writeable = False
        node.value = value
