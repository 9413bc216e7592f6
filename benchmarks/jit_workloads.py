"""Jitted workloads side by side: lazyarr, NumPy, and numexpr, JAX, PyTensor, Numba if installed.

Prints the median time of repeats after warm-up and the speed-up over NumPy in the
same run, the machine's background load before and after, and, for the
memory-bound workloads, the floor set by the machine's copy bandwidth.

    python benchmarks/jit_workloads.py                 # default threads
    python benchmarks/jit_workloads.py --threads 1     # every library (and BLAS) on one thread
    python benchmarks/jit_workloads.py --only 1 2 9
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap

from _harness import fmt_time, limit_threads, machine_load, median_time, optional, time_runners


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for every library (default: each library's own default)",
    )
    parser.add_argument("--only", type=int, nargs="*", default=None, help="workload numbers")
    parser.add_argument("--size", type=int, default=10_000_000, help="elements (workloads 1-5)")
    parser.add_argument("--repeats", type=int, default=7)
    return parser.parse_args()


ARGS = _arguments() if __name__ == "__main__" else None
limit_threads(ARGS.threads if ARGS is not None else None)

import numpy as np  # noqa: E402

import lazyarr as xp  # noqa: E402

ne = optional("numexpr")
jax = optional("jax")
if jax is not None:
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
numba = optional("numba")
pytensor = optional("pytensor")


def copy_bandwidth() -> float:
    """Bytes per second of a large NumPy copy (read + write), this machine's memory floor."""
    src = np.ones(20_000_000)
    dst = np.empty_like(src)
    t = median_time(lambda: np.copyto(dst, src), repeats=5)
    return 2 * src.nbytes / t


# ----------------------------------------------------------------------------- workloads
def elementwise(expr: str, names: str, n: int):
    """One elementwise expression written for every library (``exp`` is each one's own)."""
    rng = np.random.default_rng(0)
    arrays = {k: rng.standard_normal(n) for k in names}
    args = [arrays[k] for k in names]

    def compiled(exp):
        return eval(f"lambda {', '.join(names)}: {expr}", {"exp": exp})  # our own expressions

    fn = compiled(np.exp)
    runners = {"NumPy": lambda: fn(*args)}
    lz = xp.jit(compiled(xp.exp))
    runners["lazyarr"] = lambda: lz(*args)
    if ne is not None:
        runners["numexpr"] = lambda: ne.evaluate(expr, local_dict=arrays)
    if jax is not None:
        jf = jax.jit(compiled(jnp.exp))
        jargs = [jnp.asarray(a) for a in args]
        runners["JAX"] = lambda: jf(*jargs).block_until_ready()
    if numba is not None:
        import math

        signature = "float64(" + ", ".join(["float64"] * len(names)) + ")"
        nf = numba.vectorize([signature])(compiled(math.exp))
        runners["Numba"] = lambda: nf(*args)
    if pytensor is not None:
        import pytensor.tensor as pt

        syms = [pt.dvector(k) for k in names]
        pf = pytensor.function(syms, compiled(pt.exp)(*syms))
        runners["PyTensor"] = lambda: pf(*args)
    return runners


def poly_and_derivative(n: int):
    x = np.random.default_rng(0).standard_normal(n)

    def both(x):
        return (x - 4) * (x**2 + 6), 3 * x**2 - 8 * x + 6

    runners = {"NumPy": lambda: both(x), "lazyarr": (lambda f: lambda: f(x))(xp.jit(both))}
    if ne is not None:
        runners["numexpr"] = lambda: (
            ne.evaluate("(x - 4) * (x**2 + 6)", local_dict={"x": x}),
            ne.evaluate("3 * x**2 - 8 * x + 6", local_dict={"x": x}),
        )
    if jax is not None:
        jf, jx = jax.jit(both), jnp.asarray(x)
        runners["JAX"] = lambda: [a.block_until_ready() for a in jf(jx)]
    if pytensor is not None:
        import pytensor.tensor as pt

        s = pt.dvector("x")
        pf = pytensor.function([s], list(both(s)))
        runners["PyTensor"] = lambda: pf(x)
    return runners


def softmax_rows(kind: str):
    x = np.random.default_rng(0).standard_normal((10_000, 1_000)).astype(np.float32)

    def numpy_version(x, mod=np):
        m = mod.max(x, axis=1, keepdims=True)
        e = mod.exp(x - m)
        s = mod.sum(e, axis=1, keepdims=True)
        return e / s if kind == "softmax" else mod.log(s) + m

    runners = {"NumPy": lambda: numpy_version(x)}
    lz = xp.jit(lambda x: numpy_version(x, xp))
    runners["lazyarr"] = lambda: lz(x)
    if jax is not None:
        jf = jax.jit(
            jax.nn.softmax
            if kind == "softmax"
            else (lambda x: jax.nn.logsumexp(x, axis=1, keepdims=True))
        )
        jx = jnp.asarray(x)
        runners["JAX"] = lambda: jf(jx).block_until_ready()
    return runners


