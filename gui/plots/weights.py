"""Weights after the step: spectrum of ``W1 W1^T``, and alignment with θ.

Left: the theory's bulk density (line) over the simulated bulk (histograms: the network
filled, the sRF model as an outline); the spikes, of order ``p`` and far off this
scale, are listed in the legend with their source, predicted and simulated. Right: the
overlap with ``theta`` of the learned spike ``v`` and of the top singular vectors of
``W1`` by rank (bars, seed means), with the theory's ``gamma = <v, theta>`` dashed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from engine.views import WeightsView
from gui.plots.base import NEUTRAL, Panel, PlotBase, mkbrush, mkpen
from gui.plots.legend import LegendEntry
from gui.plots.text import ETA, LAMBDA, SIM_NAMES, fmt_list, fmt_num, seeds_text

#: Width of one model's bar (two models side by side per direction).
BAR_WIDTH = 0.36
HINT = "No simulated weights: run kind \"weights\" with a simulation to compare them."


class WeightsPlot(PlotBase):
    """Spectrum of W₁W₁ᵀ and overlaps with θ."""

    name = "weights"
    title = "Weights & alignment"
    LOG_AXES = False  # linear axes: a density and overlaps in [0, 1]

    def _build(self) -> pg.GraphicsView:
        view = pg.GraphicsLayoutWidget()
        self._spec = self._add_panel("spectrum", view.addPlot(row=0, col=0), legend=True,
                                     readout=(LAMBDA, "ρ"))
        self._ovl = self._add_panel("alignment", view.addPlot(row=0, col=1), legend=True,
                                    readout=("direction", "overlap"))
        self._ovl.item.setMaximumWidth(300)
        view.ci.layout.setColumnStretchFactor(0, 3)
        view.ci.layout.setColumnStretchFactor(1, 1)
        self._set_labels(self._spec, f"{LAMBDA}  (eigenvalue of W₁ W₁ᵀ)", "density  ρ(λ)")
        self._set_labels(self._ovl, "direction", "overlap with θ")
        return view

    def _redraw(self) -> None:
        view = self.view if isinstance(self.view, WeightsView) else None
        self._begin()
        drawn = self._draw_spectrum(view) if view is not None else []
        fixed = self._frame(self._spec, view.frame() if view is not None else None)
        self._spectrum_legend(view, drawn, fixed)
        bars = self._draw_overlaps(view) if view is not None else 0
        self._overlap_axes(view, bars)
        self._set_title(self._spec, "spectrum of W₁ W₁ᵀ")
        self._set_title(self._ovl, "alignment")
        no_sims = view is not None and view.theory is not None and not view.sims
        self._set_hint(HINT if no_sims else "")
        self._end()
        self._after_redraw()

    # ------------------------------------------------------------------ spectrum
    def _draw_spectrum(self, view: WeightsView) -> list[tuple[Any, Any]]:
        st = self._style
        pool = self._spec.pool
        color = self._color(0)
        drawn: list[tuple[Any, Any]] = []
        if view.theory is not None:
            d = view.theory.density
            pool.line("theory", d.x, d.y, mkpen(color, st.line_width), z=5, series=("theory",))
            drawn.append((d.x, d.y))
        for s in view.sims:
            if s.bulk is None:
                continue
            h = s.bulk
            if s.model == "network":
                pool.step("hist_network", h.edges, h.density, mkpen(color, 1.0, alpha=200),
                          fill_level=0.0, brush=mkbrush(color, st.histogram_alpha), z=1,
                          series=("network",))
            else:
                pool.step(f"hist_{s.model}", h.edges, h.density, mkpen(NEUTRAL, 1.3), z=2,
                          series=(s.model,))
            drawn += [(h.edges[:-1], h.density), (h.edges[1:], h.density)]
        return drawn

    def _spectrum_legend(self, view: WeightsView | None, drawn: list[tuple[Any, Any]],
                         fixed: bool) -> None:
        legend = self._spec.legend
        assert legend is not None
        if view is None or (view.theory is None and not view.sims):
            legend.set_entries([], [])
            legend.hide()
            return
        legend.show()
        color = self._color(0)
        keys: list[LegendEntry] = []
        if view.theory is not None:
            keys.append(self._entry(f"theory ({ETA} = {fmt_num(view.theory.eta_tilde)})"
                                    + _spikes(view.theory.spikes),
                                    series="theory", color=color))
        for s in view.sims:
            if s.bulk is not None:
                network = s.model == "network"
                keys.append(self._entry(f"{SIM_NAMES[s.model]} sim.{seeds_text(s.n_seeds)}"
                                        + _spikes(np.sort(s.spikes)[::-1]),
                                        series=s.model, color=color if network else NEUTRAL,
                                        width=1.0 if network else 1.3,
                                        fill=color if network else None))
        legend.set_entries([], keys)
        frame = view.frame()
        legend.fit(drawn, y_range=frame[1] if frame is not None else None, fixed=fixed)

    # ------------------------------------------------------------------ alignment
    def _draw_overlaps(self, view: WeightsView) -> int:
        """Bars per model, side by side; returns the number of directions drawn."""
        pool = self._ovl.pool
        models = [s for s in view.sims if s.overlaps.size]
        n = 0
        for k, s in enumerate(models):
            color = self._color(1 + k)
            shift = (k - (len(models) - 1) / 2) * BAR_WIDTH
            x = np.arange(s.overlaps.size, dtype=float) + shift
            pool.bars(f"bars_{s.model}", x, s.overlaps, width=BAR_WIDTH * 0.92,
                      pen=mkpen(color, 1.0), brush=mkbrush(color, 200), z=2,
                      series=(s.model,))
            n = max(n, s.overlaps.size)
        if view.theory is not None and np.isfinite(view.theory.gamma):
            g = view.theory.gamma
            pool.line("gamma", [-0.6, max(n, 1) - 0.4], [g, g],
                      mkpen(self._style.foreground, self._style.line_width * 0.7,
                            Qt.PenStyle.DashLine), z=3, series=("gamma",))
        return n

    def _overlap_axes(self, view: WeightsView | None, n: int) -> None:
        panel: Panel = self._ovl
        fixed = self._frame(panel, ((-0.6, max(n, 1) - 0.4), (0.0, 1.05)))
        # direction 0 is the learned spike v (sRF: F = sqrt(c) W0 + u v^T), then the top
        # singular vectors of W1 by rank
        ticks = [(float(j), "v" if j == 0 else str(j)) for j in range(n)]
        panel.item.getAxis("bottom").setTicks([ticks, []])
        self._set_labels(panel, "direction" if n else "", "overlap with θ")
        legend = panel.legend
        assert legend is not None
        keys = [self._entry(f"{SIM_NAMES[s.model]} sim.", series=s.model,
                            color=self._color(1 + k), width=1.0, fill=self._color(1 + k),
                            fill_alpha=200)
                for k, s in enumerate(s for s in (view.sims if view else ()) if s.overlaps.size)]
        if view is not None and view.theory is not None and np.isfinite(view.theory.gamma):
            keys.append(self._entry(f"theory γ = {view.theory.gamma:.3f}", series="gamma",
                                    color=self._style.foreground,
                                    width=self._style.line_width * 0.7,
                                    dash=Qt.PenStyle.DashLine))
        if not keys:
            legend.set_entries([], [])
            legend.hide()
            return
        legend.show()
        legend.set_entries([], keys)
        drawn = [(np.arange(s.overlaps.size), s.overlaps) for s in view.sims] if view else []
        if view is not None and view.theory is not None:
            drawn.append(([-0.6, max(n, 1) - 0.4], [view.theory.gamma] * 2))
        legend.fit(drawn, y_range=(0.0, 1.05), fixed=fixed,
                   corners=("top-right", "bottom-right", "top-left"))


def _spikes(values: np.ndarray) -> str:
    """", spikes 1213, 1208": the spikes are of order p, off the bulk's scale."""
    if not np.size(values):
        return ""
    return f", spike{'s' if np.size(values) > 1 else ''} {fmt_list(values)}"
