"""The theory of a two-parameter grid (a phase diagram), computed row by row.

:func:`grid_theory` solves every cell of ``grid.x.values x grid.y.values`` for a model and
hands each finished row (fixed y, every x) to ``on_row``, so that a heatmap fills in as
it goes. Per row:

- ridge errors (``"ridge"``): :func:`engine.theory.learning_curve` along x, warm-started
  from cell to cell; a row that fails somewhere is solved cell by cell instead, so the
  failure is pinned to its cells and the others are kept;
- the random-features baseline (``"baseline"``, ``eta_tilde = 0``): solved once for the
  whole grid when y is ``eta_tilde``, once per row when x is, else along x like the ridge
  errors;
- spectral summaries (``"spectrum"``): the bulk's right edge by the quick estimate
  :func:`engine.theory.spectrum.bulk_right_edge` (a few ms, ~2 % relative accuracy; the
  bulk depends on neither ``lam`` nor ``d``, so it is solved once per distinct model
  without them) and the order-p outliers; no densities;
- the weights' spectrum (``"weights"``): :func:`engine.theory.weights_theory` per cell.

Every cell also gets its sRF parameters (``gamma``, spikes), in closed form.

Rows are independent (each is warm-started along its own x), so with an ``execution`` of
several workers (:class:`~engine.execution.Execution`) they are solved in parallel, one
task per row; ``on_row`` then receives them in completion order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine import theory
from engine.config import Grid, ModelConfig, NumericsConfig
from engine.errors import ConfigError, ConvergenceError
from engine.execution import Execution, Task, run_tasks
from engine.progress import CancelLike, ProgressFn, check_cancel, null_progress
from engine.results import Convergence, SRFParams, TheoryRidge, TheorySpectrum, TheoryWeights
from engine.theory._core import model_data
from engine.theory.spectrum import atom_at_zero, bulk_right_edge, outlier_positions

#: What :func:`grid_theory` can compute at every cell.
GRID_QUANTITIES = ("ridge", "baseline", "spectrum", "weights")

#: The convergence message of a spectral summary (no density was computed).
SUMMARY_MESSAGE = ("grid summary: right edge of the bulk by bulk_right_edge (relative "
                   "accuracy about 2 %) and the order-p outliers; no density")


@dataclass(frozen=True)
class GridRow:
    """The theory of one row of a grid: ``y = grid.y.values[iy]``, every x value.

    Tuples have one entry per x value (None where not computed or failed; empty when the
    quantity was not asked for).

    Attributes
    ----------
    iy : int
    y : Any
        The row's y value.
    srf : tuple of SRFParams
    ridge, ridge_rf : tuple of TheoryRidge or None
        Ridge errors after the step, and the random-features baseline.
    spectrum : tuple of TheorySpectrum or None
        Summaries (:data:`SUMMARY_MESSAGE`): ``edges[:, 1]`` is the bulk's right edge,
        ``outliers`` the order-p outliers; ``grid`` and ``density`` are empty.
    weights : tuple of TheoryWeights or None
    failures : tuple of str or None
        What did not converge at each cell.
    """

    iy: int
    y: Any
    srf: tuple[SRFParams | None, ...]
    ridge: tuple[TheoryRidge | None, ...] = ()
    ridge_rf: tuple[TheoryRidge | None, ...] = ()
    spectrum: tuple[TheorySpectrum | None, ...] = ()
    weights: tuple[TheoryWeights | None, ...] = ()
    failures: tuple[str | None, ...] = ()

    @property
    def nx(self) -> int:
        return len(self.srf)

    def _ridge(self, which: tuple[TheoryRidge | None, ...], attr: str) -> np.ndarray:
        if not which:
            return np.full(self.nx, np.nan)
        return np.array([np.nan if r is None else getattr(r, attr) for r in which], float)

    @property
    def test_error(self) -> np.ndarray:
        """Asymptotic test error per x value (NaN where not computed)."""
        return self._ridge(self.ridge, "test_error")

    @property
    def train_error(self) -> np.ndarray:
        return self._ridge(self.ridge, "train_error")

    @property
    def rf_test_error(self) -> np.ndarray:
        """Test error of the random-features baseline (``eta_tilde = 0``)."""
        return self._ridge(self.ridge_rf, "test_error")

    @property
    def rf_train_error(self) -> np.ndarray:
        return self._ridge(self.ridge_rf, "train_error")

    @property
    def gain(self) -> np.ndarray:
        """Gain over random features: baseline test error minus test error."""
        return self.rf_test_error - self.test_error

    @property
    def gamma(self) -> np.ndarray:
        """Overlap of the learned spike with ``theta`` (1 in the large-batch limit)."""
        return np.array([np.nan if s is None else s.gamma for s in self.srf], float)

    def _summaries(self) -> list[tuple[float, int, float] | None]:
        cells: tuple[Any, ...] = self.spectrum or self.weights or (None,) * self.nx
        return [spectral_summary(c) for c in cells]

    @property
    def edge_right(self) -> np.ndarray:
        """Right edge of the bulk (feature covariance, or ``W1 W1^T`` for ``weights``)."""
        return np.array([np.nan if s is None else s[0] for s in self._summaries()], float)

    @property
    def n_outliers(self) -> np.ndarray:
        """Outliers right of the bulk's edge (order p: they depend on ``d``); -1: unknown."""
        return np.array([-1 if s is None else s[1] for s in self._summaries()], int)

    @property
    def outlier_max(self) -> np.ndarray:
        """The largest outlier (NaN: none, or unknown)."""
        return np.array([np.nan if s is None else s[2] for s in self._summaries()], float)


