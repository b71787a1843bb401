"""Learning curves: test (solid) and training (dotted) error against a parameter.

Theory lines per curve, simulated points with error bars (seed mean ± standard
deviation; filled circles for the network, hollow triangles for the sRF model), the
random-features baseline (``eta_tilde = 0``) dashed grey, and on the automatic curve
(a run that does not sweep ``alpha``) a cross at the parameters on screen. Against
``alpha`` the x axis is ``n/p`` (the papers' "samples per feature", option ``x_axis``)
or ``n/d``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from engine.views import ErrorPoints, LearningCurveView
from gui.plots.axes import set_log_ticks
from gui.plots.base import NEUTRAL, SIM_SYMBOLS, Panel, PlotBase, mkbrush, mkpen
from gui.plots.legend import LegendEntry
from gui.plots.text import SIM_NAMES, curve_label

PARAM_LABELS = {"beta": "p/d = β", "lam": "λ  (ridge, sum convention)", "eta_tilde": "η̃",
                "alpha0": "n₀/d = α₀", "noise": "Δ  (label noise)", "d": "d"}
X_LABELS = {"n/p": "n/p  (samples per feature)", "n/d": "n/d = α  (samples per dimension)"}
#: Relative padding of the x range (the markers at the ends stay inside).
X_PAD = 0.04


class LearningCurvesPlot(PlotBase):
    """Errors against the swept parameter: theory and simulation."""

    name = "learning_curves"
    title = "Learning curves"
    OPTIONS = {**PlotBase.OPTIONS, "x_axis": ("n/p", "n/d")}

    def _build(self) -> pg.GraphicsView:
        view = pg.PlotWidget()
        self._panel = self._add_panel("errors", view.getPlotItem(), legend=True,
                                      readout=("x", "error"))
        return view

    # ------------------------------------------------------------------ x values
    def _per_p(self, param: str) -> bool:
        return param == "alpha" and self.options["x_axis"] == "n/p"

    def _x(self, param: str, x: np.ndarray, x_per_p: np.ndarray | None) -> np.ndarray:
        return x_per_p if self._per_p(param) and x_per_p is not None else x

    def _x_label(self, param: str) -> str:
        if param == "alpha":
            return X_LABELS[self.options["x_axis"]]
        return PARAM_LABELS.get(param, param)

    # ------------------------------------------------------------------ drawing
    def _redraw(self) -> None:
        view = self.view if isinstance(self.view, LearningCurveView) else None
        panel = self._panel
        self._begin()
        log_x, log_y = bool(self.options["log_x"]), bool(self.options["log_y"])
        panel.set_log(log_x, log_y)
        drawn: list[tuple[Any, Any]] = []
        param = "alpha"
        if view is not None:
            param = view.param if view.theory else view.sim_param
            drawn += self._draw_theory(panel, view)
            drawn += self._draw_current(panel, view)
            drawn += self._draw_sims(panel, view)
        fixed = self._frame(panel, _data_frame(drawn, log_x, log_y))
        (x0, x1), (y0, y1) = panel.vb.viewRange()
        set_log_ticks(panel.item.getAxis("bottom"), log_x, (x0, x1))
        set_log_ticks(panel.item.getAxis("left"), log_y, (y0, y1))
        self._legend(panel, view, drawn, fixed)
        self._set_labels(panel, self._x_label(param), "error  (mean squared)")
        self._set_title(panel, "test (solid) and training (dotted) error")
        self._end()
        self._after_redraw()

    def _draw_theory(self, panel: Panel, view: LearningCurveView) -> list[tuple[Any, Any]]:
        st = self._style
        out = []
        rf_drawn = False
        for c in view.theory:
            color = self._color(c.curve)
            x = self._x(view.param, c.x, c.x_per_p)
            series = (f"curve:{c.curve}",)
            panel.pool.line(f"test/{c.curve}", x, c.test, mkpen(color, st.line_width), z=5,
                            series=("test", *series))
            panel.pool.line(f"train/{c.curve}", x, c.train,
                            mkpen(color, st.line_width, Qt.PenStyle.DotLine, 200), z=4,
                            series=("train", *series))
            out += [(x, c.test), (x, c.train)]
            if c.test_rf is not None and not rf_drawn:
                # one baseline: eta_tilde = 0 does not depend on the curves' step settings
                panel.pool.line("rf", x, c.test_rf,
                                mkpen(NEUTRAL, st.line_width, Qt.PenStyle.DashLine, 220), z=3,
                                series=("rf",))
                out.append((x, c.test_rf))
                rf_drawn = True
        return out

    def _draw_current(self, panel: Panel, view: LearningCurveView) -> list[tuple[Any, Any]]:
        if view.current is None or not view.theory:
            return []
        st = self._style
        x, x_per_p, test = view.current
        xc = x_per_p if self._per_p(view.param) and x_per_p is not None else x
        panel.pool.points("current", [xc], [test], symbol="+", size=st.marker_size * 2.2,
                          pen=mkpen(st.foreground, 2.0), brush=mkbrush(st.foreground), z=3,
                          series=("current",))
        return [([xc], [test])]

    def _draw_sims(self, panel: Panel, view: LearningCurveView) -> list[tuple[Any, Any]]:
        st = self._style
        out = []
        for s in view.sims:
            color = self._color(s.curve)
            x = self._x(view.sim_param, s.x, s.x_per_p)
            lo, hi = _bar_ends(s, panel.log[1])
            series = (s.model, f"curve:{s.curve}")
            key = f"{s.model}/{s.curve}"
            panel.pool.segments(f"bars_{key}", np.repeat(x, 2), np.column_stack([lo, hi]).ravel(),
                                mkpen(color, max(1.0, 0.6 * st.line_width)), z=6,
                                series=series)
            hollow = s.model == "srf"
            panel.pool.points(f"sim_{key}", x, s.test_mean, symbol=SIM_SYMBOLS[s.model],
                              size=st.marker_size, pen=mkpen(color, 1.5),
                              brush=mkbrush(st.background if hollow else color), z=7,
                              series=series)
            out += [(x, s.test_mean), (x, hi), (x, lo)]
        return out

    # ------------------------------------------------------------------ legend
    def _legend(self, panel: Panel, view: LearningCurveView | None,
                drawn: list[tuple[Any, Any]], fixed: bool) -> None:
        legend = panel.open_legend(view is not None and bool(view.theory or view.sims))
        if legend is None:
            return
        curves = self._curve_entries(view)
        legend.set_entries(curves, self._key_entries(view, bool(curves)))
        legend.fit(drawn, y_range=None, fixed=fixed)

    def _curve_entries(self, view: LearningCurveView) -> list[LegendEntry]:
        names: dict[int, str] = {}
        for c in (*view.theory, *view.sims):
            names.setdefault(c.curve, curve_label(c.label, c.curve))
        if len(names) < 2 and not any(names.values()):
            return []
        st = self._style
        return [self._entry(name or f"curve {ci + 1}", series=f"curve:{ci}",
                            color=self._color(ci), width=st.line_width * 1.5)
                for ci, name in sorted(names.items())]

    def _key_entries(self, view: LearningCurveView, by_curve: bool) -> list[LegendEntry]:
        """Neutral keys when colour means "which curve"; the curve's colour with one."""
        st = self._style
        kc = NEUTRAL if by_curve else self._color(0)
        keys = []
        if view.theory:
            keys.append(self._entry("test", series="test", color=kc))
            keys.append(self._entry("train", series="train", color=kc,
                                    dash=Qt.PenStyle.DotLine))
        for model in ("network", "srf"):
            if any(s.model == model for s in view.sims):
                keys.append(self._entry(f"{SIM_NAMES[model]} sim.", series=model, color=kc,
                                        symbol=SIM_SYMBOLS[model], hollow=model == "srf"))
        if any(c.test_rf is not None for c in view.theory):
            keys.append(self._entry("random features", series="rf", color=NEUTRAL,
                                    dash=Qt.PenStyle.DashLine))
        if view.current is not None and view.theory:
            keys.append(LegendEntry("current parameters", series="current",
                                    symbol="+", symbol_size=st.marker_size * 1.5,
                                    symbol_pen=mkpen(st.foreground, 2.0),
                                    symbol_brush=mkbrush(st.foreground)))
        return keys


