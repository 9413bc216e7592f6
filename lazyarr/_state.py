"""Mutable model state: a buffer that jitted functions read and update atomically.

Theano kept parameters and data in ``shared`` variables changed through
``updates=``; here a ``State`` owns a NumPy buffer, ``s.value`` reads it and
``s.value = x`` writes it. Inside ``xp.jit`` a read is an input of the traced
program (the value as of the call's start) and a write is one more output; a
``Transaction`` records both while the function is traced, and the call commits
all writes together once every output is ready, so a failing call changes nothing.

Updates allocate nothing in steady state: each written State keeps a spare buffer
that the program writes the new value into, and the commit swaps the two; a value
a kernel computed into a new buffer of its own (a reduction cannot write the spare)
becomes the State's buffer as it is, rather than a copy. A buffer that anyone else
can still see (an Array read from ``s.value``, a NumPy view of one, a call still
reading it) is never reused: reads are snapshots.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _tracing
from ._array import Array
from ._builder import from_numpy, scalar_node
from ._devices import CPU, check_device
from ._errors import TracerConversionError, format_location, located, user_location
from ._graph import Node, intern, unique
from ._ops import REGISTRY

_CONSTANT = REGISTRY["constant"]
_INPUT = REGISTRY["input"]
_lock = threading.Lock()  # buffers and spares change hands under it


class State:
    """A named, mutable array that jitted functions read and update in place.

    >>> import lazyarr as xp
    >>> w = xp.State(xp.zeros(3), name="w")
    >>> @xp.jit
    ... def step(g):
    ...     w.value = w.value - 0.1 * g
    >>> step(xp.ones(3))
    >>> w.value
    Array([-0.1, -0.1, -0.1], dtype=float64)
    """

    __slots__ = (
        "__weakref__",
        "_buffer",
        "_busy",
        "_exports",
        "_node",
        "_spare",
        "_writer",
        "device",
        "name",
    )

    def __init__(
        self,
        value: Any,
        *,
        name: str | None = None,
        dtype: Any = None,
        device: Any = None,
        copy: bool = True,
    ):
        if name is not None and not isinstance(name, str):
            raise located(TypeError, f"State: name must be a string, got {type(name).__name__}")
        self.device = check_device(device)
        self.name = name
        if isinstance(value, State):
            value = value._buffer
        from ._creation_functions import asarray

        try:
            array = asarray(value, dtype=dtype, copy=False if not copy else None)._value()
        except TracerConversionError:
            raise located(
                TracerConversionError,
                "State: the initial value is a traced array; create States outside "
                "xp.jit and assign traced values to s.value inside it",
            ) from None
        owned = not copy and type(value) is np.ndarray and array is value
        if not (owned and array.flags.writeable and array.flags.c_contiguous):
            array = np.array(array, order="C", copy=True)
        self._buffer: np.ndarray = array
        self._spare: np.ndarray | None = None
        self._exports: list[weakref.ref] = []  # flat views handed out of _buffer
        self._node: weakref.ref | None = None  # the leaf that reads of _buffer share
        self._busy: dict[int, int] = {}  # id(buffer) -> calls reading it now
        self._writer = threading.Lock()  # held by the call that will write the State

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> tuple[int, ...]:
        return self._buffer.shape

    @property
    def dtype(self) -> np.dtype:
        return self._buffer.dtype

    @property
    def ndim(self) -> int:
        return self._buffer.ndim

    @property
    def size(self) -> int:
        return self._buffer.size

    def __repr__(self) -> str:
        name = f"{self.name!r}, " if self.name is not None else ""
        return f"State({name}shape={self.shape}, dtype={self.dtype})"

    def _label(self) -> str:
        return f"State {self.name!r}" if self.name is not None else "a State"

    # ------------------------------------------------------------------ reading and writing
    @property
    def value(self) -> Array:
        """The value: a snapshot outside jit, the value at the call's start inside it."""
        transaction = _tracing.state.transaction
        if transaction is not None:
            return Array._new(transaction.read(self))
        return Array._new(self._leaf())

    @value.setter
    def value(self, new: Any) -> None:
        transaction = _tracing.state.transaction
        if transaction is not None:
            transaction.write(self, new)
            return
        array = _concrete(self, new)
        with _lock:
            if (
                array.shape == self._buffer.shape
                and not self._visible(self._buffer)
                and not np.may_share_memory(array, self._buffer)
            ):
                np.copyto(self._buffer, array)  # nobody can see the old value
            else:
                self._install(np.array(array, order="C", copy=True))

    def _leaf(self) -> Node:
        """The graph leaf for the current value, shared by reads while one is alive."""
        node = self._node() if self._node is not None else None
        if node is None:
            flat = np.frombuffer(memoryview(self._buffer.reshape(-1)), dtype=self.dtype)
            view = flat.reshape(self.shape)
            view.flags.writeable = False
            # NOTE: every NumPy view of ``view`` keeps ``flat`` alive (a base chain stops
            # at an array over a foreign buffer), so a dead ``flat`` means no one sees it.
            self._exports.append(weakref.ref(flat))
            node = unique(_CONSTANT, view.shape, view.dtype, view)
            self._node = weakref.ref(node)
        return node

    def _grad_leaf(self) -> Node:
        """The leaf ``grad(..., wrt=state)`` differentiates with respect to."""
        transaction = _tracing.state.transaction
        return transaction.read(self) if transaction is not None else self._leaf()

    # ------------------------------------------------------------------ buffers
    def _visible(self, buffer: np.ndarray) -> bool:
        """Whether anyone outside this State may see ``buffer`` (the current one)."""
        if self._exports:
            self._exports = [ref for ref in self._exports if ref() is not None]
        return bool(self._exports) or id(buffer) in self._busy

    def _install(self, buffer: np.ndarray) -> None:
        """Make ``buffer`` the value; the old one becomes the spare if no one sees it."""
        old = self._buffer
        reusable = old.shape == buffer.shape and not self._visible(old)
        self._buffer = buffer
        self._exports = []
        self._node = None
        self._spare = old if reusable else None

    def _take_spare(self) -> np.ndarray:
        spare, self._spare = self._spare, None
        if spare is None or spare.shape != self._buffer.shape:
            spare = np.empty_like(self._buffer)
        return spare

    # ------------------------------------------------------------------ pickling
    def __reduce__(self):
        device = None if self.device == CPU else self.device
        return (_restore, (np.array(self._buffer), self.name, device))


