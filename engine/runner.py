"""Run a :class:`~engine.config.Config`: its points (curves x sweep), theory and simulations.

The GUI (in a worker thread) and the CLI both call :func:`run`; the live theory calls
:func:`run_theory` (through :mod:`engine.views`). The points are those of
:meth:`Config.points`. Progress is one monotone fraction over the whole run, with a stage
text such as ``"curve 1/3, alpha = 0.5, network seed 2/3: features"``; the weights of the
stages are rough flop counts, so the bar moves at a steady pace.

A :class:`~engine.errors.ConvergenceError` of the theory at a point is recorded in
``PointResult.theory_error`` (saying where and what) and the run continues; the run's
``success`` is then False and its ``message`` lists the failures (the CLI exits 3).
"""

from __future__ import annotations

import datetime as _dt
import math
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy

from engine import theory
from engine.config import Config, ModelConfig, NumericsConfig, Point
from engine.errors import ConvergenceError
from engine.memory import check_memory
from engine.network import simulate_network
from engine.progress import CancelLike, ProgressFn, check_cancel, null_progress, sub_progress
from engine.results import CurveResult, PointResult, RunResult, SimSeed, TheoryRidge
from engine.srf import simulate_srf

OnPoint = Callable[[int, int, PointResult], None]

SIMULATORS = {"network": simulate_network, "srf": simulate_srf}

#: Theory quantities of one point, by run kind (the snapshot of engine.views asks for all).
KIND_QUANTITIES: dict[str, frozenset[str]] = {
    "spectrum": frozenset({"spectrum", "ridge", "expressivity"}),
    "weights": frozenset({"weights", "ridge", "expressivity"}),
    "errors": frozenset({"ridge", "expressivity"}),
}
ALL_QUANTITIES = frozenset({"spectrum", "weights", "ridge", "expressivity"})

#: Relative progress weight of the theory at one point, and of a learning curve per value.
THEORY_WEIGHT = 0.05
CURVE_WEIGHT = 0.05


