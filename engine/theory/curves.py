"""Curves and side results built on the solvers: learning curves, tails, weights, expressivity.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.activations import gauss_hermite, get_activation
from engine.config import ModelConfig, NumericsConfig
from engine.errors import ConfigError, ConvergenceError
from engine.progress import ProgressFn, check_cancel, sub_progress
from engine.results import Expressivity, SRFParams, TailCurve, TheoryRidge, TheoryWeights
from engine.theory._guard import require_finite, stage
from engine.theory.coefficients import conditional_coefficients
from engine.theory.mapping import equivalent_srf
from engine.theory.ridge import KAPPA_DISPLAY, orthogonal_nodes, solve_ridge
from engine.theory.spectrum import solve_spectrum

__all__ = ["learning_curve", "tail_curve", "weights_theory", "expressivity"]

CURVE_PARAMS = ("alpha", "lam", "eta_tilde", "beta", "alpha0", "noise", "d")


def learning_curve(model: ModelConfig, param: str, values: Any,
                   numerics: NumericsConfig | None = None, *,
                   progress: ProgressFn | None = None, cancel=None,
                   errors_only: bool = False) -> tuple[TheoryRidge, ...]:
    """Ridge theory along one parameter, warm-started from point to point.

    Parameters
    ----------
    model : ModelConfig
        The base model; ``param`` is replaced by each value in turn.
    param : {"alpha", "lam", "eta_tilde", "beta", "alpha0", "noise", "d"}
        ``lam`` is the user's penalty (sum convention); ``alpha0 = None`` is the large batch.
    values : sequence
    numerics : NumericsConfig, optional
    progress, cancel
        Reported / checked after every point.
    errors_only : bool
        Errors and order parameters only (see :func:`solve_ridge`).

    Returns
    -------
    tuple of TheoryRidge
        One per value, in order.

    Raises
    ------
    ConfigError
        For an unknown ``param`` or an invalid value.
    ConvergenceError
        At the first point that does not converge (the message names the value).
    """
    if param not in CURVE_PARAMS:
        raise ConfigError("param", f"param must be one of {', '.join(CURVE_PARAMS)}, "
                                   f"got {param!r}")
    numerics = numerics or NumericsConfig()
    values = list(values)
    out: list[TheoryRidge] = []
    prev: TheoryRidge | None = None
    for i, v in enumerate(values):
        check_cancel(cancel)
        m = model.with_(**{param: v})
        try:
            r = solve_ridge(m, numerics, warm=prev, errors_only=errors_only)
        except ConvergenceError as exc:
            raise ConvergenceError(f"learning curve at {param} = {v}: {exc}") from exc
        out.append(r)
        prev = r
        if progress is not None:
            progress((i + 1) / len(values), f"theory learning curve: {param} = {v}")
    return tuple(out)


def tail_curve(model: ModelConfig, eta_values: Any, threshold: float,
               numerics: NumericsConfig | None = None, *,
               progress: ProgressFn | None = None, cancel=None) -> TailCurve:
    """Right edge of the bulk and bulk mass above ``threshold`` versus ``eta_tilde``.

    Parameters
    ----------
    model : ModelConfig
    eta_values : sequence of float
    threshold : float
        In eigenvalue units of ``Phi^T Phi / n``.
    numerics : NumericsConfig, optional
    progress, cancel
        ``progress(fraction, message)`` (monotone over the whole curve) and a cancel
        token, checked between the stages of every spectrum.

    Returns
    -------
    TailCurve

    Raises
    ------
    ConvergenceError
        At the first value whose spectrum fails (the message names the value).
    Cancelled
        When ``cancel`` is set.
    """
    numerics = numerics or NumericsConfig()
    etas = np.asarray(list(eta_values), dtype=float)
    edge = np.empty(etas.size)
    above = np.empty(etas.size)
    for i, e in enumerate(etas):
        check_cancel(cancel)
        sub = sub_progress(progress, i / etas.size, (i + 1) / etas.size)
        try:
            sp = solve_spectrum(model.with_(eta_tilde=float(e)), numerics, progress=sub,
                                cancel=cancel)
        except ConvergenceError as exc:
            raise ConvergenceError(f"tail curve at eta_tilde = {e:g}: {exc}") from exc
        edge[i] = float(sp.edges[:, 1].max())
        above[i] = _mass_above(sp.grid, sp.density, float(threshold))
        if progress is not None:
            progress((i + 1) / etas.size, f"theory tail curve: eta_tilde = {e:g}")
    require_finite("tail curve", "the edges or tail masses are not finite", edge, above)
    return TailCurve(eta_tilde=etas, right_edge=edge, mass_above=above,
                     threshold=float(threshold))


def _mass_above(grid: np.ndarray, density: np.ndarray, t: float) -> float:
    if t >= grid[-1]:
        return 0.0
    if t <= grid[0]:
        return float(np.trapezoid(density, grid))
    rho_t = float(np.interp(t, grid, density))
    keep = grid > t
    x = np.concatenate([[t], grid[keep]])
    y = np.concatenate([[rho_t], density[keep]])
    return float(np.trapezoid(y, x))


# --------------------------------------------------------------------------- weights


def _silverstein(lam: np.ndarray, t: np.ndarray, pi: np.ndarray, c: float,
                 eta_min: float) -> np.ndarray:
    """Density of ``S^1/2 Z Z^T S^1/2 / d`` (``S = diag`` with law ``sum pi_k delta_t_k``).

    Silverstein's equation ``m = sum_k pi_k / (t_k (1 - c - c z m) - z)``, ``c = p/d``,
    solved by Newton with continuation in ``Im z`` (vectorised over ``lam``).
    """
    eta = 1.0
    z = lam + 1j * eta
    m = -1.0 / z
    while True:
        z = lam + 1j * eta
        for _ in range(60):
            den = t[None, :] * (1.0 - c - c * z[:, None] * m[:, None]) - z[:, None]
            F = m - (pi / den).sum(axis=1)
            dF = 1.0 - (pi * t * c * z[:, None] / den**2).sum(axis=1)
            step = F / dF
            m_new = m - step
            # Stay on the Stieltjes branch (Im m > 0).
            bad = m_new.imag < 0
            m_new[bad] = m[bad] - 0.5 * step[bad]
            m = m_new
            if np.max(np.abs(step) / np.maximum(1.0, np.abs(m))) < 1e-12:
                break
        else:
            raise ConvergenceError(
                f"weight spectrum (Silverstein equation, ratio beta = {c:g}) did not converge "
                f"at Im z = {eta:.2g} after 60 Newton steps")
        if eta <= eta_min:
            break
        eta = max(eta * 0.2, eta_min)
    return np.maximum(m.imag, 0.0) / math.pi


def weights_theory(model: ModelConfig) -> TheoryWeights:
    """Limiting spectrum of ``W1 W1^T`` (p x p) after the step.

    The rows of ``W0`` are uniform on the sphere, so ``W0 W0^T`` follows the
    Marchenko–Pastur law of ratio ``beta = p/d`` with unit scale (support
    ``[(1-sqrt beta)^2, (1+sqrt beta)^2]``, atom ``1 - 1/beta`` at zero when ``p > d``).
    After the step the bulk rows of class ``k`` have norm ``s_k`` (row rescale ``s0_k``
    and finite-batch noise ``nv_k``), which gives the generalised (Silverstein) law with
    population weights ``s_k^2``. The rank-one ``u v^T`` adds one order-``p`` spike at
    ``p E[u_k^2] + E[u^2 s^2]/E[u^2] + beta E[s^2]`` (leading order ``p E[u_k^2]``; the
    ``O(1)`` terms are the bulk's contribution along ``u`` and along ``v``).

    Returns
    -------
    TheoryWeights

    Raises
    ------
    ConvergenceError
        When the mapping or the Silverstein equation fails, or a value overflows.
    """
    srf = equivalent_srf(model)
    with stage("weight spectrum"):
        out = _weights(model, srf)
        require_finite("weight spectrum", "the density or the spike overflows", out.grid,
                       out.density, out.edges, out.spikes)
    return out


def _weights(model: ModelConfig, srf: SRFParams) -> TheoryWeights:
    beta = model.beta
    t = srf.s**2
    pi = srf.pi
    require_finite("weight spectrum", "the row norms s_k^2 overflow", t)
    lo = max(float(t.min()) * (1.0 - math.sqrt(beta)) ** 2 * 0.5, 0.0)
    hi = float(t.max()) * (1.0 + math.sqrt(beta)) ** 2 * 1.05
    n = 600
    grid = lo + (hi - lo) * 0.5 * (1.0 - np.cos(np.linspace(0.0, math.pi, n)))
    # Geometric points near the lower end resolve the 1/sqrt(x) density when beta = 1.
    grid = np.unique(np.concatenate([grid, lo + (hi - lo) * np.geomspace(1e-9, 1e-2, 60)]))
    grid = grid[grid > 0]
    if np.allclose(t, t[0]):
        # One row norm: the closed-form Marchenko–Pastur density.
        s2 = float(t[0])
        a_, b_ = s2 * (1 - math.sqrt(beta)) ** 2, s2 * (1 + math.sqrt(beta)) ** 2
        inside = (grid > a_) & (grid < b_)
        dens = np.zeros(grid.size)
        x = grid[inside]
        dens[inside] = np.sqrt((b_ - x) * (x - a_)) / (2 * math.pi * beta * s2 * x)
        grid = np.unique(np.concatenate([grid, [a_, b_]]))
        dens = np.interp(grid, x, dens[inside], left=0.0, right=0.0)
        dens[(grid <= a_) | (grid >= b_)] = 0.0
        edges = np.array([[a_, b_]])
    else:
        dens = _silverstein(grid, t, pi, beta, 1e-7)
        dens[dens < 1e-6 * dens.max()] = 0.0
        pos = dens > 0
        edges_l = []
        i = 0
        while i < grid.size:
            if pos[i]:
                j = i
                while j + 1 < grid.size and pos[j + 1]:
                    j += 1
                edges_l.append([grid[max(i - 1, 0)], grid[min(j + 1, grid.size - 1)]])
                i = j + 1
            else:
                i += 1
        edges = np.asarray(edges_l, dtype=float).reshape(-1, 2)
    atom = max(0.0, 1.0 - 1.0 / beta)
    eu2 = float(pi @ srf.u**2)
    if eu2 > 0:
        spike = model.p * eu2 + float(pi @ (srf.u**2 * t)) / eu2 + beta * float(pi @ t)
        spikes = np.array([spike])
    else:
        spikes = np.zeros(0)
    return TheoryWeights(model=model, grid=grid, density=dens, edges=edges,
                         atom_zero=float(atom), spikes=spikes)


# --------------------------------------------------------------------------- expressivity


def expressivity(model: ModelConfig, numerics: NumericsConfig | None = None) -> Expressivity:
    """What the post-step features can express along ``theta``.

    ``mu0(kappa, u_k)`` of each atom (averaged over the coordinate orthogonal to
    ``theta`` when ``gamma < 1``) against ``sigma_*(kappa)``; the best
    ``L2(N(0,1))`` fit of the target in ``span{mu0(., u_k), kappa}`` by least squares
    weighted by the Gauss–Hermite quadrature of ``kappa``.

    Returns
    -------
    Expressivity
        On the display grid ``kappa`` in [-4, 4]; ``coefficients`` (K+1,) are those of
        ``mu0(., u_1..K)`` then of ``kappa``; ``r2 = 1 - E[(target - fit)^2]/Var(target)``.

    Raises
    ------
    ConvergenceError
        When the mapping, the coefficients or the target overflow, or the fit is
        singular.
    """
    numerics = numerics or NumericsConfig()
    srf = equivalent_srf(model)
    with stage("expressivity"):
        return _expressivity(model, numerics, srf)


def _expressivity(model: ModelConfig, numerics: NumericsConfig, srf: SRFParams
                  ) -> Expressivity:
    kq, wq = gauss_hermite(numerics.q_kappa)
    gam = srf.gamma
    sg, zeta, wz = orthogonal_nodes(gam, numerics)

    def mean_features(k: np.ndarray) -> np.ndarray:
        kv = (gam * k[:, None] + sg * zeta[None, :]).ravel()
        c0, _, _ = conditional_coefficients(model.sigma, srf.s, srf.u, kv, numerics.q_inner)
        return c0.reshape(srf.s.size, k.size, -1) @ wz       # (K, Q)

    target_f = get_activation(model.sigma_star).f
    basis_q = np.vstack([mean_features(np.asarray(kq)), kq[None, :]])
    yq = target_f(np.asarray(kq))
    require_finite("expressivity", f"sigma_star = {model.sigma_star!r} is not finite on the "
                   f"kappa grid (|kappa| up to {np.abs(kq).max():.3g})", yq)
    require_finite("expressivity", "the mean features mu0(kappa, u_k) are not finite",
                   basis_q)
    sw = np.sqrt(wq)
    try:
        coef = np.linalg.lstsq((basis_q * sw).T, yq * sw, rcond=1e-12)[0]
    except np.linalg.LinAlgError as exc:
        raise ConvergenceError(f"expressivity: the fit of sigma_star is singular ({exc})"
                               ) from exc
    resid = float(wq @ (yq - coef @ basis_q) ** 2)
    var = float(wq @ yq**2 - (wq @ yq) ** 2)
    r2 = 1.0 - resid / var if var > 0 else 1.0
    kd = KAPPA_DISPLAY.copy()
    mu0_d = mean_features(kd)
    basis_d = np.vstack([mu0_d, kd[None, :]])
    out = Expressivity(kappa=kd, mu0=mu0_d, target=np.asarray(target_f(kd), dtype=float),
                       fit=coef @ basis_d, coefficients=coef, r2=float(r2))
    require_finite("expressivity", "the fit of sigma_star overflows", out.fit, out.target,
                   out.coefficients, out.r2)
    return out
