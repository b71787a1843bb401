"""From the network's gradient step to the equivalent spiked random-features model.

See docs/model.md#network-to-srf-mapping. Row ``i`` of class ``k`` after the step behaves like
``s0_k w_i + c_k <w_i, theta> theta + u_k v (+ isotropic noise of variance nv_k)``
with ``|w_i| = 1``. Large batch: ``v = theta``, ``nv_k = 0``. Finite batch
``n0 = alpha0 d``: ``v`` has overlap ``gamma`` with ``theta`` and (with the
label noise included) ``E y^2 = E sigma_*^2 + Delta`` enters the constants.
"""

from __future__ import annotations

import math

import numpy as np

from engine.activations import HermiteConstants, hermite_constants
from engine.config import ModelConfig
from engine.errors import ConvergenceError
from engine.results import SRFParams
from engine.theory._guard import require_finite, stage

__all__ = ["equivalent_srf"]


def equivalent_srf(model: ModelConfig) -> SRFParams:
    """Parameters of the sRF model equivalent to the network after one step.

    Parameters
    ----------
    model : ModelConfig

    Returns
    -------
    SRFParams
        Per atom ``k``: ``u_k = eta_tilde a_k r0``, ``s0_k = 1 + eta_tilde a_k mu2 mu0_*``,
        ``c_k = eta_tilde a_k mu2 mu2_*``, ``nv_k = eta_tilde^2 a_k^2 E y^2 Var(sigma')/alpha0``
        (0 in the large batch), ``s_k = sqrt(s0_k^2 + nv_k)``; and ``gamma``, ``r0``.
        ``constants`` holds the Hermite constants used (``mus2_star = E sigma_*^2``).

    Raises
    ------
    ConvergenceError
        When a Hermite constant or a parameter overflows (the message names it).
    """
    with stage(STAGE):
        h = hermite_constants(model.sigma)
        hs = hermite_constants(model.sigma_star)
        _check_constants("sigma", model.sigma, h)
        _check_constants("sigma_star", model.sigma_star, hs)
        out = _mapping(model, h, hs)
        for name in ("u", "s0", "c", "nv", "s"):
            values = getattr(out, name)
            require_finite(STAGE, f"{_WHAT[name]} overflows for a = "
                           f"{out.a[np.argmax(~np.isfinite(values))]:g}", values)
        require_finite(STAGE, "the spike scale r0 = mu1 mu1_* overflows", out.r0)
        require_finite(STAGE, "E y^2 or r_eff overflows", *out.constants.values())
    return out


STAGE = "network -> sRF mapping"
_WHAT = {"u": "the spike u_k = eta_tilde a_k r0", "s0": "the row rescale s0_k",
         "c": "the amplification c_k", "nv": "the row noise nv_k", "s": "the row norm s_k"}


def _check_constants(role: str, name: str, h: HermiteConstants) -> None:
    values = {"mu0": h.mu0, "mu1": h.mu1, "mu2": h.mu2, "m2": h.m2,
              "var_fprime": h.var_fprime}
    bad = [f"{k} = {v:g}" for k, v in values.items() if not math.isfinite(v)]
    if bad:
        raise ConvergenceError(f"{STAGE}: the Hermite constants of {role} = {name!r} overflow "
                               f"({', '.join(bad)}); docs/model.md#conventions")


def _mapping(model: ModelConfig, h: HermiteConstants, hs: HermiteConstants) -> SRFParams:
    a = np.asarray(model.a_law.values, dtype=float)
    pi = np.asarray(model.a_law.probs, dtype=float)
    eta = float(model.eta_tilde)
    ey2 = hs.m2 + model.noise
    if model.alpha0 is None:
        r0 = h.mu1 * hs.mu1
        gamma = 1.0
        nv = np.zeros_like(a)
    else:
        # The finite batch adds to the population gradient an isotropic part of
        # variance E y^2 Var(sigma')/n0 per row and tilts the spike direction.
        rad = math.sqrt(hs.mu1**2 + ey2 / model.alpha0)
        r0 = h.mu1 * rad
        gamma = hs.mu1 / rad if rad > 0 else 1.0
        nv = eta**2 * a**2 * ey2 * h.var_fprime / model.alpha0
    u = eta * a * r0
    s0 = 1.0 + eta * a * h.mu2 * hs.mu0
    c = eta * a * h.mu2 * hs.mu2
    s = np.sqrt(s0**2 + nv)
    constants = {
        "mu0": h.mu0, "mu1": h.mu1, "mu2": h.mu2, "m2": h.m2, "var_fprime": h.var_fprime,
        "mu0_star": hs.mu0, "mu1_star": hs.mu1, "mu2_star": hs.mu2, "mus2_star": hs.m2,
        "ey2": ey2,
        # "Full residual" mode is beyond the theory (docs/model.md#network-to-srf-mapping): a
        # second rank-one update along xi = W0^T a/sqrt(p), |xi|^2 ~ E a^2 + beta (E a)^2.
        # The solvers always use labels mode; r_eff is offered to front ends as a
        # labelled approximation of the bulk in that mode.
        "r_eff_full_residual": float(np.sqrt(
            np.float64(r0)**2 + np.float64(h.mu1)**4
            * (pi @ a**2 + model.beta * (pi @ a) ** 2))),
    }
    return SRFParams(a=a, pi=pi, u=u, s0=s0, c=c, s=s, nv=nv, gamma=float(gamma),
                     r0=float(r0), constants=constants)
