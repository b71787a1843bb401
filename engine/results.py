"""Result objects shared by the simulation, the theory and the front ends.

These frozen dataclasses are the contract between ``engine/`` and ``gui/`` and
the files written by ``engine/export.py``. Arrays are float64 numpy arrays;
shapes are given in the docstrings. Eigenvalues are those of ``(1/n) Phi^T Phi``
(``p x p``) unless said otherwise; outliers of order ``p`` are given in the same
units (i.e. already multiplied by ``p``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.config import Config, ModelConfig


@dataclass(frozen=True)
class Convergence:
    """How a solver ended (scipy-style).

    Attributes
    ----------
    success : bool
    n_iter : int
        Total iterations (fixed point + Newton) of the hardest point.
    residual : float
        Final residual (max over the points solved together).
    message : str
        What was done, and where it failed if it did.
    """

    success: bool
    n_iter: int
    residual: float
    message: str = ""


@dataclass(frozen=True)
class SRFParams:
    """The equivalent spiked random-features model, per atom k.

    See docs/model.md#network-to-srf-mapping.

    Attributes
    ----------
    a, pi : ndarray (K,)
        Atoms of the second-layer law and their probabilities.
    u : ndarray (K,)
        Spike sizes ``u_k = eta_tilde a_k r0``.
    s0 : ndarray (K,)
        Row rescale ``1 + eta_tilde a_k mu2 mu0_*``.
    c : ndarray (K,)
        Coherent amplification ``eta_tilde a_k mu2 mu2_*``.
    s : ndarray (K,)
        Row norms ``s_k`` (``s_k^2 = s0_k^2 + nv_k``).
    nv : ndarray (K,)
        Isotropic row-noise variance (0 in the large-batch limit).
    gamma : float
        Overlap ``<v, theta>`` of the spike direction (1 in the large-batch limit).
    r0 : float
        ``mu1 mu1_*`` (large batch) or ``mu1 sqrt(mu1_*^2 + E y^2/alpha0)``.
    constants : dict
        Hermite constants used: ``mu0, mu1, mu2, m2, var_fprime`` of sigma and
        ``mu0_star, mu1_star, mu2_star, mus2_star`` (``E sigma_*^2``) of the target.
    """

    a: np.ndarray
    pi: np.ndarray
    u: np.ndarray
    s0: np.ndarray
    c: np.ndarray
    s: np.ndarray
    nv: np.ndarray
    gamma: float
    r0: float
    constants: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TheorySpectrum:
    """Limiting spectrum of ``(1/n) Phi^T Phi`` (docs/model.md#spectrum-of-the-feature-covariance).

    Attributes
    ----------
    model : ModelConfig
    grid : ndarray (G,)
        Eigenvalue grid (adaptive: geometric near zero, dense near the edges).
    density : ndarray (G,)
        Density of the continuous part; integrates to ``1 - atom_zero``.
    edges : ndarray (E, 2)
        Support intervals ``[lo, hi]`` of the bulk.
    atom_zero : float
        Mass of the atom at zero (``1 - alpha/beta`` when ``p > n``, else 0).
    outliers : ndarray (J,)
        Order-p outlier positions (eigenvalue units, i.e. ``p * eig``), uncentred features.
    outliers_centred : ndarray (J',)
        Same for centred features.
    mass : float
        ``integral(density) + atom_zero`` (should be 1).
    convergence : Convergence
    """

    model: ModelConfig
    grid: np.ndarray
    density: np.ndarray
    edges: np.ndarray
    atom_zero: float
    outliers: np.ndarray
    outliers_centred: np.ndarray
    mass: float
    convergence: Convergence


@dataclass(frozen=True)
class TheoryRidge:
    """Asymptotic ridge errors and order parameters (docs/model.md#ridge-errors).

    Attributes
    ----------
    model : ModelConfig
    test_error, train_error : float
        ``E_te`` (includes ``Delta``) and ``E_tr``.
    bias, variance : float
        ``E[R^2] + Delta`` and ``E[v]`` (``test_error = bias + variance``).
    m0, m1 : ndarray
        Order parameters (``m1`` has shape (K,) or (K, 2) when ``gamma < 1``).
    kappa : ndarray (Q,)
        Grid of ``kappa = <theta, x>`` for the learned function.
    learned_function : ndarray (Q,)
        ``E[f_hat(x) | kappa]`` = ``S0(kappa).m0 + S1(kappa).m1`` (large batch).
    target : ndarray (Q,)
        ``sigma_*(kappa)``.
    warnings : tuple of str
        E.g. a mean direction too weak to be stiff at this ``d`` (docs/model.md#known-limits).
    convergence : Convergence
    g, tau : ndarray (K,), (K, K) or None
        The solution of docs/model.md#spectrum-of-the-feature-covariance at ``z = -lam_int`` (kept
        for warm starts).
    test_error_finite_p, train_error_finite_p : float or None
        Errors with the mean directions treated at the model's finite ``p`` (not stiff:
        ``m0_k = p pi_k g_k E[w S0_k R]``), an extension beyond the leading-order theory for weak
        mean directions (pitfall 5); equal to the asymptotic values as ``p`` grows.
    """

    model: ModelConfig
    test_error: float
    train_error: float
    bias: float
    variance: float
    m0: np.ndarray
    m1: np.ndarray
    kappa: np.ndarray
    learned_function: np.ndarray
    target: np.ndarray
    warnings: tuple[str, ...]
    convergence: Convergence
    g: np.ndarray | None = None
    tau: np.ndarray | None = None
    test_error_finite_p: float | None = None
    train_error_finite_p: float | None = None


@dataclass(frozen=True)
class TheoryWeights:
    """Limiting spectrum of ``W1 W1^T`` (p x p): a Marchenko–Pastur-type bulk plus spikes.

    Attributes
    ----------
    grid, density : ndarray (G,)
    edges : ndarray (E, 2)
    atom_zero : float
    spikes : ndarray (J,)
        Predicted positions of the outliers (order p).
    """

    model: ModelConfig
    grid: np.ndarray
    density: np.ndarray
    edges: np.ndarray
    atom_zero: float
    spikes: np.ndarray


@dataclass(frozen=True)
class Expressivity:
    """What the learned features can express along ``theta`` (docs/user-guide.md).

    Attributes
    ----------
    kappa : ndarray (Q,)
    mu0 : ndarray (K, Q)
        ``mu0(kappa, u_k)`` of each atom.
    target : ndarray (Q,)
        ``sigma_*(kappa)``.
    fit : ndarray (Q,)
        Best ``L2(N(0,1))`` fit of the target in the span of the ``mu0(., u_k)``
        and the linear function ``kappa``.
    coefficients : ndarray
    r2 : float
        Fraction of the target's variance explained by the fit.
    """

    kappa: np.ndarray
    mu0: np.ndarray
    target: np.ndarray
    fit: np.ndarray
    coefficients: np.ndarray
    r2: float


@dataclass(frozen=True)
class TailCurve:
    """Spectral-tail quantities versus ``eta_tilde`` (theory).

    Attributes
    ----------
    eta_tilde : ndarray (M,)
    right_edge : ndarray (M,)
        Right edge of the bulk.
    mass_above : ndarray (M,)
        Bulk mass above ``threshold``.
    threshold : float
    """

    eta_tilde: np.ndarray
    right_edge: np.ndarray
    mass_above: np.ndarray
    threshold: float


@dataclass(frozen=True)
class SimSeed:
    """One simulated model (network or sRF) at one parameter point and one seed.

    Attributes
    ----------
    model : {"network", "srf"}
    seed : int
    eigenvalues : ndarray (p,) or None
        Ascending eigenvalues of ``(1/n) Phi^T Phi`` after the step.
    eigenvalues_before : ndarray (p,) or None
        Same with ``W0`` (no step), same seed.
    outliers : ndarray (J,)
        The eigenvalues separated from the bulk as outliers (largest first).
    weight_eigenvalues : ndarray (p,) or None
        Ascending eigenvalues of ``W1 W1^T`` (``F F^T`` for the sRF model).
    spike_overlap : float or None
        ``|<v_hat, theta>|`` with ``v_hat`` the top right singular vector of ``W1 - W0``.
    top_overlaps : ndarray (m,) or None
        ``|<e_j, theta>|`` for the top right singular vectors of ``W1``.
    train_error, test_error : float or None
    kappa_bins : ndarray (B,) or None
        Bin centres of ``kappa = <theta, x>`` on the test set.
    fhat_mean, fhat_sem : ndarray (B,) or None
        Mean and standard error of the trained predictor per bin.
    elapsed : float
        Wall time in seconds.
    """

    model: str
    seed: int
    eigenvalues: np.ndarray | None = None
    eigenvalues_before: np.ndarray | None = None
    outliers: np.ndarray = field(default_factory=lambda: np.zeros(0))
    weight_eigenvalues: np.ndarray | None = None
    spike_overlap: float | None = None
    top_overlaps: np.ndarray | None = None
    train_error: float | None = None
    test_error: float | None = None
    kappa_bins: np.ndarray | None = None
    fhat_mean: np.ndarray | None = None
    fhat_sem: np.ndarray | None = None
    elapsed: float = 0.0


@dataclass(frozen=True)
class PointResult:
    """Everything computed at one parameter point (one sweep value of one curve).

    Attributes
    ----------
    value : Any
        The sweep value (``None`` without a sweep).
    model : ModelConfig
        The effective model at this point.
    srf_params : SRFParams or None
    theory_spectrum, theory_spectrum_before : TheorySpectrum or None
        After the step, and at ``eta_tilde = 0``.
    theory_ridge, theory_ridge_rf : TheoryRidge or None
        After the step, and the random-features baseline (``eta_tilde = 0``).
    theory_weights : TheoryWeights or None
    expressivity : Expressivity or None
    sims : dict
        ``{"network": (SimSeed, ...), "srf": (...)}``, one entry per seed.
    theory_error : str or None
        The message when the theory failed at this point.
    """

    value: Any
    model: ModelConfig
    srf_params: SRFParams | None = None
    theory_spectrum: TheorySpectrum | None = None
    theory_spectrum_before: TheorySpectrum | None = None
    theory_ridge: TheoryRidge | None = None
    theory_ridge_rf: TheoryRidge | None = None
    theory_weights: TheoryWeights | None = None
    expressivity: Expressivity | None = None
    sims: dict[str, tuple[SimSeed, ...]] = field(default_factory=dict)
    theory_error: str | None = None


@dataclass(frozen=True)
class CurveResult:
    """One curve: a label, its model overrides, and its points in sweep order."""

    label: str
    overrides: dict[str, Any]
    points: tuple[PointResult, ...]


@dataclass(frozen=True)
class RunResult:
    """The result of running a :class:`~engine.config.Config`.

    Attributes
    ----------
    config : Config
    curves : tuple of CurveResult
        One per ``run.curves`` entry (or a single unlabeled curve).
    sweep_param : str or None
    sweep_values : tuple
    success : bool
    message : str
    elapsed : float
    started : str
        ISO-8601 date and time of the start.
    versions : dict
        App, Python, numpy and scipy versions.
    """

    config: Config
    curves: tuple[CurveResult, ...]
    sweep_param: str | None
    sweep_values: tuple[Any, ...]
    success: bool
    message: str
    elapsed: float
    started: str
    versions: dict[str, str]