def logistic_regression_step():
    """The Theano tutorial's training step (400 x 784) as the seed writes it.

    The cost is the seed's naive cross-entropy: with w drawn from a standard normal
    some rows saturate, so NumPy (and JAX) compute NaN there, while lazyarr's
    rewrites make it finite. lazyarr and JAX differentiate the cost; NumPy's
    gradient is written by hand.
    """
    rng = np.random.default_rng(0)
    n, d = 400, 784
    X, y = rng.standard_normal((n, d)), rng.integers(0, 2, n).astype(np.float64)
    w0, b0 = rng.standard_normal(d), np.float64(0.0)

    def cost_in(mod):
        def cost(w, b, X, y):
            p = 1 / (1 + mod.exp(-(X @ w) - b))
            xent = -y * mod.log(p) - (1 - y) * mod.log(1 - p)
            return mod.mean(xent) + 0.01 * mod.sum(w**2)

        return cost

    def numpy_step(X, y, w, b):
        with np.errstate(all="ignore"):
            p = 1 / (1 + np.exp(-(X @ w) - b))
            xent = -y * np.log(p) - (1 - y) * np.log(1 - p)
        c = np.mean(xent) + 0.01 * np.sum(w**2)
        gw = X.T @ (p - y) / n + 0.02 * w
        gb = np.mean(p - y)
        return w - 0.1 * gw, b - 0.1 * gb, c

    def differentiated(mod, value_and_grad):
        def step(X, y, w, b):
            c, (gw, gb) = value_and_grad(cost_in(mod), argnums=(0, 1))(w, b, X, y)
            return w - 0.1 * gw, b - 0.1 * gb, c

        return step

    state = {"np": (w0, b0), "lz": (w0, b0), "jax": None}

    def run_numpy():
        w, b, _ = numpy_step(X, y, *state["np"])
        state["np"] = (w, b)

    lz = xp.jit(differentiated(xp, xp.value_and_grad))

    def run_lazy():
        w, b, _ = lz(X, y, *state["lz"])
        state["lz"] = (w, b)

    runners = {"NumPy": run_numpy, "lazyarr": run_lazy}
    if jax is not None:
        jf = jax.jit(differentiated(jnp, jax.value_and_grad))
        jX, jy = jnp.asarray(X), jnp.asarray(y)
        state["jax"] = (jnp.asarray(w0), jnp.asarray(b0))

        def run_jax():
            w, b, c = jf(jX, jy, *state["jax"])
            c.block_until_ready()
            state["jax"] = (w, b)

        runners["JAX"] = run_jax
    return runners


