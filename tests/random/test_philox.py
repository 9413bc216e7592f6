"""Philox4x64-10 in graph ops against NumPy's ``np.random.Philox``, word for word."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lazyarr as xp
from lazyarr.compile import jit as jit_module
from lazyarr.random import _philox

KEYS = [(0, 0), (2**64 - 1, 2**64 - 1), (123, 456), (0x243F6A8885A308D3, 0x13198A2E03707344)]


def numpy_words(key, n):
    return np.random.Philox(key=np.array(key, dtype=np.uint64)).random_raw(n)


def u64(v):
    return np.asarray(v, dtype=np.uint64)


@pytest.mark.parametrize("key", KEYS)
def test_blocks_in_python_ints_are_numpys(key):
    # Word i of NumPy's stream is word i % 4 of the block at counter i // 4 + 1.
    words = numpy_words(key, 16)
    for block in range(4):
        got = _philox.philox4x64((block + 1, 0, 0, 0), key)
        assert list(got) == [int(w) for w in words[4 * block : 4 * block + 4]]


@pytest.mark.parametrize("key", KEYS)
def test_blocks_in_graph_ops_are_numpys(key):
    got = np.asarray(_philox.blocks(1, 5, key))
    assert got.dtype == np.uint64 and got.shape == (5, 4)
    np.testing.assert_array_equal(got.reshape(-1), numpy_words(key, 20))


@given(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))
def test_mulhilo_is_the_128_bit_product(a, b):
    lo, hi = _philox.mulhilo(xp.asarray(u64([a, a])), b)
    product = a * b
    assert [int(v) for v in np.asarray(lo)] == [product % 2**64] * 2
    assert [int(v) for v in np.asarray(hi)] == [product >> 64] * 2
    lo, hi = _philox.mulhilo(xp.asarray(u64(a)), xp.asarray(u64(b)))
    assert (int(lo), int(hi)) == (product % 2**64, product >> 64)
    assert _philox.mulhilo(a, b) == (product % 2**64, product >> 64)


@pytest.mark.parametrize("key", KEYS[:3])
def test_stream_from_any_known_position(key):
    words = numpy_words(key, 40)
    for position in range(9):
        for n in (0, 1, 3, 4, 5, 17):
            got = np.asarray(_philox.stream(position, n, key))
            assert got.dtype == np.uint64
            np.testing.assert_array_equal(got, words[position : position + n])


@pytest.mark.parametrize("fused", [True, False], ids=["c", "numpy"])
def test_stream_from_a_traced_position(fused, monkeypatch):
    if not fused:
        monkeypatch.setattr(jit_module, "_partition", lambda: None)

    @xp.jit
    def stream(position, k0, k1):
        return _philox.stream(position, 13, (k0, k1))

    for key in KEYS[:2]:
        words = numpy_words(key, 30)
        for position in range(9):
            got = np.asarray(stream(u64(position), u64(key[0]), u64(key[1])))
            np.testing.assert_array_equal(got, words[position : position + 13])


def test_the_generator_compiles_to_one_fused_loop():
    @xp.jit
    def stream(position, k0, k1):
        return _philox.stream(position, 1000, (k0, k1))

    text = stream.lower(u64(0), u64(1), u64(2)).as_text()
    products = [line for line in text.splitlines() if " multiply(" in line]
    assert all("[c lz_" in line for line in products)
    # Per block: 10 rounds of 2 mulhilo of 5 products, less the first round's multiply
    # of a zero counter word, which folds away; all in one kernel over the blocks.
    rounds = [line for line in products if "uint64[251]" in line]
    assert len(rounds) >= 90
    assert len({line.split("[c ")[1].split("]")[0] for line in rounds}) == 1