@dataclass(frozen=True)
class GridTheory:
    """The theory of a whole grid: its rows, and every quantity as an ``(ny, nx)`` array.

    ``array(name)`` stacks a :class:`GridRow` property (``test_error``, ``train_error``,
    ``rf_test_error``, ``rf_train_error``, ``gain``, ``gamma``, ``edge_right``,
    ``n_outliers``, ``outlier_max``) into rows ``[iy][ix]``.
    """

    model: ModelConfig
    grid: Grid
    quantities: frozenset[str]
    rows: tuple[GridRow, ...]

    def array(self, name: str) -> np.ndarray:
        if name not in _ROW_ARRAYS:
            raise KeyError(f"{name!r} is not one of {', '.join(_ROW_ARRAYS)}")
        return np.vstack([getattr(row, name) for row in self.rows])

    @property
    def failures(self) -> list[str]:
        return [f for row in self.rows for f in row.failures if f]


_ROW_ARRAYS = ("test_error", "train_error", "rf_test_error", "rf_train_error", "gain",
               "gamma", "edge_right", "n_outliers", "outlier_max")

OnRow = Callable[[GridRow], None]


def grid_theory(model: ModelConfig, grid: Grid, numerics: NumericsConfig | None = None, *,
                quantities: Collection[str] = ("ridge", "baseline"),
                on_row: OnRow | None = None, progress: ProgressFn | None = None,
                cancel: CancelLike | None = None,
                execution: Execution | None = None) -> GridTheory:
    """The theory at every cell of ``grid`` for ``model``, row by row.

    Parameters
    ----------
    model : ModelConfig
        The base model; cell ``(ix, iy)`` sets ``grid.x.param = grid.x.values[ix]`` and
        ``grid.y.param = grid.y.values[iy]``.
    grid : Grid
    numerics : NumericsConfig, optional
    quantities : collection of str
        Subset of :data:`GRID_QUANTITIES` (module docstring); at most one of
        ``spectrum`` and ``weights``.
    on_row : callable or None
        ``on_row(GridRow)`` as each row completes: in order ``iy = 0, 1, ...`` in this
        process, in completion order on several workers.
    progress : callable or None
        ``progress(fraction, message)`` after every row.
    cancel : CancelToken or None
        Checked between cells (on workers: they are stopped, see
        :func:`engine.execution.run_tasks`).
    execution : Execution or None
        Where the rows are solved (None: in this thread, row after row). Worker processes
        start in about a second: worth it from a few thousand cells.

    Returns
    -------
    GridTheory
        Failures do not stop the grid: they are recorded per cell (``GridRow.failures``)
        and their quantities are None / NaN there.

    Raises
    ------
    Cancelled
    ConfigError
        For an unknown quantity.
    """
    asked = frozenset(quantities)
    unknown = asked - set(GRID_QUANTITIES)
    if unknown or {"spectrum", "weights"} <= asked:
        raise ConfigError("quantities", f"quantities must be a subset of "
                                        f"{', '.join(GRID_QUANTITIES)} with at most one of "
                                        f"spectrum and weights, got {sorted(asked)}")
    numerics = numerics or NumericsConfig()
    progress = progress or null_progress
    solver = _RowSolver(model, grid, numerics, asked, cancel)
    ny = len(grid.y.values)
    if execution is not None and (execution.worker_count() or 2) > 1 and ny > 1:
        return _parallel_rows(solver, execution, on_row, progress, cancel)
    rows = []
    for iy, y in enumerate(grid.y.values):
        check_cancel(cancel)
        row = solver.row(iy, y)
        rows.append(row)
        if on_row is not None:
            on_row(row)
        progress((iy + 1) / ny, f"theory grid: row {iy + 1}/{ny} ({grid.y.param} = "
                                f"{_fmt(y)})")
    return GridTheory(model=model, grid=grid, quantities=asked, rows=tuple(rows))


