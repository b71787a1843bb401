"""Base class of every plot tab: it draws one engine view, nothing else.

The interface (used by the main window, the headless export and the figure exporter):

- ``name`` (the view's name in :attr:`engine.views.Views.NAMES`) and ``title``;
- ``set_views(views)`` draws ``views.view(name)`` (None clears); ``views`` keeps the
  configuration and seeds for provenance; ``clear()``;
- ``export_data()`` returns exactly the view's ``tables()``: a figure and the command
  line's ``view_<name>.json`` hold the same numbers by construction;
- ``options`` and ``set_option(key, value)`` (``log_x``, ``log_y`` and each plot's own);
  ``view_state()`` / ``apply_view_state(state)``: options, the ranges the user zoomed
  to and the series hidden from the legend, as JSON (sessions and presets);
- ``apply_style(style)``, ``graphics_view()``, ``ensure_drawn()`` (a hidden tab redraws
  when shown or exported), ``defer_when_hidden``, ``sig_status`` (cursor readout).

Plots only format and draw (docs/architecture.md): every number comes from the view —
histograms, means, outlier positions and frames included. A hint for the user (e.g. how
to get a simulation) goes in ``hint_label`` below the figure, never into the scene, so
no export carries it.

Each plot is made of *panels* (:class:`Panel`: a ``PlotItem`` with its reusable items and
optionally a :class:`~gui.plots.legend.CompactLegend`); panels of one *zoom group* (e.g.
linked small multiples) share the user's zoom.
"""

from __future__ import annotations

import functools
import math
from typing import Any, ClassVar

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine.config import Config
from engine.views import View, Views
from gui.plots.items import ItemPool
from gui.plots.legend import CompactLegend, LegendEntry
from gui.plots.text import fmt_num
from gui.style import ON_SCREEN, PlotStyle

# Antialiased lines; the exporter turns it on for every item anyway.
pg.setConfigOptions(antialias=True)

#: Grey of style keys and of the random-features baseline (reads on both backgrounds).
NEUTRAL = "#8C8C8C"
#: Marker of each simulated model: filled circles (network), hollow triangles (sRF).
SIM_SYMBOLS = {"network": "o", "srf": "t"}

Table = tuple[list[str], np.ndarray]
Range = tuple[tuple[float, float], tuple[float, float]]


# =========================================================================== colours


def mkpen(color: str, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine,
          alpha: int = 255) -> Any:
    """A cosmetic pen (width in pixels at any zoom; the exporter scales it by dpi/96)."""
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


@functools.lru_cache(maxsize=8)
def curve_palette(style: PlotStyle) -> tuple[str, ...]:
    """The style's palette minus colours that would vanish or be mistaken.

    Dropped: colours with a contrast ratio below 1.6 against the background (yellow on
    white) and colours near the foreground, which draws targets and baselines.
    """
    keep = tuple(c for c in style.palette
                 if contrast_ratio(c, style.background) >= 1.6
                 and _distance(c, style.foreground) > 60)
    return keep or style.palette


def legend_font_size(style: PlotStyle) -> float:
    """Legend text size in points: 3/4 of the axis labels in the presentation style."""
    if style.name == "presentation":
        return 0.75 * style.font_size
    return style.tick_font_size


# =========================================================================== panels


class Panel:
    """One ``PlotItem`` of a figure: its reusable items, legend, zoom group and readout.

    Parameters
    ----------
    item : pyqtgraph.PlotItem
    group : str
        Zoom group: panels of a group are linked and share the user's zoom.
    readout : (str, str)
        Names of x and y in the cursor readout.
    """

    def __init__(self, item: pg.PlotItem, group: str, readout: tuple[str, str]) -> None:
        self.item = item
        self.group = group
        self.readout = readout
        self.pool = ItemPool(item)
        self.legend: CompactLegend | None = None
        #: (text, colour, size) of the title shown
        self.title: tuple[str, str, str] | None = None
        # the plots set every range themselves (and the legend fit reads them)
        item.vb.disableAutoRange()

    @property
    def vb(self) -> pg.ViewBox:
        return self.item.vb

    def open_legend(self, shown: bool) -> CompactLegend | None:
        """The panel's legend, shown; or emptied and hidden (None) when not ``shown``."""
        legend = self.legend
        assert legend is not None
        if not shown:
            legend.set_entries([], [])
            legend.hide()
            return None
        legend.show()
        return legend

    def set_log(self, x: bool, y: bool) -> None:
        """Log modes, set only on a change (each change re-maps every item)."""
        ctrl = self.item.ctrl
        if ctrl.logXCheck.isChecked() != x or ctrl.logYCheck.isChecked() != y:
            self.item.setLogMode(x=x, y=y)

    @property
    def log(self) -> tuple[bool, bool]:
        ctrl = self.item.ctrl
        return ctrl.logXCheck.isChecked(), ctrl.logYCheck.isChecked()

    def to_view(self, value: float, axis: int) -> float:
        """A data value in view coordinates (log10 on a log axis)."""
        if self.log[axis]:
            return math.log10(value) if value > 0 else math.nan
        return value


