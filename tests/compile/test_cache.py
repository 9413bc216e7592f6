"""The on-disk kernel cache: DiskCache itself, and how processes share (or lack) it.

Every test here points ``LAZYARR_CACHE_DIR`` (and, for subprocesses, ``HOME``) at a
temporary directory, so the user's own ``~/.cache/lazyarr`` is never read or written.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path

import pytest

from lazyarr import config
from lazyarr.compile import cache as cache_module
from lazyarr.compile.cache import DiskCache

REPO = Path(__file__).resolve().parents[2]
KEY = "ab" * 32
REAL_CC = shutil.which("cc") or shutil.which("gcc")
requires_cc = pytest.mark.skipif(REAL_CC is None, reason="needs a C compiler")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """No test in this file may reach the user's home cache."""
    monkeypatch.setenv("LAZYARR_CACHE_DIR", str(tmp_path / "cache-env"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    yield
    # Had anything fallen back to the default directory, it would show here.
    assert not (tmp_path / "home" / ".cache").exists()


def _writer(content: bytes):
    def build(target: str) -> None:
        with open(target, "wb") as f:
            f.write(content)

    return build


def _entries(directory: Path) -> list[str]:
    """The directory's files, less the cache's lock file."""
    return sorted(p.name for p in directory.iterdir() if p.name != ".lock")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ----------------------------------------------------------------------------- DiskCache
def test_config_uses_env_dir_else_home(tmp_path, monkeypatch):
    assert config.cache_dir() == str(tmp_path / "cache-env")
    monkeypatch.delenv("LAZYARR_CACHE_DIR")
    # HOME decides the default, so subprocesses given a temporary HOME stay off the real one.
    assert config.cache_dir() == str(tmp_path / "home" / ".cache" / "lazyarr")


def test_put_get_round_trip(tmp_path):
    d = tmp_path / "c"
    cache = DiskCache(str(d))
    assert cache.get(KEY) is None
    path = cache.put(KEY, _writer(b"library bytes"))
    assert path == str(d / f"{KEY}.so")
    assert Path(path).read_bytes() == b"library bytes"
    digest = (d / f"{KEY}.sha256").read_text().strip()
    assert digest == hashlib.sha256(b"library bytes").hexdigest()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.get(KEY) == path
        assert DiskCache(str(d)).get(KEY) == path  # a new instance (process) finds it
    assert DiskCache(str(d)).get("cd" * 32) is None
    assert _entries(d) == [f"{KEY}.sha256", f"{KEY}.so"]  # no temporary files left


def test_directory_created_private(tmp_path):
    d = tmp_path / "a" / "b" / "cache"
    DiskCache(str(d))
    assert d.is_dir()
    assert _mode(d) == 0o700


def test_directory_created_private_despite_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        d = tmp_path / "strict"
        DiskCache(str(d))
    finally:
        os.umask(old)
    assert _mode(d) == 0o700


@pytest.mark.parametrize("mode", [0o755, 0o750, 0o777, 0o705])
def test_existing_open_directory_is_tightened(tmp_path, mode):
    d = tmp_path / "shared"
    d.mkdir()
    os.chmod(d, mode)
    DiskCache(str(d))
    assert _mode(d) == 0o700


def test_directory_of_another_user_is_refused(tmp_path, monkeypatch):
    """Loading kernels others can write would run their code: refuse the directory."""
    d = tmp_path / "theirs"
    d.mkdir()
    os.chmod(d, 0o777)
    uid = os.getuid()
    with monkeypatch.context() as m, pytest.raises(PermissionError, match="theirs"):
        m.setattr(cache_module.os, "getuid", lambda: uid + 1)
        DiskCache(str(d))
    assert _mode(d) == 0o777  # not ours to change


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[: len(b) // 2], id="truncated"),
        pytest.param(lambda b: b"", id="emptied"),
        pytest.param(lambda b: b[:5] + bytes([b[5] ^ 1]) + b[6:], id="bit-flip"),
        pytest.param(lambda b: b + b"\0", id="appended"),
    ],
)
def test_damaged_library_is_rejected_with_warning(tmp_path, damage):
    d = tmp_path / "c"
    cache = DiskCache(str(d))
    so = Path(cache.put(KEY, _writer(b"\x7fELF" + bytes(range(256)))))
    so.write_bytes(damage(so.read_bytes()))
    with pytest.warns(RuntimeWarning, match="corrupt") as record:
        assert cache.get(KEY) is None
    assert str(so) in str(record[0].message)
    # The rebuild replaces it, and the entry is good again.
    cache.put(KEY, _writer(b"rebuilt"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.get(KEY) == str(so)


def test_altered_digest_is_rejected_with_warning(tmp_path):
    d = tmp_path / "c"
    cache = DiskCache(str(d))
    so = cache.put(KEY, _writer(b"library"))
    (d / f"{KEY}.sha256").write_text("0" * 64)
    with pytest.warns(RuntimeWarning, match="corrupt") as record:
        assert cache.get(KEY) is None
    assert so in str(record[0].message)


def test_missing_digest_or_library_is_a_miss(tmp_path):
    d = tmp_path / "c"
    cache = DiskCache(str(d))
    cache.put(KEY, _writer(b"library"))
    os.unlink(d / f"{KEY}.sha256")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.get(KEY) is None
    cache.put(KEY, _writer(b"library"))
    os.unlink(d / f"{KEY}.so")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.get(KEY) is None


class _BuildError(Exception):
    pass


@pytest.mark.parametrize("exc", [_BuildError, KeyboardInterrupt])
def test_failing_build_leaves_nothing(tmp_path, exc):
    d = tmp_path / "c"
    cache = DiskCache(str(d))
    seen = []

    def build(target: str) -> None:
        seen.append(target)
        with open(target, "wb") as f:
            f.write(b"half a libr")
        raise exc("compiler crashed")

    with pytest.raises(exc):
        cache.put(KEY, build)
    assert os.path.dirname(seen[0]) == str(d)  # built beside the entry, for an atomic rename
    assert _entries(d) == []
    assert cache.get(KEY) is None


def test_build_that_writes_nothing_stores_nothing(tmp_path):
    """A 'successful' build with no output must not become a permanent, unloadable entry."""
    d = tmp_path / "c"
    cache = DiskCache(str(d))
    with pytest.raises(RuntimeError, match="no output"):
        cache.put(KEY, lambda target: None)
    assert _entries(d) == []


def test_concurrent_puts_of_one_key(tmp_path):
    d = tmp_path / "c"
    n = 8
    barrier = threading.Barrier(n)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            cache = DiskCache(str(d))

            def build(target: str) -> None:
                barrier.wait(timeout=10)  # everyone builds at once
                # Builds differ (a compiler embeds its temporary source name).
                _writer(b"library built by thread %d" % i)(target)

            results.append(cache.put(KEY, build))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == [str(d / f"{KEY}.so")] * n
    visible = [e for e in _entries(d) if not e.startswith(".")]
    assert visible == [f"{KEY}.sha256", f"{KEY}.so"]
    assert [e for e in _entries(d) if e.startswith(".")] == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert DiskCache(str(d)).get(KEY) == results[0]


def test_interleaved_puts_keep_library_and_digest_together(tmp_path, monkeypatch):
    """Writer A renames its library; B writes library and digest; A writes its digest.

    Without mutual exclusion this leaves B's library under A's digest: every later
    process then sees a 'corrupt' entry. A pauses (at most 0.5 s) after its first rename
    to let B run in between if nothing stops it.
    """
    d = tmp_path / "c"
    DiskCache(str(d))
    so = str(d / f"{KEY}.so")
    b_done = threading.Event()
    real_replace = os.replace

    def replace(src, dst):
        real_replace(src, dst)
        if dst == so and threading.current_thread().name == "A":
            b_done.wait(timeout=0.5)

    with monkeypatch.context() as m:
        m.setattr(cache_module.os, "replace", replace)
        a_started = threading.Event()

        def put_a() -> None:
            def build(target):
                _writer(b"A")(target)
                a_started.set()

            DiskCache(str(d)).put(KEY, build)

        def put_b() -> None:
            a_started.wait(timeout=10)
            DiskCache(str(d)).put(KEY, _writer(b"B"))
            b_done.set()

        threads = [
            threading.Thread(target=put_a, name="A"),
            threading.Thread(target=put_b, name="B"),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert DiskCache(str(d)).get(KEY) == so


def test_reader_never_sees_half_an_update(tmp_path):
    """get() while another thread keeps replacing the entry: never a false 'corrupt'."""
    d = tmp_path / "c"
    cache = DiskCache(str(d))
    cache.put(KEY, _writer(b"v0" * 1000))
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            DiskCache(str(d)).put(KEY, _writer(b"v%d" % i * 1000))

    t = threading.Thread(target=writer)
    t.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for _ in range(300):
                assert cache.get(KEY) is not None
    finally:
        stop.set()
        t.join()


# ----------------------------------------------------------------------------- processes
SCRIPT = textwrap.dedent(
    """
    import numpy as np
    import lazyarr as xp

    @xp.jit
    def f(x, y):
        return xp.exp(x) * y + 1

    x = np.linspace(0.0, 1.0, 1000)
    for shape in [(1000,), (10, 100)]:  # kernels are shape-generic: one library
        a = x.reshape(shape)
        got = np.asarray(f(a, 2.0))
        assert np.allclose(got, np.exp(a) * 2.0 + 1), "wrong result"
    print(f.lower(x, 2.0).as_text())
    print("RESULT OK")
    """
)


def _env(tmp_path: Path, cache: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LAZYARR_") and k not in ("CC", "PYTHONWARNINGS")
    }
    env.update(
        LAZYARR_CACHE_DIR=str(cache),
        LAZYARR_LOG_COMPILES="1",
        HOME=str(tmp_path / "home"),
        PYTHONPATH=str(REPO),
    )
    env.update(extra)
    return env


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "RESULT OK" in proc.stdout, proc.stdout + proc.stderr
    return proc


def _compiled_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("lazyarr: compiled ")]


def _backends(as_text: str) -> list[str]:
    """The backend of every computed node in an ``as_text()`` listing."""
    lines = [ln for ln in as_text.splitlines() if " = " in ln]
    lines = [ln for ln in lines if not ln.split(" = ")[1].startswith(("input ", "constant "))]
    return [ln.split(" [", 1)[1].split("]", 1)[0] for ln in lines]


def _recording_cc(tmp_path: Path) -> tuple[Path, Path]:
    """A `cc` that logs each invocation, then runs the real compiler."""
    log = tmp_path / "cc-calls.log"
    cc = tmp_path / "bin-cc" / "recording-cc"
    cc.parent.mkdir()
    cc.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexec "{REAL_CC}" "$@"\n')
    cc.chmod(0o755)
    return cc, log


def _builds(log: Path, cache: Path) -> list[str]:
    """Invocations that built something in the cache (not lazyarr's probes in a temp dir)."""
    if not log.exists():
        return []
    return [line for line in log.read_text().splitlines() if str(cache) in line]


def _kernel_builds(log: Path, cache: Path) -> list[str]:
    """Invocations that built a kernel library."""
    return [line for line in _builds(log, cache) if str(cache / "launcher") not in line]


def _launcher_builds(log: Path, cache: Path) -> list[str]:
    """Invocations that built the kernel launcher (once per cache directory)."""
    return [line for line in _builds(log, cache) if str(cache / "launcher") in line]


def _assert_valid_entry(cache: Path) -> None:
    names = _entries(cache)
    libs = [n for n in names if n.endswith(".so") and not n.startswith(".")]
    assert len(libs) == 1, names
    key = libs[0][: -len(".so")]
    assert f"{key}.sha256" in names
    assert [n for n in names if n.startswith(".")] == []  # no temp files
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert DiskCache(str(cache)).get(key) is not None


@requires_cc
def test_second_process_reuses_the_cache(tmp_path):
    """The first process builds the library once; the second loads it, building nothing.

    `CC` is a wrapper that records every invocation and runs the real compiler: the
    same CC in both runs keeps the cache key the same, the second run still has a
    working compiler (so a miss would compile, visibly, instead of silently falling
    back to NumPy as with compilers removed from PATH), and the log tells kernel
    builds (output in the cache directory) from lazyarr's start-up probes.
    """
    cache = tmp_path / "cache"
    cc, log = _recording_cc(tmp_path)
    env = _env(tmp_path, cache, CC=str(cc))

    first = _run(SCRIPT, env)
    assert len(_compiled_lines(first.stderr)) == 1, first.stderr
    assert "1 kernel library compiled" in first.stderr
    assert len(_kernel_builds(log, cache)) == 1
    assert len(_launcher_builds(log, cache)) == 1
    assert all(b.startswith("c ") for b in _backends(first.stdout))
    _assert_valid_entry(cache)
    assert _mode(cache) == 0o700

    log.unlink()
    second = _run(SCRIPT, env)
    assert _compiled_lines(second.stderr) == [], second.stderr
    assert "kernels reused" in second.stderr
    assert _builds(log, cache) == []
    # ...and it really ran the cached C kernel, not a NumPy fallback.
    assert _backends(second.stdout) == _backends(first.stdout)
    assert "Warning" not in second.stderr
    assert not (tmp_path / "home" / ".cache").exists()


@requires_cc
def test_compiler_probe_is_kept_until_the_compiler_changes(tmp_path):
    """A second process runs no compiler at all; a changed compiler binary is probed again
    (its kernels, of the same version string, are still reused)."""
    cache = tmp_path / "cache"
    cc, log = _recording_cc(tmp_path)
    env = _env(tmp_path, cache, CC=str(cc))
    _run(SCRIPT, env)
    assert [n for n in _entries(cache) if n.startswith("compiler-")]

    log.unlink()
    _run(SCRIPT, env)
    assert not log.exists()  # no probe, no build

    cc.write_text(cc.read_text() + "# upgraded\n")
    changed = _run(SCRIPT, env)
    probes = [line for line in log.read_text().splitlines() if str(cache) not in line]
    assert any("--version" in line for line in probes)
    assert _builds(log, cache) == []
    assert "kernels reused" in changed.stderr


@requires_cc
def test_without_python_headers_kernels_run_through_cffi(tmp_path):
    """No launcher can be built: the kernels still run compiled, called through libffi."""
    code = (
        "from lazyarr.compile import c_backend\n"
        "c_backend._python_include = lambda: None\n"
        + SCRIPT
        + "assert c_backend.launcher() is None\n"
    )
    proc = _run(code, _env(tmp_path, tmp_path / "cache"))
    assert all(b.startswith("c ") for b in _backends(proc.stdout))
    assert "Warning" not in proc.stderr
    assert not (tmp_path / "cache" / "launcher").exists()


@requires_cc
def test_corrupt_library_is_rebuilt_by_next_process(tmp_path):
    cache = tmp_path / "cache"
    env = _env(tmp_path, cache)
    _run(SCRIPT, env)
    (so,) = [p for p in cache.glob("*.so") if not p.name.startswith(".")]
    data = so.read_bytes()
    so.write_bytes(data[: len(data) // 2])

    rebuilt = _run(SCRIPT, env)
    assert "RuntimeWarning" in rebuilt.stderr
    assert f"cached kernel {so} is corrupt" in rebuilt.stderr
    assert len(_compiled_lines(rebuilt.stderr)) == 1
    assert all(b.startswith("c ") for b in _backends(rebuilt.stdout))
    _assert_valid_entry(cache)

    again = _run(SCRIPT, env)
    assert _compiled_lines(again.stderr) == []
    assert "Warning" not in again.stderr


@requires_cc
def test_processes_racing_on_an_empty_cache(tmp_path):
    """Four processes start together, all miss, all build: all succeed, no false alarms."""
    n = 4
    cache = tmp_path / "cache"
    ready = tmp_path / "ready"
    ready.mkdir()
    env = _env(tmp_path, cache)
    # Each process waits until all have imported lazyarr, so they reach the cache together.
    code = (
        textwrap.dedent(
            f"""
        import os, sys, time
        import lazyarr
        open(os.path.join({str(ready)!r}, str(os.getpid())), "w").close()
        deadline = time.monotonic() + 60
        while len(os.listdir({str(ready)!r})) < {n} and time.monotonic() < deadline:
            time.sleep(0.005)
        """
        )
        + SCRIPT
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err
        assert "RESULT OK" in out
        assert "Warning" not in err, err
        assert all(b.startswith("c ") for b in _backends(out))
    _assert_valid_entry(cache)
    after = _run(SCRIPT, env)
    assert _compiled_lines(after.stderr) == []
    assert "Warning" not in after.stderr


NO_CC_SCRIPT = textwrap.dedent(
    """
    import numpy as np
    import lazyarr as xp

    @xp.jit
    def f(x, y):
        return xp.exp(x) * y + 1

    @xp.jit
    def g(x):
        return xp.sqrt(xp.abs(x)) - x * x

    @xp.jit
    def h(x, y):
        return xp.where(x > 0.5, xp.sin(x), y)

    x = np.linspace(0.0, 1.0, 100)
    assert np.allclose(np.asarray(f(x, 3.0)), np.exp(x) * 3.0 + 1)
    assert np.allclose(np.asarray(g(x)), np.sqrt(np.abs(x)) - x * x)
    assert np.allclose(np.asarray(h(x, -x)), np.where(x > 0.5, np.sin(x), -x))
    assert np.allclose(np.asarray(g(x[:10])), np.sqrt(np.abs(x[:10])) - x[:10] ** 2)
    for text in [f.lower(x, 3.0).as_text(), g.lower(x).as_text(), h.lower(x, -x).as_text()]:
        print(text)
    print("RESULT OK")
    """
)


@pytest.fixture(scope="module")
def no_cc_run(tmp_path_factory) -> subprocess.CompletedProcess:
    """NO_CC_SCRIPT run with CC unset and PATH holding only a `python` symlink."""
    tmp_path = tmp_path_factory.mktemp("no-cc")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    env = _env(tmp_path, tmp_path / "cache", PATH=str(bin_dir))
    assert "CC" not in env
    proc = _run(NO_CC_SCRIPT, env)
    assert not (tmp_path / "home" / ".cache").exists()
    return proc


def test_no_compiler_runs_on_numpy_with_one_warning(no_cc_run):
    proc = no_cc_run
    warning_lines = [ln for ln in proc.stderr.splitlines() if "Warning" in ln]
    assert len(warning_lines) == 1, proc.stderr  # three functions, four traces: one warning
    assert "RuntimeWarning" in warning_lines[0]
    assert "no C compiler found" in warning_lines[0]
    assert _compiled_lines(proc.stderr) == []
    backends = _backends(proc.stdout)
    assert len(backends) >= 8
    assert set(backends) == {"numpy"}, proc.stdout


def test_no_compiler_log_does_not_claim_reused_kernels(no_cc_run):
    """Known bug (jit._log): with no kernels at all, the trace log says "kernels reused"."""
    traces = [ln for ln in no_cc_run.stderr.splitlines() if "traced for" in ln]
    assert len(traces) == 4, no_cc_run.stderr
    assert not any("kernels reused" in ln for ln in traces), no_cc_run.stderr
