"""The phase diagram tab: cells where they belong, colours, contour, readout, click, export."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import FAST_NUMERICS
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage

from engine import views
from engine.config import Config, Grid, GridAxis, ModelConfig, RunConfig
from engine.runner import run
from engine.views import PHASE_QUANTITIES, PhaseAxis, PhaseTheory, PhaseView, Views
from gui.figure_export import export_figure, image_array
from gui.plots.phase import HALO, LINE, SEQUENTIAL_MAP, SIGNED_MAP, PhasePlot
from gui.style import ON_SCREEN, PRESENTATION

MODEL = ModelConfig(d=60, sigma="tanh", sigma_star="tanh", lam=0.1, noise=0.1, alpha=2.0,
                    eta_tilde=1.5)
#: alpha geometric (log axis), eta_tilde evenly spaced through 0 (linear axis)
GRID = Grid(GridAxis("alpha", (0.5, 1.0, 2.0, 4.0)), GridAxis("eta_tilde", (0.0, 1.5, 3.0)))


def grid_config(grid: Grid = GRID, **run_fields) -> Config:
    fields = {"kind": "errors", "grid": grid, "simulate": (), "seeds": (0,)}
    fields.update(run_fields)
    return Config(model=MODEL, run=RunConfig(**fields), numerics=FAST_NUMERICS)


@pytest.fixture(scope="module")
def theory_stages() -> list[views.TheoryUpdate]:
    """The live theory's updates of a 4 x 3 grid: three rows, then the snapshot."""
    stages: list[views.TheoryUpdate] = []
    views.live_theory(grid_config(), on_stage=lambda s, u: stages.append(u), extras=False)
    return stages


@pytest.fixture
def plot(qtbot) -> PhasePlot:  # noqa: ANN001
    p = PhasePlot()
    qtbot.addWidget(p)
    p.resize(900, 560)
    p.show()
    qtbot.waitExposed(p)
    return p


def synthetic(values: np.ndarray, x: PhaseAxis, y: PhaseAxis) -> Views:
    """A phase view whose test error is ``values`` (every other quantity NaN)."""
    maps = {q: np.full(values.shape, np.nan) for q in (*PHASE_QUANTITIES, "rf_test_error")}
    maps["test_error"] = values
    theory = PhaseTheory(0, "", maps, rows_done=values.shape[0])
    return Views(config=Config(), phase=PhaseView(x=x, y=y, theory=(theory,)))


def scene_point(plot: PhasePlot, x: float, y: float) -> QPointF:
    return plot.panels["map"].vb.mapViewToScene(QPointF(x, y))


def widget_point(plot: PhasePlot, x: float, y: float):  # noqa: ANN201
    return plot.plot_widget.mapFromScene(scene_point(plot, x, y))


def colour_at(plot: PhasePlot, x: float, y: float) -> QColor:
    """The colour on screen at plot coordinates ``(x, y)``."""
    pos = widget_point(plot, x, y)
    arr = image_array(plot.plot_widget.grab().toImage())
    return QColor(*[int(v) for v in arr[pos.y(), pos.x(), :3]])


def close(a: QColor, b: QColor, tol: int = 6) -> bool:
    return all(abs(u - v) <= tol for u, v in zip(a.getRgb()[:3], b.getRgb()[:3], strict=True))


# =========================================================================== drawing


