"""Fixtures shared by the compiler's tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def private_cache_dir(tmp_path_factory):
    """Compiled kernels go to a temporary directory: the user's cache is never touched."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAZYARR_CACHE_DIR", str(tmp_path_factory.mktemp("lazyarr-cache")))
        mp.delenv("LAZYARR_DISABLE_JIT", raising=False)
        yield
