"""Validating the axis and shape arguments of namespace functions."""

from __future__ import annotations

import operator
from collections.abc import Sequence

from ._errors import located


class AxisError(ValueError, IndexError):
    """An axis out of range; a ValueError and an IndexError, as NumPy's AxisError is."""


def normalize_axis(axis: object, ndim: int, fname: str) -> int:
    try:
        a = operator.index(axis)
    except TypeError:
        raise located(TypeError, f"{fname}: axis must be an integer, got {axis!r}") from None
    if not -ndim <= a < ndim:
        raise located(
            AxisError, f"{fname}: axis {a} is out of bounds for an array of dimension {ndim}"
        )
    return a % ndim if ndim else a


def normalize_axes(axis: object, ndim: int, fname: str) -> tuple[int, ...]:
    """``None`` (all axes), an int, or a sequence of distinct ints, as a sorted tuple."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, Sequence) and not isinstance(axis, str):
        axes = tuple(normalize_axis(a, ndim, fname) for a in axis)
    else:
        axes = (normalize_axis(axis, ndim, fname),)
    if len(set(axes)) != len(axes):
        raise located(ValueError, f"{fname}: repeated axis in {axis!r}")
    return tuple(sorted(axes))


def normalize_shape(shape: object, fname: str) -> tuple[int, ...]:
    """A shape argument (an int or a sequence of non-negative ints) as a tuple."""
    try:
        dims = (operator.index(shape),)
    except TypeError:
        if not isinstance(shape, Sequence) or isinstance(shape, str):
            raise located(
                TypeError, f"{fname}: shape must be an int or a tuple of ints, got {shape!r}"
            ) from None
        try:
            dims = tuple(operator.index(d) for d in shape)
        except TypeError:
            raise located(
                TypeError, f"{fname}: shape must contain only integers, got {tuple(shape)!r}"
            ) from None
    if any(d < 0 for d in dims):
        raise located(ValueError, f"{fname}: negative dimensions are not allowed: {dims}")
    return dims
