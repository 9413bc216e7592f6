"""Programs: scheduling, constant folding, and the memory plan's buffer reuse."""

import threading

import numpy as np
import pytest

import lazyarr as xp


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LAZYARR_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def softmax(x):
    e = xp.exp(x - xp.max(x, axis=1, keepdims=True))
    return e / xp.sum(e, axis=1, keepdims=True)


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
    errors = []

    def work(i):
        for _ in range(30):
            got = np.asarray(f(inputs[i]))
            if not np.allclose(got, expected[i]):
                errors.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_closed_over_lazy_values_are_computed_once_as_constants():
    w = xp.exp(xp.asarray([0.0, 1.0]))  # lazy, not computed yet
    f = xp.jit(lambda x: x * w)
    text = f.lower(np.ones(2)).as_text()
    assert "exp(" not in text  # folded into a constant
    np.testing.assert_allclose(np.asarray(f(np.ones(2))), np.exp([0.0, 1.0]))
