"""Every program of the Theano tutorial runs, and computes what NumPy computes."""

import re
from pathlib import Path

import numpy as np
import pytest

import lazyarr as xp
from lazyarr.examples import tutorial, tutorial_random, tutorial_state


def _logistic(x):
    return 1 / (1 + np.exp(-x))


# ----------------------------------------------------------------------------- algebra
def test_add_scalars(capsys):
    out = tutorial.add_scalars()
    assert out == {"f(2, 3)": 5.0, "u(2, 3)": pytest.approx(np.exp(5.0))}
    text = capsys.readouterr().out
    assert "f(2, 3) = 5.0" in text
    assert "exp(" in text  # the graph of u is printed


def test_add_vectors_and_matrices():
    out = tutorial.add_vectors_and_matrices()
    np.testing.assert_array_equal(out["vector"], [4.0, 6.0])
    np.testing.assert_array_equal(out["matrix"], [[4.0], [6.0]])


def test_square():
    out = tutorial.square()
    assert out["scalars"] == [1.0, 4.0, 9.0, 16.0]
    np.testing.assert_array_equal(out["vector"], [1.0, 4.0, 9.0])
    np.testing.assert_array_equal(out["matrix"], np.arange(1.0, 7.0).reshape(2, 3) ** 2)


def test_small_functions():
    assert tutorial.net_input() == {"net_input(2, 3, 0.5)": 6.5}
    assert tutorial.several_outputs() == {"sum": 5.0, "product": 6.0}
    R, M = np.arange(1.0, 3.0).reshape(1, 2), np.arange(1.0, 7.0).reshape(3, 2)
    np.testing.assert_array_equal(tutorial.broadcast_row()["out"], R + M)
    np.testing.assert_allclose(tutorial.sin_cos()["values"], 1.0, rtol=1e-15)


def test_logistic():
    out = tutorial.logistic()
    m = np.array([[0.0, 1.0], [-1.0, -2.0]])
    np.testing.assert_allclose(out["matrix"], _logistic(m), rtol=1e-15)
    np.testing.assert_allclose(out["tanh"], (1 + np.tanh(m / 2)) / 2, rtol=1e-15)
    np.testing.assert_allclose(out["tanh"], out["matrix"], rtol=1e-15)
    assert out["scalar"] == pytest.approx(_logistic(1.0), rel=1e-15)
    np.testing.assert_allclose(out["vector"], _logistic(np.array([0.0, 1.0])), rtol=1e-15)


def test_default_value():
    assert tutorial.default_value() == {"f(1)": 4.0, "f(1, 2)": 3.0}


def test_power10(capsys):
    out = tutorial.power10(n=100_000, repeat=1)
    np.testing.assert_array_equal(out["f([0, 1, 2])"], [0.0, 2.0, 1026.0])
    assert out["numpy_s"] > 0 and out["lazyarr_s"] > 0
    assert "NumPy x**10" in capsys.readouterr().out


# ----------------------------------------------------------------------------- gradients
def test_grad_square():
    out = tutorial.grad_square()
    assert out["gy(4)"] == 8.0
    assert out["values"] == [4.0, 6.0, 8.0]
    assert out["f(94.2)"] == pytest.approx(188.4)


def test_grad_logistic():
    out = tutorial.grad_logistic(n=20)
    s = _logistic(out["x"])
    np.testing.assert_allclose(out["logistic"], s, rtol=1e-14)
    np.testing.assert_allclose(out["derivative"], s * (1 - s), rtol=1e-12)
    assert out["dlogistic(3)"] == pytest.approx(_logistic(3.0) * (1 - _logistic(3.0)), rel=1e-6)


def test_grad_sin_and_polynomial():
    np.testing.assert_allclose(
        tutorial.grad_sin()["values"], np.cos([0.0, np.pi / 2, np.pi]), atol=1e-16
    )
    x = np.array([0.0, 1.0, 2.0])
    assert tutorial.grad_polynomial()["values"] == list(3 * x**2 - 8 * x + 6)


def test_grad_partial():
    out = tutorial.grad_partial()
    assert out["fgx"] == [2 * (1 + 4), 2 * (2 + 4)]
    assert out["fgy"] == [4 * (1 + 4), 4 * (2 + 4)]


# ----------------------------------------------------------------------------- the runner
def test_main_runs_named_programs(capsys):
    tutorial.main(["logistic", "grad_sin"])
    text = capsys.readouterr().out
    assert "== logistic:" in text and "== grad_sin:" in text
    assert "== add_scalars" not in text


def test_main_lists_and_rejects(capsys):
    tutorial.main(["--list"])
    assert "grad_partial" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="unknown program"):
        tutorial.main(["no_such_program"])