def versions() -> dict[str, str]:
    """App, Python, numpy and scipy versions (written into every result)."""
    import engine

    return {"app": engine.__version__, "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__}


def format_value(v: Any) -> str:
    """A swept value as shown in messages (``None`` is the large-batch limit)."""
    if v is None:
        return "large batch"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def where(config: Config, point: Point) -> str:
    """``"curve 1/2 (label), alpha = 0.5"``: where a point sits, for messages."""
    n_curves = len(config.curve_models())
    text = f"curve {point.curve + 1}/{n_curves}" + (f" ({point.label})" if point.label else "")
    if config.run.sweep is not None:
        text += f", {config.run.sweep.param} = {format_value(point.value)}"
    return text


# --------------------------------------------------------------------------- theory


@dataclass
class TheoryLog:
    """Failures of the theory, recorded where they happened (the run goes on)."""

    failures: list[str] = field(default_factory=list)

    def call(self, where_: str, what: str, fn: Callable[[], Any], errors: list[str]) -> Any:
        """``fn()``, or None after recording a :class:`ConvergenceError` (any other
        exception is a bug and propagates)."""
        try:
            return fn()
        except ConvergenceError as exc:
            message = f"{where_}, {what}: {exc}"
            self.failures.append(message)
            errors.append(message)
        return None


def theory_point(model: ModelConfig, numerics: NumericsConfig, quantities: frozenset[str],
                 where_: str, log: TheoryLog, *, ridge: tuple[Any, Any] | None = None,
                 progress: ProgressFn | None = None,
                 cancel: CancelLike | None = None) -> dict[str, Any]:
    """The theory ``quantities`` at one point, as :class:`PointResult` fields.

    ``quantities`` is a subset of :data:`ALL_QUANTITIES`; ``ridge`` gives the ridge
    solutions (after the step, random-features baseline) already solved along a curve.
    """
    progress = progress or null_progress
    errors: list[str] = []
    out: dict[str, Any] = {"srf_params": theory.equivalent_srf(model)}  # closed form
    check_cancel(cancel)
    if "spectrum" in quantities:
        out["theory_spectrum"] = log.call(
            where_, "spectrum after the step",
            lambda: theory.solve_spectrum(model, numerics, cancel=cancel,
                                          progress=sub_progress(progress, 0.0, 0.4)), errors)
        out["theory_spectrum_before"] = log.call(
            where_, "spectrum before the step (eta_tilde = 0)",
            lambda: theory.solve_spectrum(model.with_(eta_tilde=0.0), numerics, cancel=cancel,
                                          progress=sub_progress(progress, 0.4, 0.8)), errors)
    if "weights" in quantities:
        out["theory_weights"] = log.call(where_, "weights spectrum",
                                         lambda: theory.weights_theory(model), errors)
    check_cancel(cancel)
    if "ridge" in quantities:
        if ridge is None:
            ridge = (log.call(where_, "ridge errors",
                              lambda: theory.solve_ridge(model, numerics), errors),
                     log.call(where_, "random-features baseline (eta_tilde = 0)",
                              lambda: theory.solve_ridge(model.with_(eta_tilde=0.0),
                                                         numerics), errors))
        out["theory_ridge"], out["theory_ridge_rf"] = ridge
    progress(0.9, "theory: ridge")
    if "expressivity" in quantities:
        out["expressivity"] = log.call(where_, "expressivity",
                                       lambda: theory.expressivity(model, numerics), errors)
    progress(1.0, "theory done")
    out["theory_error"] = "; ".join(errors) if errors else None
    return out


def ridge_along(model: ModelConfig, param: str, values: Sequence[Any],
                numerics: NumericsConfig, *, progress: ProgressFn | None = None,
                cancel: CancelLike | None = None
                ) -> list[TheoryRidge | None] | None:
    """Ridge theory of ``model`` along ``param`` (warm-started :func:`learning_curve`).

    Returns None when the curve does not converge somewhere: the caller then solves
    point by point, which pins the failure to its value and keeps the other points.
    """
    try:
        return list(theory.learning_curve(model, param, list(values), numerics,
                                          progress=progress, cancel=cancel))
    except ConvergenceError:
        return None


def _sweep_ridges(config: Config, base: ModelConfig, progress: ProgressFn,
                  cancel: CancelLike | None) -> list[tuple[Any, Any] | None]:
    """(after, random-features) ridge solutions along the sweep of one curve, or Nones."""
    sweep = config.run.sweep
    assert sweep is not None
    values = list(sweep.values)
    after = ridge_along(base, sweep.param, values, config.numerics, cancel=cancel,
                        progress=sub_progress(progress, 0.0, 0.5))
    if sweep.param == "eta_tilde":
        # the baseline does not depend on the swept eta_tilde: one solve
        rf: list[Any] | None = None
        try:
            rf = [theory.solve_ridge(base.with_(eta_tilde=0.0), config.numerics)] * len(values)
        except ConvergenceError:
            pass
    else:
        rf = ridge_along(base.with_(eta_tilde=0.0), sweep.param, values, config.numerics,
                         progress=sub_progress(progress, 0.5, 1.0), cancel=cancel)
    if after is None or rf is None:
        return [None] * len(values)
    return list(zip(after, rf, strict=True))


# --------------------------------------------------------------------------- simulation


def sim_cost(m: ModelConfig) -> float:
    """Rough cost of one simulated seed (giga-flops), for progress weights."""
    d, p, n = m.d, m.p, m.n
    flops = 2 * n * d * p + n * p * p + 4 * p**3 + 2 * max(n, 2000) * d * p
    if m.n0 is not None:
        flops += 4 * m.n0 * d * p
    return flops / 1e9 + 0.01


def simulate_point(config: Config, point: Point, name: str, seed: int, *,
                   progress: ProgressFn | None = None,
                   cancel: CancelLike | None = None) -> SimSeed:
    """One simulated model (``"network"`` or ``"srf"``) at one point and one seed."""
    kind = config.run.kind
    return SIMULATORS[name](point.model, seed, spectrum=kind == "spectrum",
                            before=kind == "spectrum", weights=kind == "weights",
                            errors=True, n_test=config.run.n_test, progress=progress,
                            cancel=cancel)


# --------------------------------------------------------------------------- the run


def _monotone(progress: ProgressFn) -> ProgressFn:
    """Never report a smaller fraction than before (stage estimates are rough)."""
    best = [0.0]

    def _report(fraction: float, message: str) -> None:
        best[0] = max(best[0], min(max(float(fraction), 0.0), 1.0))
        progress(best[0], message)

    return _report


class _Meter:
    """Cumulative progress over weighted stages."""

    def __init__(self, progress: ProgressFn, total: float) -> None:
        self.progress = progress
        self.total = total or 1.0
        self.done = 0.0

    def stage(self, weight: float, prefix: str) -> ProgressFn:
        lo = self.done / self.total
        self.done += weight
        hi = self.done / self.total
        return sub_progress(lambda f, m: self.progress(f, f"{prefix}: {m}"), lo, hi)


def _execute(config: Config, *, simulate: bool, progress: ProgressFn | None,
             cancel: CancelLike | None, on_point: OnPoint | None) -> RunResult:
    t0 = time.perf_counter()
    started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    progress = _monotone(progress or null_progress)
    check_cancel(cancel)
    sim_models = tuple(config.run.simulate) if simulate else ()
    if sim_models:
        check_memory(config)
    points = config.points()
    sweep = config.run.sweep
    seeds = config.run.seeds
    curve_ridges = config.run.theory and config.run.kind == "errors" and sweep is not None \
        and len(sweep.values) > 1
    n_curves = len(config.curve_models())
    total = sum((THEORY_WEIGHT if config.run.theory else 0.0)
                + len(sim_models) * len(seeds) * sim_cost(pt.model) for pt in points)
    total += n_curves * len(config.sweep_values()) * CURVE_WEIGHT * curve_ridges
    meter = _Meter(progress, total)
    log = TheoryLog()
    quantities = KIND_QUANTITIES[config.run.kind]
    ridges: list[tuple[Any, Any] | None] = []
    by_curve: list[list[PointResult]] = [[] for _ in range(n_curves)]
    for point in points:
        here = where(config, point)
        if point.index == 0:
            ridges = [None] * len(config.sweep_values())
            if curve_ridges:
                ridges = _sweep_ridges(
                    config, config.curve_models()[point.curve][1],
                    meter.stage(CURVE_WEIGHT * len(ridges), f"{here}: learning curve"), cancel)
        fields: dict[str, Any] = {}
        if config.run.theory:
            fields = theory_point(point.model, config.numerics, quantities, here, log,
                                  ridge=ridges[point.index], cancel=cancel,
                                  progress=meter.stage(THEORY_WEIGHT, here))
        sims: dict[str, tuple[SimSeed, ...]] = {}
        for name in sim_models:
            out = []
            for si, seed in enumerate(seeds):
                check_cancel(cancel)
                stage = meter.stage(sim_cost(point.model),
                                    f"{here}, {name} seed {si + 1}/{len(seeds)}")
                out.append(simulate_point(config, point, name, seed, progress=stage,
                                          cancel=cancel))
            sims[name] = tuple(out)
        result = PointResult(value=point.value, model=point.model, sims=sims, **fields)
        by_curve[point.curve].append(result)
        progress(meter.done / meter.total, f"{here}: done")
        if on_point is not None:
            on_point(point.curve, point.index, result)
    progress(1.0, "done")
    curves = tuple(CurveResult(label=label, overrides=dict(c.overrides) if c else {},
                               points=tuple(by_curve[ci]))
                   for ci, ((label, _), c) in enumerate(
                       zip(config.curve_models(), config.run.curves or (None,), strict=True)))
    message = ("the theory did not converge at: " + "; ".join(log.failures)
               if log.failures else "ok")
    return RunResult(
        config=config, curves=curves,
        sweep_param=sweep.param if sweep is not None else None,
        sweep_values=tuple(sweep.values) if sweep is not None else (),
        success=not log.failures, message=message,
        elapsed=time.perf_counter() - t0, started=started, versions=versions())


def run(config: Config, *, progress: ProgressFn | None = None,
        cancel: CancelLike | None = None, on_point: OnPoint | None = None) -> RunResult:
    """Run theory (if ``run.theory``) and simulations (``run.simulate`` x ``run.seeds``).

    Parameters
    ----------
    config : Config
    progress : callable or None
        ``progress(fraction, message)``, fraction monotone in [0, 1] over the whole run.
    cancel : CancelToken or None
        Raises :class:`~engine.errors.Cancelled` between chunks once set.
    on_point : callable or None
        ``on_point(curve_index, point_index, PointResult)`` as each point completes.

    Returns
    -------
    RunResult
        ``success`` is False when the theory did not converge somewhere (the points say
        where in ``theory_error``); simulations are complete either way.

    Raises
    ------
    MemoryGuardError
        Before anything is allocated, when the simulations would not fit.
    Cancelled
    """
    return _execute(config, simulate=True, progress=progress, cancel=cancel,
                    on_point=on_point)


def run_theory(config: Config, *, progress: ProgressFn | None = None,
               cancel: CancelLike | None = None,
               on_point: OnPoint | None = None) -> RunResult:
    """Theory only (no simulation, no memory check): fast, used live by the GUI."""
    if not config.run.theory:
        config = config.with_run(theory=True)
    return _execute(config, simulate=False, progress=progress, cancel=cancel,
                    on_point=on_point)


# --------------------------------------------------------------------------- JSON


def _clean(x: Any) -> Any:
    """JSON-safe copy: arrays to lists, NaN/inf to None, numpy scalars to Python."""
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        return v if math.isfinite(v) else None
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return str(x)


def _srf_json(sp: Any) -> dict[str, Any] | None:
    if sp is None:
        return None
    return {"a": sp.a, "pi": sp.pi, "u": sp.u, "s0": sp.s0, "c": sp.c, "s": sp.s,
            "nv": sp.nv, "gamma": sp.gamma, "r0": sp.r0, "constants": dict(sp.constants)}


def _ridge_json(tr: Any) -> dict[str, Any] | None:
    if tr is None:
        return None
    return {"test_error": tr.test_error, "train_error": tr.train_error, "bias": tr.bias,
            "variance": tr.variance, "kappa": tr.kappa, "learned_function": tr.learned_function,
            "target": tr.target, "warnings": list(tr.warnings),
            "convergence": _conv_json(tr.convergence)}


def _conv_json(c: Any) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"success": c.success, "n_iter": c.n_iter, "residual": c.residual,
            "message": c.message}


