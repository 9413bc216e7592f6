"""``xp.jit``: tracing per signature, caching, pytrees, tracing errors and debugging switches.

Every result is compared with the same Python function run eagerly (without jit).
Each distinct kernel structure and dtype compiles a C library, so the tests reuse a
few jitted functions where they can.
"""

from __future__ import annotations

import collections
import functools
import logging
import operator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import lazyarr as xp
from lazyarr import config
from lazyarr._errors import TracerConversionError
from lazyarr.compile import c_backend
from tests.helpers import assert_matches, next_line

pytestmark = pytest.mark.usefixtures("private_cache_dir")


@pytest.fixture
def compile_log(monkeypatch, caplog):
    """Turn LAZYARR_LOG_COMPILES on for one test, and the logger back as it was after."""
    log = logging.getLogger("lazyarr")
    level, handlers, handler = log.level, list(log.handlers), config._handler
    monkeypatch.setenv("LAZYARR_LOG_COMPILES", "1")
    caplog.set_level(logging.INFO, logger="lazyarr")
    yield caplog
    log.setLevel(level)
    for h in log.handlers:
        if h not in handlers:
            log.removeHandler(h)
    config._handler = handler


Pair = collections.namedtuple("Pair", ["left", "right"])


def counted(fun):
    """``fun`` with a count of how often its Python body ran (``.runs``)."""

    @functools.wraps(fun)
    def body(*args, **kwargs):
        body.runs += 1
        return fun(*args, **kwargs)

    body.runs = 0
    return body


def affine(x, y):
    return xp.exp(x) * y + 1


