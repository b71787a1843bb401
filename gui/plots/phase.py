"""Phase diagram: one quantity as a heatmap over the two parameters of ``run.grid``.

The engine's :class:`~engine.views.PhaseView` places the cells (a linear axis, ``log10``
of the values on a geometric axis, or one cell per value with the values as tick
labels) and gives, for the quantity, source and curve chosen, the values, the colour
range and a contour-ready field (:meth:`~engine.views.PhaseView.layer`); this module
draws them: an ``ImageItem`` with a ``ColorBarItem``, an optional isocurve at a chosen
level, and a ring where the panel's parameters sit. Cells not computed yet (the map
fills row by row) or not converged are NaN, drawn transparent.

Options: ``quantity`` (:data:`~engine.views.PHASE_QUANTITIES`), ``source`` (theory, seed
mean or seed spread of ``sim_model``), ``curve``, ``contour`` and ``contour_level``.
The cursor readout names the cell under it; a click emits ``sig_cell_clicked`` with the
cell's ``(parameter, value)`` pairs, which the main window loads into the panels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QFont, QPainter
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QWidget

from engine.config_rules import CURVES_MAX
from engine.views import PHASE_QUANTITIES, PHASE_SOURCES, PhaseAxis, PhaseLayer, PhaseView
from gui.plots.axes import log_ticks
from gui.plots.base import Panel, PlotBase, mkbrush, mkpen
from gui.plots.text import ETA, SIM_NAMES, curve_label, fmt_num
from gui.style import PlotStyle

#: The quantities as the chooser and the title name them.
QUANTITY_NAMES = {
    "test_error": "test error",
    "train_error": "training error",
    "gain": "gain over random features",
    "edge_right": "bulk right edge",
    "n_outliers": "number of outliers",
    "outlier_max": "largest outlier",
    "gamma": "γ (spike overlap with θ)",
}
#: Short names on the colour bar (its length is the figure's height).
BAR_NAMES = {
    "test_error": "test error",
    "train_error": "training error",
    "gain": "gain over RF",
    "edge_right": "right edge",
    "n_outliers": "outliers",
    "outlier_max": "largest outlier",
    "gamma": "γ",
}
#: What each quantity means, for the chooser's tooltips.
QUANTITY_TIPS = {
    "test_error": "Test error E (y − f̂(x))² of the ridge readout after the step",
    "train_error": "Training error of the ridge readout after the step",
    "gain": f"Test error of the same model without the step ({ETA} = 0, random features) "
            f"minus the test error after it: positive where one step beats random "
            f"features",
    "edge_right": "Right edge of the bulk of the feature covariance (of W₁ W₁ᵀ for a "
                  "weights run); needs run kind spectrum or weights",
    "n_outliers": "Eigenvalues right of the bulk (order p, so they depend on d); needs "
                  "run kind spectrum or weights",
    "outlier_max": "The largest outlier; needs run kind spectrum or weights",
    "gamma": "Overlap γ of the learned spike with θ (1 in the large-batch limit)",
}
#: The grid's parameters on the axes.
AXIS_NAMES = {"alpha": "n/d = α", "beta": "p/d = β", "lam": "λ  (ridge, sum convention)",
              "eta_tilde": f"{ETA}  (step size)", "alpha0": "n₀/d = α₀",
              "noise": "Δ  (label noise)", "d": "d"}
#: Short parameter names in the readout.
SHORT_NAMES = {"alpha": "α", "beta": "β", "lam": "λ", "eta_tilde": ETA, "alpha0": "α₀",
               "noise": "Δ", "d": "d"}
SOURCE_NAMES = {"theory": "theory", "mean": "seed mean", "spread": "seed spread"}
#: Colour maps: a signed quantity (blue loss, grey no difference, yellow gain; colour-
#: blind safe, and the grey centre reads on a dark and on a white background); else
#: viridis.
SIGNED_MAP, SEQUENTIAL_MAP = "CET-D7", "viridis"
#: An index axis labels at most this many of its values.
MAX_INDEX_LABELS = 12
HALO, LINE = "#000000", "#FFFFFF"


def value_text(value: Any) -> str:
    """A grid value as shown: ``alpha0 = None`` is the large-batch limit."""
    return "large batch" if value is None else fmt_num(float(value), 4)


class CellImage(pg.ImageItem):
    """An image whose cells stay sharp squares when scaled: the figure exporter smooths
    pixmaps (right for markers), which would blur a map of a few dozen cells."""

    def paint(self, p: QPainter, *args: Any) -> None:
        p.save()
        try:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            super().paint(p, *args)
        finally:
            p.restore()


class PhasePlot(PlotBase):
    """A heatmap of one quantity over a grid's two parameters."""

    name = "phase"
    title = "Phase diagram"
    # the axes follow the grid's spacing (log where its values are geometric)
    LOG_AXES = False
    OPTIONS = {**PlotBase.OPTIONS, "quantity": PHASE_QUANTITIES, "source": PHASE_SOURCES,
               "sim_model": ("network", "srf"), "curve": tuple(range(CURVES_MAX)),
               "contour": (False, True), "contour_level": (0.0,)}
    NUMBER_OPTIONS = frozenset({"contour_level"})

    #: A click on a cell: its ``((x param, value), (y param, value))``.
    sig_cell_clicked = Signal(object)

    # ================================================================== building
    def _build(self) -> pg.GraphicsView:
        view = pg.PlotWidget()
        item = view.getPlotItem()
        self._panel = self._add_panel("map", item)
        self._image = CellImage(axisOrder="row-major")
        item.addItem(self._image)
        # two isocurves, a dark one under a light one: the line reads on every colour
        self._contours = [pg.IsocurveItem(axisOrder="row-major") for _ in (HALO, LINE)]
        for z, iso in enumerate(self._contours):
            iso.setParentItem(self._image)  # in the image's cell coordinates
            iso.setZValue(z + 1)
        self._marker = [pg.ScatterPlotItem() for _ in (HALO, LINE)]
        for z, marker in enumerate(self._marker):
            marker.setZValue(20 + z)
            item.addItem(marker)
        self._bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=SEQUENTIAL_MAP,
                                    interactive=False, colorMapMenu=False, width=18)
        self._bar.setImageItem(self._image, insert_in=item)
        self._layer: PhaseLayer | None = None
        self._shown: PhaseView | None = None
        view.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)
        return view

    def _controls(self) -> list[QWidget]:
        self.quantity_box = QComboBox()
        for i, q in enumerate(PHASE_QUANTITIES):
            self.quantity_box.addItem(QUANTITY_NAMES[q], q)
            self.quantity_box.setItemData(i, QUANTITY_TIPS[q], Qt.ItemDataRole.ToolTipRole)
        self.quantity_box.setToolTip("The quantity mapped over the grid")
        self.quantity_box.currentIndexChanged.connect(self._on_quantity_box_changed)
        self.source_box = QComboBox()
        self.source_box.setToolTip("Theory, or the seed mean or spread (standard "
                                   "deviation) of a simulated model")
        self.source_box.currentIndexChanged.connect(self._on_source_box_changed)
        self.source_box.setVisible(False)
        self.curve_box = QComboBox()
        self.curve_box.setToolTip("The curve mapped (each curve holds its own grid)")
        self.curve_box.currentIndexChanged.connect(self._on_curve_box_changed)
        self.curve_box.setVisible(False)
        self.contour_check = QCheckBox("contour at")
        self.contour_check.setToolTip("Draw the line where the quantity equals this level")
        self.contour_check.toggled.connect(self._on_contour_check_toggled)
        self.level_box = QDoubleSpinBox()
        self.level_box.setRange(-1e9, 1e9)
        self.level_box.setDecimals(4)
        self.level_box.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.level_box.setToolTip("Level of the contour, in the quantity's units")
        self.level_box.valueChanged.connect(self._on_level_box_changed)
        self._sync_controls()
        # the hint yields width to the controls when the tab is narrow (its full text is
        # its tooltip): no minimum from its text, and its start is what stays
        self.hint_label.setMinimumWidth(1)
        self.hint_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return [self.quantity_box, self.source_box, self.curve_box, self.contour_check,
                self.level_box]

    def _sync_controls(self) -> None:
        """Show the options in the controls (their signals blocked: no feedback)."""
        boxes = (self.quantity_box, self.source_box, self.curve_box, self.contour_check,
                 self.level_box)
        old = [b.blockSignals(True) for b in boxes]
        try:
            self.quantity_box.setCurrentIndex(PHASE_QUANTITIES.index(self.options["quantity"]))
            self._select(self.source_box, f"{self.options['source']}:{self.options['sim_model']}")
            self._select(self.curve_box, self.options["curve"])
            self.contour_check.setChecked(bool(self.options["contour"]))
            self.level_box.setValue(float(self.options["contour_level"]))
            self.level_box.setEnabled(bool(self.options["contour"]))
        finally:
            for b, o in zip(boxes, old, strict=True):
                b.blockSignals(o)

    @staticmethod
    def _select(box: QComboBox, data: Any) -> None:
        index = box.findData(data)
        if index >= 0:
            box.setCurrentIndex(index)

    def _fill_choices(self, view: PhaseView | None) -> None:
        """The sources (theory, each simulated model's mean and spread) and the curves
        the view has; a box with one choice is hidden."""
        curves = view.curves() if view is not None else []
        models = view.models(self.options["curve"]) if view is not None else []
        sources = [("theory", "network", "theory")]
        for m in models:
            sources += [(s, m, f"{SIM_NAMES[m]}: {SOURCE_NAMES[s]}") for s in ("mean", "spread")]
        for box, items in ((self.source_box, [(f"{s}:{m}", text) for s, m, text in sources]),
                           (self.curve_box, [(ci, curve_label(label, ci) or "curve 1")
                                             for ci, label in curves])):
            if [(box.itemData(i), box.itemText(i)) for i in range(box.count())] != items:
                old = box.blockSignals(True)
                box.clear()
                for data, text in items:
                    box.addItem(text, data)
                box.blockSignals(old)
            box.setVisible(len(items) > 1)
        self._sync_controls()

    # ================================================================== style
    def apply_style(self, style: PlotStyle) -> None:
        bar = getattr(self, "_bar", None)
        if bar is not None:
            self._style_bar(style)
        super().apply_style(style)

    def _style_panel(self, panel: Panel) -> None:
        super()._style_panel(panel)
        panel.item.showGrid(x=False, y=False)  # grid lines would cross the cells

    def _style_bar(self, style: PlotStyle) -> None:
        tick_font = QFont()
        tick_font.setPointSizeF(style.tick_font_size)
        for side in ("left", "right", "top", "bottom"):
            axis = self._bar.getAxis(side)
            axis.setPen(mkpen(style.foreground, 1.0))
            axis.setTextPen(mkpen(style.foreground, 1.0))
            axis.setTickFont(tick_font)
            axis.labelStyle = {"color": style.foreground, "font-size": f"{style.font_size}pt"}
            axis.enableAutoSIPrefix(False)
        # the tick labels' width: room for "-0.125" at the style's font size
        self._bar.axis.setWidth(int(4.2 * style.tick_font_size * 96 / 72))
        self._bar_label = None  # set again in the new style by the next redraw

    # ================================================================== drawing
    def _current_view(self) -> PhaseView | None:
        view = self.view
        return view if isinstance(view, PhaseView) and view.x is not None else None

    def _redraw(self) -> None:
        view = self._current_view()
        self._fill_choices(self.view if isinstance(self.view, PhaseView) else None)
        panel = self._panel
        if view is None:
            self._clear_map()
            self._set_title(panel, "")
            self._set_labels(panel, None, None)
            self._set_hint("needs a grid (run.grid): try the phase diagram preset")
            return
        assert view.x is not None and view.y is not None
        layer = self._pick_layer(view)
        self._layer, self._shown = layer, view
        self._draw_image(view, layer)
        self._draw_contour(layer)
        self._draw_marker(view)
        self._set_labels(panel, AXIS_NAMES.get(view.x.param, view.x.param),
                         AXIS_NAMES.get(view.y.param, view.y.param))
        self._frame(panel, ((float(view.x.edges[0]), float(view.x.edges[-1])),
                            (float(view.y.edges[0]), float(view.y.edges[-1]))))
        self._set_ticks(panel, view)
        self._set_title(panel, self._title(view, layer))
        self._set_hint(self._hint(view, layer))
        self._after_redraw()

    def _pick_layer(self, view: PhaseView) -> PhaseLayer | None:
        """The layer of the options; the theory's when the curve has no simulation
        (the source chooser is then hidden: nothing else to choose)."""
        curve = self.options["curve"] if self.options["curve"] in dict(view.curves()) else 0
        source = self.options["source"] if view.models(curve) else "theory"
        return view.layer(self.options["quantity"], source, curve=curve,
                          model=self.options["sim_model"])

    def _clear_map(self) -> None:
        self._layer, self._shown = None, None
        self._image.clear()
        for iso in self._contours:
            iso.setData(None)
        for marker in self._marker:
            marker.clear()
        self._bar.setVisible(False)

    def _draw_image(self, view: PhaseView, layer: PhaseLayer | None) -> None:
        assert view.x is not None and view.y is not None
        x0, x1 = float(view.x.edges[0]), float(view.x.edges[-1])
        y0, y1 = float(view.y.edges[0]), float(view.y.edges[-1])
        if layer is None or layer.levels is None:
            self._image.clear()
            self._bar.setVisible(False)
            return
        cmap = SIGNED_MAP if layer.levels[0] < 0 < layer.levels[1] else SEQUENTIAL_MAP
        if getattr(self, "_cmap", None) != cmap:
            self._cmap = cmap
            self._bar.setColorMap(cmap)
        self._image.setImage(layer.values, autoLevels=False, levels=layer.levels)
        self._image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self._bar.setLevels(layer.levels)
        self._bar.setVisible(True)
        label = BAR_NAMES[layer.quantity] + ("" if layer.source == "theory"
                                             else f" ({SOURCE_NAMES[layer.source]})")
        if getattr(self, "_bar_label", None) != label:
            self._bar_label = label
            self._bar.getAxis("left").setLabel(label)

    def _draw_contour(self, layer: PhaseLayer | None) -> None:
        level = float(self.options["contour_level"])
        show = (bool(self.options["contour"]) and layer is not None
                and layer.contour is not None and layer.levels is not None)
        for iso, color, width in zip(self._contours, (HALO, LINE),
                                     (2.2 * self._style.line_width, self._style.line_width),
                                     strict=True):
            if not show:
                iso.setData(None)
                continue
            assert layer is not None
            iy0, ix0 = layer.contour_origin
            iso.setPen(mkpen(color, width))
            iso.setPos(ix0, iy0)  # the block's first cell, in the image's cell coordinates
            iso.setData(layer.contour, level)

    def _draw_marker(self, view: PhaseView) -> None:
        """A ring where the panel's parameters sit (a cell clicked is loaded there)."""
        for marker, color, width in zip(self._marker, (HALO, LINE), (4.0, 2.0), strict=True):
            if view.current is None:
                marker.clear()
                continue
            marker.setData([view.current[0]], [view.current[1]], symbol="o",
                           size=1.6 * self._style.marker_size, pen=mkpen(color, width),
                           brush=mkbrush(color, 0))

    def _set_ticks(self, panel: Panel, view: PhaseView) -> None:
        (vx0, vx1), (vy0, vy1) = panel.vb.viewRange()
        for side, axis_, span in (("bottom", view.x, (vx0, vx1)), ("left", view.y, (vy0, vy1))):
            axis = panel.item.getAxis(side)
            if axis_.scale == "log":
                axis.setTicks(log_ticks(*span))
            elif axis_.scale == "index":
                axis.setTicks([self._index_ticks(axis_)])
            else:
                axis.setTicks(None)

    @staticmethod
    def _index_ticks(axis: PhaseAxis) -> list[tuple[float, str]]:
        n = len(axis.values)
        every = max(1, -(-n // MAX_INDEX_LABELS))
        return [(float(axis.centres[i]), value_text(axis.values[i])) for i in range(0, n, every)]

    def _title(self, view: PhaseView, layer: PhaseLayer | None) -> str:
        text = QUANTITY_NAMES[self.options["quantity"]]
        if layer is not None and layer.source != "theory":
            text += f" · {SIM_NAMES[self.options['sim_model']]} {SOURCE_NAMES[layer.source]}"
        if self.options["contour"] and layer is not None and layer.contour is not None:
            text += f" · contour at {fmt_num(float(self.options['contour_level']))}"
        ny = len(view.y.values) if view.y is not None else 0
        done = [t.rows_done for t in view.theory if t.curve == self.options["curve"]]
        if (layer is None or layer.source == "theory") and done and done[0] < ny:
            text += f" · rows {done[0]}/{ny}"
        return text

    def _hint(self, view: PhaseView, layer: PhaseLayer | None) -> str:
        quantity = self.options["quantity"]
        if layer is None:
            if self.options["source"] != "theory" and view.models(self.options["curve"]):
                return "simulations give the errors and the gain only"
            return "the theory of this grid is being computed"
        if layer.levels is None:
            needs = ("errors" if quantity in ("test_error", "train_error", "gain")
                     else "spectrum or weights")
            return f"not computed for run kind '{view.kind}' (needs {needs})"
        if layer.baseline == "theory" and layer.source != "theory":
            return f"gain against the theory's random features (no {ETA} = 0 cells)"
        return "click a cell to load its parameters"

    # ================================================================== interaction
    def _cell_under(self, scene_pos: QPointF) -> tuple[int, int] | None:
        view = self._shown
        vb = self._panel.vb
        if view is None or not vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = vb.mapSceneToView(scene_pos)
        return view.cell_at(p.x(), p.y())

    def readout(self, ix: int, iy: int) -> str:
        """The readout of cell ``(ix, iy)``: its parameters, the value, the cell."""
        view, layer = self._shown, self._layer
        assert view is not None
        (px, x), (py, y) = view.cell_parameters(ix, iy)
        text = (f"{SHORT_NAMES.get(px, px)} = {value_text(x)}    "
                f"{SHORT_NAMES.get(py, py)} = {value_text(y)}")
        if layer is not None:
            value = float(layer.values[iy, ix])
            text += f"    {QUANTITY_NAMES[layer.quantity]} = {fmt_num(value, 4)}"
            if layer.source == "mean" and layer.spread is not None and np.isfinite(value):
                n = int(layer.n_seeds[iy, ix]) if layer.n_seeds is not None else 0
                text += f" ± {fmt_num(float(layer.spread[iy, ix]), 2)} ({n} seeds)"
        return text + f"    cell (ix, iy) = ({ix}, {iy})"

    @Slot(object)
    def _on_scene_mouse_moved(self, pos: QPointF) -> None:
        cell = self._cell_under(pos)
        text = self.readout(*cell) if cell is not None else " "
        self.status_label.setText(text)
        self.sig_status.emit(text.strip())

    @Slot(object)
    def _on_scene_mouse_clicked(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._shown is None:
            return
        cell = self._cell_under(event.scenePos())
        if cell is not None:
            self.sig_cell_clicked.emit(self._shown.cell_parameters(*cell))

    @Slot(int)
    def _on_quantity_box_changed(self, index: int) -> None:
        self.set_option("quantity", PHASE_QUANTITIES[index])

    @Slot(int)
    def _on_source_box_changed(self, index: int) -> None:
        source, model = str(self.source_box.itemData(index)).split(":")
        self.set_option("sim_model", model)
        self.set_option("source", source)

    @Slot(int)
    def _on_curve_box_changed(self, index: int) -> None:
        self.set_option("curve", int(self.curve_box.itemData(index)))

    @Slot(bool)
    def _on_contour_check_toggled(self, checked: bool) -> None:
        self.set_option("contour", checked)

    @Slot(float)
    def _on_level_box_changed(self, value: float) -> None:
        self.set_option("contour_level", float(value))
