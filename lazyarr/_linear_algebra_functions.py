"""Linear algebra functions of the standard's main namespace.

``matmul`` is the primitive; ``tensordot`` and ``vecdot`` are written with it and
with elementwise products, and ``matrix_transpose`` is a ``permute_dims``.
"""

from __future__ import annotations

import contextlib
import math
import operator
from typing import Any

from . import _dtypes
from ._array import Array
from ._axes import normalize_axis
from ._builder import apply, cast, elementwise, node_of, reshape_node
from ._errors import located
from ._manipulation_functions import permute_dims
from ._ops import REGISTRY, broadcast_shapes
from ._statistical_functions import reduce


def matmul(x1: Any, x2: Any, /) -> Array:
    """Matrix product, with NumPy's rules for 1-D operands and batch broadcasting.

    >>> import lazyarr as xp
    >>> (xp.ones((2, 3)) @ xp.ones((3, 4))).shape
    (2, 4)
    """
    a, b = node_of(x1, "matmul: x1"), node_of(x2, "matmul: x2")
    if a.ndim == 0 or b.ndim == 0:
        raise located(ValueError, "matmul: operands must be at least 1-D; use * for scalars")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise located(
            ValueError,
            f"matmul: shapes {a.shape} and {b.shape} do not align "
            f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})",
        )
    try:
        broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError as e:
        raise located(ValueError, f"matmul: batch dimensions: {e}") from None
    dtype = _dtypes.promote(a.dtype, b.dtype)
    a2 = reshape_node(a, (1,) + a.shape) if a.ndim == 1 else a
    b2 = reshape_node(b, b.shape + (1,)) if b.ndim == 1 else b
    out = apply(REGISTRY["matmul"], (cast(a2, dtype), cast(b2, dtype)))._node
    shape = out.shape
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:]
    if b.ndim == 1:
        shape = shape[:-1]
    return Array._new(reshape_node(out, shape))


def matrix_transpose(x: Any, /) -> Array:
    """Transpose of the last two axes."""
    node = node_of(x, "matrix_transpose: x")
    if node.ndim < 2:
        raise located(
            ValueError,
            f"matrix_transpose: x must have at least 2 dimensions, got shape {node.shape}",
        )
    perm = tuple(range(node.ndim - 2)) + (node.ndim - 1, node.ndim - 2)
    return permute_dims(Array._new(node), perm)


def tensordot(x1: Any, x2: Any, /, *, axes: Any = 2) -> Array:
    """Sum of products over ``axes`` (an int, or two sequences of axes), as ``np.tensordot``."""
    a, b = node_of(x1, "tensordot: x1"), node_of(x2, "tensordot: x2")
    with contextlib.suppress(TypeError):  # an int, a NumPy integer, a 0-d integer array
        axes = operator.index(axes)
    if isinstance(axes, int):
        if axes < 0 or axes > min(a.ndim, b.ndim):
            raise located(
                ValueError, f"tensordot: axes={axes} is invalid for shapes {a.shape} and {b.shape}"
            )
        axes_a, axes_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        try:
            first, second = axes
        except (TypeError, ValueError):
            raise located(
                TypeError, f"tensordot: axes must be an int or two sequences of axes, got {axes!r}"
            ) from None
        axes_a, axes_b = _axis_list(first, a.ndim), _axis_list(second, b.ndim)
    if len(axes_a) != len(axes_b):
        raise located(ValueError, "tensordot: the two axis sequences differ in length")
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j]:
            raise located(
                ValueError, f"tensordot: shape mismatch on contracted axes: {a.shape} and {b.shape}"
            )
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    k = math.prod(a.shape[i] for i in axes_a)
    at = reshape_node(
        permute_dims(Array._new(a), tuple(free_a + axes_a))._node,
        (math.prod(a.shape[i] for i in free_a), k),
    )
    bt = reshape_node(
        permute_dims(Array._new(b), tuple(axes_b + free_b))._node,
        (k, math.prod(b.shape[i] for i in free_b)),
    )
    out = matmul(Array._new(at), Array._new(bt))
    shape = tuple(a.shape[i] for i in free_a) + tuple(b.shape[i] for i in free_b)
    return Array._new(reshape_node(out._node, shape))


def _axis_list(axes: Any, ndim: int) -> list[int]:
    """One of tensordot's axis sequences (or a single axis), normalized and distinct."""
    try:
        items = [operator.index(axes)]
    except TypeError:
        items = list(axes)
    out = [normalize_axis(i, ndim, "tensordot") for i in items]
    if len(set(out)) != len(out):
        raise located(ValueError, f"tensordot: repeated axis in {axes!r}")
    return out


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Array:
    """Dot product of vectors along ``axis`` (conjugating ``x1``), broadcasting the rest."""
    a, b = node_of(x1, "vecdot: x1"), node_of(x2, "vecdot: x2")
    if a.ndim == 0 or b.ndim == 0:
        raise located(ValueError, "vecdot: operands must be at least 1-D")
    ndim = max(a.ndim, b.ndim)
    axis = normalize_axis(axis, ndim, "vecdot")
    a = reshape_node(a, (1,) * (ndim - a.ndim) + a.shape)
    b = reshape_node(b, (1,) * (ndim - b.ndim) + b.shape)
    if a.shape[axis] != b.shape[axis]:
        raise located(
            ValueError, f"vecdot: sizes along axis {axis - ndim} differ: {a.shape} and {b.shape}"
        )
    left = Array._new(a)
    if _dtypes.is_complex(a.dtype):
        left = elementwise("conj", left)
    product = left * Array._new(b)
    return reduce("sum", product, axis, False, dtype=product.dtype)
