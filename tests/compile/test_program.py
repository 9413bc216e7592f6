"""Programs: scheduling, constant folding, the memory plan's buffer reuse, and the
generated straight-line code that runs the steps."""

import threading
import tracemalloc

import numpy as np
import pytest

import lazyarr as xp


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LAZYARR_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def softmax(x):
    # Over columns: more than one kernel, so kernel results pass between them.
    e = xp.exp(x - xp.max(x, axis=0, keepdims=True))
    return e / xp.sum(e, axis=0, keepdims=True)


def test_kernel_intermediates_reuse_their_buffers_and_never_escape():
    f = xp.jit(softmax)
    x = np.random.default_rng(0).standard_normal((50, 70))
    program = f.lower(x).program
    assert any(any(step.reuse) for step in program.steps)
    assert not any(
        reuse
        for step in program.steps
        for out, reuse in zip(step.outs, step.reuse)
        if out in program.output_slots
    )
    first = f(x)
    kept = np.array(first)
    buffers = dict(program._buffers.slots)
    second = f(2 * x)
    assert all(program._buffers.slots[k] is v for k, v in buffers.items())
    np.testing.assert_array_equal(np.asarray(first), kept)
    np.testing.assert_allclose(np.asarray(second), np.asarray(softmax(xp.asarray(2 * x))))


def test_a_kernel_result_read_by_numpy_is_not_reused():
    # The reshape (a NumPy view) of the exp could be returned: its buffer must be fresh.
    f = xp.jit(lambda x: xp.reshape(xp.exp(x) + 1, (-1,)))
    program = f.lower(np.ones((3, 4))).program
    assert not any(any(step.reuse) for step in program.steps)
    a = f(np.zeros((3, 4)))
    f(np.ones((3, 4)))
    np.testing.assert_array_equal(np.asarray(a), np.full(12, 2.0))


def test_threads_have_their_own_buffers():
    f = xp.jit(softmax)
    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal((40, 60)) for _ in range(8)]
    expected = [np.asarray(softmax(xp.asarray(x))) for x in inputs]
    assert _wrong_in_threads(lambda i: [f(inputs[i])], [[e] for e in expected], 30) == []


def test_closed_over_lazy_values_are_computed_once_as_constants():
    w = xp.exp(xp.asarray([0.0, 1.0]))  # lazy, not computed yet
    f = xp.jit(lambda x: x * w)
    text = f.lower(np.ones(2)).as_text()
    assert "exp(" not in text  # folded into a constant
    np.testing.assert_allclose(np.asarray(f(np.ones(2))), np.exp([0.0, 1.0]))


def mixed(a, b):
    """Kernels (some passing results to others), views and a NumPy matmul."""
    c = xp.exp(a) * b + 1.0
    d = xp.reshape(xp.sin(c) - a / 3.0, (-1,))
    e = (xp.reshape(d, a.shape) @ b) * 2.0 - c
    return xp.tanh(e) + xp.sqrt(xp.abs(e)) * a, softmax(c)


def mixed_numpy(a, b):
    c = np.exp(a) * b + 1.0
    d = np.sin(c) - a / 3.0
    e = (d @ b) * 2.0 - c
    s = np.exp(c - c.max(axis=0))
    return np.tanh(e) + np.sqrt(np.abs(e)) * a, s / s.sum(axis=0)


def test_a_program_of_kernels_views_and_numpy_steps_computes_what_numpy_does():
    f = xp.jit(mixed)
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    program = f.lower(a, b).program
    assert program.direct is None
    assert {step.backend for step in program.steps} > {"numpy"}
    for scale in (1.0, 2.0, -3.0):  # kept buffers must not leak values between calls
        got = f(scale * a, b)
        for g, e in zip(got, mixed_numpy(scale * a, b)):
            np.testing.assert_allclose(np.asarray(g), e, rtol=1e-12)


