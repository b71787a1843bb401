"""Two-parameter grids: the theory row by row (engine.grids) and a grid run's JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from random_features_theory import random_features_errors

from engine import theory
from engine.config import Config, Grid, GridAxis, ModelConfig, NumericsConfig
from engine.errors import Cancelled, ConvergenceError
from engine.grids import grid_theory, spectral_summary
from engine.json_result import result_to_json
from engine.progress import CancelToken
from engine.runner import run

#: Theory numerics that keep a cell at a few milliseconds.
FAST = NumericsConfig(q_kappa=40, q_inner=40, q2=20, n_grid=150)
MODEL = ModelConfig(d=200, sigma="tanh", sigma_star="tanh", lam=0.1, noise=0.1)
GRID = Grid(GridAxis("alpha", (0.5, 1.0, 2.0, 4.0)), GridAxis("eta_tilde", (0.0, 1.5, 3.0)))


def test_cells_equal_a_cold_solve_of_that_cell_alone():
    result = grid_theory(MODEL, GRID, FAST)
    test, train, rf = (result.array(k) for k in ("test_error", "train_error", "rf_test_error"))
    assert test.shape == train.shape == rf.shape == (3, 4)
    for iy, ix in [(0, 0), (1, 2), (2, 3), (2, 0)]:
        cell = MODEL.with_(alpha=GRID.x.values[ix], eta_tilde=GRID.y.values[iy])
        alone = theory.solve_ridge(cell, FAST)  # cold start, no warm neighbour
        assert test[iy, ix] == pytest.approx(alone.test_error, rel=1e-8)
        assert train[iy, ix] == pytest.approx(alone.train_error, rel=1e-8)
        baseline = theory.solve_ridge(cell.with_(eta_tilde=0.0), FAST)
        assert rf[iy, ix] == pytest.approx(baseline.test_error, rel=1e-8)
    # eta_tilde = 0 is the baseline itself; gain = baseline - test
    np.testing.assert_allclose(test[0], rf[0], rtol=1e-8)
    np.testing.assert_allclose(result.array("gain"), rf - test)
    assert result.failures == []


def test_rows_stream_in_order_with_progress():
    rows, fractions = [], []
    grid_theory(MODEL, GRID, FAST, quantities=("ridge",), on_row=rows.append,
                progress=lambda f, m: fractions.append(f))
    assert [r.iy for r in rows] == [0, 1, 2]
    assert [r.y for r in rows] == list(GRID.y.values)
    assert all(len(r.ridge) == 4 and r.ridge_rf == () for r in rows)
    assert fractions == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert np.isnan(rows[0].rf_test_error).all()  # not asked for


def test_cancel_between_rows():
    token = CancelToken()
    rows = []

    def on_row(row):
        rows.append(row)
        token.set()

    with pytest.raises(Cancelled):
        grid_theory(MODEL, GRID, FAST, on_row=on_row, cancel=token)
    assert len(rows) == 1


def test_a_failure_is_pinned_to_its_cell(monkeypatch):
    real = theory.solve_ridge

    def fragile(model, numerics=None, *, warm=None, errors_only=False):
        if model.alpha == 2.0 and model.eta_tilde == 1.5:
            raise ConvergenceError("Newton stalled at residual 1e-3")
        return real(model, numerics, warm=warm)

    def curve(*args, **kwargs):
        raise ConvergenceError("learning curve failed")

    monkeypatch.setattr(theory, "solve_ridge", fragile)
    monkeypatch.setattr(theory, "learning_curve", curve)
    result = grid_theory(MODEL, GRID, FAST, quantities=("ridge",))
    test = result.array("test_error")
    assert np.isnan(test[1, 2]) and np.isfinite(np.delete(test.ravel(), 1 * 4 + 2)).all()
    assert result.rows[1].failures[2].startswith("ridge errors: Newton stalled")
    assert len(result.failures) == 1


def test_spectrum_summaries_match_the_full_spectrum():
    grid = Grid(GridAxis("eta_tilde", (0.5, 3.0)), GridAxis("beta", (0.5, 1.5)))
    result = grid_theory(MODEL, grid, FAST, quantities=("spectrum",))
    edge, n_out = result.array("edge_right"), result.array("n_outliers")
    for iy, beta in enumerate(grid.y.values):
        for ix, eta in enumerate(grid.x.values):
            full = theory.solve_spectrum(MODEL.with_(beta=beta, eta_tilde=eta), FAST)
            summary = spectral_summary(full)
            # the quick edge estimate: ~2 % relative accuracy
            assert edge[iy, ix] == pytest.approx(summary[0], rel=0.03)
            assert n_out[iy, ix] == summary[1]
    assert np.isnan(result.array("test_error")).all()


def _grid_config(kind="errors", simulate=("network", "srf"), seeds=(0, 1), curves=None,
                 theory_on=True, d=60):
    run_doc = {"kind": kind, "simulate": list(simulate), "seeds": list(seeds),
               "theory": theory_on, "n_test": 300,
               "grid": {"x": {"param": "alpha", "values": [0.5, 1.0, 2.0]},
                        "y": {"param": "eta_tilde", "values": [0.0, 2.0]}}}
    if curves:
        run_doc["curves"] = curves
    return Config.from_dict({"model": {"d": d, "noise": 0.1}, "run": run_doc,
                             "numerics": FAST.to_dict()})


def test_grid_run_json_nests_every_quantity_iy_ix():
    cfg = _grid_config()
    points = []
    result = run(cfg, on_point=lambda c, i, p: points.append(i))
    assert sorted(points) == list(range(6))
    js = result_to_json(result)
    json.dumps(js, allow_nan=False)
    assert js["grid"] == {"x": {"param": "alpha", "values": [0.5, 1.0, 2.0]},
                          "y": {"param": "eta_tilde", "values": [0.0, 2.0]}}
    assert "sweep" not in js
    for key in ("test_error", "train_error", "rf_test_error", "gamma"):
        assert np.shape(js["theory"][key]) == (2, 3), key
    for name in ("network", "srf"):
        assert np.shape(js[name]["test_error"]) == (2, 3, 2)
        assert js[name]["seeds"] == [0, 1]
    assert np.shape(js["theory_error"]) == (2, 3)
    # [iy][ix] is the point (ix, iy) of the run
    pts = result.curves[0].points
    for iy in range(2):
        for ix in range(3):
            pt = pts[iy * 3 + ix]
            assert pt.value == (cfg.run.grid.x.values[ix], cfg.run.grid.y.values[iy])
            assert js["theory"]["test_error"][iy][ix] == pt.theory_ridge.test_error
            assert js["network"]["test_error"][iy][ix] == [s.test_error
                                                           for s in pt.sims["network"]]


def test_spectrum_grid_reports_summaries_not_densities():
    cfg = _grid_config(kind="spectrum", simulate=("srf",), seeds=(0,), d=300)
    js = result_to_json(run(cfg))
    assert set(js["theory"]) == {"edge_right", "n_outliers", "outlier_max", "gamma"}
    assert np.shape(js["theory"]["edge_right"]) == (2, 3)
    assert all(isinstance(v, int) for row in js["theory"]["n_outliers"] for v in row)
    assert np.shape(js["srf"]["edge_right"]) == (2, 3, 1)
    assert "eigenvalues" not in js["srf"] and "density" not in js["theory"]
    # the simulated bulk edge sits below the theory's, near it at d = 300 (the largest of
    # p eigenvalues falls short of the edge by O(p^(-2/3)) relative: 15 % is generous)
    th = np.array(js["theory"]["edge_right"], float)
    sim = np.array(js["srf"]["edge_right"], float)[..., 0]
    np.testing.assert_allclose(sim, th, rtol=0.15)
    assert np.array_equal(np.array(js["srf"]["n_outliers"])[..., 0],
                          np.array(js["theory"]["n_outliers"]))


def test_each_curve_holds_its_own_grid():
    cfg = _grid_config(simulate=(), curves=[{"label": "lam 0.01", "set": {"lam": 0.01}},
                                            {"label": "lam 1", "set": {"lam": 1.0}}])
    js = result_to_json(run(cfg))
    assert [c["label"] for c in js["curves"]] == ["lam 0.01", "lam 1"]
    for c in js["curves"]:
        assert c["grid"] == js["grid"] and np.shape(c["theory"]["test_error"]) == (2, 3)
    a = np.array(js["curves"][0]["theory"]["test_error"])
    b = np.array(js["curves"][1]["theory"]["test_error"])
    assert not np.allclose(a, b)


def test_rows_on_two_workers_equal_rows_in_process():
    from engine.execution import Execution

    serial = grid_theory(MODEL, GRID, FAST)
    seen = []
    parallel = grid_theory(MODEL, GRID, FAST, execution=Execution.local(2),
                           on_row=lambda row: seen.append(row.iy))
    assert sorted(seen) == [0, 1, 2]
    for name in ("test_error", "train_error", "rf_test_error", "gamma"):
        np.testing.assert_allclose(parallel.array(name), serial.array(name), rtol=1e-12)


def test_a_grid_run_by_the_command_line_matches_an_independent_theory(tmp_path):
    """Random features (``eta_tilde = 0``) over (alpha, beta), with a step as a second
    curve: its baseline column ``rf_test_error`` is the same independent value."""
    alphas, betas = [0.4, 1.5, 4.0], [0.5, 2.0]
    lam, noise = 0.3, 0.2
    doc = {"model": {"sigma": "tanh", "sigma_star": "tanh", "lam": lam, "noise": noise},
           "run": {"kind": "errors", "theory": True, "simulate": [],
                   "grid": {"x": {"param": "alpha", "values": alphas},
                            "y": {"param": "beta", "values": betas}},
                   "curves": [{"label": "no step", "set": {"eta_tilde": 0.0}},
                              {"label": "step", "set": {"eta_tilde": 2.0}}]}}
    path = tmp_path / "grid.json"
    path.write_text(json.dumps(doc))
    proc = subprocess.run([sys.executable, "-m", "engine", "run", str(path), "--json"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    no_step, step = (c["theory"] for c in json.loads(proc.stdout)["curves"])
    for iy, beta in enumerate(betas):
        for ix, alpha in enumerate(alphas):
            test, train = random_features_errors(np.tanh, np.tanh, alpha=alpha, beta=beta,
                                                 lam_int=lam * beta / alpha, noise=noise)
            where = f"alpha={alpha}, beta={beta}"
            assert no_step["test_error"][iy][ix] == pytest.approx(test, rel=1e-7), where
            assert no_step["train_error"][iy][ix] == pytest.approx(train, rel=1e-7), where
            assert step["rf_test_error"][iy][ix] == pytest.approx(test, rel=1e-7), where
            assert step["test_error"][iy][ix] < test, where  # tanh/tanh: the step helps