def rng_array(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def check(result, expected, rtol=1e-12):
    """A jit result equals the eager one (an Array, or a NumPy array)."""
    assert isinstance(result, xp.Array), type(result)
    assert_matches(result, np.asarray(expected), rtol=rtol)


# ----------------------------------------------------------------------------- decorating
def test_decorator_with_and_without_arguments():
    @xp.jit
    def plain(x, y):
        return affine(x, y)

    @xp.jit()
    def called(x, y):
        return affine(x, y)

    @xp.jit(static_argnames="y")
    def with_static(x, y):
        return affine(x, y)

    a = rng_array((3, 4))
    expected = affine(xp.asarray(a), 2.0)
    for f in (plain, called, with_static, xp.jit(affine)):
        assert isinstance(f, xp.jit(affine).__class__)
        check(f(a, 2.0), expected)
        check(f(xp.asarray(a), y=2.0), expected)
    with pytest.raises(TypeError, match="expected a function"):
        xp.jit(3)


def test_functools_wraps_metadata_is_kept():
    def documented(x):
        """Twice x."""
        return x * 2

    f = xp.jit(documented)
    assert f.__name__ == "documented"
    assert f.__doc__ == "Twice x."
    assert f.__qualname__ == documented.__qualname__
    assert f.__wrapped__ is documented
    assert "documented" in repr(f)


def test_jit_of_a_partial_and_of_a_callable_object():
    class Twice:
        def __call__(self, x):
            return x * 2

    a = rng_array((3,))
    check(xp.jit(functools.partial(affine, y=2.0))(a), np.exp(a) * 2.0 + 1)
    check(xp.jit(Twice())(a), a * 2)
    with pytest.raises(TypeError, match="static"):
        xp.jit(Twice())({1, 2})  # unhashable, not an array: cannot key a trace
    assert xp.jit(Twice())("ab") == "abab"  # hashable objects are static arguments


# ----------------------------------------------------------------------------- static args
def test_static_argnums_and_argnames_change_the_trace():
    @functools.partial(xp.jit, static_argnums=1, static_argnames=("mode",))
    @counted
    def power(x, n, *, mode="sum"):
        y = x
        for _ in range(n - 1):  # Python control flow on static arguments
            y = y * x
        return xp.sum(y) if mode == "sum" else y

    body = power.__wrapped__
    a = np.arange(1.0, 5.0)
    check(power(a, 3), np.sum(a**3))
    check(power(a, 3, mode="each"), a**3)
    check(power(a, 2, mode="each"), a**2)
    assert body.runs == 3
    check(power(xp.asarray(a), 3, mode="each"), a**3)
    check(power(x=a, n=2, mode="each"), a**2)
    check(power(a, 3), np.sum(a**3))
    assert body.runs == 3
    # a negative index counts from the end
    neg = xp.jit(lambda x, n: x * n, static_argnums=-1)
    check(neg(a, 4), a * 4)


def test_static_values_of_different_types_are_different_signatures():
    # 1 == 1.0 == True (and they hash alike), but they give different results.
    scale = xp.jit(lambda x, n: x * n, static_argnames="n")
    a = xp.asarray([1, 2])
    for n in (1, 1.0, True, 1 + 0j):
        check(scale(a, n=n), a * n)


@pytest.mark.parametrize("static", [[1, 2], {"a": 1}, np.arange(2)], ids=type)
def test_unhashable_static_argument_is_a_type_error(static):
    f = xp.jit(lambda x, s: x, static_argnums=1)
    with pytest.raises(TypeError, match="hashable") as info:
        where = next_line()
        f(xp.asarray(1.0), static)
    assert f"(at {where})" in str(info.value)


def test_bad_static_argument_names_are_value_errors():
    def f(x, y):
        return x + y

    with pytest.raises(ValueError, match="'z'"):
        xp.jit(f, static_argnames=("z",))
    with pytest.raises(ValueError, match="out of range"):
        xp.jit(f, static_argnums=2)
    with pytest.raises(ValueError, match="out of range"):
        xp.jit(f, static_argnums=-3)


def test_defaulted_parameters_need_not_be_arrays_when_static_args_are_declared():
    # Without static arguments, a defaulted string parameter that is not passed is fine;
    # declaring another argument static must not make it an (unsupported) dynamic leaf.
    def scaled(x, n, label="scaled"):
        assert label == "scaled"
        return x * n

    a = xp.asarray([1.0, 2.0])
    check(xp.jit(scaled)(a, 3), a * 3)
    check(xp.jit(scaled, static_argnames="n")(a, 3), a * 3)


# ----------------------------------------------------------------------------- pytrees
def tree_function(params, batch, *, scale, extra=None):
    w, b = params["w"], params["b"]
    hidden = batch.left @ w + b
    out = {
        "sum": xp.sum(hidden * scale, axis=0),
        "pair": Pair(hidden, [batch.right * 2, None]),
        "meta": (hidden.shape[0], "tag", None),
    }
    if extra is not None:
        out["extra"] = extra[0] - extra[1]
    return out


def test_nested_arguments_and_results():
    f = xp.jit(tree_function)
    params = {"w": rng_array((4, 3)), "b": xp.asarray(rng_array((3,), seed=1))}
    batch = Pair(xp.asarray(rng_array((5, 4), seed=2)), rng_array((2,), seed=3))
    extra = [np.array(1.5), xp.asarray([0.25, 0.5])]
    for kwargs in ({"scale": 0.5}, {"scale": 0.5, "extra": extra}):
        got = f(params, batch, **kwargs)
        expected = tree_function(params, batch, **kwargs)
        assert set(got) == set(expected)
        check(got["sum"], expected["sum"])
        assert isinstance(got["pair"], Pair)
        check(got["pair"].left, expected["pair"].left)
        assert isinstance(got["pair"].right, list) and got["pair"].right[1] is None
        check(got["pair"].right[0], expected["pair"].right[0])
        assert got["meta"] == (5, "tag", None)
        if "extra" in kwargs:
            check(got["extra"], expected["extra"])
    # keyword order does not matter; a new structure traces again but still agrees
    got = f(batch=batch, scale=0.5, params=params)
    check(got["sum"], tree_function(params, batch, scale=0.5)["sum"])


def test_keyword_only_and_positional_arguments_by_name():
    @xp.jit
    def f(x, y=None, *, z):
        return x * z if y is None else x * z + y

    a = rng_array((3,))
    check(f(a, z=2.0), a * 2.0)
    check(f(a, a, z=3.0), a * 3.0 + a)
    check(f(x=a, y=xp.asarray(a), z=3.0), a * 3.0 + a)


def test_results_of_python_values_only_and_numpy_arrays():
    const = np.arange(3.0)

    @xp.jit
    def f(x):
        return x.ndim, None, const, [np.float32(2.5)]

    ndim, none, c, (s,) = f(np.zeros((2, 2)))
    assert (ndim, none) == (2, None)
    check(c, const)
    check(s, np.float32(2.5))


# ----------------------------------------------------------------------------- closures
def test_closures_over_lazy_and_computed_arrays_and_numpy_constants():
    computed = xp.asarray([1.0, 2.0, 3.0])
    np.asarray(computed)
    lazy = xp.exp(xp.asarray([0.5, -0.5, 0.0]))
    assert lazy._node.value is None
    constant = np.array([10.0, 20.0, 30.0])

    def body(x):
        return (x + computed) * lazy - constant, lazy

    f = xp.jit(body)
    a = rng_array((2, 3))
    got, same = f(a)
    expected, _ = body(xp.asarray(a))
    check(got, expected)
    check(same, np.exp([0.5, -0.5, 0.0]))
    check(lazy, np.exp([0.5, -0.5, 0.0]))  # the closed-over array is still usable
    check(f(a + 1)[0], body(xp.asarray(a + 1))[0])


# ----------------------------------------------------------------------------- buffers
def test_a_returned_input_is_not_the_callers_buffer():
    f = xp.jit(lambda x, y: (x, y, x))
    a = np.array([1.0, 2.0])
    b = xp.asarray([3.0, 4.0])
    x1, y1, x2 = f(a, b)
    check(x1, [1.0, 2.0])
    check(y1, [3.0, 4.0])
    assert not np.shares_memory(np.asarray(x1), a)
    assert not np.asarray(x1).flags.writeable
    assert y1 is not b
    a[0] = 99.0
    check(x1, [1.0, 2.0])
    check(x2, [1.0, 2.0])


@pytest.mark.parametrize(
    "view",
    [lambda x: x.T, lambda x: x[1:], lambda x: xp.reshape(x, (-1,))],
    ids=["transpose", "slice", "reshape"],
)
def test_a_returned_view_of_an_input_does_not_alias_the_callers_buffer(view):
    f = xp.jit(view)
    a = np.arange(6.0).reshape(2, 3)
    got = f(a)
    expected = np.asarray(view(xp.asarray(a.copy())))
    a[...] = -1.0  # the caller goes on using its array
    check(got, expected)


# ----------------------------------------------------------------------------- caching
def test_the_same_signature_does_not_trace_again():
    body = counted(affine)
    f = xp.jit(body)
    a = rng_array((4, 5))
    for y in (2.0, 2.0):
        check(f(a, y), affine(xp.asarray(a), y))
    check(f(xp.asarray(a + 1), 2.0), affine(xp.asarray(a + 1), 2.0))  # Array or NumPy: same
    assert body.runs == 1
    f(a, 3.0)  # a Python scalar is static by value
    assert body.runs == 2
    f(a.astype(np.float32), 3.0)
    assert body.runs == 3


def test_arrays_and_numpy_arrays_mixed_take_the_fast_path():
    """Positional NumPy arrays and Arrays, mixed, are looked up without pytrees; an
    Array whose value is not computed yet is computed first; a NumPy array of the
    other byte order misses that lookup and is converted to the native order."""
    body = counted(lambda x, w, b: (x @ w + b, xp.sum(w)))
    f = xp.jit(body)
    x, w, b = rng_array((3, 4)), rng_array((4,), seed=1), rng_array((), seed=2)
    want = (x @ w + b, np.sum(w))
    for args in ((x, xp.asarray(w), b), (x, xp.asarray(w), xp.asarray(b))):
        for _ in range(2):
            for got, expected in zip(f(*args), want):
                check(got, expected)
    lazy_w = xp.asarray(w) * 1.0  # a graph: computed when the call needs it
    for got, expected in zip(f(x, lazy_w, xp.asarray(b)), want):
        check(got, expected)
    assert body.runs == 1
    swapped = x.astype(x.dtype.newbyteorder())
    for got, expected in zip(f(swapped, xp.asarray(w), b), want):
        check(got, expected)
    assert body.runs == 1


def test_a_new_shape_traces_again_but_compiles_nothing(compile_log):
    body = counted(affine)
    f = xp.jit(body)
    big, small = rng_array((600, 784)), rng_array((400, 784), seed=1)
    check(f(big, 0.5), affine(xp.asarray(big), 0.5))
    before = c_backend.compiles
    compile_log.clear()
    check(f(small, 0.5), affine(xp.asarray(small), 0.5))
    assert body.runs == 2
    assert c_backend.compiles == before
    messages = [r.getMessage() for r in compile_log.records if r.name == "lazyarr"]
    assert any(
        "new shape for argument x: (600, 784) → (400, 784); kernels reused" in m for m in messages
    ), messages
    # another rank (not 0-d) also reuses the kernels: they take sizes and strides
    vector = rng_array((7,), seed=2)
    check(f(vector, 0.5), affine(xp.asarray(vector), 0.5))
    assert c_backend.compiles == before


def test_the_log_names_the_argument_whose_shape_changed(compile_log):
    # x is the only argument that changed; the log names it, not a leaf index.
    f = xp.jit(lambda n, y, x: x * n + y, static_argnums=0)
    g = xp.jit(lambda pair, x: x + pair[1])
    for fun, first, second in (
        (f, (2, np.ones(3), np.ones(3)), (2, np.ones(3), np.ones((2, 3)))),
        (g, ((np.ones(3), np.ones(3)), np.ones(3)), ((np.ones(3), np.ones(3)), np.ones((2, 3)))),
    ):
        fun(*first)
        compile_log.clear()
        fun(*second)
        (message,) = [r.getMessage() for r in compile_log.records if "traced" in r.getMessage()]
        assert "(3,) → (2, 3)" in message
        assert "argument x:" in message, message


def unusual(x):
    """A kernel structure no other test compiles, so its first call must compile."""
    return xp.tanh(xp.expm1(x) * xp.log1p(xp.abs(x))) + xp.cosh(x) * 2.0


def test_a_new_dtype_or_a_0d_argument_compiles(compile_log):
    f = xp.jit(unusual)
    a = rng_array((3, 2))
    before = c_backend.compiles
    check(f(a), unusual(xp.asarray(a)))
    assert c_backend.compiles == before + 1
    messages = [r.getMessage() for r in compile_log.records if r.name == "lazyarr"]
    assert any("first call; 1 kernel library compiled" in m for m in messages), messages
    compile_log.clear()
    check(f(a.astype(np.float32)), unusual(xp.asarray(a.astype(np.float32))), rtol=1e-5)
    assert c_backend.compiles == before + 2
    messages = [r.getMessage() for r in compile_log.records if r.name == "lazyarr"]
    assert any("new dtype for argument x: float64 → float32" in m for m in messages), messages
    check(f(np.array(0.75)), unusual(xp.asarray(0.75)))  # 0-d reads differ in C
    assert c_backend.compiles == before + 3


def test_python_scalar_arguments_are_static_by_value(compile_log):
    body = counted(affine)
    f = xp.jit(body)
    a = rng_array((3,))
    check(f(a, 2.0), affine(xp.asarray(a), 2.0))
    before = c_backend.compiles
    compile_log.clear()
    check(f(a, 5.0), affine(xp.asarray(a), 5.0))
    assert body.runs == 2
    assert c_backend.compiles == before
    messages = [r.getMessage() for r in compile_log.records if r.name == "lazyarr"]
    assert any("new value for argument y: 2.0 → 5.0; kernels reused" in m for m in messages)
    check(f(a, float("nan")), affine(xp.asarray(a), float("nan")))
    check(f(a, float("nan")), affine(xp.asarray(a), float("nan")))
    assert body.runs == 3  # NaN finds its own trace again
    check(f(a, 2), affine(xp.asarray(a), 2))  # an int is another signature than 2.0
    assert body.runs == 4


def test_signed_zero_scalar_arguments_are_different_values():
    f = xp.jit(lambda x, s: x * s)
    a = xp.asarray([1.0, 2.0])
    check(f(a, 0.0), a * 0.0, rtol=None)
    check(f(a, -0.0), a * -0.0, rtol=None)  # exact: the signs of zeros are compared


def test_numpy_scalar_arguments_are_arrays_not_static_values():
    # np.float64 is a subclass of float: its value must not be baked into the trace
    # under a key that only holds its shape and dtype.
    f = xp.jit(lambda x, s: x * xp.asarray(s))
    a = xp.asarray([1.0, 2.0])
    for s in (np.float64(2.0), np.float64(3.0), np.complex128(1j), np.complex128(2j)):
        check(f(a, s), a * xp.asarray(s))


# ----------------------------------------------------------------------------- tracing errors
@pytest.mark.parametrize(
    "convert",
    [bool, int, float, operator.index, np.asarray],
    ids=["bool", "int", "float", "index", "asarray"],
)
def test_concrete_value_of_a_traced_array_is_an_error_naming_the_line(convert):
    where = []

    def body(x):
        where.append(next_line())
        convert(x)
        return x

    f = xp.jit(body)
    with pytest.raises(TracerConversionError) as info:
        f(xp.asarray(3))
    assert isinstance(info.value, TypeError)
    message = str(info.value)
    assert f"(at {where[0]})" in message
    assert "xp.where" in message and "static_argnames" in message
    # the failed trace leaves nothing behind: eagerly, and after a fix, all is well
    convert(body(xp.asarray(3)))
    with xp.disable_jit():
        f(xp.asarray(3))


def test_python_if_on_a_traced_array_is_an_error_naming_the_line():
    where = []

    def relu(x):
        where.append(next_line())
        if x > 0:
            return x
        return -x

    with pytest.raises(TracerConversionError, match=r"xp\.where") as info:
        xp.jit(relu)(xp.asarray(1.0))
    assert f"(at {where[0]})" in str(info.value)
    fixed = xp.jit(lambda x: xp.where(x > 0, x, -x))
    check(fixed(np.array([-1.0, 2.0])), [1.0, 2.0])


def test_python_control_flow_on_shapes_and_static_arguments():
    @functools.partial(xp.jit, static_argnames="axis")
    def normalize(x, axis=None):
        if x.ndim == 1 or axis is None:
            return x / xp.sum(x)
        if x.shape[axis] == 1:
            return x
        return x / xp.sum(x, axis=axis, keepdims=True)

    a = rng_array((3, 4)) ** 2
    check(normalize(a), a / a.sum())
    check(normalize(a, axis=1), a / a.sum(1, keepdims=True))
    check(normalize(a[:, :1], axis=1), a[:, :1])
    check(normalize(a[0]), a[0] / a[0].sum())


def test_repr_and_print_of_a_traced_array_work(capsys):
    seen = []

    @xp.jit
    def f(x):
        seen.append(repr(x))
        print(x, f"{x}", str(x))
        return x + 1

    check(f(np.zeros((2, 3), np.float32)), np.ones((2, 3), np.float32))
    assert "(2, 3)" in seen[0] and "float32" in seen[0]
    assert "float32" in capsys.readouterr().out


def test_a_leaked_traced_array_has_no_value_later():
    leaked = []

    @xp.jit
    def f(x):
        leaked.append(x)
        return x * 2

    check(f(np.ones(2)), [2.0, 2.0])
    (tracer,) = leaked
    assert "traced" in repr(tracer)
    with pytest.raises(TracerConversionError) as info:
        where = next_line()
        np.asarray(tracer)
    assert f"(at {where})" in str(info.value)
    with pytest.raises(ValueError, match="another trace"):
        xp.jit(lambda y: y + tracer)(np.ones(2))


# ----------------------------------------------------------------------------- disabling jit
@pytest.mark.parametrize("how", ["env", "context"])
def test_disabling_jit_runs_the_python_body_on_every_call(how, monkeypatch):
    body = counted(affine)
    f = xp.jit(body)
    a = xp.asarray(rng_array((3, 2)))
    jitted = f(a, 2.0)
    assert body.runs == 1
    if how == "env":
        monkeypatch.setenv("LAZYARR_DISABLE_JIT", "1")
        results = [f(a, 2.0) for _ in range(3)]
        monkeypatch.delenv("LAZYARR_DISABLE_JIT")
    else:
        with xp.disable_jit():
            results = [f(a, 2.0) for _ in range(3)]
    assert body.runs == 4  # a breakpoint in the body would have been hit each time
    for r in results:
        check(r, jitted)
    f(a, 2.0)
    assert body.runs == 4  # back to the compiled program


def test_disabled_jit_also_runs_inside_a_trace_and_nested_contexts():
    with xp.disable_jit():
        with xp.disable_jit(False):
            body = counted(affine)
            f = xp.jit(body)
            f(rng_array((2,)), 1.0)
            f(rng_array((2,)), 1.0)
            assert body.runs == 1
        f(rng_array((2,)), 1.0)
        assert body.runs == 2


def test_disabled_jit_gives_arrays_for_numpy_arguments_as_jit_does():
    # The body sees what it sees when traced (Arrays) and returns Arrays either way.
    f = xp.jit(lambda x: (x * 2, x))
    a = np.array([1.0, 2.0])
    with xp.disable_jit():
        twice, same = f(a)
    check(twice, [2.0, 4.0])
    check(same, [1.0, 2.0])


# ----------------------------------------------------------------------------- lowering
def test_lower_shows_the_graph_and_the_c_source():
    @xp.jit
    def f(x, y):
        return xp.sin(x) * y + xp.sort(x, axis=-1)

    lowered = f.lower(np.ones((2, 3)), np.ones((2, 3)))
    text = lowered.as_text()
    assert text.count("= input : float64[2, 3]") == 2
    assert "[numpy]" in text and "sort(" in text
    assert "[c lz_" in text and "sin(" in text
    assert text.splitlines()[-1].startswith("return (")
    assert __file__ in text  # each node names the line that built it
    assert "void lz_" in lowered.source()
    assert isinstance(lowered, xp.Lowered)
    numpy_only = xp.jit(lambda x: xp.sort(x)).lower(xp.ones(3))
    assert "[numpy]" in numpy_only.as_text() and "[c " not in numpy_only.as_text()
    assert numpy_only.source() == ""


# ----------------------------------------------------------------------------- threads
def test_many_threads_calling_one_function_with_several_shapes():
    body = counted(lambda x, y: xp.sin(x) * y + xp.sum(x, axis=-1, keepdims=True))
    f = xp.jit(body)
    shapes = [(3,), (5, 4), (2, 7), (16,), (1, 9), (3, 1, 2)]
    data = [(rng_array(s, seed=i), rng_array(s, seed=i + 50)) for i, s in enumerate(shapes)]
    expected = [np.sin(x) * y + x.sum(-1, keepdims=True) for x, y in data]

    def call(i):
        k = i % len(shapes)
        x, y = data[k]
        got = f(xp.asarray(x) if i % 2 else x, y)
        return k, got

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(call, range(300)))
    for k, got in results:
        check(got, expected[k])
    assert body.runs == len(shapes)


