"""xp.random.Generator: NumPy's Philox stream, a State that advances, every backend alike."""

import math
import pickle

import numpy as np
import pytest

import lazyarr as xp
import lazyarr.random as xr
from lazyarr.compile import jit as jit_module

KEYS = [0, 2**128 - 1, [123, 456]]


def key_array(key):
    if isinstance(key, int):
        return np.array([key % 2**64, key >> 64], dtype=np.uint64)
    return np.array(key, dtype=np.uint64)


def same_numpy_state(a, b):
    sa, sb = a.state, b.state
    return (
        all(np.array_equal(sa["state"][k], sb["state"][k]) for k in ("counter", "key"))
        and np.array_equal(sa["buffer"], sb["buffer"])
        and all(sa[k] == sb[k] for k in ("buffer_pos", "has_uint32", "uinteger"))
    )


def bits(a):
    a = np.asarray(a)
    return np.ascontiguousarray(a).tobytes(), a.dtype, a.shape


# ----------------------------------------------------------------------------- NumPy's stream
@pytest.mark.parametrize("key", KEYS, ids=["zero", "ones", "small"])
def test_random_raw_is_numpys_philox(key):
    rng = xr.Generator(key=key)
    ref = np.random.Philox(key=key_array(key))
    for n in (3, 5, 1, 8, 0, 7):
        got = rng.random_raw(n)
        assert got.dtype == xp.uint64 and got.shape == (n,)
        np.testing.assert_array_equal(np.asarray(got), ref.random_raw(n))
    np.testing.assert_array_equal(np.asarray(rng.random_raw((2, 3))), ref.random_raw((2, 3)))
    assert int(rng.random_raw()) == ref.random_raw()
    assert same_numpy_state(rng.to_numpy(), ref)


def test_seed_derives_the_key_as_numpy_does():
    for seed in (0, 42, [1, 2, 3], np.random.SeedSequence(7)):
        rng = xr.Generator(seed)
        ref = np.random.Philox(seed)
        assert rng.key == tuple(int(w) for w in ref.state["state"]["key"])
        np.testing.assert_array_equal(np.asarray(rng.random_raw(6)), ref.random_raw(6))
    rng = xr.Generator(42)
    ref = np.random.Generator(np.random.Philox(42))
    assert bits(rng.uniform(size=9)) == bits(ref.random(9))
    assert xr.Generator().key != xr.Generator().key  # fresh entropy
    assert xr.default_rng(5).key == xr.Generator(5).key


@pytest.mark.parametrize("key", KEYS, ids=["zero", "ones", "small"])
def test_uniform_float64_is_numpys_random(key):
    rng = xr.Generator(key=key)
    ref = np.random.Generator(np.random.Philox(key=key_array(key)))
    assert bits(rng.uniform(size=5)) == bits(ref.random(5))
    assert bits(rng.random((2, 3))) == bits(ref.random((2, 3)))
    assert bits(rng.uniform(-2.0, 3.0, size=7)) == bits(ref.uniform(-2.0, 3.0, size=7))
    assert bits(rng.random()) == bits(ref.random())
    assert same_numpy_state(rng.to_numpy(), ref.bit_generator)


def test_float32_uses_numpys_half_word_buffer():
    rng = xr.Generator(3)
    ref = np.random.Generator(np.random.Philox(3))
    for n, dtype in [(3, "f4"), (2, "f8"), (1, "f4"), (4, "f4"), (5, "f4"), (1, "raw"), (2, "f4")]:
        if dtype == "raw":
            np.testing.assert_array_equal(
                np.asarray(rng.random_raw(n)), ref.bit_generator.random_raw(n)
            )
            continue
        got = rng.random(n, dtype=np.dtype(dtype))
        assert bits(got) == bits(ref.random(n, dtype=np.dtype(dtype)))
        assert same_numpy_state(rng.to_numpy(), ref.bit_generator)
    assert rng.uniform(1.0, 2.0, size=4, dtype=xp.float32).dtype == xp.float32


