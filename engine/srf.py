"""The spiked random-features (sRF) model, the theory's equivalent of the network.

Generalised exactly as in THEORY.md §1 (not the simplified formula of SPEC.md §1):
row ``i`` of class ``k`` (``a_i = a^(k)``) is

    F_i = s0_k w_i + c_k eps_i theta + u_k v + n_i,      eps_i = <w_i, theta>,

with ``w_i`` the rows of ``W0``, ``v = gamma theta + sqrt(1 - gamma^2) theta_perp`` a unit
spike direction (``gamma = 1`` in the large-batch limit), and ``n_i ~ N(0, nv_k I_d / d)``
isotropic row noise (finite batch only), so that ``|F_i - u_k v|^2 ~ s0_k^2 + nv_k = s_k^2``.

Seeds: ``theta``, ``W0``, ``a`` and the readout and test samples come from the same
streams as :func:`engine.network.simulate_network` (so network and sRF at one seed share
them exactly); ``theta_perp`` and the row noise come from the extra ``"srf"`` stream.

The constants come from :func:`srf_constants`, which uses the theory helper's
``engine.theory.equivalent_srf`` when it is available and otherwise the private
:func:`_srf_params` (a direct transcription of THEORY.md §1).
"""

from __future__ import annotations

import math
import time

import numpy as np

from engine.activations import hermite_constants
from engine.config import ModelConfig
from engine.network import draw_init, simulate_features, streams
from engine.progress import CancelLike, ProgressFn, check_cancel, null_progress, sub_progress
from engine.results import SimSeed, SRFParams


def _srf_params(model: ModelConfig) -> SRFParams:
    """THEORY.md §1 constants of the equivalent sRF model (labels mode).

    Large batch: ``r0 = mu1 mu1_*``, ``gamma = 1``, ``nv = 0``. Finite batch
    ``n0 = alpha0 d``: ``r0 = mu1 sqrt(mu1_*^2 + E y^2/alpha0)``,
    ``gamma = mu1_*/sqrt(mu1_*^2 + E y^2/alpha0)``,
    ``nv_k = eta_tilde^2 a_k^2 E y^2 Var(sigma')/alpha0``. Always
    ``u_k = eta_tilde a_k r0``, ``s0_k = 1 + eta_tilde a_k mu2 mu0_*``,
    ``c_k = eta_tilde a_k mu2 mu2_*``, ``s_k = sqrt(s0_k^2 + nv_k)``, ``E y^2 = mus2_* + Delta``.
    """
    h = hermite_constants(model.sigma)
    hs = hermite_constants(model.sigma_star)
    a = np.asarray(model.a_law.values, dtype=float)
    pi = np.asarray(model.a_law.probs, dtype=float)
    eta = float(model.eta_tilde)
    ey2 = hs.m2 + model.noise
    if model.large_batch:
        r0 = h.mu1 * hs.mu1
        gamma = 1.0
        nv = np.zeros_like(a)
    else:
        q = hs.mu1**2 + ey2 / model.alpha0
        r0 = h.mu1 * math.sqrt(q)
        gamma = hs.mu1 / math.sqrt(q) if q > 0 else 1.0
        nv = eta**2 * a**2 * ey2 * h.var_fprime / model.alpha0
    u = eta * a * r0
    s0 = 1.0 + eta * a * h.mu2 * hs.mu0
    c = eta * a * h.mu2 * hs.mu2
    s = np.sqrt(s0**2 + nv)
    constants = {"mu0": h.mu0, "mu1": h.mu1, "mu2": h.mu2, "m2": h.m2,
                 "var_fprime": h.var_fprime, "mu0_star": hs.mu0, "mu1_star": hs.mu1,
                 "mu2_star": hs.mu2, "mus2_star": hs.m2}
    return SRFParams(a=a, pi=pi, u=u, s0=s0, c=c, s=s, nv=nv, gamma=float(gamma),
                     r0=float(r0), constants=constants)


def srf_constants(model: ModelConfig) -> SRFParams:
    """The sRF constants: ``engine.theory.equivalent_srf``, else :func:`_srf_params`."""
    try:
        from engine.theory import equivalent_srf
    except ImportError:
        return _srf_params(model)
    return equivalent_srf(model)


def srf_matrix(model: ModelConfig, seed: int, params: SRFParams | None = None) -> np.ndarray:
    """The sRF first layer ``F`` (``p x d``) for ``model`` at ``seed`` (module docstring)."""
    init = draw_init(model, seed)
    return _build_f(model, seed, init, params or srf_constants(model))


def _build_f(model: ModelConfig, seed: int, init, params: SRFParams) -> np.ndarray:
    rng = streams(seed)["srf"]
    d = model.d
    theta = init.theta
    k = init.classes
    perp = rng.standard_normal(d)
    perp -= (perp @ theta) * theta
    perp /= np.linalg.norm(perp)
    gamma = float(params.gamma)
    v = gamma * theta + math.sqrt(max(1.0 - gamma * gamma, 0.0)) * perp
    eps = init.W0 @ theta
    F = init.W0 * params.s0[k][:, None]
    F += np.outer(params.c[k] * eps, theta)
    F += np.outer(params.u[k], v)
    if np.any(params.nv > 0):
        noise = rng.standard_normal(F.shape)
        noise *= np.sqrt(params.nv[k] / d)[:, None]
        F += noise
    return F


def simulate_srf(
    model: ModelConfig,
    seed: int,
    *,
    spectrum: bool = True,
    before: bool = False,
    weights: bool = False,
    errors: bool = True,
    n_test: int | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelLike | None = None,
) -> SimSeed:
    """Simulate the equivalent sRF model at one parameter point and one seed.

    Same keywords and outputs as :func:`engine.network.simulate_network`; the weights
    are ``F`` (``weight_eigenvalues`` of ``F F^T``, ``spike_overlap`` from ``F - W0``).
    The sRF model has no residual option: it is the theory's (labels mode) equivalent.

    Returns
    -------
    SimSeed
        ``model = "srf"``.
    """
    t0 = time.perf_counter()
    progress = progress or null_progress
    check_cancel(cancel)
    init = draw_init(model, seed, cancel)
    F = _build_f(model, seed, init, srf_constants(model))
    progress(0.02, "sRF weights")
    return simulate_features("srf", model, seed, init, F, spectrum=spectrum, before=before,
                             weights=weights, errors=errors, n_test=n_test,
                             progress=sub_progress(progress, 0.02, 1.0), cancel=cancel,
                             t_start=t0)