def test_threads_tracing_different_functions_at_once():
    def make(k):
        return xp.jit(lambda x: xp.exp(x) * y_scale[k] - k)

    y_scale = [float(k) for k in range(16)]
    a = rng_array((4, 4))

    def call(k):
        return make(k)(a)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(call, range(16)))
    for k, got in enumerate(results):
        check(got, np.exp(a) * y_scale[k] - k)


def test_concurrent_calls_get_their_own_read_only_results():
    """The per-call fast path (one kernel, fresh result) from many threads: every result
    is right, read-only, and shares memory with no other result nor any argument."""
    f = xp.jit(lambda a, b: a + b)
    data = [(np.full(n, float(i)), np.full(n, 0.5)) for i, n in enumerate([1, 1, 3, 1000] * 4)]

    def call(i):
        a, b = data[i % len(data)]
        return i % len(data), f(a, b)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(call, range(400)))
    values = [np.asarray(got) for _, got in results]
    for (k, _), value in zip(results, values):
        np.testing.assert_array_equal(value, data[k][0] + 0.5)
        assert not value.flags.writeable
        assert not any(np.may_share_memory(value, a) for pair in data for a in pair)
    assert len({v.__array_interface__["data"][0] for v in values}) == len(values)


# ----------------------------------------------------------------------------- launcher
LAUNCHER_TEST_SOURCE = """
#include <stdint.h>
void lz_test_add_one(int64_t ndim, const int64_t *shape, const int64_t *strides, void *out,
                     int64_t nthreads, int64_t parallel_min, const void *arg0, void *out1) {
    for (int64_t i = 0; i < shape[0]; i++) {
        ((double *)out)[i] = ((const double *)arg0)[i] + 1;
        ((double *)out1)[i] = ((const double *)arg0)[i] * strides[0];
    }
}
"""


