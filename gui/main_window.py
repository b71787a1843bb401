"""The main window: parameter panels left, plot tabs right, status and progress below.

Data flows one way (docs/architecture.md): panel edits -> Config (validated by the engine; an
invalid field is marked and nothing runs) -> worker -> engine.runner -> results ->
plots. Live theory runs on every valid edit (debounced); simulations run on request.
Both run in :class:`gui.workers.TaskManager` threads, so the window never blocks.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolBox,
    QVBoxLayout,
    QWidget,
)

from engine.config import SCHEMA, Config
from engine.errors import ConfigError
from gui.panels import ModelPanel, NumericsPanel, RunPanel
from gui.plots import PlotBase, create_plots
from gui.plots.base import ResultView
from gui.style import ON_SCREEN, get_style
from gui.tasks import STAGE_EXTRAS, STAGE_MAIN, STAGE_SNAPSHOT, theory_task
from gui.widgets import ErrorBanner, InfoPanel
from gui.workers import TaskManager

#: Debounce of parameter edits before the live theory recomputes (ms).
DEBOUNCE_MS = 120
#: Minimum interval between redraws of streamed simulation points (ms).
SIM_REDRAW_MS = 250
MAX_RECENT = 8

CONVENTIONS_HTML = """
<h3>Conventions (docs/model.md#conventions)</h3>
<ul>
<li>Inputs x ~ N(0, I_d); target y = σ*(⟨θ, x⟩) + √Δ ξ with |θ| = 1.</li>
<li>Network f(x) = (1/√p) Σ_i a_i σ(⟨w_i, x⟩); rows of W0 uniform on the unit sphere
    (or N(0, I_d/d)).</li>
<li>One gradient step on W with the square loss on n0 = α0·d fresh samples, step
    η = η̃·√p (each row moves by O(1)); α0 → ∞ is the population gradient.</li>
<li>Readout: ridge on n = α·d fresh samples, penalty λ|a|² added to the <b>sum</b> of
    squared residuals (sum convention); the engine uses λ_int = λ p/n.</li>
<li>p = round(β d), n = round(α d), n0 = round(α0 d). Learning curves use n/p
    (samples per feature) or n/d.</li>
<li>Spectrum: eigenvalues of (1/n) ΦᵀΦ (p×p), Φ = σ(F X) the n×p features; outliers are
    of order p and shown on their own log axis.</li>
<li>Test error E(y − f̂(x))² includes the noise Δ; training error is the mean squared
    residual on the n readout samples.</li>
</ul>
"""


class MainWindow(QMainWindow):
    """Feature Spectrum Lab's one window."""

    #: The live theory's main result has been drawn (tests and --screenshot wait on it).
    sig_theory_drawn = Signal()
    #: The live theory finished all its stages (extras included) or failed.
    sig_theory_finished = Signal()
    #: A simulation ended (result, error or cancel).
    sig_simulation_finished = Signal()

    def __init__(self, settings: QSettings | None = None, *, initial_config: Config | None = None,
                 live: bool = True, theory_extras: bool = True) -> None:
        super().__init__()
        self.setWindowTitle("Feature Spectrum Lab")
        self.settings = settings if settings is not None else QSettings()
        self.live = live
        #: compute the extras (tail spectra at several eta_tilde, automatic learning
        #: curve, learned function at several eta_tilde) after the main theory
        self.theory_extras = theory_extras
        self._config: Config | None = None
        self._theory_bundle: Any = None
        self._sim_result: Any = None
        # A memory-guard refusal marks d until the sizes change; the live-theory
        # revalidation that follows every edit must not wipe it.
        self._memory_mark: tuple[tuple[Any, ...], str] | None = None
        self._sim_view: ResultView | None = None
        self._session_path: Path | None = None
        self._sim_started = 0.0

        self.theory_tasks = TaskManager("theory", self)
        self.sim_tasks = TaskManager("simulation", self)

        self._build_panels()
        self._build_plots()
        self._build_status()
        self._build_menus()
        self._connect()
        self._restore_settings()

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        self._sim_redraw = QTimer(self)
        self._sim_redraw.setSingleShot(True)
        self._sim_redraw.setInterval(SIM_REDRAW_MS)
        self._sim_redraw.timeout.connect(self._on_sim_redraw_timeout)

        if initial_config is None:
            initial_config = self._default_config()
        self.set_config(initial_config)

    # ================================================================== building
    def _build_panels(self) -> None:
        self.model_panel = ModelPanel()
        self.run_panel = RunPanel()
        self.numerics_panel = NumericsPanel()
        self.panels = (self.model_panel, self.run_panel, self.numerics_panel)
        self.toolbox = QToolBox()
        self.toolbox.addItem(self.model_panel, "Model and first step")
        self.toolbox.addItem(self.run_panel, "Run: kind, sweep, simulation")
        self.toolbox.addItem(self.numerics_panel, "Theory numerics")
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.toolbox)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.input_error_label = QLabel()
        self.input_error_label.setObjectName("inputError")
        self.input_error_label.setWordWrap(True)
        self.input_error_label.setStyleSheet("color: #E57373;")
        self.input_error_label.setVisible(False)
        self.run_button = QPushButton("Run simulation")
        self.run_button.setToolTip("Simulate the network and/or sRF model at these parameters "
                                   "(in the background; Ctrl+R)")
        self.run_cancel_button = QPushButton("Cancel")
        self.run_cancel_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.run_cancel_button)

        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(scroll, 1)
        lay.addWidget(self.input_error_label)
        lay.addLayout(buttons)
        left.setMinimumWidth(390)
        self._left = left

    def _build_plots(self) -> None:
        self.banner = ErrorBanner()
        self.tabs = QTabWidget()
        self.plot_list: list[PlotBase] = create_plots(ON_SCREEN)
        self.plots: dict[str, PlotBase] = {p.name: p for p in self.plot_list}
        for plot in self.plot_list:
            plot.defer_when_hidden = True
            self.tabs.addTab(plot, plot.title.replace("&", "&&"))  # no mnemonic
        right = QWidget()
        lay = QVBoxLayout(right)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.banner)
        lay.addWidget(self.tabs, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([400, 900])
        self.splitter = splitter
        self.setCentralWidget(splitter)

        self.info = InfoPanel()
        self.info_dock = QDockWidget("Equivalent sRF model and theory", self)
        self.info_dock.setObjectName("infoDock")
        self.info_dock.setWidget(self.info)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.info_dock)

    def _build_status(self) -> None:
        bar = self.statusBar()
        self.readout_label = QLabel("")
        self.theory_label = QLabel("")
        self.stage_label = QLabel("")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        bar.addWidget(self.readout_label, 1)
        bar.addPermanentWidget(self.theory_label)
        bar.addPermanentWidget(self.stage_label)
        bar.addPermanentWidget(self.progress_bar)
        bar.addPermanentWidget(self.cancel_button)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file = mb.addMenu("&File")
        self.act_open = self._action(file, "&Open session…", self._on_open_triggered,
                                     QKeySequence.StandardKey.Open)
        self.act_save = self._action(file, "&Save session", self._on_save_triggered,
                                     QKeySequence.StandardKey.Save)
        self.act_save_as = self._action(file, "Save session &as…", self._on_save_as_triggered,
                                        QKeySequence.StandardKey.SaveAs)
        self.recent_menu = file.addMenu("Recent files")
        file.addSeparator()
        self._action(file, "Export &figure…", self._on_export_figure_triggered, "Ctrl+E")
        self._action(file, "Export all figures…", self._on_export_all_triggered)
        self._action(file, "Export &data…", self._on_export_data_triggered)
        self._action(file, "Copy figure to clipboard", self._on_copy_triggered, "Ctrl+Shift+C")
        self._action(file, "Export settings (DPI, style)…", self._on_export_settings_triggered)
        file.addSeparator()
        self._action(file, "&Quit", self._on_quit_triggered, QKeySequence.StandardKey.Quit)

        presets = mb.addMenu("&Presets")
        self.preset_actions: dict[str, QAction] = {}
        try:
            from engine.presets import list_presets, preset_info

            for name in list_presets():
                act = QAction(name, self)
                try:
                    act.setToolTip(preset_info(name).description)
                    act.setStatusTip(preset_info(name).description)
                except (ConfigError, AttributeError):
                    pass
                act.setData(name)
                act.triggered.connect(self._on_preset_triggered)
                presets.addAction(act)
                self.preset_actions[name] = act
            presets.setToolTipsVisible(True)
        except ImportError:
            presets.addAction("(no presets available)").setEnabled(False)

        run = mb.addMenu("&Run")
        self._action(run, "Run &simulation", self._on_run_clicked, "Ctrl+R")
        self._action(run, "&Cancel simulation", self._on_cancel_clicked, "Esc")
        self._action(run, "Recompute &theory", self._on_recompute_triggered, "F5")

        view = mb.addMenu("&View")
        self.act_log_x = self._action(view, "Log x axis (current plot)", self._on_log_x_toggled,
                                      checkable=True)
        self.act_log_y = self._action(view, "Log y axis (current plot)", self._on_log_y_toggled,
                                      checkable=True)
        view.addSeparator()
        group = QActionGroup(self)
        self.act_overlay = self._action(view, "Before/after overlaid", self._on_overlay_toggled,
                                        checkable=True)
        self.act_side = self._action(view, "Before/after side by side",
                                     self._on_overlay_toggled, checkable=True)
        group.addAction(self.act_overlay)
        group.addAction(self.act_side)
        self.act_overlay.setChecked(True)
        view.addSeparator()
        xgroup = QActionGroup(self)
        self.act_x_np = self._action(view, "Learning curves against n/p",
                                     self._on_x_axis_toggled, checkable=True)
        self.act_x_nd = self._action(view, "Learning curves against n/d",
                                     self._on_x_axis_toggled, checkable=True)
        xgroup.addAction(self.act_x_np)
        xgroup.addAction(self.act_x_nd)
        self.act_x_np.setChecked(True)
        view.addSeparator()
        view.addAction(self.info_dock.toggleViewAction())

        help_menu = mb.addMenu("&Help")
        self._action(help_menu, "&Conventions…", self._on_conventions_triggered, "F1")
        self._action(help_menu, "&About", self._on_about_triggered)

    def _action(self, menu: Any, text: str, slot: Any, shortcut: Any = None, *,
                checkable: bool = False) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.setCheckable(checkable)
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _connect(self) -> None:
        for panel in self.panels:
            panel.sig_changed.connect(self._on_panel_changed)
        self.run_button.clicked.connect(self._on_run_clicked)
        self.run_cancel_button.clicked.connect(self._on_cancel_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.tabs.currentChanged.connect(self._on_tabs_changed)
        for plot in self.plot_list:
            plot.sig_status.connect(self._on_plot_status)
        t, s = self.theory_tasks, self.sim_tasks
        t.sig_point.connect(self._on_theory_stage)
        t.sig_result.connect(self._on_theory_result)
        t.sig_error.connect(self._on_theory_error)
        t.sig_finished.connect(self._on_theory_finished)
        s.sig_progress.connect(self._on_sim_progress)
        s.sig_point.connect(self._on_sim_point)
        s.sig_result.connect(self._on_sim_result)
        s.sig_error.connect(self._on_sim_error)
        s.sig_cancelled.connect(self._on_sim_cancelled)
        s.sig_finished.connect(self._on_sim_finished)

    # ================================================================== config
    @staticmethod
    def _default_config() -> Config:
        try:
            from engine.presets import default_preset, load_preset

            return load_preset(default_preset())
        except (ImportError, ConfigError, OSError, KeyError):
            return Config()

    def current_config(self) -> Config | None:
        """Build and validate the config from the panels; mark the bad field if any."""
        self._clear_input_errors()
        try:
            data = {"schema": SCHEMA, "model": self.model_panel.values(),
                    "run": self.run_panel.values(), "numerics": self.numerics_panel.values()}
            config = Config.from_dict(data)
        except ConfigError as exc:
            self._mark_input_error(exc)
            return None
        if self._memory_mark is not None:
            sizes, message = self._memory_mark
            if sizes == self._sizes(config):
                self.model_panel.mark_error("model.d", message)
            else:
                self._memory_mark = None
        return config

    @staticmethod
    def _sizes(config: Config) -> tuple[Any, ...]:
        m = config.model
        return (m.d, m.beta, m.alpha, m.alpha0, config.run.n_test, config.run.memory_fraction)

    def _mark_input_error(self, exc: ConfigError) -> None:
        key = exc.key
        marked = False
        for index, panel in enumerate(self.panels):
            if panel.mark_error(key, exc.message):
                self.toolbox.setCurrentIndex(index)
                marked = True
                break
        if not marked and key.startswith("run.curves"):
            marked = self.run_panel.mark_error("run.curves", exc.message)
        self.input_error_label.setText(f"Invalid input ({key}): {exc.message}\n"
                                       f"Nothing is computed until it is fixed.")
        self.input_error_label.setVisible(True)
        self.theory_label.setText("invalid input")

    def _clear_input_errors(self) -> None:
        for panel in self.panels:
            panel.clear_errors()
        self.input_error_label.setVisible(False)

    def set_config(self, config: Config, *, recompute: bool = True) -> None:
        """Show ``config`` in every panel (one batch edit) and run its theory."""
        self._debounce.stop()
        self.model_panel.set_model(config.model)
        self.run_panel.set_run(config.run)
        self.numerics_panel.set_numerics(config.numerics)
        self._clear_input_errors()
        self._config = config
        sweep = config.run.sweep
        if sweep is not None and sweep.param == "alpha":
            self.plots["learning_curves"].set_option("log_x", self.run_panel.sweep_log.isChecked())
        if recompute and self.live:
            self.start_theory()

    @property
    def config(self) -> Config | None:
        """The last valid config."""
        return self._config

    # ================================================================== theory
    def start_theory(self) -> bool:
        """Validate the panels and start the live theory; False when the input is invalid."""
        self._debounce.stop()
        config = self.current_config()
        if config is None:
            return False
        self._config = config
        task = theory_task if self.theory_extras else partial(theory_task, extras=False)
        self.theory_tasks.start(task, config, streaming=True)
        self.theory_label.setText("theory: computing…")
        return True

    @Slot()
    def _on_panel_changed(self) -> None:
        self._debounce.start()

    @Slot()
    def _on_debounce_timeout(self) -> None:
        if self.live:
            self.start_theory()

    @Slot()
    def _on_recompute_triggered(self) -> None:
        self.start_theory()

    @Slot(int, int, int, object)
    def _on_theory_stage(self, _run_id: int, curve_index: int, stage: int, payload: Any) -> None:
        if curve_index != -1:
            return
        if stage in (STAGE_MAIN, STAGE_SNAPSHOT):
            self._theory_bundle = payload
            for plot in self.plot_list:
                plot.set_theory(payload)
            view = ResultView.from_result(payload)
            picked = view.selected_points() if view is not None else []
            snap, label = (picked[0][2], picked[0][1]) if picked else (None, "")
            self.info.set_warnings([])
            self.info.set_theory(snap, payload.result.message, label)
            self.banner.hide_error("theory")
            self.theory_label.setText("theory: drawn, refining…")
            self.sig_theory_drawn.emit()
        elif stage == STAGE_EXTRAS:
            for plot in self.plot_list:
                plot.set_extras(payload)
            self.info.set_warnings(list(payload.warnings))

    @Slot(int, object)
    def _on_theory_result(self, _run_id: int, bundle: Any) -> None:
        self._theory_bundle = bundle
        result = bundle.result
        if not result.success:
            self.banner.show_error("The theory did not converge everywhere: "
                                   + result.message[:300], result.message, source="theory")
        self.theory_label.setText("theory: up to date" if result.success
                                  else "theory: incomplete")

    @Slot(int, str, str)
    def _on_theory_error(self, _run_id: int, message: str, tb: str) -> None:
        self.banner.show_error(f"Theory failed: {message}", tb, source="theory")
        self.theory_label.setText("theory: failed")

    @Slot(int)
    def _on_theory_finished(self, _run_id: int) -> None:
        self.sig_theory_finished.emit()

    # ================================================================== simulation
    @Slot()
    def _on_run_clicked(self) -> None:
        self.start_simulation()

    def start_simulation(self) -> bool:
        """Validate and start ``engine.runner.run`` in the simulation worker."""
        config = self.current_config()
        if config is None:
            return False
        if not config.run.simulate:
            self.run_panel.mark_error("run.simulate", "run.simulate: tick the network and/or "
                                                      "the sRF model to simulate")
            self.toolbox.setCurrentIndex(1)
            return False
        from engine import runner  # lazy, and looked up at call time (tests patch it)

        self._config = config
        self._sim_view = ResultView.empty_like(config)
        self._sim_result = None
        for plot in self.plot_list:
            plot.set_simulation(None)
        self.banner.hide_error("simulation")
        self._sim_started = time.monotonic()
        self.sim_tasks.start(runner.run, config, streaming=True)
        self.progress_bar.setValue(0)
        self.progress_bar.setVisible(True)
        self.cancel_button.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.run_cancel_button.setEnabled(True)
        self.run_button.setEnabled(False)
        self.stage_label.setText("simulation: starting…")
        return True

    @Slot()
    def _on_cancel_clicked(self) -> None:
        if self.sim_tasks.busy:
            self.sim_tasks.cancel()
            self.stage_label.setText("simulation: cancelling…")
            self.cancel_button.setEnabled(False)
            self.run_cancel_button.setEnabled(False)

    @Slot(int, float, str)
    def _on_sim_progress(self, _run_id: int, fraction: float, message: str) -> None:
        self.progress_bar.setValue(int(round(1000 * min(max(fraction, 0.0), 1.0))))
        self.stage_label.setText(message if len(message) < 90 else message[:87] + "…")

    @Slot(int, int, int, object)
    def _on_sim_point(self, _run_id: int, curve_index: int, point_index: int,
                      point: Any) -> None:
        if self._sim_view is None:
            return
        self._sim_view.add_point(curve_index, point_index, point)
        if not self._sim_redraw.isActive():
            self._sim_redraw.start()

    @Slot()
    def _on_sim_redraw_timeout(self) -> None:
        if self._sim_view is not None and self._sim_result is None:
            for plot in self.plot_list:
                plot.set_simulation(self._sim_view)

    @Slot(int, object)
    def _on_sim_result(self, _run_id: int, result: Any) -> None:
        self._sim_redraw.stop()
        self._sim_result = result
        for plot in self.plot_list:
            plot.set_simulation(result)
        elapsed = time.monotonic() - self._sim_started
        self.statusBar().showMessage(f"Simulation done in {elapsed:.1f} s", 8000)
        if not result.success:
            self.banner.show_error("Simulation done, but the theory did not converge "
                                   "everywhere: " + result.message[:300], result.message,
                                   source="simulation")

    @Slot(int, str, str)
    def _on_sim_error(self, _run_id: int, message: str, tb: str) -> None:
        self.banner.show_error(f"Simulation failed: {message}", tb, source="simulation")
        if message.startswith("MemoryGuardError"):
            # the sizes are the cause: show it at d (alpha and beta scale with it)
            self.model_panel.mark_error("model.d", message)
            config = self.current_config()
            if config is not None:
                self._memory_mark = (self._sizes(config), message)
                self.model_panel.mark_error("model.d", message)
            self.toolbox.setCurrentIndex(0)

    @Slot(int)
    def _on_sim_cancelled(self, _run_id: int) -> None:
        self._sim_redraw.stop()
        self._on_sim_redraw_timeout()
        self.statusBar().showMessage("Simulation cancelled (completed points are kept)", 8000)

    @Slot(int)
    def _on_sim_finished(self, _run_id: int) -> None:
        self.progress_bar.setVisible(False)
        self.cancel_button.setVisible(False)
        self.run_cancel_button.setEnabled(False)
        self.run_button.setEnabled(True)
        self.stage_label.setText("")
        self.sig_simulation_finished.emit()

    # ================================================================== presets
    @Slot()
    def _on_preset_triggered(self) -> None:
        act = self.sender()
        if isinstance(act, QAction):
            self.load_preset(str(act.data()))

    def load_preset(self, name: str) -> bool:
        """Set every parameter from preset ``name`` and run its theory."""
        from engine.presets import load_preset

        try:
            config = load_preset(name)
        except (ConfigError, OSError) as exc:
            self.banner.show_error(f"Cannot load preset {name!r}: {exc}", source="preset")
            return False
        self.set_config(config)
        self.statusBar().showMessage(f"Preset: {name}", 5000)
        return True

    # ================================================================== session
    def _result_to_save(self) -> Any:
        if self._sim_result is not None:
            return self._sim_result
        return self._theory_bundle.result if self._theory_bundle is not None else None

    @Slot()
    def _on_open_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open session", self._last_dir(),
                                              "Sessions (*.json);;All files (*)")
        if path:
            self.open_session(Path(path))

    def open_session(self, path: Path) -> bool:
        try:
            from engine.session import load_session

            session = load_session(path)
            config, result = session
        except Exception as exc:  # noqa: BLE001 - any failure is shown, the app keeps going
            self.banner.show_error(f"Cannot open {path}: {exc}", source="session")
            return False
        self.set_config(config, recompute=False)
        self._apply_ui_state(getattr(session, "ui", {}) or {})
        if result is not None:
            for plot in self.plot_list:
                plot.set_result(result)
            has_sims = any(p.sims for c in result.curves for p in c.points)
            self._sim_result = result if has_sims else None
        self._session_path = Path(path)
        self._add_recent(Path(path))
        self.setWindowTitle(f"Feature Spectrum Lab — {Path(path).name}")
        if self.live:
            self.start_theory()
        return True

    @Slot()
    def _on_save_triggered(self) -> None:
        if self._session_path is None:
            self._on_save_as_triggered()
        else:
            self.save_session(self._session_path)

    @Slot()
    def _on_save_as_triggered(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save session as",
                                              str(Path(self._last_dir()) / "session.json"),
                                              "Sessions (*.json)")
        if path:
            if not path.endswith(".json"):
                path += ".json"
            self.save_session(Path(path))

    def save_session(self, path: Path) -> bool:
        config = self.current_config()
        if config is None:
            return False
        try:
            from engine.session import save_session

            # the file dialog has already asked about overwriting
            save_session(path, config, self._result_to_save(), force=True,
                         ui=self.ui_state())
        except Exception as exc:  # noqa: BLE001
            self.banner.show_error(f"Cannot save {path}: {exc}", source="session")
            return False
        self._session_path = Path(path)
        self._add_recent(Path(path))
        self.setWindowTitle(f"Feature Spectrum Lab — {Path(path).name}")
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def ui_state(self) -> dict[str, Any]:
        """The view state saved with a session (tab, view options of every plot)."""
        return {"tab": self.current_plot().name,
                "plots": {p.name: {k: v for k, v in p.options.items()
                                   if isinstance(v, (bool, str))}
                          for p in self.plot_list}}

    def _apply_ui_state(self, ui: dict[str, Any]) -> None:
        for name, options in (ui.get("plots") or {}).items():
            plot = self.plots.get(name)
            if plot is None or not isinstance(options, dict):
                continue
            for key, value in options.items():
                if key in plot.options and isinstance(value, (bool, str)):
                    plot.set_option(key, value)
        names = [p.name for p in self.plot_list]
        if ui.get("tab") in names:
            self.tabs.setCurrentIndex(names.index(ui["tab"]))
        overlay = self.plots["spectrum"].options.get("overlay", True)
        (self.act_overlay if overlay else self.act_side).setChecked(True)
        axis = self.plots["learning_curves"].options.get("x_axis", "n/p")
        (self.act_x_np if axis == "n/p" else self.act_x_nd).setChecked(True)
        self._on_tabs_changed(self.tabs.currentIndex())

    def _last_dir(self) -> str:
        return str(self.settings.value("paths/last_dir", str(Path.home())))

    def _add_recent(self, path: Path) -> None:
        recent = [str(path)] + [p for p in self._recent() if p != str(path)]
        self.settings.setValue("recent", recent[:MAX_RECENT])
        self.settings.setValue("paths/last_dir", str(path.parent))
        self._update_recent_menu()

    def _recent(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):
            return [value]
        return [str(v) for v in (value or [])]

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self._recent()
        for p in recent:
            act = self.recent_menu.addAction(p)
            act.setData(p)
            act.triggered.connect(self._on_recent_triggered)
        self.recent_menu.setEnabled(bool(recent))

    @Slot()
    def _on_recent_triggered(self) -> None:
        act = self.sender()
        if isinstance(act, QAction):
            self.open_session(Path(str(act.data())))

    # ================================================================== export
    def current_plot(self) -> PlotBase:
        return self.plot_list[max(self.tabs.currentIndex(), 0)]

    def _export_dpi(self) -> int:
        return int(self.settings.value("export/dpi", 150))

    def _export_style(self) -> Any:
        return get_style(str(self.settings.value("export/style", "presentation")))

    def _confirm_overwrite(self, paths: list[Path]) -> bool:
        existing = [p for p in paths if p.exists()]
        if not existing:
            return True
        names = "\n".join(str(p) for p in existing[:10])
        answer = QMessageBox.question(self, "Overwrite files?",
                                      f"These files exist and will be replaced:\n{names}")
        return answer == QMessageBox.StandardButton.Yes

    @Slot()
    def _on_export_figure_triggered(self) -> None:
        plot = self.current_plot()
        path, _ = QFileDialog.getSaveFileName(
            self, "Export figure", str(Path(self._last_dir()) / f"{plot.name}.png"),
            "PNG image (*.png);;SVG vector image (*.svg);;PDF document (*.pdf)")
        if not path:
            return
        try:
            from gui.figure_export import export_figure

            # QFileDialog has asked for confirmation if the file existed
            out = export_figure(plot, Path(path), dpi=self._export_dpi(),
                                style=self._export_style(), force=True)
            self.statusBar().showMessage(f"Exported {out}", 5000)
        except Exception as exc:  # noqa: BLE001
            self.banner.show_error(f"Export failed: {exc}", source="export")

    @Slot()
    def _on_export_all_triggered(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export all figures to", self._last_dir())
        if not folder:
            return
        formats = ("png", "svg", "pdf")
        targets = [Path(folder) / f"{p.name}.{f}" for p in self.plot_list for f in formats]
        if not self._confirm_overwrite(targets):
            return
        try:
            from gui.figure_export import export_all

            for p in self.plot_list:
                p.ensure_drawn()
            # the user confirmed overwriting above
            out = export_all(self.plot_list, Path(folder), style=self._export_style(),
                             dpi=self._export_dpi(), formats=formats, force=True)
            self.statusBar().showMessage(f"Exported {len(out)} files to {folder}", 5000)
        except Exception as exc:  # noqa: BLE001
            self.banner.show_error(f"Export failed: {exc}", source="export")

    @Slot()
    def _on_export_data_triggered(self) -> None:
        result = self._result_to_save()
        if result is None:
            self.banner.show_error("Nothing to export yet: no result.", source="export")
            return
        folder = QFileDialog.getExistingDirectory(self, "Export data to", self._last_dir())
        if not folder:
            return
        try:
            from engine.export import write_result

            try:
                out = write_result(result, Path(folder))
            except FileExistsError as exc:
                answer = QMessageBox.question(self, "Overwrite files?",
                                              f"{exc}\n\nReplace the existing files?")
                if answer != QMessageBox.StandardButton.Yes:
                    return
                out = write_result(result, Path(folder), force=True)
            self.statusBar().showMessage(f"Wrote {len(out)} files to {folder}", 5000)
        except Exception as exc:  # noqa: BLE001
            self.banner.show_error(f"Data export failed: {exc}", source="export")

    @Slot()
    def _on_copy_triggered(self) -> None:
        try:
            from gui.figure_export import copy_to_clipboard

            copy_to_clipboard(self.current_plot(), dpi=self._export_dpi())
            self.statusBar().showMessage("Figure copied to the clipboard", 4000)
        except Exception as exc:  # noqa: BLE001
            self.banner.show_error(f"Copy failed: {exc}", source="export")

    @Slot()
    def _on_export_settings_triggered(self) -> None:
        dpi, ok = QInputDialog.getInt(self, "Export DPI", "Resolution of PNG exports (DPI):",
                                      self._export_dpi(), 50, 1200, 25)
        if ok:
            self.settings.setValue("export/dpi", dpi)
        styles = ["presentation", "screen"]
        current = str(self.settings.value("export/style", "presentation"))
        style, ok = QInputDialog.getItem(self, "Export style", "Style of exported figures:",
                                         styles, styles.index(current)
                                         if current in styles else 0, False)
        if ok:
            self.settings.setValue("export/style", style)

    # ================================================================== view
    @Slot(int)
    def _on_tabs_changed(self, _index: int) -> None:
        plot = self.current_plot()
        for act, key in ((self.act_log_x, "log_x"), (self.act_log_y, "log_y")):
            old = act.blockSignals(True)
            act.setChecked(bool(plot.options.get(key, False)))
            act.blockSignals(old)

    @Slot(bool)
    def _on_log_x_toggled(self, checked: bool) -> None:
        self.current_plot().set_option("log_x", checked)

    @Slot(bool)
    def _on_log_y_toggled(self, checked: bool) -> None:
        self.current_plot().set_option("log_y", checked)

    @Slot()
    def _on_overlay_toggled(self, *_args: object) -> None:
        overlay = self.act_overlay.isChecked()
        self.plots["spectrum"].set_option("overlay", overlay)
        self.settings.setValue("view/overlay", overlay)

    @Slot()
    def _on_x_axis_toggled(self, *_args: object) -> None:
        axis = "n/p" if self.act_x_np.isChecked() else "n/d"
        self.plots["learning_curves"].set_option("x_axis", axis)
        self.settings.setValue("view/x_axis", axis)

    @Slot(str)
    def _on_plot_status(self, text: str) -> None:
        self.readout_label.setText(text)

    @Slot()
    def _on_conventions_triggered(self) -> None:
        QMessageBox.information(self, "Conventions", CONVENTIONS_HTML)

    @Slot()
    def _on_about_triggered(self) -> None:
        QMessageBox.about(self, "About Feature Spectrum Lab",
                          "Feature Spectrum Lab: the spectrum of learned features after one "
                          "large gradient step — network, spiked random features and random "
                          "matrix theory (Dandi et al. 2024, Cui et al. 2024).")

    # ================================================================== settings, close
    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1500, 900)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        overlay = str(self.settings.value("view/overlay", "true")).lower() == "true"
        (self.act_overlay if overlay else self.act_side).setChecked(True)
        self.plots["spectrum"].set_option("overlay", overlay)
        axis = str(self.settings.value("view/x_axis", "n/p"))
        (self.act_x_np if axis == "n/p" else self.act_x_nd).setChecked(True)
        self.plots["learning_curves"].set_option("x_axis", axis)
        self._update_recent_menu()

    def shutdown_workers(self) -> None:
        """Cancel and join both worker threads (idempotent)."""
        self._debounce.stop()
        self._sim_redraw.stop()
        self.theory_tasks.shutdown()
        self.sim_tasks.shutdown()

    @Slot()
    def _on_quit_triggered(self) -> None:
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()
        # A QThread destroyed while running aborts the process: interrupt and wait.
        self.shutdown_workers()
        event.accept()
