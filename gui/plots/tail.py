"""The right tail of the spectrum: complementary CDF on log–log axes.

Theory: the bulk density integrated from the right (computed in the worker, see
:func:`engine.spectra.ccdf_from_density`) at a few ``eta_tilde``, one line each, so the
growth (relu) or shrinkage (tanh) of the tail with the step size is visible.
Simulation: the rank plot of the bulk eigenvalues (fraction of eigenvalues >= λ).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from engine.spectra import ccdf_from_density
from gui.plots.base import PlotBase, curve_label, set_log_ticks

#: Smallest eigenvalue drawn, relative to the largest (the tail plot shows the top
#: three decades of the spectrum).
TAIL_DECADES_FLOOR = 1e-3


class TailPlot(PlotBase):
    """Complementary CDF of the bulk, theory at several η̃ vs simulation."""

    name = "tail"
    title = "Tail"

    def _build(self) -> pg.GraphicsView:
        view = pg.PlotWidget()
        item = view.getPlotItem()
        self._set_labels(item, "λ  (eigenvalue of Φᵀ Φ / n, log)",
                         "P(eigenvalue ≥ λ)  (log)")
        self._add_legend(item, offset=(10, 10))
        self._install_readout(item, "λ", "P(≥ λ)")
        return view

    def _redraw(self) -> None:
        if not self._begin_redraw():
            return
        item = self.plot_widget.getPlotItem()
        st = self._style
        series = list(getattr(self._extras, "tail", ()) or ())
        if not series and self._theory is not None:
            # Without the live extras (e.g. a reopened session): the result's own spectra.
            for _ci, _label, point in self._theory.selected_points():
                spec = point.theory_spectrum
                if spec is not None:
                    series.append((point.model.eta_tilde, spec.grid,
                                   ccdf_from_density(spec.grid, spec.density)))
        else:
            series = [(s.eta_tilde, s.grid, s.ccdf) for s in series]
        fit_series: list[tuple[np.ndarray, np.ndarray]] = []
        current = None
        if self._theory is not None and self._theory.config is not None:
            current = self._theory.config.model.eta_tilde
        for i, (eta, grid, ccdf) in enumerate(series):
            grid = np.asarray(grid, dtype=np.float64)
            ccdf = np.asarray(ccdf, dtype=np.float64)
            # the plot is about the right tail: three decades below the top of the grid
            # (at n = p the density reaches down to ~0 and would add empty decades)
            ok = (grid > TAIL_DECADES_FLOOR * grid.max()) & (ccdf > 1e-6)
            is_current = current is not None and abs(eta - current) < 1e-9
            self._line(item, grid[ok], ccdf[ok], self._curve_color(i),
                       name=f"theory η̃ = {eta:g}{' (current)' if is_current else ''}",
                       width=st.line_width * (1.4 if is_current else 1.0),
                       dash=eta == 0)
            self._tables[f"theory_eta_{eta:g}"] = (["lambda", "ccdf"],
                                                   np.column_stack([grid, ccdf]))
            fit_series.append((grid[ok], ccdf[ok]))
        if self._sim is not None:
            for ci, label, point in self._sim.selected_points():
                for model, symbol in (("network", "o"), ("srf", "t")):
                    seeds = point.sims.get(model, ())
                    if not seeds or seeds[0].eigenvalues is None:
                        continue
                    s = seeds[0]
                    eig = np.asarray(s.eigenvalues, dtype=np.float64)
                    k = len(s.outliers) if s.outliers is not None else 0
                    bulk = eig[: eig.size - k] if k else eig
                    frac = (bulk.size - np.arange(bulk.size)) / bulk.size
                    # numerically zero eigenvalues (rank deficiency) and the hard edge at
                    # n = p are no part of the tail and would stretch the log axis over
                    # empty decades (the exported table keeps every eigenvalue)
                    ok = bulk > (TAIL_DECADES_FLOOR * bulk.max() if bulk.size else 0.0)
                    # thin the rank plot: a few hundred markers read better than p
                    step = max(1, int(ok.sum() // 300))
                    lab = curve_label(label, ci)
                    self._points(item, bulk[ok][::step], frac[ok][::step],
                                 self._curve_color(len(series) + ci if model == "network"
                                                   else len(series) + ci + 1),
                                 symbol=symbol, size=st.marker_size * 0.6, hollow=True,
                                 name=f"{'network' if model == 'network' else 'sRF'} "
                                      f"η̃ = {point.model.eta_tilde:g}"
                                      f"{' ' + lab if lab else ''} (seed {s.seed})")
                    self._tables[f"sim_{model}{'_' + lab if lab else ''}"] = (
                        ["lambda", "fraction_geq"], np.column_stack([bulk, frac]))
                    fit_series.append((bulk[ok], frac[ok]))
        item.setLogMode(x=True, y=True)
        # many decades: label 1, 10, 100 only (2 and 5 collide, "0.0050.01")
        set_log_ticks(item.getAxis("bottom"), True, minor_labels=False)
        # the tails fall to the bottom right: bottom left is usually empty
        self._fit_legend(item, fit_series,
                         corners=("bottom-left", "top-right", "bottom-right", "top-left"))
        self._set_title(item, "complementary CDF of the bulk (log–log)")

