"""Synthetic RunResults built directly from the result dataclasses, for engine and GUI tests.

No tests live here. One builder serves the file-format tests (exports, sessions) and the
plot tests. The arrays are small real computations shaped like a run's output:

- simulated spectra are the eigenvalues of ``(1/n) Phi^T Phi`` for a random tanh feature
  matrix whose first layer carries a planted spike along ``theta`` (its size grows with
  ``eta_tilde``), before and after that "step", and the eigenvalues of ``F F^T``;
- theory densities are Marchenko–Pastur laws of ratio ``beta / alpha`` (with the atom at
  zero when ``p > n``), errors fall with ``alpha`` and with the step, the learned function
  bends from a linear fit towards the ``tanh`` target as ``eta_tilde`` grows.

With ``awkward=True`` (the default) a result also holds the values a file format must
survive: NaN, +-inf, -0.0, an empty ``(0, 2)`` array, an integer swept as a value, a
``None`` where a float is optional, and a failed theory point.

Importable from ``tests/engine`` and ``tests/gui`` as ``import synthetic``: pytest puts
the folder of ``tests/conftest.py`` on ``sys.path``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence

import numpy as np

from engine.config import ALaw, Config, Curve, ModelConfig, Point, RunConfig, Sweep
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

#: Two curves that differ by the first batch: the large-batch limit and alpha0 = 5.
TWO_BATCHES = (Curve("large batch"), Curve("alpha0 = 5", (("alpha0", 5.0),)))

#: The Hermite constant mu1 = mu1_star of tanh (rounded).
MU1_TANH = 0.6057

CONVERGED = Convergence(True, 12, 1e-12, "ok")

#: The simulated models, in the order a run lists them.
MODELS = ("network", "srf")


def eta_curves(k: int) -> tuple[Curve, ...]:
    """``k`` curves over the step size: ``eta_tilde = 0, 1, ..., k - 1``."""
    return tuple(Curve(f"eta {e}", (("eta_tilde", float(e)),)) for e in range(k))


def make_config(*, d: int = 40, kind: str = "spectrum",
                sweep: Sequence[float] | None = (1.0, 2.0),
                curves: Sequence[Curve] = TWO_BATCHES, seeds: Sequence[int] = (3, 7),
                simulate: Sequence[str] = MODELS) -> Config:
    """A small run: ``tanh`` network, +-1 second layer, ``eta_tilde = 3``.

    Parameters
    ----------
    d : int
        Input dimension (``p = d``, ``n = alpha d``).
    kind : {"spectrum", "weights", "errors"}
    sweep : sequence of float or None
        Values of ``alpha``; ``None`` for a single point.
    curves : sequence of Curve
        ``()`` for one unlabelled curve.
    seeds : sequence of int
    simulate : sequence of {"network", "srf"}
        ``()`` gives a theory-only result.
    """
    return Config(
        model=ModelConfig(d=d, beta=1.0, alpha=2.0, eta_tilde=3.0, lam=0.1, noise=0.05,
                          sigma="tanh", sigma_star="tanh",
                          a_law=ALaw((1.0, -1.0), (0.5, 0.5))),
        run=RunConfig(kind=kind, sweep=None if sweep is None else Sweep("alpha", tuple(sweep)),
                      seeds=tuple(seeds), simulate=tuple(simulate), curves=tuple(curves)),
    )


def make_result(config: Config | None = None, *, awkward: bool = True) -> RunResult:
    """A RunResult with every field filled, for every point of ``config``.

    Parameters
    ----------
    config : Config, optional
        Default :func:`make_config` (two curves x two sweep points x two seeds).
    awkward : bool
        Include the values a file format must survive (module docstring); the failed
        theory point is the second point of the second curve, when there is one.
    """
    config = config or make_config()
    points = config.points()
    curves = []
    for ci, (label, _model) in enumerate(config.curve_models()):
        overrides = config.run.curves[ci].overrides if config.run.curves else {}
        curves.append(CurveResult(
            label=label, overrides=overrides,
            points=tuple(_point(config, pt, awkward) for pt in points if pt.curve == ci)))
    sweep = config.run.sweep
    return RunResult(
        config=config, curves=tuple(curves), sweep_param=sweep.param if sweep else None,
        sweep_values=sweep.values if sweep else (), success=True,
        message="1 theory point failed" if awkward else "ok", elapsed=1.5,
        started="2026-11-28T14:00:00+00:00", versions={"app": "0.1.0", "numpy": np.__version__},
    )


def _point(config: Config, pt: Point, awkward: bool) -> PointResult:
    model = pt.model
    failed = awkward and pt.curve == 1 and pt.index == 1
    value = pt.value
    if awkward and pt.index > 0 and value is not None and float(value).is_integer():
        value = int(value)  # an int value must stay an int
    return PointResult(
        value=value, model=model, srf_params=_srf_params(model, awkward),
        theory_spectrum=_theory_spectrum(model, awkward=awkward, failed=failed),
        theory_spectrum_before=_theory_spectrum(model.with_(eta_tilde=0.0), awkward=awkward),
        theory_ridge=None if failed else _ridge(model),
        theory_ridge_rf=_ridge(model.with_(eta_tilde=0.0)),
        theory_weights=_theory_weights(model), expressivity=_expressivity(model),
        sims={name: tuple(_sim(model, name, s, awkward) for s in config.run.seeds)
              for name in config.run.simulate},
        theory_error="ConvergenceError: max_iter reached" if failed else None,
    )


def mp_density(ratio: float, scale: float, grid: np.ndarray) -> np.ndarray:
    """Marchenko–Pastur density (continuous part) of ratio ``ratio``, eigenvalues x ``scale``."""
    lo, hi = scale * (1 - math.sqrt(ratio)) ** 2, scale * (1 + math.sqrt(ratio)) ** 2
    inside = (grid > lo) & (grid < hi)
    dens = np.zeros_like(grid)
    dens[inside] = np.sqrt((hi - grid[inside]) * (grid[inside] - lo)) / (
        2 * np.pi * ratio * scale * grid[inside])
    return dens


def _step_strength(model: ModelConfig) -> float:
    """How far the step moves the features: 0 without a step, smaller for a small batch."""
    batch = 1.0 if model.large_batch else model.alpha0 / (1.0 + model.alpha0)
    return model.eta_tilde * batch


def _theory_spectrum(model: ModelConfig, *, awkward: bool = False,
                     failed: bool = False) -> TheorySpectrum:
    q = model.beta / model.alpha
    scale = 0.6
    lo, hi = scale * (1 - math.sqrt(q)) ** 2, scale * (1 + math.sqrt(q)) ** 2
    grid = np.linspace(0.0, hi * 1.2, 57)
    dens = mp_density(q, scale, grid)
    if awkward:
        dens[0] = -0.0  # a signed zero must survive
    strength = _step_strength(model)
    return TheorySpectrum(
        model=model, grid=grid, density=dens,
        edges=np.zeros((0, 2)) if failed else np.array([[lo, hi]]),
        atom_zero=max(0.0, 1 - model.alpha / model.beta),
        outliers=np.array([hi * (1 + 0.25 * strength) + 0.1 / 3]) if strength > 0
        else np.zeros(0),
        outliers_centred=np.zeros(0),
        mass=float(np.trapezoid(dens, grid)),
        convergence=Convergence(False, 2000, math.nan, "max_iter reached at z = 2.1+1e-5i")
        if failed else Convergence(True, 37, 3.1e-11, "converged"),
    )


def _learned(model: ModelConfig, kappa: np.ndarray) -> np.ndarray:
    bend = math.exp(-_step_strength(model))
    return (1 - bend) * np.tanh(kappa) + bend * MU1_TANH * kappa


def _ridge(model: ModelConfig) -> TheoryRidge:
    kappa = np.linspace(-3, 3, 41)
    gain = 1 + math.exp(-_step_strength(model))
    test = model.noise + 0.25 * gain / (1 + model.alpha)
    bias = model.noise + 0.6 * (test - model.noise)
    return TheoryRidge(
        model=model, test_error=test, train_error=test * model.alpha / (1 + model.alpha),
        bias=bias, variance=test - bias,
        m0=np.array([0.125]), m1=np.array([[0.5, 0.25], [-0.5, 0.1]]),
        kappa=kappa, learned_function=_learned(model, kappa), target=np.tanh(kappa),
        warnings=("mean direction weak at this d",) if model.eta_tilde == 0 else (),
        convergence=CONVERGED,
    )


def _srf_params(model: ModelConfig, awkward: bool) -> SRFParams:
    a = np.asarray(model.a_law.values, dtype=float)
    k = a.size
    gamma = 1.0 if model.large_batch else MU1_TANH / math.sqrt(
        MU1_TANH**2 + 0.39 / model.alpha0)
    c = np.zeros(k)
    if awkward and k > 1:
        c[1] = -0.0
    constants = {"mu1": MU1_TANH, "mu1_star": MU1_TANH, "mu2": 0.0}
    if awkward:
        constants["weird"] = math.inf
    return SRFParams(a=a, pi=np.asarray(model.a_law.probs, dtype=float),
                     u=model.eta_tilde * MU1_TANH**2 * a, s0=np.ones(k), c=c, s=np.ones(k),
                     nv=np.zeros(k), gamma=gamma, r0=MU1_TANH, constants=constants)


def _theory_weights(model: ModelConfig) -> TheoryWeights:
    grid = np.linspace(0.0, 4.0, 41)
    ratio = min(model.beta, 0.5)
    return TheoryWeights(
        model=model, grid=grid, density=mp_density(ratio, 1.0, grid),
        edges=np.array([[(1 - math.sqrt(ratio)) ** 2, (1 + math.sqrt(ratio)) ** 2]]),
        atom_zero=0.0, spikes=np.array([1.0 + model.p * (MU1_TANH * model.eta_tilde) ** 2 / 100]))


def _expressivity(model: ModelConfig) -> Expressivity:
    kappa = np.linspace(-3, 3, 13)
    mu0 = np.vstack([np.tanh(kappa + 0.5 * a) for a in model.a_law.values])
    return Expressivity(kappa=kappa, mu0=mu0, target=np.tanh(kappa),
                        fit=np.tanh(kappa) * 0.99, coefficients=np.array([0.5, 0.5, 0.01]),
                        r2=0.998)


def _features(model: ModelConfig, seed: int, spike: float) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues of ``(1/n) Phi^T Phi`` and of ``F F^T``, ``F = W0 + spike a theta^T``.

    Fresh copies: every result owns its arrays.
    """
    ev, wev = _features_cached(model.d, model.p, model.n, model.a_law, seed, spike)
    return ev.copy(), wev.copy()


