"""Base class of every plot module and the view of results the plots read.

The interface (relied on by ``gui/figure_export.py`` and ``gui/headless.py``):

- ``name`` (file-name friendly) and ``title``;
- ``plot_widget``: the pyqtgraph widget on screen, and ``graphics_view()`` returning
  the :class:`pyqtgraph.GraphicsView` to render (the same widget here);
- ``set_result(result)`` with a :class:`~engine.results.RunResult`, a
  :class:`~engine.results.PointResult` or a :class:`gui.tasks.TheoryBundle`;
  ``clear()``; ``apply_style(style)``;
- ``export_data() -> {table name: (column names with units, rows)}``.

The GUI also uses ``set_theory`` (live theory, keeps the simulation), ``set_simulation``
/ ``add_point`` (streamed simulation points, keeps the theory) and ``set_extras``.
Plots only draw: every number they show was computed by the engine or in a worker.
"""

from __future__ import annotations

import contextlib
import math
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.style import ON_SCREEN, PlotStyle

# Keep x data float64 and never downsample step curves (docs/architecture.md#pitfalls).
pg.setConfigOptions(antialias=True)


@dataclass
class ResultView:
    """The curves of a result as mutable lists, so that streamed points can be added.

    Attributes
    ----------
    config : Config or None
    sweep_param : str or None
    curves : list of (label, list of PointResult or None)
    """

    config: Any = None
    sweep_param: str | None = None
    curves: list[tuple[str, list[Any]]] = field(default_factory=list)
    snapshot: list[Any] = field(default_factory=list)

    @classmethod
    def from_result(cls, result: Any) -> ResultView | None:
        """Wrap a RunResult, a PointResult or a TheoryBundle (None stays None)."""
        if result is None:
            return None
        if isinstance(result, ResultView):
            return result
        if hasattr(result, "snapshot") and hasattr(result, "result"):  # TheoryBundle
            view = cls.from_result(result.result)
            if view is not None:
                view.snapshot = list(result.snapshot)
            return view
        if hasattr(result, "curves"):
            return cls(result.config, result.sweep_param,
                       [(c.label, list(c.points)) for c in result.curves])
        if hasattr(result, "sims"):  # a single PointResult
            return cls(None, None, [("", [result])])
        raise TypeError(f"cannot draw a {type(result).__name__}")

    @classmethod
    def empty_like(cls, config: Any) -> ResultView:
        """An empty view shaped like ``config``'s curves and sweep (for streaming)."""
        labels = [c.label for c in config.run.curves] or [""]
        n_points = len(config.run.sweep.values) if config.run.sweep is not None else 1
        sweep = config.run.sweep.param if config.run.sweep is not None else None
        return cls(config, sweep, [(lab, [None] * n_points) for lab in labels])

    def add_point(self, curve_index: int, point_index: int, point: Any) -> None:
        while len(self.curves) <= curve_index:
            self.curves.append(("", []))
        label, points = self.curves[curve_index]
        while len(points) <= point_index:
            points.append(None)
        points[point_index] = point

    def has_sims(self) -> bool:
        return any(p is not None and p.sims for _, pts in self.curves for p in pts)

    def has_theory(self) -> bool:
        if self.snapshot:
            return True
        return any(p is not None and (p.theory_spectrum is not None
                                      or p.theory_ridge is not None
                                      or p.theory_weights is not None
                                      or p.expressivity is not None)
                   for _, pts in self.curves for p in pts)

    def selected_points(self) -> list[tuple[int, str, Any]]:
        """One point per curve: the one at the base model's value of the swept parameter.

        Spectrum-like plots show one parameter point; with a sweep, the point whose
        value is nearest to the panel's value is the one the user is looking at.
        """
        if self.snapshot:
            labels = [label for label, _ in self.curves]
            return [(i, labels[i] if i < len(labels) else "", p)
                    for i, p in enumerate(self.snapshot)]
        out = []
        target = None
        if self.config is not None and self.sweep_param is not None:
            target = getattr(self.config.model, self.sweep_param, None)
        for i, (label, points) in enumerate(self.curves):
            present = [p for p in points if p is not None]
            if not present:
                continue
            best = present[0]
            if target is not None and len(present) > 1:
                def dist(p: Any) -> float:
                    try:
                        return abs(float(p.value) - float(target))
                    except (TypeError, ValueError):
                        return math.inf
                best = min(present, key=dist)
            out.append((i, label, best))
        return out