# ----------------------------------------------------------------------------- jit
def test_each_jitted_call_advances_the_state_like_numpys_calls():
    rng = xr.Generator(7)
    ref = np.random.Generator(np.random.Philox(7))

    @xp.jit
    def draw(x):
        return rng.random_raw(3), x + rng.uniform(size=5), rng.random(3, dtype=xp.float32)

    for _ in range(3):
        raw, u, f = draw(xp.zeros(5))
        np.testing.assert_array_equal(np.asarray(raw), ref.bit_generator.random_raw(3))
        assert bits(u) == bits(ref.random(5))
        assert bits(f) == bits(ref.random(3, dtype=np.float32))
        assert same_numpy_state(rng.to_numpy(), ref.bit_generator)
    # Eager draws continue where the jitted calls left off.
    assert bits(rng.uniform(size=2)) == bits(ref.random(2))
    assert isinstance(rng.state, xp.State)


def draws(rng):
    """One of every kind of draw (array parameters included)."""
    low = xp.asarray(np.array([-5, 0, 2**40], dtype=np.int64))
    return {
        "raw": rng.random_raw(6),
        "uniform": rng.uniform(size=5),
        "float32": rng.random(5, dtype=xp.float32),
        "normal": rng.normal(size=7),
        "normal_params": rng.normal(xp.asarray([1.0, -1.0]), 2.0, size=(3, 2), dtype=xp.float32),
        "integers": rng.integers(-3, 10, size=9),
        "integers_endpoint": rng.integers(0, 255, size=4, dtype=xp.uint8, endpoint=True),
        "integers_full": rng.integers(0, 2**64, size=3, dtype=xp.uint64),
        "integers_array": rng.integers(low, low + 1000, dtype=xp.int64),
        "bernoulli": rng.bernoulli(0.3, size=8),
        "permutation": rng.permutation(6),
        "permuted": rng.permutation(xp.reshape(xp.arange(8.0), (4, 2))),
    }


def run_draws(mode, monkeypatch, calls=2):
    rng = xr.Generator(key=[11, 22])
    if mode == "eager":
        return [{k: bits(v) for k, v in draws(rng).items()} for _ in range(calls)]
    if mode == "unfused":
        monkeypatch.setattr(jit_module, "_partition", lambda: None)
    f = xp.jit(lambda: draws(rng))
    out = []
    for _ in range(calls):
        if mode == "disabled":
            with xp.disable_jit():
                result = f()
        else:
            result = f()
        out.append({k: bits(v) for k, v in result.items()})
    return out


def test_every_backend_draws_the_same_bits(monkeypatch):
    eager = run_draws("eager", monkeypatch)
    assert eager[0] != eager[1]
    assert run_draws("disabled", monkeypatch) == eager
    assert run_draws("compiled", monkeypatch) == eager
    assert run_draws("unfused", monkeypatch) == eager


def test_the_compiled_generator_runs_in_c():
    rng = xr.Generator(1)
    f = xp.jit(lambda: (rng.uniform(size=100), rng.normal(size=100)))
    text = f.lower().as_text()
    for op in ("multiply", "bitcast", "sqrt", "divide"):
        lines = [line for line in text.splitlines() if f" {op}(" in line]
        assert lines and all("[c lz_" in line for line in lines), op
    assert " log(" not in text and " cos(" not in text and " sin(" not in text


def test_a_jitted_draw_of_a_new_size_continues_the_stream():
    rng = xr.Generator(9)
    ref = np.random.Philox(9)
    f = xp.jit(lambda x: rng.random_raw(x.shape))
    for n in (5, 2, 5, 9):
        np.testing.assert_array_equal(np.asarray(f(xp.zeros(n))), ref.random_raw(n))


# ----------------------------------------------------------------------------- children, views
def test_split_gives_independent_children_with_derived_keys():
    rng = xr.Generator(5)
    ref = np.random.Philox(5)
    children = rng.split(3)
    words = ref.random_raw(6)
    assert [c.key for c in children] == [(int(words[i]), int(words[i + 1])) for i in (0, 2, 4)]
    assert rng.position == 6
    again = rng.split(3)
    assert {c.key for c in again}.isdisjoint({c.key for c in children})
    streams = [bits(c.random_raw(4)) for c in children]
    assert len(set(streams)) == 3
    assert all(c.position == 4 for c in children) and rng.position == 12
    with pytest.raises(TypeError, match=r"outside xp\.jit"):
        xp.jit(lambda: rng.split(2))()


