"""A compact legend that never covers data.

:class:`CompactLegend` is a :class:`pyqtgraph.LegendItem` with

- a two-column layout: the curves' names (each in its colour) in one column, a neutral
  key of the line and marker kinds (theory, simulation, …) in the next, instead of one
  entry per curve and kind; stacked in one column when the panel is too narrow, and
  shrunk (down to half size) when even that does not fit;
- corner fitting: it goes to the corner (of those allowed) that needs the least extra
  room, and the panel's y range is widened just enough that the legend sits above (or
  below) every value drawn in the x span it covers — refitted whenever the panel is
  resized, so an export at another size and style is fitted too;
- entries that hide and show a *series* of the plot when clicked (``sig_toggled``).

It positions itself in its ViewBox's coordinates on the ViewBox's ``sigResized`` instead
of pyqtgraph's anchor (which follows the parent's ``geometryChanged`` and raised when the
ViewBox was deleted before the legend at teardown).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.LegendItem import ItemSample
from PySide6.QtCore import QRectF, Qt, Signal, Slot
from PySide6.QtWidgets import QSizePolicy

#: Pixels between the legend and the edges of its panel.
LEGEND_MARGIN = 6
#: Smallest scale a legend is shrunk to on a narrow panel.
MIN_SCALE = 0.5
#: Largest fraction of the panel's height a legend may take before it is shrunk.
MAX_HEIGHT_FRACTION = 0.55

CORNERS = ("top-right", "top-left", "bottom-right", "bottom-left")


@dataclass(frozen=True)
class LegendEntry:
    """One legend row: a sample (line, marker, filled box, or none: text only) and text.

    ``series`` is the plot series the entry hides and shows when clicked ("" for none).
    """

    name: str
    series: str = ""
    pen: Any = None
    symbol: Any = None
    symbol_size: float = 7.0
    symbol_pen: Any = None
    symbol_brush: Any = None
    fill: Any = None

    def sample_item(self) -> pg.PlotDataItem:
        """A data-less item the legend draws its sample from (never added to a plot)."""
        kw: dict[str, Any] = {"pen": self.pen}
        if self.symbol is not None:
            kw.update(symbol=self.symbol, symbolSize=self.symbol_size,
                      symbolPen=self.symbol_pen, symbolBrush=self.symbol_brush)
        if self.fill is not None:
            kw.update(fillLevel=0.0, fillBrush=self.fill)
        item = pg.PlotDataItem([], [], **kw)
        if self.symbol is not None:
            # ItemSample draws markers from the (empty) scatter's options
            item.scatter.opts.update(symbol=self.symbol, size=self.symbol_size,
                                     pen=self.symbol_pen, brush=self.symbol_brush)
        return item

    def signature(self) -> tuple[Any, ...]:
        def pen_key(pen: Any) -> Any:
            if pen is None:
                return None
            p = pg.mkPen(pen)
            return (p.color().name(QColorNameFormat), p.widthF(), int(p.style().value))

        def brush_key(brush: Any) -> Any:
            if brush is None:
                return None
            b = pg.mkBrush(brush)
            return b.color().name(QColorNameFormat)

        return (self.name, self.series, pen_key(self.pen), str(self.symbol), self.symbol_size,
                pen_key(self.symbol_pen), brush_key(self.symbol_brush), brush_key(self.fill))


class _TextOnly(ItemSample):
    """No sample: the row is a note (e.g. the mass of the atom at zero)."""

    def __init__(self, item: Any) -> None:
        super().__init__(item)
        self.setFixedWidth(2)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, 2, 20)

    def paint(self, *args: Any) -> None:
        pass

    def mouseClickEvent(self, event: Any) -> None:
        event.ignore()


class _Sample(ItemSample):
    """A sample whose click hides and shows its entry's series (not the data-less item)."""

    def __init__(self, item: Any, legend: CompactLegend, series: str) -> None:
        super().__init__(item)
        self._legend = legend
        self.series = series

    def mouseClickEvent(self, event: Any) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.series:
            self.item.setVisible(not self.item.isVisible())  # drawn as an eye when off
            self.update()
            self._legend.sig_toggled.emit(self.series, self.item.isVisible())
        event.accept()


