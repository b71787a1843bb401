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

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.style import ON_SCREEN, PlotStyle

# Keep x data float64 and never downsample step curves (STYLE.md pitfalls).
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
        self._dirty = False
        self._shown_once = False
        #: set by the main window: hidden tabs redraw when shown (or exported)
        self.defer_when_hidden = False
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
            item.showGrid(x=style.grid_alpha > 0, y=style.grid_alpha > 0,
                          alpha=style.grid_alpha)
            title = item.titleLabel.text
            if title:
                item.setTitle(title, color=fg, size=f"{style.title_font_size}pt")
            if item.legend is not None:
                item.legend.setLabelTextColor(fg)
                item.legend.setLabelTextSize(f"{style.tick_font_size}pt")
                item.legend.setBrush(mkbrush(style.background, 200))
                item.legend.setPen(mkpen(fg, 0.5, alpha=80))
        self._redraw()

    def export_data(self) -> dict[str, tuple[list[str], np.ndarray]]:
        """Tables of what is drawn: ``{name: (column names with units, rows)}``."""
        self.ensure_drawn()
        return self._export_tables()

    def _export_tables(self) -> dict[str, tuple[list[str], np.ndarray]]:
        return dict(getattr(self, "_tables", {}))

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
        legend = item.addLegend(offset=offset)
        legend.setLabelTextColor(self._style.foreground)
        legend.setLabelTextSize(f"{self._style.tick_font_size}pt")
        legend.setBrush(mkbrush(self._style.background, 200))
        legend.setPen(mkpen(self._style.foreground, 0.5, alpha=80))

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
            bars = pg.ErrorBarItem(x=x, y=y, top=err, bottom=err, beam=0.0,
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
        """Draw an engine-binned histogram as ONE step curve (STYLE.md pitfalls)."""
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


def log_ticks(lo_exp: int = -6, hi_exp: int = 6) -> list[list[tuple[float, str]]]:
    """Fixed 1-2-5 ticks for a log axis (positions in log10 units, as pyqtgraph wants).

    Why: over a decade or two pyqtgraph labels every minor tick (0.06 0.07 0.08 ...),
    which collide; 1, 2, 5 per decade stay readable at any zoom.
    """
    major = [(float(k), f"{10.0 ** k:g}") for k in range(lo_exp, hi_exp + 1)]
    minor = [(float(np.log10(m * 10.0 ** k)), f"{m * 10.0 ** k:g}")
             for k in range(lo_exp, hi_exp) for m in (2, 5)]
    return [major, minor]


def set_log_ticks(axis: Any, log: bool) -> None:
    """Use :func:`log_ticks` on a log axis, pyqtgraph's automatic ticks otherwise."""
    axis.setTicks(log_ticks() if log else None)


def nan_to_none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else x
