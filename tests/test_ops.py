"""The op registry: every op declares everything the other layers need, consistently."""

import numpy as np
import pytest

from lazyarr import _ops
from lazyarr._ops import REGISTRY, Elementwise
from tests.helpers import ALL

# Fields every op must declare; later layers (grad, C, CUDA) extend this table.
REQUIRED = ("name", "kind", "infer", "impl")
KINDS = {"elementwise", "leaf", "shape", "index", "reduction", "scan", "linalg"}


@pytest.mark.parametrize("op", _ops.all_ops(), ids=lambda op: op.name)
def test_every_op_declares_its_fields(op):
    for field in REQUIRED:
        assert getattr(op, field, None) is not None, f"{op.name} lacks {field}"
    assert op.kind in KINDS, f"{op.name} has unknown kind {op.kind!r}"
    assert callable(op.infer) and callable(op.impl)
    assert REGISTRY[op.name] is op


ELEMENTWISE = [op for op in _ops.all_ops() if isinstance(op, Elementwise)]


@pytest.mark.parametrize("op", ELEMENTWISE, ids=lambda op: op.name)
def test_elementwise_dtype_rule_matches_reference(op):
    """For every dtype the rule accepts, the NumPy reference returns the declared dtype."""
    accepted = 0
    for dtype in ALL:
        types = (np.dtype(bool), dtype, dtype) if op.name == "where" else (dtype,) * op.nin
        try:
            computes, out = op.signature(types)
        except TypeError:
            continue
        accepted += 1
        assert all(c in ALL for c in computes) and out in ALL
        assert op.signature(computes) == (computes, out), "the rule is not idempotent"
        args = [np.ones(3, dtype=c) for c in computes]
        with np.errstate(all="ignore"):
            result = np.asarray(op.impl(*args))
        assert result.dtype == out, f"{op.name}{computes} gave {result.dtype}, declared {out}"
    assert accepted, f"{op.name} accepts no dtype at all"


def test_broadcast_shapes_rule():
    assert _ops.broadcast_shapes((2, 1), (3,)) == (2, 3)
    assert _ops.broadcast_shapes((), (4, 5)) == (4, 5)
    assert _ops.broadcast_shapes((0,), (1,)) == (0,)
    with pytest.raises(ValueError, match=r"\(2,\) and \(3,\)"):
        _ops.broadcast_shapes((2,), (3,))
