"""What the views need from the theory of a configuration, solved stage by stage.

:func:`compute_theory` solves the run's own points (curves x sweep, or a grid's cells),
then a *snapshot* of every curve at the parameters on screen (spectra before and after
the step, weights, ridge errors, expressivity), then the *extras* some views add
(spectra at a few ``eta_tilde`` for the tail, a learning curve against ``alpha`` when
the run does not sweep it, the learned function at a few ``eta_tilde``). It reports
each stage, and each row of a grid's cells, as a :class:`TheoryBundle`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from engine import theory
from engine.config import Config, ModelConfig, NumericsConfig
from engine.errors import ConvergenceError
from engine.progress import CancelLike, ProgressFn, check_cancel, null_progress, sub_progress
from engine.results import PointResult, RunResult
from engine.runner import ALL_QUANTITIES, TheoryLog, ridge_along, run_theory, theory_point
from engine.spectra import ccdf_from_density
from engine.views.runs import partial_result

#: Points of the automatic learning curve (``n/p`` from 0.2 to 5, geometric).
LEARNING_POINTS = 16
#: The tail's extra spectra use a coarser grid: a fraction of a second each.
TAIL_GRID = 200

StageFn = Callable[[str, "TheoryBundle"], None]


@dataclass(frozen=True)
class TailSeries:
    """Theory complementary CDF of the bulk at one ``eta_tilde``.

    ``ccdf[i]`` is the fraction of bulk eigenvalues above ``grid[i]``.
    """

    eta_tilde: float
    grid: np.ndarray
    ccdf: np.ndarray


@dataclass(frozen=True)
class LearningSeries:
    """Theory errors of one curve against ``alpha`` (the automatic learning curve)."""

    label: str
    beta: float
    alpha: np.ndarray
    test_error: np.ndarray
    train_error: np.ndarray
    test_error_rf: np.ndarray


@dataclass(frozen=True)
class LearnedSeries:
    """The theory's learned function along ``theta`` at one ``eta_tilde``."""

    eta_tilde: float
    kappa: np.ndarray
    learned_function: np.ndarray
    target: np.ndarray


@dataclass(frozen=True)
class TheoryBundle:
    """Everything the views need from the theory for one configuration.

    Attributes
    ----------
    config : Config
    run : RunResult or None
        The theory at the run's own points (curves x sweep).
    snapshot : tuple of PointResult
        One point per curve at the parameters on screen, with every quantity.
    tail, learning, learned : tuples
        The extras (empty until their stage is done).
    warnings : tuple of str
        Extras that could not be computed, and theory failures, in words.
    stage : str
        The last stage done: ``"row"`` (a grid, partly solved), ``"run"``,
        ``"snapshot"`` or ``"extras"``.
    """

    config: Config
    run: RunResult | None = None
    snapshot: tuple[PointResult, ...] = ()
    tail: tuple[TailSeries, ...] = ()
    learning: tuple[LearningSeries, ...] = ()
    learned: tuple[LearnedSeries, ...] = ()
    warnings: tuple[str, ...] = ()
    stage: str = ""

    @property
    def failures(self) -> tuple[str, ...]:
        """Where the theory of the run's points did not converge."""
        if self.run is None:
            return ()
        return tuple(p.theory_error for c in self.run.curves for p in c.points
                     if p.theory_error)


def _tail_etas(eta: float) -> list[float]:
    if eta <= 0:
        return [0.0, 1.0, 3.0]
    return sorted({0.0, round(0.5 * eta, 3), float(eta), round(2.0 * eta, 3)})


