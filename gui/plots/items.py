"""The data items of a panel, kept across redraws and reused by key.

Why: creating, adding and removing pyqtgraph items is most of the cost of a redraw
(every ``PlotDataItem`` is two graphics objects with a dozen signal connections); a
slider drag redraws every ~150 ms. A panel's items are created once per *key* (e.g.
``"theory_after/0"``) and later only given new data and pens; items not drawn in a
redraw are hidden, not deleted.

Every item belongs to a few *series* (``"theory"``, ``"network"``, ``"curve:2"`` …):
the legend hides and shows them by series.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyqtgraph as pg

#: Every option an item may use, with its default: an update always sets all of them,
#: so a key drawn as a filled histogram and later as an outline loses its fill.
_DEFAULTS: dict[str, Any] = {
    "pen": None, "symbol": None, "symbolPen": None, "symbolBrush": None, "symbolSize": 7.0,
    "fillLevel": None, "fillBrush": None, "stepMode": None, "connect": "finite",
}


def _floats(a: Any) -> np.ndarray:
    # pyqtgraph paths need float64 (docs/architecture.md#pitfalls)
    return np.asarray(a, dtype=np.float64).ravel()


class ItemPool:
    """The data items of one :class:`pyqtgraph.PlotItem`, by key.

    Use: :meth:`begin`, then any of :meth:`line`, :meth:`step`, :meth:`points`,
    :meth:`segments`, then :meth:`end` (hides what was not drawn this time).
    """

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self._items: dict[str, Any] = {}
        self._series: dict[str, frozenset[str]] = {}
        self._used: set[str] = set()

    # ------------------------------------------------------------------ protocol
    def begin(self) -> None:
        """Start a redraw: nothing is drawn until it is asked for again."""
        self._used = set()

    def end(self, hidden: Iterable[str] = ()) -> None:
        """Hide the items not drawn since :meth:`begin`, and those of hidden series."""
        self.apply_hidden(hidden)

    def apply_hidden(self, hidden: Iterable[str]) -> None:
        """Show the drawn items except those of a series in ``hidden``."""
        off = set(hidden)
        for key, item in self._items.items():
            show = key in self._used and not (self._series[key] & off)
            if item.isVisible() != show:
                item.setVisible(show)

    # ------------------------------------------------------------------ items
    def line(self, key: str, x: Any, y: Any, pen: Any, *, fill_level: float | None = None,
             brush: Any = None, z: float = 0.0,
             series: Iterable[str] = ()) -> pg.PlotDataItem:
        """A line through ``(x, y)`` (non-finite values are gaps), filled down to
        ``fill_level`` if given (view coordinates)."""
        return self._item(key, _floats(x), _floats(y), series, z, pen=pen,
                          fillLevel=fill_level,
                          fillBrush=brush if fill_level is not None else None)

    def step(self, key: str, edges: Any, heights: Any, pen: Any, *,
             fill_level: float | None = None, brush: Any = None, z: float = 0.0,
             series: Iterable[str] = ()) -> pg.PlotDataItem:
        """A histogram as one step curve (``edges`` has one more value than ``heights``),
        filled down to ``fill_level`` (view coordinates: log10 on a log axis) if given."""
        return self._item(key, _floats(edges), _floats(heights), series, z, pen=pen,
                          stepMode="center", fillLevel=fill_level,
                          fillBrush=brush if fill_level is not None else None)

    def points(self, key: str, x: Any, y: Any, *, symbol: Any, size: float, pen: Any,
               brush: Any, z: float = 0.0, series: Iterable[str] = ()) -> pg.PlotDataItem:
        """Markers at ``(x, y)``."""
        return self._item(key, _floats(x), _floats(y), series, z, symbol=symbol,
                          symbolSize=size, symbolPen=pen, symbolBrush=brush)

    def segments(self, key: str, x: Any, y: Any, pen: Any, *, z: float = 0.0,
                 series: Iterable[str] = ()) -> pg.PlotDataItem:
        """Separate segments ``(x[2i], y[2i]) - (x[2i+1], y[2i+1])`` in one item (error
        bars, tick marks): unlike ``ErrorBarItem`` it follows the plot's log mode."""
        return self._item(key, _floats(x), _floats(y), series, z, pen=pen, connect="pairs")

    def bars(self, key: str, x: Any, heights: Any, *, width: float, pen: Any, brush: Any,
             z: float = 0.0, series: Iterable[str] = ()) -> pg.BarGraphItem:
        """Bars of ``heights`` centred on ``x``."""
        opts = {"x": _floats(x), "height": _floats(heights), "width": width, "pen": pen,
                "brush": brush}
        item = self._items.get(key)
        if item is None:
            item = pg.BarGraphItem(**opts)
            self.plot.addItem(item)
            self._items[key] = item
        else:
            item.setOpts(**opts)
        self._mark(key, item, z, series)
        return item

    def _mark(self, key: str, item: Any, z: float, series: Iterable[str]) -> None:
        if item.zValue() != z:
            item.setZValue(z)
        self._series[key] = frozenset(series)
        self._used.add(key)

    def _item(self, key: str, x: np.ndarray, y: np.ndarray, series: Iterable[str],
              z: float, **opts: Any) -> pg.PlotDataItem:
        full = {**_DEFAULTS, **opts}
        item = self._items.get(key)
        if item is None:
            item = pg.PlotDataItem(x, y, **full)
            self.plot.addItem(item)
            self._items[key] = item
        else:
            item.setData(x, y, **full)
        self._mark(key, item, z, series)
        return item

    # ------------------------------------------------------------------ inspection
    def drawn(self) -> dict[str, Any]:
        """The items drawn by the last redraw, by key (hidden series included)."""
        return {k: v for k, v in self._items.items() if k in self._used}

    def series_of(self, key: str) -> frozenset[str]:
        return self._series.get(key, frozenset())