# ----------------------------------------------------------------------------- State
def test_shared_values():
    out = tutorial_state.shared_values()
    W = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(out["f([1, 1, 1])"], W @ np.ones(3) + 1)
    np.testing.assert_array_equal(out["after"], W @ np.ones(3))


def test_accumulator_and_decrementor_share_the_state():
    out = tutorial_state.accumulator()
    # accumulator(1), accumulator(300), set to -1, accumulator(3), decrementor(2)
    assert out["returned"] == [0, 1, -1, 2]
    assert out["values"] == [1, 301, 2, 0]


def test_accumulator_givens():
    assert tutorial_state.accumulator_givens() == {"returned": [2, 4, 10], "values": [1, 3, 8]}


def test_skip_shared():
    assert tutorial_state.skip_shared() == {"skip_shared(1, 3)": 7, "state": 0, "with_state(1)": 1}


def test_perceptron():
    out = tutorial_state.perceptron(eta=0.1)
    x, y, a = np.array([1.0, -1.0]), 1.0, _logistic(0.0)
    delta = -2 * (y - a) * a * (1 - a)  # d (y - a)**2 / dz at w = 0, b = 0
    np.testing.assert_allclose(out["gw"], delta * x)
    assert out["gb"] == pytest.approx(delta)
    np.testing.assert_allclose(out["w"], -0.1 * delta * x)
    assert out["b"] == pytest.approx(-0.1 * delta)


def _check_against_numpy(out, steps):
    x, y, w0 = out["data"]
    w, b, _, _ = tutorial_state.train_numpy(x, y, w0, steps)
    np.testing.assert_allclose(out["w"], w, rtol=1e-9, atol=1e-12)
    assert out["b"] == pytest.approx(b, rel=1e-9, abs=1e-12)
    np.testing.assert_array_equal(out["prediction"], x @ w + b > 0)
    assert out["final_cost"] < out["initial_cost"]


def test_logistic_regression_matches_numpy():
    out = tutorial_state.logistic_regression(steps=200)
    _check_against_numpy(out, 200)


def test_logistic_regression_small_float32(capsys):
    out = tutorial_state.logistic_regression_small()
    _check_against_numpy(out, 1000)
    assert out["data"][0].dtype == np.float32
    assert "step 1000: mean cross-entropy" in capsys.readouterr().out


def test_logistic_regression_from_the_tutorials_start_stays_finite():
    # randn weights saturate p_1 to exactly 0 or 1: the stability rewrites keep the
    # cost and the gradients finite, equal to the hand-stabilized NumPy loop.
    out = tutorial_state.logistic_regression(steps=5)
    assert np.isfinite(out["w"]).all() and np.isfinite(out["initial_cost"])
    _check_against_numpy(out, 5)


@pytest.mark.slow
def test_logistic_regression_full():
    out = tutorial_state.logistic_regression()
    _check_against_numpy(out, 10_000)
    assert np.mean(out["prediction"] == out["data"][1]) == 1.0  # 400 points, 784 features


# ----------------------------------------------------------------------------- random
def test_random_streams_advance_or_not():
    out = tutorial_random.random_streams(seed=1234, calls=3)
    rng_u, rng_n = xp.random.Generator(1234).split()
    # f advances its generator at every call: NumPy's Philox stream, draw after draw.
    numpy_u = np.random.Generator(rng_u.to_numpy())
    for drawn in out["f"]:
        np.testing.assert_array_equal(drawn, numpy_u.random((2, 2)))
    # g never advances (no_default_updates), and f's draws do not move it.
    first = np.asarray(rng_n.normal(size=(2, 2)))
    for drawn in out["g"]:
        np.testing.assert_array_equal(drawn, first)
    # Reseeding restarts the streams from the new seed.
    reseeded = xp.random.Generator(7777).split()[1]
    np.testing.assert_array_equal(out["reseeded"], np.asarray(reseeded.normal(size=(2, 2))))
    assert not np.array_equal(out["reseeded"], first)


# ----------------------------------------------------------------------------- the guide
def test_guide_snippets_run(capsys):
    """The lazyarr code of docs/theano-tutorial.md runs, block after block."""
    guide = Path(__file__).parents[2] / "docs" / "theano-tutorial.md"
    namespace: dict = {}
    ran = 0
    text = guide.read_text()
    for match in re.finditer(r"```python\n(.*?)```", text, re.S):
        block = match.group(1)
        code = [line.split("#")[0] for line in block.splitlines()]
        if any(re.search(r"\b(T|theano)\.", line) for line in code):
            continue  # a Theano snippet
        offset = "\n" * text.count("\n", 0, match.start(1))  # errors name the guide's lines
        exec(compile(offset + block, str(guide), "exec"), namespace)
        ran += 1
    assert ran >= 6
    assert namespace["state"].value == 0  # the accumulator's example ends at 0
    assert np.isfinite(np.asarray(namespace["w"].value)).all()