def curve_label(label: str, index: int) -> str:
    """Legend text of a curve (unlabelled single curves get no suffix)."""
    return label if label else ("" if index == 0 else f"curve {index + 1}")


def sim_values(point: Any, attr: str, model: str) -> np.ndarray:
    """Per-seed scalar ``attr`` of the simulated ``model`` at ``point`` (NaN-free)."""
    seeds = point.sims.get(model, ()) if point is not None else ()
    vals = [getattr(s, attr) for s in seeds if getattr(s, attr, None) is not None]
    arr = np.asarray(vals, dtype=float)
    return arr[np.isfinite(arr)]


def pooled(point: Any, attr: str, model: str) -> np.ndarray:
    """Concatenate the per-seed arrays ``attr`` of the simulated ``model``."""
    seeds = point.sims.get(model, ()) if point is not None else ()
    arrays = [np.asarray(getattr(s, attr), dtype=float) for s in seeds
              if getattr(s, attr, None) is not None]
    return np.concatenate(arrays) if arrays else np.zeros(0)


def mkpen(color: str, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine,
          alpha: int = 255) -> Any:
    c = QColor(color)
    c.setAlpha(alpha)
    pen = pg.mkPen(c, width=width)
    pen.setStyle(style)
    pen.setCosmetic(True)
    return pen


def mkbrush(color: str, alpha: int = 255) -> Any:
    c = QColor(color)
    c.setAlpha(alpha)
    return pg.mkBrush(c)


#: pixels between a legend and the edge of its plot
LEGEND_MARGIN = 6


def legend_font_size(style: PlotStyle) -> float:
    """Legend text size in points: 3/4 of the axis labels in the presentation style."""
    if style.name == "presentation":
        return 0.75 * style.font_size
    return style.tick_font_size


