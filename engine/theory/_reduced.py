"""The spectral equations in reduced unknowns ``u = (g, y)``, with ``delta = E y``.

docs/model.md#numerics. The map ``(g, tau) -> (g_new, tau_new)`` of
docs/model.md#spectrum-of-the-feature-covariance sees ``tau`` only through ``delta(kappa)``
on the Q-point ``kappa`` grid, and ``delta`` always lies in the span of the functions
``pi_k ms2_k(kappa)`` and ``m1_k(kappa) m1_l(kappa)``, of dimension r (its numerical rank,
at most ``min(Q, K + K^2)``; e.g. 38 for K = 16, relu, eta_tilde = 3, and 1 without a
step). With a basis ``E`` (Q x r) of that span and ``P`` (r x Q) such that ``P E = I``
(:class:`Reduction`), write ``delta = E y``: the unknowns become ``u = (g, y)`` of length
``n = K + r`` instead of ``N = K + K^2``.

The reduced map is ``Psi(g, y) = (g_new, P delta_new)`` with ``w = 1/(1 + E y)``,
``A = E_kappa[w m1 m1^T]``, ``b = E_kappa[w ms2]``, ``X = Pi G``, ``M = I + beta X A``
and::

    g_new = 1 / (b - z + diag(A M^-1)),      T = M^-1 X   (the new tau; symmetric),
    delta_new(kappa) = (beta/alpha) [ m1^T T m1 + ms2^T Pi g_new ].

``u = Psi(u)`` exactly when ``x = (g_new, T)`` is a fixed point of the full map, so both
parametrisations have the same solutions.

Jacobian, analytically (``R = m1^T M^-1`` is Q x K, ``AM = A M^-1``, ``v = omega w^2``,
``S_qq' = sum_k R_qk X_k m1_kq'``, ``c0 = beta/alpha``)::

    d gn_j / d g_k          = beta pi_k gn_j^2 AM_jk AM_kj               (gn = g_new)
    d gn_j / d delta_q      = gn_j^2 v_q (ms2_jq + R_qj^2)
    d dn_q' / d g_k         = c0 [ pi_k R_q'k^2 + sum_j pi_j ms2_jq' d gn_j / d g_k ]
    d dn_q' / d delta_q     = c0 [ beta v_q S_qq'^2 + sum_j pi_j ms2_jq' d gn_j / d delta_q ]

(``dn = delta_new``), from ``dT = M^-1 dX M^-T - beta T dA T`` and
``I - beta A T = M^-T``. The ``S^2`` term is the expensive one. With the factorisation
``m1 = L Mt`` (rank rho, often about K/2) and ``Zt = R X L``::

    S_qq'^2 = sum_{a<=b} (2 - [a=b]) Zt_qa Zt_qb Mt_aq' Mt_bq',
    P [S^2]^T diag(v) E = Gp^T Hp,   Hp[(ab), j] = sum_q Zt_qa Zt_qb v_q E_qj,

with a constant ``Gp``: ``O(Q rho^2 r)`` per ``z`` instead of the ``O(Q N K^2)`` of the
full Jacobian (a factor ~30 at K = 16).

All products are stacked per spectral parameter and go through
:func:`engine.theory._blas.matmul`, which keeps each BLAS call single-threaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.theory._blas import matmul as mm
from engine.theory._guard import require_finite, safe_inv

if TYPE_CHECKING:
    from engine.theory._core import ModelData

__all__ = ["Reduction", "WLevel", "broyden_update", "build_reduction", "evaluate",
           "full_residual", "inverse_jacobian", "reduce_x", "reduced_jacobian", "w_level"]

#: Memory for the Jacobians of one chunk of spectral parameters (bytes).
CHUNK_BYTES = 1 << 24


@dataclass(frozen=True)
class Reduction:
    """Constant factors of the reduced parametrisation (complex copies for speed).

    ``delta = E y`` and ``y = P delta`` with ``P E = I``: ``E = diag(d) V``, ``P = V^T
    diag(1/d)``, where ``V`` is an orthonormal basis of the span of ``delta`` in node-scaled
    coordinates (``d_q`` = the size of the functions ``delta`` is made of at node ``q``).

    Attributes
    ----------
    E, ET : ndarray (Q, r), (r, Q)
        The basis ``delta = E y``, and its transpose.
    PT : ndarray (Q, r)
        ``P^T``: ``y = P delta`` for any ``delta`` of the span.
    LT : ndarray (rho, K)
        ``L^T`` of ``m1 = L Mt`` (rho = numerical rank of m1).
    ia, ib : ndarray (np,)
        The pairs ``a <= b`` of the rho coordinates.
    GpT : ndarray (r, np)
        ``(2 - [a=b]) sum_q Mt_aq Mt_bq P_iq``, transposed.
    PMp : ndarray (r, K)
        ``P ms2^T Pi``.
    """

    E: np.ndarray
    ET: np.ndarray
    PT: np.ndarray
    LT: np.ndarray
    ia: np.ndarray
    ib: np.ndarray
    GpT: np.ndarray
    PMp: np.ndarray

    @property
    def r(self) -> int:
        return self.E.shape[1]


def _orthonormal_span(C: np.ndarray, block: int = 16) -> np.ndarray:
    """Orthonormal basis (Q, r) of the span of the columns of ``C`` (Q, m).

    Directions below ``max(Q, m) eps ||C||_F`` are rounding and dropped (the threshold
    of ``numpy.linalg.matrix_rank`` with the Frobenius norm for the largest singular
    value), so the span is exact to that level. Columns are added a block at a
    time: each block is projected off the basis found so far (twice: one pass loses
    orthogonality in finite precision), the singular directions of the residual above
    the threshold are projected once more and orthonormalised, and join the basis. The
    blocks keep every LAPACK and BLAS call small enough to run on one thread (one SVD of
    an 80 x 272 matrix waited 30-400 ms for OpenBLAS's threads on a loaded machine,
    against 2 ms alone).
    """
    thr = max(C.shape) * np.finfo(float).eps * float(np.linalg.norm(C))
    require_finite("spectral equations", "the coefficients mu1, mus2 are too large to "
                   "square and sum", thr)
    U = np.zeros((C.shape[0], 0))
    if not thr > 0:
        return U
    for s in range(0, C.shape[1], block):
        B = C[:, s:s + block]
        for _ in range(2):
            B = B - mm(U, mm(U.T, B))
        u, sv, _ = np.linalg.svd(B, full_matrices=False)
        new = u[:, sv > thr]
        if new.shape[1]:
            new, _ = np.linalg.qr(new - mm(U, mm(U.T, new)))
            U = np.concatenate([U, new], axis=1)
    return U


def build_reduction(m1: np.ndarray, ms2: np.ndarray, pi: np.ndarray) -> Reduction:
    """The constant factors of :class:`Reduction` for coefficients ``m1, ms2`` (K, Q)."""
    K, _ = m1.shape
    ia, ib = np.triu_indices(K)
    sq = np.sqrt(pi)
    # delta spans pi_k ms2_k and tau_kl m1_k m1_l (k <= l: tau is symmetric), scaled
    # like their coefficients (tau_kl ~ pi).
    cols = np.concatenate([pi[:, None] * ms2, (sq[ia] * sq[ib])[:, None] * m1[ia] * m1[ib]])
    # Node scales: a polynomial sigma with a large spike makes delta 1e4 times larger at
    # the outer nodes than at the centre. In raw values y and its residual would be ruled
    # by the outer nodes, which barely enter the equations (weights < 1e-30), and Newton's
    # backtracking on that residual stalled at 1e-3 (He2 + z, K = 16, eta_tilde = 10). In
    # node-scaled coordinates every node counts at its own size, and the basis is exact
    # there to rounding.
    d = np.max(np.abs(cols), axis=0)
    d = np.where(d > 0, d, 1.0)
    V = _orthonormal_span((cols / d).T)
    # The rank-rho factor m1 = L Mt (here Mt = W diag(sqrt d)) enters the Jacobian only,
    # not the map: a truncation there can slow Newton down but cannot move its solution.
    Uk, s1, W = np.linalg.svd(m1 / np.sqrt(d), full_matrices=False)
    rho = int(np.sum(s1 > s1[0] * max(m1.shape) * np.finfo(float).eps)) if s1.size and \
        s1[0] > 0 else 0
    L = Uk[:, :rho] * s1[:rho]
    ia, ib = np.triu_indices(rho)
    Gp = mm(W[ia] * W[ib], V)                 # Mt_a Mt_b P^T = W_a W_b d V / d
    Gp[ia != ib] *= 2.0
    PT = V / d[:, None]
    c = np.complex128
    return Reduction(E=np.ascontiguousarray(d[:, None] * V, dtype=c),
                     ET=np.ascontiguousarray((d[:, None] * V).T, dtype=c),
                     PT=np.ascontiguousarray(PT, dtype=c),
                     LT=np.ascontiguousarray(L.T, dtype=c), ia=ia, ib=ib,
                     GpT=np.ascontiguousarray(Gp.T, dtype=c),
                     PMp=np.ascontiguousarray(mm(PT.T, (ms2 * pi[:, None]).T), dtype=c))


# --------------------------------------------------------------------------- the map


@dataclass
class WLevel:
    """The map at ``(g, delta)`` for a batch, with what the Jacobian reuses.

    Attributes
    ----------
    gn : (B, K) ``g_new``;  T : (B, K, K) ``tau_new``;  dn : (B, Q) ``delta_new`` or None;
    w : (B, Q);  AM : (B, K, K) ``A M^-1``;  RT : (B, K, Q) ``M^-T m1`` (``R^T``) or None;
    X : (B, K).
    """

    gn: np.ndarray
    T: np.ndarray
    dn: np.ndarray | None
    w: np.ndarray
    AM: np.ndarray
    RT: np.ndarray | None
    X: np.ndarray


def w_level(g: np.ndarray, delta: np.ndarray, z: np.ndarray, D: ModelData,
            need_delta: bool = True) -> WLevel:
    """``(g, delta) -> (g_new, tau_new[, delta_new])`` for complex batches."""
    K = D.K
    w = 1.0 / (1.0 + delta)
    ww = w * D.omega
    A = mm(D.m1_c * ww[:, None, :], D.m1_tc)
    b = mm(ww[:, None, :], D.ms2_tc)[:, 0, :]
    X = D.pi * g
    Minv = safe_inv(np.eye(K) + D.beta * X[:, :, None] * A)
    AM = mm(A, Minv)
    gn = 1.0 / (b - z[:, None] + np.einsum("bkk->bk", AM))
    T = Minv * X[:, None, :]
    if not need_delta:
        return WLevel(gn=gn, T=T, dn=None, w=w, AM=AM, RT=None, X=X)
    RT = mm(np.swapaxes(Minv, 1, 2), D.m1_c)
    # m1_q^T T m1_q = sum_k R_qk X_k m1_kq
    quad = mm(X[:, None, :], RT * D.m1_c)[:, 0, :]
    dn = D.c0 * (quad + mm((gn * D.pi)[:, None, :], D.ms2_c)[:, 0, :])
    return WLevel(gn=gn, T=T, dn=dn, w=w, AM=AM, RT=RT, X=X)


def reduce_x(x: np.ndarray, D: ModelData) -> np.ndarray:
    """``x = (g, vec tau) -> u = (g, P delta(x))``."""
    K = D.K
    g = x[:, :K]
    tau = x[:, K:].reshape(-1, K, K)
    quad = np.einsum("bkq,kq->bq", mm(tau, D.m1_c), D.m1_c)
    delta = D.c0 * (quad + mm((g * D.pi)[:, None, :], D.ms2_c)[:, 0, :])
    y = mm(delta[:, None, :], D.red.PT)[:, 0, :]
    return np.concatenate([g, y], axis=1)


def _split(u: np.ndarray, D: ModelData) -> tuple[np.ndarray, np.ndarray]:
    """``u -> (g, delta = E y)``."""
    delta = mm(u[:, None, D.K:], D.red.ET)[:, 0, :]
    return u[:, :D.K], delta


def evaluate(u: np.ndarray, z: np.ndarray, D: ModelData
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reduced residual at ``u`` and the full unknowns ``u`` stands for.

    Returns
    -------
    F : ndarray (B, n)
        ``u - Psi(u)``.
    r : ndarray (B,)
        Its scaled size ``max|F| / max(1, max|u|)`` (``inf`` where not finite).
    x : ndarray (B, N)
        ``x(u) = (g_new, vec tau_new)``.
    dn : ndarray (B, Q)
        ``delta_new``, which is ``delta(x(u))``.
    """
    K = D.K
    g, delta = _split(u, D)
    wl = w_level(g, delta, z, D)
    yn = mm(wl.dn[:, None, :], D.red.PT)[:, 0, :]
    F = u - np.concatenate([wl.gn, yn], axis=1)
    r = np.max(np.abs(F), axis=1) / np.maximum(1.0, np.max(np.abs(u), axis=1))
    r[~np.isfinite(r)] = np.inf
    x = np.concatenate([wl.gn, wl.T.reshape(-1, K * K)], axis=1)
    return F, r, x, wl.dn


