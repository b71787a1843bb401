"""Building the views: the theory half and the simulation half of every view, and both.

:func:`theory_views` and :func:`simulation_views` turn a
:class:`~engine.views.theory.TheoryBundle` and a simulated
:class:`~engine.results.RunResult` into the data of each view: theory lines, histograms,
seed means and standard deviations, outlier positions. They are pure and fast
(milliseconds), and :func:`combine` puts the two halves together.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import numpy as np

from engine.config import Config, Grid, ModelConfig
from engine.results import PointResult, RunResult, SimSeed
from engine.spectra import ccdf_from_density, histogram, split_outliers
from engine.views.base import Histogram, Line, _param_values
from engine.views.data import (
    LOG_DECADES,
    ErrorCurve,
    ErrorPoints,
    ExpressivityCurve,
    ExpressivityView,
    LearnedFunctionView,
    LearnedLine,
    LearnedSim,
    LearningCurveView,
    SpectrumSim,
    SpectrumTheory,
    SpectrumView,
    TailSim,
    TailTheory,
    TailView,
    Views,
    WeightsSim,
    WeightsTheory,
    WeightsView,
)
from engine.views.phase import _phase_frame, _phase_sims, _phase_theory
from engine.views.theory import TailSeries, TheoryBundle

#: Bins of the simulated histograms (linear and geometric edges).
HIST_BINS = 60


# =========================================================================== theory -> views


def _typical_top(lines: Iterable[Line]) -> float | None:
    """A y range showing the body of densities (99th percentile on a uniform grid)."""
    tops = []
    for line in lines:
        if np.size(line.x) < 2:
            continue
        uniform = np.linspace(float(line.x[0]), float(line.x[-1]), 801)
        tops.append(float(np.percentile(np.interp(uniform, line.x, line.y), 99)))
    if not tops or max(tops) <= 0:
        return None
    return 1.25 * max(tops)


def _line(x: Any, y: Any) -> Line:
    return Line(np.asarray(x, dtype=float), np.asarray(y, dtype=float))


def _spectrum_theory(bundle: TheoryBundle) -> SpectrumView:
    out = []
    for ci, point in enumerate(bundle.snapshot):
        label = bundle.config.curve_models()[ci][0]
        spec, before = point.theory_spectrum, point.theory_spectrum_before
        if spec is None and before is None:
            continue
        edges = np.asarray(spec.edges, float) if spec is not None else np.zeros((0, 2))
        outs = np.asarray(spec.outliers, float) if spec is not None else np.zeros(0)
        right = float(edges[:, 1].max()) if edges.size else 0.0
        out.append(SpectrumTheory(
            curve=ci, label=label, eta_tilde=float(point.model.eta_tilde),
            after=_line(spec.grid, spec.density) if spec is not None else None,
            before=(_line(before.grid, before.density)
                    if before is not None and (point.model.eta_tilde > 0 or spec is None)
                    else None),
            edges=edges,
            edges_before=(np.asarray(before.edges, float) if before is not None
                          else np.zeros((0, 2))),
            atom_zero=float(spec.atom_zero) if spec is not None else 0.0,
            outliers=outs[outs > right], inside_bulk=outs[outs <= right]))
    lines = [ln for t in out for ln in (t.after, t.before) if ln is not None]
    return SpectrumView(theory=tuple(out), y_top=_typical_top(lines))


def _tail_theory(bundle: TheoryBundle) -> TailView:
    current = float(bundle.config.model.eta_tilde)
    series = bundle.tail
    if not series:
        # before the extras arrive: the snapshot's own spectra
        series = tuple(TailSeries(float(p.model.eta_tilde), np.asarray(s.grid, float),
                                  ccdf_from_density(s.grid, s.density))
                       for p in bundle.snapshot[:1]
                       for s in (p.theory_spectrum, p.theory_spectrum_before)
                       if s is not None)
    return TailView(theory=tuple(TailTheory(s.eta_tilde, abs(s.eta_tilde - current) < 1e-9,
                                            s.grid, s.ccdf) for s in series))


def _x_per_p(models: Iterable[ModelConfig], param: str) -> np.ndarray | None:
    if param != "alpha":
        return None
    return np.array([m.alpha / m.beta for m in models])


def _learning_theory(bundle: TheoryBundle) -> LearningCurveView:
    config = bundle.config
    sweep = config.run.sweep
    curves = []
    if bundle.run is not None and sweep is not None:
        for ci, curve in enumerate(bundle.run.curves):
            pts = [p for p in curve.points if p.theory_ridge is not None]
            if len(pts) < 2:
                continue
            rf = [p.theory_ridge_rf for p in pts]
            has_rf = all(r is not None for r in rf) and any(p.model.eta_tilde > 0 for p in pts)
            curves.append(ErrorCurve(
                curve=ci, label=curve.label, x=_param_values(p.value for p in pts),
                x_per_p=_x_per_p((p.model for p in pts), sweep.param),
                test=np.array([p.theory_ridge.test_error for p in pts]),
                train=np.array([p.theory_ridge.train_error for p in pts]),
                test_rf=np.array([r.test_error for r in rf]) if has_rf else None))
    if curves:
        return LearningCurveView(param=sweep.param, theory=tuple(curves))
    for ci, s in enumerate(bundle.learning):
        curves.append(ErrorCurve(curve=ci, label=s.label, x=s.alpha, x_per_p=s.alpha / s.beta,
                                 test=s.test_error, train=s.train_error,
                                 test_rf=s.test_error_rf))
    current = None
    if bundle.snapshot and bundle.snapshot[0].theory_ridge is not None:
        m = bundle.snapshot[0].model
        current = (m.alpha, m.alpha / m.beta, float(bundle.snapshot[0].theory_ridge.test_error))
    return LearningCurveView(param="alpha", theory=tuple(curves), current=current)


def _weights_theory(bundle: TheoryBundle) -> WeightsView:
    for ci, point in enumerate(bundle.snapshot):
        tw = point.theory_weights
        if tw is None:
            continue
        dens = np.asarray(tw.density, dtype=float)
        body = dens[np.isfinite(dens) & (dens > 0)]
        # the density can diverge at an edge (beta = 1): frame its body
        top = max(4.0 * float(np.median(body)), 1e-9) if body.size else None
        gamma = float(point.srf_params.gamma) if point.srf_params is not None else math.nan
        return WeightsView(theory=WeightsTheory(
            label=bundle.config.curve_models()[ci][0], eta_tilde=float(point.model.eta_tilde),
            density=_line(tw.grid, dens), spikes=np.asarray(tw.spikes, dtype=float),
            gamma=gamma, y_top=top))
    return WeightsView()


def _expressivity_theory(bundle: TheoryBundle) -> ExpressivityView:
    for ci, point in enumerate(bundle.snapshot):
        ex = point.expressivity
        if ex is None:
            continue
        mu0 = np.atleast_2d(np.asarray(ex.mu0, dtype=float))
        sp = point.srf_params
        return ExpressivityView(theory=ExpressivityCurve(
            label=bundle.config.curve_models()[ci][0], kappa=np.asarray(ex.kappa, float),
            mu0=mu0,
            atoms=(np.asarray(sp.a, float) if sp is not None
                   else np.arange(mu0.shape[0], dtype=float)),
            u=np.asarray(sp.u, float) if sp is not None else None,
            target=np.asarray(ex.target, float), fit=np.asarray(ex.fit, float),
            r2=float(ex.r2)))
    return ExpressivityView()


def _learned_theory(bundle: TheoryBundle) -> LearnedFunctionView:
    lines: list[LearnedLine] = []
    target = None
    if bundle.learned and len(bundle.snapshot) <= 1:
        for s in bundle.learned:
            lines.append(LearnedLine(f"η̃ = {s.eta_tilde:g}", s.eta_tilde, s.kappa,
                                     s.learned_function))
            target = _line(s.kappa, s.target)
    else:
        labels = [label for label, _ in bundle.config.curve_models()]
        for ci, point in enumerate(bundle.snapshot):
            r = point.theory_ridge
            if r is None or r.kappa is None:
                continue
            eta = float(point.model.eta_tilde)
            lines.append(LearnedLine(labels[ci] or f"η̃ = {eta:g}", eta,
                                     np.asarray(r.kappa, float),
                                     np.asarray(r.learned_function, float)))
            target = _line(r.kappa, r.target)
    return LearnedFunctionView(theory=tuple(lines), target=target)


def theory_views(bundle: TheoryBundle) -> Views:
    """The theory half of every view (the simulation fields empty)."""
    return Views(config=bundle.config, spectrum=_spectrum_theory(bundle),
                 tail=_tail_theory(bundle), learning_curves=_learning_theory(bundle),
                 weights=_weights_theory(bundle),
                 expressivity=_expressivity_theory(bundle),
                 learned_function=_learned_theory(bundle), phase=_phase_theory(bundle))


# =========================================================================== simulation -> views


def selected_points(result: RunResult, config: Config) -> list[tuple[int, str, PointResult]]:
    """One simulated point per curve: the one at the parameters on screen.

    With a sweep, the point whose value is nearest the model's own value of the swept
    parameter (the value in the panel); with a grid, the cell nearest the panel's values
    of its two parameters (each distance relative to its axis' span); without either,
    the curve's only point.
    """
    out = []
    target = None
    if result.sweep_param is not None:
        target = getattr(config.model, result.sweep_param, None)
    grid = result.config.run.grid
    for ci, curve in enumerate(result.curves):
        present = [p for p in curve.points if p.sims]
        if not present:
            continue
        best = present[0]
        if target is not None and len(present) > 1:
            best = min(present, key=lambda p: _distance(p.value, target))
        elif grid is not None and len(present) > 1:
            best = min(present, key=_grid_distance(grid, config.model))
        out.append((ci, curve.label, best))
    return out


def _grid_distance(grid: Grid, model: ModelConfig) -> Callable[[PointResult], float]:
    """Distance of a grid point to the model's values of the grid's parameters."""
    axes = []
    for axis in (grid.x, grid.y):
        numbers = [float(v) for v in axis.values if v is not None]
        span = max(numbers) - min(numbers) if numbers else 0.0
        axes.append((getattr(model, axis.param), span if span > 0 else 1.0))

    def distance(point: PointResult) -> float:
        return sum(_distance(v, target) / span
                   for v, (target, span) in zip(point.value, axes, strict=True))

    return distance


def _distance(value: Any, target: Any) -> float:
    try:
        return abs(float(value) - float(target))
    except (TypeError, ValueError):
        return 0.0 if value == target else math.inf


def _bulk_after(seed: SimSeed) -> np.ndarray:
    ev = np.asarray(seed.eigenvalues, dtype=float)
    k = len(seed.outliers) if seed.outliers is not None else 0
    return ev[: ev.size - k] if k else ev  # ascending: the outliers are the k largest


def _histograms(bulks: list[np.ndarray], total: int) -> tuple[Histogram, Histogram] | None:
    """Linear and geometric histograms of the pooled bulk, normalised by ``total``."""
    ev = np.concatenate(bulks) if bulks else np.zeros(0)
    if ev.size == 0:
        return None
    edges, dens = histogram(ev, bins=HIST_BINS)
    scale = ev.size / max(total, 1)
    top = float(ev.max())
    lo = max(top * 10.0 ** -LOG_DECADES, float(ev[ev > 0].min()) if np.any(ev > 0) else top)
    if top <= 0 or lo >= top:
        log_edges, log_dens = edges, dens
    else:
        log_edges, log_dens = histogram(ev, bins=np.geomspace(lo, top * (1 + 1e-12),
                                                               HIST_BINS + 1))
    return (Histogram(np.asarray(edges, float), np.asarray(dens, float) * scale),
            Histogram(np.asarray(log_edges, float), np.asarray(log_dens, float) * scale))


def _spectrum_sims(points: list[tuple[int, str, PointResult]]) -> tuple[SpectrumSim, ...]:
    out = []
    for ci, label, point in points:
        for model, seeds in point.sims.items():
            after = [_bulk_after(s) for s in seeds if s.eigenvalues is not None]
            splits = [split_outliers(s.eigenvalues_before) for s in seeds
                      if s.eigenvalues_before is not None]
            h_after = _histograms(after, sum(len(s.eigenvalues) for s in seeds
                                             if s.eigenvalues is not None))
            h_before = (_histograms([b for b, _ in splits], sum(b.size + o.size
                                                                for b, o in splits))
                        if point.model.eta_tilde > 0 else None)
            if h_after is None and h_before is None:
                continue
            out.append(SpectrumSim(
                curve=ci, label=label, model=model, eta_tilde=float(point.model.eta_tilde),
                n_seeds=len(seeds),
                after=h_after[0] if h_after else None, after_log=h_after[1] if h_after else None,
                before=h_before[0] if h_before else None,
                before_log=h_before[1] if h_before else None,
                outliers=_pooled(seeds, "outliers"),
                outliers_before=(np.concatenate([o for _, o in splits]) if splits
                                 else np.zeros(0))))
    return tuple(out)


def _pooled(seeds: Iterable[SimSeed], attr: str) -> np.ndarray:
    arrays = [np.asarray(getattr(s, attr), dtype=float) for s in seeds
              if getattr(s, attr, None) is not None]
    return np.concatenate(arrays) if arrays else np.zeros(0)


def _tail_sims(points: list[tuple[int, str, PointResult]]) -> tuple[TailSim, ...]:
    out = []
    for ci, label, point in points:
        for model, seeds in point.sims.items():
            first = next((s for s in seeds if s.eigenvalues is not None), None)
            if first is None:
                continue
            bulk = _bulk_after(first)
            frac = (bulk.size - np.arange(bulk.size)) / max(bulk.size, 1)
            out.append(TailSim(ci, label, model, float(point.model.eta_tilde), first.seed,
                               bulk, frac))
    return tuple(out)


def _seed_stats(point: PointResult, model: str, attr: str) -> tuple[float, float]:
    vals = np.array([getattr(s, attr) for s in point.sims.get(model, ())
                     if getattr(s, attr) is not None], dtype=float)
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return math.nan, math.nan
    return float(vals.mean()), float(vals.std(ddof=1)) if vals.size > 1 else 0.0


def _learning_sims(result: RunResult) -> tuple[tuple[ErrorPoints, ...], str]:
    param = result.sweep_param or "alpha"
    out = []
    for ci, curve in enumerate(result.curves):
        models = sorted({m for p in curve.points for m in p.sims},
                        key=lambda m: (m != "network", m))
        for model in models:
            pts = [p for p in curve.points if model in p.sims
                   and any(s.test_error is not None for s in p.sims[model])]
            if not pts:
                continue
            test = [_seed_stats(p, model, "test_error") for p in pts]
            train = [_seed_stats(p, model, "train_error") for p in pts]
            x = (_param_values(p.value for p in pts) if result.sweep_param
                 else np.array([p.model.alpha for p in pts]))
            out.append(ErrorPoints(
                curve=ci, label=curve.label, model=model, x=x,
                x_per_p=_x_per_p((p.model for p in pts), param),
                test_mean=np.array([t[0] for t in test]), test_std=np.array([t[1] for t in test]),
                train_mean=np.array([t[0] for t in train]),
                train_std=np.array([t[1] for t in train]),
                n_seeds=max(len(p.sims[model]) for p in pts)))
    return tuple(out), param


def _weights_sims(points: list[tuple[int, str, PointResult]]) -> tuple[WeightsSim, ...]:
    out = []
    for _ci, label, point in points[:1]:
        for model, seeds in point.sims.items():
            splits = [split_outliers(s.weight_eigenvalues) for s in seeds
                      if s.weight_eigenvalues is not None]
            overlaps = []
            spike = [s.spike_overlap for s in seeds if s.spike_overlap is not None]
            if spike:
                overlaps.append(float(np.mean(spike)))
            tops = [np.asarray(s.top_overlaps, float) for s in seeds
                    if s.top_overlaps is not None]
            if tops:
                m = min(t.size for t in tops)
                overlaps.extend(np.mean([t[:m] for t in tops], axis=0))
            if not splits and not overlaps:
                continue
            hist = _histograms([b for b, _ in splits], sum(b.size + o.size for b, o in splits))
            out.append(WeightsSim(label, model, len(seeds), hist[0] if hist else None,
                                  np.concatenate([o for _, o in splits]) if splits
                                  else np.zeros(0), np.asarray(overlaps, dtype=float)))
    return tuple(out)


def _learned_sims(points: list[tuple[int, str, PointResult]], config: Config
                  ) -> tuple[LearnedSim, ...]:
    """Seed means of the binned predictions; ``line`` matches the theory's lines: the
    curve's own with several curves, else the current ``eta_tilde`` among the three."""
    etas = sorted({0.0, round(0.5 * config.model.eta_tilde, 3), float(config.model.eta_tilde)})
    out = []
    for ci, label, point in points:
        for model, seeds in point.sims.items():
            usable = [s for s in seeds if s.kappa_bins is not None and s.fhat_mean is not None]
            if not usable:
                continue
            m = min(len(s.kappa_bins) for s in usable)
            means = np.array([s.fhat_mean[:m] for s in usable], dtype=float)
            sems = np.array([s.fhat_sem[:m] if s.fhat_sem is not None else np.zeros(m)
                             for s in usable], dtype=float)
            with warnings.catch_warnings():
                # a kappa bin empty in every seed stays NaN (a gap)
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(means, axis=0)
            err = np.sqrt(np.nansum(sems**2, axis=0)) / len(usable)  # s.e. of the seed mean
            eta = float(point.model.eta_tilde)
            line = ci if config.run.curves else min(range(len(etas)),
                                                    key=lambda i: abs(etas[i] - eta))
            out.append(LearnedSim(ci, label, model, eta, line, len(usable),
                                  np.asarray(usable[0].kappa_bins[:m], float), mean, err))
    return tuple(out)


def simulation_views(result: RunResult, config: Config | None = None) -> Views:
    """The simulation half of every view (the theory fields empty).

    ``config`` gives the parameters on screen (which point of a sweep the spectrum-like
    views show); default the result's own configuration.
    """
    config = config or result.config
    points = selected_points(result, config)
    # a grid's errors are drawn on the phase diagram, not against one parameter
    sims, param = _learning_sims(result) if result.config.run.grid is None else ((), "alpha")
    seeds = sorted({s.seed for c in result.curves for p in c.points
                    for ss in p.sims.values() for s in ss})
    return Views(config=config,
                 spectrum=SpectrumView(sims=_spectrum_sims(points)),
                 tail=TailView(sims=_tail_sims(points)),
                 learning_curves=LearningCurveView(sims=sims, sim_param=param),
                 weights=WeightsView(sims=_weights_sims(points)),
                 learned_function=LearnedFunctionView(sims=_learned_sims(points, config)),
                 phase=replace(_phase_frame(config), sims=_phase_sims(result, config)),
                 seeds=tuple(seeds))


def combine(theory_half: Views | None, sim_half: Views | None, config: Config) -> Views:
    """Every view with the theory of ``theory_half`` and the simulation of ``sim_half``."""
    # without theory the phase diagram still needs the grid's axes
    base = (theory_half if theory_half is not None
            else Views(config=config, phase=_phase_frame(config)))
    if sim_half is None:
        return replace(base, config=config, seeds=())
    changes: dict[str, Any] = {}
    for name in Views.NAMES:
        view = getattr(base, name)
        sim_view = getattr(sim_half, name)
        changes[name] = replace(view, **{f: getattr(sim_view, f) for f in view.SIM_FIELDS})
    return replace(base, config=config, seeds=sim_half.seeds, **changes)
