"""Every plot draws synthetic results, restyles, exports its data and clears."""

from __future__ import annotations

import fakes
import numpy as np
import pytest

from gui.plots import PLOT_CLASSES, create_plots
from gui.style import ON_SCREEN, PRESENTATION


@pytest.mark.parametrize("sweep", [False, True])
def test_plots_draw_and_export(qtbot, sweep):
    result = fakes.run_result(sims=True, sweep=sweep)
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
    plot.set_result(fakes.run_result())
    plot.set_option("overlay", False)
    assert plot._p_before.isVisible()
    plot.set_option("log_y", True)
    plot.set_option("overlay", True)
    assert not plot._p_before.isVisible()
    assert "outliers" in plot.export_data()


def test_learning_curves_streamed_points(qtbot):
    from gui.plots.base import ResultView

    result = fakes.run_result(sims=True, sweep=True)
    plot = create_plots()[2]
    qtbot.addWidget(plot)
    view = ResultView.empty_like(result.config)
    view.add_point(0, 1, result.curves[0].points[1])
    plot.set_simulation(view)
    cols, rows = plot.export_data()["sim_network"]
    assert rows.shape == (1, 4)
