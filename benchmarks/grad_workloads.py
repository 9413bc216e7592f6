"""Gradients side by side: the cost of value_and_grad over the forward pass, and training
steps written with ``xp.grad`` against hand-derived gradients and JAX's jit(value_and_grad).

Sections 1-2 give the cheap-gradient ratio (value_and_grad / forward, about 2-4x expected);
3-4 are the jit issue's training steps; 5 is an SGD step of the 3-layer MLP; 6 is the
MNIST demo's step, whose cost indexes log-probabilities with ``[arange(n), labels]``.

    python benchmarks/grad_workloads.py                 # default threads
    python benchmarks/grad_workloads.py --threads 1     # every library (and BLAS) on one thread
"""

from __future__ import annotations

import argparse
import itertools

from _harness import fmt_time, limit_threads, machine_load, time_runners


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="threads for every library")
    parser.add_argument("--repeats", type=int, default=7)
    return parser.parse_args()


ARGS = _arguments() if __name__ == "__main__" else None
limit_threads(ARGS.threads if ARGS is not None else None)

import numpy as np  # noqa: E402

import lazyarr as xp  # noqa: E402

try:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
except Exception:  # JAX is an optional peer
    jax = None


def _ready(out):
    for leaf in jax.tree_util.tree_leaves(out):
        leaf.block_until_ready()
    return out


# ----------------------------------------------------------------------------- costs
def logistic_cost(mod):
    """The Theano tutorial's cost (400 x 784), in its stable softplus form."""

    def cost(w, b, X, y):
        z = X @ w + b
        softplus = mod.log1p(mod.exp(-mod.abs(z))) + mod.maximum(z, 0)
        return mod.mean(y * (softplus - z) + (1 - y) * softplus) + 0.01 * mod.sum(w * w)

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((400, 784)), rng.integers(0, 2, 400).astype(np.float64)
    return cost, (rng.standard_normal(784), np.array(0.0)), (X, y)


def mlp_cost(mod):
    """A 3-layer tanh MLP with a softmax cross-entropy, batch 256, 784-256-256-10, float32."""

    def cost(params, X, Y):
        W1, b1, W2, b2, W3, b3 = params
        h = mod.tanh(X @ W1 + b1)
        h = mod.tanh(h @ W2 + b2)
        logits = h @ W3 + b3
        shifted = logits - mod.max(logits, axis=1, keepdims=True)
        logp = shifted - mod.log(mod.sum(mod.exp(shifted), axis=1, keepdims=True))
        return -mod.mean(mod.sum(Y * logp, axis=1))

    rng = np.random.default_rng(0)
    sizes = [784, 256, 256, 10]
    params = []
    for m, n in itertools.pairwise(sizes):
        params += [
            (rng.standard_normal((m, n)) / np.sqrt(m)).astype(np.float32),
            np.zeros(n, np.float32),
        ]
    X = rng.random((256, 784), dtype=np.float32)
    Y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 256)]
    return cost, (tuple(params),), (X, Y)


def ratio_runners(make):
    """Forward pass and value_and_grad, jitted, for lazyarr and JAX."""
    cost, params, data = make(xp)
    forward = xp.jit(cost)
    both = xp.jit(xp.value_and_grad(cost, argnums=tuple(range(len(params)))))
    runners = {
        "lazyarr forward": lambda: forward(*params, *data),
        "lazyarr value_and_grad": lambda: both(*params, *data),
    }
    if jax is not None:
        jcost, _, _ = make(jnp)
        jparams = jax.tree_util.tree_map(jnp.asarray, params)
        jdata = tuple(jnp.asarray(d) for d in data)
        jforward = jax.jit(jcost)
        jboth = jax.jit(jax.value_and_grad(jcost, argnums=tuple(range(len(params)))))
        runners["JAX forward"] = lambda: _ready(jforward(*jparams, *jdata))
        runners["JAX value_and_grad"] = lambda: _ready(jboth(*jparams, *jdata))
    return runners


