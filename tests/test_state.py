"""xp.State: reads, writes, atomic updates under jit, discovery, grad, pickling."""

from __future__ import annotations

import pickle
import threading
import tracemalloc

import numpy as np
import pytest

import lazyarr as xp
from lazyarr import config

counter = xp.State(0, name="counter")  # a global the module-level functions below share


@xp.jit
def accumulate(inc):
    counter.value = counter.value + inc
    return counter.value  # the value as of the call's start


@xp.jit
def decrement(dec):
    counter.value = counter.value - dec


class Model:
    """Parameters held as States, a jitted method: the tutorial's classifier shape."""

    def __init__(self, n_in, n_out):
        self.W = xp.State(np.zeros((n_in, n_out)), name="W")
        self.b = xp.State(np.zeros(n_out), name="b")
        self.predict = xp.jit(self._predict)

    def _predict(self, x):
        return xp.argmax(x @ self.W.value + self.b.value, axis=1)


@pytest.fixture(params=["jit", "disabled"])
def mode(request):
    """Every semantic test runs compiled and with jit disabled (the debugging mode)."""
    if request.param == "disabled":
        with config.disable_jit():
            yield request.param
    else:
        yield request.param


# ----------------------------------------------------------------------------- outside jit
def test_state_owns_a_copy_and_reports_its_attributes():
    data = np.arange(6.0).reshape(2, 3)
    s = xp.State(data, name="s")
    data[0, 0] = 100.0
    assert (s.shape, s.dtype, s.name, s.ndim, s.size) == ((2, 3), np.float64, "s", 2, 6)
    np.testing.assert_array_equal(np.asarray(s.value), np.arange(6.0).reshape(2, 3))
    assert repr(s) == "State('s', shape=(2, 3), dtype=float64)"
    assert xp.State([1, 2], dtype=xp.float32).dtype == np.float32
    assert xp.State(xp.ones(3) * 2).value.shape == (3,)


def test_bad_construction_is_refused():
    with pytest.raises(TypeError, match="name must be a string"):
        xp.State(1.0, name=3)
    with pytest.raises(ValueError, match="unsupported device"):
        xp.State(1.0, device="gpu")


def test_reads_outside_jit_are_snapshots():
    s = xp.State(np.zeros(3))
    before = s.value
    lazy = before + 1  # not computed yet
    view = np.asarray(s.value)
    s.value = np.ones(3)
    np.testing.assert_array_equal(np.asarray(before), np.zeros(3))
    np.testing.assert_array_equal(np.asarray(lazy), np.ones(3))
    np.testing.assert_array_equal(view, np.zeros(3))
    np.testing.assert_array_equal(np.asarray(s.value), np.ones(3))
    assert not view.flags.writeable


def test_assignment_outside_jit_checks_dtype_and_may_resize():
    s = xp.State(np.zeros(3, np.float32))
    with pytest.raises(TypeError, match=r"holds float32.*float64.*test_state.py"):
        s.value = np.zeros(3)
    s.value = 2.5  # a Python scalar fills
    np.testing.assert_array_equal(np.asarray(s.value), np.full(3, 2.5, np.float32))
    s.value = np.ones(5, np.float32)  # Theano's set_value may resize
    assert s.shape == (5,)


def test_assignment_outside_jit_reuses_an_unseen_buffer():
    s = xp.State(np.zeros(1000))
    buffer = s._buffer
    s.value = np.ones(1000)
    assert s._buffer is buffer
    seen = s.value
    s.value = np.full(1000, 2.0)
    assert s._buffer is not buffer
    np.testing.assert_array_equal(np.asarray(seen), np.ones(1000))


# ----------------------------------------------------------------------------- inside jit
def test_updates_are_computed_from_values_at_the_call_start(mode):
    a = xp.State(np.array([1.0, 2.0]))
    b = xp.State(np.array([10.0, 20.0]))

    @xp.jit
    def swap():
        a.value = b.value
        b.value = a.value  # still the old a
        return a.value + b.value

    out = swap()
    np.testing.assert_array_equal(np.asarray(out), [11.0, 22.0])
    np.testing.assert_array_equal(np.asarray(a.value), [10.0, 20.0])
    np.testing.assert_array_equal(np.asarray(b.value), [1.0, 2.0])
    swap()
    np.testing.assert_array_equal(np.asarray(a.value), [1.0, 2.0])


