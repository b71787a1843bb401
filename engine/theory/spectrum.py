"""Limiting spectrum of ``Phi^T Phi / n`` (docs/model.md#spectrum-of-the-feature-covariance).

The density is ``rho(lambda) = Im m(lambda + i eta_min) / pi`` with
``m = sum_k pi_k g_k``, computed on an adaptive grid:

1. a coarse scan (geometric near zero, linear beyond) locates the support: a point
   is *inside* when ``Im m`` barely changes between ``eta = 10 eta_min`` and
   ``eta_min`` (inside the support ``Im m`` tends to ``pi rho > 0``; outside it is
   proportional to ``eta``), extended to the right until the last point is outside;
2. every edge bracket is refined (two rounds of 16 points);
3. the final grid is Chebyshev-clustered in each support interval (dense at the
   edges) plus points equidistributed along the arc length of the coarse density
   (dense where the density varies fast, e.g. the tanh peak near ``mus2``).

All points of a stage are solved together by Newton continuation in ``Im z``
(:func:`engine.theory._core.continuation`). ``eta_min`` is reduced in proportion when
the nonlinear variance ``E mus2`` is far below tanh's (~0.03), e.g. for the centred
sigmoid. A support that reaches zero (``p = n``) has a power-law hard edge: the grid
starts at ``30 eta_min`` and the mass below is integrated from a power-law fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from engine.config import ModelConfig, NumericsConfig
from engine.errors import ConvergenceError
from engine.progress import ProgressFn, check_cancel, sub_progress
from engine.results import Convergence, TheorySpectrum
from engine.theory._core import ModelData, continuation, model_data, newton
from engine.theory._guard import require_finite, stage

__all__ = ["solve_spectrum", "outlier_positions", "atom_at_zero", "bulk_scale", "bulk_right_edge"]


def atom_at_zero(D: ModelData) -> float:
    """Mass of the atom at zero: ``1 - rank/p`` with ``rank/d = min(alpha, beta[, 1])``.

    With any nonlinear part (``mus2 > 0``) the rank is ``min(n, p)``; for a purely
    linear feature map it is also limited by ``d``.
    """
    limit = min(D.alpha, D.beta)
    if not np.any(D.ms2 > 1e-12):
        limit = min(limit, 1.0)
    return max(0.0, 1.0 - limit / D.beta)


def bulk_scale(D: ModelData) -> float:
    """Mean bulk eigenvalue ``sum_k pi_k E[m1_k^2 + ms2_k]`` (sets eta and grid scales)."""
    return float(D.pi @ ((D.m1**2 + D.ms2) @ D.omega))


def outlier_positions(D: ModelData, p: int, *, centred: bool = False) -> np.ndarray:
    """Order-``p`` outliers ``p * eig(Pi^1/2 M0 Pi^1/2)`` (largest first).

    ``M0_kl = E_kappa[mu0_k mu0_l]`` (``Cov_kappa`` for centred features); only the
    numerically nonzero eigenvalues (the rank of ``M0``) are returned.
    """
    m0 = D.m0
    if centred:
        m0 = m0 - (m0 @ D.omega)[:, None]
    M0 = (m0 * D.omega) @ m0.T
    sq = np.sqrt(D.pi)
    ev = np.linalg.eigvalsh(sq[:, None] * M0 * sq[None, :])[::-1]
    top = ev[0] if ev.size else 0.0
    keep = ev > max(1e-14, 1e-9 * top)
    return p * ev[keep]


@dataclass
class _Solved:
    """Points solved so far at ``eta_min``: ``lam``, the unknowns ``x`` and ``rho``."""

    lam: list[np.ndarray] = field(default_factory=list)
    x: list[np.ndarray] = field(default_factory=list)
    rho: list[np.ndarray] = field(default_factory=list)
    inside: list[np.ndarray] = field(default_factory=list)
    n_iter: int = 0
    residual: float = 0.0

    def add(self, lam: np.ndarray, x: np.ndarray, rho: np.ndarray, inside: np.ndarray,
            n_iter: int, residual: float) -> None:
        self.lam.append(lam)
        self.x.append(x)
        self.rho.append(rho)
        self.inside.append(inside)
        self.n_iter = max(self.n_iter, n_iter)
        self.residual = max(self.residual, residual)


def _im_m(x: np.ndarray, lam: np.ndarray, eta: float, D: ModelData, atom: float
          ) -> np.ndarray:
    """``Im m(lam + i eta)`` of the continuous part, from the unknowns ``x``."""
    # The atom at zero contributes a Lorentzian atom*eta/(lam^2+eta^2) to Im m.
    return (x[:, : D.K] @ D.pi).imag - atom * eta / (lam**2 + eta**2)


def _solve(lam: np.ndarray, D: ModelData, numerics: NumericsConfig, scale: float,
           atom: float, solved: _Solved | None = None
           ) -> tuple[np.ndarray, np.ndarray, int, float]:
    """Density and inside-support flags at real points ``lam`` (any order).

    With ``solved``, the points and their solutions at ``eta_min`` are recorded there.
    """
    etas, xs, it, res = continuation(lam, D, numerics, scale)
    ims = [_im_m(x, lam, eta[0], D, atom) for eta, x in zip(etas, xs, strict=True)]
    im_last = ims[-1]
    if len(ims) > 1:
        ratio_eta = etas[-2][0] / etas[-1][0]
        inside = im_last > np.maximum(ims[-2], 0.0) * (1.5 / math.sqrt(ratio_eta)) + 1e-300
        inside &= im_last > 1e-12
    else:
        inside = im_last > 1e-8
    rho = np.maximum(im_last, 0.0) / math.pi
    if solved is not None:
        solved.add(lam, xs[-1], rho, inside, it, res)
    return rho, inside, it, res


def _solve_warm(lam: np.ndarray, solved: _Solved, edges: np.ndarray, D: ModelData,
                numerics: NumericsConfig, scale: float, atom: float) -> np.ndarray:
    """Density at points ``lam`` inside the support, warm-started from ``solved``.

    A point between two solved points of the same support interval starts Newton at
    ``eta_min`` from the linear interpolation of their solutions (the solution is smooth
    in ``lam`` there); it keeps the result if Newton converges on the branch and the
    density is within a factor ~2 of the interpolated one. Every other point goes
    through the full continuation in ``Im z`` (:func:`_solve`).
    """
    kl = np.concatenate(solved.lam)
    keep = np.concatenate(solved.inside)
    order = np.argsort(kl[keep])
    kl = kl[keep][order]
    kx = np.concatenate(solved.x)[keep][order]
    kr = np.concatenate(solved.rho)[keep][order]
    j = np.clip(np.searchsorted(kl, lam), 1, max(kl.size - 1, 1))
    rho = np.zeros(lam.size)
    warm = np.zeros(lam.size, dtype=bool)
    if kl.size >= 2:
        iv = _interval_index(edges, lam)
        warm = (lam >= kl[j - 1]) & (lam <= kl[j]) & (iv >= 0) & \
            (_interval_index(edges, kl[j - 1]) == iv) & (_interval_index(edges, kl[j]) == iv)
    if warm.any():
        i = np.nonzero(warm)[0]
        lo, hi = j[i] - 1, j[i]
        t = ((lam[i] - kl[lo]) / np.maximum(kl[hi] - kl[lo], 1e-300))[:, None]
        x0 = (1.0 - t) * kx[lo] + t * kx[hi]
        eta = numerics.eta_min
        out = newton(x0, lam[i] + 1j * eta, D, numerics.tol, max_iter=25)
        r_new = np.maximum(_im_m(out.x, lam[i], eta, D, atom), 0.0) / math.pi
        r_int = (1.0 - t[:, 0]) * kr[lo] + t[:, 0] * kr[hi]
        ok = out.converged & (np.abs(r_new - r_int) <= 0.5 * np.maximum(r_new, r_int)
                              + 1e-3 * kr.max())
        rho[i[ok]] = r_new[ok]
        warm[i[~ok]] = False
        solved.n_iter = max(solved.n_iter, int(out.n_iter.max(initial=0)))
        solved.residual = max(solved.residual, float(out.residual[ok].max(initial=0.0)))
    cold = np.nonzero(~warm)[0]
    if cold.size:
        rho[cold], _, it, res = _solve(lam[cold], D, numerics, scale, atom)
        solved.n_iter = max(solved.n_iter, it)
        solved.residual = max(solved.residual, res)
    return rho


def _interval_index(edges: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Index of the support interval containing each ``lam`` (-1 outside)."""
    out = np.full(np.shape(lam), -1)
    for e, (lo, hi) in enumerate(edges):
        out[(lam >= lo) & (lam <= hi)] = e
    return out


