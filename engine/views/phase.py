"""The phase diagram: a heatmap over the two parameters of ``run.grid``.

Its axes (:class:`PhaseAxis`), the theory and the simulated seed statistics at every
cell (:class:`PhaseTheory`, :class:`PhaseSim`), what the plot draws for one choice of
quantity and source (:class:`PhaseLayer`), the view itself (:class:`PhaseView`), and how
it is built from a :class:`~engine.views.theory.TheoryBundle` and from the simulations
of a grid.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from engine.config import Config
from engine.grids import spectral_summary
from engine.results import CurveResult, PointResult, RunResult
from engine.views.base import Table, View, _columns, _param_values, _suffix
from engine.views.theory import TheoryBundle

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


# =========================================================================== building it


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