def test_shared_state_between_functions_like_the_tutorial(mode):
    counter.value = 0
    assert int(accumulate(1)) == 0
    assert int(accumulate(300)) == 1
    assert int(counter.value) == 301
    counter.value = -1
    assert int(accumulate(3)) == -1
    assert int(counter.value) == 2
    decrement(2)
    assert int(counter.value) == 0


def test_outputs_do_not_alias_state_buffers(mode):
    s = xp.State(np.zeros(4))

    @xp.jit
    def step():
        new = s.value + 1
        s.value = new
        return new, s.value

    new, old = step()
    step()
    step()
    np.testing.assert_array_equal(np.asarray(new), np.ones(4))
    np.testing.assert_array_equal(np.asarray(old), np.zeros(4))
    np.testing.assert_array_equal(np.asarray(s.value), np.full(4, 3.0))


def test_a_failing_trace_changes_no_state(mode):
    a = xp.State(np.zeros(3))
    b = xp.State(np.zeros(3))

    @xp.jit
    def broken(x):
        a.value = a.value + 1
        b.value = b.value + x
        raise RuntimeError("user error after the writes")

    with pytest.raises(RuntimeError, match="user error"):
        broken(np.ones(3))
    np.testing.assert_array_equal(np.asarray(a.value), np.zeros(3))
    np.testing.assert_array_equal(np.asarray(b.value), np.zeros(3))


def test_a_failing_run_changes_no_state_and_the_next_call_works(mode):
    a = xp.State(np.zeros(3))
    b = xp.State(np.arange(5.0))

    @xp.jit
    def step(i):
        a.value = a.value + 1
        b.value = xp.take(b.value, i) * 2  # i out of range: IndexError while running
        return a.value

    with pytest.raises(IndexError):
        step(np.array([0, 1, 2, 3, 7]))
    np.testing.assert_array_equal(np.asarray(a.value), np.zeros(3))
    np.testing.assert_array_equal(np.asarray(b.value), np.arange(5.0))
    step(np.array([4, 3, 2, 1, 0]))
    np.testing.assert_array_equal(np.asarray(a.value), np.ones(3))
    np.testing.assert_array_equal(np.asarray(b.value), [8.0, 6.0, 4.0, 2.0, 0.0])


def test_writing_a_state_twice_in_one_call_names_both_lines(mode):
    s = xp.State(0.0)

    @xp.jit
    def twice():
        s.value = s.value + 1
        s.value = s.value + 2

    with pytest.raises(ValueError, match=r"written twice.*first at .*test_state.py:\d+"):
        twice()
    assert float(s.value) == 0.0


def test_a_write_keeps_shape_and_dtype(mode):
    s = xp.State(np.zeros((2, 3), np.float32), name="W")

    @xp.jit
    def reshape_it():
        s.value = xp.reshape(s.value, (3, 2))

    @xp.jit
    def promote_it(x):
        s.value = s.value + x

    with pytest.raises(ValueError, match=r"State 'W' has shape \(2, 3\).*\(3, 2\).*test_state"):
        reshape_it()
    with pytest.raises(TypeError, match=r"State 'W' holds float32.*float64.*xp.astype"):
        promote_it(np.ones(3))
    promote_it(np.ones(3, np.float32))
    np.testing.assert_array_equal(np.asarray(s.value), np.ones((2, 3), np.float32))


def test_python_scalars_written_fill_the_state(mode):
    s = xp.State(np.ones((2, 2), np.float32))

    @xp.jit
    def reset():
        s.value = 0

    reset()
    np.testing.assert_array_equal(np.asarray(s.value), np.zeros((2, 2), np.float32))