def _spec_json(ts: Any) -> dict[str, Any]:
    if ts is None:
        return {"grid": None, "density": None, "outliers": None, "edges": None}
    return {"grid": ts.grid, "density": ts.density, "outliers": ts.outliers,
            "outliers_centred": ts.outliers_centred, "edges": ts.edges,
            "atom_zero": ts.atom_zero, "mass": ts.mass,
            "convergence": _conv_json(ts.convergence)}


def _seed_lists(seeds: tuple[SimSeed, ...], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: [getattr(s, name) for s in seeds] for name in names}


_SPECTRUM_SIM = ("eigenvalues", "eigenvalues_before", "outliers", "test_error", "train_error")
_WEIGHTS_SIM = ("weight_eigenvalues", "spike_overlap", "top_overlaps", "test_error",
                "train_error")
_FUNC_SIM = ("kappa_bins", "fhat_mean", "fhat_sem")


def _point_json(pt: PointResult, kind: str, sim_names: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"value": pt.value, "model": pt.model.to_dict(),
                           "theory_error": pt.theory_error}
    tr, rf = pt.theory_ridge, pt.theory_ridge_rf
    if kind == "spectrum":
        theory = _spec_json(pt.theory_spectrum)
        theory["before"] = _spec_json(pt.theory_spectrum_before)
    elif kind == "weights":
        tw = pt.theory_weights
        theory = ({"grid": tw.grid, "density": tw.density, "edges": tw.edges,
                   "atom_zero": tw.atom_zero, "spikes": tw.spikes} if tw is not None else
                  {"grid": None, "density": None, "edges": None, "spikes": None})
    else:
        theory = {}
    theory.update(test_error=None if tr is None else tr.test_error,
                  train_error=None if tr is None else tr.train_error,
                  rf_test_error=None if rf is None else rf.test_error,
                  rf_train_error=None if rf is None else rf.train_error,
                  ridge=_ridge_json(tr), srf_params=_srf_json(pt.srf_params))
    out["theory"] = theory
    names = _SPECTRUM_SIM if kind == "spectrum" else _WEIGHTS_SIM
    for name in sim_names:
        seeds = pt.sims.get(name, ())
        block = {"seeds": [s.seed for s in seeds]}
        block.update(_seed_lists(seeds, names + _FUNC_SIM))
        out[name] = block
    return out


