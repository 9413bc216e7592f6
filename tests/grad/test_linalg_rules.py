"""The linalg and fft rules against central finite differences (float64 and complex128).

Points are well conditioned: invertible matrices, symmetric positive-definite ones
with spaced eigenvalues for ``cholesky``/``eigh``, spaced singular values for
``svd``. Hermitian inputs are built inside the function (``_hermitian``), so every
direction of the check is a Hermitian perturbation; eigen- and singular vectors
enter through losses that do not depend on their phase. Few examples per case:
each check factors several matrices.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lazyarr as xp
from tests.grad.checks import Case, check_case


def _batch(draw):
    return draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=2))


def _normal(rng, shape, complex_):
    z = rng.standard_normal(shape)
    return z + 1j * rng.standard_normal(shape) if complex_ else z


def _orthonormal(rng, shape, complex_):
    """Matrices of ``shape`` (rows >= columns) with orthonormal columns."""
    return np.linalg.qr(_normal(rng, shape, complex_))[0]


def _spaced(rng, batch, k):
    """``k`` values per batch entry, at least 0.5 apart, in 1..k+1."""
    return np.arange(1.0, k + 1) + 0.5 * rng.random(batch + (k,))


def _invertible(complex_=False):
    def draw(draw, rng):
        n = draw(st.integers(1, 4))
        z = _normal(rng, _batch(draw) + (n, n), complex_)
        # NOTE: entries capped at 1 in magnitude keep the matrix diagonally dominant (an
        # uncapped 1 x 1 draw near -2.5 once made it nearly singular)
        a = z / np.maximum(1.0, np.abs(z)) / np.sqrt(n) + 2.5 * np.eye(n)
        return [a], {}

    return draw


def _hermitian_point(complex_=False):
    """A positive-definite Hermitian matrix with spaced eigenvalues."""

    def draw(draw, rng):
        batch, n = _batch(draw), draw(st.integers(1, 4))
        q = _orthonormal(rng, batch + (n, n), complex_)
        return [(q * _spaced(rng, batch, n)[..., None, :]) @ np.conj(np.swapaxes(q, -1, -2))], {}

    return draw


def _rectangular(complex_=False, square=False):
    """A matrix of spaced singular values (full rank)."""

    def draw(draw, rng):
        batch, m = _batch(draw), draw(st.integers(1, 4))
        n = m if square else draw(st.integers(1, 4))
        k = min(m, n)
        u = _orthonormal(rng, batch + (m, k), complex_)
        v = _orthonormal(rng, batch + (n, k), complex_)
        s = _spaced(rng, batch, k)[..., None, :]
        return [(u * s) @ np.conj(np.swapaxes(v, -1, -2))], {}

    return draw


def _with_params(arrays, **choices):
    """``arrays``' draw, with a static parameter drawn from each list of ``choices``."""

    def draw(draw, rng):
        values, params = arrays(draw, rng)
        return values, params | {k: draw(st.sampled_from(v)) for k, v in choices.items()}

    return draw


def _hermitian(a):
    return (a + xp.conj(xp.matrix_transpose(a))) / 2


def _solve_point(draw, rng):
    (a,), _ = _invertible()(draw, rng)
    n = a.shape[-1]
    b_shape = draw(st.sampled_from([(n,), (n, 2), (2, 1, n, 1)]))
    return [a, rng.standard_normal(b_shape)], {}


def _eig_point(complex_):
    """A matrix with spaced (real, for real matrices) eigenvalues and conditioned eigenvectors."""

    def draw(draw, rng):
        batch, n = _batch(draw), draw(st.integers(1, 3))
        p = np.eye(n) + 0.3 * _normal(rng, batch + (n, n), complex_)
        w = _spaced(rng, batch, n)
        return [(p * w[..., None, :]) @ np.linalg.inv(p)], {}

    return draw


def _signal(complex_, min_dims=1):
    def draw(draw, rng):
        s = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=2, max_side=5))
        return [_normal(rng, s, complex_)], {}

    return draw


