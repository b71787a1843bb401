"""The right tail of the spectrum: complementary CDF on log–log axes.

Theory: the bulk's complementary CDF at a few ``eta_tilde`` (the current one bold,
``eta_tilde = 0`` dashed), so the growth (relu) or shrinkage (tanh) of the tail with the
step is visible. Simulation: the rank plot of one seed's bulk (fraction of eigenvalues
at or above each), thinned by the engine to a few hundred markers. The frame is the top
three decades of the spectrum (the engine's ``TailView.frame``).
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt

from engine.views import TailView
from gui.plots.axes import set_log_ticks
from gui.plots.base import NEUTRAL, SIM_SYMBOLS, Panel, PlotBase, mkbrush, mkpen
from gui.plots.legend import LegendEntry
from gui.plots.text import ETA, LAMBDA, SIM_NAMES, curve_label, fmt_num


class TailPlot(PlotBase):
    """Complementary CDF of the bulk, theory at several η̃ against simulation."""

    name = "tail"
    title = "Tail"
    LOG_AXES = False  # always log–log

    def _build(self) -> pg.GraphicsView:
        view = pg.PlotWidget()
        self._panel = self._add_panel("tail", view.getPlotItem(), legend=True,
                                      readout=(LAMBDA, f"P(≥ {LAMBDA})"))
        self._set_labels(self._panel, f"{LAMBDA}  (eigenvalue of Φᵀ Φ / n)",
                         f"fraction of eigenvalues ≥ {LAMBDA}")
        return view

    def _redraw(self) -> None:
        view = self.view if isinstance(self.view, TailView) else None
        panel = self._panel
        self._begin()
        panel.set_log(True, True)  # always: the tail is a power of λ or it is not
        frame = view.frame() if view is not None else None
        fixed = self._frame(panel, frame)
        drawn: list[tuple[Any, Any]] = []
        if view is not None:
            drawn += self._draw_theory(panel, view)
            drawn += self._draw_sims(panel, view)
        (x0, x1), (y0, y1) = panel.vb.viewRange()
        set_log_ticks(panel.item.getAxis("bottom"), True, (x0, x1))
        set_log_ticks(panel.item.getAxis("left"), True, (y0, y1))
        self._legend(panel, view, drawn, frame, fixed)
        self._set_title(panel, "complementary CDF of the bulk (log–log)")
        self._end()
        self._after_redraw()

    def _theory_color(self, i: int, current: bool) -> str:
        return self._color(0) if current else self._color(i + 1)

    def _draw_theory(self, panel: Panel, view: TailView) -> list[tuple[Any, Any]]:
        st = self._style
        out = []
        others = 0
        for t in view.theory:
            color = self._theory_color(others, t.current)
            others += 0 if t.current else 1
            width = st.line_width * (1.5 if t.current else 0.9)
            style = Qt.PenStyle.DashLine if t.eta_tilde == 0 else Qt.PenStyle.SolidLine
            panel.pool.line(f"theory/{t.eta_tilde:g}", t.grid, t.ccdf,
                            mkpen(color, width, style), z=5 if t.current else 3,
                            series=(f"eta:{t.eta_tilde:g}",))
            out.append((t.grid, t.ccdf))
        return out

    def _sim_color(self, curve: int, model: str) -> str:
        if model == "srf":
            return NEUTRAL
        return self._color(0) if curve == 0 else self._color(curve + 4)

    def _draw_sims(self, panel: Panel, view: TailView) -> list[tuple[Any, Any]]:
        st = self._style
        out = []
        for s in view.sims:
            lam, frac = s.markers()
            color = self._sim_color(s.curve, s.model)
            panel.pool.points(f"sim_{s.model}/{s.curve}", lam, frac,
                              symbol=SIM_SYMBOLS[s.model], size=st.marker_size * 0.6,
                              pen=mkpen(color, 1.2), brush=mkbrush(st.background, 0), z=4,
                              series=(s.model, f"curve:{s.curve}"))
            out.append((lam, frac))
        return out

    def _legend(self, panel: Panel, view: TailView | None, drawn: list[tuple[Any, Any]],
                frame: Any, fixed: bool) -> None:
        legend = panel.open_legend(view is not None and bool(view.theory or view.sims))
        if legend is None:
            return
        st = self._style
        curves, others = [], 0
        for t in view.theory:
            color = self._theory_color(others, t.current)
            others += 0 if t.current else 1
            name = f"theory {ETA} = {fmt_num(t.eta_tilde)}" + (" (current)" if t.current else "")
            curves.append(self._entry(name, series=f"eta:{t.eta_tilde:g}", color=color,
                                      width=st.line_width * (1.5 if t.current else 0.9),
                                      dash=Qt.PenStyle.DashLine if t.eta_tilde == 0 else None))
        keys: list[LegendEntry] = []
        for s in view.sims:
            label = curve_label(s.label, s.curve)
            text = (f"{SIM_NAMES[s.model]} sim." + (f", {label}" if label else "")
                    + f" (seed {s.seed})")
            keys.append(self._entry(text, series=s.model,
                                    color=self._sim_color(s.curve, s.model),
                                    symbol=SIM_SYMBOLS[s.model], hollow=True))
        legend.set_entries(curves, keys)
        # the tails fall to the bottom right: bottom left is usually empty
        legend.fit(drawn, y_range=frame[1] if frame is not None else None, fixed=fixed,
                   corners=("bottom-left", "top-right", "bottom-right", "top-left"))