def _curve_json(curve: CurveResult, result: RunResult) -> dict[str, Any]:
    kind = result.config.run.kind
    sim_names = tuple(sorted({k for pt in curve.points for k in pt.sims},
                             key=lambda k: ("network", "srf").index(k)))
    pts = [_point_json(pt, kind, sim_names) for pt in curve.points]
    out: dict[str, Any] = {"label": curve.label, "overrides": curve.overrides}
    if kind == "errors":
        out["sweep"] = {"param": result.sweep_param,
                        "values": list(result.sweep_values) or [None]}
        out["theory"] = {k: [p["theory"][k] for p in pts]
                         for k in ("test_error", "train_error", "rf_test_error",
                                   "rf_train_error")}
        out["theory"]["ridge"] = [p["theory"]["ridge"] for p in pts]
        out["theory"]["srf_params"] = [p["theory"]["srf_params"] for p in pts]
        for name in sim_names:
            out[name] = {k: [p[name][k] for p in pts]
                         for k in ("test_error", "train_error") + _FUNC_SIM}
            out[name]["seeds"] = pts[0][name]["seeds"]
        out["theory_error"] = [p["theory_error"] for p in pts]
    else:
        first = pts[0]
        out["theory"] = first["theory"]
        for name in sim_names:
            out[name] = first[name]
        out["theory_error"] = first["theory_error"]
        if len(pts) > 1:
            out["sweep"] = {"param": result.sweep_param, "values": list(result.sweep_values)}
            out["points"] = pts
    return out


