"""The plots draw engine views and nothing else: what is drawn, where, and how it reads.

Views are built through the engine's own functions from the shared synthetic results
(``synthetic.make_result``) and, where the shapes matter, from a small real run.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from synthetic import eta_curves, make_config, make_result

from engine import views
from engine.config import Config
from engine.views import Views
from gui.figure_export import _prepared, image_array, plot_provenance
from gui.plots import PLOT_CLASSES, create_plots
from gui.plots.base import PlotBase, contrast_ratio, curve_palette
from gui.plots.learned_function import LearnedFunctionPlot
from gui.plots.learning_curves import LearningCurvesPlot
from gui.plots.legend import CompactLegend
from gui.plots.spectrum import SpectrumPlot
from gui.plots.tail import TailPlot
from gui.plots.text import fmt_num
from gui.plots.weights import WeightsPlot
from gui.style import ON_SCREEN, PRESENTATION

ALPHAS = (0.5, 1.0, 2.0, 4.0)
GUI = Path(__file__).resolve().parents[2] / "gui"


# =========================================================================== helpers


def make_views(config: Config, *, awkward: bool = False, sims: bool = True) -> Views:
    """Theory and simulation views of a synthetic result, as the app builds them."""
    result = make_result(config, awkward=awkward)
    target = config.model.alpha
    snapshot = tuple(min(c.points, key=lambda p: abs(float(p.value) - target)
                         if p.value is not None else 0.0) for c in result.curves)
    bundle = views.TheoryBundle(config, run=result, snapshot=snapshot, stage="snapshot")
    return views.combine(views.theory_views(bundle),
                         views.simulation_views(result) if sims else None, config)


def shown(qtbot, plot: PlotBase, style=ON_SCREEN, size=(900, 560)) -> PlotBase:  # noqa: ANN001
    qtbot.addWidget(plot)
    plot.apply_style(style)
    plot.resize(*size)
    plot.show()
    qtbot.waitExposed(plot)
    return plot


def visible_items(plot: PlotBase) -> dict[tuple[str, str], object]:
    """Every data item on screen: ``{(panel role, key): item}``."""
    out = {}
    for role, panel in plot.panels.items():
        if not panel.item.isVisible():
            continue
        for key, item in panel.pool.drawn().items():
            if item.isVisible():
                out[(role, key)] = item
    return out


def view_points(item: object) -> np.ndarray:
    """The values an item draws, in view coordinates (log10 on a log axis), as (n, 2)."""
    if isinstance(item, pg.BarGraphItem):
        x = np.asarray(item.opts["x"], float)
        h = np.asarray(item.opts["height"], float)
        w = item.opts["width"] / 2
        return np.column_stack([np.r_[x - w, x + w, x - w, x + w],
                                np.r_[h, h, 0 * h, 0 * h]])
    x, y = item.getData()
    if x is None or y is None:
        return np.zeros((0, 2))
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.size == y.size + 1:  # a step curve: each bin's height at both edges
        x, y = np.r_[x[:-1], x[1:]], np.r_[y, y]
    pts = np.column_stack([x, y])
    return pts[np.all(np.isfinite(pts), axis=1)]


def assert_legends_clear(plot: PlotBase) -> int:
    """Every shown legend lies inside its panel and covers no drawn value."""
    checked = 0
    for role, panel in plot.panels.items():
        legend = panel.legend
        if legend is None or not panel.item.isVisible() or not legend.isVisible():
            continue
        if not legend.items:
            continue
        rect = legend.sceneBoundingRect()
        assert panel.vb.sceneBoundingRect().adjusted(-1, -1, 1, 1).contains(rect), role
        view_rect = panel.vb.mapSceneToView(rect).boundingRect()
        for key, item in panel.pool.drawn().items():
            if not item.isVisible():
                continue
            pts = view_points(item)
            inside = [tuple(p) for p in pts if view_rect.contains(QPointF(*p))]
            assert not inside, (plot.name, role, key, inside[:3])
        checked += 1
    return checked


def pixel(plot: PlotBase, panel_role: str, x: float, y: float) -> QColor:
    """Colour on screen at data point ``(x, y)`` (view coordinates) of a panel."""
    panel = plot.panels[panel_role]
    scene = panel.vb.mapViewToScene(QPointF(x, y))
    pos = plot.plot_widget.mapFromScene(scene)
    image = plot.plot_widget.grab().toImage()
    arr = image_array(image)
    return QColor(*[int(v) for v in arr[pos.y(), pos.x(), :3]])


# =========================================================================== interface


def test_interface_names():
    assert [cls.name for cls in PLOT_CLASSES] == list(Views.NAMES)
    assert all(cls.title for cls in PLOT_CLASSES)


@pytest.mark.parametrize("sweep", [False, True])
def test_every_plot_draws_its_view_and_exports_its_tables(qtbot, sweep):
    config = make_config(d=100, kind="errors" if sweep else "spectrum",
                         sweep=ALPHAS if sweep else None, curves=())
    v = make_views(config, awkward=True)
    plots = create_plots(ON_SCREEN)  # keep references: qtbot holds only weak ones
    for plot in plots:
        qtbot.addWidget(plot)
        plot.set_views(v)
        tables = v.view(plot.name).tables()
        data = plot.export_data()
        if plot.name == "phase":  # a map needs run.grid: tests/gui/test_phase_plot.py
            assert data == tables == {}
            continue
        assert data.keys() == tables.keys() and data, plot.name
        for name, (cols, rows) in tables.items():
            assert data[name][0] == cols
            np.testing.assert_array_equal(data[name][1], rows)
        assert visible_items(plot), plot.name
        assert plot.views is v and plot.config is config
        plot.apply_style(PRESENTATION)
        assert plot.export_data().keys() == tables.keys()
        assert plot.graphics_view() is plot.plot_widget
        plot.clear()
        assert plot.export_data() == {} and not visible_items(plot), plot.name


def test_provenance_is_the_views_config_and_seeds(qtbot):
    config = make_config(d=60, sweep=None, curves=(), seeds=(4, 9))
    plot = SpectrumPlot()
    qtbot.addWidget(plot)
    plot.set_views(make_views(config))
    prov = plot_provenance(plot)
    assert prov["config"] == config.to_dict() and prov["seeds"] == [4, 9]
    plot.set_views(make_views(config, sims=False))
    assert plot_provenance(plot)["seeds"] == []  # theory only: no seed was drawn
    plot.clear()
    assert "config" not in plot_provenance(plot)


def test_no_computation_in_the_gui():
    """The GUI formats and draws: statistics and spectra come from engine.views."""
    forbidden = re.compile(r"np\.(histogram|percentile|quantile|mean|nanmean|median|std|"
                           r"nanstd|var|cumsum|trapezoid)\(|\.(mean|std|var)\(|"
                           r"split_outliers|ccdf_from_density|engine\.spectra")
    hits = [f"{path.relative_to(GUI.parent)}:{i}: {line.strip()}"
            for path in sorted(GUI.rglob("*.py"))
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if forbidden.search(line)]
    assert not hits, hits


def test_options_are_validated_and_view_state_restores_them(qtbot):
    config = make_config(d=100, sweep=None, curves=())
    v = make_views(config)
    plot = shown(qtbot, SpectrumPlot())
    plot.set_views(v)
    with pytest.raises(KeyError, match="overlay"):
        plot.set_option("no_such_option", True)
    with pytest.raises(ValueError, match="tail"):
        plot.set_option("view", "sideways")
    plot.set_option("log_y", True)
    plot.set_option("overlay", False)
    # the user zooms the bulk (pyqtgraph reports a mouse zoom as a manual range change)
    bulk = plot.panels["bulk0"]
    bulk.vb.setRange(xRange=(0.2, 0.9), yRange=(-1.0, 0.5), padding=0)
    bulk.vb.sigRangeChangedManually.emit([True, True])
    plot.set_series_visible("srf", False)
    state = plot.view_state()
    assert json.loads(json.dumps(state)) == state  # stored in session files
    assert state["options"]["overlay"] is False and state["hidden"] == ["srf"]
    assert state["ranges"]["bulk"] == [[0.2, 0.9], [-1.0, 0.5]]
    # a new plot (a reopened session) gets the same view, before or after its data
    other = shown(qtbot, SpectrumPlot())
    other.apply_view_state({**state, "options": {**state["options"], "bogus": 1}})
    other.set_views(v)
    assert other.options == plot.options
    for role in ("bulk0", "bulk1"):
        np.testing.assert_allclose(other.panels[role].vb.viewRange(),
                                   [[0.2, 0.9], [-1.0, 0.5]], atol=1e-9)
    hidden = [k for (role, k), item in visible_items(other).items() if k.startswith("hist_srf")]
    assert not hidden
    assert other.view_state()["ranges"] == state["ranges"]
    # a new redraw keeps the user's zoom; an option change frames afresh
    other.set_views(v)
    np.testing.assert_allclose(other.panels["bulk0"].vb.viewRange()[0], [0.2, 0.9])
    other.set_option("log_y", False)
    assert other.view_state()["ranges"] == {}


def test_legend_click_hides_a_series(qtbot):
    plot = shown(qtbot, LearningCurvesPlot())
    plot.set_views(make_views(make_config(d=100, kind="errors", sweep=ALPHAS, curves=())))
    legend = plot.panels["errors"].legend
    sample = next(s for s, label in legend.items if label.text == "sRF sim.")
    pos = plot.plot_widget.mapFromScene(sample.sceneBoundingRect().center())
    qtbot.mouseClick(plot.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert plot.hidden_series == {"srf"}
    keys = {k for (_r, k) in visible_items(plot)}
    assert not any("srf" in k for k in keys) and any("network" in k for k in keys)
    assert plot.view_state()["hidden"] == ["srf"]


def test_deferred_redraw_of_a_hidden_tab(qtbot):
    plot = TailPlot()
    qtbot.addWidget(plot)
    plot.defer_when_hidden = True
    v = make_views(make_config(d=100, sweep=None, curves=()))
    plot.set_views(v)
    assert not visible_items(plot)  # not drawn while hidden ...
    data = plot.export_data()  # ... but its data are the view's
    assert data.keys() == v.tail.tables().keys()
    for name, (_cols, rows) in v.tail.tables().items():
        np.testing.assert_array_equal(data[name][1], rows)
    plot.graphics_view()  # the exporter asks: drawn now
    assert visible_items(plot)


# =========================================================================== legends


def test_legend_is_a_legend_item_subclass_and_survives_teardown(qtbot):
    plot = SpectrumPlot()  # deleted here, not by qtbot
    plot.show()
    plot.set_views(make_views(make_config(d=60, sweep=None, curves=())))
    legend = plot.panels["bulk0"].item.legend
    assert isinstance(legend, CompactLegend) and isinstance(legend, pg.LegendItem)
    assert not hasattr(legend, "_fsl_columns")
    plot.close()
    plot.deleteLater()
    qtbot.wait(10)  # a legend must not outlive its ViewBox with a dangling handler


CASES = {
    "single": lambda: make_config(d=100, sweep=None, curves=()),
    "four curves": lambda: make_config(d=100, kind="errors", sweep=ALPHAS,
                                       curves=eta_curves(4)),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("style", [ON_SCREEN, PRESENTATION], ids=["screen", "presentation"])
def test_legends_cover_no_data_on_screen_and_in_the_export_layout(qtbot, case, style):
    v = make_views(CASES[case]())
    plots = create_plots(ON_SCREEN)
    checked = 0
    for plot in plots:
        shown(qtbot, plot, ON_SCREEN)
        plot.set_views(v)
        if style is ON_SCREEN:
            checked += assert_legends_clear(plot)
            continue
        # the presentation export lays the figure out at 6 x 4 in (96 px/in)
        with _prepared(plot, PRESENTATION, 6.0, 4.0):
            checked += assert_legends_clear(plot)
    assert checked >= 5


@pytest.mark.parametrize("plot_class, curves, options", [
    (SpectrumPlot, 1, {"log_y": True}),
    (SpectrumPlot, 1, {"log_x": True, "log_y": True}),
    (SpectrumPlot, 1, {"view": "tail"}),
    (SpectrumPlot, 3, {"curves": "overlay"}),
    (LearningCurvesPlot, 3, {"log_x": True, "log_y": True}),
    (LearningCurvesPlot, 3, {"x_axis": "n/d"}),
])
def test_legends_cover_no_data_with_other_options(qtbot, plot_class, curves, options):
    config = make_config(d=100, kind="errors", sweep=ALPHAS,
                         curves=eta_curves(curves) if curves > 1 else ())
    v = make_views(config)
    plot = shown(qtbot, plot_class())
    for key, value in options.items():
        plot.set_option(key, value)
    plot.set_views(v)
    assert assert_legends_clear(plot) >= 1
    with _prepared(plot, PRESENTATION, 6.0, 4.0):
        assert assert_legends_clear(plot) >= 1


def test_spectrum_legend_in_presentation_export_is_not_shrunk(qtbot):
    """The presentation export at 6 x 4 in: the legend keeps its size and its corner
    (it covered half the main panel before)."""
    v = make_views(make_config(d=100, sweep=None, curves=()))
    plot = shown(qtbot, SpectrumPlot())
    plot.set_views(v)
    with _prepared(plot, PRESENTATION, 6.0, 4.0):
        panel = plot.panels["bulk0"]
        legend = panel.legend
        assert legend.scale() == 1.0
        area = legend.sceneBoundingRect()
        vb = panel.vb.sceneBoundingRect()
        assert area.width() * area.height() < 0.35 * vb.width() * vb.height()


# =========================================================================== spectrum


def test_spectrum_linear_and_geometric_bins(qtbot):
    v = make_views(make_config(d=100, sweep=None, curves=()))
    sim = next(s for s in v.spectrum.sims if s.model == "network")
    plot = shown(qtbot, SpectrumPlot())
    plot.set_views(v)
    hist = plot.panels["bulk0"].pool.drawn()["hist_network/0"]
    np.testing.assert_array_equal(hist.xData, sim.after.edges)
    plot.set_option("log_x", True)
    hist = plot.panels["bulk0"].pool.drawn()["hist_network/0"]
    np.testing.assert_array_equal(hist.xData, sim.after_log.edges)
    assert plot.panels["bulk0"].log == (True, False)


def test_spectrum_log_density_fills_to_a_floor_not_to_one(qtbot):
    v = make_views(make_config(d=100, sweep=None, curves=()))
    sim = next(s for s in v.spectrum.sims if s.model == "network")
    plot = shown(qtbot, SpectrumPlot())
    plot.set_option("log_y", True)
    plot.set_views(v)
    hist = plot.panels["bulk0"].pool.drawn()["hist_network/0"]
    level = hist.opts["fillLevel"]
    positive = sim.after.density[sim.after.density > 0]
    assert 10.0 ** level < positive.min()  # below every bin, not at 10**0 = 1
    (_, _), (y0, y1) = plot.panels["bulk0"].vb.viewRange()
    assert y0 <= level + 1e-9
    # pixels: above a bin lower than 1 the panel shows no fill (it was a solid block)
    centres = 0.5 * (sim.after.edges[:-1] + sim.after.edges[1:])
    i = int(np.argmin(np.where((positive.size > 0) & (sim.after.density > 0.05)
                               & (sim.after.density < 0.3), np.abs(centres - centres.mean()),
                               np.inf)))
    above = math.log10(min(0.8, 3 * sim.after.density[i]))
    fill = QColor(plot._color(0))
    got = pixel(plot, "bulk0", centres[i], above)
    assert contrast_ratio(got.name(), ON_SCREEN.background) < 1.3, got.name()
    assert got != fill


def test_spectrum_tail_view_frames_the_right_edge(qtbot):
    v = make_views(make_config(d=100, sweep=None, curves=()))
    edge = v.spectrum.right_edge()
    plot = shown(qtbot, SpectrumPlot())
    plot.set_option("view", "tail")
    plot.set_views(v)
    panel = plot.panels["bulk0"]
    assert panel.log == (False, True)
    (x0, x1), _ = panel.vb.viewRange()
    assert x0 == pytest.approx(0.5 * edge) and x1 == pytest.approx(1.15 * edge)
    assert any(t.startswith("right edge λ₊ = ") for t in panel.legend.texts())
    assert "edge" in panel.item.titleLabel.text or "tail" in panel.item.titleLabel.text
    # one click away below the figure, in step with the option
    assert plot.tail_button.isChecked()
    qtbot.mouseClick(plot.tail_button, Qt.MouseButton.LeftButton)
    assert plot.options["view"] == "bulk" and panel.log == (False, False)
    plot.apply_view_state({"options": {"view": "tail"}})
    assert plot.tail_button.isChecked()


def test_spectrum_outliers_one_labelled_row_per_source(qtbot):
    v = make_views(make_config(d=100, sweep=None, curves=()))
    plot = shown(qtbot, SpectrumPlot())
    plot.set_views(v)
    panel = plot.panels["outliers"]
    assert panel.item.isVisible()
    ticks = panel.item.getAxis("left")._tickLevels[0]
    rows = {label: y for y, label in ticks}
    assert list(rows) == ["theory", "network", "sRF"]
    drawn = panel.pool.drawn()
    theory = v.spectrum.theory[0].outliers
    marks = view_points(drawn["marks/0"])
    np.testing.assert_allclose(np.unique(marks[:, 0]), np.unique(theory))
    assert np.all(np.abs(marks[:, 1] - rows["theory"]) < 0.5)
    for model, row in (("network", rows["network"]), ("srf", rows["sRF"])):
        sim = next(s for s in v.spectrum.sims if s.model == model)
        pts = view_points(drawn[f"sim_{model}/0"])
        np.testing.assert_allclose(np.sort(pts[:, 0]), np.sort(sim.outliers))
        np.testing.assert_allclose(pts[:, 1], row)
    # no marker at an arbitrary height, no text in the scene
    assert not [it for it in plot.plot_widget.scene().items() if isinstance(it, pg.TextItem)]


def test_spectrum_several_curves_are_small_multiples(qtbot):
    config = make_config(d=100, sweep=None, curves=eta_curves(4))
    v = make_views(config)
    plot = shown(qtbot, SpectrumPlot())
    plot.set_views(v)
    bulk = [p for role, p in plot.panels.items() if role.startswith("bulk") and
            p.item.isVisible()]
    assert len(bulk) == 4
    for ci, panel in enumerate(bulk):
        theory = v.spectrum.theory[ci]
        assert panel.item.titleLabel.text == theory.label
        drawn = panel.pool.drawn()
        np.testing.assert_array_equal(drawn[f"theory_after/{ci}"].yData, theory.after.y)
        assert not [k for k in drawn if k.endswith(tuple(f"/{c}" for c in range(4) if c != ci))]
        # each panel in its curve's colour: the histogram fill is distinguishable
        fill = drawn[f"hist_network/{ci}"].opts["fillBrush"]
        assert QColor(pg.mkBrush(fill).color()).name() == QColor(plot._color(ci)).name()
    assert len({QColor(plot._color(ci)).name() for ci in range(4)}) == 4
    assert plot._key.isVisible() and "theory, after" in plot._key.texts()
    # overlaid: one panel, outlines only, the curves named in the legend
    plot.set_option("curves", "overlay")
    bulk = [p for role, p in plot.panels.items() if role.startswith("bulk") and
            p.item.isVisible()]
    assert len(bulk) == 1
    assert {t.label for t in v.spectrum.theory} <= set(bulk[0].legend.texts())
    fills = [it.opts["fillLevel"] for it in bulk[0].pool.drawn().values() if it.isVisible()]
    assert all(f is None for f in fills)


def test_spectrum_too_many_curves_for_panels_are_overlaid(qtbot):
    v = make_views(make_config(d=60, sweep=None, curves=eta_curves(5)))
    plot = shown(qtbot, SpectrumPlot())
    plot.set_option("overlay", False)  # 5 curves x before/after: more than 8 panels
    plot.set_views(v)
    shown_panels = [r for r, p in plot.panels.items() if r.startswith("bulk")
                    and p.item.isVisible()]
    assert shown_panels == ["bulk0", "bulk1"]  # before | after, every curve in each
    keys = set(plot.panels["bulk1"].pool.drawn())
    assert {f"theory_after/{ci}" for ci in range(5)} <= keys


def test_spectrum_side_by_side(qtbot):
    v = make_views(make_config(d=100, sweep=None, curves=()))
    plot = shown(qtbot, SpectrumPlot())
    plot.set_option("overlay", False)
    plot.set_views(v)
    before, after = plot.panels["bulk0"], plot.panels["bulk1"]
    assert before.item.isVisible() and after.item.isVisible()
    assert all("before" in k for k in before.pool.drawn())
    assert not any("before" in k for k in after.pool.drawn())
    assert plot._key.isVisible()
    plot.set_option("overlay", True)
    assert not plot.panels["bulk1"].item.isVisible() and not plot._key.isVisible()


def test_spectrum_atom_at_zero_is_text_in_the_legend(qtbot):
    config = make_config(d=100, sweep=None, curves=()).with_model(alpha=0.5)  # p > n
    v = make_views(config)
    assert v.spectrum.theory[0].atom_zero == pytest.approx(0.5)
    plot = shown(qtbot, SpectrumPlot(), PRESENTATION)
    plot.set_views(v)
    assert "atom at λ = 0: mass 0.5" in plot.panels["bulk0"].legend.texts()
    assert not [it for it in plot.plot_widget.scene().items() if isinstance(it, pg.TextItem)]


# =========================================================================== other plots


def test_learning_curves_axes_points_and_bars(qtbot):
    config = make_config(d=100, kind="errors", sweep=ALPHAS, curves=())
    v = make_views(config)
    lc = v.learning_curves
    plot = shown(qtbot, LearningCurvesPlot())
    plot.set_views(v)
    drawn = plot.panels["errors"].pool.drawn()
    np.testing.assert_allclose(drawn["test/0"].xData, lc.theory[0].x_per_p)
    net = next(s for s in lc.sims if s.model == "network")
    np.testing.assert_allclose(drawn["sim_network/0"].yData, net.test_mean)
    bars = view_points(drawn["bars_network/0"])
    np.testing.assert_allclose(bars[1::2, 1] - bars[::2, 1], 2 * net.test_std)
    assert drawn["sim_srf/0"].opts["symbol"] == "t"
    assert plot.panels["errors"].item.getAxis("bottom").labelText.startswith("n/p")
    plot.set_option("x_axis", "n/d")
    np.testing.assert_allclose(plot.panels["errors"].pool.drawn()["test/0"].xData,
                               lc.theory[0].x)
    plot.set_option("log_x", True)
    plot.set_option("log_y", True)
    ticks = plot.panels["errors"].item.getAxis("bottom")._tickLevels
    labels = {label for level in ticks for _, label in level if label}
    assert {"0.5", "1", "2"} <= labels  # 1-2-5, not every minor tick
    assert not labels & {"0.6", "0.7", "3", "4"}
    # error bars follow the log axis (ErrorBarItem did not): ends at log10(mean ± std)
    bars = view_points(plot.panels["errors"].pool.drawn()["bars_network/0"])
    np.testing.assert_allclose(10 ** bars[1::2, 1], net.test_mean + net.test_std)


def test_learning_curves_current_parameters_on_an_automatic_curve(qtbot):
    config = make_config(d=60, sweep=None, curves=())
    result = make_result(config, awkward=False)
    point = result.curves[0].points[0]
    alphas = np.array([0.5, 1.0, 2.0, 4.0])
    learning = (views.LearningSeries("", 1.0, alphas, 0.1 + 0 * alphas, 0.05 + 0 * alphas,
                                     0.3 + 0 * alphas),)
    bundle = views.TheoryBundle(config, run=result, snapshot=(point,), learning=learning)
    v = views.combine(views.theory_views(bundle), None, config)
    plot = shown(qtbot, LearningCurvesPlot())
    plot.set_views(v)
    current = plot.panels["errors"].pool.drawn()["current"]
    assert current.isVisible() and current.xData[0] == pytest.approx(config.model.alpha)
    assert "current parameters" in plot.panels["errors"].legend.texts()


def test_tail_draws_thinned_rank_plots_and_bold_current(qtbot):
    config = make_config(d=400, sweep=None, curves=(), seeds=(1,))
    v = make_views(config)
    tail = v.tail
    plot = shown(qtbot, TailPlot())
    plot.set_views(v)
    drawn = plot.panels["tail"].pool.drawn()
    assert plot.panels["tail"].log == (True, True)
    widths = {k: item.opts["pen"].widthF() for k, item in drawn.items() if k.startswith("theory")}
    current = next(t for t in tail.theory if t.current)
    assert widths[f"theory/{current.eta_tilde:g}"] == max(widths.values())
    sim = next(s for s in tail.sims if s.model == "network")
    x = drawn["sim_network/0"].xData
    assert x.size <= 1.2 * views.TAIL_MARKERS or x.size == sim.eigenvalues.size
    assert sim.eigenvalues.max() in x  # the largest eigenvalue, the tail, is kept


def test_weights_empty_panel_says_nothing_in_the_figure(qtbot):
    config = make_config(d=100, sweep=None, curves=())
    plot = shown(qtbot, WeightsPlot(), PRESENTATION)
    plot.set_views(make_views(config, sims=False))
    texts = [it for it in plot.plot_widget.scene().items()
             if isinstance(it, pg.TextItem) or (isinstance(it, pg.LabelItem)
                                               and "simulat" in it.text)]
    assert not texts
    assert "simulat" in plot.hint_label.text()
    plot.set_views(make_views(config))
    assert plot.hint_label.text() == ""
    sim = next(s for s in plot.view.sims if s.model == "network")
    bars = plot.panels["alignment"].pool.drawn()["bars_network"]
    np.testing.assert_allclose(bars.opts["height"], sim.overlaps)
    # the spikes (order p, off the bulk's scale) are listed by source in the legend
    legend = plot.panels["spectrum"].legend.texts()
    spike = fmt_num(float(plot.view.theory.spikes[0]))
    assert any(t.startswith("theory") and t.endswith(f", spike {spike}") for t in legend)
    assert any(t.startswith("network sim.") and ", spikes " in t for t in legend)
    gamma = plot.panels["alignment"].pool.drawn()["gamma"]
    assert gamma.yData[0] == pytest.approx(plot.view.theory.gamma)


def test_learned_function_points_coloured_like_their_line(qtbot):
    config = make_config(d=100, sweep=None, curves=eta_curves(3))
    v = make_views(config)
    plot = shown(qtbot, LearnedFunctionPlot())
    plot.set_views(v)
    drawn = plot.panels["function"].pool.drawn()
    for s in v.learned_function.sims:
        line = drawn[f"theory/{s.line}"]
        points = drawn[f"sim_{s.model}/{s.curve}"]
        assert points.opts["symbolPen"].color() == line.opts["pen"].color()
    target = drawn["target"]
    assert target.zValue() > max(it.zValue() for k, it in drawn.items() if k != "target")
    assert target.opts["pen"].style() == Qt.PenStyle.DashLine
    assert "profile" in drawn  # the density of kappa under the curves


@pytest.mark.parametrize("style", [ON_SCREEN, PRESENTATION])
def test_curve_colours_stay_visible(style):
    palette = curve_palette(style)
    assert len(palette) >= 5
    for color in palette:
        assert contrast_ratio(color, style.background) >= 1.6, color
        assert color.lower() != style.foreground.lower()


def test_numbers_keep_sensible_digits():
    from gui.plots.text import fmt_list, fmt_num

    assert [fmt_num(v) for v in (1213.4, 267.015, 8.599, 0.03851, 3.0, 2e-6)] == \
        ["1213", "267", "8.6", "0.0385", "3", "2e-06"]
    assert fmt_list([1.0, 2.0, 3.0, 4.0]) == "1, 2, 3, … (4)"