def _snapshot(config: Config, run: RunResult, log: TheoryLog, progress: ProgressFn,
              cancel: CancelLike | None) -> tuple[PointResult, ...]:
    """Every curve at the parameters on screen, with every theory quantity.

    A run without sweep already holds these points: only what its kind left out is
    added (the weights of a spectrum run, the spectra of an errors run). A grid's cells
    are other parameters: the snapshot is solved at the panel's.
    """
    out = []
    models = config.curve_models()
    for ci, (label, model) in enumerate(models):
        check_cancel(cancel)
        where = f"curve {ci + 1}/{len(models)}" + (f" ({label})" if label else "")
        stage = sub_progress(progress, ci / len(models), (ci + 1) / len(models))
        have = (run.curves[ci].points[0]
                if config.run.sweep is None and config.run.grid is None else None)
        if have is None:
            fields_ = theory_point(model, config.numerics, ALL_QUANTITIES, where, log,
                                   progress=stage, cancel=cancel)
            out.append(PointResult(value=None, model=model, **fields_))
            continue
        missing = {q for q, attr in (("spectrum", "theory_spectrum"),
                                     ("weights", "theory_weights"),
                                     ("ridge", "theory_ridge"),
                                     ("expressivity", "expressivity"))
                   if getattr(have, attr) is None}
        extra = theory_point(model, config.numerics, frozenset(missing), where, log,
                             progress=stage, cancel=cancel)
        extra.pop("srf_params")
        errors = [e for e in (have.theory_error, extra.pop("theory_error")) if e]
        extra = {k: v for k, v in extra.items() if v is not None}
        out.append(replace(have, theory_error="; ".join(errors) or None, **extra))
    return tuple(out)


def _guarded(what: str, fn: Callable[[], Any], warnings_: list[str],
             cancel: CancelLike | None) -> Any:
    """``fn()``, or None after noting in ``warnings_`` why the extra is missing."""
    check_cancel(cancel)
    try:
        return fn()
    except ConvergenceError as exc:
        warnings_.append(f"{what}: {exc}")
        return None


def _tail(config: Config, snapshot: tuple[PointResult, ...], warnings_: list[str],
          cancel: CancelLike | None) -> tuple[TailSeries, ...]:
    """The bulk's complementary CDF at a few ``eta_tilde`` around the current one."""
    model = config.model
    coarse = replace(config.numerics, n_grid=min(config.numerics.n_grid, TAIL_GRID))
    known = {}
    if snapshot:
        first = snapshot[0]
        if first.theory_spectrum is not None:
            known[float(first.model.eta_tilde)] = first.theory_spectrum
        if first.theory_spectrum_before is not None:
            known[0.0] = first.theory_spectrum_before
    out = []
    for eta in _tail_etas(model.eta_tilde):
        spec = known.get(float(eta))
        if spec is None:
            spec = _guarded(f"tail spectrum at eta_tilde = {eta:g}",
                            lambda eta=eta: theory.solve_spectrum(
                                model.with_(eta_tilde=eta), coarse, cancel=cancel),
                            warnings_, cancel)
        if spec is not None:
            out.append(TailSeries(float(eta), np.asarray(spec.grid, dtype=float),
                                  ccdf_from_density(spec.grid, spec.density)))
    return tuple(out)


