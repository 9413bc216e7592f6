"""The Theano tutorial's random-number programs, with ``xp.random.Generator``.

Theano's ``RandomStreams(seed)`` is ``xp.random.Generator(seed)``. Its position in
the stream is an ``xp.State``, so a jitted function that draws from it advances it
as an update of the call: every call draws new numbers, as Theano's default
updates did. ``rng.frozen()`` is a view that is never advanced: a function drawing
from it returns the same numbers on every call (Theano's ``no_default_updates=True``).

Run with ``python -m lazyarr.examples.tutorial random_streams``.
"""

from __future__ import annotations

import numpy as np

import lazyarr as xp


def random_streams(seed: int | None = 1234, calls: int = 2) -> dict:
    """Uniform draws that advance at every call, normal draws that do not, and a reseed."""
    srng = xp.random.Generator(seed)  # RandomStreams(seed=1234)
    # Theano gives each random variable (rv_u, rv_n) a state of its own: split the
    # stream into two independent generators, so that drawing one never moves the other.
    rng_u, rng_n = srng.split()

    @xp.jit  # f = function([], rv_u): draws new numbers at every call
    def f():
        return rng_u.uniform(size=(2, 2))

    frozen_n = rng_n.frozen()

    @xp.jit  # g = function([], rv_n, no_default_updates=True): the same numbers each call
    def g():
        return frozen_n.normal(size=(2, 2))

    fs = [np.asarray(f()) for _ in range(calls)]
    gs = [np.asarray(g()) for _ in range(calls)]
    for out in fs:
        print("f() =", out.tolist())
    for out in gs:
        print("g() =", out.tolist())

    # random_stream.seed(7777): every stream restarts from a key derived from the new
    # seed. A Generator's state is a State; assign the state of a freshly seeded one.
    for rng, fresh in zip((rng_u, rng_n), xp.random.Generator(7777).split()):
        rng.state.value = fresh.state.value
    reseeded = np.asarray(g())
    print("after reseeding with 7777: g() =", reseeded.tolist())
    return {"f": fs, "g": gs, "reseeded": reseeded}


PROGRAMS = {"random_streams": random_streams}