@pytest.fixture(scope="module")
def launch_add_one():
    """``launch`` bound to a two-output kernel: ``launch(out, x, out1)``."""
    launch = c_backend.launcher()
    if launch is None:
        pytest.skip("no launcher: Python's or NumPy's headers are missing")
    signature = (
        "void lz_test_add_one(int64_t ndim, const int64_t *shape, const int64_t *strides, "
        "void *out, int64_t nthreads, int64_t parallel_min, const void *arg0, void *out1)"
    )
    lib = c_backend.load(LAUNCHER_TEST_SOURCE, [signature])
    ffi = c_backend._ffi
    shape, strides = ffi.new("int64_t[]", [3]), ffi.new("int64_t[]", [2])
    address = int(ffi.cast("uintptr_t", lib.lz_test_add_one))

    def call(*arrays):
        pointers = (int(ffi.cast("uintptr_t", p)) for p in (shape, strides))
        return launch(address, 1, *pointers, 1, 1, 2, *arrays)

    return call


def test_the_launcher_calls_a_kernel_with_the_arrays_data(launch_add_one):
    x, out, out1 = np.arange(3.0), np.zeros(3), np.zeros(3)
    assert launch_add_one(out, x, out1) is None
    np.testing.assert_array_equal(out, x + 1)
    np.testing.assert_array_equal(out1, x * 2)


