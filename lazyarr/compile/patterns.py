"""A small pattern language over graph nodes, in which the rewrites are written.

A pattern is built from ``Op`` (an op by name, its inputs as sub-patterns, attrs
that must match), ``Var`` (any node, captured under a name; a name used twice
must match the same node, which interning makes the same subexpression) and
``Const`` (a 0-d constant of a given value). ``Rule`` pairs a pattern with a
function that builds the replacement from the captures; ``make`` and
``literal`` build nodes there, at the source location of the node replaced.
While a rule builds, ``readers(node)`` tells which nodes of the graph being
rewritten read ``node`` (None for an output of the graph), ``clients(node)`` how
many.

The values of constants are read through ``scalar_value`` only, and a run may
restrict which constants it reads (``reading_constants``): before differentiation
only literals are constants, every other leaf is a variable, whatever its value
(``x - b`` is not ``x`` when ``b`` is a 0 that a gradient is taken with respect to).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._graph import Node, intern
from .._ops import REGISTRY

Captures = dict[str, Any]
_location: contextvars.ContextVar = contextvars.ContextVar("rewrite_location", default=None)
_readers: contextvars.ContextVar = contextvars.ContextVar("rewrite_readers", default=None)
_constants: contextvars.ContextVar = contextvars.ContextVar("rewrite_constants", default=None)


class Var:
    """Any node satisfying ``where``, captured as ``name``."""

    def __init__(self, name: str, where: Callable[[Node], bool] | None = None):
        self.name = name
        self.where = where

    def match(self, node: Node, env: Captures) -> bool:
        bound = env.get(self.name)
        if bound is not None:
            return bound is node
        if self.where is not None and not self.where(node):
            return False
        env[self.name] = node
        return True


class Const:
    """A constant equal to ``value`` everywhere; ``signed`` also compares the sign of zero."""

    def __init__(self, value: float, signed: bool = False):
        self.value = value
        self.signed = signed

    def match(self, node: Node, env: Captures) -> bool:
        v = scalar_value(node)
        if v is None or v != self.value:
            return False
        return not self.signed or bool(np.signbit(v)) == bool(np.signbit(self.value))


class Op:
    """A node of op ``name`` (or one of several names) whose inputs match ``args``.

    ``commutative`` also tries two inputs swapped; ``attrs`` values are the attr's
    value or a predicate on it; ``name_as`` captures the node itself; ``rest``
    lets the node have more inputs than ``args`` and captures those (a tuple).
    """

    def __init__(
        self,
        name: str | tuple[str, ...],
        *args: Any,
        commutative: bool = False,
        name_as: str | None = None,
        rest: str | None = None,
        **attrs: Any,
    ):
        self.names = (name,) if isinstance(name, str) else name
        self.args = args
        self.commutative = commutative
        self.name_as = name_as
        self.rest = rest
        self.attrs = attrs

    def match(self, node: Node, env: Captures) -> bool:
        if node.op.name not in self.names:
            return False
        n = len(self.args)
        if len(node.inputs) != n and (self.rest is None or len(node.inputs) < n):
            return False
        if self.attrs:
            params = dict(node.attrs)
            for key, want in self.attrs.items():
                have = params.get(key)
                if not (want(have) if callable(want) else have == want):
                    return False
        orders = [node.inputs[:n]]
        if self.commutative:
            orders.append(node.inputs[:n][::-1])
        for inputs in orders:
            trial = dict(env)
            if all(p.match(i, trial) for p, i in zip(self.args, inputs)):
                if self.name_as is not None:
                    trial[self.name_as] = node
                if self.rest is not None:
                    trial[self.rest] = node.inputs[n:]
                env.clear()
                env.update(trial)
                return True
        return False


@dataclass(frozen=True)
class Rule:
    """``pattern`` is rewritten to ``build(captures)`` (None: the rule declines)."""

    name: str
    pattern: Op
    build: Callable[[Captures], Node | None]


def scalar_value(node: Node) -> Any:
    """The value of a constant node holding one value everywhere (a 0-d one, or one
    broadcast or small enough to check), else None; None too for a constant this run
    must not read (see ``reading_constants``)."""
    value = node.value
    if node.op.name != "constant" or value is None:
        return None
    readable = _constants.get()
    if readable is not None and not readable(node):
        return None
    if node.shape == ():
        return value[()]
    if value.size == 0 or not (value.size <= 64 or not any(value.strides)):
        return None
    first = value.flat[0]
    if first != first or not np.all(value == first):
        return None
    return first


def is_literal(node: Node) -> bool:
    """Whether ``node`` is a literal: a constant written in the code as a Python scalar
    (the 0 of ``x - 0``) or made by the library, which equal ones share (``constant_node``
    interns it by its content). Other constants are data (arrays passed in or made by the
    user, State values, the arguments a transform differentiates): a gradient may be
    taken with respect to them, now or later, so their values are not those of constants."""
    if node.op.name != "constant" or node.value is None or not node.attrs:
        return False
    name, key = node.attrs[0]
    return name == "key" and isinstance(key, tuple) and key[:1] == ("bytes",)


def reading_constants(readable: Callable[[Node], bool] | None) -> contextvars.Token:
    """Let the rules read the values of the constants ``readable`` accepts only (None:
    of all of them); the others are leaves of unknown value. Reset with
    ``reset_constants(token)``."""
    return _constants.set(readable)


def reset_constants(token: contextvars.Token) -> None:
    _constants.reset(token)


def make(name: str, *inputs: Node, **params: Any) -> Node:
    """The node ``name(*inputs, **params)``, at the location of the node being replaced."""
    op = REGISTRY[name]
    shape, dtype = op.infer(inputs, **params)
    attrs = tuple(sorted(params.items())) if params else ()
    return intern(op, tuple(inputs), attrs, shape, dtype, _location.get())


def literal(value: Any, dtype: np.dtype) -> Node:
    """A 0-d constant of ``dtype``."""
    from .._builder import scalar_node

    return scalar_node(value, dtype)


def readers(node: Node) -> tuple[Node | None, ...]:
    """The nodes of the graph being rewritten that read ``node``, each once (None: it is
    an output): as the pass found them, or what they became where the pass has come;
    none for a node a rule of this pass built."""
    state = _readers.get()
    if state is None:
        return ()
    table, new = state
    return tuple(r if r is None else new.get(r, r) for r in table.get(node, ()))


def clients(node: Node) -> int:
    """How many nodes read ``node`` (an output counts as one), see ``readers``."""
    return len(readers(node))


def answering_readers(table: dict[Node, list], new: dict[Node, Node]) -> contextvars.Token:
    """Answer ``readers`` from ``table`` (readers as found) and ``new`` (what the pass
    made of them so far); reset with ``reset_readers(token)``."""
    return _readers.set((table, new))


def reset_readers(token: contextvars.Token) -> None:
    _readers.reset(token)


def located_at(loc: Any) -> contextvars.Token:
    """Build the next nodes at ``loc`` (reset with ``_location.reset(token)``)."""
    return _location.set(loc)


def reset_location(token: contextvars.Token) -> None:
    _location.reset(token)