def test_frozen_draws_the_same_numbers_on_every_call():
    rng = xr.Generator(8)
    noise = rng.frozen()

    @xp.jit
    def f(x):
        return x + noise.normal(size=3), noise.normal(size=3)

    a1, b1 = f(xp.zeros(3))
    a2, b2 = f(xp.zeros(3))
    assert bits(a1) == bits(a2) and bits(b1) == bits(b2)
    assert bits(a1) != bits(b1)  # successive draws of one call differ
    assert rng.position == 0
    # Outside jit each draw is a call of its own; it starts where the generator is.
    assert bits(noise.normal(size=3)) == bits(a1)
    assert bits(rng.normal(size=3)) == bits(a1)  # the generator itself advances...
    assert bits(noise.normal(size=3)) != bits(a1)  # ...and the view follows it
    with pytest.raises(TypeError, match="frozen"):
        noise.split()


def test_generators_pickle_with_their_state():
    rng = xr.Generator(4)
    rng.random_raw(3)
    copy = pickle.loads(pickle.dumps(rng))
    assert bits(copy.uniform(size=5)) == bits(rng.uniform(size=5))


# ----------------------------------------------------------------------------- statistics
def normal_cdf(x):
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def ks_statistic(sample, cdf):
    x = np.sort(np.asarray(sample, dtype=np.float64))
    f = cdf(x)
    n = len(x)
    return max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))


N = 100_000
KS_LIMIT = 1.95 / math.sqrt(N)  # the 0.1% critical value


def test_normal_statistics():
    z = np.asarray(xr.Generator(12).normal(size=N))
    assert abs(z.mean()) < 5 / math.sqrt(N)
    assert abs(z.var() - 1) < 5 * math.sqrt(2 / N)
    assert ks_statistic(z, normal_cdf) < KS_LIMIT
    w = np.asarray(xr.Generator(13).normal(3.0, 0.5, size=N, dtype=xp.float32))
    assert w.dtype == np.float32
    assert abs(w.mean() - 3) < 5 * 0.5 / math.sqrt(N) and abs(w.std() - 0.5) < 0.01


def test_uniform_statistics():
    u = np.asarray(xr.Generator(14).uniform(size=N))
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 5 * math.sqrt(1 / 12 / N)
    assert ks_statistic(u, lambda x: x) < KS_LIMIT
    f = np.asarray(xr.Generator(15).random(N, dtype=xp.float32))
    assert f.min() >= 0 and f.max() < 1 and ks_statistic(f, lambda x: x) < KS_LIMIT


def test_integers_are_in_range_and_roughly_uniform():
    rng = xr.Generator(16)
    k = np.asarray(rng.integers(-3, 7, size=N))
    assert k.dtype == np.int64 and k.min() == -3 and k.max() == 6
    counts = np.bincount(k + 3, minlength=10)
    chi2 = ((counts - N / 10) ** 2 / (N / 10)).sum()
    assert chi2 < 40  # 9 degrees of freedom: p < 1e-5
    e = np.asarray(rng.integers(250, 255, size=1000, dtype=xp.uint8, endpoint=True))
    assert e.dtype == np.uint8 and set(e.tolist()) == set(range(250, 256))
    b = np.asarray(rng.integers(2, size=1000, dtype=xp.int8))
    assert set(b.tolist()) == {0, 1}
    big = np.asarray(rng.integers(-(2**63), 2**63, size=1000))
    assert (big < 0).mean() == pytest.approx(0.5, abs=0.1)
    ranges = np.asarray(
        rng.integers(xp.asarray([0, 10, -50]), xp.asarray([1, 20, -40]), size=(500, 3))
    )
    assert (ranges[:, 0] == 0).all() and ranges[:, 1].min() >= 10 and ranges[:, 1].max() < 20
    assert ranges[:, 2].min() >= -50 and ranges[:, 2].max() < -40


def test_bernoulli_and_permutation():
    rng = xr.Generator(17)
    b = np.asarray(rng.bernoulli(0.25, size=N))
    assert b.dtype == np.bool_ and abs(b.mean() - 0.25) < 5 * math.sqrt(0.25 * 0.75 / N)
    assert not np.asarray(rng.bernoulli(0.0, size=100)).any()
    assert np.asarray(rng.bernoulli(1.0, size=100)).all()
    p = np.asarray(rng.bernoulli(xp.asarray([0.0, 1.0]), size=(4, 2)))
    assert not p[:, 0].any() and p[:, 1].all()
    perm = np.asarray(rng.permutation(1000))
    assert perm.dtype == np.int64 and sorted(perm.tolist()) == list(range(1000))
    assert (perm != np.arange(1000)).any()
    x = np.arange(12).reshape(3, 4)
    rows = np.asarray(rng.permutation(x))
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, x.tolist()))
    cols = np.asarray(rng.permutation(x, axis=1))
    assert sorted(map(tuple, cols.T.tolist())) == sorted(map(tuple, x.T.tolist()))