def _luminance(color: str) -> float:
    c = QColor(color)
    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 = identical luminance, 21 = black/white)."""
    la, lb = _luminance(a), _luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def _distance(a: str, b: str) -> float:
    ca, cb = QColor(a), QColor(b)
    return math.sqrt((ca.red() - cb.red()) ** 2 + (ca.green() - cb.green()) ** 2
                     + (ca.blue() - cb.blue()) ** 2)


def curve_palette(style: PlotStyle) -> tuple[str, ...]:
    """The style's palette minus colours that would vanish or be mistaken.

    Dropped: colours with a contrast ratio below 1.6 against the background (yellow
    on white) and colours near the foreground, which draws targets and baselines.
    """
    keep = tuple(c for c in style.palette
                 if contrast_ratio(c, style.background) >= 1.6
                 and _distance(c, style.foreground) > 60)
    return keep or style.palette


#: grey of style keys and of the random-features baseline (reads on both backgrounds)
NEUTRAL = "#8C8C8C"

SIM_SYMBOLS = {"network": "o", "srf": "t"}
SIM_NAMES = {"network": "network", "srf": "sRF"}


class PlotBase(QWidget):
    """A plot tab: a pyqtgraph view, a cursor readout and a small drawing protocol.

    Subclasses build their plot items in ``_build`` and draw everything in ``_redraw``
    from ``self._theory`` / ``self._sim`` (:class:`ResultView`) and ``self._extras``.
    """

    name = "plot"
    title = "Plot"

    #: Text of the cursor readout (also shown in the main window's status bar).
    sig_status = Signal(str)

    def __init__(self, style: PlotStyle = ON_SCREEN, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._style = style
        self._theory: ResultView | None = None
        self._sim: ResultView | None = None
        self._extras: Any = None
        self.options: dict[str, Any] = {"log_x": False, "log_y": False, "overlay": True,
                                        "x_axis": "n/p"}
        self._readouts: dict[Any, tuple[str, str]] = {}
        self._legend_fits: dict[Any, tuple[list[tuple[Any, Any]], tuple[str, ...]]] = {}
        self._legend_hooks: set[Any] = set()
        self._dirty = False
        self._shown_once = False
        #: set by the main window: hidden tabs redraw when shown (or exported)
        self.defer_when_hidden = False
        #: what is drawn, as tables for export_data (refilled by every _redraw)
        self._tables: dict[str, tuple[list[str], np.ndarray]] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.plot_widget: pg.GraphicsView = self._build()
        layout.addWidget(self.plot_widget, 1)
        self.status_label = QLabel(" ")
        self.status_label.setObjectName("plotReadout")
        layout.addWidget(self.status_label)
        self.apply_style(style)

    # ------------------------------------------------------------------ interface
    def graphics_view(self) -> pg.GraphicsView:
        """The view to render for export (the whole figure, all panels), up to date."""
        self.ensure_drawn()
        return self.plot_widget

    def ensure_drawn(self) -> None:
        """Apply a redraw that was deferred while this tab was hidden."""
        if self._dirty:
            self._dirty = False
            self._redraw()

    def _schedule(self) -> None:
        # Why defer: a slider drag produces a theory result every ~150 ms and redrawing
        # six tabs each time is wasted work; hidden tabs redraw when shown (or exported).
        # A plot never shown (headless export) draws at once, unless its owner (the
        # main window's tabs) says it will be shown or exported through ensure_drawn.
        if (self.defer_when_hidden or self._shown_once) and not self.isVisible():
            self._dirty = True
            return
        self._dirty = False
        self._redraw()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._shown_once = True
        self.ensure_drawn()

    def plot_items(self) -> list[pg.PlotItem]:
        """Every PlotItem of this figure (for styling and export)."""
        view = self.plot_widget
        if isinstance(view, pg.PlotWidget):
            return [view.getPlotItem()]
        items = []
        if isinstance(view, pg.GraphicsLayoutWidget):
            for item in view.ci.items:
                if isinstance(item, pg.PlotItem):
                    items.append(item)
        return items

    @property
    def style(self) -> PlotStyle:
        return self._style

    def set_result(self, result: Any) -> None:
        """Draw everything in ``result`` (theory and simulation), replacing both."""
        extras = getattr(result, "extras", None)
        view = ResultView.from_result(result)
        self._theory = view if view is not None and view.has_theory() else None
        self._sim = view if view is not None and view.has_sims() else None
        if extras is not None:
            self._extras = extras
        self._schedule()

    def set_theory(self, result: Any) -> None:
        """Replace the theory, keep the simulation (live theory)."""
        self._theory = ResultView.from_result(result)
        extras = getattr(result, "extras", None)
        if extras is not None:
            self._extras = extras
        self._schedule()

    def set_simulation(self, result: Any) -> None:
        """Replace the simulation (a RunResult or a streamed :class:`ResultView`)."""
        self._sim = ResultView.from_result(result)
        self._schedule()

    def set_extras(self, extras: Any) -> None:
        """Theory extras from :func:`gui.tasks.theory_task` (ignored by most plots)."""
        self._extras = extras
        self._schedule()

    def set_option(self, key: str, value: Any) -> None:
        if self.options.get(key) != value:
            self.options[key] = value
            self._schedule()

    def clear(self) -> None:
        """Forget and erase everything."""
        self._theory = None
        self._sim = None
        self._extras = None
        self._schedule()

    def apply_style(self, style: PlotStyle) -> None:
        """Restyle background, axes, fonts and redraw the data with the new palette."""
        self._style = style
        view = self.plot_widget
        view.setBackground(style.background)
        fg = style.foreground
        tick_font = QFont()
        tick_font.setPointSizeF(style.tick_font_size)
        for item in self.plot_items():
            for axis_name in ("left", "bottom", "right", "top"):
                axis = item.getAxis(axis_name)
                axis.setPen(mkpen(fg, 1.0))
                axis.setTextPen(mkpen(fg, 1.0))
                axis.setTickFont(tick_font)
                label_style = {"color": fg, "font-size": f"{style.font_size}pt"}
                axis.labelStyle = label_style
                axis._updateLabel()  # noqa: SLF001 - re-render label with the new style
                # "(x0.001)" prefixes on unitless errors read as a different quantity
                axis.enableAutoSIPrefix(False)
                # pyqtgraph 0.14 still computes a prefix scale when disabling it (from the
                # current range: 0..0.6 would read 0..600); reset it explicitly.
                axis.autoSIPrefixScale = 1.0
                axis.labelUnitPrefix = ""
                axis._updateLabel()  # noqa: SLF001
                axis.picture = None
            item.showGrid(x=style.grid_alpha > 0, y=style.grid_alpha > 0,
                          alpha=style.grid_alpha)
            title = item.titleLabel.text
            if title:
                item.setTitle(title, color=fg, size=f"{style.title_font_size}pt")
            if item.legend is not None:
                self._style_legend(item.legend)
        self._redraw()

    def export_data(self) -> dict[str, tuple[list[str], np.ndarray]]:
        """Tables of what is drawn: ``{name: (column names with units, rows)}``."""
        self.ensure_drawn()
        return self._export_tables()

    def _export_tables(self) -> dict[str, tuple[list[str], np.ndarray]]:
        return dict(self._tables)

    def _begin_redraw(self) -> bool:
        """Clear every plot item and the export tables before drawing anew.

        Returns False while ``_build`` is still running (there is nothing to draw on).
        """
        if not hasattr(self, "plot_widget"):
            return False
        for item in self.plot_items():
            item.clear()
        self._tables = {}
        return True

    # ------------------------------------------------------------------ helpers
    def _build(self) -> pg.GraphicsView:  # pragma: no cover - abstract
        raise NotImplementedError

    def _redraw(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _set_title(self, item: pg.PlotItem, text: str) -> None:
        item.setTitle(text, color=self._style.foreground,
                      size=f"{self._style.title_font_size}pt")

    def _set_labels(self, item: pg.PlotItem, bottom: str, left: str) -> None:
        item.setLabel("bottom", bottom)
        item.setLabel("left", left)

    def _add_legend(self, item: pg.PlotItem, offset: tuple[int, int] = (-10, 10)) -> None:
        legend = item.addLegend(offset=offset, horSpacing=4, verSpacing=-2)
        self._style_legend(legend)

    def _style_legend(self, legend: pg.LegendItem) -> None:
        """Legend text smaller than the axis labels, background mostly transparent.

        Why: at presentation sizes a legend in the axis font covers most of the data.
        """
        st = self._style
        legend.setLabelTextColor(st.foreground)
        legend.setLabelTextSize(f"{legend_font_size(st):g}pt")
        legend.setBrush(mkbrush(st.background, 120 if st.name == "presentation" else 150))
        legend.setPen(mkpen(st.foreground, 0.5, alpha=60))

    def _curve_color(self, index: int) -> str:
        """Colour of curve ``index``: the palette without colours that vanish.

        Colours close to the background (Okabe–Ito yellow on white) or to the
        foreground (black, kept for targets and baselines) are skipped.
        """
        return curve_palette(self._style)[index % len(curve_palette(self._style))]

    def _key_sample(self, item: pg.PlotItem, *, pen: Any = None, symbol: str | None = None,
                    brush: Any = None, symbol_pen: Any = None,
                    fill: Any = None) -> pg.PlotDataItem:
        """An empty item added to ``item`` that only serves as a legend sample.

        It lives in the scene so that the exporter widens its pen with the DPI.
        """
        kw: dict[str, Any] = {"pen": pen}
        if symbol is not None:
            kw.update(symbol=symbol, symbolSize=self._style.marker_size,
                      symbolBrush=brush, symbolPen=symbol_pen)
        if fill is not None:
            kw.update(fillLevel=0.0, brush=fill)
        sample = pg.PlotDataItem([], [], **kw)
        if symbol is not None:
            # the legend draws markers from the (empty) scatter's options
            sample.scatter.opts.update(symbol=symbol, size=self._style.marker_size,
                                       pen=symbol_pen, brush=brush)
        item.addItem(sample)
        return sample

    def _compact_legend(self, item: pg.PlotItem, curves: list[tuple[str, Any]],
                        keys: list[tuple[str, Any]]) -> None:
        """Fill ``item``'s legend: curve names in one column, the style key in the next.

        ``curves`` are (name, sample in the curve's colour), ``keys`` (name, sample
        drawn in a neutral colour): one entry per curve and one per line/marker kind
        instead of one per curve and kind.
        """
        legend = item.legend
        if legend is None:
            return
        legend.clear()
        size = f"{legend_font_size(self._style):g}pt"
        groups = [curves, keys]
        if not curves and len(keys) > 4:
            # no curve column: a long key list is split in two (stacked again if too wide)
            half = (len(keys) + 1) // 2
            groups = [keys[:half], keys[half:]]
        columns = []
        for entries in groups:
            col = []
            for name, sample_item in entries:
                label = pg.LabelItem(name, color=self._style.foreground, justify="left",
                                     size=size)
                sample = legend.sampleType(sample_item)
                legend.items.append((sample, label))
                col.append((sample, label))
            if col:
                columns.append(col)
        legend._fsl_columns = columns  # noqa: SLF001 - re-laid out by _refit_legend
        legend._fsl_laid_out = False  # noqa: SLF001
        self._layout_legend(legend, two_columns=True)

    def _layout_legend(self, legend: pg.LegendItem, *, two_columns: bool) -> None:
        """Curves | keys side by side, or stacked in one column when too wide."""
        columns = getattr(legend, "_fsl_columns", None)
        if columns is None:
            return
        layout = legend.layout
        if getattr(legend, "_fsl_laid_out", False):
            for entries in columns:
                for sample, label in entries:
                    layout.removeItem(sample)
                    layout.removeItem(label)
        legend._fsl_laid_out = True  # noqa: SLF001
        for i in range(4):
            layout.setColumnSpacing(i, 4)
        row0 = 0
        for col, entries in enumerate(columns):
            c = col if two_columns else 0
            for row, (sample, label) in enumerate(entries):
                r = row if two_columns else row0 + row
                layout.addItem(sample, r, 2 * c, alignment=Qt.AlignmentFlag.AlignVCenter)
                layout.addItem(label, r, 2 * c + 1)
            row0 += len(entries)
        if two_columns and len(columns) > 1:
            layout.setColumnSpacing(1, 14)
        legend.rowCount = (max((len(c) for c in columns), default=0) if two_columns
                           else row0)
        legend._fsl_two_columns = two_columns  # noqa: SLF001
        self._fit_legend_size(legend)

    @staticmethod
    def _fit_legend_size(legend: pg.LegendItem) -> None:
        # LegendItem.updateSize ignores the layout's spacing: size from the layout.
        legend.updateSize()
        legend.layout.invalidate()
        hint = legend.layout.effectiveSizeHint(Qt.SizeHint.PreferredSize)
        if legend.items:
            legend.setGeometry(0, 0, hint.width(), hint.height())

    def _fit_legend(self, item: pg.PlotItem, series: list[tuple[Any, Any]],
                    corners: tuple[str, ...] = ("top-right", "top-left")) -> None:
        """Put the legend in the corner (of ``corners``) where it needs the least room.

        ``series`` are the (x, y) data drawn (error bars included as extra points).
        The y range is widened just enough that the legend sits above (below, for a
        bottom corner) the data in the x span it covers, recomputed when the plot is
        resized (the exporter lays the figure out at its own size).
        """
        self._legend_fits[item] = (series, corners)
        if item not in self._legend_hooks:
            self._legend_hooks.add(item)
            ref = weakref.ref(self)

            def refit(*_args: Any, it: Any = item) -> None:
                # weak: a resize during teardown must not reach a deleted plot
                plot = ref()
                if plot is not None:
                    with contextlib.suppress(RuntimeError):
                        plot._refit_legend(it)  # noqa: SLF001

            item.vb.sigResized.connect(refit)
        self._refit_legend(item)

    def _refit_legend(self, item: pg.PlotItem) -> None:
        fit = self._legend_fits.get(item)
        legend = item.legend
        if fit is None or legend is None:
            return
        series, corners = fit
        log_x = item.ctrl.logXCheck.isChecked()
        log_y = item.ctrl.logYCheck.isChecked()
        xs, ys = [], []
        for x, y in series:
            x = np.asarray(x, dtype=np.float64).ravel()
            y = np.asarray(y, dtype=np.float64).ravel()
            n = min(x.size, y.size)
            x, y = x[:n], y[:n]
            with np.errstate(divide="ignore", invalid="ignore"):
                if log_x:
                    x = np.where(x > 0, np.log10(np.abs(x)), np.nan)
                if log_y:
                    y = np.where(y > 0, np.log10(np.abs(y)), np.nan)
            ok = np.isfinite(x) & np.isfinite(y)
            xs.append(x[ok])
            ys.append(y[ok])
        x = np.concatenate(xs) if xs else np.zeros(0)
        y = np.concatenate(ys) if ys else np.zeros(0)
        if not legend.items or y.size == 0:
            legend.setOffset((-LEGEND_MARGIN, LEGEND_MARGIN))
            return
        y_lo, y_hi = float(y.min()), float(y.max())
        span = max(y_hi - y_lo, 1e-12 + 1e-6 * abs(y_hi))
        y_lo, y_hi = y_lo - 0.05 * span, y_hi + 0.05 * span
        if item.vb.state["autoRange"][0] is False:
            x_lo, x_hi = item.vb.viewRange()[0]
        else:
            x_lo, x_hi = float(x.min()), float(x.max())
            pad = 0.02 * max(x_hi - x_lo, 1e-12)
            x_lo, x_hi = x_lo - pad, x_hi + pad
        vb_w, vb_h = item.vb.width(), item.vb.height()
        if vb_w < 20 or vb_h < 20:
            return
        rect = legend.boundingRect()
        columns = getattr(legend, "_fsl_columns", None) or []
        if len(columns) > 1:
            # side by side unless wider than the plot, then stacked
            if not getattr(legend, "_fsl_two_columns", True):
                self._layout_legend(legend, two_columns=True)
                rect = legend.boundingRect()
            if rect.width() + 2 * LEGEND_MARGIN > vb_w:
                self._layout_legend(legend, two_columns=False)
                rect = legend.boundingRect()
        # still too wide for a narrow panel: shrink it (down to half) rather than clip
        scale = 1.0
        if rect.width() > 0 and rect.width() + 2 * LEGEND_MARGIN > vb_w:
            scale = max(0.5, (vb_w - 2 * LEGEND_MARGIN) / rect.width())
        legend.setScale(scale)
        rect = QRectF(0, 0, rect.width() * scale, rect.height() * scale)
        w_frac = min(1.0, (rect.width() + 2 * LEGEND_MARGIN) / vb_w)
        h_frac = min(0.6, (rect.height() + 2 * LEGEND_MARGIN) / vb_h)
        best: tuple[float, float, float, str] | None = None
        for corner in corners:
            if corner.endswith("right"):
                under = x >= x_hi - w_frac * (x_hi - x_lo)
            else:
                under = x <= x_lo + w_frac * (x_hi - x_lo)
            lo, hi = y_lo, y_hi
            if under.any():
                if corner.startswith("top"):
                    m = float(y[under].max()) + 0.02 * span
                    hi = max(y_hi, (m - h_frac * y_lo) / (1.0 - h_frac))
                else:
                    m = float(y[under].min()) - 0.02 * span
                    lo = min(y_lo, (m - h_frac * y_hi) / (1.0 - h_frac))
            if best is None or hi - lo < best[0] - 1e-9 * span:
                best = (hi - lo, lo, hi, corner)
        assert best is not None
        _, lo, hi, corner = best
        item.setYRange(lo, hi, padding=0)
        dy = LEGEND_MARGIN if corner.startswith("top") else -LEGEND_MARGIN
        dx = -LEGEND_MARGIN if corner.endswith("right") else LEGEND_MARGIN
        legend.setOffset((dx, dy))

    def _install_readout(self, item: pg.PlotItem, x_name: str, y_name: str) -> None:
        """Show the data coordinates under the cursor in the readout label."""
        self._readouts[item] = (x_name, y_name)
        if len(self._readouts) == 1:
            item.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)

    @Slot(object)
    def _on_scene_mouse_moved(self, pos: QPointF) -> None:
        for item, (x_name, y_name) in self._readouts.items():
            if item.sceneBoundingRect().contains(pos):
                p = item.vb.mapSceneToView(pos)
                x, y = p.x(), p.y()
                log_x, log_y = item.ctrl.logXCheck.isChecked(), item.ctrl.logYCheck.isChecked()
                if log_x:
                    x = 10.0 ** x
                if log_y:
                    y = 10.0 ** y
                text = f"{x_name} = {x:.4g}    {y_name} = {y:.4g}"
                self.status_label.setText(text)
                self.sig_status.emit(text)
                return

    def _line(self, item: pg.PlotItem, x: Any, y: Any, color: str, *, name: str | None = None,
              width: float | None = None, dash: bool = False, dotted: bool = False,
              alpha: int = 255) -> pg.PlotDataItem:
        style = Qt.PenStyle.DashLine if dash else (Qt.PenStyle.DotLine if dotted
                                                  else Qt.PenStyle.SolidLine)
        pen = mkpen(color, width or self._style.line_width, style, alpha)
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        curve = pg.PlotDataItem(x, y, pen=pen, name=name, connect="finite")
        item.addItem(curve)
        return curve

    def _points(self, item: pg.PlotItem, x: Any, y: Any, color: str, *, symbol: str = "o",
                name: str | None = None, err: Any = None, hollow: bool = False,
                size: float | None = None) -> pg.PlotDataItem:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        size = size or self._style.marker_size
        if err is not None:
            err = np.asarray(err, dtype=np.float64)
            # ErrorBarItem ignores the plot's log mode: give it view (log10) coordinates.
            # The plot's log mode must be set before drawing for this.
            bx, by, top, bottom = x, y, err, err
            with np.errstate(divide="ignore", invalid="ignore"):
                if item.ctrl.logXCheck.isChecked():
                    bx = np.where(x > 0, np.log10(np.abs(x)), np.nan)
                if item.ctrl.logYCheck.isChecked():
                    by = np.where(y > 0, np.log10(np.abs(y)), np.nan)
                    top = np.log10(y + err) - by
                    bottom = by - np.log10(np.maximum(y - err, 1e-3 * y))
            bars = pg.ErrorBarItem(x=bx, y=by, top=top, bottom=bottom, beam=0.0,
                                   pen=mkpen(color, max(1.0, self._style.line_width * 0.6)))
            item.addItem(bars)
        brush = mkbrush(self._style.background) if hollow else mkbrush(color)
        scatter = pg.PlotDataItem(x, y, pen=None, symbol=symbol, symbolSize=size,
                                  symbolBrush=brush, symbolPen=mkpen(color, 1.5), name=name)
        item.addItem(scatter)
        return scatter

    def _histogram(self, item: pg.PlotItem, eigenvalues: np.ndarray, color: str, *,
                   name: str | None = None, bins: int = 60,
                   value_range: tuple[float, float] | None = None) -> tuple[Any, Any] | None:
        """Draw an engine-binned histogram as ONE step curve (docs/architecture.md#pitfalls)."""
        if eigenvalues.size == 0:
            return None
        from engine.spectra import histogram  # lazy: the engine may still be arriving

        edges, density = histogram(eigenvalues, bins=bins, range=value_range)
        edges = np.asarray(edges, dtype=np.float64)
        density = np.asarray(density, dtype=np.float64)
        curve = pg.PlotDataItem(edges, density, stepMode="center", name=name,
                                pen=mkpen(color, 1.2, alpha=220),
                                fillLevel=0.0, brush=mkbrush(color, self._style.histogram_alpha))
        item.addItem(curve)
        return edges, density


def log_ticks(lo_exp: int = -6, hi_exp: int = 6,
              minor_labels: bool = True) -> list[list[tuple[float, str]]]:
    """Fixed 1-2-5 ticks for a log axis (positions in log10 units, as pyqtgraph wants).

    Why: over a decade or two pyqtgraph labels every minor tick (0.06 0.07 0.08 ...),
    which collide; 1, 2, 5 per decade stay readable at any zoom. Over many decades
    even 2 and 5 collide ("0.0050.01"): ``minor_labels=False`` leaves them unlabelled.
    """
    major = [(float(k), f"{10.0 ** k:g}") for k in range(lo_exp, hi_exp + 1)]
    minor = [(float(np.log10(m * 10.0 ** k)), f"{m * 10.0 ** k:g}" if minor_labels else "")
             for k in range(lo_exp, hi_exp) for m in (2, 5)]
    return [major, minor]


def set_log_ticks(axis: Any, log: bool, minor_labels: bool = True) -> None:
    """Use :func:`log_ticks` on a log axis, pyqtgraph's automatic ticks otherwise."""
    axis.setTicks(log_ticks(minor_labels=minor_labels) if log else None)


def nan_to_none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else x
