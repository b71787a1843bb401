"""Every plot draws synthetic results, restyles, exports its data and clears."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import eta_curves, make_config, make_result

from gui.plots import PLOT_CLASSES, create_plots
from gui.style import ON_SCREEN, PRESENTATION

ALPHAS = (0.5, 1.0, 2.0, 4.0)


@pytest.mark.parametrize("sweep", [False, True])
def test_plots_draw_and_export(qtbot, sweep):
    result = make_result(make_config(d=100, kind="errors" if sweep else "spectrum",
                                     sweep=ALPHAS if sweep else None, curves=()))
    plots = create_plots(ON_SCREEN)  # keep references: qtbot holds only weak ones
    for plot in plots:
        qtbot.addWidget(plot)
        plot.set_result(result)
        data = plot.export_data()
        assert data, plot.name
        for name, (cols, rows) in data.items():
            rows = np.asarray(rows)
            assert rows.ndim == 2 and rows.shape[1] == len(cols), (plot.name, name)
        plot.apply_style(PRESENTATION)
        assert plot.export_data().keys() == data.keys()
        assert plot.graphics_view() is plot.plot_widget
        plot.clear()
        assert not plot.export_data()


def test_interface_names():
    names = [cls.name for cls in PLOT_CLASSES]
    assert names == ["spectrum", "tail", "learning_curves", "weights", "expressivity",
                     "learned_function"]
    assert all(cls.title for cls in PLOT_CLASSES)


def test_spectrum_side_by_side_and_log(qtbot):
    plot = create_plots()[0]
    qtbot.addWidget(plot)
    plot.set_result(make_result(make_config(d=100, sweep=None, curves=())))
    plot.set_option("overlay", False)
    assert plot._p_before.isVisible()
    plot.set_option("log_y", True)
    plot.set_option("overlay", True)
    assert not plot._p_before.isVisible()
    assert "outliers" in plot.export_data()


def test_learning_curves_streamed_points(qtbot):
    from gui.plots.base import ResultView

    result = make_result(make_config(d=100, kind="errors", sweep=ALPHAS, curves=()))
    plot = create_plots()[2]
    qtbot.addWidget(plot)
    view = ResultView.empty_like(result.config)
    view.add_point(0, 1, result.curves[0].points[1])
    plot.set_simulation(view)
    cols, rows = plot.export_data()["sim_network"]
    assert rows.shape == (1, 4)


def _legend_texts(item):
    return [label.text for _sample, label in item.legend.items]


def _shown(qtbot, plot, style):
    """Lay the plot out at an export-like size (6 x 4 in at 96 dpi) in ``style``."""
    qtbot.addWidget(plot)
    plot.apply_style(style)
    plot.resize(576, 400)
    plot.show()
    qtbot.waitExposed(plot)
    plot.ensure_drawn()


@pytest.mark.parametrize("style", [ON_SCREEN, PRESENTATION])
def test_learning_curves_legend_compact_and_clear_of_data(qtbot, style):
    from gui.plots.learning_curves import LearningCurvesPlot

    result = make_result(make_config(d=100, kind="errors", sweep=ALPHAS, curves=eta_curves(4)))
    plot = LearningCurvesPlot(style)
    _shown(qtbot, plot, style)
    plot.set_result(result)
    item = plot.plot_widget.getPlotItem()
    texts = _legend_texts(item)
    # one entry per curve + at most 5 style keys (test, train, network, sRF, RF)
    assert len(texts) <= 4 + 5, texts
    for curve in result.curves:
        assert texts.count(curve.label) == 1, texts
    assert {"test", "train", "network sim.", "sRF sim."} <= set(texts)
    # the legend sits inside the plot area and covers no drawn value
    vb = item.vb
    legend_rect = item.legend.sceneBoundingRect()
    assert vb.sceneBoundingRect().contains(legend_rect)
    view_rect = vb.mapSceneToView(legend_rect).boundingRect()
    for name, (cols, rows) in plot.export_data().items():
        rows = np.asarray(rows, dtype=float)
        for j in range(1, rows.shape[1]):
            if "std" in cols[j]:
                continue
            pts = rows[:, [0, j]]
            pts = pts[np.all(np.isfinite(pts), axis=1)]
            inside = [(x, y) for x, y in pts if view_rect.contains(x, y)]
            assert not inside, (name, cols[j], inside)


def test_learned_function_legend_below_title_and_names_target(qtbot):
    from gui.plots.learned_function import LearnedFunctionPlot

    result = make_result(make_config(d=100, sweep=None, curves=eta_curves(4)))
    plot = LearnedFunctionPlot(PRESENTATION)
    _shown(qtbot, plot, PRESENTATION)
    plot.set_result(result)
    item = plot.plot_widget.getPlotItem()
    texts = _legend_texts(item)
    assert "target σ*" in texts
    assert len(texts) <= 4 + 4, texts
    # inside the plot area: never over the title (it grew upwards into it before)
    assert item.vb.sceneBoundingRect().contains(item.legend.sceneBoundingRect())
    assert not item.titleLabel.sceneBoundingRect().intersects(
        item.legend.sceneBoundingRect())


@pytest.mark.parametrize("style", [ON_SCREEN, PRESENTATION])
def test_curve_colours_stay_visible(style):
    from gui.plots.base import contrast_ratio, curve_palette

    palette = curve_palette(style)
    assert len(palette) >= 5
    for color in palette:
        assert contrast_ratio(color, style.background) >= 1.6, color
        assert color.lower() != style.foreground.lower()
