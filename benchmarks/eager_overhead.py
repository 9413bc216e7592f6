"""Per-node overhead of lazy evaluation outside jit, side by side with NumPy.

Eager use must feel immediate: for small arrays, building a node and evaluating
it should cost within 10x of calling the NumPy function directly. Each workload
builds a fresh graph every repeat (new inputs, so no cached value is reused) and
materializes it with ``np.asarray``.

    python benchmarks/eager_overhead.py
"""

from __future__ import annotations

import argparse

import numpy as np
from _harness import fmt_time, machine_load, median_time

import lazyarr as xp


def chain_numpy(a, b, depth):
    out = a
    for _ in range(depth // 2):
        out = np.add(np.multiply(out, b), a)
    return out


def chain_lazy(a, b, depth):
    out = a
    for _ in range(depth // 2):
        out = out * b + a
    return np.asarray(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 10_000])
    parser.add_argument("--depth", type=int, default=20, help="nodes per chain")
    args = parser.parse_args()
    print(f"eager overhead: lazyarr (build + evaluate) vs NumPy; {machine_load()}")
    print(f"{'workload':34s} {'NumPy':>11s} {'lazyarr':>11s} {'ratio':>7s}")
    rng = np.random.default_rng(0)
    for n in args.sizes:
        a_np, b_np = rng.standard_normal(n), rng.standard_normal(n)
        a, b = xp.asarray(a_np), xp.asarray(b_np)
        counter = iter(range(10**9))

        def fresh_single(a=a, b=b, counter=counter):
            # A new scalar each call: a new graph, so nothing comes from the node cache.
            return np.asarray(a + b * float(next(counter)))

        t_np = median_time(lambda a=a_np, b=b_np: np.add(a, np.multiply(b, 3.0)))
        t_lazy = median_time(fresh_single)
        print(
            f"{'a + b * s, n=' + str(n):34s} {fmt_time(t_np)} {fmt_time(t_lazy)} "
            f"{t_lazy / t_np:6.1f}x"
        )

        def fresh_chain(a=a, b=b, counter=counter):
            return chain_lazy(a * float(next(counter)), b, args.depth)

        t_np = median_time(lambda a=a_np, b=b_np: chain_numpy(np.multiply(a, 3.0), b, args.depth))
        t_lazy = median_time(fresh_chain)
        label = f"chain of {args.depth + 1} ops, n={n}"
        print(
            f"{label:34s} {fmt_time(t_np)} {fmt_time(t_lazy)} {t_lazy / t_np:6.1f}x"
            f"   per node: {fmt_time((t_lazy - t_np) / (args.depth + 1))} overhead"
        )


if __name__ == "__main__":
    main()
