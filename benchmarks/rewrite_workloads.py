"""What the rewrites buy: speed of the forms they choose, and finite answers where NumPy's overflow.

Every workload is written once, naively (``x**10``, ``exp(x) / sum(exp(x))``,
``log(softmax(z))[arange(n), y]``, ``alpha * (A @ B) + beta * C``), and lazyarr's
rewrites pick the form that runs (a multiplication chain, a max-shifted softmax, the
logarithms of the n picked entries only, one GEMM). NumPy and the peers (numexpr,
JAX's ``jax.jit``, PyTensor, where they import) run the same expression side by side
in the same process; NumPy runs the max-shifted form where the naive one would
overflow, as a NumPy user must write it.
Times are medians of repeats after a warm-up; ratios are NumPy's time over each one's.

    python benchmarks/rewrite_workloads.py                # default threads
    python benchmarks/rewrite_workloads.py --threads 1    # every library on one thread
    python benchmarks/rewrite_workloads.py --only 1 4
"""

from __future__ import annotations

import argparse
import math

from _harness import fmt_time, limit_threads, machine_load, optional, time_runners


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for every library (default: each library's own default)",
    )
    parser.add_argument("--only", type=int, nargs="*", default=None, help="workload numbers")
    parser.add_argument("--repeats", type=int, default=5)
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
pytensor = optional("pytensor")
if pytensor is not None:
    import pytensor.tensor as pt


# ----------------------------------------------------------------------------- workloads
def powers(expr: str, n: int) -> dict:
    """``x**10`` or ``a + a**10``: lazyarr computes ``x**10`` in 4 multiplications."""
    x = np.random.default_rng(0).standard_normal(n)
    fn = eval(f"lambda x: {expr}")  # our own expressions, written once for every library
    runners = {"NumPy": lambda: fn(x)}
    lz = xp.jit(fn)
    runners["lazyarr"] = lambda: lz(x)
    if ne is not None:
        runners["numexpr"] = lambda: ne.evaluate(expr, local_dict={"x": x})
    if jax is not None:
        jf, jx = jax.jit(fn), jnp.asarray(x)
        runners["JAX"] = lambda: jf(jx).block_until_ready()
    if pytensor is not None:
        s = pt.dvector("x")
        pf = pytensor.function([s], fn(s))
        runners["PyTensor"] = lambda: pf(x)
    return runners


def _numpy_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _numpy_logsumexp(x):
    m = np.max(x, axis=1, keepdims=True)
    return np.log(np.sum(np.exp(x - m), axis=1)) + m[:, 0]


def rows(kind: str, shape: tuple[int, int]) -> dict:
    """Row softmax or logsumexp, written naively for lazyarr (its rewrites shift by the
    row maximum) and max-shifted for NumPy; JAX and PyTensor call their own."""
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)

    def naive(x):
        e = xp.exp(x)
        if kind == "softmax":
            return e / xp.sum(e, axis=1, keepdims=True)
        return xp.log(xp.sum(e, axis=1))

    numpy_version = _numpy_softmax if kind == "softmax" else _numpy_logsumexp
    runners = {"NumPy": lambda: numpy_version(x)}
    lz = xp.jit(naive)
    runners["lazyarr"] = lambda: lz(x)
    if jax is not None:
        jf = jax.jit(
            (lambda x: jax.nn.softmax(x, axis=1))
            if kind == "softmax"
            else (lambda x: jax.nn.logsumexp(x, axis=1))
        )
        jx = jnp.asarray(x)
        runners["JAX"] = lambda: jf(jx).block_until_ready()
    if pytensor is not None:
        s = pt.fmatrix("x")
        out = pt.special.softmax(s, axis=1) if kind == "softmax" else pt.logsumexp(s, axis=1)
        pf = pytensor.function([s], out)
        runners["PyTensor"] = lambda: pf(x)
    return runners


def _lazy_pair(fn, *args) -> dict:
    """lazyarr with every rewrite and without index pushdown."""
    on = xp.jit(fn)
    off = xp.jit(fn, exclude_rewrites=("index_pushdown",))
    return {"lazyarr": lambda: on(*args), "  no pushdown": lambda: off(*args)}


def mnist_nll() -> dict:
    """The MNIST demo's cost on a minibatch: ``-mean(log(softmax(X @ W + b))[arange(n), y])``."""
    rng = np.random.default_rng(0)
    n, d, k = 600, 784, 10
    X = rng.random((n, d), dtype=np.float32)
    W = (rng.standard_normal((d, k)) * 0.01).astype(np.float32)
    b = np.zeros(k, np.float32)
    y = rng.integers(0, k, n)

    def nll(X, W, b, y, mod=xp):
        z = X @ W + b
        e = mod.exp(z - mod.max(z, axis=1, keepdims=True))  # the demo's softmax
        p = e / mod.sum(e, axis=1, keepdims=True)
        return -mod.mean(mod.log(p)[mod.arange(y.shape[0]), y])

    runners = {"NumPy": lambda: nll(X, W, b, y, np)}
    runners.update(_lazy_pair(nll, X, W, b, y))
    if jax is not None:
        jf = jax.jit(lambda X, W, b, y: nll(X, W, b, y, jnp))
        jargs = [jnp.asarray(a) for a in (X, W, b, y)]
        runners["JAX"] = lambda: jf(*jargs).block_until_ready()
    return runners


