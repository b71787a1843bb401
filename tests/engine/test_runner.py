"""engine.runner: loops, progress, cancel, theory failures, JSON output."""

from __future__ import annotations

import json
import types

import numpy as np
import pytest

import engine.runner as runner
from engine.config import Config
from engine.errors import Cancelled, ConvergenceError
from engine.json_result import result_to_json
from engine.progress import CancelToken
from engine.results import Convergence, TheoryRidge, TheorySpectrum


def _config(kind="errors", sweep=None, curves=None, simulate=("network", "srf"), seeds=(0, 1),
            theory=True, d=60, **model):
    run = {"kind": kind, "simulate": list(simulate), "seeds": list(seeds), "theory": theory,
           "n_test": 400}
    if sweep is not None:
        run["sweep"] = sweep
    if curves is not None:
        run["curves"] = curves
    m = {"d": d, "beta": 1.0, "alpha": 1.5, "eta_tilde": 2.0, "noise": 0.1}
    m.update(model)
    return Config.from_dict({"schema": 1, "model": m, "run": run})


def _ridge(model, err=0.5):
    conv = Convergence(True, 3, 1e-12, "ok")
    k = np.linspace(-3, 3, 5)
    return TheoryRidge(model, err, err / 2, err, 0.0, np.zeros(1), np.zeros(1), k, k, k, (),
                       conv)


def _fake_theory(fail_at=None):
    """A stand-in for engine.theory; ``fail_at(model)`` -> True raises ConvergenceError."""
    calls = []

    def check(model, what):
        calls.append((what, model))
        if fail_at is not None and fail_at(model):
            raise ConvergenceError(f"{what}: Newton stalled at residual 1e-3 after 50 "
                                   f"iterations (tried damping 0.5, 0.25)")

    def equivalent_srf(model):
        from engine.theory import equivalent_srf as real

        return real(model)

    def solve_spectrum(model, numerics=None, *, centred=False, progress=None, cancel=None):
        check(model, "spectrum")
        g = np.linspace(0, 3, 10)
        return TheorySpectrum(model, g, np.ones(10) / 3, np.array([[0.0, 3.0]]), 0.0,
                              np.array([50.0]), np.zeros(0), 1.0,
                              Convergence(True, 5, 1e-12, "ok"))

    def solve_ridge(model, numerics=None, *, warm=None, errors_only=False):
        check(model, "ridge")
        return _ridge(model, 0.3 + 0.1 * model.alpha)

    def learning_curve(model, param, values, numerics=None, *, progress=None, cancel=None,
                       errors_only=False):
        out = []
        for v in values:
            m = model.with_(**{param: v})
            check(m, "learning curve")
            out.append(_ridge(m, 0.3 + 0.1 * m.alpha))
        return tuple(out)

    def weights_theory(model):
        return None

    def expressivity(model, numerics=None):
        return None

    return types.SimpleNamespace(equivalent_srf=equivalent_srf, solve_spectrum=solve_spectrum,
                                 solve_ridge=solve_ridge, learning_curve=learning_curve,
                                 weights_theory=weights_theory, expressivity=expressivity,
                                 calls=calls)


def _install(monkeypatch, fake):
    """Replace the theory functions the runner calls by the stand-in's."""
    for name in ("solve_spectrum", "solve_ridge", "learning_curve", "weights_theory",
                 "expressivity"):
        monkeypatch.setattr(runner.theory, name, getattr(fake, name))


def test_errors_sweep_runs_every_point_and_seed(monkeypatch):
    fake = _fake_theory()
    _install(monkeypatch, fake)
    cfg = _config(sweep={"param": "alpha", "values": [0.5, 1.0, 2.0]})
    fractions, messages, points = [], [], []
    res = runner.run(cfg, progress=lambda f, m: (fractions.append(f), messages.append(m)),
                     on_point=lambda c, i, p: points.append((c, i, p.value)))
    assert res.success and res.message == "ok"
    assert points == [(0, 0, 0.5), (0, 1, 1.0), (0, 2, 2.0)]
    curve = res.curves[0]
    for pt, v in zip(curve.points, (0.5, 1.0, 2.0), strict=True):
        assert pt.model.alpha == v
        assert [s.seed for s in pt.sims["network"]] == [0, 1]
        assert [s.seed for s in pt.sims["srf"]] == [0, 1]
        assert pt.theory_ridge.test_error == pytest.approx(0.3 + 0.1 * v)
        assert pt.theory_ridge_rf.model.eta_tilde == 0.0
        assert pt.sims["network"][0].test_error > 0
        assert pt.sims["network"][0].eigenvalues is None  # kind "errors": no spectrum
    # Learning curves used (warm starts), not one solve per point.
    assert sum(1 for w, _ in fake.calls if w == "learning curve") == 6
    assert all(b >= a - 1e-12 for a, b in zip(fractions, fractions[1:], strict=False))
    assert fractions[-1] == pytest.approx(1.0)
    assert any("alpha = 1" in m and "network seed 2/2" in m for m in messages)
    assert res.versions.keys() == {"app", "python", "numpy", "scipy"}
    assert res.started[:2] == "20"