# ----------------------------------------------------------------------------- training steps
def logistic_training_step():
    """The jit issue's workload 7, with gradients from xp.grad instead of by hand."""
    cost, (w0, b0), (X, y) = logistic_cost(xp)
    n = X.shape[0]

    @xp.jit
    def step_grad(w, b, X, y):
        c, (gw, gb) = xp.value_and_grad(cost, argnums=(0, 1))(w, b, X, y)
        return w - 0.1 * gw, b - 0.1 * gb, c

    @xp.jit
    def step_by_hand(w, b, X, y):
        z = X @ w + b
        p = 1 / (1 + xp.exp(-z))
        gw = X.T @ (p - y) / n + 0.02 * w
        return w - 0.1 * gw, b - 0.1 * xp.mean(p - y), cost(w, b, X, y)

    state = {}

    def looped(name, step, w, b, X, y, finish=lambda out: out):
        state[name] = (w, b)

        def run():
            w, b, _ = finish(step(*state[name], X, y))
            state[name] = (w, b)

        return run

    runners = {
        "lazyarr xp.grad": looped("grad", step_grad, w0, b0, X, y),
        "lazyarr by hand": looped("hand", step_by_hand, w0, b0, X, y),
    }
    if jax is not None:
        jcost, _, _ = logistic_cost(jnp)

        @jax.jit
        def jstep(w, b, X, y):
            c, (gw, gb) = jax.value_and_grad(jcost, argnums=(0, 1))(w, b, X, y)
            return w - 0.1 * gw, b - 0.1 * gb, c

        runners["JAX value_and_grad"] = looped(
            "jax", jstep, jnp.asarray(w0), jnp.asarray(b0), jnp.asarray(X), jnp.asarray(y), _ready
        )
    return runners


