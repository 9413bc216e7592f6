"""Nested containers of arrays (pytrees): flattening to leaves and back.

Tuples (named ones included), lists and dicts are containers; ``None`` is an
empty container; everything else is a leaf. A tree's structure is a hashable
value, so it can be part of a cache key.
"""

from __future__ import annotations

from typing import Any

Treedef = tuple


def flatten(tree: Any) -> tuple[list[Any], Treedef]:
    """The leaves of ``tree`` in order, and its structure."""
    leaves: list[Any] = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree: Any, leaves: list[Any]) -> Treedef:
    if tree is None:
        return ("none",)
    kind = type(tree)
    if kind is tuple or kind is list:
        return (kind.__name__, tuple(_flatten(t, leaves) for t in tree))
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return ("namedtuple", kind, tuple(_flatten(t, leaves) for t in tree))
    if isinstance(tree, dict):
        keys = sorted(tree, key=repr)
        return ("dict", tuple(keys), tuple(_flatten(tree[k], leaves) for k in keys))
    leaves.append(tree)
    return ("leaf",)


def unflatten(treedef: Treedef, leaves: list[Any]) -> Any:
    """The tree of structure ``treedef`` holding ``leaves`` in order."""
    it = iter(leaves)
    return _unflatten(treedef, it)


def _unflatten(treedef: Treedef, it) -> Any:
    tag = treedef[0]
    if tag == "leaf":
        return next(it)
    if tag == "none":
        return None
    if tag == "tuple":
        return tuple(_unflatten(t, it) for t in treedef[1])
    if tag == "list":
        return [_unflatten(t, it) for t in treedef[1]]
    if tag == "namedtuple":
        return treedef[1](*(_unflatten(t, it) for t in treedef[2]))
    return {k: _unflatten(t, it) for k, t in zip(treedef[1], treedef[2])}
