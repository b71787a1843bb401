"""What every view of the app draws, computed from a configuration: the engine's centre.

The desktop app, the headless export and the command line call the same functions, so
a figure and the data file written next to it hold the same numbers:

- :func:`compute_theory` solves everything the views need from the theory for a
  :class:`~engine.config.Config`: the run's own points (curves x sweep), a *snapshot*
  of every curve at the parameters on screen (spectra before and after the step,
  weights, ridge errors, expressivity), and the *extras* some views add (spectra at a
  few ``eta_tilde`` for the tail, a learning curve against ``alpha`` when the run does
  not sweep it, the learned function at a few ``eta_tilde``). It reports its stages,
  so a front end can draw the first ones while the others compute; a grid
  (``run.grid``) also reports each row of its cells as it is solved.
- :func:`theory_views` and :func:`simulation_views` turn a :class:`TheoryBundle` and a
  simulated :class:`~engine.results.RunResult` into the data of each view: theory
  lines, histograms, seed means and standard deviations, outlier positions. They are
  pure and fast (milliseconds), and :func:`combine` puts the two halves together.
- Every view has ``tables()``: what it draws as named tables (column names with
  units, rows), which the app exports and :func:`view_files` writes, one file per view.

Only results of the parameters on screen may be drawn: :func:`simulation_matches`
tells whether a simulation was computed for the points of a configuration.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from engine import theory
from engine.cache import ResultCache
from engine.config import Config, Grid, ModelConfig, NumericsConfig
from engine.errors import ConvergenceError
from engine.execution import Execution
from engine.grids import spectral_summary
from engine.progress import CancelLike, ProgressFn, check_cancel, null_progress, sub_progress
from engine.results import CurveResult, PointResult, RunResult, SimSeed
from engine.runner import ALL_QUANTITIES, TheoryLog, ridge_along, run_theory, theory_point
from engine.spectra import ccdf_from_density, histogram, split_outliers

#: Points of the automatic learning curve (``n/p`` from 0.2 to 5, geometric).
LEARNING_POINTS = 16
#: Bins of the simulated histograms (linear and geometric edges).
HIST_BINS = 60
#: Geometric histograms cover this many decades below the largest bulk eigenvalue.
LOG_DECADES = 3.0
#: The tail's extra spectra use a coarser grid: a fraction of a second each.
TAIL_GRID = 200
#: The spectrum's tail frame: this range of the bulk's right edge (x) on a log density.
TAIL_FRAME = (0.5, 1.15)
#: Rank plots are thinned to about this many markers (geometric in rank: the largest
#: eigenvalues, the tail, keep every point).
TAIL_MARKERS = 300
#: The learned function is shown for ``|kappa| <= LEARNED_KAPPA_SPAN``.
LEARNED_KAPPA_SPAN = 3.2

Table = tuple[list[str], np.ndarray]
#: A plot frame in data units: ``((x_min, x_max), (y_min, y_max))``.
Frame = tuple[tuple[float, float], tuple[float, float]]
StageFn = Callable[[str, "TheoryBundle"], None]


# =========================================================================== theory


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


# =========================================================================== the views


def _suffix(label: str) -> str:
    return f"_{label}" if label else ""


def _columns(names: Iterable[str], *cols: Any) -> Table:
    return list(names), np.column_stack([np.asarray(c, dtype=float) for c in cols])


@dataclass(frozen=True)
class View:
    """Base of the view data: ``name``, the fields filled by the simulation, tables."""

    name: ClassVar[str] = ""
    #: Fields that come from the simulation (the rest from the theory).
    SIM_FIELDS: ClassVar[tuple[str, ...]] = ()

    def tables(self) -> dict[str, Table]:  # pragma: no cover - every view overrides
        """What the view draws: ``{name: (column names with units, rows)}``."""
        raise NotImplementedError

    def is_empty(self) -> bool:
        return not self.tables()


@dataclass(frozen=True)
class Line:
    """A theory curve ``y(x)``."""

    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Histogram:
    """Simulated eigenvalues binned as a density (``edges`` has one more entry).

    The density is normalised by the number of all eigenvalues (outliers included), so
    it overlays a theory density of the same normalisation.
    """

    edges: np.ndarray
    density: np.ndarray


# --------------------------------------------------------------------------- spectrum


@dataclass(frozen=True)
class SpectrumTheory:
    """The theory of one curve at the parameters on screen.

    ``outliers`` are the order-``p`` eigenvalues right of the bulk; mean directions
    whose eigenvalue falls inside the bulk (weak directions) are in ``inside_bulk``.
    """

    curve: int
    label: str
    eta_tilde: float
    after: Line | None
    before: Line | None
    edges: np.ndarray
    edges_before: np.ndarray
    atom_zero: float
    outliers: np.ndarray
    inside_bulk: np.ndarray


@dataclass(frozen=True)
class SpectrumSim:
    """One simulated model of one curve: histograms (linear and geometric bins) of the
    bulk before and after the step, and the outliers pooled over seeds."""

    curve: int
    label: str
    model: str
    eta_tilde: float
    n_seeds: int
    after: Histogram | None
    after_log: Histogram | None
    before: Histogram | None
    before_log: Histogram | None
    outliers: np.ndarray
    outliers_before: np.ndarray


@dataclass(frozen=True)
class SpectrumView(View):
    """Spectrum of the feature covariance ``(1/n) Phi^T Phi``: theory and histograms."""

    name: ClassVar[str] = "spectrum"
    SIM_FIELDS: ClassVar[tuple[str, ...]] = ("sims",)

    theory: tuple[SpectrumTheory, ...] = ()
    sims: tuple[SpectrumSim, ...] = ()
    #: A density height that shows the body of the theory densities (99th percentile
    #: on a uniform grid, x 1.25): a hard edge or the tanh peak would squash the rest.
    y_top: float | None = None

    def right_edge(self) -> float | None:
        """The largest right edge of the bulk (before or after), or None."""
        edges = [float(np.max(e)) for t in self.theory for e in (t.edges, t.edges_before)
                 if np.size(e)]
        return max(edges) if edges else None

    def curves(self) -> list[tuple[int, str]]:
        """The curves with something to draw: ``(index, label)``, in index order."""
        seen: dict[int, str] = {}
        for item in (*self.theory, *self.sims):
            seen.setdefault(item.curve, item.label)
        return sorted(seen.items())

    def outlier_span(self) -> tuple[float, float] | None:
        """Smallest and largest positive outlier (theory and simulation), or None."""
        values = np.concatenate([np.zeros(0), *(t.outliers for t in self.theory),
                                 *(s.outliers for s in self.sims)])
        values = values[np.isfinite(values) & (values > 0)]
        if values.size == 0:
            return None
        return float(values.min()), float(values.max())

    def _histograms(self, log_bins: bool) -> list[Histogram]:
        pairs = [(s.after_log, s.before_log) if log_bins else (s.after, s.before)
                 for s in self.sims]
        return [h for pair in pairs for h in pair if h is not None]

    def _bulk_top(self) -> float | None:
        """The right end of the bulk: the theory's edge, else the histograms' last bin."""
        edge = self.right_edge()
        if edge is not None and edge > 0:
            return edge
        tops = [float(h.edges[-1]) for h in self._histograms(False) if h.edges.size]
        return max(tops) if tops and max(tops) > 0 else None

    def _densities(self, window: tuple[float, float] | None, log_bins: bool,
                   theory: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Positive densities drawn inside ``window`` (all when None): histograms, theory."""
        def inside(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            keep = np.isfinite(y) & (y > 0)
            if window is not None:
                keep &= (x >= window[0]) & (x <= window[1])
            return y[keep]

        hist = [inside(0.5 * (h.edges[:-1] + h.edges[1:]), h.density)
                for h in self._histograms(log_bins)]
        lines = [inside(ln.x, ln.y) for t in self.theory for ln in (t.after, t.before)
                 if ln is not None] if theory else []
        return (np.concatenate([np.zeros(0), *hist]), np.concatenate([np.zeros(0), *lines]))

    def frame(self, *, log_x: bool = False, log_y: bool = False,
              tail: bool = False) -> Frame | None:
        """The ranges that show the bulk, in data units (None when nothing is drawn).

        - default: ``[0, 1.08 x right edge]`` and ``[0, y_top]`` (the body of the
          densities; a hard edge or a narrow peak would squash the rest);
        - ``log_x``: from the first geometric bin (three decades below the bulk's top);
        - ``log_y``: from half the smallest positive histogram density (a floor below
          every drawn bin, where a histogram on a log axis is filled to) to 1.5 x the
          highest bin or ``y_top``;
        - ``tail``: ``TAIL_FRAME`` x the right edge on a log density axis (``log_x`` and
          ``log_y`` are then ignored), the densities inside that window framed.
        """
        top = self._bulk_top()
        if top is None:
            return None
        if tail:
            window = (TAIL_FRAME[0] * top, TAIL_FRAME[1] * top)
            hist, lines = self._densities(window, log_bins=False)
            peak = max([0.0, *(float(a.max()) for a in (hist, lines) if a.size)])
            return window, self._log_range(hist, peak)
        if log_x:
            firsts = [float(h.edges[0]) for h in self._histograms(True)
                      if h.edges.size and h.edges[0] > 0]
            x_range = (min(firsts) if firsts else top * 10.0 ** -LOG_DECADES, 1.15 * top)
        else:
            x_range = (0.0, 1.08 * top)
        hist, _ = self._densities(x_range, log_bins=log_x, theory=False)
        # the theory's body when there is a theory: a histogram bin at a hard edge may
        # overshoot it (it is drawn, clipped at the top), as the density itself does
        body = self.y_top or (1.1 * float(hist.max()) if hist.size else 0.0)
        if log_y:
            # no squashing on a log axis: the highest bin in view sets the top
            return x_range, self._log_range(hist, max(body, float(hist.max()) if hist.size
                                                      else 0.0))
        return x_range, (0.0, body if body > 0 else 1.0)

    @staticmethod
    def _log_range(hist: np.ndarray, top: float) -> tuple[float, float]:
        """``[half the smallest histogram density, 1.5 x top]``; three decades below
        the top when no histogram is drawn."""
        if top <= 0:
            return 10.0 ** -LOG_DECADES, 1.0
        hi = 1.5 * top
        lo = 0.5 * float(hist.min()) if hist.size else hi * 10.0 ** -LOG_DECADES
        return min(lo, 1e-2 * hi), hi

    def tables(self) -> dict[str, Table]:
        out: dict[str, Table] = {}
        for t in self.theory:
            s = _suffix(t.label)
            if t.after is not None:
                out[f"theory_after{s}"] = _columns(["lambda", "rho(lambda)"], t.after.x,
                                                   t.after.y)
            if t.before is not None:
                out[f"theory_before{s}"] = _columns(["lambda", "rho_before(lambda)"],
                                                    t.before.x, t.before.y)
        for sim in self.sims:
            s = _suffix(sim.label)
            for state, h in (("after", sim.after), ("before", sim.before)):
                if h is not None:
                    out[f"histogram_{sim.model}_{state}{s}"] = _columns(
                        ["bin_left", "bin_right", "density"], h.edges[:-1], h.edges[1:],
                        h.density)
        rows = [[t.curve, 1.0, x] for t in self.theory for x in t.outliers]
        rows += [[s.curve, 0.0 if s.model == "network" else 2.0, x]
                 for s in self.sims for x in s.outliers]
        if rows:
            out["outliers"] = (["curve_index", "source (1 theory, 0 network, 2 sRF)",
                                "lambda"], np.asarray(rows, dtype=float))
        return out


# --------------------------------------------------------------------------- tail


@dataclass(frozen=True)
class TailTheory:
    """The bulk's complementary CDF at one ``eta_tilde`` (``current`` on screen)."""

    eta_tilde: float
    current: bool
    grid: np.ndarray
    ccdf: np.ndarray


@dataclass(frozen=True)
class TailSim:
    """A rank plot: the bulk eigenvalues of one seed (ascending) and the fraction of
    eigenvalues at or above each."""

    curve: int
    label: str
    model: str
    eta_tilde: float
    seed: int
    eigenvalues: np.ndarray
    fraction: np.ndarray

    def markers(self, max_points: int = TAIL_MARKERS) -> tuple[np.ndarray, np.ndarray]:
        """The rank plot thinned to at most about ``max_points`` markers.

        Ranks are kept geometrically (evenly spaced on the log fraction axis), so the
        largest eigenvalues, the tail, keep every point and the body a few.
        """
        n = self.eigenvalues.size
        if n <= max_points:
            return self.eigenvalues, self.fraction
        ranks = np.unique(np.geomspace(1, n, max_points).astype(int))  # 1 = the largest
        idx = n - ranks
        return self.eigenvalues[idx], self.fraction[idx]


#: The lowest fraction shown on a tail plot without simulation (one in ten thousand).
TAIL_FLOOR = 1e-4


@dataclass(frozen=True)
class TailView(View):
    """The right tail of the bulk on log-log axes, against ``eta_tilde``."""

    name: ClassVar[str] = "tail"
    SIM_FIELDS: ClassVar[tuple[str, ...]] = ("sims",)

    theory: tuple[TailTheory, ...] = ()
    sims: tuple[TailSim, ...] = ()

    def frame(self) -> Frame | None:
        """The top ``LOG_DECADES`` decades of the spectrum, in data units.

        x: below the largest eigenvalue (simulated, or where a theory CCDF ends); at
        ``n = p`` the spectrum reaches down to ~0 and would add empty decades. y: from
        half the smallest simulated fraction (one eigenvalue) to 1, or ``TAIL_FLOOR``.
        """
        tops = [float(s.eigenvalues.max()) for s in self.sims if s.eigenvalues.size]
        for t in self.theory:
            alive = t.grid[np.isfinite(t.ccdf) & (t.ccdf > 0)]
            if alive.size:
                tops.append(float(alive.max()))
        tops = [t for t in tops if t > 0]
        if not tops:
            return None
        top = max(tops)
        fractions = [float(s.fraction[s.fraction > 0].min()) for s in self.sims
                     if np.any(s.fraction > 0)]
        lo = 0.5 * min(fractions) if fractions else TAIL_FLOOR
        return (top * 10.0 ** -LOG_DECADES, 1.3 * top), (lo, 1.5)

    def tables(self) -> dict[str, Table]:
        out = {f"theory_eta_{t.eta_tilde:g}": _columns(["lambda", "ccdf"], t.grid, t.ccdf)
               for t in self.theory}
        for s in self.sims:
            out[f"sim_{s.model}{_suffix(s.label)}"] = _columns(
                ["lambda", "fraction_geq"], s.eigenvalues, s.fraction)
        return out


# --------------------------------------------------------------------------- learning curves


@dataclass(frozen=True)
class ErrorCurve:
    """Theory errors of one curve against the swept parameter.

    ``x`` are the parameter's values; ``x_per_p`` the same points as ``n/p`` when the
    parameter is ``alpha`` (None otherwise).
    """

    curve: int
    label: str
    x: np.ndarray
    x_per_p: np.ndarray | None
    test: np.ndarray
    train: np.ndarray
    test_rf: np.ndarray | None


@dataclass(frozen=True)
class ErrorPoints:
    """Simulated errors of one model on one curve: seed mean and standard deviation."""

    curve: int
    label: str
    model: str
    x: np.ndarray
    x_per_p: np.ndarray | None
    test_mean: np.ndarray
    test_std: np.ndarray
    train_mean: np.ndarray
    train_std: np.ndarray
    n_seeds: int


@dataclass(frozen=True)
class LearningCurveView(View):
    """Test and training errors against a parameter (``alpha`` unless the run sweeps
    another), theory lines and simulated points, with the random-features baseline."""

    name: ClassVar[str] = "learning_curves"
    SIM_FIELDS: ClassVar[tuple[str, ...]] = ("sims", "sim_param")

    param: str = "alpha"
    theory: tuple[ErrorCurve, ...] = ()
    #: The parameters on screen on an automatic curve: (x, x_per_p, test error).
    current: tuple[float, float | None, float] | None = None
    sims: tuple[ErrorPoints, ...] = ()
    sim_param: str = "alpha"

    def tables(self) -> dict[str, Table]:
        out: dict[str, Table] = {}
        for c in self.theory:
            names, cols = ["x", "test_error", "train_error"], [c.x, c.test, c.train]
            if c.test_rf is not None:
                names.append("test_error_rf")
                cols.append(c.test_rf)
            out[f"theory{_suffix(c.label)}"] = _columns(names, *cols)
        for s in self.sims:
            out[f"sim_{s.model}{_suffix(s.label)}"] = _columns(
                ["x", "test_error_mean", "test_error_std", "train_error_mean",
                 "train_error_std"], s.x, s.test_mean, s.test_std, s.train_mean, s.train_std)
        return out


# --------------------------------------------------------------------------- weights


@dataclass(frozen=True)
class WeightsTheory:
    """Limiting spectrum of ``W1 W1^T`` and the predicted spikes; ``gamma`` is the
    overlap of the spike direction with ``theta``."""

    label: str
    eta_tilde: float
    density: Line
    spikes: np.ndarray
    gamma: float
    y_top: float | None


@dataclass(frozen=True)
class WeightsSim:
    """Simulated ``W1 W1^T`` of one model: bulk histogram, spikes (pooled over seeds),
    and the seed-mean overlaps with ``theta`` (index 0: the learned spike; then the top
    singular vectors of ``W1``)."""

    label: str
    model: str
    n_seeds: int
    bulk: Histogram | None
    spikes: np.ndarray
    overlaps: np.ndarray


@dataclass(frozen=True)
class WeightsView(View):
    """Weights after the step: the spectrum of ``W1 W1^T`` and the alignment with
    ``theta``."""

    name: ClassVar[str] = "weights"
    SIM_FIELDS: ClassVar[tuple[str, ...]] = ("sims",)

    theory: WeightsTheory | None = None
    sims: tuple[WeightsSim, ...] = ()

    def frame(self) -> Frame | None:
        """The bulk of ``W1 W1^T``: from 0 to the end of the theory grid or of the last
        histogram bin, up to the theory's ``y_top`` (the body of a density that can
        diverge at an edge), else the histograms' top; None when nothing is drawn."""
        ends = [float(h.bulk.edges[-1]) for h in self.sims if h.bulk is not None]
        tops = [float(h.bulk.density.max()) for h in self.sims
                if h.bulk is not None and h.bulk.density.size]
        if self.theory is not None and self.theory.density.x.size:
            ends.append(float(self.theory.density.x[-1]))
        if not ends or max(ends) <= 0:
            return None
        top = self.theory.y_top if self.theory is not None else None
        if not top:
            top = 1.1 * max(tops) if tops else 1.0
        return (0.0, 1.02 * max(ends)), (0.0, top)

    def tables(self) -> dict[str, Table]:
        out: dict[str, Table] = {}
        if self.theory is not None:
            out["theory_density"] = _columns(["lambda", "rho(lambda)"], self.theory.density.x,
                                             self.theory.density.y)
            if self.theory.spikes.size:
                out["theory_spikes"] = _columns(["lambda"], self.theory.spikes)
        for s in self.sims:
            if s.bulk is not None:
                out[f"histogram_{s.model}"] = _columns(
                    ["bin_left", "bin_right", "density"], s.bulk.edges[:-1], s.bulk.edges[1:],
                    s.bulk.density)
            if s.overlaps.size:
                out[f"overlaps_{s.model}"] = _columns(["index (0 = learned spike)", "overlap"],
                                                      np.arange(s.overlaps.size), s.overlaps)
        return out


# --------------------------------------------------------------------------- expressivity


@dataclass(frozen=True)
class ExpressivityCurve:
    """Feature means ``mu0(kappa, u_k)`` per atom and the best fit of ``sigma_*`` in
    their span (with ``kappa``); ``r2`` is the target's variance explained."""

    label: str
    kappa: np.ndarray
    mu0: np.ndarray
    atoms: np.ndarray
    u: np.ndarray | None
    target: np.ndarray
    fit: np.ndarray
    r2: float


@dataclass(frozen=True)
class ExpressivityView(View):
    """What the learned features can express along ``theta`` (theory only)."""

    name: ClassVar[str] = "expressivity"

    theory: ExpressivityCurve | None = None

    def tables(self) -> dict[str, Table]:
        ex = self.theory
        if ex is None:
            return {}
        names = ["kappa", *(f"mu0_atom{k}" for k in range(ex.mu0.shape[0])), "target", "fit"]
        return {"expressivity": _columns(names, ex.kappa, *ex.mu0, ex.target, ex.fit)}


# --------------------------------------------------------------------------- learned function


@dataclass(frozen=True)
class LearnedLine:
    """The theory's ``E[f_hat | kappa]`` of one curve or at one ``eta_tilde``."""

    label: str
    eta_tilde: float
    kappa: np.ndarray
    f: np.ndarray


@dataclass(frozen=True)
class LearnedSim:
    """Test predictions binned along ``kappa``: seed mean and its standard error.

    ``line`` is the index of the theory line of the same parameters (same colour).
    """

    curve: int
    label: str
    model: str
    eta_tilde: float
    line: int
    n_seeds: int
    kappa: np.ndarray
    mean: np.ndarray
    err: np.ndarray


@dataclass(frozen=True)
class LearnedFunctionView(View):
    """The trained predictor along ``kappa = <theta, x>`` against the target."""

    name: ClassVar[str] = "learned_function"
    SIM_FIELDS: ClassVar[tuple[str, ...]] = ("sims",)

    theory: tuple[LearnedLine, ...] = ()
    target: Line | None = None
    sims: tuple[LearnedSim, ...] = ()

    @staticmethod
    def kappa_density(points: int = 161) -> Line:
        """The density of ``kappa`` (standard Gaussian) on ``|kappa| <= span``: where the
        data are, so where the fit matters."""
        k = np.linspace(-LEARNED_KAPPA_SPAN, LEARNED_KAPPA_SPAN, points)
        return Line(k, np.exp(-0.5 * k * k) / math.sqrt(2.0 * math.pi))

    def frame(self) -> Frame | None:
        """``|kappa| <= LEARNED_KAPPA_SPAN`` and the range of the target and the theory
        lines there (the simulated means when there is no theory), or None."""
        lines = [(t.kappa, t.f) for t in self.theory]
        if self.target is not None:
            lines.append((self.target.x, self.target.y))
        if not lines:
            lines = [(s.kappa, s.mean) for s in self.sims]
        values = [np.asarray(y, float)[(np.abs(x) <= LEARNED_KAPPA_SPAN) & np.isfinite(y)]
                  for x, y in lines]
        values = [v for v in values if v.size]
        if not values:
            return None
        lo = min(float(v.min()) for v in values)
        hi = max(float(v.max()) for v in values)
        return (-LEARNED_KAPPA_SPAN, LEARNED_KAPPA_SPAN), (lo, hi)

    def tables(self) -> dict[str, Table]:
        out = {f"theory_{i}": _columns(["kappa", "learned_function"], t.kappa, t.f)
               for i, t in enumerate(self.theory)}
        if self.target is not None:
            out["target"] = _columns(["kappa", "sigma_star"], self.target.x, self.target.y)
        for s in self.sims:
            out[f"sim_{s.model}{_suffix(s.label)}"] = _columns(
                ["kappa", "fhat_mean", "fhat_sem"], s.kappa, s.mean, s.err)
        return out


# --------------------------------------------------------------------------- phase diagram

#: Quantities of the phase diagram, in the order the plot offers them.
PHASE_QUANTITIES = ("test_error", "train_error", "gain", "edge_right", "n_outliers",
                    "outlier_max", "gamma")
#: Those a simulation gives at every cell (seed mean and standard deviation).
PHASE_SIM_QUANTITIES = ("test_error", "train_error", "gain")
#: Quantities whose sign matters: a colour range symmetric about 0.
PHASE_SIGNED = frozenset({"gain"})
#: What a layer of the map shows: the theory, or the seed mean or spread of a simulation.
PHASE_SOURCES = ("theory", "mean", "spread")
#: Steps equal to this relative tolerance make an axis linear (or, in log, geometric).
AXIS_STEP_RTOL = 0.02


def _axis_scale(values: tuple[Any, ...]) -> str:
    """``"linear"`` (equal steps), ``"log"`` (equal ratios) or ``"index"`` (neither, one
    value, or the large-batch limit ``None``: cells at 0, 1, 2 … labelled by value)."""
    if len(values) < 2 or any(v is None for v in values):
        return "index"
    a = np.asarray(values, dtype=float)
    for scale, coords in (("linear", a), ("log", np.log10(a) if np.all(a > 0) else None)):
        if coords is None:
            continue
        steps = np.diff(coords)
        if np.all(steps > 0) and np.allclose(steps, steps.mean(), rtol=AXIS_STEP_RTOL, atol=0):
            return scale
    return "index"


@dataclass(frozen=True)
class PhaseAxis:
    """One axis of a phase diagram, placed for drawing.

    The plot's coordinate is the value on a ``"linear"`` axis, ``log10`` of it on a
    ``"log"`` axis (values in geometric progression) and the cell's index on an
    ``"index"`` axis (uneven steps, or ``alpha0 = None``: ticks name the values). Cells
    are equal in that coordinate: ``edges`` (one more than ``values``) bound them.
    """

    param: str
    values: tuple[Any, ...]
    scale: str
    centres: np.ndarray
    edges: np.ndarray

    @classmethod
    def of(cls, param: str, values: tuple[Any, ...]) -> PhaseAxis:
        scale = _axis_scale(values)
        n = len(values)
        if scale == "index":
            centres = np.arange(n, dtype=float)
        else:
            a = np.asarray(values, dtype=float)
            ends = np.log10(a[[0, -1]]) if scale == "log" else a[[0, -1]]
            centres = np.linspace(ends[0], ends[1], n)  # equal cells (steps equal to 2 %)
        half = 0.5 * (centres[1] - centres[0]) if n > 1 else 0.5
        edges = np.append(centres - half, centres[-1] + half)
        return cls(param, tuple(values), scale, centres, edges)

    def coordinate(self, value: Any) -> float | None:
        """The plot coordinate of a parameter value (None: off this axis)."""
        if self.scale == "index":
            for i, v in enumerate(self.values):
                if v == value or (v is not None and value is not None
                                  and math.isclose(float(v), float(value), rel_tol=1e-9)):
                    return float(i)
            return None
        if value is None:
            return None
        value = float(value)
        if self.scale == "log":
            return math.log10(value) if value > 0 else None
        return value

    def index_at(self, coordinate: float) -> int | None:
        """The cell under a plot coordinate, or None outside the map."""
        if not math.isfinite(coordinate):
            return None
        step = (self.edges[-1] - self.edges[0]) / len(self.values)
        i = math.floor((coordinate - self.edges[0]) / step)
        return i if 0 <= i < len(self.values) else None

    def numbers(self) -> np.ndarray:
        """The values as floats (NaN for the large-batch limit)."""
        return _param_values(self.values)


@dataclass(frozen=True)
class PhaseTheory:
    """The theory of one curve at every cell: ``values[q]`` is ``(ny, nx)`` for each of
    :data:`PHASE_QUANTITIES` and ``rf_test_error`` (NaN: not computed yet, not computed
    for this run kind, or not converged). ``rows_done`` rows are complete."""

    curve: int
    label: str
    values: Mapping[str, np.ndarray]
    rows_done: int
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class PhaseSim:
    """One simulated model of one curve: seed mean and standard deviation at every cell.

    ``mean`` and ``std`` hold ``test_error``, ``train_error`` and, when the grid has
    cells at ``eta_tilde = 0`` (an axis of ``eta_tilde`` through 0), ``gain`` against
    those simulated random features, seed by seed. Otherwise the gain is taken against
    the theory's baseline (:meth:`PhaseView.layer`). ``n_seeds`` counts the seeds with a
    value at each cell.
    """

    curve: int
    label: str
    model: str
    n_seeds: np.ndarray
    mean: Mapping[str, np.ndarray]
    std: Mapping[str, np.ndarray]

    @property
    def simulated_baseline(self) -> bool:
        return "gain" in self.mean


@dataclass(frozen=True)
class PhaseLayer:
    """What the plot draws for one choice of quantity, source, curve and model.

    Attributes
    ----------
    values : ndarray
        ``(ny, nx)``, NaN where there is nothing (drawn transparent).
    levels : (float, float) or None
        The colour range: finite minimum and maximum (symmetric about 0 for a signed
        quantity; widened when flat); None when no cell is finite.
    contour : ndarray or None
        The block of rows and columns holding every finite cell, its gaps filled by the
        nearest finite cell, for an isocurve (None below 2 x 2 cells).
    contour_origin : (int, int)
        ``(iy, ix)`` of the block's first cell.
    spread, n_seeds : ndarray or None
        For a seed mean: the standard deviation and the number of seeds at each cell.
    baseline : str
        For the gain: ``"theory"`` or ``"simulated"`` random features; else ``""``.
    """

    quantity: str
    source: str
    values: np.ndarray
    levels: tuple[float, float] | None
    contour: np.ndarray | None
    contour_origin: tuple[int, int]
    spread: np.ndarray | None = None
    n_seeds: np.ndarray | None = None
    baseline: str = ""


def _levels(values: np.ndarray, signed: bool) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    lo, hi = float(finite.min()), float(finite.max())
    if signed:
        top = max(abs(lo), abs(hi))
        lo, hi = -top, top
    if hi - lo <= 1e-12 * max(abs(lo), abs(hi), 1.0):
        pad = 0.5 if abs(hi) < 1.0 else 0.05 * abs(hi)  # a flat map still has a colour bar
        lo, hi = lo - pad, hi + pad
    return lo, hi


def _contour_field(values: np.ndarray) -> tuple[np.ndarray | None, tuple[int, int]]:
    """The finite block of ``values`` with its gaps filled by the nearest finite cell.

    An isocurve through NaN would be drawn along every border of the computed region
    (a map that is still filling, a failed cell); filling the gaps keeps it to the data.
    """
    finite = np.isfinite(values)
    rows, cols = np.flatnonzero(finite.any(axis=1)), np.flatnonzero(finite.any(axis=0))
    if rows.size < 2 or cols.size < 2:
        return None, (0, 0)
    block = values[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    gaps = ~np.isfinite(block)
    if gaps.any():
        from scipy.ndimage import distance_transform_edt

        iy, ix = distance_transform_edt(gaps, return_distances=False, return_indices=True)
        block = block[iy, ix]
    return np.array(block, dtype=float), (int(rows[0]), int(cols[0]))


@dataclass(frozen=True)
class PhaseView(View):
    """A heatmap over the two parameters of ``run.grid`` (empty without a grid).

    ``x`` and ``y`` place the cells (:class:`PhaseAxis`); ``theory`` holds every
    quantity per curve, ``sims`` the simulated seed statistics; ``current`` is where the
    panel's parameters sit on the map, in plot coordinates (None: off the map). The
    theory computes the errors for ``kind = "errors"`` and the spectral summaries (right
    edge, outliers) for ``"spectrum"`` and ``"weights"``; ``gamma`` always.
    """

    name: ClassVar[str] = "phase"
    SIM_FIELDS: ClassVar[tuple[str, ...]] = ("sims",)

    x: PhaseAxis | None = None
    y: PhaseAxis | None = None
    kind: str = "errors"
    current: tuple[float, float] | None = None
    theory: tuple[PhaseTheory, ...] = ()
    sims: tuple[PhaseSim, ...] = ()

    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)`` (``(0, 0)`` without a grid)."""
        if self.x is None or self.y is None:
            return 0, 0
        return len(self.y.values), len(self.x.values)

    def curves(self) -> list[tuple[int, str]]:
        """``(index, label)`` of the curves drawn (theory or simulation)."""
        seen: dict[int, str] = {}
        for item in (*self.theory, *self.sims):
            seen.setdefault(item.curve, item.label)
        return sorted(seen.items())

    def models(self, curve: int = 0) -> list[str]:
        """The simulated models of a curve (network first)."""
        return [s.model for s in self.sims if s.curve == curve]

    def _theory(self, curve: int) -> PhaseTheory | None:
        return next((t for t in self.theory if t.curve == curve), None)

    def _sim(self, curve: int, model: str) -> PhaseSim | None:
        return next((s for s in self.sims if s.curve == curve and s.model == model), None)

    def layer(self, quantity: str, source: str = "theory", *, curve: int = 0,
              model: str = "network") -> PhaseLayer | None:
        """The map of ``quantity`` from ``source`` (:data:`PHASE_SOURCES`), or None when
        there is no such layer (no grid, no simulation, a quantity only the theory has).

        A simulated gain is against the simulated random features when the grid has them
        (``PhaseSim.simulated_baseline``), else against the theory's baseline: the seed
        mean of the test error subtracted from the theory's ``rf_test_error``, with the
        test error's spread.
        """
        if quantity not in PHASE_QUANTITIES or source not in PHASE_SOURCES:
            raise KeyError(f"no phase layer {quantity!r} from {source!r}")
        spread = n_seeds = None
        baseline = ""
        if source == "theory":
            th = self._theory(curve)
            if th is None:
                return None
            values = th.values[quantity]
            baseline = "theory" if quantity == "gain" else ""
        else:
            sim = self._sim(curve, model)
            if sim is None or quantity not in PHASE_SIM_QUANTITIES:
                return None
            mean, std, baseline = self._sim_stats(sim, quantity, curve)
            if mean is None:
                return None
            values, spread, n_seeds = (mean if source == "mean" else std), std, sim.n_seeds
        signed = quantity in PHASE_SIGNED and source != "spread"
        contour, origin = _contour_field(values)
        return PhaseLayer(quantity, source, values, _levels(values, signed), contour, origin,
                          spread, n_seeds, baseline)

    def _sim_stats(self, sim: PhaseSim, quantity: str, curve: int
                   ) -> tuple[np.ndarray | None, np.ndarray | None, str]:
        if quantity != "gain":
            return sim.mean[quantity], sim.std[quantity], ""
        if sim.simulated_baseline:
            return sim.mean["gain"], sim.std["gain"], "simulated"
        th = self._theory(curve)
        if th is None:
            return None, None, ""
        return th.values["rf_test_error"] - sim.mean["test_error"], sim.std["test_error"], \
            "theory"

    def cell_at(self, cx: float, cy: float) -> tuple[int, int] | None:
        """``(ix, iy)`` of the cell under the plot coordinates ``(cx, cy)``, or None."""
        if self.x is None or self.y is None:
            return None
        ix, iy = self.x.index_at(cx), self.y.index_at(cy)
        return None if ix is None or iy is None else (ix, iy)

    def cell_parameters(self, ix: int, iy: int) -> tuple[tuple[str, Any], tuple[str, Any]]:
        """``((x param, value), (y param, value))`` of cell ``(ix, iy)``."""
        assert self.x is not None and self.y is not None
        return (self.x.param, self.x.values[ix]), (self.y.param, self.y.values[iy])

    def tables(self) -> dict[str, Table]:
        """One row per cell (``iy``, ``ix``, the two parameters), a column per quantity:
        ``theory[_label]`` and ``sim_<model>[_label]`` (seed mean, standard deviation, and
        the gain's baseline: 1 simulated ``eta_tilde = 0``, 0 the theory's)."""
        if self.x is None or self.y is None:
            return {}
        ny, nx = self.shape
        iy, ix = np.divmod(np.arange(ny * nx), nx)
        head = ["iy", "ix", self.x.param, self.y.param]
        cells = [iy, ix, self.x.numbers()[ix], self.y.numbers()[iy]]
        out: dict[str, Table] = {}
        for t in self.theory:
            names = [*PHASE_QUANTITIES, "rf_test_error"]
            out[f"theory{_suffix(t.label)}"] = _columns(
                head + names, *cells, *(t.values[q].ravel() for q in names))
        for s in self.sims:
            cols, names = [s.n_seeds.ravel()], ["n_seeds"]
            for q in PHASE_SIM_QUANTITIES:
                layer = self.layer(q, "mean", curve=s.curve, model=s.model)
                mean = layer.values if layer is not None else np.full((ny, nx), math.nan)
                std = layer.spread if layer is not None else np.full((ny, nx), math.nan)
                cols += [mean.ravel(), std.ravel()]
                names += [f"{q}_mean", f"{q}_std"]
            cols.append(np.full(ny * nx, 1.0 if s.simulated_baseline else 0.0))
            names.append("gain_baseline (1 simulated eta_tilde = 0, 0 theory)")
            out[f"sim_{s.model}{_suffix(s.label)}"] = _columns(head + names, *cells, *cols)
        return out


# --------------------------------------------------------------------------- all views


@dataclass(frozen=True)
class Views:
    """The data of every view for one configuration.

    ``seeds`` are the simulated seeds drawn (empty without simulation).
    """

    config: Config
    spectrum: SpectrumView = field(default_factory=SpectrumView)
    tail: TailView = field(default_factory=TailView)
    learning_curves: LearningCurveView = field(default_factory=LearningCurveView)
    weights: WeightsView = field(default_factory=WeightsView)
    expressivity: ExpressivityView = field(default_factory=ExpressivityView)
    learned_function: LearnedFunctionView = field(default_factory=LearnedFunctionView)
    phase: PhaseView = field(default_factory=PhaseView)
    seeds: tuple[int, ...] = ()

    #: The view fields, in the app's tab order.
    NAMES: ClassVar[tuple[str, ...]] = ("spectrum", "tail", "learning_curves", "weights",
                                        "expressivity", "learned_function", "phase")

    def view(self, name: str) -> View:
        """The view called ``name`` (one of :attr:`NAMES`)."""
        if name not in self.NAMES:
            raise KeyError(f"no view called {name!r}; views: {', '.join(self.NAMES)}")
        return getattr(self, name)


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


def _param_values(values: Iterable[Any]) -> np.ndarray:
    return np.array([math.nan if v is None else float(v) for v in values])


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


def _phase_frame(config: Config) -> PhaseView:
    """The axes of ``run.grid`` and where the panel's parameters sit on them (no data)."""
    grid = config.run.grid
    if grid is None:
        return PhaseView()
    x = PhaseAxis.of(grid.x.param, grid.x.values)
    y = PhaseAxis.of(grid.y.param, grid.y.values)
    cx = x.coordinate(getattr(config.model, grid.x.param))
    cy = y.coordinate(getattr(config.model, grid.y.param))
    return PhaseView(x=x, y=y, kind=config.run.kind,
                     current=(cx, cy) if cx is not None and cy is not None else None)


def _grid_cells(config: Config, points: Iterable[PointResult]
                ) -> list[tuple[int, int, PointResult]]:
    """``(iy, ix, point)`` of a curve's grid points, placed by their value ``(x, y)``: a
    partial result holds only the points done, in any order."""
    grid = config.run.grid
    assert grid is not None
    nx = len(grid.x.values)
    free: dict[tuple[Any, Any], list[int]] = {}
    for i, cell in enumerate(grid.cells()):
        free.setdefault(cell, []).append(i)
    out = []
    for p in points:
        slots = free.get(tuple(p.value)) if p.value is not None else None
        if slots:
            iy, ix = divmod(slots.pop(0), nx)
            out.append((iy, ix, p))
    return out


def _phase_curve(config: Config, ci: int, curve: CurveResult) -> PhaseTheory:
    """Every theory quantity of one curve's grid as ``(ny, nx)`` arrays."""
    assert config.run.grid is not None
    ny, nx = config.run.grid.shape
    values = {q: np.full((ny, nx), math.nan) for q in (*PHASE_QUANTITIES, "rf_test_error")}
    failures = []
    cells = _grid_cells(config, curve.points)
    for iy, ix, p in cells:
        if p.theory_ridge is not None:
            values["test_error"][iy, ix] = p.theory_ridge.test_error
            values["train_error"][iy, ix] = p.theory_ridge.train_error
        if p.theory_ridge_rf is not None:
            values["rf_test_error"][iy, ix] = p.theory_ridge_rf.test_error
        if p.srf_params is not None:
            values["gamma"][iy, ix] = p.srf_params.gamma
        summary = spectral_summary(p.theory_spectrum or p.theory_weights)
        if summary is not None:
            for q, v in zip(("edge_right", "n_outliers", "outlier_max"), summary, strict=True):
                values[q][iy, ix] = v
        if p.theory_error:
            failures.append(p.theory_error)
    values["gain"] = values["rf_test_error"] - values["test_error"]
    return PhaseTheory(ci, curve.label, values, rows_done=len(cells) // nx,
                       failures=tuple(failures))


def _phase_theory(bundle: TheoryBundle) -> PhaseView:
    view = _phase_frame(bundle.config)
    if view.x is None or bundle.run is None:
        return view
    return replace(view, theory=tuple(_phase_curve(bundle.config, ci, c)
                                      for ci, c in enumerate(bundle.run.curves)))


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


def _seed_mean_std(per_seed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (``ddof = 1``; 0 for one seed) over axis 0, NaN
    ignored (a seed not simulated yet); NaN where no seed has a value."""
    ok = np.isfinite(per_seed)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, per_seed, 0.0).sum(axis=0) / n
        dev = np.where(ok, per_seed - mean, 0.0)
        std = np.sqrt((dev * dev).sum(axis=0) / (n - 1))
    mean = np.where(n > 0, mean, math.nan)
    return mean, np.where(n >= 2, std, np.where(n == 1, 0.0, math.nan))


def _simulated_baseline(test: np.ndarray, config: Config) -> np.ndarray | None:
    """The simulated test error at ``eta_tilde = 0`` for every cell and seed (the row or
    column of the grid's ``eta_tilde`` axis at 0), or None when the grid has none."""
    grid = config.run.grid
    assert grid is not None
    for axis, dim in ((grid.y, 1), (grid.x, 2)):
        if axis.param == "eta_tilde" and 0.0 in axis.values:
            at_zero = np.take(test, [axis.values.index(0.0)], axis=dim)
            return np.broadcast_to(at_zero, test.shape)
    return None


def _phase_sims(result: RunResult, config: Config) -> tuple[PhaseSim, ...]:
    """Seed statistics of every simulated model at every cell of the grid."""
    grid = config.run.grid
    if grid is None or result.config.run.grid is None:
        return ()
    seeds = sorted({s.seed for c in result.curves for p in c.points
                    for ss in p.sims.values() for s in ss})
    slot = {seed: k for k, seed in enumerate(seeds)}
    ny, nx = grid.shape
    out = []
    for ci, curve in enumerate(result.curves):
        cells = _grid_cells(config, curve.points)
        models = sorted({m for _, _, p in cells for m in p.sims},
                        key=lambda m: (m != "network", m))
        for model in models:
            per_seed = {q: np.full((len(seeds), ny, nx), math.nan)
                        for q in ("test_error", "train_error")}
            for iy, ix, p in cells:
                for s in p.sims.get(model, ()):
                    for q, a in per_seed.items():
                        v = getattr(s, q)
                        a[slot[s.seed], iy, ix] = math.nan if v is None else v
            base = _simulated_baseline(per_seed["test_error"], config)
            if base is not None:
                # seed by seed: the same seed's random features, not another draw
                per_seed["gain"] = base - per_seed["test_error"]
            stats = {q: _seed_mean_std(a) for q, a in per_seed.items()}
            out.append(PhaseSim(
                ci, curve.label, model,
                n_seeds=np.isfinite(per_seed["test_error"]).sum(axis=0),
                mean={q: m for q, (m, _) in stats.items()},
                std={q: s for q, (_, s) in stats.items()}))
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


# =========================================================================== matching, merging


def simulation_key(config: Config) -> tuple[Any, ...]:
    """What a simulation depends on: the points' models (with their curve labels and
    values) and the test-set size. Seeds, models simulated and theory numerics are not
    parameters of the points."""
    return (tuple((p.curve, p.label, p.value, p.model) for p in config.points()),
            config.run.n_test)


def simulation_matches(sim_config: Config, config: Config) -> bool:
    """True when a simulation of ``sim_config`` belongs to the parameters of ``config``."""
    return simulation_key(sim_config) == simulation_key(config)


def partial_result(config: Config, points: Mapping[tuple[int, int], PointResult],
                   template: RunResult | None = None) -> RunResult:
    """A :class:`RunResult` of the points completed so far (streamed simulations)."""
    labels = config.curve_models()
    curves = tuple(CurveResult(label, dict(c.overrides) if c is not None else {},
                               tuple(points[(ci, pi)] for pi in range(len(config.sweep_values()))
                                     if (ci, pi) in points))
                   for ci, ((label, _), c) in enumerate(
                       zip(labels, config.run.curves or (None,), strict=True)))
    sweep = config.run.sweep
    return RunResult(config=config, curves=curves,
                     sweep_param=sweep.param if sweep is not None else None,
                     sweep_values=tuple(sweep.values) if sweep is not None else (),
                     success=True, message="partial", elapsed=0.0,
                     started=template.started if template is not None else "",
                     versions=template.versions if template is not None else {})


_THEORY_FIELDS = ("srf_params", "theory_spectrum", "theory_spectrum_before", "theory_ridge",
                  "theory_ridge_rf", "theory_weights", "expressivity", "theory_error")


def merged_result(theory_run: RunResult | None, sims: RunResult | None) -> RunResult | None:
    """One result with the theory of ``theory_run`` and the simulations of ``sims``
    (for saving and exporting), point by point; either may be None."""
    if sims is None or theory_run is None:
        return sims if sims is not None else theory_run
    curves = []
    for c_sim, c_th in zip(sims.curves, theory_run.curves, strict=False):
        by_value = {i: p for i, p in enumerate(c_th.points)}
        points = []
        for i, p in enumerate(c_sim.points):
            th = by_value.get(i)
            if th is not None and (th.value == p.value or th.value is p.value):
                p = replace(p, **{f: getattr(th, f) for f in _THEORY_FIELDS
                                  if getattr(p, f) is None})
            points.append(p)
        curves.append(replace(c_sim, points=tuple(points)))
    return replace(sims, curves=tuple(curves), success=theory_run.success and sims.success,
                   message=theory_run.message if not theory_run.success else sims.message)


# =========================================================================== files


def _json_table(columns: list[str], rows: np.ndarray) -> dict[str, Any]:
    data = np.asarray(rows, dtype=float).tolist()
    clean = [[v if math.isfinite(v) else None for v in row] for row in data]
    return {"columns": list(columns), "rows": clean}


def view_files(views: Views, provenance: Mapping[str, Any]) -> dict[str, bytes]:
    """One JSON document per view (``view_<name>.json``): its tables and provenance.

    Each table is ``{"columns": [...], "rows": [[...], ...]}`` (non-finite values as
    null), exactly what the app draws and exports for that view, so a figure can be
    remade outside the app.
    """
    out = {}
    for name in Views.NAMES:
        view = views.view(name)
        doc = {"app": "feature-spectrum-lab", "view": name, "provenance": dict(provenance),
               "tables": {k: _json_table(cols, rows) for k, (cols, rows) in
                          view.tables().items()}}
        out[f"view_{name}.json"] = (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode()
    return out


# =========================================================================== live tasks


@dataclass(frozen=True)
class TheoryUpdate:
    """A stage of the live theory: the bundle so far and its views (theory halves)."""

    bundle: TheoryBundle
    views: Views


@dataclass(frozen=True)
class SimulationUpdate:
    """Simulations so far (``done`` once the run is complete) and their views."""

    result: RunResult
    views: Views
    done: bool


def reusable_run(previous: TheoryBundle | None, config: Config) -> RunResult | None:
    """The grid theory of ``previous`` when it is also ``config``'s, else None.

    A grid's cells set both of its parameters, so moving the panel's values of them (a
    click on the phase diagram loads a cell) leaves every cell as it was: the grid,
    seconds of solving, need not be solved again; only the snapshot at the new panel
    values is. The previous run must be complete (its snapshot stage reached), of the
    same kind and numerics, on the same points.
    """
    if previous is None or previous.run is None or config.run.grid is None \
            or previous.stage not in ("snapshot", "extras"):
        return None
    old = previous.config
    if old.run.kind != config.run.kind or old.numerics != config.numerics \
            or not simulation_matches(old, config):
        return None
    return replace(previous.run, config=config)


def live_theory(config: Config, *, progress: ProgressFn | None = None,
                cancel: CancelLike | None = None,
                on_stage: Callable[[str, TheoryUpdate], None] | None = None,
                extras: bool = True, previous: TheoryBundle | None = None) -> TheoryUpdate:
    """:func:`compute_theory` with the views of every stage built as it arrives.

    Meant for a worker thread: the views (numerics included) are computed there, so a
    front end only has to draw them. ``previous`` is the last theory drawn: its grid is
    reused when it is this configuration's (:func:`reusable_run`).
    """
    def stage(name: str, bundle: TheoryBundle) -> None:
        if on_stage is not None:
            on_stage(name, TheoryUpdate(bundle, theory_views(bundle)))

    bundle = compute_theory(config, progress=progress, cancel=cancel, on_stage=stage,
                            extras=extras, run=reusable_run(previous, config))
    return TheoryUpdate(bundle, theory_views(bundle))


def simulate(config: Config, *, progress: ProgressFn | None = None,
             cancel: CancelLike | None = None,
             on_update: Callable[[SimulationUpdate], None] | None = None,
             execution: Execution | None = None,
             cache: ResultCache | None = None) -> SimulationUpdate:
    """Run ``config``'s simulations, reporting the views of the points done so far.

    ``execution`` says where the simulations run (None: in the calling thread). A front
    end that must be able to stop them at once passes worker processes
    (``Execution.local(n, isolate=True)``): a cancel then terminates a worker stuck in a
    LAPACK call, and its memory returns. ``cache`` reuses and stores the tasks' results.

    Returns the final :class:`SimulationUpdate`. Raises what :func:`engine.runner.run`
    raises (``MemoryGuardError`` before anything runs, ``Cancelled``, ``ExecutionError``).
    """
    from engine.runner import run

    done: dict[tuple[int, int], PointResult] = {}

    def on_point(curve: int, index: int, point: PointResult) -> None:
        done[(curve, index)] = point
        if on_update is not None:
            part = partial_result(config, done)
            on_update(SimulationUpdate(part, simulation_views(part, config), False))

    result = run(config, progress=progress, cancel=cancel, on_point=on_point,
                 execution=execution, cache=cache)
    return SimulationUpdate(result, simulation_views(result, config), True)