def result_to_json(result: RunResult) -> dict[str, Any]:
    """The CLI's ``--json`` object (docs/configuration.md), JSON-safe (NaN -> null).

    Top level: ``kind``, ``success``, ``message``, ``started``, ``elapsed``, ``versions``,
    ``config``, and the first curve's keys:

    - ``spectrum``: ``theory.{grid, density, outliers, edges, before, test_error, ...}``,
      ``network``/``srf``: ``{eigenvalues: [per seed], eigenvalues_before, outliers, ...}``
      (with a sweep: the first point, and every point under ``points``);
    - ``errors``: ``sweep.{param, values}``, ``theory.{test_error, train_error,
      rf_test_error}`` (one per sweep value), ``network``/``srf``:
      ``{test_error: [[per seed] per sweep value], train_error: ...}``;
    - ``weights``: ``theory.{grid, density, edges, spikes}``, ``network``/``srf``:
      ``{weight_eigenvalues, spike_overlap, top_overlaps}`` per seed.

    With several curves, ``curves`` lists every curve (``label`` + the same keys).
    """
    curves = [_curve_json(c, result) for c in result.curves]
    out: dict[str, Any] = {"kind": result.config.run.kind, "success": result.success,
                           "message": result.message, "started": result.started,
                           "elapsed": result.elapsed, "versions": result.versions,
                           "config": result.config.to_dict()}
    if curves:
        out.update(curves[0])
    if len(curves) > 1:
        out["curves"] = curves
    return _clean(out)
