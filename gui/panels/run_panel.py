"""What to compute (``RunConfig``): kind, simulated models, seeds, sweep, curves; and
where the simulations run.

A sweep is edited as (start, stop, count, log spacing). A preset's explicit list of
values is kept as it is until the user edits the sweep, so loading a preset and
running it reproduces the preset exactly. Curves (model values varied across curves,
docs/user-guide.md#presets) come from presets and sessions and are edited in a table
(:class:`~gui.panels.curves_editor.CurvesEditor`): a label and the values each sets.

Where simulations run (:class:`WherePanel`: this computer's worker processes or a Dask
scheduler, and whether to use the result cache) is an app preference kept in
``QSettings``, not a configuration key: it depends on the machine, not on the
experiment, and never changes a number (docs/cli.md#where-a-run-executes). A session
opened on another machine must not try to reach this one's scheduler.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QSettings, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from engine.cache import ResultCache, clear_cache, default_cache_dir
from engine.config import RunConfig, Sweep
from engine.config_rules import RUN_KINDS, SWEEPABLE
from engine.errors import ConfigError
from engine.execution import Execution, WorkerInfo, describe_workers, machine_cores
from gui.panels.common import ParamPanel, combo, ispin, spin
from gui.panels.curves_editor import CurvesEditor
from gui.workers import TaskFailure, TaskManager

TIPS = {
    "run.kind": "spectrum: eigenvalues of (1/n) ΦᵀΦ; weights: eigenvalues of W1 W1ᵀ; "
                "errors: training and test error (usually with a sweep).",
    "run.simulate": "Which models to simulate: the real two-layer network after its gradient "
                    "step, and/or the equivalent spiked random-features (sRF) model.",
    "run.seeds": "Comma-separated integer seeds (>= 0), one simulation per seed; results "
                 "show mean ± std over seeds. A range such as 0-4 is accepted.",
    "run.sweep": "Vary one model parameter over a range: start, stop, number of points, "
                 "linear or log spacing.",
    "run.curves": "Curves of the run: each draws one line per plot, with the model values it "
                  "sets (key = value; …, JSON values, e.g. alpha0 = 5 or alpha0 = null for the "
                  "large batch). Fields of the model panel a curve sets are dashed.",
    "simulation.workers": "Simulations run in worker processes of their own, so that Cancel "
                          "stops them at once and their memory returns. Several workers "
                          "run several seeds or points at once (each needs its own memory: "
                          "the memory guard counts them).",
    "simulation.scheduler": "Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786. "
                            "Its workers need this app's engine installed.",
    "simulation.cache": "Keep every simulated seed in the cache folder and reuse it when the "
                        "same parameters are simulated again: an interrupted run resumes, "
                        "a refined sweep or grid computes only its new points.",
}

#: QSettings keys of the preferences of :class:`WherePanel`.
SETTINGS_WHERE = "simulation/where"
SETTINGS_WORKERS = "simulation/workers"
SETTINGS_SCHEDULER = "simulation/scheduler"
SETTINGS_CACHE = "simulation/use_cache"


def parse_seeds(text: str) -> list[int]:
    """``"0, 1, 5-7"`` -> ``[0, 1, 5, 6, 7]``; raises ConfigError naming ``run.seeds``."""
    seeds: list[int] = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part[1:]:
                lo, hi = part.split("-", 1)
                seeds.extend(range(int(lo), int(hi) + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise ConfigError("run.seeds", f"run.seeds must be integers separated by commas "
                                           f"(ranges like 0-4 allowed), got {part!r}") from None
    return seeds


def check_workers(execution: Execution, *, progress: Any = None,
                  cancel: Any = None) -> list[WorkerInfo]:
    """The workers ``execution`` would use (run in a worker thread: it may connect)."""
    return describe_workers(execution)


def clear_cached_results(folder: Any, *, progress: Any = None, cancel: Any = None) -> int:
    """Delete the cache's entries (run in a worker thread: it walks the folder)."""
    return clear_cache(folder)


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n else "no memory limit"


