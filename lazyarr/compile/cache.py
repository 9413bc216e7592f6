"""The on-disk cache of compiled kernels, keyed by a hash of what went into them.

Entries are ``<key>.so`` plus ``<key>.sha256`` holding the library's own hash.
Writes go to a temporary file that is renamed into place, so a reader never
sees half a file and several processes building the same entry all succeed (the
last rename wins, with identical content). A library whose hash does not match
is rebuilt, with a warning.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from collections.abc import Callable


class DiskCache:
    def __init__(self, directory: str):
        self.directory = directory
        os.makedirs(directory, mode=0o700, exist_ok=True)
        if os.stat(directory).st_mode & 0o077 and os.stat(directory).st_uid == os.getuid():
            os.chmod(directory, 0o700)

    def _paths(self, key: str) -> tuple[str, str]:
        base = os.path.join(self.directory, key)
        return base + ".so", base + ".sha256"

    def get(self, key: str) -> str | None:
        """The path of a verified library for ``key``, or None."""
        so, digest_path = self._paths(key)
        try:
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
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{key[:12]}-", suffix=".so")
        os.close(fd)
        try:
            build(tmp)
            with open(tmp, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            os.chmod(tmp, 0o700)
            os.replace(tmp, so)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        fd, tmp_digest = tempfile.mkstemp(dir=self.directory, prefix=f".{key[:12]}-")
        with os.fdopen(fd, "w") as f:
            f.write(digest)
        os.replace(tmp_digest, digest_path)
        return so