def test_cells_are_drawn_at_their_values_on_log_and_linear_axes(qtbot, plot, theory_stages):
    final = theory_stages[-1].views
    plot.set_views(final)
    layer = final.phase.layer("test_error")
    np.testing.assert_array_equal(plot._image.image, layer.values)
    # the image spans the cells' edges: log10(alpha) across, eta_tilde up
    x_edges = np.log10([0.5, 1.0, 2.0, 4.0])
    half = 0.5 * math.log10(2.0)
    low = plot._image.mapToView(QPointF(0, 0))
    high = plot._image.mapToView(QPointF(4, 3))
    assert (low.x(), low.y()) == pytest.approx((x_edges[0] - half, -0.75))
    assert (high.x(), high.y()) == pytest.approx((x_edges[-1] + half, 3.75))
    # each cell is painted in the colour of its value
    cmap = plot._bar.colorMap()
    lo, hi = layer.levels
    for iy, ix in [(0, 0), (1, 2), (2, 3), (2, 1)]:
        expected = cmap.map((layer.values[iy, ix] - lo) / (hi - lo), mode="qcolor")
        got = colour_at(plot, x_edges[ix], GRID.y.values[iy])
        assert close(got, expected), (iy, ix, got.name(), expected.name())
    # log ticks at the true values on x, pyqtgraph's own on the linear y axis
    ticks = [t for level in plot.panels["map"].item.getAxis("bottom")._tickLevels
             for t in level]
    assert (pytest.approx(math.log10(2.0)), "2") in [(v, s) for v, s in ticks]
    assert plot.panels["map"].item.getAxis("left")._tickLevels is None
    assert plot.panels["map"].item.getAxis("bottom").labelText.startswith("n/d")


def test_cells_not_computed_yet_are_transparent(qtbot, plot, theory_stages):
    first_row = theory_stages[0].views
    plot.set_views(first_row)
    background = QColor(ON_SCREEN.background)
    x = math.log10(2.0)
    assert close(colour_at(plot, x, 3.0), background, tol=2)   # row 2: not yet
    assert not close(colour_at(plot, x, 0.0), background, tol=20)  # row 0: drawn
    assert "rows 1/3" in plot.panels["map"].item.titleLabel.text
    plot.set_views(theory_stages[-1].views)
    assert "rows" not in plot.panels["map"].item.titleLabel.text


def test_colour_bar_range_and_map(qtbot, plot, theory_stages):
    final = theory_stages[-1].views
    plot.set_views(final)
    test = final.phase.layer("test_error").values
    assert plot._bar.levels() == pytest.approx((test.min(), test.max()))
    assert plot._cmap == SEQUENTIAL_MAP and plot._bar.isVisible()
    plot.set_option("quantity", "gain")
    gain = final.phase.layer("gain").values
    top = np.abs(gain).max()
    assert plot._bar.levels() == pytest.approx((-top, top))  # symmetric about 0
    assert plot._cmap == SIGNED_MAP
    assert plot._image.levels.tolist() == pytest.approx([-top, top])
    # an errors run has no spectral summaries: nothing drawn, and the note says why
    plot.set_option("quantity", "edge_right")
    assert plot._image.image is None and not plot._bar.isVisible()
    assert "kind 'errors'" in plot.hint_label.text()


def test_contour_is_drawn_at_its_level(qtbot, plot):
    x = PhaseAxis.of("eta_tilde", (0.0, 1.0, 2.0, 3.0))
    y = PhaseAxis.of("lam", (0.1, 0.2, 0.3))
    values = np.tile(np.arange(4.0), (3, 1))  # the value is the column index
    plot.set_views(synthetic(values, x, y))
    halo, line = plot._contours
    assert halo.data is None and line.data is None  # off by default
    plot.set_option("contour", True)
    plot.set_option("contour_level", 1.5)
    assert plot.level_box.value() == 1.5 and plot.contour_check.isChecked()
    line.generatePath()
    path = line.path
    points = [line.mapToView(path.elementAt(i)) for i in range(path.elementCount())]
    assert len(points) >= 2
    assert all(p.x() == pytest.approx(1.5) for p in points)  # half way from 1 to 2
    ys = [p.y() for p in points]
    assert min(ys) == pytest.approx(0.05) and max(ys) == pytest.approx(0.35)  # edge to edge
    # a light line over a dark one reads on every colour of the map
    assert line.pen.color().name() == LINE.lower() and halo.pen.color().name() == HALO
    assert line.zValue() > halo.zValue()
    assert line.pen.widthF() < halo.pen.widthF()
    assert "contour at 1.5" in plot.panels["map"].item.titleLabel.text
    plot.set_option("contour", False)
    assert line.data is None


