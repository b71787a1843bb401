"""The side panel: the equivalent spiked model, the theory's state and errors, in words.

Every quantity is shown with its symbol, what it is, and a value with sensible digits;
each section links to the part of the documentation that defines it. A failed theory
says so in words — never "converged".
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTextBrowser, QWidget

from engine.glossary import CONSTANTS, SRF_PARAMETERS, SRF_SCALARS, Quantity
from engine.results import PointResult

FAIL = "#E57373"
WARN = "#FFB74D"


def fmt(x: Any, digits: int = 4) -> str:
    """A number with ``digits`` significant digits; round-off noise (< 1e-12) as 0."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return html.escape(str(x))
    if not math.isfinite(v):
        return "—"
    if abs(v) < 1e-12:
        return "0"
    return f"{v:.{digits}g}"


def fmt_list(values: Iterable[Any], digits: int = 4) -> str:
    return ", ".join(fmt(v, digits) for v in np.atleast_1d(np.asarray(list(values), float)))


def _row(q: Quantity, value: str) -> str:
    return (f"<tr><td><b>{html.escape(q.symbol)}</b></td>"
            f"<td>{html.escape(q.meaning)}</td><td align='right'>{value}</td></tr>")


def _section(title: str, link: str) -> str:
    return (f"<h4 style='margin-bottom:2px'>{html.escape(title)} "
            f"<small><a href='{link}'>(docs)</a></small></h4>")


class InfoPanel(QTextBrowser):
    """The theory at the parameters on screen (first curve), in words."""

    #: A link to the documentation was clicked: ``docs/<page>#<anchor>``.
    sig_doc_link = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("infoPanel")
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._on_anchor_clicked)
        self._point: PointResult | None = None
        self._label = ""
        self._warnings: list[str] = []
        self._failure = ""
        self.setHtml("<i>waiting for the theory…</i>")

    def set_theory(self, point: PointResult | None, label: str = "",
                   warnings: Sequence[str] = ()) -> None:
        """Show the theory of ``point`` (the snapshot of the first curve)."""
        self._point, self._label = point, label
        self._warnings = list(warnings)
        self._failure = ""
        self._render()

    def set_failure(self, text: str) -> None:
        """The theory could not be computed at all: say why."""
        self._failure = text
        self._render()

    def _on_anchor_clicked(self, url: Any) -> None:
        self.sig_doc_link.emit(url.toString())

    # ------------------------------------------------------------------ rendering
    def _render(self) -> None:
        if self._failure:
            self.setHtml(f"<p style='color:{FAIL}'><b>The theory failed</b>: "
                         f"{html.escape(self._failure)}</p>")
            return
        p = self._point
        if p is None:
            self.setHtml("<i>no theory yet</i>")
            return
        parts = [self._srf_html(p), self._constants_html(p), self._sizes_html(p),
                 self._spectrum_html(p), self._errors_html(p), self._warnings_html(p)]
        self.setHtml("".join(parts))

    def _srf_html(self, p: PointResult) -> str:
        out = [_section("Equivalent spiked random-features model",
                        "docs/model.md#network-to-srf-mapping"),
               "<small>F = √c W₀ + u vᵀ: the network after its step, row class by class"]
        m = p.model
        if self._label:
            out.append(f"; curve “{html.escape(self._label)}”")
        out.append(f" (η̃ = {fmt(m.eta_tilde)}, α₀ = "
                   f"{'∞ (large batch)' if m.alpha0 is None else fmt(m.alpha0)})</small>")
        sp = p.srf_params
        if sp is None:
            return "".join(out)
        out.append("<table cellspacing='3'>")
        for name, q in SRF_PARAMETERS.items():
            out.append(_row(q, fmt_list(getattr(sp, name))))
        for name, q in SRF_SCALARS.items():
            out.append(_row(q, fmt(getattr(sp, name))))
        out.append("</table>")
        return "".join(out)

    def _constants_html(self, p: PointResult) -> str:
        sp = p.srf_params
        if sp is None or not sp.constants:
            return ""
        out = [_section("Hermite constants (z ~ N(0, 1))", "docs/model.md#conventions"),
               "<table cellspacing='3'>"]
        for name, value in sp.constants.items():
            if name in CONSTANTS:
                out.append(_row(CONSTANTS[name], fmt(value)))
        out.append("</table>")
        return "".join(out)

    def _sizes_html(self, p: PointResult) -> str:
        m = p.model
        n0 = "∞" if m.n0 is None else str(m.n0)
        return (_section("Sizes", "docs/model.md#conventions")
                + f"p = {m.p} neurons, n = {m.n} readout samples, n₀ = {n0} first-batch "
                  f"samples; ridge λ = {fmt(m.lam)} (sum convention), "
                  f"λ_int = λ p/n = {fmt(m.lam_int)}")

    def _spectrum_html(self, p: PointResult) -> str:
        ts = p.theory_spectrum
        out = [_section("Spectrum of ΦᵀΦ/n", "docs/model.md#spectrum-of-the-feature-covariance")]
        if ts is None:
            out.append(self._missing(p, "spectrum"))
            return "".join(out)
        edges = "; ".join(f"[{fmt(lo)}, {fmt(hi)}]" for lo, hi in np.atleast_2d(ts.edges))
        c = ts.convergence
        out.append(f"solved: {c.n_iter} Newton iterations, residual {fmt(c.residual, 2)}<br>"
                   f"bulk support {edges}; total mass {fmt(ts.mass)}")
        if ts.atom_zero > 0:
            out.append(f"; atom at 0 of mass {fmt(ts.atom_zero, 3)}")
        if len(ts.outliers):
            out.append(f"<br>mean directions (order p): {fmt_list(ts.outliers)}")
        return "".join(out)

    def _errors_html(self, p: PointResult) -> str:
        r = p.theory_ridge
        out = [_section("Ridge readout errors", "docs/model.md#ridge-errors")]
        if r is None:
            out.append(self._missing(p, "ridge"))
            return "".join(out)
        out.append(f"test error {fmt(r.test_error)} (bias {fmt(r.bias)} + variance "
                   f"{fmt(r.variance)}), training error {fmt(r.train_error)}")
        if p.theory_ridge_rf is not None:
            out.append(f"<br>random features (η̃ = 0): test error "
                       f"{fmt(p.theory_ridge_rf.test_error)}")
        if r.warnings and r.test_error_finite_p is not None:
            # A weak mean direction makes the asymptotic value optimistic at this p: show
            # the finite-p treatment beside it (docs/model.md#known-limits).
            train = ("" if r.train_error_finite_p is None
                     else f", train {fmt(r.train_error_finite_p)}")
            out.append(f"<br>at p = {p.model.p} (weak mean directions not stiff): test "
                       f"{fmt(r.test_error_finite_p)}{train}")
        return "".join(out)

    @staticmethod
    def _missing(p: PointResult, what: str) -> str:
        if p.theory_error:
            return (f"<span style='color:{FAIL}'>not computed: the theory failed — "
                    f"{html.escape(p.theory_error)}</span>")
        return f"<i>no {what} at this run kind</i>"

    def _warnings_html(self, p: PointResult) -> str:
        warnings = list(self._warnings)
        if p.theory_ridge is not None:
            warnings += [w for w in p.theory_ridge.warnings if w not in warnings]
        if p.model.residual == "full":
            warnings.append("residual 'full' is beyond the theory: the curves are the "
                            "labels-mode theory (docs/model.md#known-limits)")
        if not warnings:
            return ""
        items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        return f"<h4 style='color:{WARN}'>Warnings</h4><ul>{items}</ul>"
