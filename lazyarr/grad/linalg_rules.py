"""VJP rules of the ``linalg`` and ``fft`` extensions (same signature as ``rules.py``).

Holomorphic maps (``inv``, ``det``, ``solve``, ``matrix_power``, ``eig``'s
eigenvalues, the transforms) are transposed without conjugation, as elsewhere.
The decompositions are not holomorphic: their rules compute the Hermitian adjoint
``A`` of the JVP (PyTorch's formulas) and return ``conj(A(conj(g)))``, which is
JAX's convention; for real inputs the conjugations vanish.

A multi-result op (``eigh``, ``qr``, ``svd``, ``slogdet``, ``eig``) has one node
per ``part``: each part's rule handles that part's cotangent alone (the VJP is
linear, so ``backward`` sums the parts' contributions), rebuilding the sibling
parts it needs, which interning makes the forward's own nodes.

``eigh`` and ``cholesky`` read one triangle of a matrix that must be Hermitian:
as JAX, their cotangent is Hermitian (the derivative along Hermitian
perturbations). Eigen- and singular vectors are defined up to phase: only a loss
that does not depend on the phase has a gradient, which the rules give (repeated
eigenvalues or singular values: 0 for the ill-defined terms, exact for losses
invariant within the degenerate subspace). Rules are exact at constant rank only
(``pinv``) and need invertible matrices (``det``, ``slogdet``, ``inv``, ``solve``).
"""

from __future__ import annotations

import numpy as np

from .. import _dtypes
from .._array import Array
from .._builder import apply, constant_node
from .._creation_functions import eye, tril, triu
from .._elementwise_functions import conj, imag, real
from .._errors import located
from .._linear_algebra_functions import matrix_transpose
from .._manipulation_functions import concat, reshape
from ..fft import fftn, ifftn, rfftn
from ..linalg import diagonal, inv, solve, svd
from .rules import _is_complex, _safe_divide, _zeros_along


def _conj(x: Array) -> Array:
    return conj(x) if _is_complex(x) else x


def _h(x: Array) -> Array:
    """The conjugate transpose of each matrix."""
    return _conj(matrix_transpose(x))


def _right_solve(b: Array, a: Array) -> Array:
    """``b @ inv(a)``."""
    return matrix_transpose(solve(matrix_transpose(a), matrix_transpose(b)))


def _half_diagonal(x: Array) -> Array:
    """``x`` with its diagonal halved."""
    n = x.shape[-1]
    return x * (1 - eye(n, dtype=_dtypes.real_dtype(x.dtype)) / 2)


def _differences(w: Array) -> Array:
    """``w[j] - w[i]`` at ``[..., i, j]``."""
    return w[..., None, :] - w[..., :, None]


def _sibling(y: Array, part: int) -> Array:
    """Result ``part`` of the multi-result op that computed ``y``."""
    node = y._node
    return apply(node.op, node.inputs, **{**node.params, "part": part})


def _not_unique(what: str) -> ValueError:
    return located(
        ValueError,
        f"{what} with full_matrices/mode='complete' of a non-square matrix has no derivative "
        f"(its extra vectors are not unique); use the reduced decomposition",
    )


# ----------------------------------------------------------------------------- holomorphic
def _inv(g, y, x):
    yt = matrix_transpose(y)
    return (-(yt @ g @ yt),)


def _det(g, y, x):
    return ((g * y)[..., None, None] * matrix_transpose(inv(x)),)


def _slogdet(g, y, x, *, part):
    # d logabsdet = Re tr(inv(x) dx); d sign = sign * i Im tr(inv(x) dx), zero for real x.
    if part == 1:
        scale = g
    elif _is_complex(x):
        scale = 1j * imag(g * y)
    else:
        return (None,)
    return (scale[..., None, None] * matrix_transpose(inv(x)),)


def _solve(g, y, a, b):
    # A vector b is one column for every matrix: solve with g as that column.
    column = b.ndim == 1
    gb = solve(matrix_transpose(a), g[..., None] if column else g)
    ga = -(gb @ matrix_transpose(y[..., None] if column else y))
    return ga, gb[..., 0] if column else gb