@pytest.mark.parametrize(
    "bad",
    ["list read", "strided read", "read-only out", "read-only last out", "subclass ok"],
)
def test_the_launcher_refuses_what_it_cannot_pass_and_runs_nothing(launch_add_one, bad):
    x, out, out1 = np.arange(3.0), np.zeros(3), np.zeros(3)
    if bad == "list read":
        x = [0.0, 1.0, 2.0]
    elif bad == "strided read":
        x = np.arange(6.0)[::2]
    elif bad == "read-only out":
        out.setflags(write=False)
    elif bad == "read-only last out":
        out1.setflags(write=False)
    else:
        x = x.view(np.ma.MaskedArray)  # an ndarray subclass, C-contiguous: passed
        launch_add_one(out, x, out1)
        np.testing.assert_array_equal(out, np.arange(3.0) + 1)
        return
    with pytest.raises(ValueError):
        launch_add_one(out, x, out1)
    assert not out.any() and not out1.any()


def test_the_launcher_checks_its_argument_count(launch_add_one):
    with pytest.raises(TypeError, match="number of arguments"):
        c_backend.launcher()(0, 1, 0, 0, 1, 1, 1)


# ----------------------------------------------------------------------------- nesting
def test_a_jitted_function_called_while_tracing_is_inlined():
    inner_body = counted(lambda x: xp.exp(x) * 2.0)
    inner = xp.jit(inner_body)
    outer_body = counted(lambda x: inner(x) + inner(x * 2.0))
    outer = xp.jit(outer_body)
    a = rng_array((3,))
    check(outer(a), np.exp(a) * 2.0 + np.exp(a * 2.0) * 2.0)
    check(outer(a), np.exp(a) * 2.0 + np.exp(a * 2.0) * 2.0)
    assert (outer_body.runs, inner_body.runs) == (1, 2)
    assert "exp(" in outer.lower(a).as_text()
    check(inner(a), np.exp(a) * 2.0)  # inner's own cache was never filled while inlined
    assert inner_body.runs == 3


