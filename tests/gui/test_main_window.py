"""The main window driving the real engine at small sizes (d ~ 100, fast numerics)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import FAST_NUMERICS, small
from PySide6.QtWidgets import QApplication

from engine.presets import list_presets, load_preset
from gui.figure_export import copy_to_clipboard, export_all, image_array
from gui.style import PRESENTATION

THEORY_TIMEOUT = 30000
SIM_TIMEOUT = 60000


def wait_theory(qtbot, w, timeout: int = THEORY_TIMEOUT) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: not w.theory_tasks.busy, timeout=timeout)


def test_launch_draws_theory_without_a_click(qtbot, make_window):
    w = make_window(extras=True)
    wait_theory(qtbot, w)
    assert w._theory is not None and w._theory.bundle.stage == "extras"
    data = w.plots["spectrum"].export_data()
    assert any(k.startswith("theory_after") for k in data)
    # the extras: tail spectra at several eta_tilde and the automatic learning curve
    assert len(w.plots["tail"].export_data()) >= 3
    assert "theory" in w.plots["learning_curves"].export_data()
    assert len([k for k in w.plots["learned_function"].export_data()
                if k.startswith("theory_")]) == 3
    assert "p = " in w.model_panel.derived.text()
    assert not w.banner.isVisible()


def test_parameter_edit_redraws_theory(qtbot, make_window):
    w = make_window()
    wait_theory(qtbot, w)
    before = w.plots["spectrum"].export_data()["theory_after"][1].copy()
    with qtbot.waitSignal(w.sig_theory_drawn, timeout=THEORY_TIMEOUT):
        w.model_panel.eta_tilde.setValue(1.0)
    assert w._theory.bundle.snapshot[0].model.eta_tilde == pytest.approx(1.0)
    after = w.plots["spectrum"].export_data()["theory_after"][1]
    assert before.shape != after.shape or not (before == after).all()
    # the slider follows the spin box
    assert w.model_panel.eta_slider.value() == 100
    wait_theory(qtbot, w)


def test_slider_moves_are_debounced_into_few_runs(qtbot, make_window):
    w = make_window()
    wait_theory(qtbot, w)
    first = w.theory_tasks.run_id
    for pos in range(100, 400, 20):  # a fast drag: 15 moves within the debounce
        w.model_panel.eta_slider.setValue(pos)
    qtbot.waitSignal(w.sig_theory_drawn, timeout=THEORY_TIMEOUT).wait()
    assert w.theory_tasks.run_id - first <= 2
    assert w.model_panel.eta_tilde.value() == pytest.approx(3.8)
    wait_theory(qtbot, w)


def test_invalid_input_is_marked_and_nothing_runs(qtbot, make_window):
    w = make_window()
    wait_theory(qtbot, w)
    theory_runs, sim_runs = w.theory_tasks.run_id, w.sim_tasks.run_id
    w.model_panel.beta.setValue(0.0)
    qtbot.wait(400)  # longer than the debounce
    assert "model.beta" in w.model_panel.marked_keys()
    assert "model.beta" in w.model_panel.beta.toolTip()
    assert w.input_error_label.isVisible()
    assert "must be > 0" in w.input_error_label.text()
    w.run_button.click()
    assert w.theory_tasks.run_id == theory_runs and w.sim_tasks.run_id == sim_runs
    # a bad expression in the activation is named by the engine and marked there
    w.model_panel.beta.setValue(1.0)
    w.model_panel.sigma.setEditText("tanh(z")
    qtbot.wait(400)
    assert "model.sigma" in w.model_panel.marked_keys()
    assert w.theory_tasks.run_id == theory_runs  # an invalid expression computes nothing
    # the a-law table: probabilities that do not sum to 1
    w.model_panel.sigma.setEditText("tanh")
    w.model_panel.a_table.item(0, 1).setText("0.3")
    qtbot.wait(400)
    assert "model.a_law" in w.model_panel.marked_keys()
    # fixing it clears the marks and recomputes
    with qtbot.waitSignal(w.sig_theory_drawn, timeout=THEORY_TIMEOUT):
        w.model_panel.a_table.item(0, 1).setText("1")
    assert not w.model_panel.marked_keys()
    assert not w.input_error_label.isVisible()
    wait_theory(qtbot, w)


def test_simulation_streams_progress_then_result(qtbot, make_window):
    w = make_window()
    wait_theory(qtbot, w)
    w.run_panel.seeds.setText("0, 1")
    w.run_panel.sim_network.setChecked(True)
    w.run_panel.sim_srf.setChecked(True)
    fractions = []
    w.sim_tasks.sig_progress.connect(lambda rid, f, m: fractions.append(f))
    with qtbot.waitSignal(w.sig_simulation_finished, timeout=SIM_TIMEOUT):
        assert w.start_simulation()
        assert w.progress_bar.isVisible() and w.cancel_button.isVisible()
        assert not w.run_button.isEnabled()
    assert fractions and fractions[-1] == pytest.approx(1.0)
    assert w._sim.done and w.current_simulation().config.model.d == 120
    data = w.plots["spectrum"].export_data()
    assert "histogram_network_after" in data and "histogram_srf_after" in data
    assert not w.progress_bar.isVisible() and w.run_button.isEnabled()
    assert not w.banner.isVisible()


def cancellable_config():  # noqa: ANN201
    """Many cheap simulation points and no theory inside the run: a long run to cancel."""
    from engine.config import Sweep

    config = small(load_preset("Large step, a = 1"), d=200)
    return config.with_run(kind="errors", theory=False, simulate=("network", "srf"),
                           seeds=(0, 1, 2, 3), sweep=Sweep("alpha", (0.5, 1, 1.5, 2, 3, 4)))


def test_cancel_keeps_the_points_done(qtbot, make_window):
    config = cancellable_config()
    w = make_window(config)
    wait_theory(qtbot, w)
    updates = []
    w.sim_tasks.sig_update.connect(lambda rid, u: updates.append(u))
    w.start_simulation()
    qtbot.waitUntil(lambda: len(updates) >= 1, timeout=SIM_TIMEOUT)
    assert w.sim_tasks.busy
    with qtbot.waitSignal(w.sig_simulation_finished, timeout=10000):
        w.cancel_button.click()
    assert not w.sim_tasks.busy and w.run_button.isEnabled()
    assert not w._sim.done  # cancelled: no final result, the streamed points are kept
    drawn = w.plots["learning_curves"].export_data()  # what arrived is still drawn
    assert "sim_network" in drawn and 1 <= len(drawn["sim_network"][1]) < 6
    assert not w.banner.isVisible()


def test_worker_exception_is_shown_and_app_survives(qtbot, make_window, monkeypatch):
    w = make_window()
    wait_theory(qtbot, w)
    w.run_panel.sim_network.setChecked(True)
    before = w.model_panel.values()

    def boom(config, **kwargs):  # noqa: ANN001, ANN003, ANN202
        raise RuntimeError("simulated failure in the worker")

    monkeypatch.setattr("gui.main_window.simulate", boom)
    with qtbot.waitSignal(w.sig_simulation_finished, timeout=SIM_TIMEOUT):
        w.start_simulation()
    assert w.banner.isVisible()
    assert "simulated failure in the worker" in w.banner.message.text()
    assert "RuntimeError" in w.banner.details.toPlainText()
    assert "boom" in w.banner.details.toPlainText()  # the traceback
    assert w.model_panel.values() == before  # the user's parameters are kept
    assert w.run_button.isEnabled()
    # the theory still runs afterwards
    with qtbot.waitSignal(w.sig_theory_drawn, timeout=THEORY_TIMEOUT):
        w.model_panel.eta_tilde.setValue(2.0)
    wait_theory(qtbot, w)


def test_theory_failure_is_shown_next_to_the_plots(qtbot, make_window, monkeypatch):
    from engine.errors import ConvergenceError

    w = make_window()
    wait_theory(qtbot, w)

    def no_convergence(config, **kwargs):  # noqa: ANN001, ANN003, ANN202
        raise ConvergenceError("spectrum: Newton did not converge at z = 1.2 + 1e-5i")

    monkeypatch.setattr("gui.main_window.live_theory", no_convergence)
    with qtbot.waitSignal(w.sig_theory_finished, timeout=THEORY_TIMEOUT):
        w.model_panel.eta_tilde.setValue(4.0)
    assert w.banner.isVisible()
    assert "ConvergenceError" in w.banner.message.text()
    assert "Newton did not converge" in w.banner.message.text()
    assert w.model_panel.eta_tilde.value() == pytest.approx(4.0)


def trimmed(config):  # noqa: ANN001, ANN201
    """The preset with fast numerics, at most two curves and three sweep values.

    Why: the theory of the K = 4 curve of "Dandi et al. vocabularies" takes tens of
    seconds on a loaded CI machine; the panels are still checked on the full preset.
    """
    from engine.config import Sweep

    run = config.run
    sweep = run.sweep
    if sweep is not None and len(sweep.values) > 3:
        v = sweep.values
        sweep = Sweep(sweep.param, (v[0], v[len(v) // 2], v[-1]))
    return replace(config, numerics=FAST_NUMERICS,
                   run=replace(run, sweep=sweep, curves=run.curves[:2]))


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_loads_and_draws(qtbot, make_window, name):
    config = load_preset(name)
    w = make_window(trimmed(config), show=False)
    qtbot.waitSignal(w.sig_theory_drawn, timeout=THEORY_TIMEOUT).wait()
    if config.run.grid is not None:  # drawn row by row on the phase diagram
        assert w.plots["phase"].export_data()
    elif config.run.kind == "errors":
        assert w.plots["learning_curves"].export_data()
    else:
        assert w.plots["spectrum"].export_data()
    assert not w.banner.isVisible(), w.banner.message.text()
    w.theory_tasks.cancel()
    # every parameter of the full preset goes through the panels unchanged
    w.set_config(config, recompute=False)
    assert w.current_config() == config
    wait_theory(qtbot, w)


def test_preset_menu_sets_every_parameter(qtbot, make_window):
    w = make_window()
    assert set(w.preset_actions) == set(list_presets())
    name = "Large step, a = ±1"
    wait_theory(qtbot, w)
    runs = w.theory_tasks.run_id
    with qtbot.waitSignal(w.sig_theory_drawn, timeout=THEORY_TIMEOUT):
        w.preset_actions[name].trigger()
    config = load_preset(name)
    assert w.config.model == config.model and w.config.run == config.run
    qtbot.wait(300)  # longer than the debounce: a batch edit must not queue more runs
    assert w.theory_tasks.run_id == runs + 1
    wait_theory(qtbot, w)


def test_view_options_and_settings_persist(qtbot, make_window):
    w = make_window()
    wait_theory(qtbot, w)
    w.act_side.trigger()
    assert w.plots["spectrum"].options["overlay"] is False
    w.act_x_nd.trigger()
    assert w.plots["learning_curves"].options["x_axis"] == "n/d"
    w.close()
    w2 = make_window()
    assert w2.act_side.isChecked() and w2.act_x_nd.isChecked()
    wait_theory(qtbot, w2)


def test_log_toggles_follow_the_current_plot(qtbot, make_window):
    w = make_window()
    wait_theory(qtbot, w)
    assert w.show_tab("learning_curves")
    w.act_log_y.trigger()
    assert w.plots["learning_curves"].options["log_y"] is True
    # plots whose axes are fixed (the tail is always log-log, the phase diagram follows
    # its grid, functions of kappa are linear): the toggles are greyed out, not ignored
    for name in ("tail", "weights", "expressivity", "learned_function", "phase"):
        assert w.show_tab(name)
        assert not w.act_log_x.isEnabled() and not w.act_log_y.isEnabled(), name
        assert not w.act_log_y.isChecked(), name
    for name in ("spectrum", "learning_curves"):
        assert w.show_tab(name)
        assert w.act_log_x.isEnabled() and w.act_log_y.isEnabled(), name
    assert w.act_log_y.isChecked()  # learning curves' own setting is back


def test_session_save_and_reopen(qtbot, make_window, tmp_path):
    w = make_window()
    wait_theory(qtbot, w)
    w.model_panel.eta_tilde.setValue(1.5)
    wait_theory(qtbot, w)
    w.act_side.trigger()
    w.tabs.setCurrentIndex(3)
    path = tmp_path / "s.json"
    assert w.file_actions.save_session(path)
    w2 = make_window()
    w2.act_overlay.trigger()
    wait_theory(qtbot, w2)
    assert w2.file_actions.open_session(path)
    assert w2.model_panel.values() == w.model_panel.values()
    assert w2.current_plot().name == "weights"
    assert w2.plots["spectrum"].options["overlay"] is False and w2.act_side.isChecked()
    assert str(path) in w2.file_actions.recent()
    assert w2.windowTitle().endswith("s.json")
    wait_theory(qtbot, w2)


def test_close_during_simulation_joins_the_thread(qtbot, make_window):
    from gui.workers import running_threads

    w = make_window(cancellable_config())
    w.start_simulation()
    qtbot.wait(200)
    w.close()
    assert not running_threads()


def test_export_actions_write_files(qtbot, make_window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    w = make_window()
    wait_theory(qtbot, w)
    png = tmp_path / "spectrum.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(png), "PNG image (*.png)")))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: str(tmp_path / "out")))
    monkeypatch.setattr(QMessageBox, "question",
                        staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    w.file_actions._on_export_figure_triggered()
    assert png.exists() and png.stat().st_size > 1000
    (tmp_path / "out").mkdir()
    w.file_actions._on_export_data_triggered()
    w.file_actions._on_export_data_triggered()  # again: the overwrite is confirmed, then forced
    assert any((tmp_path / "out").iterdir())
    assert not w.banner.isVisible(), w.banner.message.text()


def test_memory_guard_is_shown_at_d(qtbot, make_window):
    w = make_window()
    wait_theory(qtbot, w)
    w.run_panel.sim_network.setChecked(True)
    w.model_panel.d.setValue(20000)
    w.model_panel.alpha.setValue(1000.0)  # n = 2e7 samples: far beyond any machine
    with qtbot.waitSignal(w.sig_simulation_finished, timeout=SIM_TIMEOUT):
        assert w.start_simulation()
    assert w.banner.isVisible() and "MemoryGuardError" in w.banner.message.text()
    assert "model.d" in w.model_panel.marked_keys()
    w.theory_tasks.cancel()
    wait_theory(qtbot, w)


def test_export_from_the_window_leaves_it_pixel_identical(make_window, qtbot, tmp_path):  # noqa: ANN001
    """Exporting in the presentation style must not disturb what is on screen."""
    window = make_window()
    window.resize(1300, 850)
    qtbot.waitUntil(lambda: not window.theory_tasks.busy, timeout=60000)
    qtbot.wait(300)  # debounced redraws, streamed extras
    before = image_array(window.grab().toImage())
    qtbot.wait(300)
    again = image_array(window.grab().toImage())
    assert np.array_equal(before, again)  # the window is at rest before exporting
    files = export_all(window.plot_list, tmp_path, style=PRESENTATION, dpi=80,
                       formats=("png", "svg"))
    assert len(files) == 2 * len(window.plot_list)
    qtbot.wait(300)
    after = image_array(window.grab().toImage())
    assert before.shape == after.shape
    assert np.array_equal(before, after), int((before != after).any(axis=-1).sum())
    copy_to_clipboard(window.current_plot(), dpi=72)
    assert QApplication.clipboard().image().width() == round(6.0 * 72)


def _simulated(qtbot, w) -> None:  # noqa: ANN001
    w.run_panel.seeds.setText("0")
    w.run_panel.sim_network.setChecked(True)
    w.run_panel.sim_srf.setChecked(False)
    wait_theory(qtbot, w)
    with qtbot.waitSignal(w.sig_simulation_finished, timeout=SIM_TIMEOUT):
        assert w.start_simulation()
    assert w.current_simulation() is not None


def test_simulations_of_other_parameters_are_not_drawn(qtbot, make_window):
    w = make_window(small(load_preset("Large step, a = ±1"), d=100))
    _simulated(qtbot, w)
    assert "histogram_network_after" in w.plots["spectrum"].export_data()
    assert not w.sim_note.isVisible()
    # a parameter edit: the histogram and the simulated outliers leave with the theory
    with qtbot.waitSignal(w.sig_theory_drawn, timeout=THEORY_TIMEOUT):
        w.model_panel.eta_tilde.setValue(8.0)
    for plot in w.plot_list:
        data = plot.export_data()
        assert not any(k.startswith(("histogram_", "sim_")) for k in data), (plot.name, data)
        rows = data.get("outliers", ([], np.zeros((0, 3))))[1]
        assert np.all(rows[:, 1] == 1.0)  # theory marks only
    assert w.sim_note.isVisible() and w.current_simulation() is None
    # nothing of the old parameters is saved as current
    assert w.session_content()[1] is None or not any(
        p.sims for c in w.session_content()[1].curves for p in c.points)
    # back to the simulated parameters: the simulation is theirs again
    with qtbot.waitSignal(w.sig_theory_drawn, timeout=THEORY_TIMEOUT):
        w.model_panel.eta_tilde.setValue(3.0)
    assert "histogram_network_after" in w.plots["spectrum"].export_data()
    assert not w.sim_note.isVisible()
    # a preset of other parameters: gone as well
    with qtbot.waitSignal(w.sig_theory_drawn, timeout=THEORY_TIMEOUT):
        w.load_preset("Random features (no step)")
    assert not any(k.startswith("histogram_") for k in w.plots["spectrum"].export_data())
    assert not any(k.startswith("sim_") for k in w.plots["learning_curves"].export_data())
    wait_theory(qtbot, w)


def test_a_preset_opens_on_its_tab_with_its_view(qtbot, make_window):
    w = make_window()
    wait_theory(qtbot, w)
    w.plots["learning_curves"].set_option("x_axis", "n/d")
    with qtbot.waitSignal(w.sig_theory_drawn, timeout=THEORY_TIMEOUT):
        w.load_preset("Cui et al. learning curves")
    assert w.current_plot().name == "learning_curves"
    assert w.plots["learning_curves"].options["log_x"] is True
    assert w.plots["learning_curves"].options["x_axis"] == "n/p"
    assert w.windowTitle().endswith("Cui et al. learning curves")
    w.theory_tasks.cancel()
    with qtbot.waitSignal(w.sig_theory_drawn, timeout=THEORY_TIMEOUT):
        w.load_preset("Expressivity (He2 target)")
    assert w.current_plot().name == "expressivity"
    assert w.plots["learning_curves"].options["log_x"] is False  # back to its default
    wait_theory(qtbot, w)


def test_session_restores_results_tab_and_view(qtbot, make_window, tmp_path):
    w = make_window(small(load_preset("Large step, a = 1"), d=100))
    _simulated(qtbot, w)
    w.plots["spectrum"].set_option("log_y", True)
    w.show_tab("Tail")
    path = tmp_path / "with_results.json"
    assert w.file_actions.save_session(path)
    before = w.plots["spectrum"].export_data()
    w2 = make_window()
    wait_theory(qtbot, w2)
    with qtbot.waitSignal(w2.sig_theory_drawn, timeout=THEORY_TIMEOUT):
        assert w2.file_actions.open_session(path)
    wait_theory(qtbot, w2)
    assert w2.current_plot().name == "tail"
    assert w2.plots["spectrum"].options["log_y"] is True
    after = w2.plots["spectrum"].export_data()
    assert before.keys() == after.keys()
    for key in before:  # the simulation reopens exactly, the theory is recomputed alike
        np.testing.assert_allclose(after[key][1], before[key][1], rtol=1e-9, err_msg=key)


def test_curves_are_editable_and_the_fields_they_set_are_marked(qtbot, make_window):
    w = make_window(trimmed(load_preset("Cui et al. learning curves")))
    wait_theory(qtbot, w)
    # the two curves kept: "no step" sets eta_tilde, "alpha0 = 5" sets alpha0
    assert set(w.model_panel.overridden_keys()) == {"model.alpha0", "model.eta_tilde"}
    tip = w.model_panel.field("model.eta_tilde").toolTip()
    assert tip.startswith("Set by 1 of 2 curves (no step: 0)")
    assert w.model_panel.curves_note.isVisible()
    table = w.run_panel.curves.table
    assert table.rowCount() == 2
    assert table.item(1, 1).text() == "alpha0 = 5.0"
    # edit the second curve: alpha0 = 50 reaches the theory of that curve
    with qtbot.waitSignal(w.sig_theory_drawn, timeout=THEORY_TIMEOUT):
        table.item(1, 1).setText("alpha0 = 50")
    assert w.config.run.curves[1].overrides == {"alpha0": 50.0}
    wait_theory(qtbot, w)
    assert w._theory.bundle.run.curves[1].points[0].model.alpha0 == 50.0
    # a bad value is named by the engine at its curve, and nothing runs
    runs = w.theory_tasks.run_id
    table.item(1, 1).setText("alpha0 = -3")
    qtbot.wait(400)
    assert w.input_error_label.isVisible() and "run.curves[1]" in w.input_error_label.text()
    assert table.item(1, 1).toolTip()
    assert w.theory_tasks.run_id == runs
    table.item(1, 1).setText("eta_tilde = ")  # not a value at all
    qtbot.wait(400)
    assert "run.curves[1].set" in w.input_error_label.text()
    # removing every curve: one curve, the model as given; no field is marked any more
    with qtbot.waitSignal(w.sig_theory_drawn, timeout=THEORY_TIMEOUT):
        table.setCurrentCell(1, 0)
        w.run_panel.curves.remove_button.click()
        w.run_panel.curves.remove_button.click()
    assert w.config.run.curves == ()
    assert not w.model_panel.overridden_keys() and not w.model_panel.curves_note.isVisible()
    wait_theory(qtbot, w)


def test_phase_diagram_fills_by_rows_and_a_click_loads_the_cell(qtbot, make_window):
    from PySide6.QtCore import QPointF, Qt

    from engine.config import Config

    grid = {"x": {"param": "alpha0", "values": [0.5, 1.0, 2.0, 4.0, 8.0]},
            "y": {"param": "eta_tilde", "values": [1.0, 2.0, 3.0, 4.0]}}
    config = replace(Config.from_dict({
        "schema": 1, "model": {"d": 120, "alpha": 2.0, "alpha0": 2.0, "eta_tilde": 2.0,
                               "lam": 0.1, "noise": 0.1},
        "run": {"kind": "errors", "grid": grid, "simulate": [], "seeds": [0]}}),
        numerics=FAST_NUMERICS)
    w = make_window(config)
    plot = w.plots["phase"]
    w.show_tab("phase")
    rows = []  # rows of the map drawn at each stage of the live theory
    w.sig_theory_drawn.connect(lambda: rows.append(plot.view.theory[0].rows_done))
    wait_theory(qtbot, w)
    assert rows[:4] == [1, 2, 3, 4]  # one stage per row, then the snapshot
    assert np.isfinite(plot._image.image).all()
    # a click on cell (ix, iy) = (3, 0): alpha0 = 4, eta_tilde = 1
    stages = []
    w.theory_tasks.sig_stage.connect(lambda _run, name, _update: stages.append(name))
    pos = plot.plot_widget.mapFromScene(
        plot.panels["map"].vb.mapViewToScene(QPointF(np.log10(4.0), 1.1)))
    with qtbot.waitSignal(plot.sig_cell_clicked):
        qtbot.mouseClick(plot.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert w.model_panel.alpha0.value() == pytest.approx(4.0)
    assert w.model_panel.eta_tilde.value() == pytest.approx(1.0)
    assert w.config.run.grid == config.run.grid  # the grid stays
    wait_theory(qtbot, w)
    # the other tabs show the cell; the map, whose cells did not change, is not re-solved
    assert w._theory.bundle.snapshot[0].model.alpha0 == 4.0
    assert "row" not in stages and "snapshot" in stages
    assert plot.view.current == pytest.approx((np.log10(4.0), 1.0))
    assert "alpha0 = 4" in w.statusBar().currentMessage()


def test_garbage_is_collected_in_the_gui_thread_only(qtbot, make_window):
    import gc
    import threading
    import weakref

    threads: list[str] = []

    def record(phase: str, _info: dict) -> None:
        if phase == "start":
            threads.append(threading.current_thread().name)

    gc.callbacks.append(record)
    try:
        w = make_window()
        assert not gc.isenabled()  # no collection wherever a worker allocates
        wait_theory(qtbot, w)
        with qtbot.waitSignal(w.sig_theory_finished, timeout=THEORY_TIMEOUT):
            w.model_panel.eta_tilde.setValue(1.7)  # a theory run: workers allocate a lot

        class Node:
            pass

        node = Node()
        node.me = node  # a cycle: only the collector frees it
        ref = weakref.ref(node)
        del node
        # An idle window allocates little: keep allocating (and holding) containers so
        # the allocation count passes the collector's threshold whatever the machine.
        held: list[list] = []

        def collected() -> bool:
            held.extend([] for _ in range(2 * gc.get_threshold()[0]))
            return ref() is None

        qtbot.waitUntil(collected, timeout=10000)
    finally:
        gc.callbacks.remove(record)
    assert threads and set(threads) == {threading.main_thread().name}