# ----------------------------------------------------------------------------- discovery
def test_states_found_through_arguments_and_objects(mode):
    m = Model(4, 3)
    m.W.value = np.eye(4, 3)
    x = np.array([[0.0, 5.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(np.asarray(m.predict(x)), [1, 0])

    @xp.jit
    def sgd(model, grad_w, lr):
        model.W.value = model.W.value - lr * grad_w

    other = Model(4, 3)
    sgd(m, np.ones((4, 3)), 0.5)
    sgd(other, np.ones((4, 3)), 1.0)
    np.testing.assert_array_equal(np.asarray(m.W.value), np.eye(4, 3) - 0.5)
    np.testing.assert_array_equal(np.asarray(other.W.value), -np.ones((4, 3)))

    @xp.jit
    def increment(state):
        state.value = state.value + 1

    s1, s2 = xp.State(0), xp.State(10)
    increment(s1)
    increment(s2)
    increment(s1)
    assert (int(s1.value), int(s2.value)) == (2, 11)


def test_a_resized_state_traces_again(mode):
    data = xp.State(np.ones((4, 2)))

    @xp.jit
    def total():
        return xp.sum(data.value)

    assert float(total()) == 8.0
    data.value = np.ones((6, 2))
    assert float(total()) == 12.0
    data.value = np.ones((4, 2))
    assert float(total()) == 8.0


def test_compile_log_names_a_resized_state(caplog, monkeypatch):
    monkeypatch.setenv("LAZYARR_LOG_COMPILES", "1")
    data = xp.State(np.ones(4))

    @xp.jit
    def total():
        return xp.sum(data.value)

    total()
    data.value = np.ones(5)
    with caplog.at_level("INFO", logger="lazyarr"):
        total()
    assert "resized State" in caplog.text


# ----------------------------------------------------------------------------- memory
def test_an_sgd_step_allocates_nothing_per_call():
    rng = np.random.default_rng(0)
    W = xp.State(np.zeros((784, 10), np.float32), name="W")
    b = xp.State(np.zeros(10, np.float32), name="b")
    X = xp.State(rng.random((600, 784), dtype=np.float32))
    y = xp.State(rng.integers(0, 10, 600))

    def nll(x, y):
        logits = x @ W.value + b.value
        p = logits - xp.max(logits, axis=1, keepdims=True)
        p = p - xp.log(xp.sum(xp.exp(p), axis=1, keepdims=True))
        return -xp.mean(xp.take_along_axis(p, xp.reshape(y, (-1, 1)), axis=1))

    @xp.jit
    def train():
        cost, (gW, gb) = xp.value_and_grad(nll, wrt=(W, b))(X.value, y.value)
        W.value = W.value - 0.13 * gW
        b.value = b.value - 0.13 * gb
        return cost

    for _ in range(3):
        train()
    buffers = set()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        for _ in range(20):
            train()
            buffers.add(id(W._buffer))
        now, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(buffers) == 2  # the value and its spare, swapped per call
    assert now - base < 784 * 10 * 4  # nothing the size of W stays allocated


# ----------------------------------------------------------------------------- grad
def test_grad_with_respect_to_states(mode):
    w = xp.State(np.array([1.0, -2.0, 3.0]), name="w")
    b = xp.State(0.5, name="b")
    x = np.array([0.5, 1.0, 2.0])

    def loss(x):
        return xp.sum((x * w.value + b.value) ** 2)

    @xp.jit
    def step(x):
        value, (gw, gb) = xp.value_and_grad(loss, wrt=(w, b))(x)
        w.value = w.value - 0.1 * gw
        b.value = b.value - 0.1 * gb
        return value, gw, gb

    r = x * np.array([1.0, -2.0, 3.0]) + 0.5
    value, gw, gb = step(x)
    np.testing.assert_allclose(float(value), np.sum(r**2))
    np.testing.assert_allclose(np.asarray(gw), 2 * r * x)
    np.testing.assert_allclose(float(gb), np.sum(2 * r))
    np.testing.assert_allclose(np.asarray(w.value), np.array([1.0, -2.0, 3.0]) - 0.2 * r * x)
    # Theano style, outside jit: the gradient of a lazy cost with respect to a State.
    g = xp.grad(loss(x), w)
    r2 = x * np.asarray(w.value) + float(b.value)
    np.testing.assert_allclose(np.asarray(g), 2 * r2 * x)


# ----------------------------------------------------------------------------- pickling
def test_states_and_jitted_functions_pickle(tmp_path):
    m = Model(4, 3)
    m.W.value = np.eye(4, 3)
    restored = pickle.loads(pickle.dumps(m))
    assert restored.W is not m.W and restored.W.name == "W"
    np.testing.assert_array_equal(np.asarray(restored.W.value), np.eye(4, 3))
    x = np.array([[0.0, 5.0, 0.0, 0.0]])
    np.testing.assert_array_equal(np.asarray(restored.predict(x)), [1])
    restored.W.value = np.zeros((4, 3))
    restored.b.value = np.array([0.0, 0.0, 1.0])
    # the unpickled jitted method uses the unpickled States
    np.testing.assert_array_equal(np.asarray(restored.predict(x)), [2])
    np.testing.assert_array_equal(np.asarray(m.predict(x)), [1])
    assert pickle.loads(pickle.dumps(accumulate)) is accumulate
    s = xp.State(np.arange(3, dtype=np.int32), name="s")
    t = pickle.loads(pickle.dumps(s))
    assert (t.name, t.dtype, t.shape) == ("s", np.int32, (3,))


# ----------------------------------------------------------------------------- threads
def test_concurrent_calls_lose_no_update():
    total = xp.State(0, name="total")

    @xp.jit
    def add(x):
        total.value = total.value + x

    add(np.int64(1))

    def worker():
        for _ in range(200):
            add(np.int64(1))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert int(total.value) == 801


def test_a_state_takes_a_new_value_computed_by_a_reduction_without_copying_it():
    s = xp.State(0.0, name="s")

    @xp.jit
    def step(x):
        new = s.value - 0.5 * xp.sum(x * 2.0)  # a reduction kernel: it cannot write the spare
        s.value = new
        return new, s.value * 1.0

    x = np.ones(4)
    step(x)
    (entry,) = step._fast.values()
    assert entry.owned == (True,)
    kept = [step(x) for _ in range(3)]
    for _ in range(3):
        step(x)
    for k, (new, old) in enumerate(kept, start=2):  # results never alias the State's buffers
        assert float(new) == -4.0 * k and float(old) == -4.0 * (k - 1)
    assert float(s.value) == -28.0
    assert not np.asarray(s.value).flags.writeable


def test_a_value_written_to_two_states_is_copied_into_each():
    a, b = xp.State(np.zeros(3)), xp.State(np.zeros(3))

    @xp.jit
    def step(x):
        new = xp.sum(x, axis=0)
        a.value = new
        b.value = new

    step(np.ones((2, 3)))
    assert not np.shares_memory(a._buffer, b._buffer)
    step(np.full((2, 3), 2.0))
    np.testing.assert_array_equal(np.asarray(a.value), np.full(3, 4.0))
    np.testing.assert_array_equal(np.asarray(b.value), np.full(3, 4.0))


def test_a_call_for_a_resized_state_takes_nothing():
    s = xp.State(np.zeros(3), name="s")

    @xp.jit
    def step():
        s.value = s.value + 1.0

    step()
    s.value = np.zeros(5)  # between calls: the next one traces for the new shape
    step()
    np.testing.assert_array_equal(np.asarray(s.value), np.ones(5))
    from lazyarr import _state

    entry = step._cache[next(k for k in step._cache if len(k) == 2)]
    assert _state.begin(entry.reads, entry.writes, ((s, (3,)),)) is None
    assert not s._writer.locked()  # a stale call takes nothing


def test_concurrent_calls_lose_no_update_of_a_value_the_state_takes_as_it_is():
    total = xp.State(0.0, name="total")

    @xp.jit
    def add(x):
        total.value = total.value + xp.sum(x * 1.0)  # a reduction kernel's own buffer

    x = np.ones(3)
    add(x)
    assert next(iter(add._fast.values())).owned == (True,)

    def worker():
        for _ in range(200):
            add(x)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert float(total.value) == 3.0 * 801
