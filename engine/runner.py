"""Run a :class:`~engine.config.Config`: its points (curves x sweep or grid), theory and
simulations.

The GUI (in a worker thread) and the CLI both call :func:`run`; the live theory calls
:func:`run_theory` (through :mod:`engine.views`). The points are those of
:meth:`Config.points`. A run solves the theory of every point first (a grid row by row,
:func:`engine.grids.grid_theory`), then its simulations: independent tasks (point,
simulated model, seed) that an :class:`~engine.execution.Execution` runs in this
process, on local worker processes or on a Dask cluster, with the same numbers
(docs/cli.md#where-a-run-executes). With a :class:`~engine.cache.ResultCache` a task
already computed is read, not recomputed. ``on_point`` receives each point as soon as its
theory and all its simulations are done.

Progress is one monotone fraction over the whole run, with a stage text such as
``"curve 1/3, alpha = 0.5, network seed 2/3: features"``; the weights of the stages are
rough flop counts, so the bar moves at a steady pace.

A :class:`~engine.errors.ConvergenceError` of the theory at a point is recorded in
``PointResult.theory_error`` (saying where and what) and the run continues; the run's
``success`` is then False and its ``message`` lists the failures (the CLI exits 3).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy

from engine import theory
from engine.cache import ResultCache, task_document
from engine.config import Config, ModelConfig, NumericsConfig, Point
from engine.errors import ConvergenceError
from engine.execution import Execution, Executor, Task, run_tasks
from engine.grids import grid_theory
from engine.memory import check_memory, check_worker_memory
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
#: Theory of a grid's cells, by run kind (:func:`engine.grids.grid_theory`): scalar
#: summaries, not densities.
GRID_QUANTITIES: dict[str, frozenset[str]] = {
    "spectrum": frozenset({"spectrum"}),
    "weights": frozenset({"weights"}),
    "errors": frozenset({"ridge", "baseline"}),
}

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
    """``"curve 1/2 (label), alpha = 0.5"``: where a point sits, for messages (a grid
    cell: ``"curve 1/1, alpha = 0.5, eta_tilde = 2"``)."""
    n_curves = len(config.curve_models())
    text = f"curve {point.curve + 1}/{n_curves}" + (f" ({point.label})" if point.label else "")
    if config.run.sweep is not None:
        text += f", {config.run.sweep.param} = {format_value(point.value)}"
    elif config.run.grid is not None:
        grid = config.run.grid
        text += (f", {grid.x.param} = {format_value(point.value[0])}, "
                 f"{grid.y.param} = {format_value(point.value[1])}")
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
                cancel: CancelLike | None = None, errors_only: bool = False
                ) -> list[TheoryRidge | None] | None:
    """Ridge theory of ``model`` along ``param`` (warm-started :func:`learning_curve`).

    Returns None when the curve does not converge somewhere: the caller then solves
    point by point, which pins the failure to its value and keeps the other points.
    ``errors_only`` skips the learned function and the weak-direction check.
    """
    try:
        return list(theory.learning_curve(model, param, list(values), numerics,
                                          progress=progress, cancel=cancel,
                                          errors_only=errors_only))
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


def simulate_task(name: str, model: ModelConfig, kind: str, n_test: int | None, seed: int,
                  *, progress: ProgressFn | None = None,
                  cancel: CancelLike | None = None) -> SimSeed:
    """One simulated model at one point and one seed: the unit of work of an executor.

    A module-level function of plain arguments, so that worker processes and Dask
    workers can run it (docs/cli.md#where-a-run-executes).
    """
    return SIMULATORS[name](model, seed, spectrum=kind == "spectrum",
                            before=kind == "spectrum", weights=kind == "weights",
                            errors=True, n_test=n_test, progress=progress, cancel=cancel)


def simulate_point(config: Config, point: Point, name: str, seed: int, *,
                   progress: ProgressFn | None = None,
                   cancel: CancelLike | None = None) -> SimSeed:
    """One simulated model (``"network"`` or ``"srf"``) at one point and one seed."""
    return simulate_task(name, point.model, config.run.kind, config.run.n_test, seed,
                         progress=progress, cancel=cancel)


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
        if not prefix:
            return sub_progress(self.progress, lo, hi)
        return sub_progress(lambda f, m: self.progress(f, f"{prefix}: {m}"), lo, hi)


@dataclass(frozen=True)
class _SimJob:
    """One simulation task of a run: point ``index`` of ``Config.points()``, a model, a
    seed (and its index), its cache document."""

    index: int
    name: str
    seed_index: int
    seed: int
    document: dict[str, Any]


class _Points:
    """Collects each point's theory and simulations; hands a point on when complete."""

    def __init__(self, config: Config, points: Sequence[Point], sim_models: tuple[str, ...],
                 on_point: OnPoint | None) -> None:
        self.points = points
        self.on_point = on_point
        n_seeds = len(config.run.seeds)
        self.fields: list[dict[str, Any] | None] = [None] * len(points)
        self.sims: list[dict[str, list[SimSeed | None]]] = [
            {name: [None] * n_seeds for name in sim_models} for _ in points]
        self.missing = [len(sim_models) * n_seeds] * len(points)
        self.results: list[PointResult | None] = [None] * len(points)

    def theory_done(self, index: int, fields: dict[str, Any]) -> None:
        self.fields[index] = fields
        self._maybe_done(index)

    def sim_done(self, job: _SimJob, seed: SimSeed) -> None:
        self.sims[job.index][job.name][job.seed_index] = seed
        self.missing[job.index] -= 1
        self._maybe_done(job.index)

    def _maybe_done(self, index: int) -> None:
        fields = self.fields[index]
        if fields is None or self.missing[index] > 0 or self.results[index] is not None:
            return
        point = self.points[index]
        sims = {name: tuple(s for s in seeds if s is not None)
                for name, seeds in self.sims[index].items()}
        result = PointResult(value=point.value, model=point.model, sims=sims, **fields)
        self.results[index] = result
        if self.on_point is not None:
            self.on_point(point.curve, point.index, result)

    def by_curve(self, n_curves: int) -> list[list[PointResult]]:
        out: list[list[PointResult]] = [[] for _ in range(n_curves)]
        for point, result in zip(self.points, self.results, strict=True):
            assert result is not None, "a point of the run was never completed"
            out[point.curve].append(result)
        return out


def _sim_jobs(config: Config, points: Sequence[Point], sim_models: tuple[str, ...]
              ) -> list[_SimJob]:
    """Every simulation task, point by point, model by model, seed by seed."""
    kind, n_test = config.run.kind, config.run.n_test
    return [_SimJob(i, name, si, seed, task_document(pt.model, kind, n_test, name, seed))
            for i, pt in enumerate(points) for name in sim_models
            for si, seed in enumerate(config.run.seeds)]


def _theory_weight(config: Config) -> float:
    if not config.run.theory:
        return 0.0
    n_points = len(config.points())
    sweep = config.run.sweep
    curve_ridges = config.run.kind == "errors" and sweep is not None and len(sweep.values) > 1
    return n_points * (THEORY_WEIGHT + (CURVE_WEIGHT if curve_ridges else 0.0))


def _sweep_theory(config: Config, points: Sequence[Point], meter: _Meter, log: TheoryLog,
                  cancel: CancelLike | None, done: Callable[[int, dict[str, Any]], None]
                  ) -> None:
    """Theory point by point (a sweep's ridge errors along each curve, warm-started)."""
    sweep = config.run.sweep
    curve_ridges = config.run.kind == "errors" and sweep is not None and len(sweep.values) > 1
    quantities = KIND_QUANTITIES[config.run.kind]
    ridges: list[tuple[Any, Any] | None] = []
    for i, point in enumerate(points):
        here = where(config, point)
        if point.index == 0:
            ridges = [None] * len(config.sweep_values())
            if curve_ridges:
                ridges = _sweep_ridges(
                    config, config.curve_models()[point.curve][1],
                    meter.stage(CURVE_WEIGHT * len(ridges), f"{here}: learning curve"), cancel)
        done(i, theory_point(point.model, config.numerics, quantities, here, log,
                             ridge=ridges[point.index], cancel=cancel,
                             progress=meter.stage(THEORY_WEIGHT, here)))


def _grid_theory(config: Config, points: Sequence[Point], meter: _Meter, log: TheoryLog,
                 cancel: CancelLike | None, done: Callable[[int, dict[str, Any]], None]
                 ) -> None:
    """Theory of a grid, curve by curve, row by row (:func:`engine.grids.grid_theory`)."""
    grid = config.run.grid
    assert grid is not None
    nx = len(grid.x.values)
    per_curve = grid.size
    curves = config.curve_models()
    for ci, (label, base) in enumerate(curves):
        def on_row(row: Any, ci: int = ci) -> None:
            for ix in range(row.nx):
                index = ci * per_curve + row.iy * nx + ix
                fields: dict[str, Any] = {"srf_params": row.srf[ix], "theory_error": None}
                if row.ridge:
                    fields["theory_ridge"] = row.ridge[ix]
                if row.ridge_rf:
                    fields["theory_ridge_rf"] = row.ridge_rf[ix]
                if row.spectrum:
                    fields["theory_spectrum"] = row.spectrum[ix]
                if row.weights:
                    fields["theory_weights"] = row.weights[ix]
                if row.failures[ix]:
                    message = f"{where(config, points[index])}, {row.failures[ix]}"
                    log.failures.append(message)
                    fields["theory_error"] = message
                done(index, fields)

        prefix = f"curve {ci + 1}/{len(curves)}" + (f" ({label})" if label else "")
        grid_theory(base, grid, config.numerics, quantities=GRID_QUANTITIES[config.run.kind],
                    on_row=on_row, cancel=cancel,
                    progress=meter.stage(THEORY_WEIGHT * per_curve, prefix))


def _simulate(config: Config, points: Sequence[Point], jobs: list[_SimJob],
              executor: Executor, cache: ResultCache | None, progress: ProgressFn,
              cancel: CancelLike | None, done: Callable[[_SimJob, SimSeed], None]) -> None:
    """Run the simulation tasks ``jobs`` on ``executor``; store each result."""
    n_seeds = len(config.run.seeds)
    tasks = [Task(simulate_task, (job.name, points[job.index].model, config.run.kind,
                                  config.run.n_test, job.seed),
                  weight=sim_cost(points[job.index].model),
                  label=f"{where(config, points[job.index])}, {job.name} seed "
                        f"{job.seed_index + 1}/{n_seeds}") for job in jobs]

    def on_result(i: int, seed: SimSeed) -> None:
        if cache is not None:
            cache.put(jobs[i].document, seed)
        done(jobs[i], seed)

    run_tasks(executor, tasks, on_result=on_result, progress=progress, cancel=cancel)


def _check_local_memory(config: Config, execution: Execution, n_tasks: int) -> None:
    """The memory guard for the simulations that will run at once on this machine."""
    workers = execution.worker_count()
    if workers is None:  # a remote cluster: checked per worker once connected
        return
    concurrent = max(1, min(workers, n_tasks))
    isolated = execution.mode == "dask-local" or (
        execution.mode == "processes" and (concurrent > 1 or execution.isolate))
    check_memory(config, concurrent=concurrent, processes=isolated)


def _execute(config: Config, *, simulate: bool, progress: ProgressFn | None,
             cancel: CancelLike | None, on_point: OnPoint | None,
             execution: Execution | None = None,
             cache: ResultCache | None = None) -> RunResult:
    t0 = time.perf_counter()
    started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    progress = _monotone(progress or null_progress)
    check_cancel(cancel)
    execution = execution or Execution.serial()
    sim_models = tuple(config.run.simulate) if simulate else ()
    points = config.points()
    collected = _Points(config, points, sim_models, on_point)
    jobs = _sim_jobs(config, points, sim_models)
    if jobs:
        # Before anything is allocated, and whatever the cache holds: a run's verdict
        # does not depend on what an earlier run left behind.
        _check_local_memory(config, execution, len(jobs))
    missing = []
    for job in jobs:
        seed = cache.get(job.document) if cache is not None else None
        if seed is None:
            missing.append(job)
        else:
            collected.sim_done(job, seed)
    sim_weight = sum(sim_cost(points[job.index].model) for job in missing)
    meter = _Meter(progress, _theory_weight(config) + sim_weight)
    log = TheoryLog()
    with contextlib.ExitStack() as stack:
        # Opened first: a scheduler that cannot be reached fails the run at once, and
        # worker processes start (their imports take a second) while the theory runs.
        executor = stack.enter_context(execution.open(len(missing))) if missing else None
        if executor is not None and execution.mode == "dask":
            # remote workers: each against its own memory limit
            check_worker_memory(config, executor.worker_resources)
        if not config.run.theory:
            for i in range(len(points)):
                collected.theory_done(i, {})
        elif config.run.grid is not None:
            _grid_theory(config, points, meter, log, cancel, collected.theory_done)
        else:
            _sweep_theory(config, points, meter, log, cancel, collected.theory_done)
        if executor is not None:
            _simulate(config, points, missing, executor, cache, meter.stage(sim_weight, ""),
                      cancel, collected.sim_done)
    if cache is not None:
        cache.prune()
    progress(1.0, "done")
    by_curve = collected.by_curve(len(config.curve_models()))
    curves = tuple(CurveResult(label=label, overrides=dict(c.overrides) if c else {},
                               points=tuple(by_curve[ci]))
                   for ci, ((label, _), c) in enumerate(
                       zip(config.curve_models(), config.run.curves or (None,), strict=True)))
    message = ("the theory did not converge at: " + "; ".join(log.failures)
               if log.failures else "ok")
    sweep = config.run.sweep
    return RunResult(
        config=config, curves=curves,
        sweep_param=sweep.param if sweep is not None else None,
        sweep_values=tuple(sweep.values) if sweep is not None else (),
        success=not log.failures, message=message,
        elapsed=time.perf_counter() - t0, started=started, versions=versions())


def run(config: Config, *, progress: ProgressFn | None = None,
        cancel: CancelLike | None = None, on_point: OnPoint | None = None,
        execution: Execution | None = None, cache: ResultCache | None = None) -> RunResult:
    """Run theory (if ``run.theory``) and simulations (``run.simulate`` x ``run.seeds``).

    Parameters
    ----------
    config : Config
    progress : callable or None
        ``progress(fraction, message)``, fraction monotone in [0, 1] over the whole run.
    cancel : CancelToken or None
        Raises :class:`~engine.errors.Cancelled` between chunks once set; simulations on
        worker processes are stopped (their processes terminated if need be) first.
    on_point : callable or None
        ``on_point(curve_index, point_index, PointResult)`` as each point completes
        (its theory and all its simulations; in point order in-process, in completion
        order on workers).
    execution : Execution or None
        Where the simulations run (None: in this process, one after the other).
    cache : ResultCache or None
        Simulation results to reuse and to store (None: no cache).

    Returns
    -------
    RunResult
        ``success`` is False when the theory did not converge somewhere (the points say
        where in ``theory_error``); simulations are complete either way. The result is
        the same wherever the simulations ran (docs/cli.md#where-a-run-executes).

    Raises
    ------
    MemoryGuardError
        Before anything is allocated, when the simulations that would run at once do
        not fit (on a remote cluster: before any task is submitted).
    ExecutionError
        A Dask scheduler cannot be reached, or a worker process died.
    Cancelled
    """
    return _execute(config, simulate=True, progress=progress, cancel=cancel,
                    on_point=on_point, execution=execution, cache=cache)


def run_theory(config: Config, *, progress: ProgressFn | None = None,
               cancel: CancelLike | None = None,
               on_point: OnPoint | None = None) -> RunResult:
    """Theory only (no simulation, no memory check): fast, used live by the GUI."""
    if not config.run.theory:
        config = config.with_run(theory=True)
    return _execute(config, simulate=False, progress=progress, cancel=cancel,
                    on_point=on_point)