def softmax_regression_epoch():
    """One epoch of minibatch SGD at MNIST size (50,000 x 784 float32, batch 600)."""
    rng = np.random.default_rng(0)
    n, d, k, batch = 50_000, 784, 10, 600
    X = rng.random((n, d), dtype=np.float32)
    labels = rng.integers(0, k, n)
    Y = np.eye(k, dtype=np.float32)[labels]

    def step(x, t, W, b, mod=np):
        logits = x @ W + b
        e = mod.exp(logits - mod.max(logits, axis=1, keepdims=True))
        p = e / mod.sum(e, axis=1, keepdims=True)
        g = (p - t) / batch
        return W - 0.13 * (x.T @ g), b - 0.13 * mod.sum(g, axis=0)

    lz = xp.jit(lambda x, t, W, b: step(x, t, W, b, xp))

    def epoch(fn):
        W, b = np.zeros((d, k), np.float32), np.zeros(k, np.float32)
        for i in range(n // batch):
            W, b = fn(X[i * batch : (i + 1) * batch], Y[i * batch : (i + 1) * batch], W, b)
        return W

    runners = {"NumPy": lambda: epoch(step), "lazyarr": lambda: epoch(lz)}
    if jax is not None:
        jf = jax.jit(lambda x, t, W, b: step(x, t, W, b, jnp))
        runners["JAX"] = lambda: epoch(jf).block_until_ready()
    return runners


def call_overhead():
    a, b = np.ones(1), np.ones(1)
    lz = xp.jit(lambda a, b: a + b)
    runners = {"NumPy": lambda: np.add(a, b), "lazyarr": lambda: lz(a, b)}
    if jax is not None:
        jf = jax.jit(lambda a, b: a + b)
        ja, jb = jnp.asarray(a), jnp.asarray(b)
        runners["JAX"] = lambda: jf(ja, jb).block_until_ready()
    if numba is not None:
        nf = numba.njit(lambda a, b: a + b)
        runners["Numba"] = lambda: nf(a, b)
    return runners


FIRST_RESULT = textwrap.dedent("""
    import time
    t = time.perf_counter()
    import numpy as np
    import lazyarr as xp
    rng = np.random.default_rng(0)
    X, w = rng.standard_normal((400, 784)), rng.standard_normal(784)
    y = rng.integers(0, 2, 400) * 1.0
    def cost(w, b, X, y):
        p = 1 / (1 + xp.exp(-(X @ w) - b))
        xent = -y * xp.log(p) - (1 - y) * xp.log(1 - p)
        return xp.mean(xent) + 0.01 * xp.sum(w**2)
    @xp.jit
    def step(X, y, w, b):
        c, (gw, gb) = xp.value_and_grad(cost, argnums=(0, 1))(w, b, X, y)
        return w - 0.1 * gw, b - 0.1 * gb, c
    float(step(X, y, w, np.float64(0.0))[2])
    print(time.perf_counter() - t)
""")


def time_to_first_result() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "LAZYARR_CACHE_DIR": cache}
        runs = [
            float(
                subprocess.run(
                    [sys.executable, "-c", FIRST_RESULT],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            )
            for _ in range(2)
        ]
    return runs[0], runs[1]


# ----------------------------------------------------------------------------- reporting
def report(title: str, runners: dict, repeats: int, floor: float | None = None) -> None:
    times = time_runners(runners, repeats)
    base = times.get("NumPy")
    print(f"{title}")
    for name, t in times.items():
        ratio = f"{base / t:7.2f}x" if base else ""
        print(f"  {name:10s} {fmt_time(t)} {ratio}")
    if floor is not None:
        print(f"  {'floor':10s} {fmt_time(floor)} {base / floor:7.2f}x  (memory bandwidth)")


def main() -> None:
    args = ARGS
    only = set(args.only) if args.only else set(range(1, 11))
    n = args.size
    peers = [
        name
        for name, mod in (("numexpr", ne), ("JAX", jax), ("Numba", numba), ("PyTensor", pytensor))
        if mod is not None
    ]
    print(f"lazyarr {xp.__version__}, NumPy {np.__version__}; peers: {', '.join(peers) or 'none'}")
    print(f"threads: {args.threads or 'default'}; before: {machine_load()}")
    bandwidth = copy_bandwidth()
    print(f"copy bandwidth: {bandwidth / 1e9:.1f} GB/s (read + write)\n")
    elementwise_workloads = {
        1: ("x**10", "x", 2),
        2: ("1 / (1 + exp(-x))", "x", 2),
        4: ("a + a**10", "a", 2),
        5: ("a * b + c * d - e", "abcde", 6),
    }
    for number in sorted(only):
        if number in elementwise_workloads:
            expr, names, arrays = elementwise_workloads[number]
            floor = arrays * 8 * n / bandwidth
            runners = elementwise(expr, names, n)
            report(f"{number}. {expr} (float64, n={n:,})", runners, args.repeats, floor)
        elif number == 3:
            report(
                f"3. (x-4)*(x**2+6) and 3*x**2-8*x+6 (n={n:,})",
                poly_and_derivative(n),
                args.repeats,
                3 * 8 * n / bandwidth,
            )
        elif number == 6:
            report("6a. row softmax, (10000, 1000) float32", softmax_rows("softmax"), args.repeats)
            report(
                "6b. row logsumexp, (10000, 1000) float32", softmax_rows("logsumexp"), args.repeats
            )
        elif number == 7:
            report(
                "7. logistic-regression step (400 x 784, float64), per step",
                logistic_regression_step(),
                args.repeats,
            )
        elif number == 8:
            report(
                "8. softmax-regression epoch (50000 x 784 float32, batch 600)",
                softmax_regression_epoch(),
                max(3, args.repeats // 2),
            )
        elif number == 9:
            report(
                "9. per-call overhead, jitted a + b on 1-element arrays",
                call_overhead(),
                args.repeats,
            )
        elif number == 10:
            cold, warm = time_to_first_result()
            print(
                f"10. time to first result of workload 7 in a fresh process\n"
                f"  empty cache {cold:6.2f} s\n  warm cache  {warm:6.2f} s"
            )
        print()
    print(f"after: {machine_load()}")


if __name__ == "__main__":
    main()