def softmax_regression_epoch():
    """The jit issue's workload 8 (50,000 x 784 float32, batch 600), gradients by xp.grad."""
    rng = np.random.default_rng(0)
    n, d, k, batch = 50_000, 784, 10, 600
    X = rng.random((n, d), dtype=np.float32)
    Y = np.eye(k, dtype=np.float32)[rng.integers(0, k, n)]

    def nll(W, b, x, t, mod):
        logits = x @ W + b
        shifted = logits - mod.max(logits, axis=1, keepdims=True)
        logp = shifted - mod.log(mod.sum(mod.exp(shifted), axis=1, keepdims=True))
        return -mod.mean(mod.sum(t * logp, axis=1))

    @xp.jit
    def step(x, t, W, b):
        gW, gb = xp.grad(lambda W, b: nll(W, b, x, t, xp), argnums=(0, 1))(W, b)
        return W - 0.13 * gW, b - 0.13 * gb

    def epoch(fn, W, b):
        for i in range(n // batch):
            W, b = fn(X[i * batch : (i + 1) * batch], Y[i * batch : (i + 1) * batch], W, b)
        return W

    zeros = (np.zeros((d, k), np.float32), np.zeros(k, np.float32))
    runners = {"lazyarr xp.grad": lambda: epoch(step, *zeros)}
    if jax is not None:

        @jax.jit
        def jstep(x, t, W, b):
            gW, gb = jax.grad(lambda W, b: nll(W, b, x, t, jnp), argnums=(0, 1))(W, b)
            return W - 0.13 * gW, b - 0.13 * gb

        jzeros = tuple(jnp.asarray(z) for z in zeros)
        runners["JAX grad"] = lambda: epoch(jstep, *jzeros).block_until_ready()
    return runners


def mlp_training_step():
    """An SGD step of the 3-layer MLP (section 2's cost), gradients by xp.grad and JAX."""
    cost, (params,), (X, Y) = mlp_cost(xp)

    @xp.jit
    def step(params, X, Y):
        c, g = xp.value_and_grad(cost)(params, X, Y)
        return tuple(p - 0.1 * gp for p, gp in zip(params, g)), c

    state = {"lazyarr": params}

    def run():
        state["lazyarr"], _ = step(state["lazyarr"], X, Y)

    runners = {"lazyarr xp.grad": run}
    if jax is not None:
        jcost, _, _ = mlp_cost(jnp)

        @jax.jit
        def jstep(params, X, Y):
            c, g = jax.value_and_grad(jcost)(params, X, Y)
            return tuple(p - 0.1 * gp for p, gp in zip(params, g)), c

        state["jax"] = tuple(jnp.asarray(p) for p in params)
        jX, jY = jnp.asarray(X), jnp.asarray(Y)

        def jrun():
            state["jax"], _ = _ready(jstep(state["jax"], jX, jY))

        runners["JAX value_and_grad"] = jrun
    return runners


def mnist_demo_step():
    """The MNIST demo's step (lazyarr/examples/mnist.py): -mean(log(softmax(z))[arange(n), y])
    with integer labels, 600 x 784 float32, against its NumPy twin with hand-derived
    gradients and JAX. Each step reads the next minibatch of 50,000 images."""
    rng = np.random.default_rng(0)
    n, d, k, batch = 50_000, 784, 10, 600
    X = rng.random((n, d), dtype=np.float32)
    labels = rng.integers(0, k, n)

    def nll(W, b, x, y, mod):
        z = x @ W + b
        e = mod.exp(z - mod.max(z, axis=1, keepdims=True))
        p = e / mod.sum(e, axis=1, keepdims=True)
        return -mod.mean(mod.log(p)[mod.arange(y.shape[0]), y])

    @xp.jit
    def step(W, b, x, y):
        c, (gW, gb) = xp.value_and_grad(lambda W, b: nll(W, b, x, y, xp), argnums=(0, 1))(W, b)
        return W - 0.13 * gW, b - 0.13 * gb, c

    def numpy_step(W, b, x, y):
        z = x @ W + b
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        rows = np.arange(len(y))
        c = -np.mean(np.log(p[rows, y]))
        p[rows, y] -= 1
        p /= p.dtype.type(len(y))
        return W - 0.13 * (x.T @ p), b - 0.13 * p.sum(axis=0), c

    zeros = (np.zeros((d, k), np.float32), np.zeros(k, np.float32))
    state = {}

    def looped(name, fn, params, finish=lambda out: out):
        state[name] = (params, 0)

        def run():
            (W, b), i = state[name]
            rows = slice(i * batch, (i + 1) * batch)
            W, b, _ = finish(fn(W, b, X[rows], labels[rows]))
            state[name] = ((W, b), (i + 1) % (n // batch))

        return run

    runners = {
        "lazyarr xp.grad": looped("lazyarr", step, zeros),
        "NumPy by hand": looped("numpy", numpy_step, zeros),
    }
    if jax is not None:

        @jax.jit
        def jstep(W, b, x, y):
            c, (gW, gb) = jax.value_and_grad(lambda W, b: nll(W, b, x, y, jnp), argnums=(0, 1))(
                W, b
            )
            return W - 0.13 * gW, b - 0.13 * gb, c

        jzeros = tuple(jnp.asarray(z) for z in zeros)
        runners["JAX value_and_grad"] = looped("jax", jstep, jzeros, _ready)
    return runners


# ----------------------------------------------------------------------------- reporting
def report(title: str, runners: dict, repeats: int, pairs=()) -> None:
    times = time_runners(runners, repeats)
    print(title)
    for name, t in times.items():
        print(f"  {name:24s} {fmt_time(t)}")
    for numerator, denominator in pairs:
        if numerator in times and denominator in times:
            print(f"  {numerator} / {denominator}: {times[numerator] / times[denominator]:.2f}x")


def main() -> None:
    args = ARGS
    peers = "JAX " + jax.__version__ if jax is not None else "none"
    print(f"lazyarr {xp.__version__}, NumPy {np.__version__}; peers: {peers}")
    print(f"threads: {args.threads or 'default'}; before: {machine_load()}\n")
    ratios = [
        ("lazyarr value_and_grad", "lazyarr forward"),
        ("JAX value_and_grad", "JAX forward"),
        ("lazyarr value_and_grad", "JAX value_and_grad"),
    ]
    report(
        "1. logistic-regression cost (400 x 784, float64): value_and_grad vs forward",
        ratio_runners(logistic_cost),
        args.repeats,
        ratios,
    )
    print()
    report(
        "2. 3-layer MLP cost (256 x 784-256-256-10, float32): value_and_grad vs forward",
        ratio_runners(mlp_cost),
        args.repeats,
        ratios,
    )
    print()
    report(
        "3. logistic-regression training step, per step",
        logistic_training_step(),
        args.repeats,
        [("lazyarr xp.grad", "lazyarr by hand"), ("lazyarr xp.grad", "JAX value_and_grad")],
    )
    print()
    report(
        "4. softmax-regression epoch (50000 x 784 float32, batch 600), gradients by grad",
        softmax_regression_epoch(),
        max(3, args.repeats // 2),
        [("lazyarr xp.grad", "JAX grad")],
    )
    print()
    report(
        "5. 3-layer MLP training step (256 x 784-256-256-10, float32), per step",
        mlp_training_step(),
        args.repeats,
        [("lazyarr xp.grad", "JAX value_and_grad")],
    )
    print()
    report(
        "6. MNIST demo step (600 x 784 float32, integer labels, arange-indexed NLL), per step",
        mnist_demo_step(),
        args.repeats,
        [("lazyarr xp.grad", "NumPy by hand"), ("lazyarr xp.grad", "JAX value_and_grad")],
    )
    print(f"\nafter: {machine_load()}")


if __name__ == "__main__":
    main()