def full_residual(x: np.ndarray, dn: np.ndarray, z: np.ndarray, D: ModelData) -> np.ndarray:
    """The solver's residual of ``x = x(u)`` in the full parametrisation.

    ``max|x - Phi(x)| / max(1, max|x|)`` (docs/model.md#numerics), with ``dn = delta(x)``
    from :func:`evaluate`: the convergence test is the same whichever unknowns Newton
    moves.
    """
    K = D.K
    wl = w_level(x[:, :K], dn, z, D, need_delta=False)
    Fx = x - np.concatenate([wl.gn, wl.T.reshape(-1, K * K)], axis=1)
    r = np.max(np.abs(Fx), axis=1) / np.maximum(1.0, np.max(np.abs(x), axis=1))
    r[~np.isfinite(r)] = np.inf
    return r


# --------------------------------------------------------------------------- Jacobian


def reduced_jacobian(u: np.ndarray, z: np.ndarray, D: ModelData) -> np.ndarray:
    """``dPsi/du`` (B, n, n), analytically (formulas in the module docstring)."""
    red = D.red
    K = D.K
    g, delta = _split(u, D)
    wl = w_level(g, delta, z, D)
    gn2 = wl.gn * wl.gn
    v = D.omega * wl.w * wl.w
    J = np.empty((u.shape[0], u.shape[1], u.shape[1]), dtype=complex)
    dgn_dg = D.beta * gn2[:, :, None] * D.pi * wl.AM * np.swapaxes(wl.AM, 1, 2)
    RT2 = wl.RT * wl.RT
    J_gy = mm(gn2[:, :, None] * v[:, None, :] * (D.ms2_c + RT2), red.E)
    J[:, :K, :K] = dgn_dg
    J[:, :K, K:] = J_gy
    J[:, K:, :K] = D.c0 * (np.swapaxes(mm(D.pi[:, None] * RT2, red.PT), 1, 2)
                           + mm(red.PMp, dgn_dg))
    J[:, K:, K:] = D.c0 * (D.beta * mm(red.GpT, mm(_pairs(wl, v, D), red.E))
                           + mm(red.PMp, J_gy))
    return J