class WherePanel(QGroupBox):
    """Where simulations run: this computer (N worker processes) or a Dask scheduler.

    The choice is kept in ``QSettings`` (module docstring). "Check" lists the workers a
    run would use (connecting to the scheduler) and "Clear cache" empties the result
    cache; both run in a worker thread, started on first use (:meth:`shutdown` joins it).
    """

    def __init__(self, owner: ParamPanel, parent: QWidget | None = None) -> None:
        super().__init__("where simulations run", parent)
        self.owner = owner
        self._tasks_: TaskManager | None = None
        self.local = QRadioButton("this computer")
        self.dask = QRadioButton("a Dask scheduler")
        self.workers = owner.register("simulation.workers", ispin(1, 256, 1),
                                      TIPS["simulation.workers"])
        self.scheduler = owner.register("simulation.scheduler", QLineEdit(),
                                        TIPS["simulation.scheduler"])
        self.scheduler.setPlaceholderText("tcp://host:8786")
        self.use_cache = owner.register("simulation.cache",
                                        QCheckBox("reuse and keep results in the cache"),
                                        TIPS["simulation.cache"])
        self.check_button = QPushButton("Check")
        self.clear_cache_button = QPushButton("Clear cache")
        for button in (self.check_button, self.clear_cache_button):
            button.setAutoDefault(False)
        self.report = QLabel()
        self.report.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(self.local)
        form.addRow("worker processes", self.workers)
        form.addRow(self.dask)
        form.addRow("address", self.scheduler)
        form.addRow(self.use_cache)
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.clear_cache_button)
        buttons.addStretch(1)
        form.addRow(buttons)
        form.addRow(self.report)
        self._load()
        self.local.toggled.connect(self._on_choice_edited)
        self.workers.valueChanged.connect(self._on_choice_edited)
        self.scheduler.editingFinished.connect(self._on_choice_edited)
        self.use_cache.toggled.connect(self._on_choice_edited)
        self.check_button.clicked.connect(self._on_check_clicked)
        self.clear_cache_button.clicked.connect(self._on_clear_cache_clicked)

    # ------------------------------------------------------------------ preferences
    def _load(self) -> None:
        settings = QSettings()
        dask = str(settings.value(SETTINGS_WHERE, "local")) == "scheduler"
        (self.dask if dask else self.local).setChecked(True)
        try:
            workers = int(settings.value(SETTINGS_WORKERS, 1))
        except (TypeError, ValueError):
            workers = 1
        self.workers.setValue(min(max(workers, 1), 256))
        self.scheduler.setText(str(settings.value(SETTINGS_SCHEDULER, "")))
        self.use_cache.setChecked(str(settings.value(SETTINGS_CACHE, "true")).lower()
                                  == "true")
        self._update_enabled()

    def _save(self) -> None:
        settings = QSettings()
        settings.setValue(SETTINGS_WHERE, "scheduler" if self.dask.isChecked() else "local")
        settings.setValue(SETTINGS_WORKERS, self.workers.value())
        settings.setValue(SETTINGS_SCHEDULER, self.scheduler.text().strip())
        settings.setValue(SETTINGS_CACHE, "true" if self.use_cache.isChecked() else "false")

    def _update_enabled(self) -> None:
        self.workers.setEnabled(self.local.isChecked())
        self.scheduler.setEnabled(self.dask.isChecked())

    # ------------------------------------------------------------------ the choice
    def execution(self) -> Execution:
        """Where to run: worker processes (even one: Cancel terminates it) or Dask.

        Raises
        ------
        ConfigError
            Keyed ``simulation.scheduler`` for an address that is not ``tcp://HOST:PORT``.
        """
        if self.local.isChecked():
            return Execution.local(self.workers.value(), isolate=True)
        try:
            return Execution.scheduler(self.scheduler.text())
        except ValueError as exc:
            raise ConfigError("simulation.scheduler", f"simulation.scheduler: {exc}") from None

    def cache(self) -> ResultCache | None:
        """The result cache when it is used (the user's cache folder), else None."""
        return ResultCache() if self.use_cache.isChecked() else None

    # ------------------------------------------------------------------ check, clear
    def _tasks(self) -> TaskManager:
        if self._tasks_ is None:
            self._tasks_ = TaskManager("where", self)
            self._tasks_.sig_result.connect(self._on_tasks_result)
            self._tasks_.sig_error.connect(self._on_tasks_error)
        return self._tasks_

    def shutdown(self) -> None:
        """Join the worker thread of Check and Clear cache (before the window closes)."""
        if self._tasks_ is not None:
            self._tasks_.shutdown()

    @Slot()
    def _on_choice_edited(self, *_args: object) -> None:
        self._update_enabled()
        self._save()

    @Slot()
    def _on_check_clicked(self) -> None:
        try:
            execution = self.execution()
        except ConfigError as exc:
            self.owner.mark_error(exc.key, exc.message)
            return
        self.owner.clear_errors()
        self.report.setText("checking…" if execution.mode != "dask"
                            else f"connecting to {execution.address}…")
        self._tasks().start(check_workers, execution)

    @Slot()
    def _on_clear_cache_clicked(self) -> None:
        self.report.setText("clearing the cache…")
        self._tasks().start(clear_cached_results, default_cache_dir())

    @Slot(int, object)
    def _on_tasks_result(self, _run_id: int, result: Any) -> None:
        if isinstance(result, int):
            self.report.setText(f"cache cleared: {result} result{'s' if result != 1 else ''} "
                                f"removed from {default_cache_dir()}")
            return
        total = sum(w.threads for w in result)
        lines = [f"{len(result)} worker{'s' if len(result) != 1 else ''}, {total} "
                 f"thread{'s' if total != 1 else ''} (this computer has {machine_cores()} "
                 f"cores):"]
        lines += [f"• {w.name}: {w.threads} thread{'s' if w.threads != 1 else ''}, "
                  f"{_gib(w.memory)}" for w in result]
        self.report.setText("\n".join(lines))

    @Slot(int, object)
    def _on_tasks_error(self, _run_id: int, failure: TaskFailure) -> None:
        self.report.setText(f"failed: {failure.error}")