def test_a_jitted_function_calling_itself_on_a_static_depth():
    @functools.partial(xp.jit, static_argnames="depth")
    @counted
    def halve(x, depth):
        if depth == 0:
            return x
        return halve(x * 0.5, depth=depth - 1) + 1.0

    body = halve.__wrapped__
    a = rng_array((4,))
    check(halve(a, depth=3), ((a * 0.5 + 0) * 0.5) * 0.5 + 3.0)
    assert body.runs == 4  # one trace: the recursive calls are inlined
    check(halve(a, depth=3), a * 0.125 + 3.0)
    assert body.runs == 4
    check(halve(a, depth=1), a * 0.5 + 1.0)
    assert body.runs == 6


# ----------------------------------------------------------------------------- call errors
def test_the_wrong_number_of_arguments_is_a_type_error():
    f = xp.jit(lambda x, y: x + y)
    g = xp.jit(lambda x, y: x + y, static_argnames="y")
    a = xp.asarray([1.0])
    for fun in (f, g):
        with pytest.raises(TypeError):
            fun(a)
        with pytest.raises(TypeError):
            fun(a, 1.0, 2.0)
        with pytest.raises(TypeError):
            fun(a, z=1.0)
        check(fun(a, 1.0), [2.0])  # the failures left nothing behind


