"""Realistic RunResult objects built directly from the result dataclasses.

Shared by the export and session tests (engine and GUI). No tests live here. The
arrays are real computations at a tiny size (eigenvalues of (1/n) Phi^T Phi of a
random tanh feature matrix, a Marchenko–Pastur-like density on a grid) plus the
awkward values a file format must survive: NaN, +-inf, -0.0, empty (0, 2) arrays,
integers swept as values, a failed theory point.
"""

from __future__ import annotations

import numpy as np

from engine.config import ALaw, Config, Curve, ModelConfig, RunConfig, Sweep
from engine.results import (
    Convergence,
    CurveResult,
    Expressivity,
    PointResult,
    RunResult,
    SimSeed,
    SRFParams,
    TheoryRidge,
    TheorySpectrum,
    TheoryWeights,
)


def make_config(*, d: int = 40, kind: str = "spectrum") -> Config:
    """A small two-curve sweep over alpha with two seeds."""
    return Config(
        model=ModelConfig(d=d, beta=1.0, alpha=2.0, eta_tilde=3.0, lam=0.1, noise=0.05,
                          sigma="tanh", sigma_star="tanh",
                          a_law=ALaw((1.0, -1.0), (0.5, 0.5))),
        run=RunConfig(kind=kind, sweep=Sweep("alpha", (1.0, 2.0)), seeds=(3, 7),
                      curves=(Curve("large batch"), Curve("alpha0 = 5", (("alpha0", 5.0),)))),
    )


