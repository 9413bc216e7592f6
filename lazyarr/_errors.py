"""Where in the user's code a graph node was written, and errors that say so.

Every node remembers the first frame outside the lazyarr package that built it, so
a failure found later (at evaluation, or in compiled code) still points at the
line the user wrote.
"""

from __future__ import annotations

import os
import sys

_PKG_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
# NOTE: the examples are user code shipped inside the package; point errors at them.
_EXAMPLES_DIR = _PKG_DIR + "examples" + os.sep

Location = tuple  # (filename, lineno, function name)


def _is_internal(filename: str) -> bool:
    return filename.startswith(_PKG_DIR) and not filename.startswith(_EXAMPLES_DIR)


_internal_files: dict[str, bool] = {}


def user_location() -> Location | None:
    """The innermost frame of the call stack that is not lazyarr's own code.

    Called for every node built, so the file test is cached per file name. The
    caller is lazyarr code, so the walk starts at the caller's caller.
    """
    f = sys._getframe(2)
    while f is not None:
        code = f.f_code
        filename = code.co_filename
        internal = _internal_files.get(filename)
        if internal is None:
            internal = _internal_files[filename] = _is_internal(filename)
        if not internal:
            return (filename, f.f_lineno, code.co_name)
        f = f.f_back
    return None


def format_location(loc: Location | None) -> str:
    if loc is None:
        return "<unknown location>"
    return f"{loc[0]}:{loc[1]}"


def located(exc_type: type[Exception], message: str, loc: Location | None = None) -> Exception:
    """An exception whose message ends with the user's file and line."""
    if loc is None:
        loc = user_location()
    return exc_type(f"{message} (at {format_location(loc)})")


def relocate(exc: Exception, loc: Location | None, what: str) -> Exception:
    """The same kind of error as ``exc``, with the user's line of ``what`` added."""
    message = f"{exc} (in {what} written at {format_location(loc)})"
    try:
        new = type(exc)(message)
    except Exception:  # an exception type whose constructor takes other arguments
        new = RuntimeError(message)
    new.__cause__ = exc
    return new


class TracerConversionError(TypeError):
    """A traced array was asked for a concrete value while a function is being traced.

    Inside ``xp.jit``, arrays stand for values that do not exist yet, so Python
    control flow cannot depend on them.
    """


CONVERSION_HINT = (
    "inside xp.jit an array has no value yet, so bool(), int(), float(), operator.index() "
    "and np.asarray() cannot be applied to it; use xp.where(...) to select values, pass the "
    "argument in static_argnames/static_argnums, or move this code outside the jitted function"
)