def test_contour_stays_inside_the_rows_computed(qtbot, plot, theory_stages):
    plot.set_option("contour", True)
    plot.set_views(theory_stages[1].views)  # two rows of three
    layer = theory_stages[1].views.phase.layer("test_error")
    plot.set_option("contour_level", float(np.mean(layer.values[:2])))
    line = plot._contours[1]
    assert line.data.shape == (2, 4)
    line.generatePath()
    ys = [line.mapToView(line.path.elementAt(i)).y() for i in range(line.path.elementCount())]
    assert ys and max(ys) <= 1.5 + 1e-9  # the second row's centre: nothing above


def test_index_axis_labels_each_value(qtbot, plot):
    x = PhaseAxis.of("alpha0", (1.0, 4.0, None))
    y = PhaseAxis.of("alpha", (0.2, 0.5, 1.0, 3.0))
    plot.set_views(synthetic(np.arange(12.0).reshape(4, 3), x, y))
    bottom = plot.panels["map"].item.getAxis("bottom")._tickLevels[0]
    assert bottom == [(0.0, "1"), (1.0, "4"), (2.0, "large batch")]
    left = plot.panels["map"].item.getAxis("left")._tickLevels[0]
    assert [s for _, s in left] == ["0.2", "0.5", "1", "3"]


# =========================================================================== interaction


def test_readout_names_the_cell_under_the_cursor(qtbot, plot, theory_stages):
    final = theory_stages[-1].views
    plot.set_views(final)
    value = final.phase.theory[0].values["test_error"][1, 2]
    with qtbot.waitSignal(plot.sig_status) as status:
        qtbot.mouseMove(plot.plot_widget.viewport(),
                        widget_point(plot, math.log10(2.1), 1.4))
    text = status.args[0]
    assert text == (f"α = 2    η̃ = 1.5    test error = {value:.4g}    "
                    f"cell (ix, iy) = (2, 1)")
    assert plot.status_label.text() == text
    plot._on_scene_mouse_moved(scene_point(plot, 2.0, 9.0))  # off the map
    assert plot.status_label.text().strip() == ""


def test_click_emits_the_cells_parameters(qtbot, plot, theory_stages):
    plot.set_views(theory_stages[-1].views)
    with qtbot.waitSignal(plot.sig_cell_clicked) as clicked:
        qtbot.mouseClick(plot.plot_widget.viewport(), Qt.MouseButton.LeftButton,
                         pos=widget_point(plot, math.log10(0.55), 2.9))
    assert clicked.args[0] == (("alpha", 0.5), ("eta_tilde", 3.0))
    with qtbot.assertNotEmitted(plot.sig_cell_clicked):  # outside the map
        qtbot.mouseClick(plot.plot_widget.viewport(), Qt.MouseButton.LeftButton,
                         pos=widget_point(plot, math.log10(8.0), 1.0))


def test_current_parameters_are_ringed(qtbot, plot, theory_stages):
    plot.set_views(theory_stages[-1].views)
    ring = plot._marker[1]
    x, y = ring.getData()
    assert (x[0], y[0]) == pytest.approx((math.log10(2.0), 1.5))


def test_options_controls_and_view_state(qtbot, plot, theory_stages):
    plot.set_views(theory_stages[-1].views)
    plot.quantity_box.setCurrentIndex(PHASE_QUANTITIES.index("gamma"))
    assert plot.options["quantity"] == "gamma"
    plot.level_box.setValue(0.25)
    plot.contour_check.setChecked(True)
    assert plot.options["contour_level"] == 0.25 and plot.options["contour"] is True
    with pytest.raises(ValueError, match="finite number"):
        plot.set_option("contour_level", math.inf)
    with pytest.raises(ValueError):
        plot.set_option("quantity", "nope")
    state = plot.view_state()
    other = PhasePlot()
    qtbot.addWidget(other)
    other.apply_view_state(state)
    assert other.options == plot.options
    assert other.level_box.value() == 0.25 and other.quantity_box.currentText().startswith("γ")


