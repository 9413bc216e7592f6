"""Differential tests of the ``xp.linalg`` extension against ``np.linalg``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lazyarr as xp
from tests.helpers import FLOAT, INTEGER, REAL_FLOAT, assert_matches, lazy, next_line

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

DTYPES = [*FLOAT, np.dtype("int64")]


@st.composite
def matrices(draw, dtypes=DTYPES, square=True, min_side=0, well_conditioned=False):
    """Stacks of small matrices (0-d batches and empty matrices included)."""
    dtype = draw(st.sampled_from(dtypes))
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=2))
    m = draw(st.integers(min_side, 4))
    n = m if square else draw(st.integers(min_side, 4))
    elements = (
        st.integers(0 if dtype.kind in "ub" else -5, 1 if dtype.kind == "b" else 5)
        if dtype.kind in "iub"
        else st.floats(-5, 5, width=32)
    )
    real = dtype if dtype.kind != "c" else np.dtype(f"f{dtype.itemsize // 2}")
    a = draw(hnp.arrays(real, (*batch, m, n), elements=elements)).astype(dtype)
    if dtype.kind == "c":
        a = a + 1j * draw(hnp.arrays(real, (*batch, m, n), elements=elements))
    if well_conditioned:
        a = a + (10 * np.eye(m, n)).astype(dtype)
    return a.astype(dtype)


def _as_float(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float64) if a.dtype.kind in "iu" else a


def _close(actual, expected, dtype):
    rtol = 1e-3 if dtype in (np.float32, np.complex64) else 1e-9
    expected = np.asarray(expected)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=rtol, atol=rtol)


def _positive_definite(a: np.ndarray) -> np.ndarray:
    return a @ np.conj(np.swapaxes(a, -1, -2)) + np.eye(a.shape[-1], dtype=a.dtype)


@given(a=matrices(well_conditioned=True))
def test_inv_det_slogdet_solve(a):
    x = lazy(a)
    f = _as_float(a)
    assert_matches(xp.linalg.inv(x), np.linalg.inv(f))
    assert_matches(xp.linalg.det(x), np.linalg.det(f))
    sign, logabsdet = xp.linalg.slogdet(x)
    expected = np.linalg.slogdet(f)
    assert_matches(sign, expected.sign)
    assert_matches(logabsdet, expected.logabsdet)
    b = np.ones(a.shape[-1], dtype=f.dtype)
    assert_matches(xp.linalg.solve(x, xp.asarray(b)), np.linalg.solve(f, b))
    bs = np.ones((*a.shape[:-1], 2), dtype=f.dtype)
    assert_matches(xp.linalg.solve(x, xp.asarray(bs)), np.linalg.solve(f, bs))
    for n in (0, 1, 3, -2):
        assert_matches(xp.linalg.matrix_power(x, n), np.linalg.matrix_power(f if n < 0 else a, n))


@given(a=matrices(well_conditioned=True))
def test_cholesky_eigh(a):
    f = _positive_definite(_as_float(a))
    x = xp.asarray(f)
    for upper in (False, True):
        assert_matches(xp.linalg.cholesky(x, upper=upper), np.linalg.cholesky(f, upper=upper))
    values, vectors = xp.linalg.eigh(x)
    assert_matches(values, np.linalg.eigh(f).eigenvalues)
    assert_matches(vectors, np.linalg.eigh(f).eigenvectors)
    # NOTE: NumPy's eigvalsh calls another LAPACK routine than eigh; they differ by ulps.
    _close(xp.linalg.eigvalsh(x), np.linalg.eigvalsh(f), f.dtype)


@given(a=matrices(dtypes=REAL_FLOAT + [np.dtype("int64")]))
def test_eig_is_complex(a):
    f = _as_float(a)
    values, vectors = xp.linalg.eig(xp.asarray(a))
    complex_dtype = np.result_type(f.dtype, np.complex64)
    expected = np.linalg.eig(f)
    assert_matches(values, expected.eigenvalues.astype(complex_dtype))
    assert_matches(vectors, expected.eigenvectors.astype(complex_dtype))
    assert_matches(xp.linalg.eigvals(xp.asarray(a)), expected.eigenvalues.astype(complex_dtype))


@given(a=matrices(square=False), full=st.booleans(), mode=st.sampled_from(["reduced", "complete"]))
def test_qr_svd_pinv_rank(a, full, mode):
    x = lazy(a)
    f = _as_float(a)
    q, r = xp.linalg.qr(x, mode=mode)
    expected = np.linalg.qr(f, mode=mode)
    assert_matches(q, expected.Q)
    assert_matches(r, expected.R)
    u, s, vh = xp.linalg.svd(x, full_matrices=full)
    expected = np.linalg.svd(f, full_matrices=full)
    assert_matches(u, expected.U)
    assert_matches(s, expected.S)
    assert_matches(vh, expected.Vh)
    assert_matches(xp.linalg.svdvals(x), np.linalg.svdvals(f))
    assert_matches(xp.linalg.pinv(x), np.linalg.pinv(f, rtol=max(f.shape[-2:]) * _eps(f)))
    assert_matches(xp.linalg.pinv(x, rtol=0.1), np.linalg.pinv(f, rtol=0.1))
    rank = np.linalg.matrix_rank(f, rtol=max(f.shape[-2:]) * _eps(f)) if f.size else None
    if rank is not None:
        assert_matches(xp.linalg.matrix_rank(x), np.asarray(rank, dtype=np.int64))


def _eps(a: np.ndarray) -> float:
    return float(np.finfo(a.dtype).eps)


@given(
    a=matrices(square=False),
    ord=st.sampled_from(["fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]),
    keepdims=st.booleans(),
)
def test_matrix_norm(a, ord, keepdims):
    f = _as_float(a)
    if ord not in ("fro", "nuc") and 0 in a.shape[-2:]:
        return
    expected = np.linalg.matrix_norm(f, ord=ord, keepdims=keepdims)
    _close(xp.linalg.matrix_norm(lazy(a), ord=ord, keepdims=keepdims), expected, f.dtype)


@given(
    a=matrices(square=False),
    ord=st.sampled_from([1, 2, 3, 0.5, 0, np.inf, -np.inf]),
    keepdims=st.booleans(),
    axis=st.sampled_from([None, -1, (-2, -1), 0]),
)
def test_vector_norm(a, ord, keepdims, axis):
    f = _as_float(a)
    axes = range(a.ndim) if axis is None else np.atleast_1d(axis)
    if np.isinf(ord) and any(a.shape[i] == 0 for i in axes):
        with pytest.raises(ValueError):
            xp.linalg.vector_norm(xp.asarray(a), axis=axis, keepdims=keepdims, ord=ord)
        return
    expected = np.linalg.vector_norm(f, axis=axis, keepdims=keepdims, ord=ord)
    _close(xp.linalg.vector_norm(lazy(a), axis=axis, keepdims=keepdims, ord=ord), expected, f.dtype)


@given(
    a=matrices(dtypes=[*DTYPES, *INTEGER, np.dtype(bool)], square=False), offset=st.integers(-5, 5)
)
def test_diagonal_trace(a, offset):
    assert_matches(xp.linalg.diagonal(lazy(a), offset=offset), np.linalg.diagonal(a, offset=offset))
    if a.dtype != np.bool_:
        assert_matches(xp.linalg.trace(lazy(a), offset=offset), np.linalg.trace(a, offset=offset))
        expected = np.linalg.trace(a, offset=offset, dtype=np.complex128)
        assert_matches(xp.linalg.trace(xp.asarray(a), offset=offset, dtype=xp.complex128), expected)


@given(data=st.data())
def test_cross_outer(data):
    dtype = data.draw(st.sampled_from([*INTEGER, *FLOAT]))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    axis = data.draw(st.integers(-len(shape), -1))
    shape = list(shape)
    shape[axis] = 3
    a = data.draw(hnp.arrays(dtype, tuple(shape)))
    b = data.draw(hnp.arrays(dtype, tuple(shape[1:]) if len(shape) > -axis else tuple(shape)))
    with np.errstate(all="ignore"):
        expected = np.linalg.cross(a, b, axis=axis)
    assert_matches(xp.linalg.cross(lazy(a), xp.asarray(b), axis=axis), expected)
    u, v = a.reshape(-1), b.reshape(-1)
    with np.errstate(all="ignore"):
        assert_matches(xp.linalg.outer(lazy(u), xp.asarray(v)), np.linalg.outer(u, v))


def test_main_namespace_functions_are_reexported():
    for name in ("matmul", "matrix_transpose", "tensordot", "vecdot"):
        assert getattr(xp.linalg, name) is getattr(xp, name)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: xp.linalg.inv(xp.ones((2, 3))), ValueError),
        (lambda: xp.linalg.det(xp.ones(3)), ValueError),
        (lambda: xp.linalg.cholesky(xp.ones((2, 2), dtype=xp.bool)), TypeError),
        (lambda: xp.linalg.solve(xp.ones((2, 2)), xp.ones(3)), ValueError),
        (lambda: xp.linalg.qr(xp.ones((2, 2)), mode="raw"), ValueError),
        (lambda: xp.linalg.matrix_norm(xp.ones((2, 2)), ord=3), ValueError),
        (lambda: xp.linalg.cross(xp.ones(3), xp.ones(4)), ValueError),
        (lambda: xp.linalg.outer(xp.ones((2, 2)), xp.ones(2)), ValueError),
        (lambda: xp.linalg.matrix_power(xp.ones((2, 2)), 1.5), TypeError),
    ],
)
def test_errors_name_the_line(call, error):
    with pytest.raises(error) as info:
        where = next_line()
        call()
    assert where.rsplit(":", 1)[0] in str(info.value)


def test_singular_matrix_fails_when_computed():
    x = xp.linalg.inv(xp.zeros((2, 2)))
    with pytest.raises(np.linalg.LinAlgError):
        np.asarray(x)


def test_decompositions_are_lazy_and_share_parts():
    a = lazy(np.eye(3))
    u1, _, _ = xp.linalg.svd(a)
    u2, _, _ = xp.linalg.svd(a)
    assert u1._node is u2._node and u1._node.value is None