def _ridge_errors(model: ModelConfig, alphas: np.ndarray, numerics: NumericsConfig,
                  cancel: CancelLike | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Test, train and random-features test errors along ``alphas`` (NaN where the
    theory fails: a gap in the curve, not a missing curve)."""
    cols = []
    for m in (model, model.with_(eta_tilde=0.0)):
        along = ridge_along(m, "alpha", alphas, numerics, cancel=cancel, errors_only=True)
        if along is None:
            along = []
            for a in alphas:
                check_cancel(cancel)
                try:
                    along.append(theory.solve_ridge(m.with_(alpha=float(a)), numerics,
                                                    errors_only=True))
                except ConvergenceError:
                    along.append(None)
        cols.append(along)
    after, rf = cols

    def pick(rs: list[Any], attr: str) -> np.ndarray:
        return np.array([math.nan if r is None else float(getattr(r, attr)) for r in rs])

    return pick(after, "test_error"), pick(after, "train_error"), pick(rf, "test_error")


def _learning(config: Config, warnings_: list[str],
              cancel: CancelLike | None) -> tuple[LearningSeries, ...]:
    """A learning curve against ``alpha`` per curve (at most four), when the run does
    not sweep ``alpha`` itself."""
    sweep = config.run.sweep
    if sweep is not None and sweep.param == "alpha":
        return ()
    out = []
    for label, m in config.curve_models()[:4]:
        check_cancel(cancel)
        alphas = m.beta * np.geomspace(0.2, 5.0, LEARNING_POINTS)
        te, tr, rf = _ridge_errors(m, alphas, config.numerics, cancel)
        if np.all(np.isnan(te)):
            name = f"learning curve ({label})" if label else "learning curve"
            warnings_.append(f"{name}: the theory did not converge at any n/p")
            continue
        out.append(LearningSeries(label, m.beta, alphas, te, tr, rf))
    return tuple(out)


def _learned(config: Config, warnings_: list[str],
             cancel: CancelLike | None) -> tuple[LearnedSeries, ...]:
    """The learned function at ``eta_tilde`` = 0, half the current value and the current
    value (a configuration with one curve only: several curves show their own)."""
    if config.run.curves:
        return ()
    model = config.model
    out = []
    for eta in sorted({0.0, round(0.5 * model.eta_tilde, 3), float(model.eta_tilde)}):
        r = _guarded(f"learned function at eta_tilde = {eta:g}",
                     lambda eta=eta: theory.solve_ridge(model.with_(eta_tilde=eta),
                                                        config.numerics),
                     warnings_, cancel)
        if r is not None:
            out.append(LearnedSeries(float(eta), np.asarray(r.kappa, dtype=float),
                                     np.asarray(r.learned_function, dtype=float),
                                     np.asarray(r.target, dtype=float)))
    return tuple(out)


def _row_stages(config: Config, on_stage: StageFn | None
                ) -> Callable[[int, int, PointResult], None] | None:
    """An ``on_point`` of :func:`run_theory` reporting a ``"row"`` stage after each row
    of a grid's cells (the heatmap fills as the rows come), or None."""
    grid = config.run.grid
    if grid is None or on_stage is None:
        return None
    nx = len(grid.x.values)
    done: dict[tuple[int, int], PointResult] = {}

    def on_point(curve: int, index: int, point: PointResult) -> None:
        done[(curve, index)] = point
        if index % nx == nx - 1:
            on_stage("row", TheoryBundle(config=config, run=partial_result(config, done),
                                         stage="row"))

    return on_point


def compute_theory(config: Config, *, progress: ProgressFn | None = None,
                   cancel: CancelLike | None = None, on_stage: StageFn | None = None,
                   run: RunResult | None = None, extras: bool = True) -> TheoryBundle:
    """Everything the views need from the theory of ``config``, stage by stage.

    Parameters
    ----------
    config : Config
    progress, cancel
        ``progress(fraction, message)``; a cancel token checked between stages.
    on_stage : callable, optional
        ``on_stage(stage, bundle)`` after each stage: ``"row"`` (a grid: after each row
        of cells, the run so far in ``bundle.run``), ``"run"`` (the run's points; only
        when the snapshot needs its own solves), ``"snapshot"`` and ``"extras"``.
    run : RunResult, optional
        A result that already holds the theory of the run's points (the command line's
        run): it is reused instead of solved again.
    extras : bool
        False stops after the snapshot.

    Returns
    -------
    TheoryBundle
        Non-convergence never raises: it is recorded in the run's points and in
        ``warnings``.
    """
    progress = progress or null_progress
    log = TheoryLog()
    if run is None:
        run = run_theory(config, progress=sub_progress(progress, 0.0, 0.35), cancel=cancel,
                         on_point=_row_stages(config, on_stage))
    bundle = TheoryBundle(config=config, run=run, stage="run")
    if on_stage is not None and config.run.sweep is not None:
        on_stage("run", bundle)  # drawn at once: the snapshot may take seconds (K = 4)
    snapshot = _snapshot(config, run, log, sub_progress(progress, 0.35, 0.5), cancel)
    notes = list(bundle.failures)
    notes += [f for f in log.failures if f not in notes]
    bundle = replace(bundle, snapshot=snapshot, warnings=tuple(notes), stage="snapshot")
    if on_stage is not None:
        on_stage("snapshot", bundle)
    if not extras:
        return bundle
    tail = _tail(config, snapshot, notes, cancel)
    progress(0.7, "theory: tail spectra")
    learning = _learning(config, notes, cancel)
    progress(0.9, "theory: learning curve")
    learned = _learned(config, notes, cancel)
    progress(1.0, "theory done")
    bundle = replace(bundle, tail=tail, learning=learning, learned=learned,
                     warnings=tuple(notes), stage="extras")
    if on_stage is not None:
        on_stage("extras", bundle)
    return bundle