# =========================================================================== the base


class PlotBase(QWidget):
    """A plot tab: one engine view drawn in one or more panels.

    Subclasses create their panels in ``_build`` (returning the graphics view) and
    draw the view in ``_redraw`` (one method per layer: theory, simulation, legend,
    axes).
    """

    name: ClassVar[str] = "plot"
    title: ClassVar[str] = "Plot"
    #: Every option and its allowed values; the first is the default.
    OPTIONS: ClassVar[dict[str, tuple[Any, ...]]] = {"log_x": (False, True),
                                                      "log_y": (False, True)}
    #: Options that take any finite number (e.g. a contour level): their ``OPTIONS``
    #: entry holds the default only.
    NUMBER_OPTIONS: ClassVar[frozenset[str]] = frozenset()
    #: Whether ``log_x`` / ``log_y`` change the axes (the View menu's toggles are greyed
    #: out on plots whose axes are fixed by what they show).
    LOG_AXES: ClassVar[bool] = True

    #: Text of the cursor readout (also shown in the main window's status bar).
    sig_status = Signal(str)

    def __init__(self, style: PlotStyle = ON_SCREEN, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._style = style
        self._views: Views | None = None
        self.options: dict[str, Any] = {k: v[0] for k, v in self.OPTIONS.items()}
        self._hidden: set[str] = set()
        self.panels: dict[str, Panel] = {}
        self._zoomed: set[str] = set()
        self._pending_ranges: dict[str, Range] = {}
        self._dirty = False
        self._shown_once = False
        #: set by the main window: hidden tabs redraw when shown (or exported)
        self.defer_when_hidden = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.plot_widget: pg.GraphicsView = self._build()
        layout.addWidget(self.plot_widget, 1)
        row = QHBoxLayout()
        row.setContentsMargins(4, 0, 4, 0)
        self.status_label = QLabel(" ")
        self.status_label.setObjectName("plotReadout")
        self.hint_label = QLabel("")
        self.hint_label.setObjectName("plotHint")
        self.hint_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.status_label, 1)
        row.addWidget(self.hint_label)
        for control in self._controls():
            row.addWidget(control)
        layout.addLayout(row)
        self.plot_widget.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.apply_style(style)

    # ================================================================== the interface
    @property
    def views(self) -> Views | None:
        """The views last given (their ``config`` and ``seeds`` are the provenance)."""
        return self._views

    @property
    def view(self) -> View | None:
        """This plot's view, or None."""
        return self._views.view(self.name) if self._views is not None else None

    @property
    def config(self) -> Config | None:
        return self._views.config if self._views is not None else None

    @property
    def seeds(self) -> tuple[int, ...]:
        """The simulated seeds drawn (empty without simulation)."""
        return self._views.seeds if self._views is not None else ()

    def set_views(self, views: Views | None) -> None:
        """Draw ``views.view(self.name)``; None clears the plot."""
        self._views = views
        self._schedule()

    def clear(self) -> None:
        """Forget and erase everything."""
        self.set_views(None)

    def export_data(self) -> dict[str, Table]:
        """Exactly the view's ``tables()``: ``{name: (column names with units, rows)}``."""
        view = self.view
        return view.tables() if view is not None else {}

    def set_option(self, key: str, value: Any) -> None:
        """Set a display option (``OPTIONS`` lists them with their allowed values).

        A change of option drops the user's zoom: the new axes are framed afresh.

        Raises
        ------
        KeyError
            Unknown option.
        ValueError
            A value not allowed for it.
        """
        if key not in self.OPTIONS:
            raise KeyError(f"{self.name} has no option {key!r}; options: "
                           f"{', '.join(self.OPTIONS)}")
        allowed = self.OPTIONS[key]
        if not self._option_allowed(key, value):
            what = ("a finite number" if key in self.NUMBER_OPTIONS
                    else f"one of {', '.join(map(repr, allowed))}")
            raise ValueError(f"option {key!r} of {self.name} must be {what}, got {value!r}")
        value = type(allowed[0])(value)
        if self.options.get(key) != value:
            self.options[key] = value
            self._zoomed.clear()
            self._pending_ranges.clear()
            self._sync_controls()
            self._schedule()

    def _option_allowed(self, key: str, value: Any) -> bool:
        if key in self.NUMBER_OPTIONS:
            return (isinstance(value, (int, float)) and not isinstance(value, bool)
                    and math.isfinite(value))
        return value in self.OPTIONS[key]

    def view_state(self) -> dict[str, Any]:
        """What the user set, as JSON: options, the zoomed ranges, the hidden series.

        Ranges are stored per zoom group only when the user zoomed or panned (in view
        coordinates: log10 on a log axis, as pyqtgraph's ``viewRange``).
        """
        ranges = {}
        for group in sorted(self._zoomed):
            panel = self._first_panel(group)
            if panel is not None:
                (x0, x1), (y0, y1) = panel.vb.viewRange()
                ranges[group] = [[float(x0), float(x1)], [float(y0), float(y1)]]
        for group, rng in self._pending_ranges.items():
            ranges[group] = [list(rng[0]), list(rng[1])]
        return {"options": dict(self.options), "ranges": ranges,
                "hidden": sorted(self._hidden)}

    def apply_view_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`view_state` output; unknown or invalid entries are ignored
        (a session of an older version)."""
        for key, value in (state.get("options") or {}).items():
            if key in self.OPTIONS and self._option_allowed(key, value):
                self.options[key] = type(self.OPTIONS[key][0])(value)
        self._hidden = {str(s) for s in state.get("hidden") or () if isinstance(s, str)}
        self._zoomed.clear()
        self._pending_ranges = {}
        for group, rng in (state.get("ranges") or {}).items():
            try:
                (x0, x1), (y0, y1) = ((float(a), float(b)) for a, b in rng)
            except (TypeError, ValueError):
                continue
            if all(map(math.isfinite, (x0, x1, y0, y1))) and x1 > x0 and y1 > y0:
                self._pending_ranges[str(group)] = ((x0, x1), (y0, y1))
        self._sync_controls()
        self._schedule()

    def reset_view(self) -> None:
        """Forget the user's zoom: frame everything again."""
        self._zoomed.clear()
        self._pending_ranges.clear()
        self._schedule()

    @property
    def hidden_series(self) -> frozenset[str]:
        return frozenset(self._hidden)

    def set_series_visible(self, series: str, visible: bool) -> None:
        """Show or hide a series (what a click on its legend entry does)."""
        if visible:
            self._hidden.discard(series)
        else:
            self._hidden.add(series)
        for panel in self.panels.values():
            panel.pool.apply_hidden(self._hidden)
            if panel.legend is not None:
                panel.legend.set_hidden(self._hidden)

    def graphics_view(self) -> pg.GraphicsView:
        """The view to render for export (the whole figure, all panels), up to date."""
        self.ensure_drawn()
        return self.plot_widget

    def ensure_drawn(self) -> None:
        """Apply a redraw that was deferred while this tab was hidden."""
        if self._dirty:
            self._dirty = False
            self._redraw()

    def plot_items(self) -> list[pg.PlotItem]:
        """Every PlotItem of this figure (for styling and export)."""
        return [p.item for p in self.panels.values()]

    @property
    def style(self) -> PlotStyle:
        return self._style

    def apply_style(self, style: PlotStyle) -> None:
        """Restyle background, axes, fonts and legends, and redraw with the palette."""
        self._style = style
        self.plot_widget.setBackground(style.background)
        for panel in self.panels.values():
            self._style_panel(panel)
        self._schedule()

    # ================================================================== scheduling
    def _schedule(self) -> None:
        # Why defer: a slider drag produces a theory result every ~150 ms and redrawing
        # six tabs each time is wasted work; hidden tabs redraw when shown (or exported).
        # A plot never shown (headless export) draws at once, unless its owner (the
        # main window's tabs) says it will be shown or exported through ensure_drawn.
        if not self.panels:
            return  # still building
        if (self.defer_when_hidden or self._shown_once) and not self.isVisible():
            self._dirty = True
            return
        self._dirty = False
        self._redraw()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._shown_once = True
        self.ensure_drawn()

    def _redraw(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _controls(self) -> list[QWidget]:
        """Widgets of the plot's own options, shown right of the readout (none here)."""
        return []

    def _sync_controls(self) -> None:
        """Show the options in the controls after a change from outside."""

    def _build(self) -> pg.GraphicsView:  # pragma: no cover - abstract
        raise NotImplementedError

    # ================================================================== panels
    def _add_panel(self, role: str, item: pg.PlotItem, *, group: str | None = None,
                   readout: tuple[str, str] = ("x", "y"), legend: bool = False) -> Panel:
        """Register ``item`` as panel ``role`` (styled, zoom-tracked, with a readout)."""
        panel = Panel(item, group or role, readout)
        if legend:
            panel.legend = CompactLegend(item)
            panel.legend.sig_toggled.connect(self._on_legend_toggled)
        item.vb.sigRangeChangedManually.connect(self._on_view_range_changed_manually)
        # the "A" button goes back to the plot's own frame, not pyqtgraph's auto range
        item.autoBtn.clicked.disconnect(item.autoBtnClicked)
        item.autoBtn.clicked.connect(self._on_auto_button_clicked)
        self.panels[role] = panel
        self._style_panel(panel)
        return panel

    def _first_panel(self, group: str) -> Panel | None:
        return next((p for p in self.panels.values() if p.group == group and
                     p.item.isVisible()), None)

    def _style_panel(self, panel: Panel) -> None:
        st = self._style
        fg = st.foreground
        tick_font = QFont()
        tick_font.setPointSizeF(st.tick_font_size)
        item = panel.item
        for axis_name in ("left", "bottom"):
            axis = item.getAxis(axis_name)
            axis.setPen(mkpen(fg, 1.0))
            axis.setTextPen(mkpen(fg, 1.0))
            axis.setTickFont(tick_font)
            axis.labelStyle = {"color": fg, "font-size": f"{st.font_size}pt"}
            # "(x0.001)" prefixes on unitless errors read as a different quantity; 0.14
            # still computes a prefix scale when disabling it, so reset it as well
            axis.enableAutoSIPrefix(False)
            axis.autoSIPrefixScale = 1.0
            axis.labelUnitPrefix = ""
            axis._updateLabel()  # re-render the label in the new style (private in 0.14)
            axis.picture = None
        # a grid at the major ticks only: every tick level of the grid is a full-panel
        # line pattern the axis repaints (8 ms a panel at three levels, 2 at one), and
        # the minor tick marks go with it
        grid = st.grid_alpha > 0
        item.showGrid(x=grid, y=grid, alpha=st.grid_alpha)
        for axis_name in ("left", "bottom"):
            axis = item.getAxis(axis_name)
            axis.setStyle(maxTickLevel=0 if grid else 2)
            # with major ticks only, a denser major spacing keeps enough labels
            axis.setTickDensity(1.8 if grid else 1.0)
        panel.title = None  # the next redraw sets it in the new style
        if panel.legend is not None:
            panel.legend.set_look(
                text_color=fg, text_size_pt=legend_font_size(st),
                background=mkbrush(st.background, 120 if st.name == "presentation" else 150),
                border=mkpen(fg, 0.5, alpha=60))

    def _set_title(self, panel: Panel, text: str, color: str | None = None) -> None:
        look = (text, color or self._style.foreground, f"{self._style.title_font_size}pt")
        if look != panel.title:  # each setTitle re-lays out rich text
            panel.title = look
            panel.item.setTitle(text or None, color=look[1], size=look[2])

    @staticmethod
    def _set_labels(panel: Panel, bottom: str | None, left: str | None) -> None:
        item = panel.item
        for side, text in (("bottom", bottom), ("left", left)):
            axis = item.getAxis(side)
            if text is None:
                if axis.labelText:
                    axis.setLabel("")
                    axis.showLabel(False)
            elif axis.labelText != text or not axis.label.isVisible():
                item.setLabel(side, text)

    def _set_hint(self, text: str) -> None:
        """A hint for the user below the figure (never in the exported scene)."""
        if self.hint_label.text() != text:
            self.hint_label.setText(text)
            self.hint_label.setToolTip(text)

    # ================================================================== drawing helpers
    def _color(self, index: int) -> str:
        """Colour of curve ``index`` (the palette without colours that vanish)."""
        palette = curve_palette(self._style)
        return palette[index % len(palette)]

    def _begin(self) -> None:
        for panel in self.panels.values():
            panel.pool.begin()

    def _end(self) -> None:
        for panel in self.panels.values():
            panel.pool.end(self._hidden)
            if panel.legend is not None:
                panel.legend.set_hidden(self._hidden)

    def _frame(self, panel: Panel, frame: Range | None, *, pad: float = 0.0) -> bool:
        """Set ``panel``'s ranges (data units) unless the user zoomed its group.

        Returns True when the ranges are the user's (the legend must then keep them).
        """
        pending = self._pending_ranges.get(panel.group)
        if pending is not None:
            panel.item.setXRange(*pending[0], padding=0)
            panel.item.setYRange(*pending[1], padding=0)
            self._zoomed.add(panel.group)
            return True
        if panel.group in self._zoomed:
            return True
        if frame is not None:
            (x0, x1), (y0, y1) = frame
            vx = (panel.to_view(x0, 0), panel.to_view(x1, 0))
            vy = (panel.to_view(y0, 1), panel.to_view(y1, 1))
            if all(map(math.isfinite, (*vx, *vy))) and vx[1] > vx[0] and vy[1] > vy[0]:
                panel.item.setXRange(*vx, padding=pad)
                panel.item.setYRange(*vy, padding=pad)
        return False

    def _after_redraw(self) -> None:
        """Pending ranges of a restored view are applied once, then the user's."""
        self._pending_ranges.clear()

    def _entry(self, name: str, *, series: str = "", color: str | None = None,
               width: float | None = None, dash: Qt.PenStyle | None = None,
               symbol: Any = None, hollow: bool = False, fill: str | None = None,
               fill_alpha: int | None = None) -> LegendEntry:
        """A legend entry in the style: line, marker and/or filled box; text only when
        no colour is given."""
        st = self._style
        if color is None:
            return LegendEntry(name)
        pen = None
        if symbol is None or width is not None:
            pen = mkpen(color, width or st.line_width, dash or Qt.PenStyle.SolidLine)
        sym: dict[str, Any] = {}
        if symbol is not None:
            sym = {"symbol": symbol, "symbol_size": st.marker_size,
                   "symbol_pen": mkpen(color, 1.5),
                   "symbol_brush": mkbrush(st.background if hollow else color)}
        brush = mkbrush(fill, fill_alpha or st.histogram_alpha) if fill else None
        return LegendEntry(name, series=series, pen=pen, fill=brush, **sym)

    # ================================================================== slots
    @Slot(str, bool)
    def _on_legend_toggled(self, series: str, visible: bool) -> None:
        self.set_series_visible(series, visible)

    @Slot(object)
    def _on_view_range_changed_manually(self, _mask: object) -> None:
        vb = self.sender()
        source = next((p for p in self.panels.values() if p.vb is vb), None)
        if source is None:
            return
        self._zoomed.add(source.group)
        x_range, y_range = source.vb.viewRange()
        for panel in self.panels.values():
            if panel.group != source.group:
                continue
            if panel is not source:
                panel.vb.setRange(xRange=x_range, yRange=y_range, padding=0)
            if panel.legend is not None:
                panel.legend.keep_ranges()

    @Slot(object)
    def _on_auto_button_clicked(self, _button: object) -> None:
        button = self.sender()
        for panel in self.panels.values():
            if panel.item.autoBtn is button:
                self._zoomed.discard(panel.group)
                self._pending_ranges.pop(panel.group, None)
                self._redraw()
                return

    @Slot(object)
    def _on_scene_mouse_moved(self, pos: QPointF) -> None:
        for panel in self.panels.values():
            item = panel.item
            if not item.isVisible() or not item.vb.sceneBoundingRect().contains(pos):
                continue
            p = item.vb.mapSceneToView(pos)
            x, y = p.x(), p.y()
            log_x, log_y = panel.log
            if log_x:
                x = 10.0 ** x
            if log_y:
                y = 10.0 ** y
            x_name, y_name = panel.readout
            text = f"{x_name} = {fmt_num(x, 4)}"
            if y_name:
                text += f"    {y_name} = {fmt_num(y, 4)}"
            self.status_label.setText(text)
            self.sig_status.emit(text)
            return
