"""The main window: parameter panels left, plot tabs right, status and progress below.

Data flows one way (docs/architecture.md): panel edits -> Config (validated by the
engine; an invalid field is marked and nothing runs) -> worker -> engine.views ->
views -> plots. The live theory runs on every valid edit (debounced); simulations run
on request. Both run in :class:`gui.workers.TaskManager` threads and arrive as the
views they draw, so the window only draws.

Only results of the parameters on screen are drawn: a simulation of other parameters
is hidden (and drawn again if the user returns to them), never exported as current.
"""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolBox,
    QVBoxLayout,
    QWidget,
)

from engine.config import Config
from engine.config_rules import SCHEMA
from engine.errors import ConfigError, MemoryGuardError
from engine.estimate import (
    DEFAULT_GFLOPS,
    describe_seconds,
    learned_rate,
    remaining_seconds,
    simulation_seconds,
)
from engine.presets import (
    PresetInfo,
    default_preset,
    list_presets,
    load_preset,
    preset_info,
)
from engine.results import RunResult
from engine.views import (
    SimulationUpdate,
    TheoryUpdate,
    Views,
    combine,
    live_theory,
    merged_result,
    simulate,
    simulation_matches,
    simulation_views,
)
from gui.file_actions import FileActions
from gui.garbage import collect_in_gui_thread
from gui.help import show_about, show_user_guide
from gui.info_panel import InfoPanel
from gui.panels import ModelPanel, NumericsPanel, RunPanel
from gui.plots import PlotBase, create_plots
from gui.style import ON_SCREEN
from gui.widgets import ErrorBanner
from gui.workers import TaskFailure, TaskManager

#: Below this window width the side panel hides (View menu brings it back) and the
#: parameter panel narrows, so the plot keeps most of the width.
COMPACT_WIDTH = 1400
LEFT_WIDTH, LEFT_WIDTH_COMPACT, LEFT_MIN_WIDTH = 400, 370, 300
#: Debounce of parameter edits before the live theory recomputes (ms).
DEBOUNCE_MS = 120
#: Minimum interval between redraws of streamed simulation points (ms).
SIM_REDRAW_MS = 250
#: Simulations estimated shorter than this get no estimate line (seconds).
QUICK_SECONDS = 10.0
APP_TITLE = "Feature Spectrum Lab"


def curve_override_notes(config: Config) -> dict[str, str]:
    """``{"model.<key>": note}`` for the model fields the run's curves set."""
    curves = config.run.curves
    by_key: dict[str, list[str]] = {}
    for curve in curves:
        for key, value in curve.to_dict()["set"].items():
            shown = "large batch" if value is None else (
                f"{value:g}" if isinstance(value, float) else str(value))
            by_key.setdefault(key, []).append(f"{curve.label}: {shown}")
    notes = {}
    for key, values in by_key.items():
        listed = "; ".join(values)
        if len(values) == len(curves):
            notes[f"model.{key}"] = (f"Set by every curve ({listed}): this field has no "
                                     f"effect while the run has these curves.")
        else:
            notes[f"model.{key}"] = (f"Set by {len(values)} of {len(curves)} curves "
                                     f"({listed}); the other curves use this value.")
    return notes