def test_simulated_means_and_spreads_are_offered(qtbot, plot):
    grid = Grid(GridAxis("alpha", (1.0, 2.0)), GridAxis("eta_tilde", (0.0, 2.0)))
    config = grid_config(grid, simulate=("network",), seeds=(0, 1), n_test=300)
    theory_half = views.live_theory(config, extras=False).views
    sims = views.simulation_views(run(config.with_run(theory=False)), config)
    both = views.combine(theory_half, sims, config)
    plot.set_views(theory_half)
    assert not plot.source_box.isVisible()
    plot.set_views(both)
    assert plot.source_box.isVisible()
    assert [plot.source_box.itemText(i) for i in range(plot.source_box.count())] == \
        ["theory", "network: seed mean", "network: seed spread"]
    plot.source_box.setCurrentIndex(1)
    assert (plot.options["source"], plot.options["sim_model"]) == ("mean", "network")
    mean = both.phase.layer("test_error", "mean")
    np.testing.assert_array_equal(plot._image.image, mean.values)
    assert "network seed mean" in plot.panels["map"].item.titleLabel.text
    assert "± " in plot.readout(1, 1) and "(2 seeds)" in plot.readout(1, 1)
    plot.source_box.setCurrentIndex(2)
    np.testing.assert_array_equal(plot._image.image, mean.spread)
    assert plot._cmap == SEQUENTIAL_MAP  # a spread is never signed
    # the simulation gone (other parameters), the theory is drawn again
    plot.set_views(theory_half)
    np.testing.assert_array_equal(plot._image.image,
                                  theory_half.phase.layer("test_error").values)


def test_without_a_grid_the_tab_says_how_to_get_one(qtbot, plot, theory_stages):
    plot.set_views(theory_stages[-1].views)
    plot.set_views(Views(config=Config()))
    assert plot.export_data() == {}
    assert plot._image.image is None and "run.grid" in plot.hint_label.text()


# =========================================================================== export


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_exports_in_every_format(qtbot, plot, theory_stages, tmp_path, fmt):
    plot.set_views(theory_stages[-1].views)
    plot.set_option("quantity", "gain")
    plot.set_option("contour", True)
    path = export_figure(plot, tmp_path / f"phase.{fmt}", style="presentation", dpi=150,
                         width_in=6.0, height_in=4.0)
    data = path.read_bytes()
    if fmt == "png":
        image = QImage(str(path))
        assert (image.width(), image.height()) == (900, 600)
        arr = image_array(image)
        # the map's colours made it in: blue-grey-yellow cells, not only axes and text
        assert len({tuple(p) for p in arr[::7, ::7, :3].reshape(-1, 3)}) > 20
    elif fmt == "svg":
        text = data.decode()
        # the cells are an embedded image kept as sharp squares when scaled
        assert 'width="4" height="3"' in text and 'image-rendering="optimizeSpeed"' in text
    else:
        assert data.startswith(b"%PDF") and b"/Interpolate true" not in data
    assert plot.style is ON_SCREEN  # the presentation style was for the export only


def test_presentation_style_reaches_the_colour_bar(qtbot, plot, theory_stages):
    plot.set_views(theory_stages[-1].views)
    plot.apply_style(PRESENTATION)
    for side in ("left", "right"):
        axis = plot._bar.getAxis(side)
        assert axis.labelStyle["font-size"] == f"{PRESENTATION.font_size}pt"
        assert axis.textPen().color().name() == "#000000"
    assert plot._bar.getAxis("left").labelText == "test error"
    assert plot._bar.axis.style["tickFont"].pointSizeF() == PRESENTATION.tick_font_size
    assert f"font-size:{PRESENTATION.font_size:g}pt" in plot._bar.getAxis("left").label.toHtml()
    plot.set_option("contour", True)
    assert plot._contours[1].pen.widthF() == PRESENTATION.line_width
