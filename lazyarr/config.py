"""Run-time switches that change how, never what, lazyarr computes.

Environment variables (read when used, so tests and users can set them late):

- ``LAZYARR_DISABLE_JIT=1``: jitted functions run eagerly through the NumPy
  reference backend, so a debugger can step through them (also
  ``with xp.disable_jit(): ...``).
- ``LAZYARR_LOG_COMPILES=1``: log every trace and compile, with its reason, to
  stderr (the ``lazyarr`` logger, at INFO level).
- ``LAZYARR_CACHE_DIR``: where compiled kernels are kept (default
  ``~/.cache/lazyarr``).
- ``LAZYARR_NUM_THREADS``: threads for large compiled loops (default: all cores).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator


class _Local(threading.local):
    disable_jit = False


_local = _Local()
log = logging.getLogger("lazyarr")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


# NOTE: jit_disabled runs on every jitted call, and os.environ's mapping encodes the key
# on each lookup; reading its underlying dict directly keeps the check near free.
_ENVIRON = getattr(os.environ, "_data", None)
_DISABLE_KEY = os.environ.encodekey("LAZYARR_DISABLE_JIT") if _ENVIRON is not None else None


def jit_disabled() -> bool:
    if _local.disable_jit:
        return True
    if _ENVIRON is not None and _DISABLE_KEY not in _ENVIRON:
        return False
    return _env_flag("LAZYARR_DISABLE_JIT")


@contextlib.contextmanager
def disable_jit(disable: bool = True) -> Iterator[None]:
    """Run jitted functions eagerly (through the NumPy backend) inside this block.

    >>> import lazyarr as xp
    >>> f = xp.jit(lambda x: x * 2)
    >>> with xp.disable_jit():
    ...     y = f(xp.asarray([1.0]))   # runs the Python body: breakpoints work
    """
    previous = _local.disable_jit
    _local.disable_jit = disable
    try:
        yield
    finally:
        _local.disable_jit = previous


_handler: logging.Handler | None = None


def log_compiles() -> bool:
    """Whether traces and compiles are logged; installs a stderr handler when asked to."""
    global _handler
    if not _env_flag("LAZYARR_LOG_COMPILES"):
        return log.isEnabledFor(logging.INFO)
    if _handler is None:
        _handler = logging.StreamHandler(sys.stderr)
        _handler.setFormatter(logging.Formatter("lazyarr: %(message)s"))
        log.addHandler(_handler)
        log.setLevel(logging.INFO)
    return True


def cache_dir() -> str:
    return os.environ.get("LAZYARR_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "lazyarr"
    )


def num_threads() -> int:
    value = os.environ.get("LAZYARR_NUM_THREADS", "")
    if value.strip():
        try:
            return max(1, int(value))
        except ValueError:
            pass
    return os.cpu_count() or 1