def _matrix_power(g, y, x, *, n):
    if n == 0:
        return (None,)
    base, m = (x, n) if n > 0 else (inv(x), -n)
    # d(b^m) = sum_k b^k db b^(m-1-k), so the cotangent is sum_k (b^k)^T g (b^(m-1-k))^T.
    powers = [None, matrix_transpose(base)]  # None: the identity
    while len(powers) < m:
        powers.append(powers[-1] @ powers[1])
    terms = []
    for k in range(m):
        left, right = powers[k], powers[m - 1 - k]
        t = g if right is None else g @ right
        terms.append(t if left is None else left @ t)
    ct = sum(terms[1:], terms[0])
    return (ct if n > 0 else -(powers[1] @ ct @ powers[1]),)


# ----------------------------------------------------------------------------- decompositions
def _cholesky(g, y, x, *, upper):
    lower = _h(y) if upper else y

    def adjoint(g):  # dL = L phi(L^-1 dA L^-H), phi: the lower triangle, diagonal halved
        gl = _h(g) if upper else g
        phi = _half_diagonal(tril(_h(lower) @ gl))
        s = _right_solve(solve(_h(lower), phi), lower)
        return (s + _h(s)) / 2

    return (_conj(adjoint(_conj(g))),)


def _eigh(g, y, x, *, part):
    w = y if part == 0 else _sibling(y, 0)
    v = y if part == 1 else _sibling(y, 1)

    def adjoint(g):
        if part == 0:
            return (v * g[..., None, :]) @ _h(v)
        vhg = _h(v) @ g
        return v @ _safe_divide((vhg - _h(vhg)) / 2, _differences(w)) @ _h(v)

    return (_conj(adjoint(_conj(g))),)


def _eig(g, y, x, *, part):
    w = y if part == 0 else _sibling(y, 0)
    v = y if part == 1 else _sibling(y, 1)
    if part == 0:  # holomorphic: dw = diag(inv(v) dx v)
        return (solve(matrix_transpose(v), g[..., :, None] * matrix_transpose(v)),)

    def adjoint(g):  # eigenvectors of unit norm: the part of g along v itself drops out
        vhg = _h(v) @ g
        vhg = vhg - (_h(v) @ v) * real(diagonal(vhg))[..., None, :]
        return solve(_h(v), _safe_divide(vhg, conj(_differences(w))) @ _h(v))

    return (_conj(adjoint(_conj(g))),)


def _qr(g, y, x, *, mode, part):
    m, n = x.shape[-2:]
    k = min(m, n)
    if part == 0 and mode == "complete" and m > n:
        raise _not_unique("qr: Q")
    q = y if part == 0 else _sibling(y, 0)[..., :k]
    r1 = (y if part == 1 else _sibling(y, 1))[..., :k, :k]

    def adjoint(g):
        # x = q [r1 r2] with r2 = q^H x2 when m < n: x2 gets q g2, and r2 pulls on q.
        if part == 0:
            gq, inner = g, -(_h(q) @ g)
            tail = _zeros_along(g, g.ndim - 1, n - k) if n > k else None
        else:
            g = g[..., :k, :]  # mode='complete': the zero rows of R are constant
            gq, inner, tail = None, g[..., :k] @ _h(r1), None
            if n > k:
                gq = x[..., k:] @ _h(g[..., k:])
                inner = inner - _h(q) @ gq
                tail = q @ g[..., k:]
        upper = triu(inner)
        front = q @ _half_diagonal(upper + _h(upper))
        ct = _right_solve(front if gq is None else gq + front, _h(r1))
        return ct if tail is None else concat([ct, tail], axis=-1)

    return (_conj(adjoint(_conj(g))),)


def _singular_values(g: Array, u: Array, vh: Array) -> Array:
    return _conj((u * g[..., None, :]) @ vh)


def _svd(g, y, x, *, full_matrices, part):
    m, n = x.shape[-2:]
    k = min(m, n)
    if part != 1 and full_matrices and m != n:
        raise _not_unique("svd: U and Vh")
    u = (y if part == 0 else _sibling(y, 0))[..., :k]
    s = y if part == 1 else _sibling(y, 1)
    vh = (y if part == 2 else _sibling(y, 2))[..., :k, :]
    if part == 1:
        return (_singular_values(g, u, vh),)
    e = _differences(s * s)

    def adjoint(g):
        if part == 0:
            j = _h(u) @ g
            inner = _safe_divide(j - _h(j), e) * s[..., None, :]
            if _is_complex(x):  # the phase of each pair of vectors goes with u
                inner = inner + 1j * (imag(diagonal(j)) / s)[..., None, :] * eye(k, dtype=s.dtype)
            ct = u @ inner @ vh
            if m > k:
                ct = ct + ((g - u @ (_h(u) @ g)) / s[..., None, :]) @ vh
            return ct
        j = vh @ _h(g)
        ct = u @ (s[..., :, None] * _safe_divide(j - _h(j), e)) @ vh
        if n > k:
            ct = ct + u @ ((g - (g @ _h(vh)) @ vh) / s[..., :, None])
        return ct

    return (_conj(adjoint(_conj(g))),)


