"""Theory numerics (``NumericsConfig``, docs/model.md#numerics), one editor per field."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFormLayout, QVBoxLayout, QWidget

from engine.config import NumericsConfig
from gui.panels.common import ParamPanel, ispin, spin

FIELDS: tuple[tuple[str, str, str], ...] = (
    ("q_kappa", "Q κ nodes", "Gauss–Hermite nodes of the κ grid (20 to 400)."),
    ("q_inner", "Q inner nodes", "Nodes of the inner Gaussian average for smooth σ "
                                 "(20 to 400)."),
    ("q2", "Q2 nodes (γ < 1)", "Nodes of the second grid when the spike has γ < 1 "
                               "(finite batch; 10 to 200)."),
    ("n_grid", "spectral grid", "Points of the eigenvalue grid of the density (50 to 5000)."),
    ("eta_min", "min Im z", "Smallest imaginary part of the spectral parameter "
                            "(1e-8 to 1e-1): smaller resolves edges better, costs more."),
    ("tol", "tolerance", "Convergence tolerance of the fixed points (1e-14 to 1e-3)."),
    ("max_iter", "max iterations", "Iteration cap of any fixed point (10 to 100000)."),
)


class NumericsPanel(ParamPanel):
    """Editors for :class:`~engine.config.NumericsConfig`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        n = NumericsConfig()
        form = QFormLayout()
        self.editors: dict[str, Any] = {}
        for name, label, tip in FIELDS:
            value = getattr(n, name)
            if isinstance(value, int):
                box = ispin(1, 1_000_000, value)
            else:
                box = spin(0.0, 1.0, value, decimals=15)
            self.register(f"numerics.{name}", box, tip)
            box.valueChanged.connect(self._emit_changed)
            self.editors[name] = box
            form.addRow(label, box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addWidget(self.message_label)
        layout.addStretch(1)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, box in self.editors.items():
            out[name] = int(box.value()) if isinstance(getattr(NumericsConfig(), name), int) \
                else float(box.value())
        return out

    def set_numerics(self, n: NumericsConfig) -> None:
        boxes = list(self.editors.values())
        old = [b.blockSignals(True) for b in boxes]
        try:
            for name, box in self.editors.items():
                box.setValue(getattr(n, name))
        finally:
            for b, o in zip(boxes, old, strict=True):
                b.blockSignals(o)
