"""Shared machinery: per-model grids and coefficients, the K-dimensional map, Newton.

The unknowns of docs/model.md#spectrum-of-the-feature-covariance for one spectral parameter ``z``
are ``g in C^K`` and
``tau in C^{K x K}``; they are stored flattened as ``x = (g, vec(tau))`` of length
``N = K + K^2`` and solved for a whole batch of ``z`` at once (all linear algebra on
stacked arrays). The map is holomorphic, so the Jacobian of ``x -> Phi(x)`` is
complex-linear: it is computed analytically by pushing the ``N`` unit tangents
through the map (forward mode), batched with the base point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from engine.activations import gauss_hermite
from engine.config import ModelConfig, NumericsConfig
from engine.errors import ConvergenceError
from engine.results import SRFParams
from engine.theory.coefficients import conditional_coefficients
from engine.theory.mapping import equivalent_srf


@dataclass(frozen=True)
class ModelData:
    """Everything the solvers need about a model, on the ``kappa`` grid.

    Attributes
    ----------
    K : int
    pi : ndarray (K,)
    beta, alpha : float
    c0 : float
        ``beta/alpha = p/n``.
    kappa, omega : ndarray (Q,)
        Gauss–Hermite grid of ``kappa_v = <v, x>`` (the spike direction).
    m0, m1, ms2 : ndarray (K, Q)
        ``mu0, mu1, mus2`` of each atom on the grid.
    M2 : ndarray (K*K, Q)
        ``m1_k m1_l`` flattened (the coordinates ``X`` of ``C(kappa)``).
    srf : SRFParams
    """

    K: int
    pi: np.ndarray
    beta: float
    alpha: float
    c0: float
    kappa: np.ndarray
    omega: np.ndarray
    m0: np.ndarray
    m1: np.ndarray
    ms2: np.ndarray
    M2: np.ndarray
    srf: SRFParams
    PA: np.ndarray | None = None
    Pb: np.ndarray | None = None
    # Complex, contiguous copies of the matrices multiplied with complex batches: numpy
    # would otherwise cast them at every product (5x slower with threaded BLAS).
    m2_c: np.ndarray | None = None
    m2_tc: np.ndarray | None = None
    ms2_c: np.ndarray | None = None
    ms2_tc: np.ndarray | None = None
    pa_tc: np.ndarray | None = None
    pb_tc: np.ndarray | None = None

    @property
    def N(self) -> int:
        return self.K + self.K * self.K


def _srf_key(model: ModelConfig) -> tuple:
    """The model fields the spectrum depends on (not lam; alpha only via c0)."""
    return (model.sigma, model.sigma_star, model.a_law.values, model.a_law.probs,
            model.eta_tilde, model.alpha0, model.noise)


def model_data(model: ModelConfig, numerics: NumericsConfig) -> ModelData:
    """Cached :class:`ModelData` for ``model`` (see :func:`_model_data`)."""
    # The cache key leaves out d and lam, which do not enter the equations.
    canon = model.with_(lam=0.0, d=1000) if (model.lam, model.d) != (0.0, 1000) else model
    return _model_data(_srf_key(model), model.beta, model.alpha, numerics.q_kappa,
                       numerics.q_inner, canon)


@lru_cache(maxsize=128)
def _model_data(key: tuple, beta: float, alpha: float, q_kappa: int, q_inner: int,
                model: ModelConfig) -> ModelData:
    srf = equivalent_srf(model)
    bad = np.nonzero(srf.s <= 1e-10)[0]
    if bad.size:
        k = int(bad[0])
        raise ConvergenceError(
            f"the row norm s_k of atom a = {srf.a[k]:g} vanishes after the step "
            f"(s0 = 1 + eta_tilde a mu2 mu0_* = {srf.s0[k]:.3g}): the features of that class "
            "no longer depend on x_perp and the theory does not apply "
            "(docs/model.md#conditional-gaussian-equivalence); "
            "change eta_tilde or the law of a")
    kappa, omega = gauss_hermite(int(q_kappa))
    m0, m1, ms2 = conditional_coefficients(model.sigma, srf.s, srf.u, kappa, q_inner)
    K = len(srf.a)
    M2 = (m1[:, None, :] * m1[None, :, :]).reshape(K * K, -1)
    c0 = float(beta) / float(alpha)
    # d delta / dx_j (N, Q) is constant (delta is linear in x); pre-multiply it by the
    # coordinates so that the Jacobian of (A, b) is one matrix product per Newton step.
    ddelta = c0 * np.concatenate([srf.pi[:, None] * ms2, M2], axis=0)
    PA = (ddelta[:, None, :] * M2[None, :, :]).reshape(-1, M2.shape[1])
    Pb = (ddelta[:, None, :] * ms2[None, :, :]).reshape(-1, ms2.shape[1])
    return ModelData(K=K, pi=srf.pi, beta=float(beta), alpha=float(alpha), c0=c0,
                     kappa=np.asarray(kappa), omega=np.asarray(omega), m0=m0, m1=m1,
                     ms2=ms2, M2=M2, srf=srf, PA=PA, Pb=Pb,
                     m2_c=M2.astype(complex), m2_tc=np.ascontiguousarray(M2.T, dtype=complex),
                     ms2_c=ms2.astype(complex),
                     ms2_tc=np.ascontiguousarray(ms2.T, dtype=complex),
                     pa_tc=np.ascontiguousarray(PA.T, dtype=complex),
                     pb_tc=np.ascontiguousarray(Pb.T, dtype=complex))


def _mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for 2-d arrays as a stack of row products.

    The solver's products are small (inner or outer size K^2, Q = 80) and many. As plain
    GEMMs, OpenBLAS threads them, and on a loaded 2-core machine each one then waited
    10-15 ms for its threads (measured); the stacked form ``(B,1,Q) @ (Q,M)`` runs one
    tiny product per row, single-threaded, in well under a millisecond.
    """
    return (a[:, None, :] @ b)[:, 0, :]


