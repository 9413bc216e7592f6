"""Whether this thread is inside a transform (jit tracing, grad): nested ones inline.

A jitted function called while another transform records a graph must add its
operations to that graph instead of running its compiled program, or the outer
transform would see only constants.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _State(threading.local):
    depth = 0  # how many transforms are recording on this thread
    transaction = None  # the States read and written by the jitted call being traced


state = _State()


def depth() -> int:
    """How many transforms are recording on this thread (0: none)."""
    return state.depth


@contextmanager
def recording() -> Iterator[None]:
    """Mark this thread as recording a graph for the duration of the block."""
    state.depth += 1
    try:
        yield
    finally:
        state.depth -= 1


@contextmanager
def transacting(transaction: object) -> Iterator[None]:
    """Route ``State`` reads and writes on this thread to ``transaction`` in the block."""
    previous, state.transaction = state.transaction, transaction
    try:
        yield
    finally:
        state.transaction = previous