@functools.lru_cache(maxsize=256)
def _features_cached(d: int, p: int, n: int, a_law: ALaw, seed: int,
                     spike: float) -> tuple[np.ndarray, np.ndarray]:
    # Cached because the spectrum before the step is shared by both models and by every
    # curve that only changes the step.
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal((p, d)) / math.sqrt(d)
    theta = rng.standard_normal(d)
    theta /= np.linalg.norm(theta)
    a = rng.choice(np.asarray(a_law.values, dtype=float), size=p, p=a_law.probs)
    x = rng.standard_normal((n, d))
    f = w0 + spike * np.outer(a, theta)
    phi = np.tanh(x @ f.T)
    return np.linalg.eigvalsh(phi.T @ phi / n), np.linalg.eigvalsh(f @ f.T)


def _sim(model: ModelConfig, name: str, seed: int, awkward: bool) -> SimSeed:
    # The sRF model's spike is the theory's equivalent of the network's: close, not equal.
    strength = _step_strength(model)
    spike = 0.3 * strength / math.sqrt(1 + strength) * (1.02 if name == "srf" else 1.0)
    ev, wev = _features(model, seed, spike)
    ev0, _ = _features(model, seed, 0.0)
    noise = np.random.default_rng((seed, MODELS.index(name)))
    ridge = _ridge(model)
    bins = np.linspace(-2.5, 2.5, 9)
    sem = np.full(bins.size, 0.02)
    if awkward:
        sem[0] = np.nan  # an empty bin has no standard error
    return SimSeed(
        model=name, seed=seed, eigenvalues=ev, eigenvalues_before=ev0,
        outliers=ev[-1:][::-1].copy(), weight_eigenvalues=wev,
        spike_overlap=0.93 if name == "network" else (None if awkward else 1.0),
        top_overlaps=np.array([0.93, 0.02, 0.01]),
        train_error=ridge.train_error * (1 + 0.03 * noise.standard_normal()),
        test_error=ridge.test_error * (1 + 0.03 * noise.standard_normal()),
        kappa_bins=bins, fhat_mean=_learned(model, bins) + 0.02 * noise.standard_normal(bins.size),
        fhat_sem=sem, elapsed=0.25 * seed,
    )


def assert_results_equal(a: RunResult, b: RunResult) -> None:
    """Field by field, arrays with np.array_equal (NaN == NaN) and signs of zeros, types
    included."""
    _eq(a, b, "result")


def _eq(x: object, y: object, path: str) -> None:
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
