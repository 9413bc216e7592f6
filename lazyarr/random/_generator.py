"""``xp.random.Generator``: NumPy's Philox stream, with its position kept in an ``xp.State``.

The State holds five uint64 words::

    [key0, key1, position, has_uint32, uinteger]

``key0, key1`` are the 128-bit Philox key (NumPy's ``state["state"]["key"]``),
``position`` counts the 64-bit words drawn so far, and ``has_uint32, uinteger``
are NumPy's half-word buffer for 32-bit draws (float32 ``random``): a 32-bit
draw takes the low half of a fresh word and keeps the high half for the next
one. A draw reads the State, computes its numbers from the words at
``position, position + 1, ...`` and writes the advanced State back: outside
``xp.jit`` at once, inside it as an update of the call (so every call draws new
numbers), and the same words give the same numbers on every backend.
"""

from __future__ import annotations

import builtins
import math
import operator
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _dtypes, _tracing
from .._array import Array
from .._creation_functions import asarray
from .._data_type_functions import astype
from .._errors import located
from .._indexing_functions import take
from .._manipulation_functions import broadcast_shapes, concat, reshape, stack
from .._searching_functions import where
from .._sorting_functions import argsort
from .._state import State
from . import _philox, _transforms
from ._philox import M32, M64, Word

_FLOATS = (_dtypes.float32, _dtypes.float64)
_STATE_WORDS = 5


