"""What to compute (``RunConfig``): kind, simulated models, seeds, sweep, curves.

A sweep is edited as (start, stop, count, log spacing). A preset's explicit list of
values is kept as it is until the user edits the sweep, so loading a preset and
running it reproduces the preset exactly. Curves (one parameter varied across
curves, docs/user-guide.md#presets) come from presets and sessions; they can be removed here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.config import RUN_KINDS, SWEEPABLE, RunConfig, Sweep
from engine.errors import ConfigError
from gui.panels.common import ParamPanel, combo, ispin, spin

TIPS = {
    "run.kind": "spectrum: eigenvalues of (1/n) ΦᵀΦ; weights: eigenvalues of W1 W1ᵀ; "
                "errors: training and test error (usually with a sweep).",
    "run.simulate": "Which models to simulate: the real two-layer network after its gradient "
                    "step, and/or the equivalent spiked random-features (sRF) model.",
    "run.seeds": "Comma-separated integer seeds (>= 0), one simulation per seed; results "
                 "show mean ± std over seeds. A range such as 0-4 is accepted.",
    "run.sweep": "Vary one model parameter over a range: start, stop, number of points, "
                 "linear or log spacing.",
    "run.curves": "Curves of a preset or session: each curve overrides some model parameters.",
}


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


class RunPanel(ParamPanel):
    """Editors for :class:`~engine.config.RunConfig`."""

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

        self.curves_label = QLabel("curves: one (the model as given)")
        self.curves_label.setWordWrap(True)
        self.register("run.curves", self.curves_label, TIPS["run.curves"])
        self.curves_clear = QPushButton("remove curves")
        self.curves_clear.setAutoDefault(False)
        curves_row = QHBoxLayout()
        curves_row.addWidget(self.curves_label, 1)
        curves_row.addWidget(self.curves_clear)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addWidget(self.sweep_box)
        layout.addLayout(curves_row)
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
        self.curves_clear.clicked.connect(self._on_curves_clear_clicked)
        self.set_run(self._run)

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
        })
        return out

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
            self._update_curves_label()
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

    def _update_curves_label(self) -> None:
        curves = self._run.curves
        if not curves:
            self.curves_label.setText("curves: one (the model as given)")
            self.curves_clear.setEnabled(False)
        else:
            self.curves_label.setText("curves: " + "; ".join(c.label for c in curves))
            self.curves_clear.setEnabled(True)

    # ------------------------------------------------------------------ slots
    @Slot()
    def _on_sweep_edited(self, *_args: object) -> None:
        self._custom_values = None
        self._update_sweep_note()
        self.sig_changed.emit()

    @Slot()
    def _on_curves_clear_clicked(self) -> None:
        self._run = replace(self._run, curves=())
        self._update_curves_label()
        self.sig_changed.emit()
