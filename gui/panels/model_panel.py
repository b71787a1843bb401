"""Model parameters (``ModelConfig``, docs/model.md#conventions), mirrored field by field.

Sliders for ``eta_tilde`` and ``alpha`` drive the live theory (the main window
debounces). The derived integers ``p, n, n0`` and the scalings are shown under the
fields, so the conventions are visible where the numbers are typed.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.activations import activation_names
from engine.config import ModelConfig
from engine.config_rules import RESIDUALS, W_INITS
from gui.panels.common import ParamPanel, combo, ispin, spin

#: Slider resolution and ranges: eta_tilde linear on [0, 10], alpha log on [0.05, 20].
SLIDER_STEPS = 1000
ETA_MAX = 10.0
ALPHA_LOG_MIN, ALPHA_LOG_MAX = math.log10(0.05), math.log10(20.0)

TIPS = {
    "model.d": "d: input dimension (integer, 10 to 20000). Simulations cost ~p·n·d and p³; "
               "the theory does not depend on d.",
    "model.beta": "β = p/d: width of the network per input dimension; p = round(β d).",
    "model.alpha": "α = n/d: samples of the ridge readout per input dimension; "
                   "n = round(α d). The papers plot n/p = α/β.",
    "model.alpha0": "α0 = n0/d: batch of the first gradient step; n0 = round(α0 d). "
                    "Tick 'large batch' for the limit α0 → ∞ (population gradient).",
    "model.eta_tilde": "η̃: step size in the maximal scaling η = η̃·√p, so each row of W "
                       "moves by O(1). η̃ = 0 is plain random features. "
                       "See Help → Model, Conventions (docs/model.md#conventions).",
    "model.lam": "λ: ridge penalty in the SUM convention: λ|a|² is added to the sum (not "
                 "the mean) of squared residuals over the n samples. Internally "
                 "λ_int = λ p/n. See Help → Model, Conventions (docs/model.md#conventions).",
    "model.noise": "Δ: label-noise variance, y = σ*(⟨θ,x⟩) + √Δ ξ. Test errors include Δ.",
    "model.sigma": "σ: network activation: a name (tanh, relu, erf, sin, sigmoid, He2, He3, "
                   "linear) or an expression in z, e.g. tanh(2*z) + 0.1*z**2.",
    "model.sigma_star": "σ*: target function of κ = ⟨θ,x⟩: a name or an expression in z.",
    "model.a_law": "Law of the second-layer weights a_i: K atoms (values) with "
                   "probabilities summing to 1.",
    "model.w_init": "Rows of W0: uniform on the unit sphere, or Gaussian N(0, I_d/d).",
    "model.residual": "Residual of the gradient step: labels y (the theory's assumption) or "
                      "y − f(x; W0, a) ('full', beyond the theory). See Help → Model, Known "
                      "limits (docs/model.md#known-limits).",
}


class ModelPanel(ParamPanel):
    """Editors for every field of :class:`~engine.config.ModelConfig`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        m = ModelConfig()
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.d = self.register("model.d", ispin(1, 100000, m.d, 100), TIPS["model.d"])
        self.beta = self.register("model.beta", spin(0.0, 1000.0, m.beta), TIPS["model.beta"])
        self.alpha = self.register("model.alpha", spin(0.0, 10000.0, m.alpha),
                                   TIPS["model.alpha"])
        self.alpha_slider = QSlider(Qt.Orientation.Horizontal)
        self.alpha_slider.setRange(0, SLIDER_STEPS)
        self.alpha_slider.setToolTip("α on a log scale from 0.05 to 20 (live theory)")
        self.alpha0 = self.register("model.alpha0", spin(0.0, 1e6, 16.0), TIPS["model.alpha0"])
        self.large_batch = QCheckBox("large batch (∞)")
        self.large_batch.setToolTip(TIPS["model.alpha0"])
        self.eta_tilde = self.register("model.eta_tilde", spin(0.0, 1000.0, m.eta_tilde),
                                       TIPS["model.eta_tilde"])
        self.eta_slider = QSlider(Qt.Orientation.Horizontal)
        self.eta_slider.setRange(0, SLIDER_STEPS)
        self.eta_slider.setToolTip(f"η̃ from 0 to {ETA_MAX:g} (live theory)")
        self.lam = self.register("model.lam", spin(-1.0, 1e6, m.lam, decimals=4),
                                 TIPS["model.lam"])
        self.noise = self.register("model.noise", spin(-1.0, 1e6, m.noise, decimals=4),
                                   TIPS["model.noise"])
        names = activation_names()
        self.sigma = self.register("model.sigma", combo(names, m.sigma, editable=True),
                                   TIPS["model.sigma"])
        self.sigma_star = self.register("model.sigma_star",
                                        combo(names, m.sigma_star, editable=True),
                                        TIPS["model.sigma_star"])
        self.w_init = self.register("model.w_init", combo(W_INITS, m.w_init),
                                    TIPS["model.w_init"])
        self.residual = self.register("model.residual", combo(RESIDUALS, m.residual),
                                      TIPS["model.residual"])

        # a_law editor: K rows of (value, probability)
        self.a_table = QTableWidget(0, 2)
        self.a_table.setHorizontalHeaderLabels(["value a_k", "probability π_k"])
        self.a_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.a_table.verticalHeader().setVisible(False)
        self.a_table.setFixedHeight(96)
        self.register("model.a_law", self.a_table, TIPS["model.a_law"])
        a_buttons = QHBoxLayout()
        self.a_add = QPushButton("+ atom")
        self.a_remove = QPushButton("− atom")
        self.a_ones = QPushButton("all ones")
        self.a_rademacher = QPushButton("±1")
        for b in (self.a_add, self.a_remove, self.a_ones, self.a_rademacher):
            b.setMinimumWidth(10)
        for b in (self.a_add, self.a_remove, self.a_ones, self.a_rademacher):
            b.setAutoDefault(False)
            a_buttons.addWidget(b)
        a_box = QVBoxLayout()
        a_box.setContentsMargins(0, 0, 0, 0)
        a_box.addWidget(self.a_table)
        a_box.addLayout(a_buttons)
        a_widget = QWidget()
        a_widget.setLayout(a_box)
        a_widget.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

        alpha0_row = QHBoxLayout()
        alpha0_row.addWidget(self.alpha0, 1)
        alpha0_row.addWidget(self.large_batch)

        form.addRow("d", self.d)
        form.addRow("β = p/d", self.beta)
        form.addRow("α = n/d", self.alpha)
        form.addRow("", self.alpha_slider)
        form.addRow("α0 = n0/d", alpha0_row)
        form.addRow("η̃ (step)", self.eta_tilde)
        form.addRow("", self.eta_slider)
        form.addRow("λ (ridge, sum)", self.lam)
        form.addRow("Δ (noise)", self.noise)
        form.addRow("σ (network)", self.sigma)
        form.addRow("σ* (target)", self.sigma_star)
        form.addRow("a law", a_widget)
        form.addRow("W0 rows", self.w_init)
        form.addRow("residual", self.residual)

        self.derived = QLabel()
        self.derived.setWordWrap(True)
        self.derived.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.derived.setObjectName("derivedIntegers")
        self.curves_note = QLabel()
        self.curves_note.setWordWrap(True)
        self.curves_note.setObjectName("curvesNote")
        self.curves_note.setStyleSheet("color: #FFB74D;")
        self.curves_note.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addWidget(self.derived)
        layout.addWidget(self.curves_note)
        layout.addWidget(self.message_label)
        layout.addStretch(1)

        for box in (self.d, self.beta, self.alpha, self.alpha0, self.eta_tilde, self.lam,
                    self.noise):
            box.valueChanged.connect(self._on_field_changed)
        for c in (self.sigma, self.sigma_star):
            c.currentTextChanged.connect(self._on_field_changed)
        for c in (self.w_init, self.residual):
            c.currentIndexChanged.connect(self._on_field_changed)
        self.large_batch.toggled.connect(self._on_large_batch_toggled)
        self.a_table.itemChanged.connect(self._on_field_changed)
        self.eta_slider.valueChanged.connect(self._on_eta_slider_moved)
        self.alpha_slider.valueChanged.connect(self._on_alpha_slider_moved)
        self.eta_tilde.valueChanged.connect(self._on_eta_spin_changed)
        self.alpha.valueChanged.connect(self._on_alpha_spin_changed)
        self.a_add.clicked.connect(self._on_a_add_clicked)
        self.a_remove.clicked.connect(self._on_a_remove_clicked)
        self.a_ones.clicked.connect(self._on_a_ones_clicked)
        self.a_rademacher.clicked.connect(self._on_a_rademacher_clicked)
        self.set_model(m)

    # ------------------------------------------------------------------ values
    def values(self) -> dict[str, Any]:
        """The ``model`` section as a JSON-like dict (validated later by the engine)."""
        return {
            "d": int(self.d.value()),
            "beta": float(self.beta.value()),
            "alpha": float(self.alpha.value()),
            "alpha0": None if self.large_batch.isChecked() else float(self.alpha0.value()),
            "eta_tilde": float(self.eta_tilde.value()),
            "lam": float(self.lam.value()),
            "noise": float(self.noise.value()),
            "sigma": self.sigma.currentText().strip(),
            "sigma_star": self.sigma_star.currentText().strip(),
            "a_law": self._a_law_values(),
            "w_init": self.w_init.currentText(),
            "residual": self.residual.currentText(),
        }

    def _a_law_values(self) -> dict[str, list[Any]]:
        values: list[Any] = []
        probs: list[Any] = []
        for row in range(self.a_table.rowCount()):
            for col, out in ((0, values), (1, probs)):
                item = self.a_table.item(row, col)
                text = item.text().strip() if item is not None else ""
                try:
                    out.append(float(text))
                except ValueError:
                    out.append(text)  # the engine names the bad entry
        return {"values": values, "probs": probs}

    def set_model(self, m: ModelConfig) -> None:
        """Show ``m`` without emitting ``sig_changed`` once per field (batch edit)."""
        widgets = [self, self.d, self.beta, self.alpha, self.alpha0, self.large_batch,
                   self.eta_tilde, self.lam, self.noise, self.sigma, self.sigma_star,
                   self.w_init, self.residual, self.a_table, self.eta_slider,
                   self.alpha_slider]
        old = [w.blockSignals(True) for w in widgets]
        try:
            self.d.setValue(m.d)
            self.beta.setValue(m.beta)
            self.alpha.setValue(m.alpha)
            self.large_batch.setChecked(m.alpha0 is None)
            if m.alpha0 is not None:
                self.alpha0.setValue(m.alpha0)
            self.alpha0.setEnabled(m.alpha0 is not None)
            self.eta_tilde.setValue(m.eta_tilde)
            self.lam.setValue(m.lam)
            self.noise.setValue(m.noise)
            self.sigma.setEditText(m.sigma)
            idx = self.sigma.findText(m.sigma)
            if idx >= 0:
                self.sigma.setCurrentIndex(idx)
            self.sigma_star.setEditText(m.sigma_star)
            idx = self.sigma_star.findText(m.sigma_star)
            if idx >= 0:
                self.sigma_star.setCurrentIndex(idx)
            self.w_init.setCurrentText(m.w_init)
            self.residual.setCurrentText(m.residual)
            self._fill_a_table(list(m.a_law.values), list(m.a_law.probs))
            self._sync_sliders()
        finally:
            for w, o in zip(widgets, old, strict=True):
                w.blockSignals(o)
        self.update_derived()

    def _fill_a_table(self, values: list[float], probs: list[float]) -> None:
        old = self.a_table.blockSignals(True)
        self.a_table.setRowCount(len(values))
        for row, (v, p) in enumerate(zip(values, probs, strict=True)):
            self.a_table.setItem(row, 0, QTableWidgetItem(f"{v:g}"))
            self.a_table.setItem(row, 1, QTableWidgetItem(f"{p:.6g}"))
        self.a_table.blockSignals(old)

    def _sync_sliders(self) -> None:
        for slider, pos in ((self.eta_slider, self._eta_to_slider(self.eta_tilde.value())),
                            (self.alpha_slider, self._alpha_to_slider(self.alpha.value()))):
            old = slider.blockSignals(True)
            slider.setValue(pos)
            slider.blockSignals(old)

    @staticmethod
    def _eta_to_slider(eta: float) -> int:
        return int(round(min(max(eta, 0.0), ETA_MAX) / ETA_MAX * SLIDER_STEPS))

    @staticmethod
    def _alpha_to_slider(alpha: float) -> int:
        if alpha <= 0:
            return 0
        t = (math.log10(alpha) - ALPHA_LOG_MIN) / (ALPHA_LOG_MAX - ALPHA_LOG_MIN)
        return int(round(min(max(t, 0.0), 1.0) * SLIDER_STEPS))

    def show_curve_overrides(self, notes: dict[str, str], n_curves: int) -> None:
        """Mark the fields the run's curves set, and say so under the fields."""
        self.mark_overrides(notes)
        names = sorted(k.removeprefix("model.") for k in notes)
        self.curves_note.setVisible(bool(names))
        self.curves_note.setText(
            f"Dashed fields ({', '.join(names)}) are set by the {n_curves} curves of the run "
            f"(Run panel): a value here only applies to curves that do not set it."
            if names else "")

    def update_derived(self) -> None:
        """Show ``p, n, n0`` and the scalings for the current values."""
        d = self.d.value()
        beta, alpha = self.beta.value(), self.alpha.value()
        p, n = max(1, round(beta * d)), max(1, round(alpha * d))
        n0 = "∞ (large batch)" if self.large_batch.isChecked() else \
            f"{max(1, round(self.alpha0.value() * d))}"
        eta = self.eta_tilde.value() * math.sqrt(p)
        lam_int = self.lam.value() * p / n
        text = (f"p = {p},  n = {n},  n0 = {n0}\n"
                f"n/p = {n / p:.3g},  η = η̃√p = {eta:.4g},  λ_int = λ p/n = {lam_int:.4g}")
        if self.residual.currentText() == "full":
            text += "\nresidual 'full': beyond the theory (docs/model.md#network-to-srf-mapping)"
        self.derived.setText(text)

    # ------------------------------------------------------------------ slots
    @Slot()
    def _on_field_changed(self, *_args: object) -> None:
        self.update_derived()
        self.sig_changed.emit()

    @Slot(bool)
    def _on_large_batch_toggled(self, checked: bool) -> None:
        self.alpha0.setEnabled(not checked)
        self._on_field_changed()

    @Slot(int)
    def _on_eta_slider_moved(self, pos: int) -> None:
        self.eta_tilde.setValue(round(pos / SLIDER_STEPS * ETA_MAX, 2))

    @Slot(int)
    def _on_alpha_slider_moved(self, pos: int) -> None:
        t = pos / SLIDER_STEPS
        self.alpha.setValue(round(10 ** (ALPHA_LOG_MIN + t * (ALPHA_LOG_MAX - ALPHA_LOG_MIN)), 3))

    @Slot(float)
    def _on_eta_spin_changed(self, _value: float) -> None:
        self._sync_sliders()

    @Slot(float)
    def _on_alpha_spin_changed(self, _value: float) -> None:
        self._sync_sliders()

    @Slot()
    def _on_a_add_clicked(self) -> None:
        law = self._a_law_values()
        values = [v for v in law["values"] if isinstance(v, float)]
        new = (max(values) + 1.0) if values else 1.0
        k = self.a_table.rowCount() + 1
        self._fill_a_table(values + [new], [1.0 / k] * k)
        self._on_field_changed()

    @Slot()
    def _on_a_remove_clicked(self) -> None:
        k = self.a_table.rowCount()
        if k <= 1:
            return
        law = self._a_law_values()
        self._fill_a_table([float(v) if isinstance(v, float) else 0.0
                            for v in law["values"][:-1]], [1.0 / (k - 1)] * (k - 1))
        self._on_field_changed()

    @Slot()
    def _on_a_ones_clicked(self) -> None:
        self._fill_a_table([1.0], [1.0])
        self._on_field_changed()

    @Slot()
    def _on_a_rademacher_clicked(self) -> None:
        self._fill_a_table([1.0, -1.0], [0.5, 0.5])
        self._on_field_changed()