def test_many_threads_share_one_program():
    f = xp.jit(mixed)
    rng = np.random.default_rng(3)
    inputs = [(rng.standard_normal((6, 6)), rng.standard_normal((6, 6))) for _ in range(8)]
    program = f.lower(*inputs[0]).program
    assert program.direct is None and any(any(step.reuse) for step in program.steps)
    expected = [mixed_numpy(*args) for args in inputs]
    assert _wrong_in_threads(lambda i: f(*inputs[i]), expected, 50) == []


def test_intermediates_are_released_after_their_last_use():
    def chain(x, m):
        for _ in range(8):
            x = xp.tanh(x @ m)  # a NumPy step, then a kernel: each result a new array
        return x

    f = xp.jit(chain)
    x, m = np.ones((400, 400)) / 400, np.eye(400)
    f(x, m)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = f(x, m)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(np.asarray(result), chain(xp.asarray(x), xp.asarray(m)))
    # About one intermediate more than the result at a time (all 16 kept: 12 times as much).
    assert peak < 2 * x.nbytes


def test_an_error_in_a_numpy_step_names_the_line_that_wrote_the_op():
    f = xp.jit(lambda a: xp.exp(xp.linalg.inv(a * 2.0)))
    assert f.lower(np.ones((2, 2))).program.direct is None
    with pytest.raises(np.linalg.LinAlgError, match="in inv written at"):
        f(np.ones((2, 2)))


@pytest.mark.parametrize("quiet", [True, False], ids=["context-variable", "errstate"])
def test_numpy_steps_run_silently_and_leave_the_error_state_as_it_was(monkeypatch, quiet):
    from lazyarr.compile import program

    if not quiet:
        monkeypatch.setattr(program, "_QUIET", None)  # NumPy without the context variable
    big = np.full((2, 2), 1e308)
    overflow = xp.jit(lambda a, b: (a * 1.0) @ b)
    failing = xp.jit(lambda a: xp.exp(xp.linalg.inv(a * 2.0)))
    with np.errstate(all="raise"):
        assert "numpy" in {step.backend for step in overflow.lower(big, big).program.steps}
        assert np.all(np.isinf(np.asarray(overflow(big, big))))  # no FloatingPointError
        assert np.geterr()["over"] == "raise"
        with pytest.raises(np.linalg.LinAlgError):
            failing(np.ones((2, 2)))
        assert set(np.geterr().values()) == {"raise"}


def test_a_matmul_multiplies_broadcast_and_transposed_operands_as_numpy_does():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal(3)
    f = xp.jit(lambda a, b: xp.matmul(a[1:, :].T, a[1:, :] * 1.0) + b)
    assert "numpy" in {step.backend for step in f.lower(a, b).program.steps}
    np.testing.assert_array_equal(np.asarray(f(a, b)), a[1:].T @ a[1:] + b)
    broadcast = np.broadcast_to(rng.standard_normal((1, 3)), (5, 3))  # stride 0
    dense = np.ascontiguousarray(broadcast)
    np.testing.assert_array_equal(np.asarray(f(broadcast, b)), dense[1:].T @ dense[1:] + b)


def test_an_error_in_a_matmul_names_the_line_that_wrote_it(monkeypatch):
    def fail(a, b):
        raise MemoryError("no memory for the product")

    monkeypatch.setattr(np, "matmul", fail)
    f = xp.jit(lambda a, b: (a * 2.0) @ b)
    with pytest.raises(MemoryError, match=r"in matmul written at .*test_program\.py"):
        f(np.ones((2, 2)), np.ones((2, 2)))


def _wrong_in_threads(call, expected: list, repeats: int) -> list[int]:
    """Which of ``len(expected)`` threads, each calling ``call(i)`` ``repeats`` times,
    ever got results other than ``expected[i]``."""
    wrong = []

    def work(i):
        for _ in range(repeats):
            if not all(np.allclose(np.asarray(g), e) for g, e in zip(call(i), expected[i])):
                wrong.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(expected))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return wrong
