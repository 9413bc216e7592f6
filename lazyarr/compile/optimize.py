"""Running the rewrites: each phase over the whole graph, to a fixed point.

A pass rebuilds the graph bottom-up: a node whose inputs were replaced is interned
again (so equal results merge), then the rules indexed by its op are tried in
order; the first that matches and keeps shape and dtype replaces it. New nodes
get the source location of the node they replace, so errors still name the
user's line. Nodes that already have values are left as they are. Rules that
move work (indexing ahead of elementwise work) ask how many nodes read a node
(``patterns.readers``): the readers in the graph as the pass found it, carried
over to the node that replaced it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import NamedTuple

from .._errors import format_location
from .._graph import Node, intern
from .numpy_backend import schedule
from .patterns import (
    Rule,
    answering_readers,
    located_at,
    reading_constants,
    reset_constants,
    reset_location,
    reset_readers,
)
from .rewrites import PHASE_NAMES, RULE_NAMES, pipeline

_MAX_PASSES = 8  # per phase; each pass reaches further when a rewrite exposes another


class Fired(NamedTuple):
    """One rewrite applied: the phase, the rule, the op it replaced and where."""

    phase: str
    rule: str
    op: str
    loc: tuple | None

    def __str__(self) -> str:
        where = f" at {format_location(self.loc)}" if self.loc else ""
        return f"{self.phase}/{self.rule}: {self.op}{where}"


def check_names(exclude: Collection[str]) -> frozenset[str]:
    """``exclude`` validated: phase and rule names ("all" for every phase)."""
    names = frozenset(exclude)
    if "all" in names:
        return PHASE_NAMES
    unknown = names - PHASE_NAMES - RULE_NAMES
    if unknown:
        raise ValueError(
            f"unknown rewrite {', '.join(sorted(unknown))}; phases: "
            f"{', '.join(sorted(PHASE_NAMES))}; rules: {', '.join(sorted(RULE_NAMES))}"
        )
    return names


def optimize(
    outputs: Sequence[Node],
    exclude: Collection[str] = frozenset(),
    phases: Collection[str] | None = None,
    *,
    constants: Callable[[Node], bool] | None = None,
) -> tuple[list[Node], list[Fired]]:
    """The rewritten ``outputs`` and the rewrites that fired, in order.

    ``phases`` limits the run to those phases; ``exclude`` names phases or rules
    to skip. ``constants`` tells which constant leaves the rules may read the values
    of (by default, all): the others stand for any value, as the leaves a gradient is
    taken with respect to do (``x - b`` is not ``x`` where ``b`` is a differentiated 0).
    """
    token = reading_constants(constants)
    try:
        return _optimize(list(outputs), exclude, phases)
    finally:
        reset_constants(token)


def _optimize(
    outputs: list[Node], exclude: Collection[str], phases: Collection[str] | None
) -> tuple[list[Node], list[Fired]]:
    fired: list[Fired] = []
    for phase, rules in pipeline():
        if phase in exclude or (phases is not None and phase not in phases):
            continue
        by_op: dict[str, list[Rule]] = {}
        for rule in rules:
            if rule.name not in exclude:
                for name in rule.pattern.names:
                    by_op.setdefault(name, []).append(rule)
        for _ in range(_MAX_PASSES):
            outputs, changed = _pass(outputs, by_op, phase, fired)
            if not changed:
                break
    return outputs, fired


def _pass(
    outputs: list[Node], by_op: dict[str, list[Rule]], phase: str, fired: list[Fired]
) -> tuple[list[Node], bool]:
    order, _ = schedule(outputs)
    readers: dict[Node, list[Node | None]] = {}
    for node in dict.fromkeys(outputs):
        readers[node] = [None]
    for node in order:
        if node.value is None:
            for i in dict.fromkeys(node.inputs):  # a node reading x twice is one reader
                readers.setdefault(i, []).append(node)
    rebuilt: dict[Node, list] = {}  # readers of the rebuilt nodes, as far as the pass has come
    new: dict[Node, Node] = {}
    token = answering_readers(rebuilt, new)
    try:
        return _rebuild(order, outputs, readers, rebuilt, new, by_op, phase, fired)
    finally:
        reset_readers(token)


def _rebuild(
    order: list[Node],
    outputs: list[Node],
    readers: dict[Node, list[Node | None]],
    rebuilt: dict[Node, list[Node | None]],
    new: dict[Node, Node],
    by_op: dict[str, list[Rule]],
    phase: str,
    fired: list[Fired],
) -> tuple[list[Node], bool]:
    changed = False
    for node in order:
        if node.value is not None or not node.inputs:
            new[node] = node
            rebuilt.setdefault(node, []).extend(readers.get(node, ()))
            continue
        inputs = tuple(new[i] for i in node.inputs)
        current = node
        if any(a is not b for a, b in zip(inputs, node.inputs)):
            current = intern(node.op, inputs, node.attrs, node.shape, node.dtype, node.loc)
            changed = True
        for rule in by_op.get(current.op.name, ()):
            captures: dict = {}
            if not rule.pattern.match(current, captures):
                continue
            token = located_at(node.loc)
            try:
                replacement = rule.build(captures)
            except (TypeError, ValueError):
                replacement = None  # a form the rule's ops do not take (a dtype): skip it
            finally:
                reset_location(token)
            if (
                replacement is None
                or replacement is current
                or replacement.shape != current.shape
                or replacement.dtype != current.dtype
            ):
                continue
            fired.append(Fired(phase, rule.name, current.op.name, node.loc))
            current = replacement
            changed = True
            break
        new[node] = current
        rebuilt.setdefault(current, []).extend(readers.get(node, ()))
    return [new[o] for o in outputs], changed
