"""The C backend: fused elementwise kernels, compiled with the system C compiler, run through cffi.

``partitioner()`` gives the jit a function that claims groups of elementwise
nodes for kernels. Everything it does not claim runs through the NumPy
reference backend inside the same program. Without a working compiler it
warns once and claims nothing, so jit still works, on NumPy alone.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.machinery
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import NamedTuple

import cffi
import numpy as np

from .. import __version__, config
from .._errors import format_location, user_location
from .._graph import Node
from . import c_dense, c_index, c_kernels, c_reduce
from .buffers import allocator
from .cache import DiskCache

# Loops smaller than this run on one thread: starting a team costs microseconds.
PARALLEL_MIN = 1 << 16
FLAGS = (
    # NOTE: -O2 with the vectorizer runs as fast as -O3 here and compiles twice as fast.
    "-O2",
    "-ftree-vectorize",
    "-fvect-cost-model=dynamic",
    "-march=native",
    "-fno-math-errno",
    "-fwrapv",
    "-ffp-contract=off",
    "-fopenmp",
    "-fPIC",
    "-shared",
)
LIBS = ("-lmvec", "-lm")

_ffi = cffi.FFI()
_lock = threading.Lock()
_loaded: dict[str, object] = {}
compiles = 0  # libraries built by this process (the jit's log reports reuse with it)


def _warn(message: str) -> None:
    """A RuntimeWarning that names the user's line that needed the compiler."""
    warnings.warn(
        f"{message} (at {format_location(user_location())})", RuntimeWarning, stacklevel=3
    )


class CompilerUnavailableError(RuntimeError):
    """No C compiler that builds lazyarr's kernels was found."""


