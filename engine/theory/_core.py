"""Shared machinery: per-model grids and coefficients, the K-dimensional map, Newton.

The unknowns of docs/model.md#spectrum-of-the-feature-covariance for one spectral parameter
``z`` are ``g in C^K`` and ``tau in C^{K x K}``, stored flattened as ``x = (g, vec(tau))``
of length ``N = K + K^2``; a whole batch of ``z`` is solved at once (all linear algebra on
stacked arrays). Newton does not move ``x`` itself: the map sees ``tau`` only through
``delta(kappa)``, which lives in a space of dimension ``r <= min(Q, K + K^2)``, so Newton
works in the reduced unknowns ``u = (g, y)`` of :mod:`engine.theory._reduced` (length
``K + r``; 54 instead of 272 for K = 16, relu) and reports ``x`` and its residual as before.
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
from engine.theory._blas import matmul as mm
from engine.theory._guard import require_finite, safe_inv
from engine.theory._reduced import (
    Reduction,
    broyden_update,
    build_reduction,
    evaluate,
    full_residual,
    inverse_jacobian,
    reduce_x,
    w_level,
)
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
    red : Reduction
        The reduced parametrisation Newton works in (:mod:`engine.theory._reduced`).
    m1_c, m1_tc, ms2_c, ms2_tc : ndarray
        Complex, contiguous copies of ``m1``, ``m1^T``, ``ms2``, ``ms2^T``: the batches
        are complex, and numpy would otherwise cast the real matrix at every product.
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
    red: Reduction
    m1_c: np.ndarray
    m1_tc: np.ndarray
    ms2_c: np.ndarray
    ms2_tc: np.ndarray

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
    # Everything but beta and alpha (the coefficients, the reduction) is shared along a
    # learning curve in alpha or beta; the sRF constants are cheap and quote beta.
    parts = dict(_grid_data(key, int(q_kappa), int(q_inner), model.with_(beta=1.0, alpha=2.0)))
    parts["srf"] = equivalent_srf(model)
    return ModelData(beta=float(beta), alpha=float(alpha), c0=float(beta) / float(alpha),
                     **parts)


@lru_cache(maxsize=64)
def _grid_data(key: tuple, q_kappa: int, q_inner: int, model: ModelConfig) -> dict:
    """The sRF parameters, coefficients and reduction of a model (not beta, alpha)."""
    srf = equivalent_srf(model)
    bad = np.nonzero(srf.s <= 1e-10)[0]
    if bad.size:
        k = int(bad[0])
        raise ConvergenceError(
            f"spectral equations: the row norm s_k of atom a = {srf.a[k]:g} vanishes after "
            f"the step (s0 = 1 + eta_tilde a mu2 mu0_* = {srf.s0[k]:.3g}): the features of "
            "that class "
            "no longer depend on x_perp and the theory does not apply "
            "(docs/model.md#conditional-gaussian-equivalence); "
            "change eta_tilde or the law of a")
    kappa, omega = gauss_hermite(q_kappa)
    m0, m1, ms2 = conditional_coefficients(model.sigma, srf.s, srf.u, kappa, q_inner)
    K = len(srf.a)
    with np.errstate(all="ignore"):
        M2 = (m1[:, None, :] * m1[None, :, :]).reshape(K * K, -1)
        scale = float(srf.pi @ ((m1**2 + ms2) @ omega))
    # Finite coefficients can still have a non-finite second moment (values ~1e200).
    require_finite("spectral equations", "the feature variance E[mu1^2 + mus2] overflows",
                   scale, M2)
    return dict(K=K, pi=srf.pi, kappa=np.asarray(kappa), omega=np.asarray(omega), m0=m0,
                m1=m1, ms2=ms2, M2=M2, srf=srf, red=build_reduction(m1, ms2, srf.pi),
                m1_c=m1.astype(complex), m1_tc=np.ascontiguousarray(m1.T, dtype=complex),
                ms2_c=ms2.astype(complex), ms2_tc=np.ascontiguousarray(ms2.T, dtype=complex))


# --------------------------------------------------------------------------- the map


def delta_of_x(x: np.ndarray, D: ModelData) -> np.ndarray:
    """``delta(kappa)`` (B, Q) of the unknowns ``x = (g, vec tau)`` (real or complex)."""
    K = D.K
    g = x[:, :K]
    tau = x[:, K:].reshape(-1, K, K)
    if np.iscomplexobj(x):
        m1, ms2 = D.m1_c, D.ms2_c
    else:
        m1, ms2 = D.m1, D.ms2
    # Stacked per point, each product small: see engine.theory._blas.
    quad = np.einsum("bkq,kq->bq", mm(tau, m1), m1)
    return D.c0 * (quad + mm((g * D.pi)[:, None, :], ms2)[:, 0, :])


def averages(x: np.ndarray, D: ModelData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``delta``-weights and the averaged ``A (B,K,K)``, ``b (B,K)`` for unknowns ``x``.

    Returns ``w = 1/(1+delta)`` of shape (B, Q) too.
    """
    w = 1.0 / (1.0 + delta_of_x(x, D))
    ww = w * D.omega
    if np.iscomplexobj(x):
        A = mm(D.m1_c * ww[:, None, :], D.m1_tc)
        b = mm(ww[:, None, :], D.ms2_tc)[:, 0, :]
    else:
        A = mm(D.m1 * ww[:, None, :], D.m1.T)
        b = mm(ww[:, None, :], D.ms2.T)[:, 0, :]
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
    Minv = safe_inv(M)
    AM = mm(A, Minv)
    gn = 1.0 / (b - z[:, None] + np.einsum("bkk->bk", AM))
    taun = Minv * X[:, None, :]
    return gn, taun