def picked_logs(shape: tuple[int, int]) -> dict:
    """``-mean(log(p)[arange(n), y])`` of given probabilities: n logarithms, not n*k."""
    rng = np.random.default_rng(0)
    p = rng.random(shape) + 0.01
    y = rng.integers(0, shape[1], shape[0])

    def nll(p, y, mod=xp):
        return -mod.mean(mod.log(p)[mod.arange(y.shape[0]), y])

    runners = {"NumPy": lambda: nll(p, y, np)}
    runners.update(_lazy_pair(nll, p, y))
    if jax is not None:
        jf, jp, jy = jax.jit(lambda p, y: nll(p, y, jnp)), jnp.asarray(p), jnp.asarray(y)
        runners["JAX"] = lambda: jf(jp, jy).block_until_ready()
    return runners


def softmax_xent(shape: tuple[int, int]) -> dict:
    """``-mean(log(softmax(z))[arange(n), y])`` of logits, the softmax written naively:
    lazyarr makes it a log-softmax, then subtracts the logsumexp of the n picked rows."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal(shape)
    y = rng.integers(0, shape[1], shape[0])

    def xent(z, y):
        e = xp.exp(z)
        return -xp.mean(xp.log(e / xp.sum(e, axis=1, keepdims=True))[xp.arange(y.shape[0]), y])

    runners = {"NumPy": lambda: -np.mean(np.log(_numpy_softmax(z))[np.arange(len(y)), y])}
    runners.update(_lazy_pair(xent, z, y))
    if jax is not None:
        jf = jax.jit(
            lambda z, y: -jnp.mean(jax.nn.log_softmax(z, axis=1)[jnp.arange(y.shape[0]), y])
        )
        jz, jy = jnp.asarray(z), jnp.asarray(y)
        runners["JAX"] = lambda: jf(jz, jy).block_until_ready()
    return runners


def gemm(n: int) -> dict:
    """``alpha * (A.T @ B) + beta * C``: lazyarr makes it one BLAS GEMM (the transpose
    read in place, ``beta * C`` accumulated into the result); NumPy makes three passes
    over the result after its own GEMM."""
    rng = np.random.default_rng(0)
    A, B, C = (rng.standard_normal((n, n)) for _ in range(3))

    def f(A, B, C):
        return 0.5 * (A.T @ B) - 2.0 * C

    runners = {"NumPy": lambda: f(A, B, C)}
    lz = xp.jit(f)
    runners["lazyarr"] = lambda: lz(A, B, C)
    if jax is not None:
        jf, ja = jax.jit(f), [jnp.asarray(a) for a in (A, B, C)]
        runners["JAX"] = lambda: jf(*ja).block_until_ready()
    if pytensor is not None:
        sa, sb, sc = pt.dmatrix("A"), pt.dmatrix("B"), pt.dmatrix("C")
        pf = pytensor.function([sa, sb, sc], f(sa, sb, sc))
        runners["PyTensor"] = lambda: pf(A, B, C)
    return runners


def gemv(n: int) -> dict:
    """``X.T @ v``: NumPy's matmul, which lazyarr keeps, calls BLAS's GEMV with the
    transpose flag; a transposed copy first (what a library that copies would do)
    costs more than the product."""
    rng = np.random.default_rng(0)
    X, v = rng.standard_normal((n, n)), rng.standard_normal(n)
    lz = xp.jit(lambda X, v: X.T @ v)
    return {
        "NumPy": lambda: X.T @ v,
        "lazyarr": lambda: lz(X, v),
        "  copy, then": lambda: np.ascontiguousarray(X.T) @ v,
    }


# ----------------------------------------------------------------------------- stability
def _softplus_exact(v: float) -> float:
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


def _sigmoid_exact(v: float) -> float:
    e = math.exp(-abs(v))
    return 1 / (1 + e) if v >= 0 else e / (1 + e)


def stability() -> None:
    """Each expression at x = -1000 and 1000, NumPy as written, lazyarr (jit and eager)
    as written, and the exact value."""
    x = np.array([-1000.0, 1000.0])
    row = np.array([[-1000.0, 1000.0]])

    def xent(z, y, mod):
        p = 1 / (1 + mod.exp(-z))
        return -y * mod.log(p) - (1 - y) * mod.log(1 - p)

    cases = [
        ("log(1 + exp(x))", lambda v, m: m.log(1 + m.exp(v)), x, [0.0, 1000.0]),
        ("log(sum(exp(x)))", lambda v, m: m.log(m.sum(m.exp(v))), x, [1000.0]),
        (
            "log(softmax(x))",
            lambda v, m: m.log(m.exp(v) / m.sum(m.exp(v), axis=1, keepdims=True)),
            row,
            [[-2000.0, 0.0]],
        ),
        (
            "sigmoid xent, y=1",
            lambda v, m: xent(v, 1.0, m),
            x,
            [_softplus_exact(1000.0), _softplus_exact(-1000.0)],
        ),
        (
            "sigmoid xent, y=0",
            lambda v, m: xent(v, 0.0, m),
            x,
            [_softplus_exact(-1000.0), _softplus_exact(1000.0)],
        ),
    ]
    print("  at x = [-1000, 1000]      NumPy               lazyarr jit         lazyarr eager"
          "       exact")  # fmt: skip
    for title, f, arg, exact in cases:
        with np.errstate(all="ignore"):
            numpy_value = f(arg, np)
        jitted = np.asarray(xp.jit(lambda v, f=f: f(v, xp))(arg))
        eager = np.asarray(f(xp.asarray(arg), xp))
        cells = [_cell(v) for v in (numpy_value, jitted, eager, np.asarray(exact))]
        print(f"  {title:24s}" + "".join(f"{c:20s}" for c in cells))

    # Gradients: NumPy has none, so JAX's jax.grad of the same naive expressions.
    print("\n  gradient at x = [-1000, 1000]   JAX grad           lazyarr grad        exact")

    def sig(z, m):
        return m.sum(1 / (1 + m.exp(-z)))

    def soft(z, m):
        return m.sum(m.log(1 + m.exp(z)))

    grads = [
        ("d/dx sigmoid(x)", sig, [_sigmoid_exact(v) * _sigmoid_exact(-v) for v in x]),
        ("d/dx log(1 + exp(x))", soft, [_sigmoid_exact(v) for v in x]),
        (
            "d/dx sigmoid xent, y=1",
            lambda z, m: m.sum(xent(z, 1.0, m)),
            [-_sigmoid_exact(-v) for v in x],
        ),
    ]
    for title, f, exact in grads:
        theirs = "absent"
        if jax is not None:
            theirs = _cell(np.asarray(jax.grad(lambda v, f=f: f(v, jnp))(jnp.asarray(x))))
        ours = _cell(np.asarray(xp.jit(xp.grad(lambda v, f=f: f(v, xp)))(x)))
        print(f"  {title:31s}{theirs:19s}{ours:20s}{_cell(np.asarray(exact))}")


def _cell(v: np.ndarray) -> str:
    flat = np.ravel(np.asarray(v, dtype=np.float64))
    return "[" + ", ".join(f"{e:.4g}" for e in flat) + "]" if flat.size > 1 else f"{flat[0]:.4g}"


# ----------------------------------------------------------------------------- reporting
def report(title: str, runners: dict, repeats: int) -> None:
    times = time_runners(runners, repeats)
    base = times.get("NumPy")
    print(title)
    for name, t in times.items():
        ratio = f"{base / t:8.2f}x" if base else ""
        print(f"  {name:14s} {fmt_time(t)} {ratio}")


def main() -> None:
    args = ARGS
    only = set(args.only) if args.only else set(range(1, 10))
    peers = [
        name
        for name, mod in (("numexpr", ne), ("JAX", jax), ("PyTensor", pytensor))
        if mod is not None
    ]
    print(f"lazyarr {xp.__version__}, NumPy {np.__version__}; peers: {', '.join(peers) or 'none'}")
    print(f"threads: {args.threads or 'default'}; before: {machine_load()}")
    print("times: median of repeats after warm-up; ratio: NumPy's time / each one's\n")
    r = args.repeats
    for number in sorted(only):
        if number == 1:
            for n in (10**6, 10**7):
                report(f"1. x**10 (float64, n={n:,})", powers("x**10", n), r)
        elif number == 2:
            for n in (10**6, 10**7):
                report(f"2. a + a**10 (float64, n={n:,})", powers("x + x**10", n), r)
        elif number == 3:
            for shape in ((600, 10), (10_000, 1_000)):
                report(f"3. row softmax {shape} float32", rows("softmax", shape), r)
                report(f"3. row logsumexp {shape} float32", rows("logsumexp", shape), r)
        elif number == 4:
            report(
                "4. MNIST minibatch cost -mean(log(softmax(X @ W + b))[arange(n), y]),"
                " 600 x 784 -> 10 float32",
                mnist_nll(),
                r,
            )
        elif number == 5:
            for shape in ((600, 10), (10_000, 1_000)):
                report(f"5. -mean(log(p)[arange(n), y]), p {shape} float64", picked_logs(shape), r)
        elif number == 6:
            for shape in ((600, 10), (10_000, 1_000)):
                report(
                    f"6. -mean(log(softmax(z))[arange(n), y]), z {shape} float64",
                    softmax_xent(shape),
                    r,
                )
        elif number == 7:
            print("7. stability: values at x = +-1000")
            stability()
        elif number == 8:
            report("8. 0.5 * (A.T @ B) - 2.0 * C, 1000 x 1000 float64", gemm(1000), r)
        elif number == 9:
            report("9. X.T @ v, X 4000 x 4000 float64", gemv(4000), r)
        print()
    print(f"after: {machine_load()}")


if __name__ == "__main__":
    main()
