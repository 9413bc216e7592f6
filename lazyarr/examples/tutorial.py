"""The Theano tutorial, program by program, in lazyarr.

Run with ``python -m lazyarr.examples.tutorial [name ...]``; without a name every
program runs (a few seconds), ``--list`` lists them. ``docs/theano-tutorial.md``
sets the Theano and lazyarr spellings side by side.

The translation in one paragraph: Theano's symbolic variables (``T.dscalar('x')``)
become the arguments of ordinary Python functions; ``theano.function`` becomes
``xp.jit``; ``T.grad(cost, wrt)`` becomes ``xp.grad``; ``theano.shared`` with
``updates=`` becomes ``xp.State`` assigned inside the jitted function
(``tutorial_state``); ``RandomStreams`` becomes ``xp.random.Generator``
(``tutorial_random``). Python scalars passed to a jitted function are static (part
of its signature, like a constant), so values that vary are passed as arrays:
``xp.asarray(2.0)`` is what ``T.dscalar`` was.
"""

from __future__ import annotations

import sys
import timeit
from collections.abc import Callable

import numpy as np

import lazyarr as xp


def _show(label: str, value: object) -> None:
    """Print ``label = value``, a multi-line value on the lines below."""
    text = str(value)
    print(f"{label} =" + ("\n" + text if "\n" in text else " " + text))


# ----------------------------------------------------------------------------- baby steps
def add_scalars() -> dict:
    """Adding two scalars: ``z = x + y`` compiled into ``f``, then ``u = exp(z)``."""

    @xp.jit  # theano.function([x, y], z)
    def f(x, y):
        return x + y

    x, y = xp.asarray(2.0), xp.asarray(3.0)  # T.dscalar: a float64 scalar
    z = f(x, y)
    _show("f(2, 3)", z)
    print(f"x.dtype, x.shape = {x.dtype}, {x.shape}  (Theano: TensorType(float64, scalar))")

    # theano.printing.pprint(u): the graph of u = exp(x + y), as jit optimizes it.
    @xp.jit
    def u(x, y):
        return xp.exp(x + y)

    print("the graph of u = exp(x + y):")
    print(u.lower(x, y).as_text())
    return {"f(2, 3)": float(z), "u(2, 3)": float(u(x, y))}


