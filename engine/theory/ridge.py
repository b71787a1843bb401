"""Asymptotic training and test error of the ridge readout (docs/model.md#ridge-errors).

Internal conventions (docs/model.md#conventions): ``b = a/sqrt(p)``,
``b_hat = (Phi^T Phi/n + lam_int)^{-1} Phi^T y/n`` with ``lam_int = lam p/n`` (``lam``
is the user's penalty in the sum convention of docs/model.md#conventions). Errors include the label
noise ``Delta`` in the test error.

Signals along the spike plane, per class ``k``: ``S0_k = mu0(kappa_v, u_k)`` (stiff
mean direction), ``S1_k = kappa_v m1_k(kappa_v)`` and, when ``gamma < 1``,
``S2_k = kappa' m1_k(kappa_v)`` (linear channels), with ``kappa_v = <v, x>`` and
``kappa'`` the coordinate along the part of ``theta`` orthogonal to ``v``; the target is
``sigma_*(gamma kappa_v + sqrt(1-gamma^2) kappa')``. In the large batch ``gamma = 1``
and the ``kappa'`` grid has a single node.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from engine.activations import gauss_hermite, get_activation
from engine.config import ModelConfig, NumericsConfig
from engine.errors import ConvergenceError
from engine.results import Convergence, TheoryRidge
from engine.theory._blas import matmul as mm
from engine.theory._core import (
    ModelData,
    averages,
    damped_fixed_point,
    initial_guess,
    inner_map,
    model_data,
    newton,
)
from engine.theory._guard import require_finite, stage
from engine.theory.coefficients import conditional_coefficients
from engine.theory.spectrum import (
    atom_at_zero,
    bulk_right_edge,
    bulk_scale,
    outlier_positions,
)

__all__ = ["solve_ridge", "solve_at_real_z"]

#: Display grid of the learned function E[f_hat | kappa].
KAPPA_DISPLAY = np.linspace(-4.0, 4.0, 161)


def solve_at_real_z(z: float, D: ModelData, numerics: NumericsConfig,
                    warm: np.ndarray | None = None) -> tuple[np.ndarray, int, float]:
    """Solve the spectral equations at a real ``z`` left of the spectrum (``z = -lam_int``).

    Equations: docs/model.md#spectrum-of-the-feature-covariance.

    Damped fixed point then Newton; if that fails (tiny ``lam_int``), continuation
    along ``z - t`` with ``t`` decreasing geometrically to 0.

    Returns
    -------
    x : ndarray (N,)
        ``(g, vec tau)`` (real up to rounding).
    n_iter : int
    residual : float
    """
    zz = np.array([complex(z)])
    tried = []
    if warm is not None:
        out = newton(warm[None, :].astype(complex), zz, D, numerics.tol, max_iter=40)
        tried.append("Newton from the warm start")
        if out.converged[0]:
            return out.x[0], int(out.n_iter[0]), float(out.residual[0])
    x0 = damped_fixed_point(initial_guess(zz, D), zz, D, 20)
    out = newton(x0, zz, D, numerics.tol, max_iter=60)
    tried.append("20 damped fixed-point sweeps + 60 Newton steps")
    if out.converged[0]:
        return out.x[0], int(out.n_iter[0]) + 20, float(out.residual[0])
    # Continuation from a well-conditioned shift towards the target z.
    scale = max(bulk_scale(D), 1e-8)
    shifts = np.concatenate([scale * np.geomspace(1.0, 1e-8, 33), [0.0]])
    x = None
    total = 0
    for t in shifts:
        zt = np.array([complex(z - t)])
        if x is None:
            x = damped_fixed_point(initial_guess(zt, D), zt, D, 40)
        out = newton(x, zt, D, numerics.tol, max_iter=60)
        total += int(out.n_iter[0])
        if not out.converged[0]:
            tried.append(f"continuation z - t, t from {scale:.3g} to 0 (failed at t = {t:.3g})")
            raise ConvergenceError(
                f"ridge theory did not converge at z = -lam_int = {z:.6g} (residual "
                f"{out.residual[0]:.2e}); tried: " + "; ".join(tried)
                + ". A larger lam usually helps.")
        x = out.x
    return x[0], total, float(out.residual[0])


@lru_cache(maxsize=64)
def _plane(sigma: str, sigma_star: str, s: tuple, u: tuple, gamma: float, q_kappa: int,
           q_inner: int, q2: int) -> dict[str, np.ndarray]:
    """Grids and signals on the spike plane ``(kappa_v, kappa')`` (cached per model)."""
    kv, wv = gauss_hermite(q_kappa)
    if gamma >= 1.0 - 1e-14:
        kp, wp = np.zeros(1), np.ones(1)
    else:
        kp, wp = gauss_hermite(q2)
    m0, m1, _ = conditional_coefficients(sigma, np.asarray(s), np.asarray(u), kv, q_inner)
    K = m0.shape[0]
    Q, Q2 = kv.size, kp.size
    # Signals S (3K, Q, Q2): rows [S0_k], [S1_k, S2_k] interleaved per class.
    S = np.zeros((3 * K, Q, Q2))
    S[:K] = m0[:, :, None]
    S[K::2][:K] = (kv * m1)[:, :, None]
    S[K + 1::2][:K] = m1[:, :, None] * kp[None, None, :]
    sg = math.sqrt(max(1.0 - gamma * gamma, 0.0))
    arg = gamma * kv[:, None] + sg * kp[None, :]
    target = get_activation(sigma_star).f(arg)
    if not np.all(np.isfinite(target)):
        raise ConvergenceError(
            f"ridge theory: sigma_star = {sigma_star!r} is not finite on the kappa grid "
            f"(|kappa| up to {np.abs(arg).max():.3g}); fewer numerics.q_kappa nodes reach "
            "less far")
    return {"kv": np.asarray(kv), "wv": np.asarray(wv), "kp": np.asarray(kp),
            "wp": np.asarray(wp), "S": S, "target": np.asarray(target, dtype=float)}


def _traces(x: np.ndarray, z: float, D: ModelData) -> tuple[np.ndarray, np.ndarray]:
    """Second-order traces as bilinear forms in the coordinates of ``C(kappa)``.

    The coordinates of ``C(kappa)`` are ``c = (vec m1 m1^T, ms2)`` (length
    ``K^2 + K``). The W-level map at fixed ``A, b`` gives
    ``(1/p) tr(Qbar S) = <tau, X> + <Pi g, y>``; differentiating its fixed point along
    ``(X', y')`` (central differences, all directions in one batch) gives
    ``(1/p) tr(Qbar S Qbar S') = -D_(X',y') [<tau, X> + <Pi g, y>]``.

    Returns
    -------
    H : ndarray (K^2+K, K^2+K)
        ``T2(kappa, kappa') = c(kappa)^T H c(kappa')`` with ``T2 = (1/n) tr(Qbar C Qbar C')``.
    P : ndarray (K, K^2+K)
        ``Ptr_k(kappa) = P[k] @ c(kappa)`` with ``Ptr_k = (1/p) tr(P_k Qbar C Qbar)``.
    """
    K = D.K
    g = x[:K].real
    _, A, b = averages(x[None, :].real.astype(float), D)
    A, b = A[0], b[0]
    n_th = K * K + K
    n_dir = K + n_th
    # Perturbation directions: g (K), A entries (K^2), b (K); central differences.
    base_scale = np.concatenate([np.abs(g), np.abs(A).ravel(), np.abs(b)])
    h = 1e-5 * np.maximum(base_scale, 1e-3)
    E = np.eye(n_dir) * h
    pert = np.concatenate([E, -E], axis=0)                # (2 n_dir, n_dir)
    gs = g + pert[:, :K]
    As = A + pert[:, K:K + K * K].reshape(-1, K, K)
    bs = b + pert[:, K + K * K:]
    zs = np.full(2 * n_dir, z)
    gn, tn = inner_map(gs, As, bs, zs, D)
    out = np.concatenate([gn, tn.reshape(-1, K * K)], axis=1)
    dout = (out[:n_dir] - out[n_dir:]) / (2 * h[:, None])  # (dir, out) derivative
    dg_dg = dout[:K, :K].T                                 # (K out, K in)
    dg_dth = dout[K:, :K].T                                # (K, n_th)
    dt_dg = dout[:K, K:].T                                 # (K^2, K)
    dt_dth = dout[K:, K:].T                                # (K^2, n_th)
    dg = np.linalg.solve(np.eye(K) - dg_dg, dg_dth)        # implicit function theorem
    dtau = mm(dt_dg, dg) + dt_dth
    # Linear functionals L_a: tau_kl for X-coordinates, pi_k g_k for y-coordinates.
    L = np.concatenate([dtau, D.pi[:, None] * dg], axis=0)  # (n_th, n_th)
    H = -D.c0 * L
    H = 0.5 * (H + H.T)
    P = -D.pi[:, None] * dg
    return H, P


def _gamma_blocks(D: ModelData) -> np.ndarray:
    """``Gamma_k = (T_k^T T_k + nv_k I)/s_k^2``, ``T_k = s0_k I + c_k t t^T`` (K, 2, 2)."""
    srf = D.srf
    gam = srf.gamma
    t = np.array([gam, math.sqrt(max(1.0 - gam * gam, 0.0))])
    tt = np.outer(t, t)
    out = np.empty((D.K, 2, 2))
    for k in range(D.K):
        T = srf.s0[k] * np.eye(2) + srf.c[k] * tt
        out[k] = (T.T @ T + srf.nv[k] * np.eye(2)) / srf.s[k] ** 2
    return out


def _bulk_edge_upper(D: ModelData) -> float:
    """A generous estimate of the bulk's right edge (no solve), for the pitfall-5 check."""
    m1sq = (D.m1**2) @ D.omega
    ms2 = D.ms2 @ D.omega
    est = (1 + math.sqrt(D.c0)) ** 2 * (m1sq.max() * (1 + math.sqrt(D.beta)) ** 2 + ms2.max())
    return 2.0 * est


def _errors_parts(D: ModelData, Gm: np.ndarray, cv: np.ndarray, Dblk: np.ndarray,
                  Gam: np.ndarray, S: np.ndarray, ys: np.ndarray, W2: np.ndarray,
                  wp: np.ndarray, w: np.ndarray, T2: np.ndarray, Ptr: np.ndarray,
                  Delta: float, mean_gram: np.ndarray | None, p: int = 0
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Order parameters, conditional bias ``E[R^2 | kappa_v]`` and variance ``v``.

    ``mean_gram = None``: the mean directions are stiff (docs/model.md#ridge-errors, condition (a),
    ``E[w S0_k R] = 0``). Otherwise ``mean_gram[k] = 1_k^T Qbar 1_k = p pi_k g_k`` and the
    mean directions are treated like the linear channels,
    ``m0_k = p pi_k g_k E[w S0_k R]`` (a finite-p extension of the leading-order theory; it tends to
    (a) as p grows), with their own variance source ``p sum_k h0_k^2 Ptr_k``.
    """
    K = D.K
    if mean_gram is None:
        # The S0_k may be linearly dependent (e.g. a = ±1 at eta_tilde = 0) or vanish
        # (odd sigma without a spike): parametrise m0 = V c on the range of E[w S0 S0^T].
        ev, vec = np.linalg.eigh(Gm[:K, :K])
        ref = max(float(np.einsum("qr,qr,qr->", ys, ys, W2)), float(ev.max(initial=0.0)),
                  1e-300)
        V = vec[:, ev > 1e-11 * ref]                        # (K, r)
        r = V.shape[1]
        M = np.zeros((r + 2 * K, r + 2 * K))
        rhs = np.zeros(r + 2 * K)
        M[:r, :r] = V.T @ Gm[:K, :K] @ V
        M[:r, r:] = V.T @ Gm[:K, K:]
        rhs[:r] = V.T @ cv[:K]
        M[r:, r:] = np.eye(2 * K) + Dblk @ Gm[K:, K:]
        M[r:, :r] = Dblk @ Gm[K:, :K] @ V
        rhs[r:] = Dblk @ cv[K:]
        require_finite(STAGE, "the order-parameter system is not finite", M, rhs)
        sol = np.linalg.lstsq(M, rhs, rcond=1e-13)[0]
        theta = np.concatenate([V @ sol[:r], sol[r:]])
    else:
        Dfull = np.zeros((3 * K, 3 * K))
        Dfull[:K, :K] = np.diag(mean_gram)
        Dfull[K:, K:] = Dblk
        theta = np.linalg.solve(np.eye(3 * K) + Dfull @ Gm, Dfull @ cv)
    R = ys - np.einsum("a,aqr->qr", theta, S)             # residual on the plane
    h = np.einsum("aqr,qr,qr->a", S, R, W2)               # (3K,) = E[w S R]
    h1 = h[K:]
    quad = np.array([h1[2 * k:2 * k + 2] @ Gam[k] @ h1[2 * k:2 * k + 2] for k in range(K)])
    src = D.beta * (quad @ Ptr)
    if mean_gram is not None:
        # b along 1_k is Qbar 1_k h0_k; 1_k^T Qbar C Qbar 1_k = p Ptr_k (generic vector).
        src = src + p * (h[:K] ** 2) @ Ptr
    R2 = (R * R) @ wp                                     # E[R^2 | kappa_v]
    ww2 = D.omega * w * w
    lhs = np.eye(D.kappa.size) - T2 * ww2[None, :]
    v = np.linalg.solve(lhs, src + T2 @ (ww2 * (R2 + Delta)))
    return R2, v, theta


def solve_ridge(model: ModelConfig, numerics: NumericsConfig | None = None, *,
                warm: TheoryRidge | None = None, errors_only: bool = False) -> TheoryRidge:
    """Asymptotic ridge errors (docs/model.md#ridge-errors), any K, large or finite batch.

    Parameters
    ----------
    model : ModelConfig
        ``lam`` is mapped to ``lam_int = lam p/n``; ``noise`` is ``Delta``.
    numerics : NumericsConfig, optional
        ``q_kappa`` (kappa grid), ``q_inner``, ``q2`` (second grid when gamma < 1), ``tol``.
    warm : TheoryRidge, optional
        A previous solution (same law of ``a``) whose ``g, tau`` start Newton.
    errors_only : bool
        Only the errors and order parameters: no learned function (``kappa``,
        ``learned_function`` and ``target`` are empty) and no weak-direction check (no
        ``warnings``). Grids and automatic learning curves need no more, and the check
        is about half the cost of a point.

    Returns
    -------
    TheoryRidge
        ``test_error = bias + variance`` with ``bias = E[R^2] + Delta``,
        ``variance = E[v]``; ``train_error``; order parameters ``m0`` (K,) and ``m1``
        ((K,) large batch, (K, 2) finite batch: channels along ``v`` and ``theta'``);
        the learned function ``E[f_hat | kappa]`` on ``kappa`` in [-4, 4].
        ``test_error_finite_p`` / ``train_error_finite_p``: the same with the mean
        directions treated at the model's ``p`` (``m0_k = p pi_k g_k E[w S0_k R]``, like
        the linear channels, plus their variance source ``p sum_k h0_k^2 Ptr_k``); an
        extension beyond the leading-order theory that fixes the weak-direction gap of pitfall 5
        (validated in tests/engine/test_theory_validation.py).

    Raises
    ------
    ConvergenceError
        When the fixed point at ``z = -lam_int`` cannot be solved.
    """
    numerics = numerics or NumericsConfig()
    with stage(STAGE):
        D = model_data(model, numerics)
        x, n_iter, resid = _fixed_point(model, D, numerics, warm)
        out = _errors(model, D, numerics, x, learned=not errors_only)
        out["warnings"] = () if errors_only else _weak_directions(model, D, numerics)
    z = -model.lam_int
    conv = Convergence(success=True, n_iter=int(n_iter), residual=float(resid),
                       message=f"fixed point at z = -lam_int = {z:.4g}: {n_iter} iterations")
    return TheoryRidge(model=model, convergence=conv, **out)


STAGE = "ridge theory"


def _fixed_point(model: ModelConfig, D: ModelData, numerics: NumericsConfig,
                 warm: TheoryRidge | None) -> tuple[np.ndarray, int, float]:
    """The spectral unknowns ``x = (g, vec tau)`` (real) at ``z = -lam_int``."""
    K = D.K
    z = -model.lam_int
    if z == 0.0 and atom_at_zero(D) > 0:
        raise ConvergenceError(
            "ridge theory needs lam > 0 when p > n (the Gram matrix is singular; the "
            "ridgeless limit is not implemented)")
    warm_x = None
    if warm is not None and warm.g is not None and warm.tau is not None \
            and warm.g.shape == (K,):
        warm_x = np.concatenate([warm.g, warm.tau.ravel()]).astype(complex)
    x, n_iter, resid = solve_at_real_z(z, D, numerics, warm_x)
    x = x.real.copy()
    g = x[:K]
    if np.any(g <= 0) or not np.all(np.isfinite(x)):
        raise ConvergenceError(
            f"ridge theory at z = -lam_int = {z:.6g} converged to an unphysical solution "
            f"g = {g} (must be positive)")
    return x, n_iter, resid


def _errors(model: ModelConfig, D: ModelData, numerics: NumericsConfig, x: np.ndarray, *,
            learned: bool = True) -> dict:
    """Errors, order parameters and (``learned``) the learned function at ``x``."""
    K = D.K
    srf = D.srf
    z = -model.lam_int
    g = x[:K]
    w, _, _ = averages(x[None, :], D)
    w = w[0]                                              # (Q,) weight 1/(1+delta)
    pl = _plane(model.sigma, model.sigma_star, tuple(srf.s.tolist()), tuple(srf.u.tolist()),
                float(srf.gamma), numerics.q_kappa, numerics.q_inner, numerics.q2)
    S, ys, wv, wp = pl["S"], pl["target"], pl["wv"], pl["wp"]
    W2 = (wv * w)[:, None] * wp[None, :]                 # weights incl. w, (Q, Q2)
    Gm = np.einsum("aqr,bqr,qr->ab", S, S, W2)            # E[w S S^T] (3K, 3K)
    cv = np.einsum("aqr,qr,qr->a", S, ys, W2)             # E[w S y_*]
    Gam = _gamma_blocks(D)
    Dblk = np.zeros((2 * K, 2 * K))
    for k in range(K):
        Dblk[2 * k:2 * k + 2, 2 * k:2 * k + 2] = D.beta * D.pi[k] * g[k] * Gam[k]
    Cc = np.concatenate([D.M2, D.ms2], axis=0)            # (K^2+K, Q)
    H, P = _traces(x, z, D)
    T2 = mm(mm(Cc.T, H), Cc)                              # (Q, Q)
    Ptr = mm(P, Cc)                                       # (K, Q)
    require_finite(STAGE, "the second-order traces overflow", T2, Ptr, Gm, cv)
    R2, v, theta = _errors_parts(D, Gm, cv, Dblk, Gam, S, ys, W2, wp, w, T2, Ptr, model.noise,
                                 mean_gram=None)
    Delta = model.noise
    ww2 = D.omega * w * w
    # Finite-p variant (mean directions not stiff): reported alongside.
    R2p, vp, _ = _errors_parts(D, Gm, cv, Dblk, Gam, S, ys, W2, wp, w, T2, Ptr, model.noise,
                               mean_gram=model.p * D.pi * g, p=model.p)
    bias = float(D.omega @ R2) + Delta
    variance = float(D.omega @ v)
    test = bias + variance
    train = float(ww2 @ (R2 + Delta + v))
    if not all(math.isfinite(t) for t in (test, train)) or variance < -1e-8:
        raise ConvergenceError(
            f"ridge theory produced invalid errors (test {test}, variance {variance}) at "
            f"lam_int = {model.lam_int:.4g}; the variance equation is ill-conditioned here")
    m0 = theta[:K]
    m1_full = theta[K:].reshape(K, 2)
    m1 = m1_full[:, 0].copy() if srf.gamma >= 1.0 - 1e-14 else m1_full
    kd = ld = target = np.zeros(0)
    if learned:
        kd, ld, target = _learned_function(model, D, numerics, m0, m1_full)
    out = dict(test_error=test, train_error=train, bias=bias, variance=variance, m0=m0, m1=m1,
               kappa=kd, learned_function=ld, target=target, g=g.copy(),
               tau=x[K:].reshape(K, K).copy(),
               test_error_finite_p=float(D.omega @ R2p) + Delta + float(D.omega @ vp),
               train_error_finite_p=float(ww2 @ (R2p + Delta + vp)))
    require_finite(STAGE, "the order parameters or the learned function overflow",
                   *out.values())
    return out


def orthogonal_nodes(gamma: float, numerics: NumericsConfig
                     ) -> tuple[float, np.ndarray, np.ndarray]:
    """Nodes to average over the coordinate of ``v`` orthogonal to ``theta``.

    Returns ``(sqrt(1 - gamma^2), zeta, w)``: ``<v, x> = gamma kappa + sqrt(1-gamma^2) zeta``
    with ``zeta ~ N(0, 1)`` independent of ``kappa``; one node at 0 when ``gamma = 1``.
    """
    sg = math.sqrt(max(1.0 - gamma * gamma, 0.0))
    if sg == 0.0:
        return sg, np.zeros(1), np.ones(1)
    zeta, wz = gauss_hermite(min(numerics.q2, 40))
    return sg, zeta, wz


def _learned_function(model: ModelConfig, D: ModelData, numerics: NumericsConfig,
                      m0: np.ndarray, m1: np.ndarray) -> tuple[np.ndarray, ...]:
    """``E[f_hat | kappa]`` on the display grid (average over the orthogonal coordinate)."""
    srf = D.srf
    kd = KAPPA_DISPLAY
    gam = srf.gamma
    sg, zeta, wz = orthogonal_nodes(gam, numerics)
    kv = (gam * kd[:, None] + sg * zeta[None, :]).ravel()
    kp = (sg * kd[:, None] - gam * zeta[None, :]).ravel()
    c0, c1, _ = conditional_coefficients(model.sigma, srf.s, srf.u, kv, numerics.q_inner)
    f = m0 @ c0 + (m1[:, 0] @ c1) * kv + (m1[:, 1] @ c1) * kp
    ld = f.reshape(kd.size, -1) @ wz
    target = get_activation(model.sigma_star).f(kd)
    return kd.copy(), ld, np.asarray(target, dtype=float)


def _weak_directions(model: ModelConfig, D: ModelData, numerics: NumericsConfig
                     ) -> tuple[str, ...]:
    """docs/model.md#known-limits: mean directions that are not stiff at this ``p``.

    A mean direction is learned without shrinkage only when its eigenvalue ``p eig`` is
    well above both the bulk and the penalty ``lam_int``; warn below 3x either.
    """
    outs = outlier_positions(D, model.p)
    if outs.size == 0:
        return ()
    weakest = float(outs.min())
    lam = model.lam_int
    if weakest > 3.0 * max(_bulk_edge_upper(D), lam):
        return ()
    edge = _right_edge(model, numerics)
    ref = max(edge, lam)
    weak = outs[outs < 3.0 * ref]
    if weak.size == 0:
        return ()
    what = f"the bulk edge ({edge:.3g})" if edge >= lam else f"lam_int ({lam:.3g})"
    return (f"{weak.size} mean direction(s) of the features are weak at d = {model.d}: "
            f"p*eig = {', '.join(f'{w:.3g}' for w in weak)} is below 3x {what}; "
            "the asymptotic theory treats them as fully learned and overestimates what is "
            "learned at this size (docs/model.md#known-limits; the gap shrinks like 1/p); "
            "test_error_finite_p treats them at this p",)


def _right_edge(model: ModelConfig, numerics: NumericsConfig) -> float:
    # The bulk does not depend on lam or d: cache per model without them.
    return _right_edge_cached(model.with_(lam=0.0, d=1000), numerics)


@lru_cache(maxsize=256)
def _right_edge_cached(model: ModelConfig, numerics: NumericsConfig) -> float:
    return bulk_right_edge(model_data(model, numerics), numerics)
