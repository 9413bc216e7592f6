"""The Theano tutorial's shared-variable programs, with ``xp.State``.

Theano's ``theano.shared(v)`` is ``xp.State(v)``; ``s.get_value()`` is ``s.value``
and ``s.set_value(v)`` is ``s.value = v``. ``updates=[(s, expr)]`` becomes an
assignment ``s.value = expr`` inside the jitted function: every read in the call
sees the value from the call's start, and the writes are committed together after
the call. ``givens=[(s, v)]`` (use ``v`` instead of the State, once) becomes an
argument: write the expression as a function of the value and pass either
``s.value`` or ``v``.

Run with ``python -m lazyarr.examples.tutorial accumulator`` (or any program name).
"""

from __future__ import annotations

import time

import numpy as np

import lazyarr as xp


# ----------------------------------------------------------------------------- shared values
def shared_values() -> dict:
    """Shared parameters read by a function: ``y = dot(W, x) + b``, W and b in States."""
    W = xp.State(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), name="W")  # noqa: N806
    b = xp.State(np.array([1.0, 1.0]), name="b")
    print("W.value =\n", W.value, sep="")  # W.get_value()
    print("b.value =", b.value)

    @xp.jit  # theano.function([x], y): W and b are read, not arguments
    def f(x):
        return W.value @ x + b.value

    y = f(np.array([1.0, 1.0, 1.0]))
    print("f([1, 1, 1]) =", y)
    b.value = np.array([0.0, 0.0])  # b.set_value(...): the compiled f sees the new value
    y0 = f(np.array([1.0, 1.0, 1.0]))
    print("after b.value = [0, 0]: f([1, 1, 1]) =", y0)
    return {"f([1, 1, 1])": np.asarray(y), "after": np.asarray(y0)}


def accumulator() -> dict:
    """An accumulator and a decrementor sharing one state; each returns the old value."""
    state = xp.State(0, name="state")  # theano.shared(0): an int64 scalar
    returned, values = [], []

    @xp.jit  # function([inc], state, updates=[(state, state + inc)])
    def accumulator(inc):
        old = state.value
        state.value = old + inc
        return old

    @xp.jit  # function([inc], state, updates=[(state, state - inc)])
    def decrementor(inc):
        old = state.value
        state.value = old - inc
        return old

    def call(f, inc):
        out = f(inc)
        returned.append(int(out))
        values.append(int(state.value))
        print(f"{f.__name__}({inc}) returned {out}; state.value = {state.value}")

    print("state.value =", state.value)
    call(accumulator, 1)
    call(accumulator, 300)
    state.value = -1  # state.set_value(-1)
    print("state.value = -1")
    call(accumulator, 3)
    call(decrementor, 2)
    return {"returned": returned, "values": values}


def accumulator_givens() -> dict:
    """An update with an unrelated output: ``givens={out: inc * 2}`` is just ``inc * 2``."""
    state = xp.State(0, name="state")
    returned, values = [], []

    @xp.jit  # function([inc], out, givens={out: inc * 2}, updates={state: state + inc})
    def accumulator(inc):
        state.value = state.value + inc
        return inc * 2

    for inc in (1, 2, 5):
        out = accumulator(inc)
        returned.append(int(out))
        values.append(int(state.value))
        print(f"accumulator({inc}) = {out}; state.value = {state.value}")
    return {"returned": returned, "values": values}


def skip_shared() -> dict:
    """Theano's ``givens=[(state, foo)]``: compute with another value in place of the state."""
    state = xp.State(0, name="state")

    def fn_of_state(inc, state_value):  # the expression, as a function of the value
        return state_value * 2 + inc

    @xp.jit  # function([inc], fn_of_state): reads the State
    def with_state(inc):
        return fn_of_state(inc, state.value)

    # function([inc, foo], fn_of_state, givens=[(state, foo)]): the value is an argument.
    skip_shared = xp.jit(fn_of_state)
    out = skip_shared(1, 3)
    print("skip_shared(1, 3) =", out, " (3 used for the state)")
    print("state.value =", state.value, " (unchanged)")
    kept = with_state(1)
    print("with_state(1) =", kept)
    return {"skip_shared(1, 3)": int(out), "state": int(state.value), "with_state(1)": int(kept)}


# ----------------------------------------------------------------------------- training
def perceptron(eta: float = 0.1) -> dict:
    """One gradient step of a logistic neuron ``a = 1/(1 + exp(-(w.x + b)))`` on one example."""
    w = xp.State(np.zeros(2), name="w")
    b = xp.State(0.0, name="b")

    def output(x):
        z = xp.vecdot(w.value, x) + b.value  # T.dot(w, x) + b
        return 1 / (1 + xp.exp(-z))

    def cost(x, y):
        return xp.sum((y - output(x)) ** 2)

    # function([x, y], [gw, gb]): the gradients, without an update.
    gradient = xp.jit(xp.grad(cost, wrt=(w, b)))

    @xp.jit  # function([x, y], updates=[(w, w - eta * gw), (b, b - eta * gb)])
    def train(x, y):
        gw, gb = xp.grad(cost, wrt=(w, b))(x, y)
        w.value = w.value - eta * gw
        b.value = b.value - eta * gb

    xi, yi = np.array([1.0, -1.0]), np.float64(1.0)
    gw, gb = gradient(xi, yi)
    print("gradient(xi, yi) =", gw, gb)
    train(xi, yi)
    print("w.value, b.value =", w.value, b.value)
    return {"gw": np.asarray(gw), "gb": float(gb), "w": np.asarray(w.value), "b": float(b.value)}


