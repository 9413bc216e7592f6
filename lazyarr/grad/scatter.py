"""``scatter_add``: the transpose of ``gather``, declared here because only gradients need it.

``scatter_add(values, *indices, spec, shape)`` is a zero array of ``shape`` into
which ``values`` are added at the positions ``gather(x, *indices, spec=spec)``
reads, repeated indices accumulating. Its own VJP is that gather, so gradients
of indexing can be differentiated again. It has a NumPy implementation only, so
inside jit it runs as a NumPy step between compiled kernels.
"""

from __future__ import annotations

import numpy as np

from .._ops import Op, _declare


def _scatter_add_infer(inputs, *, spec, shape):
    return shape, inputs[0].dtype


def _scatter_add_impl(values, *indices, spec, shape):
    out = np.zeros(shape, values.dtype)
    np.add.at(out, tuple(slice(None) if s < 0 else indices[s] for s in spec), values)
    return out


SCATTER_ADD = _declare(Op("scatter_add", _scatter_add_infer, _scatter_add_impl, kind="index"))
