"""What the learned features can express along θ.

Each atom ``a_k`` of the second layer gives a feature mean ``mu0(kappa, u_k)`` along
``kappa = <theta, x>``; the readout can combine them (and the linear function ``kappa``).
Drawn: each ``mu0(., u_k)``, the target ``sigma_*`` and its best ``L2(N(0,1))`` fit in
that span, with the explained variance ``R^2``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gui.plots.base import PlotBase


class ExpressivityPlot(PlotBase):
    """mu0(κ, u_k) per atom and the best fit of σ* in their span."""

    name = "expressivity"
    title = "Expressivity"

    def _build(self) -> pg.GraphicsView:
        view = pg.PlotWidget()
        item = view.getPlotItem()
        self._set_labels(item, "κ = ⟨θ, x⟩", "function of κ")
        self._add_legend(item, offset=(10, 10))
        self._install_readout(item, "κ", "f")
        return view

    def _redraw(self) -> None:
        if not self._begin_redraw():
            return
        item = self.plot_widget.getPlotItem()
        st = self._style
        title = "features' means μ₀(κ, u_k) and the best fit of σ*"
        series: list[tuple[np.ndarray, np.ndarray]] = []
        if self._theory is not None:
            for _ci, _label, point in self._theory.selected_points():
                ex = point.expressivity
                if ex is None:
                    continue
                kappa = np.asarray(ex.kappa, dtype=np.float64)
                mu0 = np.atleast_2d(np.asarray(ex.mu0, dtype=np.float64))
                atoms = (point.srf_params.a if point.srf_params is not None
                         else np.arange(mu0.shape[0]))
                us = point.srf_params.u if point.srf_params is not None else None
                cols, rows = ["kappa"], [kappa]
                for k in range(mu0.shape[0]):
                    name = f"μ₀(κ, u), a = {atoms[k]:g}"
                    if us is not None:
                        name += f", u = {us[k]:.3g}"
                    self._line(item, kappa, mu0[k], self._curve_color(k + 1), name=name,
                               width=st.line_width * 0.8)
                    series.append((kappa, mu0[k]))
                    cols.append(f"mu0_atom{k}")
                    rows.append(mu0[k])
                self._line(item, kappa, ex.target, st.foreground, name="target σ*",
                           width=st.line_width * 1.3)
                self._line(item, kappa, ex.fit, self._curve_color(0), dash=True,
                           name=f"best fit in span{{μ₀, κ}}, R² = {ex.r2:.3f}",
                           width=st.line_width * 1.2)
                series += [(kappa, ex.target), (kappa, ex.fit)]
                cols += ["target", "fit"]
                rows += [np.asarray(ex.target), np.asarray(ex.fit)]
                self._tables["expressivity"] = (cols, np.column_stack(rows))
                title = f"features along θ: R² = {ex.r2:.3f} of σ* is expressible"
                break
        self._fit_legend(item, series, corners=("top-left", "top-right", "bottom-right",
                                                "bottom-left"))
        self._set_title(item, title)