class MainWindow(QMainWindow):
    """Feature Spectrum Lab's one window."""

    #: The live theory's first views have been drawn (tests and --screenshot wait on it).
    sig_theory_drawn = Signal()
    #: The live theory finished all its stages (extras included) or failed.
    sig_theory_finished = Signal()
    #: A simulation ended (result, error or cancel).
    sig_simulation_finished = Signal()

    def __init__(self, settings: QSettings | None = None, *, initial_config: Config | None = None,
                 preset: str | None = None, live: bool = True,
                 theory_extras: bool = True) -> None:
        super().__init__()
        # Workers run Python: collect garbage (Qt wrappers among it) in this thread only.
        collect_in_gui_thread()
        self.setWindowTitle(APP_TITLE)
        self.settings = settings if settings is not None else QSettings()
        self.live = live
        #: compute the extras (tail spectra at several eta_tilde, automatic learning
        #: curve, learned function at several eta_tilde) after the snapshot
        self.theory_extras = theory_extras
        self._config: Config | None = None
        #: the latest live theory and the latest simulation (of whatever parameters)
        self._theory: TheoryUpdate | None = None
        self._sim: SimulationUpdate | None = None
        # A memory-guard refusal marks d until the sizes change; the live-theory
        # revalidation that follows every edit must not wipe it.
        self._memory_mark: tuple[tuple[Any, ...], str] | None = None
        self._sim_started = 0.0
        self._sim_config: Config | None = None
        self._compact: bool | None = None

        self.theory_tasks = TaskManager("theory", self)
        self.sim_tasks = TaskManager("simulation", self)
        self.file_actions = FileActions(self)

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

        if initial_config is not None:
            self.set_config(initial_config)
        else:
            self.load_preset(preset or default_preset())

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
        self.estimate_label = QLabel("")
        self.estimate_label.setObjectName("simulationEstimate")
        self.estimate_label.setWordWrap(True)

        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(scroll, 1)
        lay.addWidget(self.input_error_label)
        lay.addLayout(buttons)
        lay.addWidget(self.estimate_label)
        left.setMinimumWidth(LEFT_MIN_WIDTH)
        self._left = left

    def _build_plots(self) -> None:
        self.banner = ErrorBanner()
        self.tabs = QTabWidget()
        self.plot_list: list[PlotBase] = create_plots(ON_SCREEN)
        self.plots: dict[str, PlotBase] = {p.name: p for p in self.plot_list}
        for plot in self.plot_list:
            plot.defer_when_hidden = True
            self.tabs.addTab(plot, plot.title.replace("&", "&&"))  # no mnemonic
        self.sim_note = QLabel("A simulation of other parameters is hidden: it reappears if "
                               "you return to them; Run simulates these.")
        self.sim_note.setObjectName("simNote")
        self.sim_note.setWordWrap(True)
        self.sim_note.setVisible(False)
        right = QWidget()
        lay = QVBoxLayout(right)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.banner)
        lay.addWidget(self.sim_note)
        lay.addWidget(self.tabs, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setCollapsible(1, False)  # the plots never vanish; the panels may
        splitter.setSizes([LEFT_WIDTH, 900])
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
        self.file_actions.build_menu(mb.addMenu("&File"))

        presets = mb.addMenu("&Presets")
        self.preset_actions: dict[str, QAction] = {}
        for name in list_presets():
            act = QAction(name, self)
            act.setToolTip(preset_info(name).description)
            act.setStatusTip(preset_info(name).description)
            act.setData(name)
            act.triggered.connect(self._on_preset_triggered)
            presets.addAction(act)
            self.preset_actions[name] = act
        presets.setToolTipsVisible(True)

        run = mb.addMenu("&Run")
        self.add_action(run, "Run &simulation", self._on_run_clicked, "Ctrl+R")
        self.add_action(run, "&Cancel simulation", self._on_cancel_clicked, "Esc")
        self.add_action(run, "Recompute &theory", self._on_recompute_triggered, "F5")
        self._build_view_menu(mb.addMenu("&View"))

        help_menu = mb.addMenu("&Help")
        self.add_action(help_menu, "&User guide", self._on_user_guide_triggered, "F1")
        self.add_action(help_menu, "&Model and conventions", self._on_model_doc_triggered)
        self.add_action(help_menu, "&Command line", self._on_cli_doc_triggered)
        help_menu.addSeparator()
        self.add_action(help_menu, "&About Feature Spectrum Lab", self._on_about_triggered)

    def _build_view_menu(self, view: QMenu) -> None:
        self.act_log_x = self.add_action(view, "Log x axis (current plot)",
                                         self._on_log_x_toggled, checkable=True)
        self.act_log_y = self.add_action(view, "Log y axis (current plot)",
                                         self._on_log_y_toggled, checkable=True)
        view.addSeparator()
        group = QActionGroup(self)
        self.act_overlay = self.add_action(view, "Before/after overlaid",
                                           self._on_overlay_toggled, checkable=True)
        self.act_side = self.add_action(view, "Before/after side by side",
                                        self._on_overlay_toggled, checkable=True)
        group.addAction(self.act_overlay)
        group.addAction(self.act_side)
        self.act_overlay.setChecked(True)
        view.addSeparator()
        xgroup = QActionGroup(self)
        self.act_x_np = self.add_action(view, "Learning curves against n/p",
                                        self._on_x_axis_toggled, checkable=True)
        self.act_x_nd = self.add_action(view, "Learning curves against n/d",
                                        self._on_x_axis_toggled, checkable=True)
        xgroup.addAction(self.act_x_np)
        xgroup.addAction(self.act_x_nd)
        self.act_x_np.setChecked(True)
        view.addSeparator()
        view.addAction(self.info_dock.toggleViewAction())

    def add_action(self, menu: QMenu, text: str, slot: Any, shortcut: Any = None, *,
                   checkable: bool = False) -> QAction:
        """A menu action connected to ``slot``."""
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
        self.plots["phase"].sig_cell_clicked.connect(self._on_phase_cell_clicked)
        self.info.sig_doc_link.connect(self._on_info_doc_link)
        t, s = self.theory_tasks, self.sim_tasks
        t.sig_stage.connect(self._on_theory_stage)
        t.sig_result.connect(self._on_theory_result)
        t.sig_error.connect(self._on_theory_error)
        t.sig_finished.connect(self._on_theory_finished)
        s.sig_progress.connect(self._on_sim_progress)
        s.sig_update.connect(self._on_sim_update)
        s.sig_result.connect(self._on_sim_result)
        s.sig_error.connect(self._on_sim_error)
        s.sig_cancelled.connect(self._on_sim_cancelled)
        s.sig_finished.connect(self._on_sim_finished)

    # ================================================================== config
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
        self.model_panel.show_curve_overrides(curve_override_notes(config),
                                              len(config.run.curves))
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
            self.run_panel.mark_error("run.curves", exc.message)
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
        self.refresh_views()
        if recompute and self.live:
            self.start_theory()

    @property
    def config(self) -> Config | None:
        """The last valid config."""
        return self._config

    # ================================================================== views
    def current_views(self) -> Views:
        """What the plots show: the live theory and the simulation of these parameters.

        A simulation computed for other parameters is left out (it comes back if the
        user returns to them); the theory is that of the latest edit being computed.
        """
        config = self._config if self._config is not None else Config()
        theory = self._theory.views if self._theory is not None else None
        return combine(theory, self._current_sims(config), config)

    def _current_sims(self, config: Config) -> Views | None:
        result = self.current_simulation()
        if result is None or self._sim is None:
            return None
        if self._sim.views.config.model != config.model:
            # same points, other panel value of the swept parameter: pick again
            return simulation_views(result, config)
        return self._sim.views

    def current_simulation(self) -> RunResult | None:
        """The simulation of the parameters on screen (None if there is none)."""
        config = self._config
        if config is None or self._sim is None \
                or not simulation_matches(self._sim.result.config, config):
            return None
        return self._sim.result

    def refresh_views(self) -> None:
        """Give every plot the views of the parameters on screen."""
        views = self.current_views()
        for plot in self.plot_list:
            plot.set_views(views)
        hidden = self._sim is not None and self.current_simulation() is None
        self.sim_note.setVisible(hidden)

    def session_content(self) -> tuple[Config, RunResult | None, dict[str, Any]] | None:
        """What a session saves: the config, the results on screen, the view state."""
        config = self.current_config()
        if config is None:
            return None
        theory = self._theory.bundle.run if self._theory is not None \
            and self._theory.bundle.config == config else None
        result = merged_result(theory, self.current_simulation())
        if result is not None and result.config != config:
            result = replace(result, config=config)  # the simulation ran without theory
        return config, result, self.ui_state()

    def restore_session(self, config: Config, result: RunResult | None,
                        ui: dict[str, Any]) -> None:
        """Show a loaded session: its parameters, its simulations and its view."""
        self._sim = None
        if result is not None and any(p.sims for c in result.curves for p in c.points):
            self._sim = SimulationUpdate(result, simulation_views(result, config), True)
        self.set_config(config, recompute=False)
        self.apply_ui_state(ui)
        if self.live:
            self.start_theory()

    def _gflops(self) -> float:
        try:
            return float(self.settings.value("simulation/gflops", DEFAULT_GFLOPS))
        except (TypeError, ValueError):
            return DEFAULT_GFLOPS

    def _estimated_seconds(self, config: Config) -> float:
        return simulation_seconds(config, self._gflops())

    def _update_estimate(self, config: Config | None) -> None:
        """Say before Run how long the simulation will take (only when it is not quick)."""
        if config is None or not config.run.simulate:
            self.estimate_label.setText("")
            return
        seconds = self._estimated_seconds(config)
        self.estimate_label.setText(
            f"Run: {describe_seconds(seconds)} of simulation "
            f"({len(config.points())} point(s) × {len(config.run.simulate)} model(s) × "
            f"{len(config.run.seeds)} seed(s))" if seconds >= QUICK_SECONDS else "")

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_layout(self.width())

    def _fit_layout(self, width: int) -> None:
        """Narrow windows (1280 px laptops): hide the side panel, narrow the parameters."""
        compact = width < COMPACT_WIDTH
        if compact == self._compact:
            return
        self._compact = compact
        self.info_dock.setVisible(not compact)
        left = LEFT_WIDTH_COMPACT if compact else LEFT_WIDTH
        self.splitter.setSizes([left, max(width - left, 400)])

    def set_document_name(self, name: str) -> None:
        """Show the preset's or session's name in the window title."""
        self.setWindowTitle(f"{APP_TITLE} — {name}" if name else APP_TITLE)

    # ================================================================== theory
    def start_theory(self) -> bool:
        """Validate the panels and start the live theory; False when the input is invalid."""
        self._debounce.stop()
        config = self.current_config()
        if config is None:
            return False
        self._config = config
        self.refresh_views()  # simulations of other parameters leave at once
        self._update_estimate(config)
        # the last theory goes along: a grid whose cells did not change is not solved again
        task = partial(live_theory, extras=self.theory_extras,
                       previous=self._theory.bundle if self._theory is not None else None)
        self.theory_tasks.start(task, config, stages=True)
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

    @Slot(int, str, object)
    def _on_theory_stage(self, _run_id: int, _stage: str, update: TheoryUpdate) -> None:
        self._show_theory(update)
        self.theory_label.setText("theory: drawn, refining…")
        self.sig_theory_drawn.emit()

    def _show_theory(self, update: TheoryUpdate) -> None:
        self._theory = update
        self.refresh_views()
        bundle = update.bundle
        label = bundle.config.curve_models()[0][0]
        point = bundle.snapshot[0] if bundle.snapshot else None
        self.info.set_theory(point, label, bundle.warnings)
        self.banner.hide_error("theory")

    @Slot(int, object)
    def _on_theory_result(self, _run_id: int, update: TheoryUpdate) -> None:
        self._show_theory(update)
        failures = update.bundle.failures
        if failures:
            text = "; ".join(failures)
            self.banner.show_error("The theory did not converge everywhere: " + text[:300],
                                   text, source="theory")
        self.theory_label.setText("theory: incomplete" if failures else "theory: up to date")

    @Slot(int, object)
    def _on_theory_error(self, _run_id: int, failure: TaskFailure) -> None:
        self.banner.show_error(f"Theory failed: {failure.message}", failure.traceback,
                               source="theory")
        self.info.set_failure(failure.message)
        self.theory_label.setText("theory: failed")

    @Slot(int)
    def _on_theory_finished(self, _run_id: int) -> None:
        self.sig_theory_finished.emit()

    # ================================================================== simulation
    @Slot()
    def _on_run_clicked(self) -> None:
        self.start_simulation()

    def start_simulation(self) -> bool:
        """Validate and simulate in the worker (the live theory draws the theory)."""
        config = self.current_config()
        if config is None:
            return False
        if not config.run.simulate:
            self.run_panel.mark_error("run.simulate", "run.simulate: tick the network and/or "
                                                      "the sRF model to simulate")
            self.toolbox.setCurrentIndex(1)
            return False
        # Where to run (child processes: Cancel terminates them) and the cache.
        options = self.run_panel.execution_options()
        if options is None:
            self.toolbox.setCurrentIndex(1)
            return False
        self._config = config
        self._sim = None
        self.refresh_views()
        self.banner.hide_error("simulation")
        self._sim_started = time.monotonic()
        self._sim_config = config
        self.statusBar().showMessage(
            f"Simulation started: {describe_seconds(self._estimated_seconds(config))} "
            f"at this machine's measured speed", 8000)
        self.sim_tasks.start(partial(simulate, **options), config.with_run(theory=False),
                             updates=True)
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
        left = remaining_seconds(fraction, time.monotonic() - self._sim_started)
        eta = f" — {describe_seconds(left)} left" if left is not None else ""
        text = message if len(message) < 70 else message[:67] + "…"
        self.stage_label.setText(text + eta)

    @Slot(int, object)
    def _on_sim_update(self, _run_id: int, update: SimulationUpdate) -> None:
        self._sim = update
        if not self._sim_redraw.isActive():
            self._sim_redraw.start()

    @Slot()
    def _on_sim_redraw_timeout(self) -> None:
        self.refresh_views()

    @Slot(int, object)
    def _on_sim_result(self, _run_id: int, update: SimulationUpdate) -> None:
        self._sim_redraw.stop()
        self._sim = update
        self.refresh_views()
        elapsed = time.monotonic() - self._sim_started
        self.statusBar().showMessage(f"Simulation done in {elapsed:.1f} s", 8000)
        if self._sim_config is not None:
            rate = learned_rate(self._gflops(), self._sim_config, elapsed)
            self.settings.setValue("simulation/gflops", rate)
            self._update_estimate(self._config)

    @Slot(int, object)
    def _on_sim_error(self, _run_id: int, failure: TaskFailure) -> None:
        self.banner.show_error(f"Simulation failed: {failure.message}", failure.traceback,
                               source="simulation")
        if isinstance(failure.error, MemoryGuardError):
            # the sizes are the cause: show it at d (alpha and beta scale with it)
            config = self.current_config()
            if config is not None:
                self._memory_mark = (self._sizes(config), str(failure.error))
            self.model_panel.mark_error("model.d", str(failure.error))
            self.toolbox.setCurrentIndex(0)

    @Slot(int)
    def _on_sim_cancelled(self, _run_id: int) -> None:
        self._sim_redraw.stop()
        self.refresh_views()  # the points done before the cancel stay drawn
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
        try:
            config = load_preset(name)
        except (ConfigError, OSError) as exc:
            self.banner.show_error(f"Cannot load preset {name!r}: {exc}", source="preset")
            return False
        info = preset_info(name)
        self.set_config(config)
        self._apply_preset_view(info)
        self.file_actions.session_path = None
        self.set_document_name(info.name)
        return True

    def _apply_preset_view(self, info: PresetInfo) -> None:
        """Open on the figure the preset reproduces, every plot in its preset view (the
        options a preset does not set go back to their defaults)."""
        ui = info.ui()
        for plot in self.plot_list:
            options = {key: allowed[0] for key, allowed in plot.OPTIONS.items()}
            options.update((ui["plots"].get(plot.name) or {}).get("options") or {})
            ui["plots"][plot.name] = {"options": options}
        self.apply_ui_state(ui)

    # ================================================================== view state
    def ui_state(self) -> dict[str, Any]:
        """The view saved with a session: the tab and every plot's view state."""
        return {"tab": self.current_plot().name,
                "plots": {p.name: p.view_state() for p in self.plot_list}}

    def apply_ui_state(self, ui: dict[str, Any]) -> None:
        """Restore a saved view (unknown plots or options are ignored)."""
        for name, state in (ui.get("plots") or {}).items():
            plot = self.plots.get(name)
            if plot is not None and isinstance(state, dict):
                plot.apply_view_state(state)
        names = [p.name for p in self.plot_list]
        if ui.get("tab") in names:
            self.tabs.setCurrentIndex(names.index(ui["tab"]))
        overlay = self.plots["spectrum"].options.get("overlay", True)
        (self.act_overlay if overlay else self.act_side).setChecked(True)
        axis = self.plots["learning_curves"].options.get("x_axis", "n/p")
        (self.act_x_np if axis == "n/p" else self.act_x_nd).setChecked(True)
        self._on_tabs_changed(self.tabs.currentIndex())

    def current_plot(self) -> PlotBase:
        return self.plot_list[max(self.tabs.currentIndex(), 0)]

    def show_tab(self, name: str) -> bool:
        """Show the plot called ``name`` (a view name or a tab title, any case)."""
        key = name.strip().lower()
        for i, plot in enumerate(self.plot_list):
            if key in (plot.name.lower(), plot.title.lower()):
                self.tabs.setCurrentIndex(i)
                return True
        return False

    @Slot(int)
    def _on_tabs_changed(self, _index: int) -> None:
        plot = self.current_plot()
        for act, key in ((self.act_log_x, "log_x"), (self.act_log_y, "log_y")):
            old = act.blockSignals(True)
            act.setChecked(bool(plot.options.get(key, False)) and plot.LOG_AXES)
            act.setEnabled(plot.LOG_AXES)
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

    @Slot(object)
    def _on_phase_cell_clicked(self, cell: tuple[tuple[str, Any], ...]) -> None:
        """Load a phase-diagram cell's two parameters into the panels (the grid stays)."""
        config = self.current_config()
        if config is None:
            return
        try:
            config = config.with_model(**dict(cell))
        except ConfigError as exc:
            self._mark_input_error(exc)
            return
        self.set_config(config)
        shown = ", ".join(f"{key} = {'large batch' if value is None else f'{value:g}'}"
                          for key, value in cell)
        self.statusBar().showMessage(f"Loaded {shown} into the panels", 8000)

    @Slot(str)
    def _on_plot_status(self, text: str) -> None:
        self.readout_label.setText(text)

    @Slot()
    def _on_user_guide_triggered(self) -> None:
        show_user_guide(self)

    @Slot()
    def _on_model_doc_triggered(self) -> None:
        show_user_guide(self, "model.md")

    @Slot()
    def _on_cli_doc_triggered(self) -> None:
        show_user_guide(self, "cli.md")

    @Slot(str)
    def _on_info_doc_link(self, link: str) -> None:
        show_user_guide(self, link)

    @Slot()
    def _on_about_triggered(self) -> None:
        show_about(self)

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

    def shutdown_workers(self) -> None:
        """Cancel and join both worker threads (idempotent)."""
        self._debounce.stop()
        self._sim_redraw.stop()
        self.theory_tasks.shutdown()
        self.sim_tasks.shutdown()
        self.run_panel.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()
        # A QThread destroyed while running aborts the process: interrupt and wait.
        self.shutdown_workers()
        event.accept()