def _parallel_rows(solver: _RowSolver, execution: Execution, on_row: OnRow | None,
                   progress: ProgressFn, cancel: CancelLike | None) -> GridTheory:
    """One task per row on ``execution``'s workers (what rows share is solved first)."""
    grid = solver.grid
    ny = len(grid.y.values)
    shared = solver.shared_baseline(grid.y.values[0])
    tasks = [Task(grid_row, (solver.model, grid, solver.numerics, solver.quantities, iy,
                             shared), label=f"theory grid: row {iy + 1}/{ny}")
             for iy in range(ny)]
    rows: list[GridRow | None] = [None] * ny

    def on_result(iy: int, row: GridRow) -> None:
        rows[iy] = row
        if on_row is not None:
            on_row(row)

    with execution.open(ny) as executor:
        run_tasks(executor, tasks, on_result=on_result, progress=progress, cancel=cancel)
    return GridTheory(model=solver.model, grid=grid, quantities=solver.quantities,
                      rows=tuple(r for r in rows if r is not None))


def grid_row(model: ModelConfig, grid: Grid, numerics: NumericsConfig,
             quantities: frozenset[str], iy: int,
             shared_baseline: tuple[list[TheoryRidge | None], list[str | None]] | None = None,
             *, progress: ProgressFn | None = None,
             cancel: CancelLike | None = None) -> GridRow:
    """Row ``iy`` of :func:`grid_theory` on its own (the task of a worker).

    ``shared_baseline`` is the baseline row every row shares (y = ``eta_tilde``), solved
    once by the caller.
    """
    solver = _RowSolver(model, grid, numerics, quantities, cancel)
    solver._shared_rf = shared_baseline
    row = solver.row(iy, grid.y.values[iy])
    if progress is not None:
        progress(1.0, f"{grid.y.param} = {_fmt(grid.y.values[iy])}")
    return row


def _fmt(v: Any) -> str:
    return "large batch" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))