class CompactLegend(pg.LegendItem):
    """Two-column legend of a :class:`pyqtgraph.PlotItem` that keeps off the data.

    Parameters
    ----------
    plot : pyqtgraph.PlotItem
        The panel; the legend becomes its ``legend`` and lives in its ViewBox.
    """

    #: ``(series, visible)`` after a click on an entry.
    sig_toggled = Signal(str, bool)

    def __init__(self, plot: pg.PlotItem | None) -> None:
        # offset=None: no pyqtgraph anchor (see the module docstring)
        super().__init__(offset=None, horSpacing=4, verSpacing=-2)
        self._plot = plot
        self._columns: list[list[tuple[ItemSample, pg.LabelItem]]] = []
        self._signature: tuple[Any, ...] | None = None
        self._mode = "columns"
        self._text_color = "#000000"
        self._text_size = "9pt"
        self._corner = "top-right"
        self._fit: dict[str, Any] | None = None
        if plot is None:
            # a free legend: a cell of its figure's layout, sized by its entries
            self.setFlag(self.GraphicsItemFlag.ItemIgnoresTransformations, False)
            self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            return
        self.setParentItem(plot.vb)
        plot.legend = self
        plot.vb.sigResized.connect(self._on_view_resized)

    # ------------------------------------------------------------------ look
    def set_look(self, *, text_color: str, text_size_pt: float, background: Any,
                 border: Any) -> None:
        """Text colour and size, background and border (a style change rebuilds)."""
        size = f"{text_size_pt:g}pt"
        if (text_color, size) != (self._text_color, self._text_size):
            self._text_color, self._text_size = text_color, size
            self._signature = None  # labels are rebuilt with the new font
        self.setLabelTextColor(text_color)
        self.setLabelTextSize(size)
        self.setBrush(background)
        self.setPen(border)

    # ------------------------------------------------------------------ entries
    def set_entries(self, curves: Sequence[LegendEntry], keys: Sequence[LegendEntry], *,
                    columns: int | None = None) -> None:
        """Curves in one column, keys in the next (rebuilt only when they changed).

        Without curves a long key list is split over the two columns; ``columns``
        spreads all entries over that many columns instead (a wide free legend).
        """
        groups = [list(curves), list(keys)]
        if columns is not None:
            entries = [*curves, *keys]
            rows = max(1, -(-len(entries) // max(columns, 1)))
            groups = [entries[i:i + rows] for i in range(0, len(entries), rows)]
        elif not curves and len(keys) > 4:
            half = (len(keys) + 1) // 2
            groups = [list(keys[:half]), list(keys[half:])]
        signature = tuple(tuple(e.signature() for e in g) for g in groups)
        if signature == self._signature:
            return
        self._signature = signature
        self.clear()
        self._columns = []
        for group in groups:
            column = [self._make_row(entry) for entry in group]
            if column:
                self._columns.append(column)
        self._layout("columns")

    def _make_row(self, entry: LegendEntry) -> tuple[ItemSample, pg.LabelItem]:
        item = entry.sample_item()
        text_only = entry.pen is None and entry.symbol is None and entry.fill is None
        sample = _TextOnly(item) if text_only else _Sample(item, self, entry.series)
        label = pg.LabelItem(entry.name, color=self._text_color, justify="left",
                             size=self._text_size)
        self.items.append((sample, label))
        return sample, label

    def set_hidden(self, hidden: set[str]) -> None:
        """Show the entries of hidden series as hidden (pyqtgraph's eye icon)."""
        for sample, _label in self.items:
            if isinstance(sample, _Sample) and sample.series:
                visible = sample.series not in hidden
                if sample.item.isVisible() != visible:
                    sample.item.setVisible(visible)
                    sample.update()

    def texts(self) -> list[str]:
        """The entries' texts, column by column."""
        return [label.text for column in self._columns for _s, label in column]

    def clear(self) -> None:
        super().clear()
        self._columns = []

    def _arrangement(self, mode: str) -> list[list[tuple[ItemSample, pg.LabelItem]]]:
        """The columns of a layout mode: ``"columns"`` (curves | keys), ``"wide"``
        (each column of three rows or more split in two: fewer rows) or ``"stacked"``
        (one column)."""
        if mode == "stacked":
            return [[row for column in self._columns for row in column]]
        if mode == "wide":
            out = []
            for column in self._columns:
                half = (len(column) + 1) // 2
                out += [column[:half], column[half:]] if len(column) >= 3 else [column]
            return out
        return list(self._columns)

    def _modes(self) -> list[str]:
        """The layout modes worth trying (different arrangements), preferred first."""
        modes: list[str] = []
        seen: list[Any] = []
        for mode in ("columns", "wide", "stacked"):
            shape = [len(c) for c in self._arrangement(mode)]
            if shape not in seen:
                seen.append(shape)
                modes.append(mode)
        return modes

    def _layout(self, mode: str) -> None:
        """Lay the entries out in the columns of ``mode`` (see :meth:`_arrangement`)."""
        layout = self.layout
        for i in range(layout.count() - 1, -1, -1):
            layout.removeAt(i)
        columns = self._arrangement(mode)
        for c, column in enumerate(columns):
            for r, (sample, label) in enumerate(column):
                layout.addItem(sample, r, 2 * c, alignment=Qt.AlignmentFlag.AlignVCenter)
                layout.addItem(label, r, 2 * c + 1)
        for i in range(layout.columnCount()):
            # a wide gap after each label column, a narrow one after each sample
            layout.setColumnSpacing(i, 14 if i % 2 else 4)
        self.rowCount = max((len(c) for c in columns), default=0)
        self._mode = mode
        # LegendItem.updateSize ignores the layout's spacing: size from the layout
        layout.invalidate()
        hint = layout.effectiveSizeHint(Qt.SizeHint.PreferredSize)
        self.setGeometry(0, 0, hint.width() if self.items else 0,
                         hint.height() if self.items else 0)
        self.updateGeometry()  # a free legend's figure layout re-reads its size

    # ------------------------------------------------------------------ fitting
    def fit(self, series: Sequence[tuple[Any, Any]], *, y_range: tuple[float, float] | None,
            corners: Sequence[str] = ("top-right", "top-left"), fixed: bool = False) -> None:
        """Place the legend where it covers no value of ``series`` (data units).

        ``y_range`` (data units) is the panel's intended y range, widened as needed
        (None: the data's range plus 5%); the x range is the panel's current one (the
        plot frames x first). ``fixed`` (a user's zoom) keeps both ranges: the corner
        covering the fewest values is taken.
        """
        if self._plot is None:
            raise TypeError("a free legend is placed by its figure's layout, not fitted")
        self._fit = {"series": series, "y_range": y_range, "corners": tuple(corners),
                     "fixed": fixed}
        self.refit()

    def keep_ranges(self) -> None:
        """The user zoomed: from now on only choose the corner, never change ranges."""
        if self._fit is not None:
            self._fit["fixed"] = True
            self.refit()

    @Slot()
    def _on_view_resized(self) -> None:
        self.refit()

    def refit(self) -> None:
        """Redo the fit for the panel's current size (after a resize or a restyle).

        Every layout (curves | keys, a wider one, stacked) is tried in every allowed
        corner; the one needing the least extra room wins, the first on a tie.
        """
        if self._plot is None or self._fit is None or not self.items:
            return
        vb = self._plot.vb
        width, height = vb.width(), vb.height()
        if width < 20 or height < 20:
            return
        x, y = self._view_points(self._fit["series"])
        best: tuple[float, str, tuple[float, float] | None, str] | None = None
        for mode in self._modes():
            self._set_layout(mode, width, height)
            if self._fit["fixed"]:
                cost, corner = min((self._covered(c, x, y), c) for c in self._fit["corners"])
                choice: tuple[float, str, Any, str] = (float(cost), mode, None, corner)
            else:
                lo, hi, corner = self._widen(x, y)
                # the y span the data are squeezed into, and a shrunk legend is as bad
                # as a squeezed plot: both cost readability
                choice = ((hi - lo) / self.scale(), mode, (lo, hi), corner)
            # a less preferred layout must be clearly better to be taken
            if best is None or choice[0] < best[0] * 0.98 - 1e-12:
                best = choice
        assert best is not None
        _, mode, y_range, corner = best
        if mode != self._mode:
            self._set_layout(mode, width, height)
        if y_range is not None:
            self._plot.setYRange(*y_range, padding=0)
        self._place(corner)

    def _set_layout(self, mode: str, width: float, height: float) -> None:
        """Lay out, then shrink (down to :data:`MIN_SCALE`) to fit the panel."""
        if mode != self._mode:
            self._layout(mode)
        scale = 1.0
        if self.width() > 0:
            scale = min(scale, (width - 2 * LEGEND_MARGIN) / self.width())
        if self.height() > 0:
            scale = min(scale, MAX_HEIGHT_FRACTION * height / self.height())
        self.setScale(max(MIN_SCALE, scale))

    def _size_fraction(self) -> tuple[float, float]:
        """The legend's width and height (with margins) as fractions of the panel."""
        vb = self._plot.vb
        s = self.scale()
        w = min(1.0, (self.width() * s + 2 * LEGEND_MARGIN) / vb.width())
        h = min(0.95, (self.height() * s + 2 * LEGEND_MARGIN) / vb.height())
        return w, h

    def _log_modes(self) -> tuple[bool, bool]:
        ctrl = self._plot.ctrl
        return ctrl.logXCheck.isChecked(), ctrl.logYCheck.isChecked()

    def _view_points(self, series: Sequence[tuple[Any, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Every drawn value in view coordinates (log10 on a log axis), finite only."""
        log_x, log_y = self._log_modes()
        xs, ys = [np.zeros(0)], [np.zeros(0)]
        for sx, sy in series:
            x = np.asarray(sx, dtype=np.float64).ravel()
            y = np.asarray(sy, dtype=np.float64).ravel()
            n = min(x.size, y.size)
            x, y = _to_view(x[:n], log_x), _to_view(y[:n], log_y)
            ok = np.isfinite(x) & np.isfinite(y)
            xs.append(x[ok])
            ys.append(y[ok])
        return np.concatenate(xs), np.concatenate(ys)

    def _under(self, corner: str, x: np.ndarray) -> np.ndarray:
        """The values inside the legend's x span at ``corner`` (and inside the view)."""
        (x_lo, x_hi), _ = self._plot.vb.viewRange()
        w, _ = self._size_fraction()
        span = w * (x_hi - x_lo)
        if corner.endswith("right"):
            return (x >= x_hi - span) & (x <= x_hi)
        return (x >= x_lo) & (x <= x_lo + span)

    def _covered(self, corner: str, x: np.ndarray, y: np.ndarray) -> int:
        """How many values the legend covers at ``corner`` in the current ranges."""
        _, (y_lo, y_hi) = self._plot.vb.viewRange()
        _, h = self._size_fraction()
        under = self._under(corner, x)
        band = h * (y_hi - y_lo)
        if corner.startswith("top"):
            return int(np.count_nonzero(under & (y >= y_hi - band) & (y <= y_hi)))
        return int(np.count_nonzero(under & (y <= y_lo + band) & (y >= y_lo)))

    def _base_range(self, y: np.ndarray) -> tuple[float, float]:
        given = self._fit["y_range"] if self._fit is not None else None
        _, log_y = self._log_modes()
        if given is not None:
            lo, hi = (_to_view(np.asarray(given, dtype=np.float64), log_y)).tolist()
            if math.isfinite(lo) and math.isfinite(hi) and hi > lo:
                return lo, hi
        if y.size == 0:
            return self._plot.vb.viewRange()[1]
        lo, hi = float(y.min()), float(y.max())
        pad = 0.05 * max(hi - lo, 1e-12 + 1e-6 * abs(hi))
        return lo - pad, hi + pad

    def _widen(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float, str]:
        """The y range (view coordinates) that clears the best corner, and that corner."""
        lo0, hi0 = self._base_range(y)
        span = hi0 - lo0
        # a value beyond the frame is drawn at its edge (a line leaves the panel there)
        y = np.clip(y, lo0, hi0)
        _, h = self._size_fraction()
        best: tuple[float, float, float, str] | None = None
        for corner in self._fit["corners"] if self._fit is not None else CORNERS[:2]:
            under = self._under(corner, x)
            lo, hi = lo0, hi0
            if under.any():
                if corner.startswith("top"):
                    m = float(y[under].max()) + 0.02 * span
                    hi = max(hi0, (m - h * lo0) / (1.0 - h))
                else:
                    m = float(y[under].min()) - 0.02 * span
                    lo = min(lo0, (m - h * hi0) / (1.0 - h))
            if best is None or hi - lo < best[0] - 1e-9 * span:
                best = (hi - lo, lo, hi, corner)
        assert best is not None
        return best[1], best[2], best[3]

    def _place(self, corner: str) -> None:
        """Put the legend in ``corner`` of its ViewBox, ``LEGEND_MARGIN`` from the edges."""
        self._corner = corner
        vb = self._plot.vb
        s = self.scale()
        w, h = self.width() * s, self.height() * s
        x = vb.width() - w - LEGEND_MARGIN if corner.endswith("right") else LEGEND_MARGIN
        y = LEGEND_MARGIN if corner.startswith("top") else vb.height() - h - LEGEND_MARGIN
        self.setPos(x, y)

    @property
    def corner(self) -> str:
        """Where the last fit put the legend."""
        return self._corner

    def setOffset(self, offset: Any) -> None:
        """Not anchored: :meth:`fit` places the legend."""
        self.opts["offset"] = None


def _to_view(a: np.ndarray, log: bool) -> np.ndarray:
    if not log:
        return a
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, np.log10(np.abs(a)), np.nan)


# QColor.name's format argument (#RRGGBBAA keeps transparency apart)
QColorNameFormat = pg.QtGui.QColor.NameFormat.HexArgb
