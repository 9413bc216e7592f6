"""The on-disk cache of compiled kernels, keyed by a hash of what went into them.

Entries are ``<key>.so`` plus ``<key>.sha256`` holding the library's own hash.
A library is built into a temporary file beside its entry; the library and its
hash are then renamed into place together, under an exclusive lock on the
directory's ``.lock`` file, and read under a shared one. So a reader never sees
half a file, nor one writer's library with another's hash (builds of the same
source differ: the compiler records its temporary file names), and several
processes building the same entry all succeed (the last one wins). A library
whose hash does not match is rebuilt, with a warning.

The directory is private (mode 0700): it holds code that lazyarr loads and runs,
so a directory that belongs to another user is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
import warnings
from collections.abc import Callable, Iterator

try:
    import fcntl
except ImportError:  # pragma: no cover (not POSIX: no locking)
    fcntl = None  # type: ignore[assignment]

LOCK = ".lock"


class DiskCache:
    def __init__(self, directory: str):
        self.directory = directory
        os.makedirs(directory, mode=0o700, exist_ok=True)
        st = os.stat(directory)
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            raise PermissionError(
                f"lazyarr: the kernel cache directory {directory} belongs to another user; "
                "set LAZYARR_CACHE_DIR to a directory of your own"
            )
        if stat.S_IMODE(st.st_mode) != 0o700:
            os.chmod(directory, 0o700)

    def _paths(self, key: str) -> tuple[str, str]:
        base = os.path.join(self.directory, key)
        return base + ".so", base + ".sha256"

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        """Hold the directory's lock (between threads as well as processes)."""
        fd = -1
        if fcntl is not None:
            try:
                fd = os.open(os.path.join(self.directory, LOCK), os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:  # a read-only cache: nobody writes it, nothing to exclude
                fd = -1
        try:
            if fd >= 0:
                fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            if fd >= 0:
                os.close(fd)  # releases the lock

    def get(self, key: str) -> str | None:
        """The path of a verified library for ``key``, or None."""
        so, digest_path = self._paths(key)
        try:
            with self._locked(exclusive=False):
                with open(digest_path) as f:
                    expected = f.read().strip()
                with open(so, "rb") as f:
                    actual = hashlib.sha256(f.read()).hexdigest()
        except FileNotFoundError:
            return None
        except OSError as e:
            warnings.warn(
                f"lazyarr: cannot read cached kernel {so} ({e}); rebuilding it",
                RuntimeWarning,
                stacklevel=3,
            )
            return None
        if actual != expected:
            warnings.warn(
                f"lazyarr: cached kernel {so} is corrupt (hash mismatch); rebuilding it",
                RuntimeWarning,
                stacklevel=3,
            )
            return None
        return so

    def put(self, key: str, build: Callable[[str], None]) -> str:
        """Build the library for ``key`` with ``build(path)`` and store it atomically."""
        so, digest_path = self._paths(key)
        prefix = f".{key[:12]}-"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=prefix, suffix=".so")
        os.close(fd)
        tmp_digest = None
        try:
            build(tmp)
            with open(tmp, "rb") as f:
                data = f.read()
            if not data:
                raise RuntimeError(f"lazyarr: building the kernel library {so} produced no output")
            fd, tmp_digest = tempfile.mkstemp(dir=self.directory, prefix=prefix, suffix=".sha256")
            with os.fdopen(fd, "w") as f:
                f.write(hashlib.sha256(data).hexdigest())
            os.chmod(tmp, 0o700)
            with self._locked(exclusive=True):
                os.replace(tmp, so)
                os.replace(tmp_digest, digest_path)
        except BaseException:
            for path in (tmp, tmp_digest):
                if path is not None:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
            raise
        return so
