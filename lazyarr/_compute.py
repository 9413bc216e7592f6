"""``xp.compute``: materialize several arrays in one pass."""

from __future__ import annotations

from ._array import Array
from ._errors import located
from .compile.eager import materialize


def compute(*arrays: Array) -> tuple[Array, ...]:
    """Compute several arrays together, evaluating shared subgraphs once.

    Returns the same arrays, now holding their values (a later ``np.asarray``
    or ``print`` does no work).

    >>> import lazyarr as xp
    >>> a = xp.exp(xp.arange(3.0))
    >>> s, m = xp.compute(xp.sum(a), xp.max(a))
    >>> round(float(s), 3)
    11.107
    """
    for a in arrays:
        if not isinstance(a, Array):
            raise located(TypeError, f"compute: expected Arrays, got {type(a).__name__}")
    materialize([a._node for a in arrays])
    return arrays