def _pairs(wl: WLevel, v: np.ndarray, D: ModelData) -> np.ndarray:
    """``v_q Zt_qa Zt_qb`` for the pairs ``a <= b`` (B, np, Q), ``Zt^T = L^T X R^T``."""
    ZtT = mm(D.red.LT, wl.X[:, :, None] * wl.RT)
    ZtTv = ZtT * v[:, None, :]
    rho = ZtT.shape[1]
    out = np.empty((ZtT.shape[0], D.red.ia.size, ZtT.shape[2]), dtype=complex)
    # Row a of the pairs (a, a..rho-1), one slice at a time: fancy indexing of the pair
    # axis was 10x slower.
    o = 0
    for a in range(rho):
        np.multiply(ZtTv[:, a:a + 1], ZtT[:, a:], out=out[:, o:o + rho - a])
        o += rho - a
    return out


def _rows_per_chunk(D: ModelData) -> int:
    red = D.red
    n = D.K + red.r
    per_row = 16 * (D.kappa.size * (red.ia.size + 3 * D.K + red.LT.shape[0]) + 3 * n * n)
    return max(1, CHUNK_BYTES // per_row)


def inverse_jacobian(u: np.ndarray, z: np.ndarray, D: ModelData) -> np.ndarray:
    """``(I - dPsi/du)^-1`` (B, n, n), in memory-bounded chunks of points."""
    n = u.shape[1]
    eye = np.eye(n)
    H = np.empty((u.shape[0], n, n), dtype=complex)
    step = _rows_per_chunk(D)
    for s in range(0, u.shape[0], step):
        sl = slice(s, s + step)
        H[sl] = safe_inv(eye - reduced_jacobian(u[sl], z[sl], D))
    return H


def broyden_update(H: np.ndarray, s: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Broyden's ("good") update of inverse Jacobians ``H`` (B, n, n) of ``F(u)``.

    After a step ``s`` that changed the residual by ``y``,
    ``H <- H + (s - H y) (s^H H) / (s^H H y)`` satisfies the secant condition
    ``H y = s``. Returns the updated ``H`` and a flag per point: False where the update
    is not defined (``s^H H y`` vanishes), so that the caller computes the Jacobian anew.
    """
    Hy = mm(H, y[:, :, None])[:, :, 0]
    sH = mm(s.conj()[:, None, :], H)[:, 0, :]
    den = np.einsum("bi,bi->b", s.conj(), Hy)
    ok = np.abs(den) > 1e-12 * np.linalg.norm(s, axis=1) * np.linalg.norm(Hy, axis=1)
    ok &= np.isfinite(den)
    coef = np.where(ok, 1.0 / np.where(ok, den, 1.0), 0.0)
    H = H + ((s - Hy) * coef[:, None])[:, :, None] * sH[:, None, :]
    return H, ok
