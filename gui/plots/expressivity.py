"""What the learned features can express along θ.

Each atom ``a_k`` of the second layer gives a feature mean ``mu0(kappa, u_k)`` along
``kappa = <theta, x>``; the readout can combine them (and the linear function ``kappa``).
Drawn: each ``mu0(., u_k)``, the target ``sigma_*`` and its best ``L2(N(0,1))`` fit in
that span, with the explained variance ``R^2``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from engine.views import ExpressivityView
from gui.plots.base import PlotBase, mkpen
from gui.plots.text import KAPPA, fmt_num


class ExpressivityPlot(PlotBase):
    """mu0(κ, u_k) per atom and the best fit of σ* in their span."""

    name = "expressivity"
    title = "Expressivity"
    LOG_AXES = False  # functions of kappa on linear axes

    def _build(self) -> pg.GraphicsView:
        view = pg.PlotWidget()
        self._panel = self._add_panel("functions", view.getPlotItem(), legend=True,
                                      readout=(KAPPA, "f"))
        self._set_labels(self._panel, f"{KAPPA} = ⟨θ, x⟩", f"function of {KAPPA}")
        return view

    def _redraw(self) -> None:
        view = self.view if isinstance(self.view, ExpressivityView) else None
        ex = view.theory if view is not None else None
        panel = self._panel
        st = self._style
        self._begin()
        legend = panel.open_legend(ex is not None)
        title = "features' means μ₀(κ, u_k) and the best fit of σ*"
        if legend is not None:
            atoms = []
            for k in range(ex.mu0.shape[0]):
                color = self._color(k + 1)
                panel.pool.line(f"mu0/{k}", ex.kappa, ex.mu0[k], mkpen(color, st.line_width * 0.8),
                                z=3, series=(f"atom:{k}",))
                name = f"μ₀(κ, u), a = {fmt_num(ex.atoms[k])}"
                if ex.u is not None:
                    name += f", u = {fmt_num(ex.u[k])}"
                atoms.append(self._entry(name, series=f"atom:{k}", color=color,
                                         width=st.line_width * 0.8))
            panel.pool.line("target", ex.kappa, ex.target,
                            mkpen(st.foreground, st.line_width * 1.3), z=4, series=("target",))
            panel.pool.line("fit", ex.kappa, ex.fit,
                            mkpen(self._color(0), st.line_width * 1.2, Qt.PenStyle.DashLine),
                            z=5, series=("fit",))
            keys = [self._entry("target σ*", series="target", color=st.foreground,
                                width=st.line_width * 1.3),
                    self._entry(f"best fit in span{{μ₀, κ}}, R² = {ex.r2:.3f}", series="fit",
                                color=self._color(0), width=st.line_width * 1.2,
                                dash=Qt.PenStyle.DashLine)]
            self._frame(panel, ((float(ex.kappa[0]), float(ex.kappa[-1])), _y_span(ex)))
            legend.show()
            legend.set_entries(atoms, keys)
            legend.fit([(ex.kappa, y) for y in (*ex.mu0, ex.target, ex.fit)], y_range=None,
                       fixed=panel.group in self._zoomed,
                       corners=("top-left", "top-right", "bottom-right", "bottom-left"))
            title = f"features along θ: R² = {ex.r2:.3f} of σ* is expressible"
        self._set_title(panel, title)
        self._end()
        self._after_redraw()


def _y_span(ex: object) -> tuple[float, float]:
    """The drawn functions' range, padded 5% (the legend widens it if it must)."""
    values = np.concatenate([np.ravel(ex.mu0), ex.target, ex.fit])  # type: ignore[attr-defined]
    values = values[np.isfinite(values)]
    if values.size == 0:
        return -1.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    pad = 0.05 * max(hi - lo, 1e-9)
    return lo - pad, hi + pad
