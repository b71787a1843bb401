"""The data of each tab's view, and :class:`Views`: every view of one configuration.

One frozen dataclass per tab (spectrum, tail, learning curves, weights, expressivity,
learned function; the phase diagram's is in :mod:`engine.views.phase`): its theory
fields, its simulation fields (``SIM_FIELDS``), the frame that shows them, and
``tables()``, what it draws as named tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from engine.config import Config
from engine.views.base import Frame, Histogram, Line, Table, View, _columns, _suffix
from engine.views.phase import PhaseView

#: Geometric histograms cover this many decades below the largest bulk eigenvalue.
LOG_DECADES = 3.0
#: The spectrum's tail frame: this range of the bulk's right edge (x) on a log density.
TAIL_FRAME = (0.5, 1.15)
#: Rank plots are thinned to about this many markers (geometric in rank: the largest
#: eigenvalues, the tail, keep every point).
TAIL_MARKERS = 300
#: The learned function is shown for ``|kappa| <= LEARNED_KAPPA_SPAN``.
LEARNED_KAPPA_SPAN = 3.2


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
