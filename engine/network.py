"""The real two-layer network at one parameter point and one seed.

:func:`simulate_network` draws the initialisation (engine/sampling.py), takes the one
gradient step (engine/gradient.py) and hands the first layer to
:func:`simulate_features`, the readout, spectra, errors and weights shared with the sRF
model (engine/srf.py), which are computed by engine/readout.py.

Conventions: docs/model.md#conventions. Seeds: the named streams of engine/sampling.py.
"""

from __future__ import annotations

import time

import numpy as np

from engine.activations import get_activation
from engine.config import ModelConfig
from engine.gradient import gradient_step
from engine.progress import CancelLike, ProgressFn, check_cancel, null_progress, sub_progress
from engine.readout import (
    feature_stats,
    gram_eigenvalues,
    holdout_stats,
    ridge_solve,
    run_interruptible,
    weight_stats,
)
from engine.results import SimSeed
from engine.sampling import Init, chunk_rows, data_streams, draw_init, sample_chunks
from engine.spectra import split_outliers


def default_n_test(model: ModelConfig, n_test: int | None) -> int:
    """``n_test`` or ``max(n, 2000)``."""
    return int(n_test) if n_test is not None else max(model.n, 2000)


def simulate_features(
    kind: str,
    model: ModelConfig,
    seed: int,
    init: Init,
    F: np.ndarray,
    *,
    spectrum: bool,
    before: bool,
    weights: bool,
    errors: bool,
    n_test: int | None,
    progress: ProgressFn | None,
    cancel: CancelLike | None,
    t_start: float,
) -> SimSeed:
    """Readout, spectra, errors and weights for first-layer matrix ``F`` (shared with sRF)."""
    progress = progress or null_progress
    sigma = get_activation(model.sigma)
    target = get_activation(model.sigma_star)
    d, p, n = model.d, model.p, model.n
    chunk = chunk_rows(d, p)
    # Rough split of the remaining work by flops (features and spectrum dominate).
    stages = [("before", 1.0 if before else 0.0), ("features", 1.0 if (spectrum or errors)
                                                   else 0.0),
              ("weights", 0.5 if weights else 0.0),
              ("test", 0.3 * default_n_test(model, n_test) / n if errors else 0.0)]
    total = sum(w for _, w in stages) or 1.0
    bounds: dict[str, tuple[float, float]] = {}
    acc = 0.0
    for name, w in stages:
        bounds[name] = (acc / total, (acc + w) / total)
        acc += w

    def stage(name: str) -> ProgressFn:
        lo, hi = bounds[name]
        return sub_progress(progress, lo, hi)

    out: dict[str, object] = {}
    if before:
        x_rng, noise_rng = data_streams(seed, "train")
        chunks = sample_chunks(n, d, init.theta, target, model.noise, x_rng, noise_rng, chunk,
                               cancel)
        prog = stage("before")
        st = feature_stats(init.W0, sigma, chunks, n,
                           progress=lambda f, m: prog(0.6 * f, "features before the step"))
        out["eigenvalues_before"] = gram_eigenvalues(st, cancel)
        prog(1.0, "spectrum before the step")
        del st
    b = None
    if spectrum or errors:
        x_rng, noise_rng = data_streams(seed, "train")
        chunks = sample_chunks(n, d, init.theta, target, model.noise, x_rng, noise_rng, chunk,
                               cancel)
        prog = stage("features")
        st = feature_stats(F, sigma, chunks, n, progress=lambda f, m: prog(0.55 * f, "features"))
        check_cancel(cancel)
        if errors:
            b, train = run_interruptible(lambda: ridge_solve(st, model.lam_int), cancel)
            out["train_error"] = float(train)
        prog(0.7, "spectrum")
        if spectrum:
            ev = gram_eigenvalues(st, cancel)
            out["eigenvalues"] = ev
            out["outliers"] = split_outliers(ev)[1]
        prog(1.0, "spectrum")
        del st
    if weights:
        check_cancel(cancel)
        prog = stage("weights")
        ev_w, so, top = run_interruptible(lambda: weight_stats(F, init.W0, init.theta),
                                           cancel)
        out["weight_eigenvalues"] = ev_w
        out["spike_overlap"] = float(so)
        out["top_overlaps"] = top
        prog(1.0, "weights")
    if errors and b is not None:
        nt = default_n_test(model, n_test)
        x_rng, noise_rng = data_streams(seed, "test")
        chunks = sample_chunks(nt, d, init.theta, target, model.noise, x_rng, noise_rng, chunk,
                               cancel)
        ts = holdout_stats(F, b, sigma, chunks, nt, progress=stage("test"))
        out.update(test_error=ts.test_error, kappa_bins=ts.kappa_bins, fhat_mean=ts.fhat_mean,
                   fhat_sem=ts.fhat_sem)
    progress(1.0, "done")
    return SimSeed(model=kind, seed=int(seed), elapsed=time.perf_counter() - t_start,
                   **out)  # type: ignore[arg-type]


def simulate_network(
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
    """Simulate the two-layer network at one parameter point and one seed.

    Parameters
    ----------
    model : ModelConfig
    seed : int
        Drives every random draw (module docstring: named streams).
    spectrum : bool
        Eigenvalues of ``(1/n) Phi^T Phi`` (``p``) after the step, and its outliers.
    before : bool
        Also the eigenvalues at ``W0`` (``eta_tilde = 0``) on the same readout samples.
    weights : bool
        Eigenvalues of ``W1 W1^T`` and the overlaps with ``theta``.
    errors : bool
        Ridge readout: training and test error, learned function along ``kappa``.
    n_test : int or None
        Test samples (default ``max(n, 2000)``).
    progress : callable or None
        ``progress(fraction, message)``.
    cancel : CancelToken or None
        Checked between chunks; raises :class:`~engine.errors.Cancelled`.

    Returns
    -------
    SimSeed
        ``model = "network"``.
    """
    t0 = time.perf_counter()
    progress = progress or null_progress
    check_cancel(cancel)
    init = draw_init(model, seed, cancel)
    # The step costs ~n0 d p (x2) flops vs ~n d p + n p^2 for the readout.
    if model.large_batch:
        w_step = 0.05 if model.residual == "labels" else 0.5
    else:
        w_step = min(0.8, model.alpha0 / (model.alpha0 + 2 * model.alpha))
    step_prog = sub_progress(progress, 0.0, w_step)
    W1 = gradient_step(model, init, seed, progress=lambda f, m: step_prog(f, "gradient step"),
                       cancel=cancel)
    step_prog(1.0, "gradient step")
    return simulate_features("network", model, seed, init, W1, spectrum=spectrum,
                             before=before, weights=weights, errors=errors, n_test=n_test,
                             progress=sub_progress(progress, w_step, 1.0), cancel=cancel,
                             t_start=t0)
