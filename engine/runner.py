"""Run a :class:`~engine.config.Config`: curves x sweep values x (theory, models x seeds).

The GUI (in a worker thread) and the CLI both call :func:`run`; the GUI's live theory
calls :func:`run_theory`. Progress is one monotone fraction over the whole run, with a
stage text such as ``"curve 1/3, alpha = 0.5, network seed 2/3: features"``; the
weights of the stages are rough flop counts, so the bar moves at a steady pace.

The theory (``engine.theory``, written by another helper) is imported lazily. A
:class:`~engine.errors.ConvergenceError` at a point is recorded in
``PointResult.theory_error`` (with where it happened) and the run continues; the run's
``success`` is then False and its ``message`` lists the failures (the CLI exits 3).
"""

from __future__ import annotations

import datetime as _dt
import math
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy

from engine.config import Config, ModelConfig
from engine.errors import ConvergenceError
from engine.progress import CancelLike, ProgressFn, check_cancel, null_progress, sub_progress
from engine.results import CurveResult, PointResult, RunResult, SimSeed

OnPoint = Callable[[int, int, PointResult], None]


def versions() -> dict[str, str]:
    """App, Python, numpy and scipy versions (written into every result)."""
    import engine

    return {"app": engine.__version__, "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__}


def _fmt(v: Any) -> str:
    if v is None:
        return "large batch"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


@dataclass
class _Plan:
    """The run's points and their relative costs (for the progress fraction)."""

    bases: list[ModelConfig] = field(default_factory=list)
    models: list[list[ModelConfig]] = field(default_factory=list)
    theory_w: float = 0.0
    lc_w: float = 0.0
    sim_w: list[list[float]] = field(default_factory=list)
    total: float = 1.0


def _sim_cost(m: ModelConfig) -> float:
    d, p, n = m.d, m.p, m.n
    flops = 2 * n * d * p + n * p * p + 4 * p**3 + 2 * max(n, 2000) * d * p
    if m.n0 is not None:
        flops += 4 * m.n0 * d * p
    return flops / 1e9 + 0.01


def _plan(config: Config, simulate: bool) -> _Plan:
    plan = _Plan()
    curves = config.run.curves or (None,)
    sweep = config.run.sweep
    values = sweep.values if sweep is not None else (None,)
    n_sims = len(config.run.simulate) * len(config.run.seeds) if simulate else 0
    plan.theory_w = 0.05 if config.run.theory else 0.0
    if config.run.theory and config.run.kind == "errors" and len(values) > 1:
        plan.lc_w = 0.05 * len(values)
    total = 0.0
    for curve in curves:
        base = config.model.with_(**curve.overrides) if curve is not None else config.model
        row = [base.with_(**{sweep.param: v}) if sweep is not None else base for v in values]
        plan.bases.append(base)
        plan.models.append(row)
        costs = [_sim_cost(m) for m in row]
        plan.sim_w.append(costs)
        total += plan.lc_w + sum(plan.theory_w + n_sims * c for c in costs)
    plan.total = total or 1.0
    return plan


def _theory_module():
    """The theory package (one indirection, so tests can substitute a stand-in)."""
    import engine.theory as theory

    return theory



def _call_theory(errors: list[str], failures: list[str], where: str, what: str,
                 fn: Callable[[], Any]) -> Any:
    """Call one theory function; record (not raise) non-convergence.

    Any other exception is a bug and propagates (the GUI shows it with its traceback).
    """
    try:
        return fn()
    except ConvergenceError as exc:
        failures.append(f"{where}, {what}: {exc}")
        errors.append(failures[-1])
    return None


def _theory_point(config: Config, model: ModelConfig, where: str, failures: list[str],
                  ridge_pre: tuple[Any, Any] | None, progress: ProgressFn,
                  cancel: CancelLike | None) -> dict[str, Any]:
    """Every theory quantity the run's kind asks for at one point."""
    kind = config.run.kind
    num = config.numerics
    errors: list[str] = []
    out: dict[str, Any] = {}

    def th():
        return _theory_module()

    out["srf_params"] = th().equivalent_srf(model)  # closed form
    progress(0.05, "theory: sRF constants")
    check_cancel(cancel)
    if kind == "spectrum":
        out["theory_spectrum"] = _call_theory(
            errors, failures, where, "spectrum after the step",
            lambda: th().solve_spectrum(model, num, progress=sub_progress(progress, 0.05, 0.45),
                                        cancel=cancel))
        out["theory_spectrum_before"] = _call_theory(
            errors, failures, where, "spectrum before the step (eta_tilde = 0)",
            lambda: th().solve_spectrum(model.with_(eta_tilde=0.0), num,
                                        progress=sub_progress(progress, 0.45, 0.8),
                                        cancel=cancel))
    if kind == "weights":
        out["theory_weights"] = _call_theory(errors, failures, where, "weights spectrum",
                                             lambda: th().weights_theory(model))
    check_cancel(cancel)
    if ridge_pre is not None:
        out["theory_ridge"], out["theory_ridge_rf"] = ridge_pre
    else:
        out["theory_ridge"] = _call_theory(errors, failures, where, "ridge errors",
                                           lambda: th().solve_ridge(model, num))
        out["theory_ridge_rf"] = _call_theory(
            errors, failures, where, "random-features baseline (eta_tilde = 0)",
            lambda: th().solve_ridge(model.with_(eta_tilde=0.0), num))
    progress(0.9, "theory: ridge")
    out["expressivity"] = _call_theory(errors, failures, where, "expressivity",
                                       lambda: th().expressivity(model, num))
    progress(1.0, "theory done")
    out["theory_error"] = "; ".join(errors) if errors else None
    return out


def _learning_curves(config: Config, base: ModelConfig, progress: ProgressFn,
                     cancel: CancelLike | None
                     ) -> list[tuple[Any, Any] | None]:
    """Ridge theory along the sweep with warm starts (``learning_curve``), after and at
    ``eta_tilde = 0``. A failing curve falls back to per-point solves (returns None
    entries) so that the failure is located at its sweep value."""
    sweep = config.run.sweep
    assert sweep is not None
    n = len(sweep.values)
    try:
        th = _theory_module()
        after = th.learning_curve(base, sweep.param, list(sweep.values), config.numerics,
                                  progress=sub_progress(progress, 0.0, 0.5), cancel=cancel)
        if sweep.param == "eta_tilde":
            rf = th.solve_ridge(base.with_(eta_tilde=0.0), config.numerics)
            before = (rf,) * n
        else:
            before = th.learning_curve(base.with_(eta_tilde=0.0), sweep.param,
                                       list(sweep.values), config.numerics,
                                       progress=sub_progress(progress, 0.5, 1.0), cancel=cancel)
        return list(zip(after, before, strict=True))
    except ConvergenceError:  # solved point by point instead, to pin where it fails
        return [None] * n


def _monotone(progress: ProgressFn) -> ProgressFn:
    """Never report a smaller fraction than before (stage estimates are rough)."""
    best = [0.0]

    def _report(fraction: float, message: str) -> None:
        best[0] = max(best[0], min(max(float(fraction), 0.0), 1.0))
        progress(best[0], message)

    return _report


def _execute(config: Config, *, simulate: bool, progress: ProgressFn | None,
             cancel: CancelLike | None, on_point: OnPoint | None) -> RunResult:
    t0 = time.perf_counter()
    started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    progress = _monotone(progress or null_progress)
    check_cancel(cancel)
    sim_models = tuple(config.run.simulate) if simulate else ()
    if sim_models:
        from engine.memory import check_memory

        check_memory(config)
    plan = _plan(config, bool(sim_models))
    sweep = config.run.sweep
    values = sweep.values if sweep is not None else (None,)
    curves = config.run.curves or (None,)
    kind = config.run.kind
    failures: list[str] = []  # where the theory did not converge
    done = 0.0
    curve_results: list[CurveResult] = []
    n_curves = len(curves)
    for ci, curve in enumerate(curves):
        label = curve.label if curve is not None else ""
        overrides = curve.overrides if curve is not None else {}
        cwhere = f"curve {ci + 1}/{n_curves}" + (f" ({label})" if label else "")
        ridge_pre: list[tuple[Any, Any] | None] = [None] * len(values)
        if plan.lc_w > 0 and sweep is not None:
            lo = done / plan.total
            done += plan.lc_w
            ridge_pre = _learning_curves(
                config, plan.bases[ci],
                sub_progress(lambda f, m, c=cwhere: progress(f, f"{c}: learning curve {m}"),
                             lo, done / plan.total), cancel)
        points: list[PointResult] = []
        for pi, (model, value) in enumerate(zip(plan.models[ci], values, strict=True)):
            where = cwhere + (f", {sweep.param} = {_fmt(value)}" if sweep is not None else "")
            fields: dict[str, Any] = {}
            if config.run.theory:
                lo = done / plan.total
                done += plan.theory_w
                hi = done / plan.total
                fields = _theory_point(
                    config, model, where, failures, ridge_pre[pi],
                    sub_progress(lambda f, m, w=where: progress(f, f"{w}: {m}"), lo, hi),
                    cancel)
            sims: dict[str, tuple[SimSeed, ...]] = {}
            for name in sim_models:
                from engine.network import simulate_network
                from engine.srf import simulate_srf

                fn = simulate_network if name == "network" else simulate_srf
                seeds_out = []
                n_seeds = len(config.run.seeds)
                for si, seed in enumerate(config.run.seeds):
                    check_cancel(cancel)
                    lo = done / plan.total
                    done += plan.sim_w[ci][pi]
                    hi = done / plan.total
                    stage = f"{where}, {name} seed {si + 1}/{n_seeds}"
                    sp = sub_progress(lambda f, m, s=stage: progress(f, f"{s}: {m}"), lo, hi)
                    seeds_out.append(fn(model, seed, spectrum=kind == "spectrum",
                                        before=kind == "spectrum", weights=kind == "weights",
                                        errors=True, n_test=config.run.n_test, progress=sp,
                                        cancel=cancel))
                sims[name] = tuple(seeds_out)
            point = PointResult(value=value, model=model, sims=sims, **fields)
            points.append(point)
            progress(done / plan.total, f"{where}: done")
            if on_point is not None:
                on_point(ci, pi, point)
        curve_results.append(CurveResult(label=label, overrides=dict(overrides),
                                         points=tuple(points)))
    progress(1.0, "done")
    if failures:
        message = "the theory did not converge at: " + "; ".join(failures)
    else:
        message = "ok"
    return RunResult(
        config=config, curves=tuple(curve_results),
        sweep_param=sweep.param if sweep is not None else None,
        sweep_values=tuple(values) if sweep is not None else (),
        success=not failures, message=message,
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
