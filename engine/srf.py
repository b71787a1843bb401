"""The spiked random-features (sRF) model, the theory's equivalent of the network.

Generalised exactly as in docs/model.md#network-to-srf-mapping (not the simplified formula of
docs/model.md#conventions):
row ``i`` of class ``k`` (``a_i = a^(k)``) is

    F_i = s0_k w_i + c_k eps_i theta + u_k v + n_i,      eps_i = <w_i, theta>,

with ``w_i`` the rows of ``W0``, ``v = gamma theta + sqrt(1 - gamma^2) theta_perp`` a unit
spike direction (``gamma = 1`` in the large-batch limit), and ``n_i ~ N(0, nv_k I_d / d)``
isotropic row noise (finite batch only), so that ``|F_i - u_k v|^2 ~ s0_k^2 + nv_k = s_k^2``.

Seeds: ``theta``, ``W0``, ``a`` and the readout and test samples come from the same
streams (engine/sampling.py) as :func:`engine.network.simulate_network` (so network and
sRF at one seed share them exactly); ``theta_perp`` and the row noise come from the extra
``"srf"`` stream.

The constants come from :func:`engine.theory.equivalent_srf`
(docs/model.md#network-to-srf-mapping), the
same mapping the theory solver uses.
"""

from __future__ import annotations

import math
import time

import numpy as np

from engine.config import ModelConfig
from engine.network import simulate_features
from engine.progress import CancelLike, ProgressFn, check_cancel, null_progress, sub_progress
from engine.results import SimSeed, SRFParams
from engine.sampling import Init, draw_init, streams
from engine.theory import equivalent_srf


def srf_matrix(model: ModelConfig, seed: int, params: SRFParams | None = None) -> np.ndarray:
    """The sRF first layer ``F`` (``p x d``) for ``model`` at ``seed`` (module docstring)."""
    init = draw_init(model, seed)
    return _build_f(model, seed, init, params or equivalent_srf(model))


def _build_f(model: ModelConfig, seed: int, init: Init, params: SRFParams) -> np.ndarray:
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
    F = _build_f(model, seed, init, equivalent_srf(model))
    progress(0.02, "sRF weights")
    return simulate_features("srf", model, seed, init, F, spectrum=spectrum, before=before,
                             weights=weights, errors=errors, n_test=n_test,
                             progress=sub_progress(progress, 0.02, 1.0), cancel=cancel,
                             t_start=t0)