def test_convergence_error_is_recorded_and_run_continues(monkeypatch):
    fake = _fake_theory(fail_at=lambda m: m.alpha == 1.0)
    _install(monkeypatch, fake)
    cfg = _config(sweep={"param": "alpha", "values": [0.5, 1.0, 2.0]}, seeds=(0,),
                  simulate=("network",))
    res = runner.run(cfg)
    assert not res.success
    pts = res.curves[0].points
    assert pts[0].theory_error is None and pts[2].theory_error is None
    assert "alpha = 1" in pts[1].theory_error and "Newton stalled" in pts[1].theory_error
    assert pts[1].sims["network"][0].test_error is not None  # simulation still done
    assert "did not converge" in res.message and "alpha = 1" in res.message
    js = result_to_json(res)
    assert js["theory"]["test_error"][1] is None
    assert js["theory_error"][1] is not None


def test_curves_and_spectrum_json(monkeypatch):
    _install(monkeypatch, _fake_theory())
    cfg = _config(kind="spectrum", seeds=(3,), curves=[
        {"label": "small step", "set": {"eta_tilde": 0.5}},
        {"label": "large step", "set": {"eta_tilde": 3.0}}])
    res = runner.run(cfg)
    assert [c.label for c in res.curves] == ["small step", "large step"]
    assert res.curves[1].points[0].model.eta_tilde == 3.0
    js = result_to_json(res)
    text = json.dumps(js, allow_nan=False)  # JSON-safe: no NaN anywhere
    assert "NaN" not in text
    assert js["kind"] == "spectrum"
    for key in ("grid", "density", "outliers", "edges"):
        assert key in js["theory"]
    assert len(js["network"]["eigenvalues"]) == 1
    assert len(js["network"]["eigenvalues"][0]) == cfg.model.p
    assert len(js["network"]["eigenvalues_before"][0]) == cfg.model.p
    assert len(js["srf"]["eigenvalues"][0]) == cfg.model.p
    assert [c["label"] for c in js["curves"]] == ["small step", "large step"]
    assert js["label"] == "small step"


def test_errors_json_shape(monkeypatch):
    _install(monkeypatch, _fake_theory())
    cfg = _config(sweep={"param": "lam", "values": [0.01, 1.0]}, seeds=(0, 1, 2))
    js = result_to_json(runner.run(cfg))
    assert js["sweep"] == {"param": "lam", "values": [0.01, 1.0]}
    assert len(js["theory"]["test_error"]) == len(js["theory"]["rf_test_error"]) == 2
    assert np.shape(js["network"]["test_error"]) == (2, 3)
    assert np.shape(js["srf"]["train_error"]) == (2, 3)
    json.dumps(js, allow_nan=False)


def test_weights_kind(monkeypatch):
    _install(monkeypatch, _fake_theory())
    cfg = _config(kind="weights", seeds=(0,), d=80)
    js = result_to_json(runner.run(cfg))
    assert len(js["network"]["weight_eigenvalues"][0]) == cfg.model.p
    assert 0.0 <= js["network"]["spike_overlap"][0] <= 1.0
    assert len(js["srf"]["top_overlaps"][0]) == 5


def test_run_theory_only_and_no_simulation(monkeypatch):
    fake = _fake_theory()
    _install(monkeypatch, fake)
    res = runner.run_theory(_config(kind="spectrum"))
    pt = res.curves[0].points[0]
    assert pt.sims == {}
    assert pt.theory_spectrum is not None and pt.theory_spectrum_before.model.eta_tilde == 0
    assert pt.srf_params is not None


def test_cancel_raises(monkeypatch):
    _install(monkeypatch, _fake_theory())
    token = CancelToken()
    cfg = _config(sweep={"param": "alpha", "values": [0.5, 1.0, 2.0]}, theory=False)
    seen = []

    def on_point(c, i, p):
        seen.append(i)
        token.set()

    with pytest.raises(Cancelled):
        runner.run(cfg, cancel=token, on_point=on_point)
    assert seen == [0]


def test_simulation_reproducible_through_runner():
    cfg = _config(seeds=(5,), theory=False, simulate=("network",))
    a = runner.run(cfg).curves[0].points[0].sims["network"][0]
    b = runner.run(cfg).curves[0].points[0].sims["network"][0]
    assert a.test_error == b.test_error and a.train_error == b.train_error


def test_real_theory_spectrum_agrees_with_simulation():
    # Integration with the real solver: the bulk CDF of the simulated sRF spectrum against
    # the theory's (docs/model.md#validation floor ~0.003 at p = 1000, ~p^-1/2: 6x that floor at p
    # = 400).
    from engine.spectra import ks_distance, split_outliers

    cfg = _config(kind="spectrum", d=400, seeds=(0,), simulate=("srf",), alpha=2.0,
                  eta_tilde=1.0, sigma="tanh", sigma_star="tanh")
    pt = runner.run(cfg).curves[0].points[0]
    ts = pt.theory_spectrum
    assert ts is not None, pt.theory_error
    grid = np.asarray(ts.grid)
    dens = np.asarray(ts.density)
    cdf = ts.atom_zero + np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1])
                                                         * np.diff(grid))])
    bulk, _ = split_outliers(pt.sims["srf"][0].eigenvalues)
    assert ks_distance(bulk, grid, cdf) < 6 * 0.003 * np.sqrt(1000 / cfg.model.p)
