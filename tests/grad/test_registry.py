"""Every op of the registry declares its VJP: a rule, or an explicit NotDifferentiable."""

import pytest

from lazyarr import _ops
from lazyarr.grad.backprop import NotDifferentiable
from tests.grad import test_linalg_rules, test_rules


@pytest.mark.parametrize("op", _ops.all_ops(), ids=lambda op: op.name)
def test_every_op_has_a_vjp_rule_or_is_marked_not_differentiable(op):
    rule = getattr(op, "vjp", None)
    assert rule is not None, f"{op.name} has no VJP rule (lazyarr/grad/rules.py)"
    assert isinstance(rule, NotDifferentiable) or callable(rule)


def test_leaves_and_boolean_ops_are_marked_with_a_reason():
    assert "leaf" in _ops.REGISTRY["constant"].vjp.reason
    assert "boolean" in _ops.REGISTRY["equal"].vjp.reason


def test_every_differentiable_op_is_checked_against_finite_differences():
    differentiable = {
        op.name
        for op in _ops.all_ops()
        if not isinstance(getattr(op, "vjp", None), NotDifferentiable)
    }
    checked = {case.op for case in test_rules.CASES + test_linalg_rules.CASES}
    assert not differentiable - checked, sorted(differentiable - checked)
