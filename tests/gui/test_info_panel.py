"""The side panel of the equivalent spiked model: what the theory says, in words."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from engine.config import Config, ModelConfig, NumericsConfig, RunConfig  # noqa: E402
from engine.runner import run_theory  # noqa: E402
from gui.widgets import InfoPanel  # noqa: E402


def _point(model: ModelConfig):
    cfg = Config(model=model, run=RunConfig(kind="errors", simulate=()),
                 numerics=NumericsConfig(q_kappa=40, q_inner=60, n_grid=100))
    return run_theory(cfg).curves[0].points[0]


def test_weak_mean_direction_shows_the_finite_p_errors(qtbot) -> None:
    # K = 3 relu law: docs/model.md#known-limits, the asymptotic error is optimistic at this p.
    weak = ModelConfig(d=500, sigma="relu", sigma_star="relu", eta_tilde=3.0, lam=0.2,
                       noise=0.1).with_(a_law={"values": [1.0, -1.0, 0.5],
                                                "probs": [0.4, 0.4, 0.2]})
    point = _point(weak)
    ridge = point.theory_ridge
    assert ridge.warnings and ridge.test_error_finite_p is not None
    panel = InfoPanel()
    qtbot.addWidget(panel)
    panel.set_theory(point)
    text = panel.toPlainText()
    assert f"at p = {weak.p} (weak mean directions not stiff): test " \
           f"{ridge.test_error_finite_p:.4g}" in text
    assert f"test {ridge.test_error:.4g}" in text


def test_no_finite_p_line_without_a_warning(qtbot) -> None:
    point = _point(ModelConfig(d=500, eta_tilde=1.0, lam=0.2, noise=0.1))
    assert not point.theory_ridge.warnings
    panel = InfoPanel()
    qtbot.addWidget(panel)
    panel.set_theory(point)
    assert "not stiff" not in panel.toPlainText()
    assert f"test {point.theory_ridge.test_error:.4g}" in panel.toPlainText()