# ----------------------------------------------------------------------------- exact transforms
def test_log_and_sincos_are_within_an_ulp_of_numpys():
    from lazyarr.random import _transforms as t

    def ulps(a, b):
        return int(np.abs(np.asarray(a).view(np.int64) - np.asarray(b).view(np.int64)).max())

    words = np.random.default_rng(0).integers(0, 2**64, size=50_000, dtype=np.uint64)
    u = ((words >> 11) + 1) * 2.0**-53
    u = np.concatenate([u, [2.0**-53, 1.0, 1 - 2**-53, 0.5, 2**-20, 1 - 2**-20, 0.75, 1.5]])
    assert ulps(t.log(xp.asarray(u)), np.log(u)) <= 1
    angle = np.random.default_rng(1).uniform(-np.pi / 4, np.pi / 4, 50_000)
    assert ulps(t.sin_kernel(xp.asarray(angle)), np.sin(angle)) <= 1
    assert ulps(t.cos_kernel(xp.asarray(angle)), np.cos(angle)) <= 1
    radius, other = words[:25_000], words[25_000:]
    z0, z1 = (np.asarray(z) for z in t.box_muller(xp.asarray(radius), xp.asarray(other)))
    r = np.sqrt(-2 * np.log(((radius >> 11) + 1) * 2.0**-53))
    q = (other >> 62).astype(np.float64)
    x = ((other >> 11) & (2**51 - 1)).astype(np.int64) - 2**50
    theta = (q + x * 2.0**-51) * (np.pi / 2)
    assert np.abs(z0 - r * np.cos(theta)).max() < 1e-14
    assert np.abs(z1 - r * np.sin(theta)).max() < 1e-14


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda r: r.random_raw(-1), ValueError, "non-negative"),
        (lambda r: r.uniform(size=(2, -3)), ValueError, "non-negative"),
        (lambda r: r.uniform(size=2.5), TypeError, "int"),
        (lambda r: r.uniform(dtype=xp.int64), TypeError, "float32 or float64"),
        (lambda r: r.normal(dtype="int32"), TypeError, "float32 or float64"),
        (lambda r: r.uniform(0.0, float("inf")), OverflowError, "not finite"),
        (lambda r: r.normal(0.0, -1.0), ValueError, "scale"),
        (lambda r: r.integers(0, 10, dtype=xp.float64), TypeError, "integer dtype"),
        (lambda r: r.integers(5, 5), ValueError, "greater than low"),
        (lambda r: r.integers(5, 3, endpoint=True), ValueError, "greater than or equal"),
        (lambda r: r.integers(0, 300, dtype=xp.uint8), ValueError, "out of bounds"),
        (lambda r: r.integers(-1, 3, dtype=xp.uint8), ValueError, "out of bounds"),
        (lambda r: r.integers(0.5, 3), TypeError, "int"),
        (lambda r: r.bernoulli(1.5), ValueError, r"\[0, 1\]"),
        (lambda r: r.bernoulli(xp.asarray([0.5, -0.1])), ValueError, r"\[0, 1\]"),
        (lambda r: r.uniform(xp.zeros(3), 1.0, size=(2,)), ValueError, "broadcast"),
        (lambda r: r.permutation(-2), ValueError, "non-negative"),
        (lambda r: r.permutation(xp.asarray(3.0)), ValueError, "1-D"),
        (lambda r: r.permutation("abc"), TypeError, "int or an array"),
        (lambda r: r.split(-1), ValueError, "non-negative"),
    ],
)
def test_bad_draws_are_refused(call, error, match):
    rng = xr.Generator(0)
    with pytest.raises(error, match=match):
        call(rng)
    assert rng.position == 0


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"key": [1, 2, 3]}, ValueError, "shape"),
        ({"key": np.zeros((2, 2), np.uint64)}, ValueError, "shape"),
        ({"key": -1}, ValueError, "2\\*\\*128"),
        ({"key": 2**128}, ValueError, "2\\*\\*128"),
        ({"key": [1.0, 2.0]}, ValueError, "uint64"),
        ({"key": True}, TypeError, "bool"),
        ({"seed": 1, "key": 2}, ValueError, "not both"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"seed": -3}, ValueError, "seed"),
    ],
)
def test_bad_keys_and_seeds_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        xr.Generator(**kwargs)