class _RowSolver:
    """Solves rows of one grid, keeping what rows share (the baseline, bulk edges)."""

    def __init__(self, model: ModelConfig, grid: Grid, numerics: NumericsConfig,
                 quantities: frozenset[str], cancel: CancelLike | None) -> None:
        self.model = model
        self.grid = grid
        self.numerics = numerics
        self.quantities = quantities
        self.cancel = cancel
        self.px, self.py = grid.x.param, grid.y.param
        self.xs = list(grid.x.values)
        self._shared_rf: tuple[list[TheoryRidge | None], list[str | None]] | None = None
        self._edges: dict[str, float] = {}

    def row(self, iy: int, y: Any) -> GridRow:
        # The row's first cell is a valid model (checked with the config); the base
        # model with only y set need not be (e.g. x = d, y = alpha).
        first = self.model.with_(**{self.px: self.xs[0], self.py: y})
        cells = [first.with_(**{self.px: x}) for x in self.xs]
        failures: list[list[str]] = [[] for _ in cells]
        fields: dict[str, Any] = {"srf": tuple(theory.equivalent_srf(m) for m in cells)}
        if "ridge" in self.quantities:
            ridge, errs = self._along_x(first)
            fields["ridge"] = tuple(ridge)
            _note(failures, errs, "ridge errors")
        if "baseline" in self.quantities:
            rf, errs = self._baseline_row(first)
            fields["ridge_rf"] = tuple(rf)
            _note(failures, errs, "random-features baseline (eta_tilde = 0)")
        if "spectrum" in self.quantities:
            spec, errs = self._cells(cells, self._spectrum_summary)
            fields["spectrum"] = tuple(spec)
            _note(failures, errs, "spectrum summary")
        if "weights" in self.quantities:
            wts, errs = self._cells(cells, theory.weights_theory)
            fields["weights"] = tuple(wts)
            _note(failures, errs, "weights spectrum")
        fields["failures"] = tuple("; ".join(f) if f else None for f in failures)
        return GridRow(iy=iy, y=y, **fields)

    def _along_x(self, first: ModelConfig) -> tuple[list[TheoryRidge | None], list[str | None]]:
        """Ridge along x from ``first`` (warm-started); cell by cell if it fails."""
        try:
            curve = theory.learning_curve(first, self.px, self.xs, self.numerics,
                                          cancel=self.cancel, errors_only=True)
            return list(curve), [None] * len(self.xs)
        except ConvergenceError:
            pass
        out: list[TheoryRidge | None] = []
        errs: list[str | None] = []
        warm: TheoryRidge | None = None
        for x in self.xs:
            check_cancel(self.cancel)
            try:
                warm = theory.solve_ridge(first.with_(**{self.px: x}), self.numerics,
                                          warm=warm, errors_only=True)
                out.append(warm)
                errs.append(None)
            except ConvergenceError as exc:
                out.append(None)
                errs.append(str(exc))
        return out, errs

    def shared_baseline(self, y: Any
                        ) -> tuple[list[TheoryRidge | None], list[str | None]] | None:
        """The baseline row all rows share (y is ``eta_tilde``), else None."""
        if "baseline" not in self.quantities or self.py != "eta_tilde":
            return None
        first = self.model.with_(**{self.px: self.xs[0], self.py: y})
        return self._baseline_row(first)

    def _baseline_row(self, first: ModelConfig
                      ) -> tuple[list[TheoryRidge | None], list[str | None]]:
        nx = len(self.xs)
        if self.py == "eta_tilde":
            # The baseline sets eta_tilde = 0: every row has the same one.
            if self._shared_rf is None:
                self._shared_rf = self._along_x(first.with_(eta_tilde=0.0))
            return self._shared_rf
        if self.px == "eta_tilde":
            check_cancel(self.cancel)
            try:
                rf = theory.solve_ridge(first.with_(eta_tilde=0.0), self.numerics,
                                        errors_only=True)
                return [rf] * nx, [None] * nx
            except ConvergenceError as exc:
                return [None] * nx, [str(exc)] * nx
        return self._along_x(first.with_(eta_tilde=0.0))

    def _cells(self, cells: list[ModelConfig], fn: Callable[[ModelConfig], Any]
               ) -> tuple[list[Any], list[str | None]]:
        out: list[Any] = []
        errs: list[str | None] = []
        for m in cells:
            check_cancel(self.cancel)
            try:
                out.append(fn(m))
                errs.append(None)
            except ConvergenceError as exc:
                out.append(None)
                errs.append(str(exc))
        return out, errs

    def _spectrum_summary(self, m: ModelConfig) -> TheorySpectrum:
        D = model_data(m, self.numerics)
        # The bulk depends on neither lam nor d (only the outliers' positions p*eig do).
        key = json.dumps({k: v for k, v in m.to_dict().items() if k not in ("lam", "d")},
                         sort_keys=True)
        edge = self._edges.get(key)
        if edge is None:
            edge = self._edges[key] = bulk_right_edge(D, self.numerics)
        empty = np.zeros(0)
        return TheorySpectrum(
            model=m, grid=empty, density=empty, edges=np.array([[math.nan, edge]]),
            atom_zero=atom_at_zero(D), outliers=outlier_positions(D, m.p),
            outliers_centred=outlier_positions(D, m.p, centred=True), mass=math.nan,
            convergence=Convergence(True, 0, 0.0, SUMMARY_MESSAGE))


def _note(failures: list[list[str]], errs: list[str | None], what: str) -> None:
    for cell, err in zip(failures, errs, strict=True):
        if err:
            cell.append(f"{what}: {err}")


def spectral_summary(spectrum: TheorySpectrum | TheoryWeights | None
                     ) -> tuple[float, int, float] | None:
    """``(edge_right, n_outliers, outlier_max)`` of a theory spectrum (None: None).

    ``n_outliers`` counts the outliers (order-p outliers of the features, or the spikes of
    ``W1 W1^T``) right of the bulk's right edge; ``outlier_max`` is the largest of them
    (NaN: none).
    """
    if spectrum is None:
        return None
    edge = float(spectrum.edges[:, 1].max())
    spikes = spectrum.outliers if isinstance(spectrum, TheorySpectrum) else spectrum.spikes
    above = np.asarray(spikes, float)
    above = above[above > edge]
    return edge, int(above.size), float(above.max()) if above.size else math.nan