class RunPanel(ParamPanel):
    """Editors for :class:`~engine.config.RunConfig`, and where simulations run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._run = RunConfig()
        self._custom_values: tuple[Any, ...] | None = None
        form = QFormLayout()
        self.kind = self.register("run.kind", combo(RUN_KINDS, "spectrum"), TIPS["run.kind"])
        sim_row = QHBoxLayout()
        self.sim_network = QCheckBox("network")
        self.sim_srf = QCheckBox("sRF model")
        sim_row.addWidget(self.sim_network)
        sim_row.addWidget(self.sim_srf)
        sim_widget = QWidget()
        sim_widget.setLayout(sim_row)
        sim_row.setContentsMargins(0, 0, 0, 0)
        self.register("run.simulate", sim_widget, TIPS["run.simulate"])
        self.seeds = self.register("run.seeds", QLineEdit("0"), TIPS["run.seeds"])
        form.addRow("kind", self.kind)
        form.addRow("simulate", sim_widget)
        form.addRow("seeds", self.seeds)

        self.sweep_box = QGroupBox("sweep one parameter")
        self.sweep_box.setCheckable(True)
        self.sweep_box.setChecked(False)
        self.register("run.sweep", self.sweep_box, TIPS["run.sweep"])
        sform = QFormLayout(self.sweep_box)
        self.sweep_param = combo(SWEEPABLE, "alpha")
        self.sweep_start = spin(0.0, 1e6, 0.2)
        self.sweep_stop = spin(0.0, 1e6, 4.0)
        self.sweep_count = ispin(1, 1000, 12)
        self.sweep_log = QCheckBox("log spacing")
        self.sweep_log.setChecked(True)
        self.sweep_note = QLabel()
        self.sweep_note.setWordWrap(True)
        sform.addRow("parameter", self.sweep_param)
        sform.addRow("start", self.sweep_start)
        sform.addRow("stop", self.sweep_stop)
        sform.addRow("points", self.sweep_count)
        sform.addRow("", self.sweep_log)
        sform.addRow(self.sweep_note)

        self.curves_box = QGroupBox("curves (none: one curve, the model as given)")
        self.curves = CurvesEditor()
        self.register("run.curves", self.curves, TIPS["run.curves"])
        curves_layout = QVBoxLayout(self.curves_box)
        curves_layout.addWidget(self.curves)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addWidget(self.sweep_box)
        layout.addWidget(self.curves_box)
        self.where = WherePanel(self)
        layout.addWidget(self.where)
        layout.addWidget(self.message_label)
        layout.addStretch(1)

        self.kind.currentIndexChanged.connect(self._emit_changed)
        self.sim_network.toggled.connect(self._emit_changed)
        self.sim_srf.toggled.connect(self._emit_changed)
        self.seeds.editingFinished.connect(self._emit_changed)
        self.sweep_box.toggled.connect(self._on_sweep_edited)
        self.sweep_param.currentIndexChanged.connect(self._on_sweep_edited)
        for box in (self.sweep_start, self.sweep_stop, self.sweep_count):
            box.valueChanged.connect(self._on_sweep_edited)
        self.sweep_log.toggled.connect(self._on_sweep_edited)
        self.curves.sig_changed.connect(self._on_curves_edited)
        self.set_run(self._run)

    # ------------------------------------------------------------------ where
    def execution_options(self) -> dict[str, Any] | None:
        """``{"execution", "cache"}`` for :func:`engine.views.simulate`; None after
        marking the field when the choice is invalid."""
        try:
            return {"execution": self.where.execution(), "cache": self.where.cache()}
        except ConfigError as exc:
            self.mark_error(exc.key, exc.message)
            return None

    def shutdown(self) -> None:
        """Join this panel's worker thread, if any (the main window calls it on close)."""
        self.where.shutdown()

    # ------------------------------------------------------------------ values
    def sweep_values(self) -> list[float]:
        """Values of the sweep as edited (start, stop, count, spacing)."""
        a, b, k = self.sweep_start.value(), self.sweep_stop.value(), self.sweep_count.value()
        if k == 1:
            return [a]
        if self.sweep_log.isChecked() and a > 0 and b > 0:
            vals = np.geomspace(a, b, k)
        else:
            vals = np.linspace(a, b, k)
        if self.sweep_param.currentText() == "d":
            return [int(round(v)) for v in vals]
        return [float(f"{v:.6g}") for v in vals]

    def values(self) -> dict[str, Any]:
        """The ``run`` section as a JSON-like dict; bad seeds raise ConfigError."""
        simulate = [m for m, box in (("network", self.sim_network), ("srf", self.sim_srf))
                    if box.isChecked()]
        sweep = None
        if self.sweep_box.isChecked():
            values = (list(self._custom_values) if self._custom_values is not None
                      else self.sweep_values())
            sweep = {"param": self.sweep_param.currentText(), "values": values}
        out = self._run.to_dict()
        out.update({
            "kind": self.kind.currentText(),
            "simulate": simulate,
            "seeds": parse_seeds(self.seeds.text()),
            "sweep": sweep,
            "curves": self.curves.values(),
        })
        return out

    def mark_error(self, key: str, message: str) -> bool:
        """Mark the field of ``key``; an error inside a curve also marks its row."""
        marked = super().mark_error(key, message)
        return self.curves.mark_error(key, message) or marked

    def clear_errors(self) -> None:
        super().clear_errors()
        self.curves.clear_errors()

    def set_run(self, run: RunConfig) -> None:
        """Show ``run`` (signals blocked: one recompute for the whole batch edit)."""
        widgets = [self, self.kind, self.sim_network, self.sim_srf, self.seeds,
                   self.sweep_box, self.sweep_param, self.sweep_start, self.sweep_stop,
                   self.sweep_count, self.sweep_log]
        old = [w.blockSignals(True) for w in widgets]
        try:
            self._run = run
            self.kind.setCurrentText(run.kind)
            self.sim_network.setChecked("network" in run.simulate)
            self.sim_srf.setChecked("srf" in run.simulate)
            self.seeds.setText(", ".join(str(s) for s in run.seeds))
            self.sweep_box.setChecked(run.sweep is not None)
            self._custom_values = None
            if run.sweep is not None:
                self._show_sweep(run.sweep)
            self.curves.set_curves(run.curves)
            self._update_curves_title()
            self._update_sweep_note()
        finally:
            for w, o in zip(widgets, old, strict=True):
                w.blockSignals(o)

    def _show_sweep(self, sweep: Sweep) -> None:
        self.sweep_param.setCurrentText(sweep.param)
        vals = [v for v in sweep.values if v is not None]
        if not vals:
            self._custom_values = tuple(sweep.values)
            return
        lo, hi = float(min(vals)), float(max(vals))
        self.sweep_start.setValue(lo)
        self.sweep_stop.setValue(hi)
        self.sweep_count.setValue(len(sweep.values))
        arr = np.asarray(vals, dtype=float)
        geometric = bool(lo > 0 and arr.size > 2 and np.allclose(
            np.diff(np.log(arr)), np.log(arr[1] / arr[0]), rtol=1e-2))
        self.sweep_log.setChecked(geometric)
        # keep the exact list unless the user edits the sweep
        if [float(f"{v:.6g}") for v in self.sweep_values()] != [float(f"{v:.6g}")
                                                                 for v in vals]:
            self._custom_values = tuple(sweep.values)

    def _update_sweep_note(self) -> None:
        if self._custom_values is not None:
            vals = ", ".join(f"{v:g}" if v is not None else "∞" for v in self._custom_values)
            self.sweep_note.setText(f"values from the preset/session: {vals}")
        else:
            self.sweep_note.setText("")

    def _update_curves_title(self) -> None:
        n = self.curves.table.rowCount()
        self.curves_box.setTitle(f"curves ({n})" if n
                                 else "curves (none: one curve, the model as given)")

    # ------------------------------------------------------------------ slots
    @Slot()
    def _on_sweep_edited(self, *_args: object) -> None:
        self._custom_values = None
        self._update_sweep_note()
        self.sig_changed.emit()

    @Slot()
    def _on_curves_edited(self) -> None:
        self._update_curves_title()
        self.sig_changed.emit()