def _intervals(x: np.ndarray, inside: np.ndarray) -> list[list[float]]:
    """Brackets ``[(a_out, b_in), (c_in, d_out)]`` of each run of inside points."""
    out = []
    i = 0
    n = x.size
    while i < n:
        if not inside[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and inside[j + 1]:
            j += 1
        left = (x[i - 1] if i > 0 else 0.0, x[i])
        right = (x[j], x[j + 1] if j + 1 < n else x[j])
        out.append([left, right])
        i = j + 1
    return out


def bulk_right_edge(D: ModelData, numerics: NumericsConfig) -> float:
    """Quick estimate of the right edge of the bulk (relative accuracy ~2 %).

    A 16-point scan plus one 6-point refinement with the support test of
    :func:`solve_spectrum`, continued in ``Im z`` only from ``0.1`` to ``1e-3`` times
    the spectral scale, to a residual of 1e-7: a few milliseconds for small K (70 ms at
    K = 16), for the ridge solver's weak-direction check.
    """
    scale = max(bulk_scale(D), 1e-8)
    # Inside/outside at 1e-3 of the scale is decided by Im m changing by O(1) between
    # levels: a 1e-7 residual cannot flip it, and saves the last Newton steps.
    num = replace(numerics, eta_min=min(max(1e-3 * scale, 1e-8), 1e-1),
                  tol=max(numerics.tol, 1e-7))
    atom = atom_at_zero(D)
    hi = scale * (1.0 + math.sqrt(D.c0)) ** 2 * 1.5
    for _ in range(12):
        x = np.linspace(hi / 16, hi, 16)
        _, ins, _, _ = _solve(x, D, num, 0.1 * scale, atom)
        if not ins[-1]:
            break
        hi *= 2.0
    else:
        raise ConvergenceError(f"bulk edge estimate: could not bracket the right edge of the "
                               f"bulk below {hi:.4g}")
    if not ins.any():
        return float(x[0])
    k = int(np.nonzero(ins)[0][-1])
    xr = np.linspace(x[k], x[k + 1], 8)[1:-1]
    _, ins_r, _, _ = _solve(xr, D, num, 0.1 * scale, atom)
    lo = float(xr[ins_r].max()) if ins_r.any() else float(x[k])
    above = xr[xr > lo]
    return 0.5 * (lo + float(above.min() if above.size else x[k + 1]))


def solve_spectrum(model: ModelConfig, numerics: NumericsConfig | None = None, *,
                   centred: bool = False, progress: ProgressFn | None = None,
                   cancel=None) -> TheorySpectrum:
    """Limiting spectral density of ``(1/n) Phi^T Phi`` (p x p).

    Equations: docs/model.md#spectrum-of-the-feature-covariance.

    Parameters
    ----------
    model : ModelConfig
    numerics : NumericsConfig, optional
        ``q_kappa``, ``q_inner``, ``n_grid`` (final grid size), ``eta_min``, ``tol``.
    centred : bool
        Features centred over samples: the bulk is unchanged, the order-``p`` outliers
        come from ``Cov_kappa(mu0)``; ``outliers`` then holds the centred positions.
    progress, cancel
        ``progress(fraction, message)`` and a cancel token, checked between stages.

    Returns
    -------
    TheorySpectrum
        ``density`` of the continuous part on ``grid`` (eigenvalue units of
        ``Phi^T Phi / n``), support ``edges``, ``atom_zero``, order-p ``outliers``
        (already multiplied by ``p``), ``mass = integral + atom`` (should be 1).

    Raises
    ------
    ConvergenceError
        If the deterministic equivalent cannot be solved at some ``z`` (the message
        gives the point and what was tried), the support cannot be bracketed, or the
        arithmetic breaks down (the message names the stage).
    Cancelled
        When ``cancel`` is set.
    """
    numerics = numerics or NumericsConfig()
    prog = progress or (lambda f, m: None)
    check_cancel(cancel)
    with stage("theory spectrum"):
        D = model_data(model, numerics)
        atom = atom_at_zero(D)
        scale = max(bulk_scale(D), 1e-8)
        numerics = _effective_numerics(D, numerics, scale)
        solved = _Solved()
        prog(0.0, "theory spectrum: locating the support")
        grid_c, rho_c, in_c = _coarse_scan(D, numerics, scale, atom, solved, cancel)
        check_cancel(cancel)
        prog(0.3, "theory spectrum: refining the edges")
        edges_arr = _refine_edges(_intervals(grid_c, in_c), D, numerics, scale, atom, solved,
                                  cancel)
        prog(0.5, "theory spectrum: density on the adaptive grid")
        hard_floor = 30.0 * numerics.eta_min
        grid, in_support = _final_grid(edges_arr, grid_c, rho_c, in_c, numerics.n_grid,
                                       hard_floor)
        rho = np.zeros(grid.size)
        sol = np.nonzero(in_support)[0]
        rho[sol] = _solve_warm(grid[sol], solved, edges_arr, D, numerics, scale, atom)
        require_finite("theory spectrum", "the density is not finite", rho)
        mass = _mass(grid, rho, atom, hard=bool((edges_arr[:, 0] == 0.0).any()))
        out_u = outlier_positions(D, model.p, centred=False)
        out_c = outlier_positions(D, model.p, centred=True)
        require_finite("theory spectrum", "the order-p outliers overflow", out_u, out_c, mass)
    sub_progress(progress, 0.5, 1.0)(1.0, "theory spectrum: done")
    conv = Convergence(
        success=True, n_iter=int(solved.n_iter), residual=float(solved.residual),
        message=(f"Newton continuation in Im z down to {numerics.eta_min:g} on "
                 f"{grid.size} points; mass {mass:.4f}"))
    return TheorySpectrum(
        model=model, grid=grid, density=rho, edges=edges_arr, atom_zero=float(atom),
        outliers=out_c if centred else out_u, outliers_centred=out_c, mass=mass,
        convergence=conv)


def _effective_numerics(D: ModelData, numerics: NumericsConfig, scale: float
                        ) -> NumericsConfig:
    """``numerics`` with ``eta_min`` reduced for spectra with a small nonlinear part.

    ``eta_min`` is tuned for spectra whose finest structure sits near ``mus2 ~ 0.03``
    (tanh); it shrinks in proportion for activations with a much smaller nonlinear part
    (e.g. the centred sigmoid).
    """
    fine = max(float(D.pi @ (D.ms2 @ D.omega)), 1e-3 * scale)
    eta_eff = max(1e-8, numerics.eta_min * min(1.0, fine / 0.03))
    if eta_eff < numerics.eta_min:
        return replace(numerics, eta_min=eta_eff)
    return numerics


def _coarse_scan(D: ModelData, numerics: NumericsConfig, scale: float, atom: float,
                 solved: _Solved, cancel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geometric-then-linear scan, extended to the right until its last point is outside."""
    hi = scale * (1.0 + math.sqrt(D.c0)) ** 2 * 1.5
    n_geo = 40
    n_lin = 100
    grid_c = np.concatenate([hi * np.geomspace(1e-6, 0.03, n_geo, endpoint=False),
                             np.linspace(0.03 * hi, hi, n_lin)])
    rho_c, in_c, _, _ = _solve(grid_c, D, numerics, scale, atom, solved)
    for _ in range(12):
        if not in_c[-1]:
            break
        check_cancel(cancel)
        ext = np.linspace(grid_c[-1], 2.0 * grid_c[-1], 51)[1:]
        rho_e, in_e, _, _ = _solve(ext, D, numerics, scale, atom, solved)
        grid_c = np.concatenate([grid_c, ext])
        rho_c = np.concatenate([rho_c, rho_e])
        in_c = np.concatenate([in_c, in_e])
    else:
        raise ConvergenceError(
            f"theory spectrum: could not bracket the right edge of the bulk: the density is "
            f"still positive at lambda = {grid_c[-1]:.4g} after doubling the scan range 12 "
            "times")
    if not in_c.any():
        raise ConvergenceError(
            "theory spectrum: found no support of the bulk on the coarse scan "
            f"[{grid_c[0]:.3g}, {grid_c[-1]:.3g}] (the density is zero everywhere); "
            "try a smaller numerics.eta_min")
    return grid_c, rho_c, in_c


def _refine_edges(intervals: list[list[float]], D: ModelData, numerics: NumericsConfig,
                  scale: float, atom: float, solved: _Solved, cancel) -> np.ndarray:
    """Edges (E, 2) from the coarse brackets: two rounds of 16 points each, solved together."""
    brackets = [list(b) for iv in intervals for b in iv]
    for _round in range(2):
        pts = [np.linspace(a, b, 18)[1:-1] for a, b in brackets]
        _, ins, _, _ = _solve(np.concatenate(pts), D, numerics, scale, atom, solved)
        for e, (a, b) in enumerate(brackets):
            xs = np.concatenate([[a], pts[e], [b]])
            fl = np.concatenate([[False], ins[16 * e:16 * (e + 1)], [False]])
            if e % 2 == 0:                        # left edge: first inside point
                fl[-1] = True
                k = int(np.argmax(fl))
                brackets[e] = [xs[max(k - 1, 0)], xs[k]]
            else:                                 # right edge: last inside point
                fl[0] = True
                k = int(np.nonzero(fl)[0][-1])
                brackets[e] = [xs[k], xs[min(k + 1, xs.size - 1)]]
        check_cancel(cancel)
    edges = []
    for i in range(len(intervals)):
        lo_b, hi_b = brackets[2 * i], brackets[2 * i + 1]
        lo = 0.0 if lo_b[0] <= 0.0 else 0.5 * (lo_b[0] + lo_b[1])
        edges.append([lo, 0.5 * (hi_b[0] + hi_b[1])])
    return np.asarray(edges, dtype=float)


def _final_grid(edges_arr: np.ndarray, grid_c: np.ndarray, rho_c: np.ndarray,
                in_c: np.ndarray, n_total: int, hard_floor: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Chebyshev points in each support interval plus arc-length points of the coarse density.

    A support reaching zero (p = n, or a purely linear map with p = d) has a
    1/sqrt(lambda)-type hard edge; below ~30 eta_min the finite Im z distorts it, so the
    grid starts at ``hard_floor`` there (the mass below is added by :func:`_mass`).
    Returns the grid and its inside-the-support flags.
    """
    lengths = edges_arr[:, 1] - edges_arr[:, 0]
    n_cheb = max(n_total // 2, 20 * len(edges_arr))
    alloc = np.maximum(20, np.round(n_cheb * lengths / lengths.sum())).astype(int)
    pts = []
    for (lo, hi_e), n_i in zip(edges_arr, alloc, strict=True):
        t = np.linspace(0.0, 1.0, n_i)
        pts.append(lo + (hi_e - lo) * 0.5 * (1.0 - np.cos(math.pi * t)))
        if lo == 0.0:
            pts.append(np.geomspace(hard_floor, 0.02 * hi_e, 25))
    # Arc length of the coarse density (normalised axes) inside the support.
    rmax = max(float(rho_c.max()), 1e-300)
    seg = np.hypot(np.diff(grid_c) / grid_c[-1], np.diff(rho_c) / rmax)
    seg *= (in_c[1:] | in_c[:-1])
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    n_arc = max(n_total - sum(p.size for p in pts), 20)
    if arc[-1] > 0:
        pts.append(np.interp(np.linspace(0.0, arc[-1], n_arc), arc, grid_c))
    grid = np.unique(np.concatenate(pts))
    in_support = _inside(edges_arr, grid)
    on_edge = np.zeros(grid.size, dtype=bool)
    for lo, hi_e in edges_arr:
        on_edge |= np.isclose(grid, lo, rtol=1e-12, atol=0) | np.isclose(grid, hi_e, rtol=1e-12,
                                                                            atol=0)
    keep = in_support | on_edge
    if (edges_arr[:, 0] == 0.0).any():
        keep &= grid >= hard_floor
    grid = grid[keep]
    # Top up to n_grid points by halving the widest gaps inside the support.
    missing = n_total - grid.size
    if missing > 0:
        gaps = np.diff(grid)
        mids = 0.5 * (grid[1:] + grid[:-1])
        gaps = np.where(_inside(edges_arr, mids), gaps, 0.0)
        order = np.argsort(gaps)[::-1][:missing]
        grid = np.unique(np.concatenate([grid, mids[order[gaps[order] > 0]]]))
    return grid, _inside(edges_arr, grid)


def _inside(edges_arr: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Strictly inside one of the support intervals."""
    out = np.zeros(x.size, dtype=bool)
    for lo, hi_e in edges_arr:
        out |= (x > lo) & (x < hi_e)
    return out


def _mass(grid: np.ndarray, rho: np.ndarray, atom: float, hard: bool) -> float:
    """``integral of rho + atom``, with the power-law mass below a hard edge's first point."""
    mass = float(np.trapezoid(rho, grid)) + atom
    if hard and grid.size > 2 and rho[0] > 0 and rho[2] > 0:
        # rho ~ c lambda^-a below the first point (a = 1/2 for one MP hard edge, 2/3 for
        # a product of two): fit a from the first points and integrate exactly.
        a = -math.log(rho[2] / rho[0]) / math.log(grid[2] / grid[0])
        if not 0.3 <= a <= 0.75:
            a = 0.0  # not a clean hard edge: extrapolate the density as a constant
        mass += rho[0] * grid[0] / (1.0 - a)
    return mass
