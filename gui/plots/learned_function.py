"""The trained predictor along θ: the predecessor paper's signature figure.

``E[f_hat(x) | kappa]`` against ``kappa = <theta, x>``: theory lines (one per curve, or
at a few ``eta_tilde`` for a single-curve configuration), simulated points (test
predictions binned by ``kappa``, seed mean ± standard error, coloured like the theory
line of the same parameters), and the target ``sigma_*`` dashed on top. Without a step
the network only fits the linear part of the target; after a large step it bends
towards it. The shaded profile at the bottom is the density of ``kappa`` (a standard
Gaussian): where the data are, and so where the fit matters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from engine.views import LearnedFunctionView
from gui.plots.base import NEUTRAL, SIM_SYMBOLS, Panel, PlotBase, mkbrush, mkpen
from gui.plots.legend import LegendEntry
from gui.plots.text import KAPPA, SIM_NAMES

#: The density profile's band below the curves, as fractions of their y span: it
#: starts this far below them and is this tall.
BAND_GAP, BAND_HEIGHT = 0.2, 0.16


class LearnedFunctionPlot(PlotBase):
    """Learned function against κ: theory, simulation and target."""

    name = "learned_function"
    title = "Learned function"
    LOG_AXES = False  # a function of kappa on linear axes

    def _build(self) -> pg.GraphicsView:
        view = pg.PlotWidget()
        self._panel = self._add_panel("function", view.getPlotItem(), legend=True,
                                      readout=(KAPPA, "f̂"))
        self._set_labels(self._panel, f"{KAPPA} = ⟨θ, x⟩", f"E[ f̂(x) | {KAPPA} ]")
        return view

    def _redraw(self) -> None:
        view = self.view if isinstance(self.view, LearnedFunctionView) else None
        panel = self._panel
        self._begin()
        frame = view.frame() if view is not None else None
        drawn: list[tuple[Any, Any]] = []
        if view is not None and frame is not None:
            drawn += self._draw_profile(panel, view, frame)
            drawn += self._draw_theory(panel, view)
            drawn += self._draw_sims(panel, view)
            (x0, x1), (y0, y1) = frame
            base = y0 - BAND_GAP * (y1 - y0)
            fixed = self._frame(panel, ((x0, x1), (base, y1)), pad=0.02)
            self._legend(panel, view, drawn, (base, y1), fixed)
        else:
            self._legend(panel, None, drawn, None, False)
        self._set_title(panel, "learned function along θ")
        self._end()
        self._after_redraw()

    def _draw_profile(self, panel: Panel, view: LearnedFunctionView,
                      frame: Any) -> list[tuple[Any, Any]]:
        """The density of kappa as a band under the curves (scaled into the band)."""
        st = self._style
        (_, _), (y0, y1) = frame
        span = max(y1 - y0, 1e-6)
        base = y0 - BAND_GAP * span
        density = view.kappa_density()
        height = base + BAND_HEIGHT * span * density.y / density.y.max()
        panel.pool.line("profile", density.x, height, mkpen(st.foreground, 0.5, alpha=60),
                        fill_level=base, brush=mkbrush(st.foreground, 28), z=0,
                        series=("profile",))
        return [(density.x, height)]

    def _draw_theory(self, panel: Panel, view: LearnedFunctionView) -> list[tuple[Any, Any]]:
        st = self._style
        out = []
        for i, line in enumerate(view.theory):
            panel.pool.line(f"theory/{i}", line.kappa, line.f,
                            mkpen(self._color(i), st.line_width * 1.2), z=3,
                            series=("theory", f"line:{i}"))
            out.append((line.kappa, line.f))
        if view.target is not None:
            # on top of the fits and markers (dashed: they show through the gaps)
            panel.pool.line("target", view.target.x, view.target.y,
                            mkpen(st.foreground, st.line_width * 1.3, Qt.PenStyle.DashLine),
                            z=10, series=("target",))
            out.append((view.target.x, view.target.y))
        return out

    def _draw_sims(self, panel: Panel, view: LearnedFunctionView) -> list[tuple[Any, Any]]:
        st = self._style
        out = []
        for s in view.sims:
            color = self._color(s.line)
            key = f"{s.model}/{s.curve}"
            series = (s.model, f"line:{s.line}")
            lo, hi = s.mean - s.err, s.mean + s.err
            panel.pool.segments(f"bars_{key}", np.repeat(s.kappa, 2),
                                np.column_stack([lo, hi]).ravel(),
                                mkpen(color, max(1.0, 0.6 * st.line_width)), z=6, series=series)
            hollow = s.model == "srf"
            panel.pool.points(f"sim_{key}", s.kappa, s.mean, symbol=SIM_SYMBOLS[s.model],
                              size=st.marker_size, pen=mkpen(color, 1.5),
                              brush=mkbrush(st.background if hollow else color), z=7,
                              series=series)
            out += [(s.kappa, lo), (s.kappa, hi)]
        return out

    def _legend(self, panel: Panel, view: LearnedFunctionView | None,
                drawn: list[tuple[Any, Any]], y_range: tuple[float, float] | None,
                fixed: bool) -> None:
        legend = panel.open_legend(view is not None and bool(view.theory or view.sims))
        if legend is None:
            return
        st = self._style
        several = len(view.theory) > 1
        curves = [self._entry(line.label, series=f"line:{i}", color=self._color(i),
                              width=st.line_width * 1.5)
                  for i, line in enumerate(view.theory)] if several else []
        kc = NEUTRAL if several else self._color(0)
        keys: list[LegendEntry] = []
        if view.target is not None:
            keys.append(self._entry("target σ*", series="target", color=st.foreground,
                                    width=st.line_width * 1.3, dash=Qt.PenStyle.DashLine))
        if view.theory:
            name = "theory" if several else f"theory, {view.theory[0].label}"
            keys.append(self._entry(name, series="theory", color=kc))
        for model in ("network", "srf"):
            if any(s.model == model for s in view.sims):
                keys.append(self._entry(f"{SIM_NAMES[model]} sim.", series=model, color=kc,
                                        symbol=SIM_SYMBOLS[model], hollow=model == "srf"))
        legend.set_entries(curves, keys)
        legend.fit(drawn, y_range=y_range, fixed=fixed)