class Generator:
    """Random numbers from NumPy's Philox (4x64-10) stream, usable inside ``xp.jit``.

    ``Generator(seed)`` derives the 128-bit key as ``np.random.Philox(seed)`` does
    (``np.random.SeedSequence(seed).generate_state(2, np.uint64)``; ``seed=None``
    takes fresh entropy from the OS); ``Generator(key=k)`` uses the key itself: an
    int below 2**128 or two uint64 words, as ``np.random.Philox(key=k)``. The stream
    is NumPy's bit for bit: ``random_raw`` equals ``np.random.Philox(...).random_raw``
    and ``random``/``uniform`` in float64 equal ``np.random.Generator(...).random``,
    including how consecutive draws continue the stream.

    >>> import lazyarr as xp
    >>> rng = xp.random.Generator(42)
    >>> x = rng.normal(size=3)          # the generator's State has advanced
    >>> @xp.jit
    ... def noisy(v):
    ...     return v + rng.normal(size=v.shape)   # new numbers on every call
    >>> noisy(xp.zeros(2)).shape
    (2,)
    """

    __slots__ = ("__weakref__", "_frozen", "_pending", "_state")

    def __init__(self, seed: Any = None, *, key: Any = None, name: str | None = None):
        if seed is not None and key is not None:
            raise located(ValueError, "Generator: pass seed or key, not both")
        k0, k1 = _key_words(key) if key is not None else _seed_words(seed)
        words = np.array([k0, k1, 0, 0, 0], dtype=np.uint64)
        self._state = State(words, name=name if name is not None else "random.Generator")
        self._frozen = False
        self._pending: tuple | None = None

    @classmethod
    def _view(cls, state: State, frozen: bool) -> Generator:
        self = cls.__new__(cls)
        self._state = state
        self._frozen = frozen
        self._pending = None
        return self

    # ------------------------------------------------------------------ state
    @property
    def state(self) -> State:
        """The ``xp.State`` holding ``[key0, key1, position, has_uint32, uinteger]``."""
        return self._state

    @property
    def key(self) -> tuple[int, int]:
        """The 128-bit key as two uint64 words (outside ``xp.jit``)."""
        words = self._concrete("key")
        return words[0], words[1]

    @property
    def position(self) -> int:
        """How many 64-bit words were drawn so far (outside ``xp.jit``)."""
        return self._concrete("position")[2]

    def __repr__(self) -> str:
        frozen = ", frozen" if self._frozen else ""
        try:
            k0, k1, position = self._concrete("repr")[:3]
        except TypeError:  # inside xp.jit the state is not known
            return f"Generator(Philox4x64{frozen})"
        return f"Generator(Philox4x64, key=0x{k1:016x}{k0:016x}, position={position}{frozen})"

    def __reduce__(self):
        return (Generator._view, (self._state, self._frozen))

    def to_numpy(self) -> np.random.Philox:
        """A ``np.random.Philox`` at this generator's place in the stream: its next
        words (and 32-bit halves) are this generator's next ones."""
        k0, k1, position, has32, u32 = self._concrete("to_numpy")
        bitgen = np.random.Philox(key=np.array([k0, k1], dtype=np.uint64))
        counter, used = -(-position // 4), position % 4
        state = bitgen.state
        state["state"]["counter"] = np.array([counter, 0, 0, 0], dtype=np.uint64)
        if counter:  # NumPy's buffer holds the last block computed, used up or not
            block = _philox.philox4x64((counter, 0, 0, 0), (k0, k1))
            state["buffer"] = np.array(block, dtype=np.uint64)
            state["buffer_pos"] = used or 4
        state["has_uint32"] = has32
        state["uinteger"] = u32
        bitgen.state = state
        return bitgen

    # ------------------------------------------------------------------ children
    def split(self, n: int = 2) -> list[Generator]:
        """``n`` new, independent generators (as ``jax.random.split``).

        Child ``j``'s key is the parent's next two words ``2j, 2j + 1``, so the
        parent advances by ``2 n`` words and splitting again gives other children.
        Each child owns a new State: split outside ``xp.jit``.
        """
        n = _count(n, "split", "n")
        if self._frozen:
            raise located(TypeError, "split: a frozen generator never advances; split its parent")
        cursor = self._cursor("split")
        if not cursor.static:
            raise located(
                TypeError,
                "split: each child owns a new State, which a traced function cannot create; "
                "split the generator outside xp.jit",
            )
        words = [_stream_word(cursor.key, cursor.position + i) for i in builtins.range(2 * n)]
        self._write(cursor.advanced(2 * n))
        return [Generator(key=(words[2 * j], words[2 * j + 1])) for j in builtins.range(n)]

    def frozen(self) -> Generator:
        """This generator, never advanced: every call draws the same numbers (Theano's
        ``no_default_updates``).

        The view shares the State: it starts where the generator is when a call
        starts (later draws from the generator itself move it), and within one call
        of a jitted function (or one draw outside jit) its draws follow one another
        in the stream, but its State is never written.
        """
        return Generator._view(self._state, True)

    # ------------------------------------------------------------------ draws
    def random_raw(self, size: Any = None) -> Array:
        """uint64 words of the stream, as ``np.random.Philox.random_raw(size)``."""
        shape = _shape(size, "random_raw")
        n = math.prod(shape)
        cursor = self._cursor("random_raw")
        words = cursor.words(n)
        self._write(cursor.advanced(n))
        return reshape(words, shape)

    def random(self, size: Any = None, dtype: Any = _dtypes.float64) -> Array:
        """Floats in [0, 1) as ``np.random.Generator.random``: float64 is (word >> 11) *
        2**-53; float32 is (32-bit half >> 8) * 2**-24, with NumPy's half-word buffer."""
        dtype = _float_dtype(dtype, "random")
        shape = _shape(size, "random")
        return reshape(self._unit(math.prod(shape), dtype, "random"), shape)

    def uniform(
        self, low: Any = 0.0, high: Any = 1.0, size: Any = None, dtype: Any = _dtypes.float64
    ) -> Array:
        """Floats in [low, high): ``low + (high - low) * random()``, as NumPy computes it
        (so float64 ``uniform(size=n)`` equals NumPy's ``random(n)`` bit for bit)."""
        fname = "uniform"
        dtype = _float_dtype(dtype, fname)
        low, high = _float_param(low, dtype, fname, "low"), _float_param(high, dtype, fname, "high")
        if _known(low) is not None and _known(high) is not None:
            span = np.asarray(_known(high), dtype) - np.asarray(_known(low), dtype)
            with np.errstate(over="ignore", invalid="ignore"):
                if not np.all(np.isfinite(span)):
                    raise located(OverflowError, f"{fname}: high - low is not finite")
        shape = _out_shape(size, fname, low, high)
        u = reshape(self._unit(math.prod(shape), dtype, fname), shape)
        if _is_number(low, 0.0) and _is_number(high, 1.0):
            return u
        return low + (high - low) * u

    def standard_normal(self, size: Any = None, dtype: Any = _dtypes.float64) -> Array:
        """Standard normal floats (Box-Muller on pairs of words; see docs/random.md)."""
        return self.normal(0.0, 1.0, size, dtype)

    def normal(
        self, loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = _dtypes.float64
    ) -> Array:
        """Normal floats with mean ``loc`` and standard deviation ``scale``.

        Each pair of words gives two variates by the Box-Muller transform, computed
        with arithmetic that rounds the same way on every backend (not NumPy's
        ziggurat, so not NumPy's numbers); ``n`` variates use ``2 * ceil(n / 2)``
        words. float32 variates are float64 ones rounded.
        """
        fname = "normal"
        dtype = _float_dtype(dtype, fname)
        loc = _float_param(loc, _dtypes.float64, fname, "loc")
        scale = _float_param(scale, _dtypes.float64, fname, "scale")
        known = _known(scale)
        if known is not None and np.any(np.asarray(known) < 0):
            raise located(ValueError, f"{fname}: scale must be non-negative")
        shape = _out_shape(size, fname, loc, scale)
        n = math.prod(shape)
        pairs = -(-n // 2)
        cursor = self._cursor(fname)
        words = reshape(cursor.words(2 * pairs), (pairs, 2))
        self._write(cursor.advanced(2 * pairs))
        z0, z1 = _transforms.box_muller(words[:, 0], words[:, 1])
        z = reshape(reshape(stack([z0, z1], axis=1), (2 * pairs,))[:n], shape)
        if not (_is_number(loc, 0.0) and _is_number(scale, 1.0)):
            z = loc + scale * z
        return z if dtype == _dtypes.float64 else astype(z, dtype)

    def integers(
        self,
        low: Any,
        high: Any = None,
        size: Any = None,
        dtype: Any = _dtypes.int64,
        endpoint: bool = False,
    ) -> Array:
        """Integers in [low, high) (``endpoint=True``: [low, high]); ``high=None`` means
        [0, low). One word per value, scaled by Lemire's multiply-shift: the high 64
        bits of ``word * (high - low)``; not NumPy's numbers (see docs/random.md)."""
        fname = "integers"
        try:
            dtype = _dtypes.normalize(dtype)
        except TypeError as e:
            raise located(TypeError, f"{fname}: {e}") from None
        if not (_dtypes.is_integer(dtype) or _dtypes.is_bool(dtype)):
            raise located(TypeError, f"{fname}: dtype must be an integer dtype, got {dtype}")
        if high is None:
            low, high = 0, low
        low, high = _int_param(low, fname, "low"), _int_param(high, fname, "high")
        endpoint = builtins.bool(endpoint)
        info = _bounds(dtype)
        kl, kh = _exact(_known(low)), _exact(_known(high))
        if kl is not None and np.any(kl < info[0]):
            raise located(ValueError, f"{fname}: low is out of bounds for {dtype}")
        if kh is not None and np.any(kh + endpoint > info[1]):
            raise located(ValueError, f"{fname}: high is out of bounds for {dtype}")
        if kl is not None and kh is not None and np.any(kh + endpoint <= kl):
            relation = "greater than or equal to" if endpoint else "greater than"
            raise located(ValueError, f"{fname}: high must be {relation} low")
        shape = _out_shape(size, fname, low, high)
        n = math.prod(shape)
        cursor = self._cursor(fname)
        words = reshape(cursor.words(n), shape)
        self._write(cursor.advanced(n))
        if isinstance(low, int) and isinstance(high, int):
            span = high - low + endpoint
            offset = words if span == 1 << 64 else _philox.mulhilo(words, span)[1]
            result = offset + (low & M64) if low else offset
        else:
            low_u, high_u = _as_uint64(low), _as_uint64(high)
            span = high_u - low_u + 1 if endpoint else high_u - low_u
            offset = _philox.mulhilo(words, span)[1]
            if endpoint:  # a span of 2**64 wraps to 0: every word is in range
                offset = where(span == 0, words, offset)
            result = low_u + offset
        if not isinstance(result, Array):
            result = asarray(np.uint64(result))
        if dtype == _dtypes.uint64:
            return result
        if dtype == _dtypes.int64:
            return _transforms.bitcast(result, _dtypes.int64)
        return astype(result, dtype)

    def bernoulli(self, p: Any = 0.5, size: Any = None) -> Array:
        """Booleans, True with probability ``p``: ``random() < p``."""
        fname = "bernoulli"
        p = _float_param(p, _dtypes.float64, fname, "p")
        known = _known(p)
        if known is not None:
            values = np.asarray(known)
            if np.any(np.isnan(values)) or np.any(values < 0) or np.any(values > 1):
                raise located(ValueError, f"{fname}: p must be in [0, 1]")
        shape = _out_shape(size, fname, p)
        u = reshape(self._unit(math.prod(shape), _dtypes.float64, fname), shape)
        return u < p

    def permutation(self, x: Any, axis: int = 0) -> Array:
        """A random permutation of ``range(x)`` (an int) or of ``x``'s entries along
        ``axis``: the order that sorts one fresh word per entry."""
        fname = "permutation"
        if isinstance(x, (int, np.integer)) and not isinstance(x, (builtins.bool, np.bool_)):
            n = _count(x, fname, "x")
            array = None
        else:
            if isinstance(x, (np.ndarray, np.generic, Array)):
                array = x if isinstance(x, Array) else asarray(x)
            else:
                raise located(
                    TypeError, f"{fname}: x must be an int or an array, got {type(x).__name__}"
                )
            if array.ndim == 0:
                raise located(ValueError, f"{fname}: x must be an int or at least 1-D")
            try:
                axis = operator.index(axis)
            except TypeError:
                raise located(TypeError, f"{fname}: axis must be an int") from None
            if not -array.ndim <= axis < array.ndim:
                raise located(
                    ValueError, f"{fname}: axis {axis} is out of bounds for {array.ndim}-D x"
                )
            n = array.shape[axis]
        cursor = self._cursor(fname)
        order = argsort(cursor.words(n))
        self._write(cursor.advanced(n))
        return order if array is None else take(array, order, axis=axis)

    # ------------------------------------------------------------------ internals
    def _unit(self, n: int, dtype: np.dtype, fname: str) -> Array:
        """``n`` floats in [0, 1) of ``dtype`` as NumPy's ``random`` draws them."""
        cursor = self._cursor(fname)
        if dtype == _dtypes.float64:
            words = cursor.words(n)
            self._write(cursor.advanced(n))
            return _transforms.unit_float64(words)
        halves, state = cursor.halves(n)
        self._write(state)
        return _transforms.unit_float32(halves)

    def _concrete(self, what: str) -> list[int]:
        value = self._read()
        if value._node.value is None:
            raise located(TypeError, f"Generator.{what}: not available inside xp.jit")
        return [int(w) for w in value._node.value]

    def _read(self) -> Array:
        """The state as this draw sees it: the call's pending update if there is one."""
        transaction = _tracing.state.transaction
        if self._frozen:
            pending = self._pending
            if pending is not None and transaction is not None and pending[0]() is transaction:
                return pending[1]
            return self._state.value
        pending = transaction.pending(self._state) if transaction is not None else None
        return self._state.value if pending is None else Array._new(pending)

    def _write(self, new: Any) -> None:
        """Advance the State (a frozen view only remembers it for the rest of the call)."""
        transaction = _tracing.state.transaction
        if self._frozen:
            self._pending = None
            if transaction is not None:
                value = new if isinstance(new, Array) else asarray(new)
                self._pending = (weakref.ref(transaction), value)
            return
        if transaction is not None:
            # NOTE: a call writes a State once; a generator's later draws in the same call
            # continue from its earlier ones, so the last write replaces the earlier ones.
            transaction.overwrite(self._state, new)
        else:
            self._state.value = new

    def _cursor(self, fname: str) -> _Cursor:
        value = self._read()
        if value.shape != (_STATE_WORDS,) or value.dtype != _dtypes.uint64:
            raise located(
                ValueError,
                f"{fname}: the generator's State must hold {_STATE_WORDS} uint64 words, "
                f"got {value.dtype}{list(value.shape)}",
            )
        return _Cursor(value)


class _Cursor:
    """The state read by one draw: Python ints when known (outside jit), else 0-d Arrays."""

    def __init__(self, value: Array):
        concrete = value._node.value
        self.static = concrete is not None
        if self.static:
            words = [int(w) for w in concrete]
        else:
            words = [value[i] for i in builtins.range(_STATE_WORDS)]
        self.key: tuple[Word, Word] = (words[0], words[1])
        self.position: Word = words[2]
        self.has32: Word = words[3]
        self.u32: Word = words[4]

    def words(self, n: int) -> Array:
        return _philox.stream(self.position, n, self.key)

    def advanced(self, n: int, has32: Word | None = None, u32: Word | None = None) -> Any:
        """The state after ``n`` more words (and a new half-word buffer if given)."""
        has32 = self.has32 if has32 is None else has32
        u32 = self.u32 if u32 is None else u32
        words = (*self.key, _philox._add(self.position, n), has32, u32)
        if self.static:
            return np.array(words, dtype=np.uint64)
        return stack([_word_array(w) for w in words])

    def halves(self, n: int) -> tuple[Array, Any]:
        """``n`` uint32 values as NumPy's ``next_uint32`` serves them (low half of a
        word first, the high half kept for the next 32-bit draw), and the new state."""
        if n == 0:
            return asarray(np.zeros(0, np.uint32)), self.advanced(0)
        if self.static:
            fresh = n - self.has32
            count = -(-fresh // 2)
            halves = _split_halves(self.words(count), fresh) if fresh else None
            if self.has32:
                head = asarray(np.array([self.u32], dtype=np.uint32))
                halves = head if halves is None else concat([head, halves])
            # NOTE: NumPy keeps the high half of the last fresh word (and its flag says
            # whether it is still to be served); so does this, for to_numpy().
            u32 = _stream_word(self.key, self.position + count - 1) >> 32 if count else None
            return halves, self.advanced(count, fresh % 2, u32)
        count = -(-n // 2)  # enough whether or not a half is buffered
        words = self.words(count)
        plain = _split_halves(words, n)
        head = reshape(astype(self.u32, _dtypes.uint32), (1,))
        shifted = concat([head, plain[: n - 1]])
        buffered = self.has32 == 1
        halves = where(buffered, shifted, plain)
        fresh = n - self.has32
        used = (fresh + 1) >> 1  # count, or count - 1 when a buffered half and n is odd
        # NOTE: NumPy keeps the high half of the last fresh word, served or not.
        last = words[count - 1] >> 32
        if count > 1:
            last = where(used == count, last, words[count - 2] >> 32)
        u32 = where(used == 0, self.u32, last)
        return halves, self.advanced_dynamic(used, fresh & 1, u32)

    def advanced_dynamic(self, n: Array, has32: Array, u32: Array) -> Array:
        words = (*self.key, self.position + n, has32, u32)
        return stack([_word_array(w) for w in words])


# ----------------------------------------------------------------------------- helpers
def _split_halves(words: Array, n: int) -> Array:
    """The first ``n`` 32-bit halves of ``words``, low half of each word first."""
    low = astype(words & M32, _dtypes.uint32)
    high = astype(words >> 32, _dtypes.uint32)
    return reshape(stack([low, high], axis=1), (2 * words.shape[0],))[:n]


def _stream_word(key: tuple[int, int], position: int) -> int:
    """One word of the stream, computed in Python."""
    return _philox.philox4x64((position // 4 + 1, 0, 0, 0), key)[position % 4]


def _word_array(w: Word) -> Array:
    if isinstance(w, Array):
        return w if w.dtype == _dtypes.uint64 else astype(w, _dtypes.uint64)
    return asarray(np.uint64(w))


def _as_uint64(x: Any) -> Array:
    """Integers as uint64 words (negative values wrap, as two's complement)."""
    if isinstance(x, int):
        return asarray(np.uint64(x & M64))
    return x if x.dtype == _dtypes.uint64 else astype(x, _dtypes.uint64)


def _key_words(key: Any) -> tuple[int, int]:
    if isinstance(key, (builtins.bool, np.bool_)):
        raise located(TypeError, "Generator: key must be an int or two uint64 words, not a bool")
    if isinstance(key, (int, np.integer)):
        key = int(key)
        if not 0 <= key < 1 << 128:
            raise located(ValueError, "Generator: an int key must be in [0, 2**128)")
        return key & M64, key >> 64
    if isinstance(key, Array):
        key = np.asarray(key)
    if isinstance(key, (list, tuple)) and all(
        isinstance(w, (int, np.integer)) and not isinstance(w, (builtins.bool, np.bool_))
        for w in key
    ):
        key = np.array([int(w) for w in key], dtype=object)  # exact, whatever the size
    try:
        words = np.asarray(key)
    except (TypeError, ValueError):
        words = None
    if words is None or words.dtype.kind not in "iuO" or words.shape != (2,):
        shown = f"shape {words.shape}, dtype {words.dtype}" if words is not None else repr(key)
        raise located(
            ValueError,
            f"Generator: key must be an int in [0, 2**128) or two uint64 words "
            f"(shape (2,)), got {shown}",
        )
    values = [int(w) for w in words]
    if any(not 0 <= w <= M64 for w in values):
        raise located(ValueError, "Generator: key words must be in [0, 2**64)")
    return values[0], values[1]


def _seed_words(seed: Any) -> tuple[int, int]:
    """The key ``np.random.Philox(seed)`` derives from ``seed``."""
    if isinstance(seed, np.random.SeedSequence):
        sequence = seed
    else:
        if isinstance(seed, (float, complex, str, builtins.bool)):
            raise located(TypeError, f"Generator: seed must be an int, ints or None, got {seed!r}")
        try:
            sequence = np.random.SeedSequence(seed)
        except (TypeError, ValueError) as e:
            raise located(type(e), f"Generator: bad seed {seed!r}: {e}") from None
    words = sequence.generate_state(2, np.uint64)
    return int(words[0]), int(words[1])


def _count(n: Any, fname: str, what: str) -> int:
    if isinstance(n, (builtins.bool, np.bool_)):
        raise located(TypeError, f"{fname}: {what} must be an int, got a bool")
    try:
        n = operator.index(n)
    except TypeError:
        raise located(
            TypeError, f"{fname}: {what} must be an int, got {type(n).__name__}"
        ) from None
    if n < 0:
        raise located(ValueError, f"{fname}: {what} must be non-negative, got {n}")
    return n


def _shape(size: Any, fname: str) -> tuple[int, ...]:
    if size is None:
        return ()
    if isinstance(size, Sequence) and not isinstance(size, (str, bytes)):
        dims = tuple(_count(d, fname, "size") for d in size)
    else:
        dims = (_count(size, fname, "size"),)
    return dims


def _out_shape(size: Any, fname: str, *params: Any) -> tuple[int, ...]:
    """``size``, or the broadcast of the parameters' shapes when it is None; the
    parameters must broadcast to it."""
    shapes = [p.shape for p in params if isinstance(p, Array)]
    try:
        common = broadcast_shapes(*shapes) if shapes else ()
    except ValueError:
        raise located(
            ValueError, f"{fname}: the parameters' shapes {shapes} do not broadcast together"
        ) from None
    if size is None:
        return tuple(common)
    shape = _shape(size, fname)
    try:
        ok = tuple(broadcast_shapes(shape, common)) == shape
    except ValueError:
        ok = False
    if not ok:
        raise located(
            ValueError,
            f"{fname}: parameters of shape {tuple(common)} do not broadcast to size {shape}",
        )
    return shape


def _float_dtype(dtype: Any, fname: str) -> np.dtype:
    try:
        d = _dtypes.normalize(dtype)
    except TypeError as e:
        raise located(TypeError, f"{fname}: {e}") from None
    if d not in _FLOATS:
        raise located(TypeError, f"{fname}: dtype must be float32 or float64, got {d}")
    return d


def _float_param(x: Any, dtype: np.dtype, fname: str, what: str) -> Any:
    """A real parameter: a Python number stays one; arrays become float Arrays."""
    if isinstance(x, (int, float)) and not isinstance(x, (builtins.bool, np.generic)):
        return float(x)
    if isinstance(x, (np.ndarray, np.generic, Array)):
        a = x if isinstance(x, Array) else asarray(x)
        if not (_dtypes.is_floating(a.dtype) or _dtypes.is_integer(a.dtype)):
            raise located(TypeError, f"{fname}: {what} must be real numbers, got {a.dtype}")
        return a if a.dtype == dtype else astype(a, dtype)
    raise located(TypeError, f"{fname}: {what} must be a number or an array, got {x!r}")


def _int_param(x: Any, fname: str, what: str) -> Any:
    if isinstance(x, (int, np.integer)) and not isinstance(x, (builtins.bool, np.bool_)):
        return int(x)
    if isinstance(x, (np.ndarray, np.generic, Array)):
        a = x if isinstance(x, Array) else asarray(x)
        if not _dtypes.is_integer(a.dtype):
            raise located(TypeError, f"{fname}: {what} must be integers, got {a.dtype}")
        return a
    raise located(TypeError, f"{fname}: {what} must be an int or an integer array, got {x!r}")


def _known(x: Any) -> Any:
    """The value of a parameter if known now (a number or a computed array), else None."""
    if isinstance(x, (int, float)):
        return x
    if isinstance(x, Array):
        return x._node.value
    return None


def _exact(known: Any) -> Any:
    """Known integers as Python ints (an object array), which neither wrap nor overflow."""
    if known is None or isinstance(known, int):
        return known
    return np.asarray(known).astype(object)


def _is_number(x: Any, v: float) -> bool:
    return isinstance(x, float) and x == v


def _bounds(dtype: np.dtype) -> tuple[int, int]:
    """[min, max + 1) of an integer (or bool) dtype."""
    if _dtypes.is_bool(dtype):
        return 0, 2
    info = np.iinfo(dtype)
    return int(info.min), int(info.max) + 1


def default_rng(seed: Any = None) -> Generator:
    """A ``Generator`` seeded as ``np.random.default_rng(seed)`` seeds its bit generator
    (the stream is Philox's, not NumPy's default PCG64)."""
    return Generator(seed)