def _transform(complex_):
    """``xp.fft.<name>n`` over some axes, with lengths cut, kept or padded, and each norm."""

    def draw(draw, rng):
        (x,), _ = _signal(complex_)(draw, rng)
        axes = draw(st.lists(st.integers(0, x.ndim - 1), min_size=1, unique=True))
        s = [draw(st.integers(1, 6)) for _ in axes]
        norm = draw(st.sampled_from(["backward", "ortho", "forward"]))
        return [x], {"s": s, "axes": axes, "norm": norm}

    return draw


def _one_dimensional(complex_):
    def draw(draw, rng):
        (x,), _ = _signal(complex_)(draw, rng)
        n = draw(st.none() | st.integers(1, 6))
        norm = draw(st.sampled_from(["backward", "ortho", "forward"]))
        return [x], {"n": n, "axis": draw(st.integers(-x.ndim, x.ndim - 1)), "norm": norm}

    return draw


def _svd_parts(which):
    def fn(x, full_matrices):
        u, s, vh = xp.linalg.svd(x, full_matrices=full_matrices)
        k = s.shape[-1]
        u, vh = u[..., :k], vh[..., :k, :]
        return {
            "S": s,
            "U": xp.abs(u) ** 2,
            "Vh": xp.abs(vh) ** 2,
            "U@Vh": u @ vh,  # the phases of U and Vh cancel
        }[which]

    return fn


def _fftn(name):
    return lambda x, s, axes, norm: getattr(xp.fft, name)(x, s=s, axes=axes, norm=norm)


def _fft1(name):
    return lambda x, n, axis, norm: getattr(xp.fft, name)(x, n=n, axis=axis, norm=norm)


def _norm_point(draw, rng):
    """A vector-norm order and a point away from zeros, with distinct magnitudes (ties are
    kinks of the inf-norms)."""
    shape = _batch(draw) + (draw(st.integers(1, 4)),)
    size = int(np.prod(shape))
    magnitudes = 0.3 + 0.37 * rng.permutation(size).reshape(shape)
    x = magnitudes * rng.choice([-1.0, 1.0], shape)
    ord_ = draw(st.sampled_from([2, 1, 3, 0.5, 1.5, -1, -2.5, math.inf, -math.inf]))
    axis = draw(st.sampled_from([None, -1]))
    return [x], {"ord": ord_, "axis": axis, "keepdims": draw(st.booleans())}


def _vector_norm(x, ord, axis, keepdims):
    return xp.linalg.vector_norm(x, ord=ord, axis=axis, keepdims=keepdims)