@functools.cache
def compiler() -> tuple[str, str, tuple[str, ...]] | None:
    """(command, version, libraries) of the C compiler, or None (with a warning, once).

    The command is ``$CC`` split as a shell would (``ccache gcc`` works), else ``cc``,
    else ``gcc``.
    """
    words = shlex.split(os.environ.get("CC", "")) or ["cc"]
    found = shutil.which(words[0])
    if found is None and "CC" in os.environ:
        _warn(f"lazyarr: $CC={os.environ['CC']!r} not found; trying gcc")
    path = (found, *words[1:]) if found else (shutil.which("gcc"),)
    if path[0] is None:
        _warn(
            "lazyarr: no C compiler found (looked for $CC, cc, gcc); jitted functions "
            "run on the NumPy backend. Install gcc to compile them."
        )
        return None
    probe = _probe_record(path)
    if probe is not None and os.path.exists(probe):
        # NOTE: a warm process skips the probes (~0.2 s): the record is keyed by the
        # compiler binary's path, size and modification time.
        with open(probe) as f:
            version, _, libs_text = f.read().partition("\n")
        return path, version, tuple(libs_text.split())
    # NOTE: the version query runs while the first link probe compiles (a cold start
    # waits for both).
    try:
        asking = subprocess.Popen(
            [*path, "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
    except OSError:
        asking = None
    libs = next((libs for libs in (LIBS, ("-lm",)) if _links(path, libs)), None)
    version = "unknown"
    if asking is not None:
        try:
            version = asking.communicate(timeout=30)[0].splitlines()[0]
        except subprocess.TimeoutExpired:
            asking.kill()
            asking.communicate()
        except IndexError:
            pass
    if libs is not None:
        if probe is not None:
            _write_atomic(probe, version + "\n" + " ".join(libs))
    else:
        _warn(
            f"lazyarr: the C compiler {' '.join(path)} cannot build shared libraries; jitted "
            "functions run on the NumPy backend."
        )
        return None
    return path, version, libs


def _probe_record(path: tuple[str, ...]) -> str | None:
    """Where the probe result for this compiler binary is kept (None if unknowable)."""
    try:
        st = os.stat(os.path.realpath(path[0]))
        directory = config.cache_dir()
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError:
        return None
    ident = (
        f"{os.path.realpath(path[0])}:{' '.join(path[1:])}:{st.st_size}:{st.st_mtime_ns}:"
        f"{' '.join(FLAGS)}"
    )
    return os.path.join(directory, "compiler-" + hashlib.sha256(ident.encode()).hexdigest()[:16])


def _write_atomic(path: str, text: str) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".probe-")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        pass


def _links(path: tuple[str, ...], libs: Sequence[str]) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write("#include <math.h>\ndouble probe(double x) { return exp(x); }\n")
        result = subprocess.run(
            [*path, *FLAGS, src, "-o", os.path.join(tmp, "probe.so"), *libs],
            capture_output=True,
            timeout=120,
        )
        return result.returncode == 0


def _machine() -> str:
    """What -march=native depends on: a cache shared between machines must not mix them."""
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
        flags = next((line for line in info.splitlines() if line.startswith("flags")), "")
        model = next((line for line in info.splitlines() if line.startswith("model name")), "")
        return hashlib.sha256((model + flags).encode()).hexdigest()[:16]
    except OSError:
        return sys.platform


@functools.cache
def _python_include() -> str | None:
    """Where Python.h is, if this Python has its headers (needed for the launcher)."""
    include = sysconfig.get_paths().get("include")
    return include if include and os.path.exists(os.path.join(include, "Python.h")) else None


def load(source: str, declarations: Sequence[str]):
    """The loaded library built from ``source`` (from memory, disk, or a compile), with
    ``declarations`` (C signatures) callable.

    The library is plain C, opened with cffi in ABI mode: it compiles without
    Python's headers (about 0.2 s less per build). Its kernels are called through
    the launcher where one builds (see ``launcher``), else through libffi.
    """
    cc = compiler()
    if cc is None:
        raise CompilerUnavailableError("no C compiler")
    path, version, libs = cc
    key = hashlib.sha256(
        "\n".join(
            [
                source,
                *declarations,
                " ".join(path),
                version,
                " ".join(FLAGS + tuple(libs)),
                __version__,
                _machine(),
            ]
        ).encode()
    ).hexdigest()
    with _lock:
        lib = _loaded.get(key)
        if lib is not None:
            return lib
        cache = DiskCache(config.cache_dir())
        so = cache.get(key)
        if so is None:
            global compiles
            so = cache.put(key, lambda target: _compile(path, libs, source, target))
            compiles += 1
            if config.log_compiles():
                config.log.info(
                    "compiled %d kernel(s) with %s (%s)",
                    len(declarations),
                    " ".join(path),
                    key[:12],
                )
        ffi = cffi.FFI()
        ffi.cdef("".join(d + ";\n" for d in declarations))
        lib = ffi.dlopen(so)
        _loaded[key] = lib
        return lib


def _compile(
    path: tuple[str, ...],
    libs: Sequence[str],
    source: str,
    target: str,
    flags: Sequence[str] = FLAGS,
) -> None:
    src = target + ".c"
    with open(src, "w") as f:
        f.write(source)
    try:
        result = subprocess.run(
            [*path, *flags, src, "-o", target, *libs],
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        os.unlink(src)
    if result.returncode != 0:
        raise RuntimeError(
            f"lazyarr: the C compiler failed on generated code (a lazyarr bug):\n"
            f"{result.stderr[-4000:]}"
        )


# ----------------------------------------------------------------------------- launcher
LAUNCH_MAX = 64  # pointers a launcher call passes at most (more: the call goes through libffi)
_LAUNCH_FLAGS = ("-O2", "-fPIC", "-shared")


def _launcher_source() -> str:
    """A CPython extension with one function, ``launch``, that calls a kernel by address.

    ``launch(kernel, ndim, shape, strides, nthreads, parallel_min, writes, out, *arrays)``
    takes the kernel's, shape's and strides' addresses as ints, then the arrays the
    kernel's pointer parameters get: ``out``, the reads, the further outputs. It reads
    the arrays' data pointers from their structs (a cffi ``from_buffer`` per array
    costs more than the whole call) and raises ValueError, having run nothing, unless
    every array is a C-contiguous ndarray and the first ``writes`` and the last
    ``writes - 1`` are writable. The GIL is released while the kernel runs.
    """
    head = "int64_t, const int64_t *, const int64_t *, void *, int64_t, int64_t"
    cases = "".join(
        f"    case {n}: ((void (*)({head}{', void *' * (n - 1)}))fn)"
        f"(ndim, shape, strides, p[0], nthreads, parallel_min"
        f"{''.join(f', p[{i}]' for i in range(1, n))}); break;\n"
        for n in range(1, LAUNCH_MAX + 1)
    )
    return f"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/ndarraytypes.h>
#include <stdint.h>

static PyTypeObject *ndarray;

static PyObject *launch(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {{
    void *p[{LAUNCH_MAX}];
    Py_ssize_t n = nargs - 7;
    if (n < 1 || n > {LAUNCH_MAX}) {{
        PyErr_SetString(PyExc_TypeError, "launch: wrong number of arguments");
        return NULL;
    }}
    void *fn = PyLong_AsVoidPtr(args[0]);
    int64_t ndim = PyLong_AsLongLong(args[1]);
    const int64_t *shape = PyLong_AsVoidPtr(args[2]);
    const int64_t *strides = PyLong_AsVoidPtr(args[3]);
    int64_t nthreads = PyLong_AsLongLong(args[4]);
    int64_t parallel_min = PyLong_AsLongLong(args[5]);
    Py_ssize_t writes = PyLong_AsSsize_t(args[6]);
    if (PyErr_Occurred()) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {{
        PyObject *a = args[7 + i];
        if (!PyObject_TypeCheck(a, ndarray)) {{
            PyErr_SetString(PyExc_ValueError, "launch: not an ndarray");
            return NULL;
        }}
        int flags = PyArray_FLAGS((PyArrayObject *)a);
        int written = i == 0 || i > n - writes;
        if (!(flags & NPY_ARRAY_C_CONTIGUOUS) || (written && !(flags & NPY_ARRAY_WRITEABLE))) {{
            PyErr_SetString(PyExc_ValueError, "launch: not C-contiguous or not writable");
            return NULL;
        }}
        p[i] = PyArray_DATA((PyArrayObject *)a);
    }}
    Py_BEGIN_ALLOW_THREADS
    switch (n) {{
{cases}    }}
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}}

static PyMethodDef methods[] = {{
    {{"launch", (PyCFunction)(void (*)(void))launch, METH_FASTCALL, NULL}},
    {{NULL, NULL, 0, NULL}},
}};

static struct PyModuleDef module = {{PyModuleDef_HEAD_INIT, "_lazyarr_launch", NULL, -1, methods}};

PyMODINIT_FUNC PyInit__lazyarr_launch(void) {{
    PyObject *numpy = PyImport_ImportModule("numpy");
    if (numpy == NULL) return NULL;
    ndarray = (PyTypeObject *)PyObject_GetAttrString(numpy, "ndarray");
    Py_DECREF(numpy);
    if (ndarray == NULL) return NULL;
    return PyModule_Create(&module);
}}
"""


_launcher_lock = threading.Lock()
_launcher_build: list = []  # the thread building the launcher, then its result


def start_launcher() -> None:
    """Build (or find on disk) the launcher in the background: a cold start compiles it
    while the first kernels compile."""
    with _launcher_lock:
        if not _launcher_build:
            # NOTE: not a daemon: exiting waits for a build rather than leave its files.
            thread = threading.Thread(target=_build_launcher, name="lazyarr-launcher")
            _launcher_build.append(thread)
            thread.start()


def launcher() -> Callable | None:
    """The launcher's ``launch``, or None where it cannot be built (no Python or NumPy
    headers): kernels are then called through cffi."""
    start_launcher()
    _launcher_build[0].join()
    return _launcher_build[1] if len(_launcher_build) > 1 else None


def _build_launcher() -> None:
    launch = None
    try:
        launch = _load_launcher()
    except Exception as e:  # a launcher is an optimization: without it calls are slower
        if config.log_compiles():
            config.log.info("no kernel launcher (%s); calling kernels through cffi", e)
    _launcher_build.append(launch)


def _load_launcher() -> Callable | None:
    cc = compiler()
    include = _python_include()
    numpy_include = np.get_include()
    if cc is None or include is None:
        return None
    if not os.path.exists(os.path.join(numpy_include, "numpy", "ndarraytypes.h")):
        return None
    path, version, _ = cc
    source = _launcher_source()
    flags = (*_LAUNCH_FLAGS, "-I" + include, "-I" + numpy_include)
    key = hashlib.sha256(
        "\n".join(
            [
                source,
                " ".join(path),
                version,
                " ".join(_LAUNCH_FLAGS),
                sys.version,
                importlib.machinery.EXTENSION_SUFFIXES[0],
                np.__version__,
            ]
        ).encode()
    ).hexdigest()
    # NOTE: a subdirectory, so the kernel libraries are the only entries beside the probes.
    cache = DiskCache(os.path.join(config.cache_dir(), "launcher"))
    so = cache.get(key) or cache.put(key, lambda target: _compile(path, (), source, target, flags))
    loader = importlib.machinery.ExtensionFileLoader("_lazyarr_launch", so)
    spec = importlib.util.spec_from_file_location("_lazyarr_launch", so, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module.launch


# ----------------------------------------------------------------------------- partitioning
def partitioner() -> Callable | None:
    """The kernel partitioner for the jit, or None when no compiler is usable."""
    if compiler() is None:
        return None
    start_launcher()
    return partition


def partition(order: Sequence[Node], outputs: Sequence[Node]):
    """Group elementwise nodes, and the reductions they feed, into fused kernels.

    A node joins the kernel of the node that reads it when that is its only
    reader, it is not an output, and it has the shape the kernel iterates over
    (or is 0-d): it is then computed in registers, never stored. A reduction
    iterates over its input's shape, so the elementwise work feeding it runs in
    the same pass. Elementwise kernels over the same shape then merge into one
    loop that stores several results (a value and its derivative from one read of
    ``x``), unless a path between them leaves both. Kernels over the same rows whose
    results only the next ones read (the max of a softmax, its exps and their sum)
    chain into one row kernel that makes its passes row by row, the row in cache
    after the first (``c_reduce.row_chains``). Returns ``(kernels, fused, source)``:
    ``kernels`` lists ``Kernel`` records; ``fused`` holds the nodes computed in
    registers or row buffers.
    """
    readers: dict[Node, set[Node]] = {}
    for node in order:
        for i in node.inputs:
            readers.setdefault(i, set()).add(node)
    outs = set(outputs)
    expressible: dict[Node, bool] = {}

    def capable(node: Node) -> bool:
        ok = expressible.get(node)
        if ok is None:
            ok = (
                node.value is None
                and node.op.kind == "elementwise"
                and None not in node.shape  # kernels are built for sizes known when tracing
                and c_kernels.expression(node, ["x"] * len(node.inputs)) is not None
            )
            expressible[node] = ok
        return ok

    dense = {p: c_dense.kernel_name(p) for p in c_dense.claim(order, outputs, readers, capable)}
    taken = {m for p in dense for m in p.members}
    root_of: dict[Node, Node] = {}
    space: dict[Node, tuple] = {}  # the shape each kernel iterates over, by root
    roots: list[Node] = []
    for node in reversed(order):
        if node in taken:
            continue
        if node not in root_of:
            if capable(node):
                space[node] = node.shape
            elif c_reduce.supported(node):
                space[node] = node.inputs[0].shape
            else:
                continue
            root_of[node] = node
            roots.append(node)
        root = root_of[node]
        for i in node.inputs:
            if (
                i not in root_of
                and i not in taken
                and capable(i)
                and len(readers.get(i, ())) == 1
                and i not in outs
                and i.shape in (space[root], ())
            ):
                root_of[i] = root
    moves = {n: c_index.kernel_name(n) for n in order if n not in taken and c_index.supported(n)}
    if not roots and not moves and not dense:
        return [], set(), ""
    _merge_siblings(order, root_of, space)
    groups: dict[Node, list[Node]] = {}
    for node in order:
        if node in root_of:
            groups.setdefault(root_of[node], []).append(node)
    chains = c_reduce.row_chains(order, groups, space, readers, outs)
    chained = {root for chain in chains for root in chain}
    specs = []  # (roots, members, reads, results, name): a kernel, or a chain's row kernel
    for roots in chains + [[root] for root in groups if root not in chained]:
        members = [m for root in roots for m in groups[root]]
        inside = set(members)
        reads = list(dict.fromkeys(i for m in members for i in m.inputs if i not in inside))
        results = [
            m for m in members if m in outs or any(r not in inside for r in readers.get(m, ()))
        ]
        root = roots[0]
        if len(roots) > 1:
            variant = "rows:" + ",".join(str(len(groups[r])) for r in roots)
        else:
            variant = (
                "innermost" if root.op.kind == "reduction" and c_reduce.innermost(root) else ""
            )
        name = c_kernels.kernel_name(members, reads, space[root], variant, results)
        specs.append((roots, members, reads, results, name))

    def kernel_source(roots, members, reads, results, name) -> str:
        root = roots[0]
        if len(roots) > 1:
            stages = [groups[r] for r in roots]
            return c_reduce.row_source(name, stages, reads, results, space[root])
        if root.op.kind == "elementwise":
            return c_kernels.kernel_source(name, members, reads, results)
        return c_reduce.reduction_source(name, root, members[:-1], reads)

    first = {}
    for spec in specs:
        first.setdefault(spec[-1], spec)
    source = c_kernels.PRELUDE + "".join(kernel_source(*spec) for spec in first.values())
    movers = {name: node for node, name in moves.items()}  # one kernel per name
    source += c_index.prelude() + "".join(c_index.source(n, node) for n, node in movers.items())
    layers = {name: p for p, name in dense.items()}  # one kernel per name
    if layers:
        source += c_dense.prelude(list(layers.values()))
        source += "".join(c_dense.source(name, p) for name, p in layers.items())
    try:
        lib = load(
            source,
            [
                c_kernels.signature(name, len(reads), len(results))
                for name, (_, _, reads, results, _) in first.items()
            ]
            + [c_index.declaration(name, node) for name, node in movers.items()]
            + [line for name, p in layers.items() for line in c_dense.declaration(name, p)],
        )
    except (RuntimeError, OSError) as e:
        _warn(f"{e}\nlazyarr: running these operations on the NumPy backend instead")
        return [], set(), ""
    kernels = (
        [
            Kernel(
                _runner(
                    getattr(lib, name), results, space[roots[0]], reads, _iteration_order(roots[0])
                ),
                tuple(results),
                tuple(reads),
                tuple(members),
                name,
            )
            for roots, members, reads, results, name in specs
        ]
        + [
            Kernel(
                c_index.runner(getattr(lib, name), node, PARALLEL_MIN),
                (node,),
                tuple(node.inputs),
                (node,),
                name,
            )
            for node, name in moves.items()
        ]
        + [
            Kernel(
                c_dense.runner(
                    lib,
                    name,
                    p,
                    launcher() if len(p.reads) + len(p.results) < LAUNCH_MAX else None,
                    config.num_threads(),
                    PARALLEL_MIN,
                ),
                p.results,
                p.reads,
                p.members,
                name,
                p.last,
            )
            for p, name in dense.items()
        ]
    )
    fused = {m for k in kernels for m in k.members} - {r for k in kernels for r in k.results}
    return kernels, fused, source


class Kernel(NamedTuple):
    """A compiled kernel: ``run(args, outs=None)`` returns the values of ``results``."""

    run: Callable[..., list[np.ndarray]]
    results: tuple[Node, ...]
    reads: tuple[Node, ...]
    members: tuple[Node, ...]
    name: str
    # Results stored after the kernel's last read, each element after the reads of the
    # same position only: they may go into a donated input's buffer.
    last: tuple[Node, ...] = ()


def _merge_siblings(order: Sequence[Node], root_of: dict[Node, Node], space: dict) -> None:
    """Merge elementwise kernels that iterate over the same shape, in place.

    A kernel joins an earlier one unless it depends on that kernel through some
    node outside both (merging would then make a cycle). Dependencies are tracked
    per kernel as well as per node: a kernel that grew by a merge depends on all
    its members' inputs, so whatever reads it depends on them too. A result read
    only inside the merged kernel is no longer stored.
    """
    members: dict[Node, list[Node]] = {}
    for node in order:
        if node in root_of:
            members.setdefault(root_of[node], []).append(node)
    bit: dict[Node, int] = {}  # per elementwise kernel, by root: its bit
    below: dict[Node, int] = {}  # per node: the kernels it reads through stored values
    needs: dict[int, int] = {}  # per kernel bit: the kernels its members read
    home: dict[tuple, Node] = {}  # per shape: the kernel a new one may join

    def closure(mask: int) -> int:
        """``mask`` with every kernel its kernels depend on, as they are now."""
        done = 0
        while mask & ~done:
            low = mask & ~done & -(mask & ~done)
            done |= low
            mask |= needs.get(low, 0)
        return mask

    for node in order:
        own = root_of.get(node)
        mask = 0
        for i in node.inputs:
            mask |= below.get(i, 0)
            r = root_of.get(i)
            if r is not None and r is not own:
                mask |= bit.get(r, 0)
        below[node] = mask
        if own is not node or node.op.kind != "elementwise":
            continue
        target = home.get(space[node])
        group = members.pop(node)
        reads = 0  # the kernels the group reads, directly or through outside nodes
        for m in group:
            reads |= below[m]
        if target is not None and not any(
            closure(below.get(i, 0) | bit.get(root_of.get(i), 0)) & bit[target]
            for m in group
            for i in m.inputs
            if root_of.get(i) not in (node, target)
        ):
            for m in group:
                root_of[m] = target
            members[target].extend(group)
            bit[node] = bit[target]
            needs[bit[target]] |= reads & ~bit[target]
        else:
            members[node] = group
            bit[node] = 1 << len(bit)
            needs[bit[node]] = reads
            home[space[node]] = node


def _iteration_order(root: Node) -> tuple[int, ...] | None:
    """For a reduction, the input's axes with the reduced one last (None: as they are)."""
    if root.op.kind != "reduction":
        return None
    k, n = c_reduce.reduced_axis(root), root.inputs[0].ndim
    return tuple(d for d in range(n) if d != k) + (k,)


def _runner(
    fn,
    results: Sequence[Node],
    space: tuple,
    reads: Sequence[Node],
    order: tuple[int, ...] | None = None,
) -> Callable[..., list[np.ndarray]]:
    """The Python side of a kernel call: strides, pointers, fresh outputs.

    ``space`` is what the kernel iterates over: the results' shape for elementwise
    kernels, the reduced input's for reductions, visited in ``order`` (the reduced
    axis last). ``run(args, outs)`` writes into the buffers in ``outs`` where the
    program's memory plan hands it one (None elsewhere).
    """
    order = order or tuple(range(len(space)))
    shape = tuple(space[d] for d in order)
    ndim = len(shape)
    out_shape = results[0].shape
    dtypes = [r.dtype for r in results]
    c_shape = _ffi.new("int64_t[]", list(shape) or [1])
    layout = []  # per read: None for 0-d, else for each output axis the read's axis or -1
    for r in reads:
        if r.shape == ():
            layout.append(None)
            continue
        offset = ndim - len(r.shape)
        layout.append(
            tuple(
                -1 if d < offset or (r.shape[d - offset] == 1 and space[d] != 1) else d - offset
                for d in order
            )
        )
    # The strides of C-contiguous reads, known now: a call with those reuses one buffer.
    expected = [
        None if axes is None else np.empty(r.shape, r.dtype).strides
        for r, axes in zip(reads, layout)
    ]
    contiguous_strides = [
        0 if k < 0 else st // r.dtype.itemsize
        for r, axes, byte_strides in zip(reads, layout, expected)
        if axes is not None
        for k, st in ((k, byte_strides[k] if k >= 0 else 0) for k in axes)
    ]
    c_contiguous_strides = _ffi.new("int64_t[]", contiguous_strides or [0])
    threads = config.num_threads()
    launch = launcher()
    if launch is not None and len(reads) + len(results) <= LAUNCH_MAX:
        launch = functools.partial(
            launch,
            int(_ffi.cast("uintptr_t", fn)),
            ndim,
            int(_ffi.cast("uintptr_t", c_shape)),  # both arrays live as long as ``run``
            int(_ffi.cast("uintptr_t", c_contiguous_strides)),
            threads,
            PARALLEL_MIN,
            len(results),
        )
    else:
        launch = None

    allocate = [allocator(out_shape, t) for t in dtypes]
    if len(results) == 1:
        (new,) = allocate

        def run(args: list[np.ndarray], outs: list | None = None) -> list[np.ndarray]:
            out = new() if outs is None or outs[0] is None else outs[0]
            try:
                # NOTE: the launcher and from_buffer accept only C-contiguous arrays; of
                # the read's own shape (always), their strides are the precomputed ones
                # wherever the kernel uses them. They raise before the kernel runs.
                if launch is not None:
                    launch(out, *args)
                else:
                    fn(
                        ndim,
                        c_shape,
                        c_contiguous_strides,
                        _from_buffer(out, require_writable=True),
                        threads,
                        PARALLEL_MIN,
                        *map(_from_buffer, args),
                    )
            except ValueError:
                target = _from_buffer(out, require_writable=True)
                c_strides, ptrs, _keep_alive = _strided(args, layout)
                fn(ndim, c_shape, c_strides, target, threads, PARALLEL_MIN, *ptrs)
            return [out]

        return run

    def run_many(args: list[np.ndarray], outs: list | None = None) -> list[np.ndarray]:
        if outs is None:
            outs = [new() for new in allocate]
        else:
            outs = [new() if o is None else o for o, new in zip(outs, allocate)]
        if launch is not None:
            try:
                launch(outs[0], *args, *outs[1:])
                return outs
            except ValueError:
                pass
        try:
            ptrs = [_from_buffer(a) for a in args]
            c_strides = c_contiguous_strides
        except ValueError:
            c_strides, ptrs, _keep_alive = _strided(args, layout)
        writable = [_from_buffer(o, require_writable=True) for o in outs]
        fn(ndim, c_shape, c_strides, writable[0], threads, PARALLEL_MIN, *ptrs, *writable[1:])
        return outs

    return run_many


def _strided(args: list[np.ndarray], layout: list) -> tuple:
    """Element strides and pointers for reads with arbitrary layouts."""
    strides: list[int] = []
    pointers = []
    keep = []  # NOTE: copies made here must outlive the call
    for a, axes in zip(args, layout):
        if axes is not None:
            itemsize = a.itemsize
            if any(s % itemsize for s in a.strides):
                a = np.ascontiguousarray(a)
                keep.append(a)
            st = a.strides
            strides.extend(0 if k < 0 else st[k] // itemsize for k in axes)
        pointers.append(_pointer(a))
    return _ffi.new("int64_t[]", strides or [0]), pointers, keep


def _pointer(a: np.ndarray):
    try:
        return _from_buffer(a)
    except ValueError:  # not C-contiguous: point at its first element
        return _ffi.cast("void *", a.__array_interface__["data"][0])


_from_buffer = _ffi.from_buffer
