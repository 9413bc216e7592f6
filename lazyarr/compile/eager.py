"""Evaluation outside jit: what happens at a materialization point.

Interactive use must feel immediate, so eager evaluation runs the NumPy
reference backend and never waits for a compiler. Results are kept (read-only)
on their nodes: an array computes at most once, and an equal expression built
later is the same interned node and finds the value there.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._graph import Node
from . import numpy_backend
from .optimize import optimize


def materialize(nodes: Sequence[Node]) -> list[np.ndarray]:
    """The values of ``nodes``, computed in one pass and kept where that is safe."""
    pending = [n for n in nodes if n.value is None]
    if not pending:
        return [n.value for n in nodes]
    # NOTE: only the stability rewrites run here: they change what NumPy would compute
    # only where its result overflows or cancels; the others would only cost time.
    stable, _ = optimize(pending, phases=("stabilize",))
    values, keepable = numpy_backend.evaluate(stable)
    computed = {}
    for node, value in zip(pending, values):
        if value.flags.writeable:
            value.setflags(write=False)
        if keepable:
            node.value = value
        computed[node] = value
    return [n.value if n.value is not None else computed[n] for n in nodes]