def _restore(value: np.ndarray, name: str | None, device: Any) -> State:
    return State(value, name=name, device=device, copy=False)


def _concrete(state: State, new: Any) -> np.ndarray:
    """A value assigned outside jit, as NumPy: the State's dtype, any shape."""
    if isinstance(new, State):
        new = new._buffer
    if isinstance(new, Array | np.ndarray | np.generic):
        array = new._value() if isinstance(new, Array) else np.asarray(new)
        _check_dtype(state, array.dtype)
        return array
    from ._creation_functions import asarray

    try:
        array = asarray(new, dtype=state.dtype)._value()
    except (TypeError, ValueError, OverflowError) as e:
        raise located(TypeError, f"{state._label()}: cannot assign {new!r}: {e}") from None
    return np.broadcast_to(array, state.shape) if array.ndim == 0 else array


def _check_dtype(state: State, dtype: np.dtype, loc: Any = None) -> None:
    if dtype != state.dtype:
        raise located(
            TypeError,
            f"{state._label()} holds {state.dtype}; the value assigned is {dtype} "
            f"(cast it: xp.astype(value, xp.{state.dtype}))",
            loc,
        )


# ----------------------------------------------------------------------------- transactions
class Transaction:
    """The States one call of a jitted function reads and writes.

    While a function is traced, reads become inputs of the trace (``trace`` names
    it) and writes are recorded as nodes. With ``trace=None`` (jit disabled) reads
    are snapshots of the current values, and ``commit_eager`` applies the writes.
    """

    def __init__(self, trace: Any = None):
        self.trace = trace
        self.reads: dict[State, Node] = {}
        self.writes: dict[State, Node] = {}
        self.where: dict[State, Any] = {}

    def read(self, state: State) -> Node:
        node = self.reads.get(state)
        if node is None:
            if self.trace is None:
                node = state._leaf()
            else:
                attrs = (
                    ("dtype", state.dtype),
                    ("index", ("state", len(self.reads))),
                    ("shape", state.shape),
                    ("trace", self.trace),
                )
                node = intern(_INPUT, (), attrs, state.shape, state.dtype, None)
            self.reads[state] = node
        return node

    def write(self, state: State, new: Any) -> None:
        loc = user_location()
        if state in self.writes:
            raise located(
                ValueError,
                f"{state._label()} is written twice in one call (first at "
                f"{format_location(self.where[state])}); compute the final value and "
                f"assign it once",
                loc,
            )
        self.writes[state] = _update_node(state, new, loc)
        self.where[state] = loc

    def pending(self, state: State) -> Node | None:
        """The value this call has written to ``state`` so far (None: not written)."""
        return self.writes.get(state)

    def overwrite(self, state: State, new: Any) -> None:
        """Replace this call's write of ``state``, for a writer that continues its own
        earlier write (a generator's later draws in one call)."""
        self.writes.pop(state, None)
        self.where.pop(state, None)
        self.write(state, new)

    def commit_eager(self) -> None:
        """Apply the recorded writes, all or none (jit disabled)."""
        if not self.writes:
            return
        from .compile.eager import materialize

        values = materialize(list(self.writes.values()))
        with _lock:
            for state, value in zip(self.writes, values):
                state._install(np.array(value, order="C", copy=True))