def make_data(n: int = 400, feats: int = 784, dtype=np.float64, seed: int = 0):
    """The tutorial's data: ``D = (randn(N, feats), randint(0, 2, N))`` and an initial w."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, feats)).astype(dtype)
    y = rng.integers(0, 2, size=n).astype(dtype)
    return x, y, rng.standard_normal(feats)


def logistic_regression(
    steps: int = 10_000,
    n: int = 400,
    feats: int = 784,
    dtype=np.float64,
    log_every: int = 0,
) -> dict:
    """Logistic regression trained by 10,000 jitted gradient steps on 400 x 784 random data."""
    D = make_data(n, feats, dtype)  # noqa: N806 - the tutorial's name
    # NOTE: from the tutorial's randn(feats) start the logits reach ±100, where p_1
    # rounds to exactly 0 or 1 and log(p_1) to -inf (NaN costs and gradients in NumPy
    # or JAX). As Theano did, lazyarr's stability rewrites turn log(1/(1 + exp(-z)))
    # into -softplus(-z) (`train.lower(...).rewrites()` lists them), so it trains.
    w = xp.State(D[2], name="w")  # theano.shared(rng.randn(feats), name="w")
    b = xp.State(0.0, name="b")
    with np.printoptions(threshold=20, edgeitems=3):
        print("Initial model:")
        print(w.value)
        print(b.value)

    def probability(x):  # p_1: the probability that the target is 1
        return 1 / (1 + xp.exp(-(x @ w.value) - b.value))

    def cost(x, y):
        p_1 = probability(x)
        xent = -y * xp.log(p_1) - (1 - y) * xp.log(1 - p_1)  # cross-entropy per example
        return xp.mean(xent) + 0.01 * xp.sum(w.value**2), (p_1 > 0.5, xent)

    @xp.jit  # function([x, y], [prediction, xent], updates=((w, w - 0.1 * gw), (b, ...)))
    def train(x, y):
        (_, (prediction, xent)), (gw, gb) = xp.value_and_grad(cost, wrt=(w, b), has_aux=True)(x, y)
        w.value = w.value - 0.1 * gw
        b.value = b.value - 0.1 * gb
        return prediction, xent

    @xp.jit  # function([x], prediction)
    def predict(x):
        return probability(x) > 0.5

    initial_cost = float(xp.jit(lambda x, y: cost(x, y)[0])(D[0], D[1]))
    start = time.perf_counter()
    for i in range(steps):
        _, err = train(D[0], D[1])  # the tutorial's pred, err
        if log_every and (i + 1) % log_every == 0:
            print(f"step {i + 1}: mean cross-entropy {float(xp.mean(err)):.6f}")
    seconds = time.perf_counter() - start
    final_cost = float(xp.jit(lambda x, y: cost(x, y)[0])(D[0], D[1]))
    prediction = np.asarray(predict(D[0]))
    with np.printoptions(threshold=20, edgeitems=3):
        print("Final model:")
        print(w.value)
        print(b.value)
        print("target values for D:")
        print(D[1])
        print("prediction on D:")
        print(prediction)
    accuracy = np.mean(prediction == D[1])
    print(f"cost {initial_cost:.4f} -> {final_cost:.4f}; accuracy on D {accuracy:.3f}")
    print(f"{steps:,} steps: {seconds:.2f} s jitted", end="")
    if steps and n * feats <= 400 * 784:
        start = time.perf_counter()
        train_numpy(D[0], D[1], D[2], steps)
        numpy_seconds = time.perf_counter() - start
        print(f", {numpy_seconds:.2f} s in NumPy (the same loop, gradients by hand)")
    else:
        numpy_seconds = None
        print()
    return {
        "data": D,
        "w": np.asarray(w.value),
        "b": float(b.value),
        "prediction": prediction,
        "initial_cost": initial_cost,
        "final_cost": final_cost,
        "seconds": seconds,
        "numpy_seconds": numpy_seconds,
    }


def logistic_regression_small() -> dict:
    """The same model on 10 float32 examples of 3 features, 1,000 steps, the cost logged."""
    return logistic_regression(steps=1000, n=10, feats=3, dtype=np.float32, log_every=100)


def train_numpy(x: np.ndarray, y: np.ndarray, w: np.ndarray, steps: int):
    """The training loop in plain NumPy, with the gradients written by hand."""
    w, b = w.copy(), 0.0
    n = len(y)
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0), as lazyarr is silent
        for _ in range(steps):
            p_1 = 1 / (1 + np.exp(-(x @ w) - b))
            prediction = p_1 > 0.5
            xent = -y * np.log(p_1) - (1 - y) * np.log(1 - p_1)
            delta = (p_1 - y) / n  # d mean(xent) / d logit
            gw = x.T @ delta + 0.02 * w
            gb = delta.sum()
            w, b = w - 0.1 * gw, b - 0.1 * gb
    return w, b, prediction, xent


PROGRAMS = {
    "shared_values": shared_values,
    "accumulator": accumulator,
    "accumulator_givens": accumulator_givens,
    "skip_shared": skip_shared,
    "perceptron": perceptron,
    "logistic_regression": logistic_regression,
    "logistic_regression_small": logistic_regression_small,
}
