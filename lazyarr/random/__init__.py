"""Random numbers: NumPy's Philox stream, keyed by an ``xp.State``, on every backend.

``xp.random.Generator(seed)`` draws the same words as ``np.random.Philox(seed)``;
its position in the stream is a ``State``, so inside ``xp.jit`` every draw is an
update of the call and each call draws new numbers. See ``docs/random.md``.

>>> import lazyarr as xp
>>> rng = xp.random.Generator(42)
>>> rng.uniform(size=3).shape
(3,)
"""

from ._generator import Generator, default_rng
from ._philox import mulhilo, philox4x64

__all__ = ["Generator", "default_rng", "mulhilo", "philox4x64"]