def _update_node(state: State, new: Any, loc: Any) -> Node:
    """The node of a value written inside jit: the State's shape and dtype exactly."""
    if isinstance(new, State):
        new = new.value
    if isinstance(new, bool | int | float | complex) and not isinstance(new, np.generic):
        try:
            node = scalar_node(new, state.dtype)
        except (OverflowError, TypeError, ValueError) as e:
            raise located(TypeError, f"{state._label()}: cannot assign {new!r}: {e}", loc) from None
        if state.shape == ():
            return node
        from ._manipulation_functions import broadcast_to

        return broadcast_to(Array._new(node), state.shape)._node
    if isinstance(new, np.ndarray | np.generic):
        node = from_numpy(np.asarray(new))
    elif isinstance(new, Array):
        node = new._node
    else:
        raise located(
            TypeError,
            f"{state._label()}: cannot assign a {type(new).__name__}; assign an array or a "
            f"Python scalar",
            loc,
        )
    _check_dtype(state, node.dtype, loc)
    if node.shape != state.shape:
        raise located(
            ValueError,
            f"{state._label()} has shape {state.shape}; the value assigned inside jit has "
            f"shape {node.shape} (a State keeps its shape within a jitted call)",
            loc,
        )
    return node


# ----------------------------------------------------------------------------- calls
def begin(
    reads: Sequence[State], writes: Sequence[State], shapes: Sequence[tuple[State, tuple]]
) -> tuple[list, list] | None:
    """The buffers a call reads (held until ``end``) and the spares it writes into;
    ``writes`` come sorted by id. None, having taken nothing, when a State no longer
    has its shape in ``shapes`` (pairs of a State and the shape the call expects).

    Calls that write a State run one at a time (in any order), so concurrent
    ``counter.value = counter.value + 1`` calls from several threads lose no update.
    Shapes are checked under the lock that resizing takes: a State resized after the
    check would hand the kernels buffers of another size than they index.
    """
    for state in writes:  # in one global order (by id, sorted when traced): no deadlocks
        state._writer.acquire()
    taken = None
    try:
        with _lock:
            for state, shape in shapes:
                if state._buffer.shape != shape:
                    break
            else:
                spares = [state._take_spare() for state in writes]
                buffers = []
                for state in reads:
                    buffer, busy = state._buffer, state._busy
                    busy[id(buffer)] = busy.get(id(buffer), 0) + 1
                    buffers.append(buffer)
                taken = buffers, spares
    finally:
        if taken is None:
            for state in writes:
                state._writer.release()
    return taken


def end(
    reads: Sequence[State],
    buffers: Sequence[np.ndarray],
    writes: Sequence[State],
    spares: Sequence[np.ndarray],
    values: Sequence[np.ndarray] | None,
    owned: Sequence[bool],
) -> list[np.ndarray]:
    """Release a call's buffers and commit its writes (none when ``values`` is None).

    A new value is copied into the State's spare, unless ``owned`` says no one else
    can see it (a kernel's new buffer that nothing views): the State then takes the
    value itself, and keeps the spare for the next call. Returns the States' new
    buffers; the caller must not hand them to the user.
    """
    installed = []
    try:
        with _lock:
            for state, buffer in zip(reads, buffers):
                busy = state._busy
                count = busy.pop(id(buffer)) - 1
                if count:
                    busy[id(buffer)] = count
            if values is None:
                for state, spare in zip(writes, spares):
                    if state._spare is None and spare.shape == state.shape:
                        state._spare = spare
                return installed
            for state, value, spare, own in zip(writes, values, spares, owned):
                if value is not spare and not own:
                    if spare.shape != value.shape:  # the State was resized meanwhile
                        spare = np.empty(value.shape, value.dtype)
                    np.copyto(spare, value)
                    value = spare
                state._install(value)
                if value is not spare and state._spare is None and spare.shape == value.shape:
                    state._spare = spare
                installed.append(value)
    finally:
        for state in writes:
            state._writer.release()
    return installed