def _svdvals(g, y, x):
    u, _, vh = svd(x, full_matrices=False)
    return (_singular_values(g, u, vh),)


def _pinv(g, y, x, rtol):
    # At constant rank (Golub & Pereyra), with 1 the identity:
    # dp = -p dx p + p p^H dx^H (1 - x p) + (1 - p x) dx^H p^H p. The cutoff rtol has no gradient.
    p, ph = y, _h(y)

    def adjoint(g):
        gh = _h(g)
        t = gh @ p @ ph
        s = ph @ p @ gh
        return -(ph @ g @ ph) + t - x @ (p @ t) + s - (s @ p) @ x

    return _conj(adjoint(_conj(g))), None


# ----------------------------------------------------------------------------- fft
# The DFT matrix is symmetric, so a transform's transpose is the same transform; the
# transpose of resizing the input (cut or zero-padded to s) resizes back.
_SWAPPED = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _resized(a: Array, axes: tuple[int, ...], shape: tuple[int, ...]) -> Array:
    """``a`` cut or zero-padded along ``axes`` to the lengths of ``shape``."""
    for axis in axes:
        have, want = a.shape[axis], shape[axis]
        if have > want:
            a = a[(slice(None),) * axis + (slice(0, want),)]
        elif have < want:
            a = concat([a, _zeros_along(a, axis, want - have)], axis=axis)
    return a


def _fft(g, y, x, *, s, axes, norm):
    return (_resized(fftn(g, axes=axes, norm=norm), axes, x.shape),)


def _ifft(g, y, x, *, s, axes, norm):
    return (_resized(ifftn(g, axes=axes, norm=norm), axes, x.shape),)


def _real_from_half(g: Array, s, axes, norm: str) -> Array:
    """The transpose of rfftn: the half spectrum is the first half of the full one."""
    full = _resized(g, axes[-1:], g.shape[: axes[-1]] + (s[-1],) + g.shape[axes[-1] + 1 :])
    return real(fftn(full, axes=axes, norm=norm))


def _half_from_real(g: Array, s, axes, norm: str) -> Array:
    """The transpose of irfftn, conjugated: its input's inner frequencies stand for two."""
    spectrum = rfftn(g, axes=axes, norm=norm)
    weights = np.full(s[-1] // 2 + 1, 2.0, dtype=_dtypes.real_dtype(g.dtype))
    weights[0] = 1.0
    if s[-1] % 2 == 0:
        weights[-1] = 1.0
    after = g.ndim - 1 - axes[-1]
    return spectrum * reshape(Array._new(constant_node(weights)), weights.shape + (1,) * after)


def _rfft(g, y, x, *, s, axes, norm):
    return (_resized(_real_from_half(g, s, axes, norm), axes, x.shape),)


def _irfft(g, y, x, *, s, axes, norm):
    return (_resized(conj(_half_from_real(g, s, axes, _SWAPPED[norm])), axes, x.shape),)


# hfft(x) is irfft(conj(x)) and ihfft(x) is conj(rfft(x)), both with the other norm.
def _hfft(g, y, x, *, s, axes, norm):
    return (_resized(_half_from_real(g, s, axes, norm), axes, x.shape),)


def _ihfft(g, y, x, *, s, axes, norm):
    return (_resized(_real_from_half(conj(g), s, axes, _SWAPPED[norm]), axes, x.shape),)


RULES = {
    "inv": _inv,
    "det": _det,
    "slogdet": _slogdet,
    "solve": _solve,
    "matrix_power": _matrix_power,
    "cholesky": _cholesky,
    "eigh": _eigh,
    "eig": _eig,
    "qr": _qr,
    "svd": _svd,
    "svdvals": _svdvals,
    "pinv": _pinv,
    "fft": _fft,
    "ifft": _ifft,
    "rfft": _rfft,
    "irfft": _irfft,
    "hfft": _hfft,
    "ihfft": _ihfft,
}