def _features_eigs(model: ModelConfig, seed: int, eta: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d, p, n = model.d, model.p, model.n
    w = rng.standard_normal((p, d)) / np.sqrt(d)
    theta = rng.standard_normal(d)
    theta /= np.linalg.norm(theta)
    w += eta * 0.3 * np.outer(rng.choice([-1.0, 1.0], p), theta) / np.sqrt(1 + eta)
    x = rng.standard_normal((n, d))
    phi = np.tanh(x @ w.T)
    return np.linalg.eigvalsh(phi.T @ phi / n)


def _theory_spectrum(model: ModelConfig, *, ok: bool = True) -> TheorySpectrum:
    q = model.beta / model.alpha
    lo, hi = (1 - np.sqrt(q)) ** 2 * 0.6, (1 + np.sqrt(q)) ** 2 * 0.6
    grid = np.linspace(0.0, hi * 1.2, 57)
    inside = (grid > lo) & (grid < hi)
    dens = np.zeros_like(grid)
    dens[inside] = np.sqrt((hi - grid[inside]) * (grid[inside] - lo)) / (
        2 * np.pi * 0.6 * q * grid[inside])
    dens[0] = -0.0  # a signed zero must survive
    return TheorySpectrum(
        model=model, grid=grid, density=dens,
        edges=np.array([[lo, hi]]) if ok else np.zeros((0, 2)),
        atom_zero=max(0.0, 1 - model.alpha / model.beta),
        outliers=np.array([hi * 1.7 + 0.1 / 3]), outliers_centred=np.zeros(0),
        mass=float(np.trapezoid(dens, grid)),
        convergence=Convergence(ok, 37 if ok else 2000, 3.1e-11 if ok else np.nan,
                                "converged" if ok else "max_iter reached at z = 2.1+1e-5i"),
    )


def _ridge(model: ModelConfig, eta: float) -> TheoryRidge:
    kappa = np.linspace(-3, 3, 21)
    target = np.tanh(kappa)
    return TheoryRidge(
        model=model, test_error=0.31 / (1 + eta) + 0.05, train_error=0.1 / 3,
        bias=0.2, variance=0.31 / (1 + eta) + 0.05 - 0.2,
        m0=np.array([0.125]), m1=np.array([[0.5, 0.25], [-0.5, 0.1]]),
        kappa=kappa, learned_function=0.8 * target + 0.01 * kappa ** 3 / (1 + eta),
        target=target, warnings=("mean direction weak at this d",) if eta == 0 else (),
        convergence=Convergence(True, 12, 1e-12, "ok"),
    )


def _sim(model: ModelConfig, name: str, seed: int) -> SimSeed:
    ev = _features_eigs(model, seed, 3.0)
    ev0 = _features_eigs(model, seed, 0.0)
    bins = np.linspace(-2.5, 2.5, 9)
    sem = np.full(9, 0.02)
    sem[0] = np.nan  # an empty bin has no standard error
    return SimSeed(
        model=name, seed=seed, eigenvalues=ev, eigenvalues_before=ev0,
        outliers=ev[-1:][::-1].copy(), weight_eigenvalues=np.sort(ev * 1.5),
        spike_overlap=0.93 if name == "network" else None,
        top_overlaps=np.array([0.93, 0.02, 0.01]),
        train_error=0.03 + 0.001 * seed, test_error=0.2 + 0.01 * seed,
        kappa_bins=bins, fhat_mean=np.tanh(bins) * 0.8, fhat_sem=sem, elapsed=0.25 * seed,
    )


def make_result(config: Config | None = None) -> RunResult:
    """A RunResult with every field filled, two curves x two sweep points x two seeds."""
    config = config or make_config()
    curves = []
    for ci, c in enumerate(config.run.curves):
        points = []
        for vi, alpha in enumerate(config.run.sweep.values):
            model = config.model.with_(**c.overrides, alpha=alpha)
            failed = ci == 1 and vi == 1
            points.append(PointResult(
                value=alpha if vi == 0 else int(alpha),  # an int value must stay an int
                model=model,
                srf_params=SRFParams(
                    a=np.array([1.0, -1.0]), pi=np.array([0.5, 0.5]),
                    u=np.array([1.8, -1.8]), s0=np.array([1.0, 1.0]),
                    c=np.array([0.0, -0.0]), s=np.array([1.0, 1.0]),
                    nv=np.zeros(2), gamma=1.0, r0=0.6,
                    constants={"mu1": 0.6057, "mu1_star": 0.6057, "mu2": 0.0,
                               "weird": float("inf")}),
                theory_spectrum=_theory_spectrum(model, ok=not failed),
                theory_spectrum_before=_theory_spectrum(model.with_(eta_tilde=0.0)),
                theory_ridge=None if failed else _ridge(model, model.eta_tilde),
                theory_ridge_rf=_ridge(model.with_(eta_tilde=0.0), 0.0),
                theory_weights=TheoryWeights(
                    model=model, grid=np.linspace(0, 4, 11), density=np.full(11, 0.25),
                    edges=np.array([[0.0, 4.0]]), atom_zero=0.0, spikes=np.array([9.5])),
                expressivity=Expressivity(
                    kappa=np.linspace(-3, 3, 13), mu0=np.vstack([np.tanh(np.linspace(-3, 3, 13)
                                                                          + s) for s in (1, -1)]),
                    target=np.tanh(np.linspace(-3, 3, 13)),
                    fit=np.tanh(np.linspace(-3, 3, 13)) * 0.99,
                    coefficients=np.array([0.5, 0.5, 0.01]), r2=0.998),
                sims={name: tuple(_sim(model, name, s) for s in config.run.seeds)
                      for name in config.run.simulate},
                theory_error="ConvergenceError: max_iter reached" if failed else None,
            ))
        curves.append(CurveResult(label=c.label, overrides=c.overrides,
                                  points=tuple(points)))
    return RunResult(
        config=config, curves=tuple(curves), sweep_param="alpha",
        sweep_values=config.run.sweep.values, success=True,
        message="1 theory point failed", elapsed=1.5, started="2026-11-28T14:00:00+00:00",
        versions={"app": "0.1.0", "numpy": np.__version__},
    )


def assert_results_equal(a: RunResult, b: RunResult) -> None:
    """Field by field, arrays with np.array_equal (NaN == NaN), types included."""
    _eq(a, b, "result")


def _eq(x: object, y: object, path: str) -> None:
    import dataclasses

    assert type(x) is type(y), f"{path}: {type(x).__name__} != {type(y).__name__}"
    if isinstance(x, np.ndarray):
        assert x.dtype == y.dtype and x.shape == y.shape, f"{path}: dtype/shape"
        assert np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"), f"{path}: values"
        assert np.array_equal(np.signbit(x), np.signbit(y)) if x.dtype.kind == "f" else True
    elif dataclasses.is_dataclass(x) and not isinstance(x, (Config, ModelConfig)):
        for f in dataclasses.fields(x):
            _eq(getattr(x, f.name), getattr(y, f.name), f"{path}.{f.name}")
    elif isinstance(x, (tuple, list)):
        assert len(x) == len(y), f"{path}: length"
        for i, (u, v) in enumerate(zip(x, y, strict=True)):
            _eq(u, v, f"{path}[{i}]")
    elif isinstance(x, dict):
        assert list(x) == list(y), f"{path}: keys"
        for k in x:
            _eq(x[k], y[k], f"{path}.{k}")
    elif isinstance(x, float) and np.isnan(x):
        assert np.isnan(y), path
    else:
        assert x == y, f"{path}: {x!r} != {y!r}"