def test_an_unsupported_argument_type_is_a_type_error_naming_the_line():
    f = xp.jit(lambda x, mode: x * 2)
    with pytest.raises(TypeError, match="static") as info:
        where = next_line()
        f(xp.asarray([1.0]), {"fast"})  # unhashable: cannot key a trace
    assert f"(at {where})" in str(info.value)
    check(f(xp.asarray([1.0]), "fast"), [2.0])  # hashable objects are static
    check(xp.jit(lambda x, mode: x * 2, static_argnums=1)(xp.asarray([1.0]), "fast"), [2.0])


def test_a_shape_error_in_the_body_names_the_line_in_the_body():
    where = []

    def body(x, y):
        where.append(next_line())
        return x + y

    with pytest.raises(ValueError, match="broadcast") as info:
        xp.jit(body)(np.ones(2), np.ones(3))
    assert f"(at {where[0]})" in str(info.value)


def test_an_error_while_running_names_the_line_in_the_body():
    where = []

    def body(x, i):
        where.append(next_line())
        return xp.take(x, i)

    f = xp.jit(body)
    check(f(np.arange(3.0), np.array([2, 0])), [2.0, 0.0])
    with pytest.raises(IndexError) as info:
        f(np.arange(3.0), np.array([5, 0]))
    assert where[0] in str(info.value)


