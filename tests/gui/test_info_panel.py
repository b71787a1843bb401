"""The side panel: the equivalent spiked model and what the theory says, in words."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.config import Config, ModelConfig, NumericsConfig, RunConfig
from engine.runner import run_theory
from gui.info_panel import InfoPanel, fmt


def _point(model: ModelConfig):
    cfg = Config(model=model, run=RunConfig(kind="spectrum", simulate=()),
                 numerics=NumericsConfig(q_kappa=40, q_inner=60, n_grid=100))
    return run_theory(cfg).curves[0].points[0]


@pytest.fixture
def panel(qtbot) -> InfoPanel:
    p = InfoPanel()
    qtbot.addWidget(p)
    return p


def test_weak_mean_direction_shows_the_finite_p_errors(panel) -> None:
    # K = 3 relu law: docs/model.md#known-limits, the asymptotic error is optimistic at this p.
    weak = ModelConfig(d=500, sigma="relu", sigma_star="relu", eta_tilde=3.0, lam=0.2,
                       noise=0.1).with_(a_law={"values": [1.0, -1.0, 0.5],
                                                "probs": [0.4, 0.4, 0.2]})
    point = _point(weak)
    ridge = point.theory_ridge
    assert ridge.warnings and ridge.test_error_finite_p is not None
    panel.set_theory(point)
    text = panel.toPlainText()
    assert f"at p = {weak.p} (weak mean directions not stiff): test " \
           f"{ridge.test_error_finite_p:.4g}" in text
    assert f"test error {ridge.test_error:.4g}" in text
    assert "Warnings" in text


def test_quantities_in_words_not_code_names(panel) -> None:
    point = _point(ModelConfig(d=500, eta_tilde=1.0, lam=0.2, noise=0.1))
    assert not point.theory_ridge.warnings
    panel.set_theory(point, label="")
    text = panel.toPlainText()
    for code in ("mu0_star", "var_fprime", "r_eff_full_residual", "mus2_star", "nv ", "s0 "):
        assert code not in text
    assert "μ₁*" in text and "linear part of the target" in text
    assert "spike: u_k = η̃ a_k r₀" in text
    assert "γ" in text and "overlap ⟨v, θ⟩" in text
    assert "not stiff" not in text
    assert f"test error {point.theory_ridge.test_error:.4g}" in text
    assert f"λ_int = λ p/n = {point.model.lam_int:.4g}" in text
    # quadrature noise reads as 0, not as a constant of 1e-17
    assert "e-17" not in text and "e-16" not in text
    assert "docs/model.md#network-to-srf-mapping" in panel.toHtml()


def test_a_failed_theory_never_reads_converged(panel) -> None:
    point = _point(ModelConfig(d=500, eta_tilde=1.0))
    failed = replace(point, theory_spectrum=None,
                     theory_error="curve 1/1, spectrum after the step: Newton stalled")
    panel.set_theory(failed)
    text = panel.toPlainText()
    assert "failed" in text and "Newton stalled" in text
    assert "converged" not in text
    panel.set_failure("LinAlgError: Singular matrix")
    assert "The theory failed" in panel.toPlainText()
    assert "converged" not in panel.toPlainText()


def test_number_format() -> None:
    assert fmt(3.14159265) == "3.142"
    assert fmt(1e-17) == "0"
    assert fmt(float("nan")) == "—"
    assert fmt(123456.0) == "1.235e+05"
