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
from PySide6.QtCore import Qt

from gui.plots.base import (
    NEUTRAL,
    SIM_SYMBOLS,
    PlotBase,
    curve_label,
    mkbrush,
    mkpen,
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

    def _sweep_param(self) -> str | None:
        """The parameter on the x axis, as ``_redraw`` will find it."""
        if self._theory is not None and any(
                len([p for p in pts if p is not None and p.theory_ridge is not None]) >= 2
                for _, pts in self._theory.curves):
            return self._theory.sweep_param
        if self._extras is not None and getattr(self._extras, "learning", ()):
            return "alpha"
        return self._sim.sweep_param if self._sim is not None else None

    def _redraw(self) -> None:
        if not self._begin_redraw():
            return
        item = self.plot_widget.getPlotItem()
        st = self._style
        n_over_p = self.options.get("x_axis", "n/p") == "n/p"
        param = None
        drew_theory = False
        rf_drawn = False
        # log mode first: error bars are drawn in view coordinates (see PlotBase._points)
        param = self._sweep_param()
        log_x = bool(self.options.get("log_x", False)) or (
            param in (None, "alpha") and bool(self.options.get("log_x_alpha", False)))
        log_y = bool(self.options.get("log_y", False))
        item.setLogMode(x=log_x, y=log_y)
        param = None
        # The legend is compact: one entry per curve (its colour) and one key per line
        # or marker kind, drawn neutral; data items carry no name.
        curve_names: dict[int, str] = {}
        kinds: set[str] = set()
        series: list[tuple[Any, Any]] = []
        if self._theory is not None:
            param = self._theory.sweep_param
            for ci, (label, points) in enumerate(self._theory.curves):
                pts = [p for p in points if p is not None and p.theory_ridge is not None]
                if len(pts) < 2:
                    continue
                drew_theory = True
                color = self._curve_color(ci)
                lab = curve_label(label, ci)
                curve_names.setdefault(ci, lab)
                x = np.array([self._x(param, p.model, p.value) for p in pts])
                te = np.array([p.theory_ridge.test_error for p in pts])
                tr = np.array([p.theory_ridge.train_error for p in pts])
                self._line(item, x, te, color)
                self._line(item, x, tr, color, dotted=True, alpha=190)
                kinds.update(("test", "train"))
                series += [(x, te), (x, tr)]
                cols = ["x", "test_error", "train_error"]
                rows = [x, te, tr]
                rf = [p.theory_ridge_rf for p in pts]
                if all(r is not None for r in rf) and any(p.model.eta_tilde > 0 for p in pts):
                    te_rf = np.array([r.test_error for r in rf])
                    if not rf_drawn:
                        self._line(item, x, te_rf, NEUTRAL, dash=True, alpha=220)
                        series.append((x, te_rf))
                        kinds.add("rf")
                        rf_drawn = True
                    cols.append("test_error_rf")
                    rows.append(te_rf)
                self._tables[f"theory{'_' + lab if lab else ''}"] = (cols, np.column_stack(rows))
        if not drew_theory and self._extras is not None and getattr(self._extras, "learning",
                                                                     ()):
            param = "alpha"
            for ci, s in enumerate(self._extras.learning):
                color = self._curve_color(ci)
                curve_names.setdefault(ci, s.label or "")
                x = s.alpha / s.beta if n_over_p else s.alpha
                self._line(item, x, s.test_error, color)
                self._line(item, x, s.train_error, color, dotted=True, alpha=190)
                kinds.update(("test", "train"))
                series += [(x, s.test_error), (x, s.train_error)]
                if not rf_drawn:
                    self._line(item, x, s.test_error_rf, NEUTRAL, dash=True, alpha=220)
                    series.append((x, s.test_error_rf))
                    kinds.add("rf")
                    rf_drawn = True
                self._tables[f"theory{'_' + s.label if s.label else ''}"] = (
                    ["x", "test_error", "train_error", "test_error_rf"],
                    np.column_stack([x, s.test_error, s.train_error, s.test_error_rf]))
            if self._theory is not None:
                # mark where the current parameters sit on the curve
                for _ci, _label, p in self._theory.selected_points():
                    if p.theory_ridge is not None:
                        xc = self._x(None, p.model, None)
                        self._points(item, [xc], [p.theory_ridge.test_error],
                                     st.foreground, symbol="+", size=st.marker_size * 2)
                        series.append(([xc], [p.theory_ridge.test_error]))
                        kinds.add("current")
                        break
        if self._sim is not None:
            sparam = self._sim.sweep_param
            param = param or sparam
            for ci, (label, points) in enumerate(self._sim.curves):
                color = self._curve_color(ci)
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
                    curve_names.setdefault(ci, lab)
                    self._points(item, xs, means, color, symbol=SIM_SYMBOLS[model],
                                 err=stds, hollow=model == "srf")
                    kinds.add(model)
                    m, sd = np.asarray(means), np.asarray(stds)
                    series += [(xs, m + sd), (xs, m - sd)]
                    self._tables[f"sim_{model}{'_' + lab if lab else ''}"] = (
                        ["x", "test_error_mean", "test_error_std", "train_error_mean"],
                        np.column_stack([xs, means, stds, tmeans]))
        item.setLogMode(x=log_x, y=log_y)
        set_log_ticks(item.getAxis("bottom"), log_x)
        # pyqtgraph labels every minor tick of a log y axis (0.02 0.03 ... collide)
        set_log_ticks(item.getAxis("left"), log_y, minor_labels=False)
        self._build_legend(item, curve_names, kinds)
        self._fit_legend(item, series)
        self._set_labels(item, self._x_label(param), "error")
        self._set_title(item, "test and training error")

    def _build_legend(self, item: pg.PlotItem, curve_names: dict[int, str],
                      kinds: set[str]) -> None:
        st = self._style
        lw = st.line_width
        curves = []
        named = {ci: n for ci, n in curve_names.items() if n}
        if len(named) > 1 or (named and len(curve_names) == 1):
            for ci in sorted(named):
                curves.append((named[ci], self._key_sample(
                    item, pen=mkpen(self._curve_color(ci), lw * 1.5))))
        keys = []
        # neutral when the colour means "which curve"; the curve's own with one curve
        kc = NEUTRAL if curves or len(curve_names) > 1 else self._curve_color(0)
        if "test" in kinds:
            keys.append(("test", self._key_sample(item, pen=mkpen(kc, lw))))
        if "train" in kinds:
            keys.append(("train", self._key_sample(
                item, pen=mkpen(kc, lw, Qt.PenStyle.DotLine))))
        if "network" in kinds:
            keys.append(("network sim.", self._key_sample(
                item, symbol=SIM_SYMBOLS["network"], brush=mkbrush(kc),
                symbol_pen=mkpen(kc, 1.5))))
        if "srf" in kinds:
            keys.append(("sRF sim.", self._key_sample(
                item, symbol=SIM_SYMBOLS["srf"], brush=mkbrush(st.background),
                symbol_pen=mkpen(kc, 1.5))))
        if "rf" in kinds:
            keys.append(("random features", self._key_sample(
                item, pen=mkpen(NEUTRAL, lw, Qt.PenStyle.DashLine))))
        if "current" in kinds:
            keys.append(("current parameters", self._key_sample(
                item, symbol="+", brush=mkbrush(st.foreground),
                symbol_pen=mkpen(st.foreground, 1.5))))
        self._compact_legend(item, curves, keys)