# --------------------------------------------------------------------------- the map


def averages(x: np.ndarray, D: ModelData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``delta``-weights and the averaged ``A (B,K,K)``, ``b (B,K)`` for unknowns ``x``.

    Returns ``w = 1/(1+delta)`` of shape (B, Q) too.
    """
    K = D.K
    g = x[:, :K]
    tau = x[:, K:]
    if np.iscomplexobj(x):
        delta = D.c0 * (_mm(tau, D.m2_c) + _mm(g * D.pi, D.ms2_c))
        w = 1.0 / (1.0 + delta)
        ww = w * D.omega
        A = _mm(ww, D.m2_tc).reshape(-1, K, K)
        b = _mm(ww, D.ms2_tc)
    else:
        delta = D.c0 * (tau @ D.M2 + (g * D.pi) @ D.ms2)
        w = 1.0 / (1.0 + delta)
        ww = w * D.omega
        A = (ww @ D.M2.T).reshape(-1, K, K)
        b = ww @ D.ms2.T
    return w, A, b


def inner_map(g: np.ndarray, A: np.ndarray, b: np.ndarray, z: np.ndarray, D: ModelData
              ) -> tuple[np.ndarray, np.ndarray]:
    """The W-level map at fixed ``A, b``: ``(g, A, b) -> (g_new, tau_new)``.

    ``M = I + beta Pi G A``, ``g_k = 1/(b_k - z + [A M^{-1}]_kk)``,
    ``tau = M^{-1} Pi G``.
    """
    K = D.K
    X = D.pi * g
    M = np.eye(K) + D.beta * X[:, :, None] * A
    Minv = np.linalg.inv(M)
    AM = A @ Minv
    gn = 1.0 / (b - z[:, None] + np.einsum("bkk->bk", AM))
    taun = Minv * X[:, None, :]
    return gn, taun


def phi(x: np.ndarray, z: np.ndarray, D: ModelData) -> np.ndarray:
    """The full map ``x -> Phi(x)`` for a batch (B, N) at spectral parameters z (B,)."""
    K = D.K
    _, A, b = averages(x, D)
    gn, taun = inner_map(x[:, :K], A, b, z, D)
    return np.concatenate([gn, taun.reshape(-1, K * K)], axis=1)


def phi_and_jacobian(x: np.ndarray, z: np.ndarray, D: ModelData
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``Phi(x)`` (B, N) and its Jacobian ``dPhi/dx`` (B, N, N), analytically.

    Forward mode: the ``N`` unit tangents are pushed through the map together.
    """
    K = D.K
    N = D.N
    B = x.shape[0]
    g = x[:, :K]
    tau = x[:, K:]
    delta = D.c0 * (_mm(tau, D.m2_c) + _mm(g * D.pi, D.ms2_c))    # (B, Q)
    w = 1.0 / (1.0 + delta)
    ww = w * D.omega
    A = _mm(ww, D.m2_tc).reshape(B, K, K)
    b = _mm(ww, D.ms2_tc)
    # dA_j = -E[w^2 m1 m1^T d delta_j], db_j = -E[w^2 ms2 d delta_j] (PA, Pb precomputed).
    w2 = -(w * ww)
    dA = _mm(w2, D.pa_tc).reshape(B, N, K, K)
    db = _mm(w2, D.pb_tc).reshape(B, N, K)
    X = D.pi * g
    dX = np.zeros((N, K))
    dX[np.arange(K), np.arange(K)] = D.pi                         # dX/dg_k
    M = np.eye(K) + D.beta * X[:, :, None] * A
    Minv = np.linalg.inv(M)
    AM = A @ Minv
    gn = 1.0 / (b - z[:, None] + np.einsum("bkk->bk", AM))
    taun = Minv * X[:, None, :]
    dM = D.beta * (dX[None, :, :, None] * A[:, None] + X[:, None, :, None] * dA)
    # d(M^-1) = -M^-1 dM M^-1
    dMinv = -Minv[:, None] @ dM @ Minv[:, None]
    dAM = dA @ Minv[:, None] + A[:, None] @ dMinv
    dh = np.einsum("bjkk->bjk", dAM)
    dgn = -(gn * gn)[:, None, :] * (db + dh)                      # (B, N, K)
    dtaun = dMinv * X[:, None, None, :] + Minv[:, None] * dX[None, :, None, :]
    J = np.concatenate([dgn, dtaun.reshape(B, N, K * K)], axis=2)  # (B, j, out)
    out = np.concatenate([gn, taun.reshape(B, K * K)], axis=1)
    return out, np.swapaxes(J, 1, 2)


def initial_guess(z: np.ndarray, D: ModelData) -> np.ndarray:
    """``g = -1/z``, ``tau = Pi g`` (docs/model.md#numerics)."""
    g = (-1.0 / z)[:, None] * np.ones(D.K)
    tau = np.zeros((z.size, D.K, D.K), dtype=complex)
    idx = np.arange(D.K)
    tau[:, idx, idx] = D.pi * g
    return np.concatenate([g, tau.reshape(z.size, -1)], axis=1).astype(complex)


def _resid(F: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.max(np.abs(F), axis=1) / np.maximum(1.0, np.max(np.abs(x), axis=1))


def _branch_ok(x: np.ndarray, z: np.ndarray, K: int) -> np.ndarray:
    """``Im g_k >= 0`` when ``Im z > 0`` (Stieltjes transforms of positive measures)."""
    g = x[:, :K]
    tol = 1e-9 * np.maximum(1.0, np.abs(g))
    ok = np.all(g.imag >= -tol, axis=1)
    return np.where(z.imag > 0, ok, True)


@dataclass
class NewtonOut:
    x: np.ndarray
    converged: np.ndarray
    residual: np.ndarray
    n_iter: np.ndarray


def damped_fixed_point(x: np.ndarray, z: np.ndarray, D: ModelData, n: int,
                       damping: float = 0.5) -> np.ndarray:
    """A few damped fixed-point sweeps: robust start far from the real axis."""
    for _ in range(n):
        x = (1.0 - damping) * x + damping * phi(x, z, D)
    return x


def newton(x: np.ndarray, z: np.ndarray, D: ModelData, tol: float, max_iter: int = 30
           ) -> NewtonOut:
    """Batched Newton on ``F(x) = x - Phi(x)`` with backtracking and a branch check.

    Points stop as soon as their scaled residual ``max|F| / max(1, max|x|)`` is below
    ``tol``. Steps that increase the residual or leave the branch ``Im g >= 0`` are
    halved (up to 8 times).
    """
    x = np.array(x, dtype=complex)
    z = np.asarray(z, dtype=complex)
    B, N = x.shape
    eye = np.eye(N)
    F = x - phi(x, z, D)
    r = _resid(F, x)
    r[~np.isfinite(r)] = np.inf
    n_iter = np.zeros(B, dtype=int)
    stuck = np.zeros(B, dtype=bool)
    for _ in range(max_iter):
        act = np.nonzero((r > tol) & ~stuck)[0]
        if act.size == 0:
            break
        xa, za = x[act], z[act]
        Pa, Ja = phi_and_jacobian(xa, za, D)
        Fa = xa - Pa
        with np.errstate(all="ignore"):
            try:
                dx = np.linalg.solve(eye - Ja, -Fa[:, :, None])[:, :, 0]
            except np.linalg.LinAlgError:
                dx = np.stack([np.linalg.lstsq(eye - Ja[i], -Fa[i], rcond=None)[0]
                               for i in range(act.size)])
        ra = _resid(Fa, xa)
        step = np.ones(act.size)
        pending = np.arange(act.size)
        for _ls in range(9):
            with np.errstate(all="ignore"):
                xn = xa[pending] + step[pending, None] * dx[pending]
                rn = _resid(xn - phi(xn, za[pending], D), xn)
            branch = _branch_ok(xn, za[pending], D.K)
            good = np.isfinite(rn) & branch & (
                (rn < ra[pending] * (1.0 - 1e-4 * step[pending])) | (rn <= tol))
            acc = act[pending[good]]
            x[acc], r[acc] = xn[good], rn[good]
            pending = pending[~good]
            if pending.size == 0:
                break
            step[pending] *= 0.5
        n_iter[act] += 1
        # No acceptable step: the point is stuck (wrong basin); its caller retries it.
        stuck[act[pending]] = True
    # A point stuck within 1e3 tol has hit rounding (huge spectral scales): accept it.
    conv = ((r <= tol) | (stuck & (r <= 1e3 * tol))) & np.all(np.isfinite(x), axis=1)
    return NewtonOut(x=x, converged=conv, residual=r, n_iter=n_iter)


def continuation(lam: np.ndarray, D: ModelData, numerics: NumericsConfig, scale: float,
                 keep_last: int = 2) -> tuple[list[np.ndarray], list[np.ndarray], int, float]:
    """Solve at ``z = lam + i eta`` for ``eta`` going from ``scale`` down to ``eta_min``.

    Every level is solved by Newton warm-started from the level above; points that fail
    are retried through intermediate levels (geometric means), up to 5 bisections.

    Returns
    -------
    etas : list of float arrays
        The last ``keep_last`` levels (each an array of eta per point).
    xs : list of ndarray (B, N)
        Solutions at those levels.
    n_iter : int
        Total Newton iterations of the hardest point.
    residual : float
        Max final residual.

    Raises
    ------
    ConvergenceError
        When some point cannot be solved even with refined continuation.
    """
    lam = np.asarray(lam, dtype=float)
    B = lam.size
    eta_min = numerics.eta_min
    levels = []
    e = scale
    while e > 10.0 * eta_min:
        levels.append(e)
        e /= 10.0
    levels.append(eta_min)
    # Intermediate levels only provide warm starts: a looser tolerance saves Newton
    # steps; the last keep_last levels (used for the density) get numerics.tol.
    tol_mid = max(numerics.tol, 1e-7)
    n_lev = len(levels)
    z0 = lam + 1j * levels[0]
    x = damped_fixed_point(initial_guess(z0, D), z0, D, 8)
    out = newton(x, z0, D, tol_mid if n_lev > keep_last else numerics.tol, max_iter=60)
    _raise_if_failed(out, lam, levels[0], "the starting level (damped fixed point + Newton)")
    x = out.x
    iters = out.n_iter.copy()
    res = out.residual.copy()
    history: list[tuple[float, np.ndarray]] = [(levels[0], x)]
    for i, (prev, eta) in enumerate(zip(levels[:-1], levels[1:], strict=True)):
        tol = numerics.tol if i + 1 >= n_lev - keep_last else tol_mid
        x, it, rr = _descend(x, lam, prev, eta, D, numerics, depth=0, tol=tol)
        iters += it
        res = rr
        history.append((eta, x))
    history = history[-keep_last:]
    etas = [np.full(B, h[0]) for h in history]
    xs = [h[1] for h in history]
    return etas, xs, int(iters.max(initial=0)), float(res.max(initial=0.0))


def _descend(x: np.ndarray, lam: np.ndarray, eta_from: float, eta_to: float, D: ModelData,
             numerics: NumericsConfig, depth: int, tol: float | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tol = numerics.tol if tol is None else tol
    z = lam + 1j * eta_to
    out = newton(x, z, D, tol, max_iter=25)
    iters = out.n_iter.copy()
    xo = out.x
    res = out.residual.copy()
    bad = np.nonzero(~out.converged)[0]
    if bad.size:
        if depth >= 5:
            _raise_if_failed(out, lam, eta_to, f"Newton continuation in Im z from {eta_from:.3g} "
                             f"with {depth} bisections of the step")
        mid = math.sqrt(eta_from * eta_to)
        xm, it1, _ = _descend(x[bad], lam[bad], eta_from, mid, D, numerics, depth + 1,
                              max(tol, 1e-7))
        xb, it2, rb = _descend(xm, lam[bad], mid, eta_to, D, numerics, depth + 1, tol)
        xo[bad] = xb
        iters[bad] += it1 + it2
        res[bad] = rb
    return xo, iters, res


def _raise_if_failed(out: NewtonOut, lam: np.ndarray, eta: float, what: str) -> None:
    bad = np.nonzero(~out.converged)[0]
    if bad.size:
        i = int(bad[np.argmax(out.residual[bad])]) if np.isfinite(
            out.residual[bad]).any() else int(bad[0])
        raise ConvergenceError(
            f"theory spectrum did not converge at {bad.size} of {lam.size} points, e.g. "
            f"z = {lam[i]:.6g} + {eta:.2g}i (residual {out.residual[i]:.2e} after "
            f"{out.n_iter[i]} Newton steps); tried: {what}")
