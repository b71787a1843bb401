"""Small widgets of the main window: the error banner and the sRF/convergence panel."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)


class ErrorBanner(QFrame):
    """A dismissable message above the plots, with the full text behind "Details".

    Why a banner and not a modal dialog: the user keeps editing parameters while the
    message stays next to the plots it concerns; a slider move must not pop dialogs.
    """

    sig_dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#errorBanner { background: #4A1F1F; border: 1px solid #E57373; "
                           "border-radius: 4px; } QLabel { color: #FFCDD2; }")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("errorMessage")
        self.details_button = QPushButton("Details")
        self.details_button.setCheckable(True)
        self.close_button = QPushButton("✕")
        self.close_button.setFixedWidth(28)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setVisible(False)
        self.details.setMaximumHeight(180)
        row = QHBoxLayout()
        row.addWidget(self.message, 1)
        row.addWidget(self.details_button)
        row.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addLayout(row)
        layout.addWidget(self.details)
        self.details_button.toggled.connect(self._on_details_toggled)
        self.close_button.clicked.connect(self._on_close_clicked)
        self.source = ""
        self.setVisible(False)

    def show_error(self, message: str, details: str = "", *, source: str = "") -> None:
        """Show ``message`` (and the traceback or full text in the details)."""
        self.source = source
        self.message.setText(message)
        self.details.setPlainText(details or message)
        self.details_button.setVisible(bool(details))
        self.setVisible(True)

    def hide_error(self, source: str | None = None) -> None:
        """Hide the banner (only if it shows an error of ``source``, when given)."""
        if source is None or source == self.source:
            self.setVisible(False)
            self.details_button.setChecked(False)
            self.source = ""

    @Slot(bool)
    def _on_details_toggled(self, checked: bool) -> None:
        self.details.setVisible(checked)

    @Slot()
    def _on_close_clicked(self) -> None:
        self.hide_error()
        self.sig_dismissed.emit()


def _fmt_array(a: Any) -> str:
    arr = np.atleast_1d(np.asarray(a, dtype=float))
    return ", ".join("0" if abs(x) < 1e-12 else f"{x:.4g}" for x in arr)


class InfoPanel(QTextBrowser):
    """The equivalent spiked model (SRFParams), Hermite constants, convergence, warnings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("infoPanel")
        self.setOpenExternalLinks(False)
        self._warnings: list[str] = []
        self._point: Any = None
        self._message = ""
        self._label = ""
        self.setHtml("<i>waiting for the theory…</i>")

    def set_theory(self, point: Any, message: str = "", label: str = "") -> None:
        self._point = point
        self._message = message
        self._label = label
        self._render()

    def set_warnings(self, warnings: list[str] | tuple[str, ...]) -> None:
        self._warnings = list(warnings)
        self._render()

    def _render(self) -> None:
        p = self._point
        rows: list[str] = []
        if p is None:
            self.setHtml("<i>no theory yet</i>")
            return
        sp = p.srf_params
        m = p.model
        rows.append("<b>Equivalent sRF model</b> "
                    "<small>(F = √c W0 + u vᵀ; docs/model.md#network-to-srf-mapping)</small>")
        if self._label:
            rows.append(f"<br><small>curve “{self._label}” (η̃ = {m.eta_tilde:g}, "
                        f"α0 = {'∞' if m.alpha0 is None else f'{m.alpha0:g}'})</small>")
        rows.append("<table cellspacing='2'>")
        if sp is not None:
            for name, val in (("a_k", sp.a), ("π_k", sp.pi), ("u_k (spike)", sp.u),
                              ("s0_k (row rescale)", sp.s0), ("c_k (coherent)", sp.c),
                              ("s_k (row norm)", sp.s), ("nv_k (row noise)", sp.nv)):
                rows.append(f"<tr><td>{name}</td><td>{_fmt_array(val)}</td></tr>")
            rows.append(f"<tr><td>γ = ⟨v, θ⟩</td><td>{sp.gamma:.4g}</td></tr>")
            rows.append(f"<tr><td>r0</td><td>{sp.r0:.4g}</td></tr>")
        rows.append("</table>")
        if sp is not None and sp.constants:
            rows.append("<b>Hermite constants</b> <small>(z ~ N(0,1))</small><table>")
            for k, v in sp.constants.items():
                v = float(v)
                # quadrature noise (1e-17) reads as a real constant; show it as 0
                text = "0" if abs(v) < 1e-12 else f"{v:.5g}"
                rows.append(f"<tr><td>{k}</td><td>{text}</td></tr>")
            rows.append("</table>")
        rows.append(f"<b>Sizes</b>: p = {m.p}, n = {m.n}, n0 = "
                    f"{'∞' if m.n0 is None else m.n0}, λ_int = {m.lam_int:.4g}")
        for title, obj in (("spectrum", p.theory_spectrum), ("ridge", p.theory_ridge)):
            if obj is None:
                continue
            c = obj.convergence
            status = "converged" if c.success else "<span style='color:#E57373'>FAILED</span>"
            rows.append(f"<br><b>Theory {title}</b>: {status}, {c.n_iter} iterations, "
                        f"residual {c.residual:.2g}"
                        + (f"<br><small>{c.message}</small>" if c.message else ""))
        if p.theory_spectrum is not None:
            ts = p.theory_spectrum
            edges = "; ".join(f"[{lo:.4g}, {hi:.4g}]" for lo, hi in np.atleast_2d(ts.edges))
            rows.append(f"<br>bulk support {edges}; mass {ts.mass:.4f}"
                        + (f"; atom at 0: {ts.atom_zero:.3g}" if ts.atom_zero > 0 else ""))
            if len(ts.outliers):
                rows.append(f"<br>outliers (order p): {_fmt_array(ts.outliers)}")
        if p.theory_ridge is not None:
            r = p.theory_ridge
            rows.append(f"<br><b>Errors</b>: test {r.test_error:.4g}, train {r.train_error:.4g}"
                        f" (bias {r.bias:.4g}, variance {r.variance:.4g})")
            if p.theory_ridge_rf is not None:
                rows.append(f"; random features test {p.theory_ridge_rf.test_error:.4g}")
            if r.warnings and r.test_error_finite_p is not None:
                # A weak mean direction makes the asymptotic value optimistic at this p
                # (docs/model.md#known-limits): show the finite-p treatment beside it.
                train_fp = ("" if r.train_error_finite_p is None
                            else f", train {r.train_error_finite_p:.4g}")
                rows.append(f"<br>at p = {m.p} (weak mean directions not stiff): test "
                            f"{r.test_error_finite_p:.4g}{train_fp}")
        warnings = list(self._warnings)
        if p.theory_ridge is not None:
            warnings += [w for w in p.theory_ridge.warnings if w not in warnings]
        if m.residual == "full":
            warnings.append("residual 'full' is beyond the theory: the curves are the "
                            "labels-mode theory (docs/model.md#network-to-srf-mapping)")
        if warnings:
            rows.append("<br><b style='color:#FFB74D'>Warnings</b><ul>"
                        + "".join(f"<li>{w}</li>" for w in warnings) + "</ul>")
        if self._message and self._message != "ok":
            rows.append(f"<br><small>{self._message}</small>")
        self.setHtml("".join(rows))
