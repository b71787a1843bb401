"""Learning curves: test (solid) and training (dotted) error against the sweep parameter.

Theory lines per curve, simulation points with error bars (mean ± std over seeds;
circles for the network, triangles for the sRF model), and the random-features
baseline (``eta_tilde = 0``) dashed. Against ``alpha`` the x axis is ``n/p`` (the
papers' "samples per feature") or ``n/d``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg

from gui.plots.base import (
    SIM_NAMES,
    SIM_SYMBOLS,
    PlotBase,
    curve_label,
    set_log_ticks,
    sim_values,
)

PARAM_LABELS = {"alpha": "n/d", "beta": "p/d = β", "lam": "λ (ridge, sum convention)",
                "eta_tilde": "η̃", "alpha0": "n0/d = α0", "noise": "Δ (label noise)",
                "d": "d"}


class LearningCurvesPlot(PlotBase):
    """Errors against the sweep parameter, theory and simulation."""

    name = "learning_curves"
    title = "Learning curves"

    def _build(self) -> pg.GraphicsView:
        view = pg.PlotWidget()
        item = view.getPlotItem()
        self._add_legend(item)
        self._install_readout(item, "x", "error")
        self._tables: dict[str, tuple[list[str], np.ndarray]] = {}
        return view

    def _x(self, param: str | None, model: Any, value: Any) -> float:
        if param in (None, "alpha"):
            if self.options.get("x_axis", "n/p") == "n/p":
                return model.alpha / model.beta
            return model.alpha
        try:
            return float(value)
        except (TypeError, ValueError):
            return np.nan

    def _x_label(self, param: str | None) -> str:
        if param in (None, "alpha"):
            return ("n/p  (samples per feature)" if self.options.get("x_axis", "n/p") == "n/p"
                    else "n/d  = α")
        return PARAM_LABELS.get(param, param)

    def _redraw(self) -> None:
        if not hasattr(self, "_tables"):
            return
        item = self.plot_widget.getPlotItem()
        item.clear()
        self._tables = {}
        st = self._style
        n_over_p = self.options.get("x_axis", "n/p") == "n/p"
        param = None
        drew_theory = False
        rf_drawn = False
        if self._theory is not None:
            param = self._theory.sweep_param
            multi = len(self._theory.curves) > 1
            for ci, (label, points) in enumerate(self._theory.curves):
                pts = [p for p in points if p is not None and p.theory_ridge is not None]
                if len(pts) < 2:
                    continue
                drew_theory = True
                color = st.color(ci)
                lab = curve_label(label, ci)
                x = np.array([self._x(param, p.model, p.value) for p in pts])
                te = np.array([p.theory_ridge.test_error for p in pts])
                tr = np.array([p.theory_ridge.train_error for p in pts])
                self._line(item, x, te, color, name=f"test{' ' + lab if multi else ''}")
                self._line(item, x, tr, color, dotted=True, alpha=190,
                           name="train" if ci == 0 else None)
                cols = ["x", "test_error", "train_error"]
                rows = [x, te, tr]
                rf = [p.theory_ridge_rf for p in pts]
                if all(r is not None for r in rf) and any(p.model.eta_tilde > 0 for p in pts):
                    te_rf = np.array([r.test_error for r in rf])
                    if not rf_drawn:
                        self._line(item, x, te_rf, st.foreground, dash=True, alpha=170,
                                   name="random features (η̃ = 0)")
                        rf_drawn = True
                    cols.append("test_error_rf")
                    rows.append(te_rf)
                self._tables[f"theory{'_' + lab if lab else ''}"] = (cols, np.column_stack(rows))
        if not drew_theory and self._extras is not None and getattr(self._extras, "learning",
                                                                     ()):
            param = "alpha"
            multi = len(self._extras.learning) > 1
            for ci, s in enumerate(self._extras.learning):
                color = st.color(ci)
                x = s.alpha / s.beta if n_over_p else s.alpha
                self._line(item, x, s.test_error, color,
                           name=f"test{' ' + s.label if multi and s.label else ''}")
                self._line(item, x, s.train_error, color, dotted=True, alpha=190,
                           name="train" if ci == 0 else None)
                if not rf_drawn:
                    self._line(item, x, s.test_error_rf, st.foreground, dash=True, alpha=170,
                               name="random features (η̃ = 0)")
                    rf_drawn = True
                self._tables[f"theory{'_' + s.label if s.label else ''}"] = (
                    ["x", "test_error", "train_error", "test_error_rf"],
                    np.column_stack([x, s.test_error, s.train_error, s.test_error_rf]))
            if self._theory is not None:
                # mark where the current parameters sit on the curve
                for _ci, _label, p in self._theory.selected_points():
                    if p.theory_ridge is not None:
                        self._points(item, [self._x(None, p.model, None)],
                                     [p.theory_ridge.test_error], st.foreground, symbol="+",
                                     size=st.marker_size * 2, name="current parameters")
                        break
        if self._sim is not None:
            sparam = self._sim.sweep_param
            param = param or sparam
            for ci, (label, points) in enumerate(self._sim.curves):
                color = st.color(ci)
                for model in ("network", "srf"):
                    xs, means, stds, tmeans = [], [], [], []
                    for p in points:
                        if p is None:
                            continue
                        vals = sim_values(p, "test_error", model)
                        if vals.size == 0:
                            continue
                        xs.append(self._x(sparam, p.model, p.value))
                        means.append(vals.mean())
                        stds.append(vals.std() if vals.size > 1 else 0.0)
                        tv = sim_values(p, "train_error", model)
                        tmeans.append(tv.mean() if tv.size else np.nan)
                    if not xs:
                        continue
                    lab = curve_label(label, ci)
                    self._points(item, xs, means, color, symbol=SIM_SYMBOLS[model],
                                 err=stds, hollow=model == "srf",
                                 name=f"{SIM_NAMES[model]} sim. (mean ± std)"
                                      f"{' ' + lab if lab and len(self._sim.curves) > 1 else ''}"
                                 if ci == 0 or len(self._sim.curves) > 1 else None)
                    self._tables[f"sim_{model}{'_' + lab if lab else ''}"] = (
                        ["x", "test_error_mean", "test_error_std", "train_error_mean"],
                        np.column_stack([xs, means, stds, tmeans]))
        log_x = bool(self.options.get("log_x", False)) or (
            param in (None, "alpha") and bool(self.options.get("log_x_alpha", False)))
        item.setLogMode(x=log_x, y=bool(self.options.get("log_y", False)))
        set_log_ticks(item.getAxis("bottom"), log_x)
        self._set_labels(item, self._x_label(param), "error")
        self._set_title(item, "test and training error")