CASES = [
    Case("inv", xp.linalg.inv, _invertible()),
    Case("inv", xp.linalg.inv, _invertible(True), label="inv-complex"),
    Case("det", xp.linalg.det, _invertible()),
    Case("det", xp.linalg.det, _invertible(True), label="det-complex"),
    Case("slogdet", lambda x: xp.linalg.slogdet(x).logabsdet, _invertible()),
    Case("slogdet", lambda x: xp.linalg.slogdet(x).sign, _invertible(), label="slogdet-sign"),
    Case(
        "slogdet",
        lambda x: xp.linalg.slogdet(x).sign * xp.linalg.slogdet(x).logabsdet,
        _invertible(True),
        label="slogdet-complex",
    ),
    Case("solve", xp.linalg.solve, _solve_point),
    Case(
        "matrix_power",
        lambda x, n: xp.linalg.matrix_power(x, n),
        _with_params(_invertible(), n=[-3, -1, 0, 1, 2, 3]),
    ),
    Case(
        "cholesky",
        lambda x, upper: xp.linalg.cholesky(_hermitian(x), upper=upper),
        _with_params(_hermitian_point(), upper=[False, True]),
    ),
    Case(
        "cholesky",
        lambda x, upper: xp.linalg.cholesky(_hermitian(x), upper=upper),
        _with_params(_hermitian_point(True), upper=[False, True]),
        label="cholesky-complex",
    ),
    Case("eigh", lambda x: xp.linalg.eigvalsh(_hermitian(x)), _hermitian_point(), label="eigvalsh"),
    Case(
        "eigh",
        lambda x: xp.abs(xp.linalg.eigh(_hermitian(x)).eigenvectors) ** 2,
        _hermitian_point(),
        label="eigh-vectors",
    ),
    Case(
        "eigh",
        lambda x: (lambda w, v: (v * w[..., None, :]) @ xp.conj(xp.matrix_transpose(v)))(
            *xp.linalg.eigh(_hermitian(x))
        ),
        _hermitian_point(True),
        label="eigh-complex",
    ),
    Case("eig", xp.linalg.eigvals, _eig_point(False), label="eigvals"),
    Case(
        "eig",
        lambda x: xp.abs(xp.linalg.eig(x).eigenvectors) ** 2,
        _eig_point(False),
        label="eig-vectors",
    ),
    Case(
        "eig",
        lambda x: xp.abs(xp.linalg.eig(x).eigenvectors) ** 2 + xp.linalg.eigvals(x)[..., None, :],
        _eig_point(True),
        label="eig-complex",
    ),
    *(
        Case(
            "qr",
            lambda x, mode, part=part: xp.linalg.qr(x, mode=mode)[part],
            _with_params(_rectangular(), mode=["reduced"]),
            label=f"qr-{'QR'[part]}",
        )
        for part in (0, 1)
    ),
    Case(
        "qr",
        lambda x, mode: xp.linalg.qr(x, mode=mode).R,
        _with_params(_rectangular(), mode=["complete"]),
        label="qr-R-complete",
    ),
    Case(
        "qr",
        lambda x, mode: xp.matmul(*xp.linalg.qr(x, mode=mode)) + xp.linalg.qr(x).Q[..., :1],
        _with_params(_rectangular(True), mode=["reduced"]),
        label="qr-complex",
    ),
    *(
        Case(
            "svd",
            _svd_parts(which),
            _with_params(_rectangular(), full_matrices=[False] if which != "S" else [False, True]),
            label=f"svd-{which}",
        )
        for which in ("S", "U", "Vh", "U@Vh")
    ),
    *(
        Case(
            "svd",
            _svd_parts(which),
            _with_params(_rectangular(True), full_matrices=[False]),
            label=f"svd-{which}-complex",
        )
        for which in ("U", "Vh", "U@Vh")
    ),
    Case("svd", _svd_parts("U"), _with_params(_rectangular(square=True), full_matrices=[True])),
    Case("svdvals", xp.linalg.svdvals, _rectangular()),
    Case("svdvals", xp.linalg.svdvals, _rectangular(True), label="svdvals-complex"),
    Case("sum", _vector_norm, _norm_point, label="vector_norm"),
    Case("sum", xp.linalg.matrix_norm, _rectangular(), label="matrix_norm-fro"),
    Case("sum", xp.linalg.matrix_norm, _rectangular(True), label="matrix_norm-fro-complex"),
    Case("pinv", xp.linalg.pinv, _rectangular()),
    Case("pinv", xp.linalg.pinv, _rectangular(True), label="pinv-complex"),
    Case("fft", _fftn("fftn"), _transform(True)),
    Case("fft", _fftn("fftn"), _transform(False), label="fft-real-input"),
    Case("ifft", _fftn("ifftn"), _transform(True)),
    Case("rfft", _fftn("rfftn"), _transform(False)),
    Case("irfft", _fftn("irfftn"), _transform(True)),
    Case("hfft", _fft1("hfft"), _one_dimensional(True)),
    Case("ihfft", _fft1("ihfft"), _one_dimensional(False)),
]


@pytest.mark.parametrize("case", CASES, ids=Case.id)
@settings(max_examples=10)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_vjp_and_jvp_match_finite_differences(case, data, seed):
    check_case(case, data.draw, seed)


@pytest.mark.parametrize(
    ("f", "what"),
    [
        (lambda x: xp.linalg.svd(x).U, "svd: U and Vh"),
        (lambda x: xp.linalg.qr(x, mode="complete").Q, "qr: Q"),
    ],
)
def test_vectors_that_are_not_unique_have_no_gradient(f, what):
    _, pullback = xp.vjp(f, np.ones((3, 2)))
    with pytest.raises(ValueError, match=what):
        pullback(np.ones((3, 3)))
