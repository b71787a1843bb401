"""Synthetic results with the shapes of engine/results.py, for fast plot tests.

They are not physics: a Marchenko–Pastur density and random eigenvalues, just enough
to exercise every drawing path without the engine.
"""

from __future__ import annotations

import numpy as np

from engine.config import Config, Curve, ModelConfig, RunConfig, Sweep
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

CONV = Convergence(True, 12, 1e-12, "ok")


def mp_density(ratio: float, scale: float, grid: np.ndarray) -> np.ndarray:
    lo, hi = scale * (1 - np.sqrt(ratio)) ** 2, scale * (1 + np.sqrt(ratio)) ** 2
    inside = (grid > lo) & (grid < hi)
    dens = np.zeros_like(grid)
    dens[inside] = np.sqrt((hi - grid[inside]) * (grid[inside] - lo)) / (
        2 * np.pi * ratio * scale * grid[inside])
    return dens


def spectrum(model: ModelConfig, scale: float) -> TheorySpectrum:
    grid = np.linspace(1e-3, 3.5 * scale, 300)
    dens = mp_density(0.5, scale, grid)
    return TheorySpectrum(model, grid, dens, np.array([[grid[0], grid[-1]]]), 0.0,
                          np.array([model.p * 0.3]) if model.eta_tilde > 0 else np.zeros(0),
                          np.zeros(0), 1.0, CONV)


def ridge(model: ModelConfig) -> TheoryRidge:
    kappa = np.linspace(-3, 3, 61)
    target = np.tanh(kappa)
    learned = (1 - np.exp(-model.eta_tilde)) * target + np.exp(-model.eta_tilde) * 0.6 * kappa
    err = 0.1 + 0.3 / (1 + model.alpha) * (1 + np.exp(-model.eta_tilde))
    return TheoryRidge(model, err, err * 0.5, err * 0.7, err * 0.3, np.zeros(1), np.zeros(1),
                       kappa, learned, target, (), CONV)


def point(model: ModelConfig, value: object, rng: np.random.Generator, *,
          sims: bool) -> PointResult:
    srf = SRFParams(np.array([1.0]), np.array([1.0]), np.array([model.eta_tilde * 0.5]),
                    np.array([1.0]), np.array([0.0]), np.array([1.0]), np.array([0.0]),
                    1.0, 0.5, {"mu0": 0.0, "mu1": 0.6, "mu2": 0.0})
    kappa = np.linspace(-3, 3, 61)
    expr = Expressivity(kappa, np.vstack([np.tanh(kappa * 0.5)]), np.tanh(kappa),
                        np.tanh(kappa) * 0.95, np.array([1.0, 0.2]), 0.93)
    weights = TheoryWeights(model, np.linspace(0.01, 4, 100), mp_density(0.5, 1.0,
                            np.linspace(0.01, 4, 100)), np.array([[0.1, 3.0]]), 0.0,
                            np.array([model.p * 0.05]))
    simd: dict[str, tuple[SimSeed, ...]] = {}
    if sims:
        for name in ("network", "srf"):
            seeds = []
            for s in range(2):
                eig = np.sort(rng.gamma(2.0, 0.4, model.p))
                eig[-1] = model.p * 0.3
                seeds.append(SimSeed(
                    name, s, eig, np.sort(rng.gamma(2.0, 0.5, model.p)), np.array([eig[-1]]),
                    np.sort(rng.gamma(2.0, 0.5, model.p)), 0.9, np.array([0.9, 0.1, 0.05]),
                    0.2 + 0.01 * rng.standard_normal(), 0.3 + 0.01 * rng.standard_normal(),
                    kappa[::4], np.tanh(kappa[::4]) * 0.9, np.full(kappa[::4].size, 0.02)))
            simd[name] = tuple(seeds)
    return PointResult(value, model, srf, spectrum(model, 1.0),
                       spectrum(model.with_(eta_tilde=0.0), 1.3), ridge(model),
                       ridge(model.with_(eta_tilde=0.0)), weights, expr, simd)


def run_result(*, sims: bool = True, sweep: bool = False, curves: int = 1,
               d: int = 100) -> RunResult:
    rng = np.random.default_rng(0)
    sw = Sweep("alpha", (0.5, 1.0, 2.0, 4.0)) if sweep else None
    cur = tuple(Curve(f"eta {e}", (("eta_tilde", float(e)),)) for e in range(curves)) \
        if curves > 1 else ()
    config = Config(ModelConfig(d=d), RunConfig(kind="errors" if sweep else "spectrum",
                                                sweep=sw, curves=cur))
    out = []
    for c in (cur or (None,)):
        base = config.model.with_(**c.overrides) if c is not None else config.model
        values = sw.values if sw else (None,)
        pts = tuple(point(base.with_(alpha=v) if v is not None else base, v, rng, sims=sims)
                    for v in values)
        out.append(CurveResult(c.label if c else "", c.overrides if c else {}, pts))
    return RunResult(config, tuple(out), "alpha" if sweep else None,
                     sw.values if sw else (), True, "ok", 0.1, "2026-01-01T00:00:00", {})
