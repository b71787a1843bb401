"""The narrow panel of order-``p`` outliers, right of the spectrum's bulk panels.

One labelled row per source, top to bottom: theory, network, sRF (only the rows with
something to show). The theory's predictions are tick marks in their row and thin
dashed guides through every row, so each simulated outlier (a marker per seed) can be
read against them; several curves share a row, each a little offset and in its colour.
The x axis is logarithmic when the outliers span more than a factor
:data:`LOG_SPAN_RATIO`; on a linear axis with one curve, the ticks are the predicted
values themselves.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF

from engine.views import SpectrumView
from gui.plots.axes import few_ticks, log_ticks
from gui.plots.base import SIM_SYMBOLS, legend_font_size, mkbrush, mkpen
from gui.plots.text import LAMBDA, SIM_NAMES, fmt_num

if TYPE_CHECKING:
    from gui.plots.base import PlotBase

#: Outliers spanning more than this factor go on a log axis.
LOG_SPAN_RATIO = 4.0
#: Height of a theory tick mark, in rows.
MARK_HEIGHT = 0.5


class OutlierStrip:
    """The outlier panel of a :class:`~gui.plots.spectrum.SpectrumPlot`."""

    def __init__(self, plot: PlotBase, parent: Any) -> None:
        self._plot = plot
        item = pg.PlotItem()
        item.setParentItem(parent)
        item.setMouseEnabled(y=False)
        self.panel = plot._add_panel("outliers", item, readout=(f"outlier {LAMBDA}", ""))
        self.rows: list[str] = []

    def place(self, grid: Any, rows: int, cols: int, visible: bool) -> None:
        """In ``grid`` right of ``cols`` bulk columns, over all ``rows`` (or hidden)."""
        item = self.panel.item
        if visible:
            grid.addItem(item, 0, cols, rows, 1)
            item.setMaximumWidth(260)
            item.show()
        else:
            item.hide()

    # ------------------------------------------------------------------ drawing
    def draw(self, view: SpectrumView, span: tuple[float, float],
             color: Callable[[int], str]) -> None:
        """Every outlier of ``view``; ``span`` is :meth:`SpectrumView.outlier_span`."""
        panel = self.panel
        lo, hi = span
        log_x = hi / lo > LOG_SPAN_RATIO
        panel.set_log(log_x, False)
        self.rows = self._rows(view)
        y_of = {src: len(self.rows) - 1 - k for k, src in enumerate(self.rows)}
        curves = [ci for ci, _ in view.curves()]
        offset = self._offsets(curves)
        self._draw_theory(view, y_of, offset, color)
        self._draw_sims(view, y_of, offset, color)
        self._axes(view, span, log_x, len(curves))

    def _rows(self, view: SpectrumView) -> list[str]:
        rows = ["theory"] if any(t.outliers.size for t in view.theory) else []
        for model in ("network", "srf"):
            if any(s.model == model and s.outliers.size for s in view.sims):
                rows.append(model)
        return rows

    @staticmethod
    def _offsets(curves: list[int]) -> dict[int, float]:
        """Curves side by side within a row (in rows' units), centred."""
        n = len(curves)
        step = 0.6 / n if n > 1 else 0.0
        return {ci: (k - (n - 1) / 2) * step for k, ci in enumerate(curves)}

    def _draw_theory(self, view: SpectrumView, y_of: dict[str, int],
                     offset: dict[int, float], color: Callable[[int], str]) -> None:
        if "theory" not in y_of:
            return
        st = self._plot.style
        pool = self.panel.pool
        top = len(self.rows) - 0.5
        h = MARK_HEIGHT / max(1, len(offset)) ** 0.5
        for t in view.theory:
            if not t.outliers.size:
                continue
            x = np.repeat(t.outliers, 2)
            y0 = y_of["theory"] + offset.get(t.curve, 0.0)
            marks = np.tile([y0 - h / 2, y0 + h / 2], t.outliers.size)
            series = ("theory_after", f"curve:{t.curve}")
            pool.segments(f"marks/{t.curve}", x, marks, mkpen(color(t.curve), st.line_width),
                          z=3, series=series)
            guides = np.tile([-0.5, top], t.outliers.size)
            pool.segments(f"guides/{t.curve}", x, guides,
                          mkpen(color(t.curve), 1.0, Qt.PenStyle.DashLine, 110), z=1,
                          series=series)

    def _draw_sims(self, view: SpectrumView, y_of: dict[str, int], offset: dict[int, float],
                   color: Callable[[int], str]) -> None:
        st = self._plot.style
        for s in view.sims:
            if s.model not in y_of or not s.outliers.size:
                continue
            c = color(s.curve)
            y = np.full(s.outliers.size, y_of[s.model] + offset.get(s.curve, 0.0))
            hollow = s.model == "srf"
            self.panel.pool.points(
                f"sim_{s.model}/{s.curve}", s.outliers, y, symbol=SIM_SYMBOLS[s.model],
                size=st.marker_size * 0.9, pen=mkpen(c, 1.5),
                brush=mkbrush(st.background if hollow else c, 255 if hollow else 200), z=4,
                series=(s.model, f"curve:{s.curve}"))

    # ------------------------------------------------------------------ axes
    def _axes(self, view: SpectrumView, span: tuple[float, float], log_x: bool,
              n_curves: int) -> None:
        panel = self.panel
        item = panel.item
        plot = self._plot
        lo, hi = span
        if log_x:
            x0, x1 = math.log10(lo / 1.6), math.log10(hi * 1.6)
        else:
            pad = max(0.12 * hi, 0.6 * (hi - lo))
            x0, x1 = lo - pad, hi + pad
        if not plot._frame(panel, None):
            item.setXRange(x0, x1, padding=0)
            item.setYRange(-0.6, len(self.rows) - 0.4, padding=0)
        bottom = item.getAxis("bottom")
        if log_x:
            bottom.setTicks(log_ticks(x0, x1))
        else:
            bottom.setTicks([self._value_ticks(view, x0, x1, n_curves), []])
        left = item.getAxis("left")
        names = [SIM_NAMES.get(src, src) for src in self.rows]
        left.setTicks([[(float(len(self.rows) - 1 - k), name)
                        for k, name in enumerate(names)], []])
        # the row names in the legend's size (the panel is narrow), and room for all of
        # them: pyqtgraph sizes an axis from the labels it drew last, dropping the rest
        font = QFont()
        font.setPointSizeF(legend_font_size(plot.style))
        left.setTickFont(font)
        widest = max((QFontMetricsF(font).horizontalAdvance(n) for n in names), default=0.0)
        left.setWidth(int(widest + 2 * left.style["tickTextOffset"][0] + 8))
        plot._set_labels(panel, f"outliers {LAMBDA}", None)
        plot._set_title(panel, "outliers")

    @staticmethod
    def _value_ticks(view: SpectrumView, x0: float, x1: float,
                     n_curves: int) -> list[tuple[float, str]]:
        """The predicted value as the tick (one curve, one outlier), else two round
        values: the panel is too narrow for more labels at presentation sizes."""
        values = [float(v) for t in view.theory for v in t.outliers]
        if n_curves == 1 and len(values) == 1:
            return [(values[0], fmt_num(values[0]))]
        return few_ticks(x0, x1, 2)
