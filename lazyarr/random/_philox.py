"""Philox4x64-10 written in lazyarr graph ops, so one definition runs on every backend.

This is the counter-based generator of Salmon et al. (2011) as NumPy's
``np.random.Philox`` implements it (``numpy/random/src/philox/philox.h``): a
256-bit counter and a 128-bit key, ten rounds, four 64-bit words out per
counter value. The 64 x 64 -> 128-bit multiply of each round (``mulhilo``) is
split into 32-bit halves and computed with uint64 multiplies, shifts, masks and
adds, which every backend has: the NumPy reference backend runs the ops one by
one, and under ``xp.jit`` the C backend fuses the whole generator into one loop.

Every function here takes words that are either uint64 Arrays (any shape, they
broadcast) or Python ints; parts that only involve Python ints are computed in
Python, modulo 2**64, so constant counter words fold away.

The stream. NumPy increments the counter *before* computing each block and
serves the block's four words from a buffer, so, counting words from 0 with the
counter starting at 0, word ``i`` of the stream is word ``i % 4`` of the block
computed at counter ``i // 4 + 1``. ``stream`` gives any run of consecutive words
of that stream, starting at a position that may be a Python int or a traced 0-d
uint64 Array (inside ``xp.jit`` the position is part of a State).
"""

from __future__ import annotations

import numpy as np

from .. import _creation_functions as _creation
from .. import _manipulation_functions as _manip
from .._array import Array
from .._dtypes import uint64
from .._searching_functions import where

Word = Array | int

M32 = 0xFFFFFFFF
M64 = (1 << 64) - 1
MULTIPLIERS = (0xD2E7470EE14C6C93, 0xCA5A826395121157)
WEYL = (0x9E3779B97F4A7C15, 0xBB67AE8584CAA73B)  # the key schedule's increments
ROUNDS = 10


def _add(a: Word, b: Word) -> Word:
    if isinstance(a, int) and isinstance(b, int):
        return (a + b) & M64
    return a + b


def _mul(a: Word, b: Word) -> Word:
    if isinstance(a, int) and isinstance(b, int):
        return (a * b) & M64
    return a * b


def mulhilo(a: Word, b: Word) -> tuple[Word, Word]:
    """The low and high 64-bit words of the 128-bit product ``a * b`` (uint64 words).

    The high word is the schoolbook product of 32-bit halves, as NumPy's portable
    ``_umul128`` computes it: four 32 x 32 -> 64-bit products and the carry out of
    the middle column. The low word is the wrapping 64-bit product.
    """
    if isinstance(a, int) and isinstance(b, int):
        product = (a & M64) * (b & M64)
        return product & M64, product >> 64
    a_lo, a_hi = a & M32, a >> 32
    b_lo, b_hi = b & M32, b >> 32
    hh = _mul(a_hi, b_hi)
    hl = _mul(a_hi, b_lo)
    lh = _mul(a_lo, b_hi)
    ll = _mul(a_lo, b_lo)
    carry = _add(_add(hl & M32, lh & M32), ll >> 32) >> 32
    hi = _add(_add(_add(hh, hl >> 32), lh >> 32), carry)
    return _mul(a, b), hi


def philox4x64(
    counter: tuple[Word, Word, Word, Word], key: tuple[Word, Word], rounds: int = ROUNDS
) -> tuple[Word, Word, Word, Word]:
    """The four output words of Philox4x64-``rounds`` for ``counter`` under ``key``.

    Counter words and key words broadcast against each other; the result has
    their broadcast shape (Python ints where everything was a Python int).
    """
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for r in range(rounds):
        if r:
            k0, k1 = _add(k0, WEYL[0]), _add(k1, WEYL[1])
        lo0, hi0 = mulhilo(c0, MULTIPLIERS[0])
        lo1, hi1 = mulhilo(c2, MULTIPLIERS[1])
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


def blocks(first: Word, count: int, key: tuple[Word, Word]) -> Array:
    """The ``count`` blocks at counters ``first, first + 1, ...`` as a (count, 4) uint64
    array: row ``j`` holds the four words of the block at counter ``first + j``.

    ``first`` (a Python int or a 0-d uint64 Array) is the counter's low word; the
    other three counter words are 0, so the stream is good for 2**64 blocks.
    """
    index = _creation.arange(count, dtype=uint64)
    counter = index + first if not (isinstance(first, int) and first == 0) else index
    words = [_as_array(w, (count,)) for w in philox4x64((counter, 0, 0, 0), key)]
    return _manip.stack(words, axis=1)


def stream(position: Word, n: int, key: tuple[Word, Word]) -> Array:
    """Words ``position, ..., position + n - 1`` of the stream of ``key`` (a (n,) uint64
    Array): what ``np.random.Philox(key=key)`` returns from ``random_raw`` after
    ``position`` words were drawn.

    A Python int position gives exactly the blocks needed. A traced position (inside
    ``xp.jit``) has an unknown offset into its first block, so this computes enough
    blocks for any offset and picks the window with ``where`` over the four possible
    offsets: still one Philox evaluation per word, in one fused loop.
    """
    if n == 0:
        return _creation.zeros((0,), dtype=uint64)
    if isinstance(position, int):
        offset = position % 4
        count = -(-(offset + n) // 4)
        flat = _manip.reshape(blocks(position // 4 + 1, count, key), (4 * count,))
        return flat[offset : offset + n]
    count = -(-(n + 3) // 4)
    flat = _manip.reshape(blocks((position >> 2) + 1, count, key), (4 * count,))
    offset = position & 3
    out = flat[3 : n + 3]
    for k in (2, 1, 0):
        out = where(offset == k, flat[k : n + k], out)
    return out


def _as_array(w: Word, shape: tuple[int, ...]) -> Array:
    if isinstance(w, Array):
        return w if w.shape == shape else _manip.broadcast_to(w, shape)
    return _creation.full(shape, np.uint64(w), dtype=uint64)
