"""Spectrum of the feature covariance ``(1/n) Phi^T Phi``: histograms against the theory.

Before the step (``eta_tilde = 0``) is dashed, after the step solid; overlaid in one
panel or side by side (option ``overlay``). Several curves (a preset's curves) are drawn
as small multiples, one panel per curve on shared axes (option ``curves = "panels"``),
or in one panel with unfilled histograms (``"overlay"``). Option ``view = "tail"``
frames the bulk's right edge, ``[0.5, 1.15]`` x the edge, on a log density axis.

On a log x axis the histograms are the engine's geometric bins; on a log density axis
they are filled down to a floor below their smallest bin (filling to zero is filling to
``10**0 = 1`` there). Outliers are of order ``p``, far right of the bulk: they have
their own narrow panel (:mod:`gui.plots.outliers`), one labelled row per source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QToolButton, QWidget

from engine.views import Histogram, SpectrumSim, SpectrumTheory, SpectrumView
from gui.plots.axes import set_log_ticks
from gui.plots.base import NEUTRAL, Panel, PlotBase, legend_font_size, mkbrush, mkpen
from gui.plots.legend import CompactLegend, LegendEntry
from gui.plots.outliers import OutlierStrip
from gui.plots.text import ETA, LAMBDA, curve_label, fmt_list, fmt_num, seeds_text
from gui.style import PlotStyle

RHO = "ρ(λ)"
X_LABEL = f"{LAMBDA}  (eigenvalue of Φᵀ Φ / n)"
Y_LABEL = f"density  {RHO}"
#: Most panels of small multiples; more curves are overlaid in one panel instead.
MAX_PANELS = 8
DASH = Qt.PenStyle.DashLine
DOT = Qt.PenStyle.DotLine


@dataclass(frozen=True)
class Cell:
    """One bulk panel of the figure: which curves and which states it shows, and
    whether it carries its own legend (small multiples share one below them)."""

    curves: tuple[int, ...]
    states: tuple[str, ...]
    title: str
    legend: bool


@dataclass(frozen=True)
class Plan:
    """The bulk panels, their grid shape ``(rows, columns)`` and whether they are small
    multiples (one panel per curve)."""

    cells: list[Cell]
    shape: tuple[int, int]
    multiples: bool

    @property
    def shared_key(self) -> bool:
        """Several panels share one key, in a row below them: a legend inside a small
        panel would be shrunk or squeeze the data."""
        return len(self.cells) > 1


class SpectrumPlot(PlotBase):
    """Histogram of eigenvalues with the theory density, before and after the step."""

    name = "spectrum"
    title = "Spectrum"
    OPTIONS = {**PlotBase.OPTIONS, "overlay": (True, False), "view": ("bulk", "tail"),
               "curves": ("panels", "overlay")}

    def _build(self) -> pg.GraphicsView:
        view = pg.GraphicsLayoutWidget()
        self._grid = view.ci.layout
        self._grid.setHorizontalSpacing(4)
        self._bulk: list[Panel] = []
        self._arranged: tuple[Any, ...] | None = None
        self._outliers = OutlierStrip(self, view.ci)
        # the shared key of several panels (Plan.shared_key)
        self._key = CompactLegend(None)
        self._key.hide()
        self._bulk_panel(0)
        return view

    def _controls(self) -> list[QWidget]:
        # the tail view one click away, next to the figure (not only in a menu)
        self.tail_button = QToolButton()
        self.tail_button.setText("Right edge")
        self.tail_button.setCheckable(True)
        self.tail_button.setToolTip("Frame the bulk's right edge and tail, [0.5, 1.15] x "
                                    "the edge, on a log density axis")
        self.tail_button.toggled.connect(self._on_tail_button_toggled)
        return [self.tail_button]

    def _sync_controls(self) -> None:
        tail = self.options["view"] == "tail"
        if self.tail_button.isChecked() != tail:
            blocked = self.tail_button.blockSignals(True)
            self.tail_button.setChecked(tail)
            self.tail_button.blockSignals(blocked)

    @Slot(bool)
    def _on_tail_button_toggled(self, checked: bool) -> None:
        self.set_option("view", "tail" if checked else "bulk")

    def apply_style(self, style: PlotStyle) -> None:
        key = getattr(self, "_key", None)
        if key is not None:
            key.set_look(text_color=style.foreground, text_size_pt=legend_font_size(style),
                         background=mkbrush(style.background, 0),
                         border=mkpen(style.foreground, 0.5, alpha=0))
        super().apply_style(style)

    def _bulk_panel(self, i: int) -> Panel:
        """Bulk panel ``i``, created on first use.

        The panels share one zoom group (a zoom in one is copied to the others), not
        pyqtgraph's axis links: linked views of different heights (a panel with an x
        axis under it, one without) are aligned on screen, which shifts their ranges.
        """
        while len(self._bulk) <= i:
            k = len(self._bulk)
            item = pg.PlotItem()  # parented by the grid when arranged
            panel = self._add_panel(f"bulk{k}", item, group="bulk", legend=True,
                                    readout=(LAMBDA, RHO))
            self._bulk.append(panel)
        return self._bulk[i]

    # ================================================================== layout
    def _plan(self, view: SpectrumView | None) -> Plan:
        """The bulk panels: curves x states, and their grid shape."""
        curves = view.curves() if view is not None else []
        labels = {ci: curve_label(label, ci) for ci, label in curves}
        overlay = bool(self.options["overlay"])
        states = [("before", "after")] if overlay else [("before",), ("after",)]
        multiples = (self.options["curves"] == "panels"
                     and 1 < len(curves) <= MAX_PANELS // len(states))
        groups = ([(ci,) for ci, _ in curves] if multiples
                  else [tuple(ci for ci, _ in curves)])
        cells = [Cell(group, st, self._cell_title(group, st, labels, multiples),
                      legend=len(groups) * len(states) == 1)
                 for group in groups for st in states]
        if len(groups) == 1:
            shape = (1, len(states))
        elif overlay:
            cols = math.ceil(math.sqrt(len(groups)))
            shape = (math.ceil(len(groups) / cols), cols)
        else:
            shape = (len(groups), 2)
        return Plan(cells, shape, multiples)

    def _cell_title(self, group: tuple[int, ...], states: tuple[str, ...],
                    labels: dict[int, str], multiples: bool) -> str:
        which = ("before (dashed) / after (solid)" if len(states) == 2
                 else "before the step" if states == ("before",) else "after the step")
        if self.options["view"] == "tail":
            which = "right edge and tail" + ("" if len(states) == 2 else f", {states[0]}")
        if multiples and group:
            name = labels.get(group[0], "")
            short = "" if len(states) == 2 else f" · {states[0]}"
            return f"{name}{short}" if name else which
        return which

    def _arrange(self, plan: Plan, outliers: bool) -> None:
        """Put the used panels in the grid (others hidden), the outlier strip at right,
        the shared key of small multiples below.

        Panels are never deleted: removed from the grid and hidden (a PlotItem deleted
        while its scene lives can crash PySide6 at exit).
        """
        n_cells = max(len(plan.cells), 1)
        key = (plan.shape, n_cells, outliers, plan.shared_key)
        if key == self._arranged:
            return
        self._arranged = key
        rows, cols = plan.shape
        grid = self._grid
        placed = {grid.itemAt(i) for i in range(grid.count())}
        for item in (*(p.item for p in self._bulk), self._outliers.panel.item, self._key):
            if item in placed:
                grid.removeItem(item)
        for i in range(n_cells):
            panel = self._bulk_panel(i)
            grid.addItem(panel.item, i // cols, i % cols)
            panel.item.show()
        for panel in self._bulk[n_cells:]:
            panel.item.hide()
        if plan.shared_key:
            grid.addItem(self._key, rows, 0, 1, cols, Qt.AlignmentFlag.AlignHCenter)
        self._key.setVisible(plan.shared_key)
        self._outliers.place(grid, rows, cols, outliers)
        for c in range(grid.columnCount()):
            grid.setColumnStretchFactor(c, 4 if c < cols else (1 if c == cols else 0))
        for r in range(grid.rowCount()):
            grid.setRowStretchFactor(r, 1 if r < rows else 0)

    # ================================================================== drawing
    def _axes_modes(self) -> tuple[bool, bool, bool]:
        tail = self.options["view"] == "tail"
        if tail:
            return False, True, True
        return bool(self.options["log_x"]), bool(self.options["log_y"]), False

    def _redraw(self) -> None:
        view = self.view if isinstance(self.view, SpectrumView) else None
        self._begin()
        plan = self._plan(view)
        span = view.outlier_span() if view is not None else None
        self._arrange(plan, span is not None)
        log_x, log_y, tail = self._axes_modes()
        frame = view.frame(log_x=log_x, log_y=log_y, tail=tail) if view is not None else None
        for i, cell in enumerate(plan.cells):
            panel = self._bulk[i]
            panel.set_log(log_x, log_y)
            fixed = self._frame(panel, frame)
            drawn = self._draw_cell(panel, cell, view, frame) if view is not None else []
            self._decorate(panel, i, plan, cell)
            self._fit_legend(panel, cell, view, drawn, frame, fixed)
        self._shared_key(plan, view)
        if view is not None and span is not None:
            self._outliers.draw(view, span, self._color)
        self._end()
        self._after_redraw()

    def _draw_cell(self, panel: Panel, cell: Cell, view: SpectrumView,
                   frame: Any) -> list[tuple[Any, Any]]:
        """Every layer of one bulk panel; returns the values drawn (for the legend)."""
        shared = len(cell.curves) > 1
        drawn: list[tuple[Any, Any]] = []
        for t in view.theory:
            if t.curve in cell.curves:
                drawn += self._draw_theory(panel, t, cell.states, shared)
        sims = [s for s in view.sims if s.curve in cell.curves]
        fill_to = self._fill_level(panel, frame)
        for s in sims:
            drawn += self._draw_sim(panel, s, cell.states, shared, fill_to)
        if "before" in cell.states:
            drawn += self._draw_sim_before(panel, sims)
        if self.options["view"] == "tail" and "after" in cell.states and frame is not None:
            drawn += self._draw_edges(panel, view, cell, frame)
        return drawn

    def _draw_theory(self, panel: Panel, t: SpectrumTheory, states: tuple[str, ...],
                     shared: bool) -> list[tuple[Any, Any]]:
        st = self._style
        color = self._color(t.curve)
        series = (f"curve:{t.curve}",)
        out = []
        if "after" in states and t.after is not None:
            panel.pool.line(f"theory_after/{t.curve}", t.after.x, t.after.y,
                            mkpen(color, st.line_width), z=5, series=("theory_after", *series))
            out.append((t.after.x, t.after.y))
        if "before" in states and t.before is not None:
            pen = mkpen(color if shared else st.foreground, st.line_width * 0.8, DASH, 200)
            panel.pool.line(f"theory_before/{t.curve}", t.before.x, t.before.y, pen, z=4,
                            series=("theory_before", *series))
            out.append((t.before.x, t.before.y))
        return out

    def _fill_level(self, panel: Panel, frame: Any) -> float:
        """Where histograms are filled to: 0, or on a log axis the frame's floor (which
        is below the smallest bin), in view coordinates."""
        if not panel.log[1]:
            return 0.0
        floor = frame[1][0] if frame is not None else 1e-3
        return math.log10(floor)

    def _hist(self, s: SpectrumSim, state: str) -> Histogram | None:
        log_bins = bool(self.options["log_x"]) and self.options["view"] != "tail"
        if state == "after":
            return s.after_log if log_bins else s.after
        return s.before_log if log_bins else s.before

    def _draw_sim(self, panel: Panel, s: SpectrumSim, states: tuple[str, ...], shared: bool,
                  fill_to: float) -> list[tuple[Any, Any]]:
        """The simulated bulk after the step: the network filled, the sRF model as an
        outline (both filled would mix into a third colour)."""
        h = self._hist(s, "after") if "after" in states else None
        if h is None:
            return []
        st = self._style
        color = self._color(s.curve)
        key = f"hist_{s.model}/{s.curve}"
        series = (s.model, f"curve:{s.curve}")
        if s.model == "network" and not shared:
            panel.pool.step(key, h.edges, h.density, mkpen(color, 1.0, alpha=200),
                            fill_level=fill_to, brush=mkbrush(color, st.histogram_alpha),
                            z=1, series=series)
        else:
            pen = (mkpen(color, 1.2, DOT if s.model == "srf" else Qt.PenStyle.SolidLine, 220)
                   if shared else mkpen(NEUTRAL, 1.3))
            panel.pool.step(key, h.edges, h.density, pen, z=2, series=series)
        return _step_points(h)

    def _draw_sim_before(self, panel: Panel, sims: list[SpectrumSim]) -> list[tuple[Any, Any]]:
        """The simulated bulk before the step, once per curve: both models start from
        the same weights, so the network's histogram stands for both."""
        out = []
        for curve in sorted({s.curve for s in sims}):
            mine = sorted((s for s in sims if s.curve == curve),
                          key=lambda s: s.model != "network")
            h = next((self._hist(s, "before") for s in mine
                      if self._hist(s, "before") is not None), None)
            if h is None:
                continue
            pen = mkpen(self._style.foreground, 1.0, DASH, 150)
            panel.pool.step(f"hist_before/{curve}", h.edges, h.density, pen, z=1,
                            series=("sim_before", f"curve:{curve}"))
            out += _step_points(h)
        return out

    def _draw_edges(self, panel: Panel, view: SpectrumView, cell: Cell,
                    frame: Any) -> list[tuple[Any, Any]]:
        """The theory's right edge after the step, a dotted vertical line (tail view)."""
        (_, _), (y0, y1) = frame
        out = []
        for t in view.theory:
            if t.curve in cell.curves and t.edges.size:
                edge = float(t.edges[:, 1].max())
                panel.pool.segments(f"edge/{t.curve}", [edge, edge], [y0, y1],
                                    mkpen(self._color(t.curve), 1.2, DOT), z=3,
                                    series=("edge", f"curve:{t.curve}"))
                out.append(([edge, edge], [y0, y1]))
        return out

    # ================================================================== decoration
    def _decorate(self, panel: Panel, i: int, plan: Plan, cell: Cell) -> None:
        """Titles, axis labels and ticks: in a grid the outer panels carry the labels
        (the axes are linked) and the labels are short (long ones overlap); a small
        multiple's title is in its curve's colour (the outlier marks' colour)."""
        rows, cols = plan.shape
        c = i % cols
        last_row = i + cols >= len(plan.cells)
        small = rows * cols > 1
        self._set_labels(panel, (LAMBDA if small else X_LABEL) if last_row else None,
                         (RHO if small else Y_LABEL) if c == 0 else None)
        panel.item.getAxis("left").setStyle(showValues=c == 0)
        panel.item.getAxis("bottom").setStyle(showValues=last_row)
        color = self._color(cell.curves[0]) if plan.multiples and cell.curves else None
        self._set_title(panel, cell.title, color)
        log_x, log_y = panel.log
        (x0, x1), (y0, y1) = panel.vb.viewRange()
        set_log_ticks(panel.item.getAxis("bottom"), log_x, (x0, x1))
        set_log_ticks(panel.item.getAxis("left"), log_y, (y0, y1))

    def _fit_legend(self, panel: Panel, cell: Cell, view: SpectrumView | None,
                    drawn: list[tuple[Any, Any]], frame: Any, fixed: bool) -> None:
        legend = panel.open_legend(bool(cell.legend) and view is not None)
        if legend is None:
            return
        curves, keys = self._legend_entries(view, cell, set(cell.states))
        legend.set_entries(curves, keys)
        corners = (("top-right", "top-left") if self.options["view"] != "tail"
                   else ("top-right", "bottom-left", "top-left"))
        legend.fit(drawn, y_range=frame[1] if frame is not None else None, corners=corners,
                   fixed=fixed)

    def _shared_key(self, plan: Plan, view: SpectrumView | None) -> None:
        """The key of several panels, in a row below them (small multiples' curves are
        named by the panels' titles)."""
        if not plan.shared_key or view is None:
            self._key.set_entries([], [])
            return
        states = {s for cell in plan.cells for s in cell.states}
        _, keys = self._legend_entries(view, plan.cells[0], states)
        # the panels' short axis labels, said in full once
        keys.append(LegendEntry(f"{LAMBDA}: eigenvalue of Φᵀ Φ / n"))
        self._key.set_entries([], keys, columns=min(len(keys), 3))

    def _legend_entries(self, view: SpectrumView, cell: Cell, states: set[str]
                        ) -> tuple[list[LegendEntry], list[LegendEntry]]:
        """Curve names (when one panel shows several curves) and a key of the kinds."""
        st = self._style
        shared = len(cell.curves) > 1
        multi = len(view.curves()) > 1
        curves = ([self._entry(curve_label(label, ci) or f"curve {ci + 1}",
                               series=f"curve:{ci}", color=self._color(ci),
                               width=st.line_width * 1.5)
                   for ci, label in view.curves()] if shared else [])
        key_color = NEUTRAL if multi else self._color(cell.curves[0] if cell.curves else 0)
        keys = self._theory_keys(view, states, key_color, multi)
        keys += self._sim_keys(view, states, key_color, shared)
        keys += self._notes(view, cell)
        return curves, keys

    def _theory_keys(self, view: SpectrumView, states: set[str], color: str,
                     multi: bool) -> list[LegendEntry]:
        st = self._style
        keys = []
        t0 = view.theory[0] if view.theory else None
        if "after" in states and any(t.after is not None for t in view.theory):
            eta = "" if multi or t0 is None else f" ({ETA} = {fmt_num(t0.eta_tilde)})"
            keys.append(self._entry(f"theory, after{eta}", series="theory_after", color=color))
        if "before" in states and any(t.before is not None for t in view.theory):
            keys.append(self._entry(f"theory, before ({ETA} = 0)", series="theory_before",
                                    color=NEUTRAL if multi else st.foreground,
                                    width=st.line_width * 0.8, dash=DASH))
        return keys

    def _sim_keys(self, view: SpectrumView, states: set[str], color: str,
                  shared: bool) -> list[LegendEntry]:
        keys = []
        if "after" in states:
            for model, name in (("network", "network sim."), ("srf", "sRF sim.")):
                sims = [s for s in view.sims if s.model == model and s.after is not None]
                if not sims:
                    continue
                text = name + seeds_text(sims[0].n_seeds)
                if model == "network" and not shared:
                    keys.append(self._entry(text, series=model, color=color, width=1.0,
                                            fill=color))
                else:
                    keys.append(self._entry(text, series=model,
                                            color=color if shared else NEUTRAL, width=1.3,
                                            dash=DOT if shared and model == "srf" else None))
        if "before" in states and any(s.before is not None for s in view.sims):
            keys.append(self._entry("sim., before", series="sim_before",
                                    color=self._style.foreground, width=1.0, dash=DASH))
        return keys

    def _notes(self, view: SpectrumView, cell: Cell) -> list[LegendEntry]:
        """Text rows: the atom at zero (a mass, not a density: it cannot be drawn on the
        density axis) and, in the tail view, the right edge."""
        out = []
        atoms = sorted({round(t.atom_zero, 6) for t in view.theory if t.atom_zero > 1e-9})
        if atoms:
            out.append(LegendEntry(f"atom at {LAMBDA} = 0: mass {fmt_list(atoms)}"))
        if self.options["view"] == "tail" and "after" in cell.states:
            edges = [float(t.edges[:, 1].max()) for t in view.theory
                     if t.curve in cell.curves and t.edges.size]
            if edges:
                color = NEUTRAL if len(cell.curves) > 1 else self._color(cell.curves[0])
                out.append(self._entry(f"right edge {LAMBDA}₊ = {fmt_list(edges, 4)}",
                                       series="edge", color=color, width=1.2, dash=DOT))
        return out


def _step_points(h: Histogram) -> list[tuple[np.ndarray, np.ndarray]]:
    """A step curve's corners: each bin's height at both of its edges."""
    return [(h.edges[:-1], h.density), (h.edges[1:], h.density)]