# ----------------------------------------------------------------------------- methods
class Scaler:
    def __init__(self, k):
        self.k = k

    @functools.partial(xp.jit, static_argnums=0)
    def apply(self, x):
        """Scale x by k."""
        return x * self.k

    @xp.jit
    def dynamic_self(self, x):
        return x * self.k


def test_jit_of_a_method():
    two, three = Scaler(2.0), Scaler(3.0)
    a = rng_array((3,))
    check(two.apply(a), a * 2.0)
    check(three.apply(a), a * 3.0)
    check(Scaler.apply(two, a), a * 2.0)
    assert isinstance(Scaler.__dict__["apply"], type(xp.jit(affine)))
    # An object passed as an argument is static without asking: the function reads
    # its attributes (a model's States), and another object traces again.
    check(two.dynamic_self(a), a * 2.0)
    check(three.dynamic_self(a), a * 3.0)


def test_a_bound_jitted_method_keeps_its_metadata():
    bound = Scaler(2.0).apply
    assert bound.__name__ == "apply"
    assert bound.__doc__ == "Scale x by k."


# ----------------------------------------------------------------------------- donation
def address(a) -> int:
    return np.asarray(a).__array_interface__["data"][0]


def sgd(w, g):
    return w - 0.1 * g, xp.sum(g * g, axis=1)


def test_a_donated_argument_holds_the_result():
    f = xp.jit(sgd, donate_argnames=("w",))
    rng = np.random.default_rng(0)
    w, g = rng.standard_normal((300, 40)), rng.standard_normal((300, 40))
    expected = [np.asarray(r) for r in sgd(xp.asarray(w), xp.asarray(g))]
    where = address(w)
    new, norms = f(w, g)
    assert address(new) == where
    np.testing.assert_array_equal(np.asarray(new), expected[0])
    np.testing.assert_array_equal(np.asarray(norms), expected[1])
    assert not w.flags.writeable  # the buffer now belongs to the result, which is immutable


def test_donation_is_skipped_where_it_would_change_the_result():
    f = xp.jit(sgd, donate_argnames=("w",))
    w = np.arange(12.0).reshape(3, 4)
    # The same buffer passed twice: the other argument still needs it.
    new, norms = f(w, w)
    assert address(new) != address(w)
    np.testing.assert_array_equal(np.asarray(new), 0.9 * np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(np.asarray(norms), (w * w).sum(axis=1))
    # A reduction reading w after the update's loop: w must survive that loop.
    late = xp.jit(lambda w, g: (w - 0.1 * g, xp.sum(w * w, axis=1)), donate_argnames="w")
    v = np.arange(12.0).reshape(3, 4)
    new, norms = late(v, w)
    assert address(new) != address(v)
    np.testing.assert_array_equal(np.asarray(norms), (w * w).sum(axis=1))
    # Read-only, non-contiguous and lazyarr arrays are never written into.
    others = (xp.asarray(w), w[:, ::-1], np.asfortranarray(w), w.astype(np.float32))
    for donated in others:
        kept = np.array(donated, copy=True)
        result, _ = f(donated, w)
        np.testing.assert_allclose(np.asarray(result), kept - 0.1 * w, rtol=1e-6)
        np.testing.assert_array_equal(np.asarray(donated), kept)
    # A view of the donated argument read in the same loop (a reversal): not in place.
    h = xp.jit(lambda w: w + xp.flip(w, axis=0), donate_argnames="w")
    v = np.arange(6.0)
    np.testing.assert_array_equal(np.asarray(h(v)), np.full(6, 5.0))
    # A view of the donated argument returned: the donated buffer must keep its values.
    sliced = xp.jit(lambda x: (x[1:3], x + 1), donate_argnames="x")
    part, plus = sliced(np.arange(6.0))
    np.testing.assert_array_equal(np.asarray(part), [1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(plus), np.arange(6.0) + 1)


def test_donating_an_unknown_parameter_is_a_value_error():
    with pytest.raises(ValueError, match="no parameter 'x'"):
        xp.jit(sgd, donate_argnames=("x",))
