"""Module-level task functions that run in a worker thread (never in the GUI thread).

They only call the engine and reshape its results for drawing; the heavy numerics are
the engine's. :func:`theory_task` is the live-theory task: it streams the main theory
result first (so the plots redraw at once) and then the extras some plots need
(spectra at a few ``eta_tilde`` for the tail plot, a learning curve when the config
has no sweep, the learned function at a few ``eta_tilde``), each stage cancellable.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from engine.config import Config, ModelConfig
from engine.errors import Cancelled, EngineError
from engine.progress import CancelLike, ProgressFn, check_cancel, sub_progress
from engine.spectra import ccdf_from_density

#: on_point stage indices used by :func:`theory_task` (curve index -1 marks a stage).
STAGE_MAIN = 0
STAGE_SNAPSHOT = 1
STAGE_EXTRAS = 2

#: Points of the automatic learning curve (alpha/beta = n/p from 0.2 to 5).
LC_POINTS = 16


@dataclass(frozen=True)
class TailSeries:
    """Theory complementary CDF of the bulk at one ``eta_tilde``.

    ``ccdf[i]`` is the fraction of eigenvalues above ``grid[i]`` (bulk only).
    """

    eta_tilde: float
    grid: np.ndarray
    ccdf: np.ndarray


@dataclass(frozen=True)
class LearningSeries:
    """A theory learning curve: errors against ``alpha`` for one curve of the config."""

    label: str
    beta: float
    alpha: np.ndarray
    test_error: np.ndarray
    train_error: np.ndarray
    test_error_rf: np.ndarray


@dataclass(frozen=True)
class LearnedSeries:
    """The theory learned function along ``theta`` at one ``eta_tilde``."""

    eta_tilde: float
    kappa: np.ndarray
    learned_function: np.ndarray
    target: np.ndarray


@dataclass(frozen=True)
class TheoryExtras:
    """Everything the live theory adds to :class:`~engine.results.RunResult`."""

    tail: tuple[TailSeries, ...] = ()
    learning: tuple[LearningSeries, ...] = ()
    learned: tuple[LearnedSeries, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class TheoryBundle:
    """Result of :func:`theory_task`.

    Attributes
    ----------
    result : RunResult
        The theory of the configuration as given (sweep, curves, kind).
    snapshot : tuple of PointResult
        One point per curve at the panel's parameters, with spectra and weights.
    extras : TheoryExtras or None
        Filled in the final result (``None`` in the early ``STAGE_MAIN`` message).
    """

    result: Any
    snapshot: tuple[Any, ...] = ()
    extras: TheoryExtras | None = None


def _tail_values(eta: float) -> list[float]:
    if eta <= 0:
        return [0.0, 1.0, 3.0]
    return sorted({0.0, round(0.5 * eta, 3), float(eta), round(2.0 * eta, 3)})


def _curve_models(config: Config) -> list[tuple[str, ModelConfig]]:
    if not config.run.curves:
        return [("", config.model)]
    return [(c.label, config.model.with_(**c.overrides)) for c in config.run.curves]


def theory_task(config: Config, *, progress: ProgressFn | None = None,
                cancel: CancelLike | None = None,
                on_point: Callable[[int, int, Any], None] | None = None,
                extras: bool = True) -> TheoryBundle:
    """Run the theory of ``config`` and the extras the plots need.

    Stages are reported through ``on_point(-1, stage, payload)``: ``STAGE_MAIN`` with a
    :class:`TheoryBundle` of the run's result, ``STAGE_SNAPSHOT`` with the snapshot at the
    panel's parameters added (``STAGE_MAIN`` is skipped when the result is itself the
    snapshot: a spectrum run without sweep), then
    ``STAGE_EXTRAS`` with :class:`TheoryExtras`. A failure of an extra becomes a
    warning; a failure of the main theory raises. ``extras=False`` stops after the
    snapshot (used by tests and by the screenshot of a single tab).
    """
    from engine import runner, theory

    theory_cfg = config.with_run(theory=True)
    result = runner.run_theory(theory_cfg, progress=sub_progress(progress, 0.0, 0.35),
                               cancel=cancel)
    separate_snapshot = not (config.run.sweep is None and config.run.kind == "spectrum")
    if on_point is not None and separate_snapshot:
        # draw the run's own theory at once; the snapshot below may take seconds (K = 4)
        on_point(-1, STAGE_MAIN, TheoryBundle(result, ()))
    # The snapshot: one point per curve at the panel's own parameters with the spectrum
    # (whatever the run's kind), so that every tab has something to show live.
    if not separate_snapshot:
        snap_result = result
    else:
        snap_result = runner.run_theory(theory_cfg.with_run(sweep=None, kind="spectrum"),
                                        progress=sub_progress(progress, 0.35, 0.5),
                                        cancel=cancel)
    warnings: list[str] = []

    def guarded(what: str, fn: Callable[[], Any]) -> Any:
        check_cancel(cancel)
        try:
            return fn()
        except Cancelled:
            raise
        except (EngineError, ArithmeticError, ValueError) as exc:
            warnings.append(f"{what}: {exc}")
            return None

    snapshot = []
    for curve in snap_result.curves:
        point = curve.points[0]
        if point.theory_weights is None:
            tw = guarded("weights theory", lambda m=point.model: theory.weights_theory(m))
            if tw is not None:
                point = replace(point, theory_weights=tw)
        snapshot.append(point)
    seen = set()
    for res in (result, snap_result):
        for curve in res.curves:
            for p in curve.points:
                if p.theory_error and p.theory_error not in seen:
                    seen.add(p.theory_error)
                    warnings.append(p.theory_error)
    if on_point is not None:
        on_point(-1, STAGE_SNAPSHOT, TheoryBundle(result, tuple(snapshot)))

    if not extras:
        return TheoryBundle(result, tuple(snapshot), TheoryExtras(warnings=tuple(warnings)))
    tail: list[TailSeries] = []
    learning: list[LearningSeries] = []
    learned: list[LearnedSeries] = []
    model = config.model
    # A coarser grid keeps the extra spectra to a fraction of a second each.
    coarse = replace(config.numerics, n_grid=min(config.numerics.n_grid, 200))

    # --- tail: spectra at a few eta_tilde (reusing the main result's where possible)
    known: dict[float, Any] = {}
    point = snapshot[0] if snapshot else None
    if point is not None:
        if point.theory_spectrum is not None:
            known[float(point.model.eta_tilde)] = point.theory_spectrum
        if point.theory_spectrum_before is not None:
            known[0.0] = point.theory_spectrum_before
    etas = _tail_values(model.eta_tilde)
    for i, eta in enumerate(etas):
        spec = known.get(float(eta))
        if spec is None:
            spec = guarded(f"tail spectrum at eta_tilde = {eta:g}",
                           lambda eta=eta: theory.solve_spectrum(model.with_(eta_tilde=eta),
                                                                 coarse, cancel=cancel))
        if spec is not None:
            tail.append(TailSeries(float(eta), np.asarray(spec.grid, dtype=float),
                                   ccdf_from_density(spec.grid, spec.density)))
        if progress is not None:
            progress(0.5 + 0.2 * (i + 1) / len(etas), "tail spectra")

    # --- learning curve against alpha when the run does not sweep alpha itself
    sweep = config.run.sweep
    if sweep is None or sweep.param != "alpha":
        models = _curve_models(config)[:4]
        for j, (label, m) in enumerate(models):
            alphas = m.beta * np.geomspace(0.2, 5.0, LC_POINTS)

            def lc(m: ModelConfig = m, alphas: np.ndarray = alphas) -> Any:
                after = theory.learning_curve(m, "alpha", list(alphas), config.numerics,
                                              cancel=cancel)
                rf = theory.learning_curve(m.with_(eta_tilde=0.0), "alpha", list(alphas),
                                           config.numerics, cancel=cancel)
                return ([r.test_error for r in after], [r.train_error for r in after],
                        [r.test_error for r in rf])

            def lc_pointwise(m: ModelConfig = m, alphas: np.ndarray = alphas) -> Any:
                # one failing point should leave a gap, not remove the whole curve
                cols: tuple[list[float], list[float], list[float]] = ([], [], [])
                for a in alphas:
                    check_cancel(cancel)
                    for col, (eta, attr) in zip(cols, ((m.eta_tilde, "test_error"),
                                                       (m.eta_tilde, "train_error"),
                                                       (0.0, "test_error")), strict=True):
                        try:
                            r = theory.solve_ridge(m.with_(alpha=float(a), eta_tilde=eta),
                                                   config.numerics)
                            col.append(float(getattr(r, attr)))
                        except EngineError:
                            col.append(math.nan)
                return cols

            out = guarded(f"learning curve {label or ''}".strip(), lc)
            if out is None:
                out = guarded(f"learning curve {label or ''} (point by point)".strip(),
                              lc_pointwise)
            if out is not None:
                te, tr, te_rf = out
                learning.append(LearningSeries(label, m.beta, alphas,
                                               np.array(te, dtype=float),
                                               np.array(tr, dtype=float),
                                               np.array(te_rf, dtype=float)))
            if progress is not None:
                progress(0.7 + 0.2 * (j + 1) / len(models), "learning curve")

    # --- learned function at a few eta_tilde (only for a single-curve config)
    if not config.run.curves:
        for eta in sorted({0.0, round(0.5 * model.eta_tilde, 3), float(model.eta_tilde)}):
            ridge = guarded(f"learned function at eta_tilde = {eta:g}",
                            lambda eta=eta: theory.solve_ridge(model.with_(eta_tilde=eta),
                                                               config.numerics))
            if ridge is not None and ridge.kappa is not None:
                learned.append(LearnedSeries(float(eta), np.asarray(ridge.kappa, dtype=float),
                                             np.asarray(ridge.learned_function, dtype=float),
                                             np.asarray(ridge.target, dtype=float)))
    if progress is not None:
        progress(1.0, "theory done")
    extras = TheoryExtras(tuple(tail), tuple(learning), tuple(learned), tuple(warnings))
    if on_point is not None:
        on_point(-1, STAGE_EXTRAS, extras)
    return TheoryBundle(result, tuple(snapshot), extras)


def finite_or_nan(x: Any) -> float:
    """A float for display (``None`` and non-numbers become NaN)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v