def phi(x: np.ndarray, z: np.ndarray, D: ModelData) -> np.ndarray:
    """The full map ``x -> Phi(x)`` for a batch (B, N) at spectral parameters z (B,)."""
    K = D.K
    if np.iscomplexobj(x):
        wl = w_level(x[:, :K], delta_of_x(x, D), z, D, need_delta=False)
        return np.concatenate([wl.gn, wl.T.reshape(-1, K * K)], axis=1)
    _, A, b = averages(x, D)
    gn, taun = inner_map(x[:, :K], A, b, z, D)
    return np.concatenate([gn, taun.reshape(-1, K * K)], axis=1)


def initial_guess(z: np.ndarray, D: ModelData) -> np.ndarray:
    """``g = -1/z``, ``tau = Pi g`` (docs/model.md#numerics)."""
    g = (-1.0 / z)[:, None] * np.ones(D.K)
    tau = np.zeros((z.size, D.K, D.K), dtype=complex)
    idx = np.arange(D.K)
    tau[:, idx, idx] = D.pi * g
    return np.concatenate([g, tau.reshape(z.size, -1)], axis=1).astype(complex)


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
    """A few damped fixed-point sweeps: robust start far from the real axis.

    A point whose map is not finite (a singular ``M`` on the way) keeps its last value.
    """
    for _ in range(n):
        with np.errstate(all="ignore"):
            xn = (1.0 - damping) * x + damping * phi(x, z, D)
        ok = np.all(np.isfinite(xn), axis=1)
        x = np.where(ok[:, None], xn, x)
    return x