def add_vectors_and_matrices() -> dict:
    """The same function adds vectors and matrices: it is traced once per shape."""

    @xp.jit
    def add(x, y):
        return x + y

    # NOTE: Python lists are containers (pytrees) for jit, not arrays: pass arrays.
    v = add(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    m = add(np.array([[1.0], [2.0]]), np.array([[3.0], [4.0]]))
    _show("f2([1, 2], [3, 4])", v)
    _show("f3([[1], [2]], [[3], [4]])", m)
    return {"vector": np.asarray(v), "matrix": np.asarray(m)}


def square() -> dict:
    """``y = x ** 2`` for a scalar, a vector and a matrix (Theano's T.d*scalar/vector/matrix)."""

    @xp.jit
    def f(x):
        return x**2

    scalars = [float(f(xp.asarray(v))) for v in (1.0, 2.0, 3.0, 4.0)]
    vector = f(np.array([1.0, 2.0, 3.0]))
    matrix = f(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    print("f(1), f(2), f(3), f(4) =", *scalars)
    _show("f([1, 2, 3])", vector)
    _show("f([[1, 2, 3], [4, 5, 6]])", matrix)
    return {"scalars": scalars, "vector": np.asarray(vector), "matrix": np.asarray(matrix)}


def net_input() -> dict:
    """``z = w * x + b`` on float32 scalars (``T.scalar(dtype='float32')``)."""

    @xp.jit
    def net_input(w, x, b):
        return w * x + b

    z = net_input(*(xp.asarray(v, dtype=xp.float32) for v in (2.0, 3.0, 0.5)))
    print(f"net_input: {float(z):2f}  ({z.dtype})")
    return {"net_input(2, 3, 0.5)": float(z)}


def several_outputs() -> dict:
    """A function of two inputs with two results: ``[x + y, x * y]``."""

    @xp.jit
    def f(x, y):
        return x + y, x * y

    z1, z2 = f(xp.asarray(2.0, dtype=xp.float32), xp.asarray(3.0, dtype=xp.float32))
    print("f(2, 3) =", [z1, z2])
    return {"sum": float(z1), "product": float(z2)}


def broadcast_row() -> dict:
    """A row (1, 2) added to a matrix (3, 2): NumPy broadcasting, no ``T.row`` needed."""

    @xp.jit
    def f_row(r, m):
        return r + m

    R = np.arange(1.0, 3.0).reshape(1, 2)  # noqa: N806 - the tutorial's names
    M = np.arange(1.0, 7.0).reshape(3, 2)  # noqa: N806
    out = f_row(R, M)
    _show("f_row(R, M)", out)
    return {"out": np.asarray(out)}


def sin_cos() -> dict:
    """``sin(x)**2 + cos(x)**2 == 1`` for x in degrees (Theano's ``T.deg2rad``)."""

    @xp.jit
    def f(degrees):
        x = degrees * (xp.pi / 180)  # deg2rad: not in the array API, one multiplication
        return xp.sin(x) ** 2 + xp.cos(x) ** 2

    values = [float(f(xp.asarray(float(d)))) for d in (0, 30, 45, 60, 90)]
    for d, v in zip((0, 30, 45, 60, 90), values):
        print(f"f({d}) = {v}")
    return {"values": values}


# ----------------------------------------------------------------------------- more examples
def logistic() -> dict:
    """The logistic function, elementwise on a matrix, and the same numbers via tanh."""

    @xp.jit
    def logistic(x):
        return 1 / (1 + xp.exp(-x))

    @xp.jit
    def logistic2(x):
        return (1 + xp.tanh(x / 2)) / 2

    m = np.array([[0.0, 1.0], [-1.0, -2.0]])
    s1, s2 = logistic(m), logistic2(m)
    _show("logistic([[0, 1], [-1, -2]])", s1)
    _show("logistic2([[0, 1], [-1, -2]])", s2)
    # The same jitted function takes a scalar and a vector (one trace per shape).
    scalar = logistic(xp.asarray(1.0))
    vector = logistic(np.array([0.0, 1.0]))
    _show("logistic(1)", scalar)
    _show("logistic([0, 1])", vector)
    return {
        "matrix": np.asarray(s1),
        "tanh": np.asarray(s2),
        "scalar": float(scalar),
        "vector": np.asarray(vector),
    }


def default_value() -> dict:
    """Default argument values: Theano's ``In(y, value=3)`` is a Python default."""

    @xp.jit
    def f(x, y=3.0):  # left out, y is 3.0: a constant of the compiled program
        return x + y

    one = f(xp.asarray(1.0))
    two = f(xp.asarray(1.0), xp.asarray(2.0))
    _show("f(1)", one)
    _show("f(1, 2)", two)
    return {"f(1)": float(one), "f(1, 2)": float(two)}


def power10(n: int = 10_000_000, repeat: int = 3) -> dict:
    """``a + a ** 10`` (its optimized graph), and ``x ** 10`` timed against NumPy."""

    @xp.jit
    def f(a):
        return a + a**10

    a = np.array([0.0, 1.0, 2.0])
    print("f([0, 1, 2]) =", f(a))
    lowered = f.lower(a)
    print("its optimized graph, one fused loop (theano.printing.pydotprint(f)):")
    print(lowered.as_text())
    # The loop's body in the generated C: x**10 is a chain of multiplications.
    body = [line.strip() for line in lowered.source().splitlines() if " v0 = " in line]
    if body:
        print("in C:", body[0])

    @xp.jit
    def pow10(x):
        return x**10

    x = np.ones(n)
    pow10(x)  # the first call traces and compiles; time the later ones
    t_numpy = min(timeit.repeat(lambda: x**10, number=1, repeat=repeat))
    t_lazyarr = min(timeit.repeat(lambda: pow10(x), number=1, repeat=repeat))
    print(
        f"x = np.ones({n:,}): NumPy x**10 {t_numpy * 1e3:.1f} ms, jitted {t_lazyarr * 1e3:.1f} ms"
    )
    return {"f([0, 1, 2])": np.asarray(f(a)), "numpy_s": t_numpy, "lazyarr_s": t_lazyarr}


# ----------------------------------------------------------------------------- gradients
def grad_square() -> dict:
    """``T.grad(x ** 2, x)``: the gradient is a graph; jit compiles it to ``2 * x``."""
    # Theano style: differentiate a lazy expression with respect to one of its leaves.
    x = xp.asarray(4.0)
    gy = xp.grad(x**2, x)
    _show("gy at x = 4", gy)

    # Function style: theano.function([x], gy) is jit of grad of a function.
    f = xp.jit(xp.grad(lambda x: x**2))
    print("the graph of f (theano.pp(f.maker.fgraph.outputs[0])):")
    print(f.lower(xp.asarray(4.0)).as_text())
    values = [float(f(xp.asarray(v))) for v in (2.0, 3.0, 4.0)]
    print("f(2), f(3), f(4) =", *values)
    at = float(f(xp.asarray(94.2)))
    print("np.allclose(f(94.2), 188.4):", np.allclose(at, 188.4))
    return {"gy(4)": float(gy), "values": values, "f(94.2)": at}


def grad_logistic(n: int = 100) -> dict:
    """The logistic function and its derivative, ``s * (1 - s)``, on [-5, 5]."""

    def logistic(x):
        return 1 / (1 + xp.exp(-x))

    dlogistic = xp.jit(xp.grad(logistic))
    f = dlogistic(xp.asarray(3.0, dtype=xp.float32))
    print(f"dlogistic(3) = {float(f):.9f}  ({f.dtype})")

    # The tutorial plots both on np.linspace(-5, 5, 100), one call per point; every
    # NumPy scalar has the same signature, so the function is traced once.
    xx = np.linspace(-5, 5, n)
    y1 = np.hstack([np.asarray(xp.jit(logistic)(xi)) for xi in xx])
    y2 = np.hstack([np.asarray(dlogistic(xi)) for xi in xx])
    # Or all points at once: the derivative of the sum is the elementwise derivative.
    y2_vector = np.asarray(xp.jit(xp.grad(lambda x: xp.sum(logistic(x))))(xx))
    print(f"max of the derivative on [-5, 5]: {y2.max():.4f} at x = {xx[y2.argmax()]:.3f}")
    print("one vectorized call agrees:", np.allclose(y2, y2_vector))
    return {"dlogistic(3)": float(f), "x": xx, "logistic": y1, "derivative": y2}


def grad_sin() -> dict:
    """``T.grad(sin(x), x)`` is ``cos(x)``."""
    f = xp.jit(xp.grad(xp.sin))
    print(f.lower(xp.asarray(0.0)).as_text())
    values = [float(f(xp.asarray(v))) for v in (0.0, np.pi / 2, np.pi)]
    print("f(0), f(pi/2), f(pi) =", *values)
    return {"values": values}


def grad_polynomial() -> dict:
    """``d/dx (x - 4)(x**2 + 6) = 3x**2 - 8x + 6``."""
    f = xp.jit(xp.grad(lambda x: (x - 4) * (x**2 + 6)))
    print(f.lower(xp.asarray(0.0)).as_text())
    values = [float(f(xp.asarray(v))) for v in (0.0, 1.0, 2.0)]
    print("f(0), f(1), f(2) =", *values)
    return {"values": values}


def grad_partial() -> dict:
    """Partial derivatives of ``z = (x + 2y)**2``: ``2(x + 2y)`` and ``4(x + 2y)``."""

    def z(x, y):
        return (x + 2 * y) ** 2

    fgx = xp.jit(xp.grad(z, argnums=0))
    fgy = xp.jit(xp.grad(z, argnums=1))
    points = [(1.0, 2.0), (2.0, 2.0)]
    gx = [float(fgx(xp.asarray(x), xp.asarray(y))) for x, y in points]
    gy = [float(fgy(xp.asarray(x), xp.asarray(y))) for x, y in points]
    print("fgx(1, 2), fgx(2, 2) =", *gx)
    print("fgy(1, 2), fgy(2, 2) =", *gy)
    # Both partials from one compiled function: T.grad(z, [x, y]).
    both = xp.jit(xp.grad(z, argnums=(0, 1)))(xp.asarray(1.0), xp.asarray(2.0))
    print("grad(z, argnums=(0, 1))(1, 2) =", tuple(float(g) for g in both))
    return {"fgx": gx, "fgy": gy}


# ----------------------------------------------------------------------------- the catalogue
def _programs() -> dict[str, Callable[[], object]]:
    from . import tutorial_random, tutorial_state

    return {
        "add_scalars": add_scalars,
        "add_vectors_and_matrices": add_vectors_and_matrices,
        "square": square,
        "net_input": net_input,
        "several_outputs": several_outputs,
        "broadcast_row": broadcast_row,
        "sin_cos": sin_cos,
        "logistic": logistic,
        "default_value": default_value,
        "power10": power10,
        "grad_square": grad_square,
        "grad_logistic": grad_logistic,
        "grad_sin": grad_sin,
        "grad_polynomial": grad_polynomial,
        "grad_partial": grad_partial,
        **tutorial_state.PROGRAMS,
        **tutorial_random.PROGRAMS,
    }


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    programs = _programs()
    if argv == ["--list"]:
        for name, program in programs.items():
            print(f"{name:28} {(program.__doc__ or '').splitlines()[0]}")
        return
    unknown = [name for name in argv if name not in programs]
    if unknown:
        sys.exit(f"unknown program {', '.join(unknown)}; one of: {', '.join(programs)}")
    for name in argv or programs:
        doc = (programs[name].__doc__ or "").splitlines()[0]
        print(f"\n== {name}: {doc}")
        programs[name]()


if __name__ == "__main__":
    main()
