"""A tour of lazy arrays: graphs are built, shared, and computed only when needed.

Run with ``python -m lazyarr.examples.basics``.
"""

from __future__ import annotations

import time

import numpy as np

import lazyarr as xp


def main() -> None:
    print(f"lazyarr {xp.__version__}, array API {xp.__array_api_version__}")

    # Nothing is computed while an expression is written, however large it is.
    t = time.perf_counter()
    huge = xp.ones((10**6, 10**6)) * 2 + 1
    print(
        f"built a {huge.shape} float64 expression ({huge.size * 8 / 1e12:.0f} TB if "
        f"materialized) in {(time.perf_counter() - t) * 1e6:.0f} µs, using no memory"
    )
    print("its corner, computed on demand:", huge[:2, :3])

    # The tutorial's first examples: scalars, vectors and matrices added lazily.
    x, y = xp.asarray(2.0), xp.asarray(3.0)
    print("2 + 3 =", float(x + y))
    a = xp.asarray([[1.0, 2.0], [3.0, 4.0]])
    b = xp.asarray([[10.0, 20.0], [30.0, 40.0]])
    print("matrix sum:\n", a + b)

    # The logistic function, elementwise, and via tanh: the same numbers.
    m = xp.asarray([[0.0, 1.0], [-1.0, -2.0]])
    s1 = 1 / (1 + xp.exp(-m))
    s2 = (1 + xp.tanh(m / 2)) / 2
    print("logistic:\n", s1)
    print("max |logistic - (1 + tanh(x/2))/2| =", float(xp.max(xp.abs(s1 - s2))))

    # Equal expressions are one graph node: shared work is done once.
    v = xp.linspace(0.0, 1.0, 1_000_001)
    e1, e2 = xp.exp(v) + v**10, xp.exp(v) + v**10
    print("equal expressions share one node:", e1._node is e2._node)
    total, peak = xp.compute(xp.sum(e1), xp.max(e1))
    print(f"sum = {float(total):.6f}, max = {float(peak):.6f}")

    # NumPy agrees (NumPy is the reference every lazyarr backend is tested against).
    vn = np.linspace(0.0, 1.0, 1_000_001)
    print("NumPy agrees:", np.allclose(np.asarray(e1), np.exp(vn) + vn**10))

    # Mistakes are reported where they are written, not when evaluated.
    try:
        xp.ones((2, 3)) + xp.ones((4,))
    except ValueError as err:
        print("shape error, reported at the user's line:\n ", err)


if __name__ == "__main__":
    main()