def newton(x: np.ndarray, z: np.ndarray, D: ModelData, tol: float, max_iter: int = 30
           ) -> NewtonOut:
    """Batched quasi-Newton for ``x = Phi(x)`` with backtracking and a branch check.

    Works in the reduced unknowns ``u = (g, y)`` (:mod:`engine.theory._reduced`),
    starting from ``u(x)``. The first step of each point uses the exact (analytic)
    Jacobian; later steps update its inverse by Broyden's formula, and the exact Jacobian
    is computed anew at the current point whenever a step fails or the residual falls by
    less than half. Steps backtrack on the reduced residual and must keep ``Im g >= 0``
    (halved up to 8 times). The stopping test and the returned residual are those of the
    full parametrisation: a point stops when ``max|x - Phi(x)| / max(1, max|x|) <= tol``.
    """
    z = np.asarray(z, dtype=complex)
    with np.errstate(all="ignore"):
        u = reduce_x(np.array(x, dtype=complex), D)
        F, ru, xu, dn = evaluate(u, z, D)
        r = full_residual(xu, dn, z, D)
    B, n = u.shape
    n_iter = np.zeros(B, dtype=int)
    stuck = np.zeros(B, dtype=bool)
    H = np.zeros((B, n, n), dtype=complex)     # inverse Jacobians of F = u - Psi(u)
    have = np.zeros(B, dtype=bool)
    exact = np.zeros(B, dtype=bool)
    state = (u, F, ru, xu, r)
    for _ in range(max_iter):
        act = np.nonzero((r > tol) & ~stuck)[0]
        if act.size == 0:
            break
        with np.errstate(all="ignore"):
            new = act[~have[act]]
            if new.size:
                H[new] = inverse_jacobian(u[new], z[new], D)
                have[new] = exact[new] = True
                # A singular Jacobian: take a damped fixed-point step (H = I) instead.
                sing = new[~np.all(np.isfinite(H[new]), axis=(1, 2))]
                H[sing] = np.eye(n)
                exact[sing] = False
            du = -mm(H[act], F[act][:, :, None])[:, :, 0]
            u0, F0, r0 = u[act], F[act], ru[act]
            pending = _line_search(act, du, state, z, D)
            n_iter[act] += 1
            failed = act[pending]
            # A failed exact Newton step means a wrong basin (the caller retries the
            # point); a failed quasi-Newton step is retried with the exact Jacobian.
            stuck[failed[exact[failed]]] = True
            have[failed] = False
            ok = np.ones(act.size, dtype=bool)
            ok[pending] = False
            _update_inverses(act[ok], u0[ok], F0[ok], r0[ok], state, H, have, exact)
    # A point stuck within 1e3 tol has hit rounding (huge spectral scales): accept it.
    conv = ((r <= tol) | (stuck & (r <= 1e3 * tol))) & np.all(np.isfinite(xu), axis=1)
    return NewtonOut(x=xu, converged=conv, residual=r, n_iter=n_iter)


def _update_inverses(acc: np.ndarray, u0: np.ndarray, F0: np.ndarray, r0: np.ndarray,
                     state: tuple[np.ndarray, ...], H: np.ndarray, have: np.ndarray,
                     exact: np.ndarray) -> None:
    """Broyden-update ``H`` for the points ``acc`` that moved from ``(u0, F0, r0)``."""
    u, F, ru = state[:3]
    H[acc], ok = broyden_update(H[acc], u[acc] - u0, F[acc] - F0)
    exact[acc] = False
    # Slow progress: the secant model has drifted; use the exact Jacobian next time.
    have[acc[~ok | (ru[acc] > 0.5 * r0)]] = False


def _line_search(act: np.ndarray, du: np.ndarray, state: tuple[np.ndarray, ...],
                 z: np.ndarray, D: ModelData) -> np.ndarray:
    """Backtracking along ``du`` for the points ``act``.

    ``state = (u, F, ru, x, r)`` is updated in place for the points whose step is
    accepted: the reduced residual ``ru`` decreases (Armijo-like) and ``Im g >= 0`` holds.
    Returns the indices (into ``act``) of the points for which no step was accepted.
    """
    u, F, ru, xu, r = state
    ra = ru[act]
    step = np.ones(act.size)
    pending = np.arange(act.size)
    for _ls in range(9):
        idx = act[pending]
        un = u[idx] + step[pending, None] * du[pending]
        Fn, rn, xn, dn = evaluate(un, z[idx], D)
        branch = _branch_ok(un, z[idx], D.K) & _branch_ok(xn, z[idx], D.K)
        good = branch & (rn < ra[pending] * (1.0 - 1e-4 * step[pending]))
        acc = idx[good]
        u[acc], F[acc], ru[acc], xu[acc] = un[good], Fn[good], rn[good], xn[good]
        r[acc] = full_residual(xn[good], dn[good], z[acc], D)
        pending = pending[~good]
        if pending.size == 0:
            break
        step[pending] *= 0.5
    return pending


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
            f"theory spectrum: Newton did not converge at {bad.size} of {lam.size} points, e.g. "
            f"z = {lam[i]:.6g} + {eta:.2g}i (residual {out.residual[i]:.2e} after "
            f"{out.n_iter[i]} Newton steps); tried: {what}")
