"""Finite-difference checks of gradients, shared by the grad tests (JAX's ``check_grads``).

For ``f`` at ``args``, a random output cotangent ``u`` and input direction ``v``:
the VJP must satisfy ``<u, J v> == <J^T u, v>`` with ``J v`` from central finite
differences, and the JVP must equal ``J v`` itself. The pairing is ``Re(sum(a * b))``,
under which JAX's complex convention makes the VJP the transpose of the JVP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import assume

import lazyarr as xp
from lazyarr._graph import postorder


def pairing(a, b) -> float:
    return float(np.real(np.sum(np.asarray(a) * np.asarray(b))))


def random_like(rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
    v = rng.standard_normal(a.shape)
    if a.dtype.kind == "c":
        v = v + 1j * rng.standard_normal(a.shape)
    return v.astype(a.dtype)


def directional(f, args, vs, h):
    """``J v`` by central differences."""
    plus = f(*(xp.asarray(a + h * v) for a, v in zip(args, vs)))
    minus = f(*(xp.asarray(a - h * v) for a, v in zip(args, vs)))
    return (np.asarray(plus) - np.asarray(minus)) / (2 * h)


def check_derivatives(f, args, *, seed=0, h=1e-6, rtol=1e-6, atol=1e-7):
    """Check ``f``'s VJP and JVP at ``args`` (NumPy float64/complex128 arrays)."""
    rng = np.random.default_rng(seed)
    args = [np.asarray(a) for a in args]
    y, pullback = xp.vjp(f, *(xp.asarray(a) for a in args))
    expected = f(*(xp.asarray(a) for a in args))
    np.testing.assert_allclose(np.asarray(y), np.asarray(expected), rtol=1e-12)
    u = random_like(rng, np.asarray(y))
    cts = pullback(xp.asarray(u))
    assert len(cts) == len(args)
    for ct, a in zip(cts, args):
        assert ct.shape == a.shape and ct.dtype == a.dtype, (ct.shape, ct.dtype, a.shape, a.dtype)
    vs = [random_like(rng, a) for a in args]
    jv = directional(f, args, vs, h)
    scale = np.sqrt(np.sum(np.abs(u) ** 2) * np.sum(np.abs(jv) ** 2)) + 1.0
    lhs, rhs = pairing(u, jv), sum(pairing(ct, v) for ct, v in zip(cts, vs))
    assert abs(lhs - rhs) <= atol * scale + rtol * abs(lhs), f"<u, Jv> {lhs} != <J^T u, v> {rhs}"
    _, tangent = xp.jvp(f, tuple(xp.asarray(a) for a in args), tuple(xp.asarray(v) for v in vs))
    np.testing.assert_allclose(np.asarray(tangent), jv, rtol=max(rtol, 1e-5), atol=atol * scale)


@dataclass
class Case:
    """``fn(*arrays, **params)`` around op ``op``; ``draw(draw, rng)`` gives (arrays, params)."""

    op: str
    fn: Callable
    draw: Callable
    rtol: float = 1e-6
    h: float = 1e-6
    label: str = ""

    def id(self) -> str:
        return self.label or self.op


def check_case(case: Case, draw, seed: int) -> None:
    """``check_derivatives`` at a point that ``case`` draws with hypothesis' ``draw``."""
    rng = np.random.default_rng(seed)
    arrays, params = case.draw(draw, rng)
    graph = case.fn(*(xp.asarray(a) for a in arrays), **params)._node
    assume(case.op in {n.op.name for n in postorder([graph])})  # not elided (x.reshape(x.shape))
    check_derivatives(
        lambda *xs: case.fn(*xs, **params), arrays, seed=seed, rtol=case.rtol, h=case.h
    )
