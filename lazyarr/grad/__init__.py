"""Reverse-mode differentiation as a graph-to-graph transformation.

Gradients read a graph and write a graph, so they are evaluated, optimized and
compiled like any other, and can be differentiated again. The VJP rules live on
the op records of the registry (``op.vjp``, installed from ``rules.py`` and, for
the linalg and fft extensions, ``linalg_rules.py``), next to each op's shape rule
and reference implementation.
"""

from . import linalg_rules, rules
from .api import grad, hessian, jacfwd, jacobian, jacrev, jvp, value_and_grad, vjp

rules.install(rules.RULES, rules.NOT_DIFFERENTIABLE, linalg_rules.RULES)

__all__ = [
    "grad",
    "hessian",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jvp",
    "value_and_grad",
    "vjp",
]