def _bar_ends(s: ErrorPoints, log_y: bool) -> tuple[np.ndarray, np.ndarray]:
    """Error bar ends (mean ± std); on a log axis a bar reaching zero or below is cut
    at a tenth of the mean (it cannot be drawn further down)."""
    lo = s.test_mean - s.test_std
    hi = s.test_mean + s.test_std
    if log_y:
        lo = np.where(lo > 0, lo, 0.1 * s.test_mean)
    return lo, hi


def _data_frame(drawn: list[tuple[Any, Any]], log_x: bool, log_y: bool) -> Any:
    """The drawn values' bounding box, padded (geometrically on a log axis)."""
    xs = [np.asarray(x, float).ravel() for x, _ in drawn]
    ys = [np.asarray(y, float).ravel() for _, y in drawn]
    x = np.concatenate([np.zeros(0), *xs])
    y = np.concatenate([np.zeros(0), *ys])
    ok = np.isfinite(x) & np.isfinite(y)
    if log_x:
        ok &= x > 0
    if log_y:
        ok &= y > 0
    if not ok.any():
        return None
    return _padded(float(x[ok].min()), float(x[ok].max()), log_x, X_PAD), \
        _padded(float(y[ok].min()), float(y[ok].max()), log_y, 0.05)


def _padded(lo: float, hi: float, log: bool, pad: float) -> tuple[float, float]:
    if log:
        ratio = (hi / lo) ** pad if hi > lo else 1.5
        return lo / ratio, hi * ratio
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    return lo - pad * span, hi + pad * span

