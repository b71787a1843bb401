"""The phase diagram's view: a grid's theory and simulations as maps, streamed by rows."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from engine import theory, views
from engine.config import Config, Grid, GridAxis, ModelConfig, NumericsConfig, RunConfig
from engine.grids import grid_theory
from engine.runner import run
from engine.views.phase import _contour_field, _levels

#: Theory numerics that keep a cell at a few milliseconds.
FAST = NumericsConfig(q_kappa=40, q_inner=40, q2=20, n_grid=150)
MODEL = ModelConfig(d=60, sigma="tanh", sigma_star="tanh", lam=0.1, noise=0.1, alpha=2.0,
                    eta_tilde=2.0, alpha0=None)
#: alpha geometric (a log axis), eta_tilde through 0 (random features, a linear axis)
GRID = Grid(GridAxis("alpha", (0.5, 1.0, 2.0, 4.0)), GridAxis("eta_tilde", (0.0, 1.5, 3.0)))


def grid_config(grid: Grid = GRID, kind: str = "errors", model: ModelConfig = MODEL,
                **run_fields) -> Config:
    fields = {"kind": kind, "grid": grid, "simulate": (), "seeds": (0,)}
    fields.update(run_fields)
    return Config(model=model, run=RunConfig(**fields), numerics=FAST)


@pytest.fixture(scope="module")
def streamed() -> tuple[Config, list[tuple[str, views.TheoryUpdate]], views.TheoryUpdate]:
    config = grid_config()
    stages: list[tuple[str, views.TheoryUpdate]] = []
    final = views.live_theory(config, on_stage=lambda s, u: stages.append((s, u)),
                              extras=False)
    return config, stages, final


# =========================================================================== theory


def test_phase_arrays_equal_grid_theory_and_cold_solves(streamed):
    config, _, final = streamed
    phase = final.views.phase
    (th,) = phase.theory
    expected = grid_theory(MODEL, GRID, FAST, quantities=("ridge", "baseline"))
    for name in ("test_error", "train_error", "gain", "gamma", "rf_test_error"):
        np.testing.assert_array_equal(th.values[name], expected.array(name), err_msg=name)
    # an errors run computes no spectral summaries: those maps are empty, not zero
    for name in ("edge_right", "n_outliers", "outlier_max"):
        assert np.isnan(th.values[name]).all(), name
    for iy, ix in [(0, 0), (1, 2), (2, 3), (2, 1)]:
        cell = MODEL.with_(alpha=GRID.x.values[ix], eta_tilde=GRID.y.values[iy])
        alone = theory.solve_ridge(cell, FAST)  # cold, not warm-started along the row
        baseline = theory.solve_ridge(cell.with_(eta_tilde=0.0), FAST)
        assert th.values["test_error"][iy, ix] == pytest.approx(alone.test_error, rel=1e-8)
        assert th.values["train_error"][iy, ix] == pytest.approx(alone.train_error, rel=1e-8)
        assert th.values["gain"][iy, ix] == pytest.approx(
            baseline.test_error - alone.test_error, abs=1e-9)
        assert th.values["gamma"][iy, ix] == theory.equivalent_srf(cell).gamma
    assert th.rows_done == 3 and th.failures == ()


def test_spectrum_grid_maps_edges_and_outliers():
    grid = Grid(GridAxis("eta_tilde", (0.0, 2.0, 4.0)), GridAxis("beta", (0.5, 1.0)))
    config = grid_config(grid, kind="spectrum")
    phase = views.live_theory(config, extras=False).views.phase
    expected = grid_theory(MODEL, grid, FAST, quantities=("spectrum",))
    (th,) = phase.theory
    np.testing.assert_array_equal(th.values["edge_right"], expected.array("edge_right"))
    np.testing.assert_array_equal(th.values["outlier_max"], expected.array("outlier_max"))
    np.testing.assert_array_equal(th.values["n_outliers"], expected.array("n_outliers"))
    assert th.values["n_outliers"][:, 0].tolist() == [0, 0]  # no step, no spike
    assert (th.values["n_outliers"][:, 2] >= 1).all()
    assert np.isnan(th.values["test_error"]).all()  # a spectrum run solves no ridge
    assert phase.kind == "spectrum"


def test_rows_stream_in_order_then_snapshot_at_the_panel(streamed):
    config, stages, final = streamed
    names = [s for s, _ in stages]
    assert names == ["row", "row", "row", "snapshot"]
    for k, (_, update) in enumerate(stages[:3]):
        (th,) = update.views.phase.theory
        assert th.rows_done == k + 1
        test = th.values["test_error"]
        assert np.isfinite(test[:k + 1]).all() and np.isnan(test[k + 1:]).all()
        assert update.bundle.stage == "row" and not update.bundle.snapshot
    # the snapshot is at the panel's parameters, not at a cell of the grid
    (point,) = final.bundle.snapshot
    assert point.model == MODEL and point.theory_spectrum is not None
    assert final.views.learning_curves.current[0] == MODEL.alpha


def test_a_grid_theory_cancels_between_rows():
    from engine.errors import Cancelled
    from engine.progress import CancelToken

    token = CancelToken()
    stages = []

    def on_stage(name: str, bundle: views.TheoryBundle) -> None:
        stages.append(name)
        token.set()  # the user edits a parameter while the first row is drawn

    with pytest.raises(Cancelled):
        views.compute_theory(grid_config(), cancel=token, on_stage=on_stage)
    assert stages == ["row"]


def test_several_curves_stream_curve_by_curve():
    from engine.config import Curve

    config = grid_config(Grid(GridAxis("alpha", (0.5, 1.0)), GridAxis("lam", (0.05, 0.2))),
                         curves=(Curve("a", (("noise", 0.0),)), Curve("b", (("noise", 0.3),))))
    rows = []
    views.compute_theory(config, extras=False, on_stage=lambda s, b: rows.append(
        [len(c.points) for c in b.run.curves]) if s == "row" else None)
    assert rows == [[2, 0], [4, 0], [4, 2], [4, 4]]
    phase = views.live_theory(config, extras=False).views.phase
    assert phase.curves() == [(0, "a"), (1, "b")]
    a, b = (phase.layer("test_error", curve=c).values for c in (0, 1))
    assert np.all(b > a)  # more label noise, larger test error, cell by cell


def test_axes_are_placed_on_true_values():
    log = views.PhaseAxis.of("alpha", (0.5, 1.0, 2.0, 4.0))
    assert log.scale == "log"
    np.testing.assert_allclose(log.centres, np.log10([0.5, 1.0, 2.0, 4.0]))
    np.testing.assert_allclose(np.diff(log.edges), math.log10(2.0))
    assert log.coordinate(2.0) == pytest.approx(math.log10(2.0))
    # cells meet half way in log10: 2.5 is in the cell of 2, 3 (above sqrt(8)) in that of 4
    assert log.index_at(math.log10(2.5)) == 2 and log.index_at(math.log10(3.0)) == 3
    assert log.index_at(math.log10(9.0)) is None
    lin = views.PhaseAxis.of("eta_tilde", (0.0, 1.5, 3.0))
    assert lin.scale == "linear" and lin.edges.tolist() == [-0.75, 0.75, 2.25, 3.75]
    assert lin.index_at(0.8) == 1 and lin.index_at(-1.0) is None
    # rounded geometric values (4 digits) are still geometric
    rounded = tuple(float(f"{v:.4g}") for v in np.geomspace(0.3, 30, 31))
    assert views.PhaseAxis.of("alpha0", rounded).scale == "log"
    uneven = views.PhaseAxis.of("alpha", (0.2, 0.5, 1.0, 3.0))
    assert uneven.scale == "index" and uneven.centres.tolist() == [0, 1, 2, 3]
    assert uneven.coordinate(1.0) == 2.0 and uneven.coordinate(0.7) is None
    batch = views.PhaseAxis.of("alpha0", (1.0, 4.0, None))
    assert batch.scale == "index" and batch.coordinate(None) == 2.0
    assert np.isnan(batch.numbers()[2])


def test_layer_levels_contour_and_cells(streamed):
    config, stages, final = streamed
    phase = final.views.phase
    gain = phase.layer("gain")
    top = np.nanmax(np.abs(gain.values))
    assert gain.levels == (-top, top)  # signed: symmetric about 0
    test = phase.layer("test_error")
    assert test.levels == (np.min(test.values), np.max(test.values))
    assert test.contour.shape == (3, 4) and test.contour_origin == (0, 0)
    # while the map fills, the contour field is the finite block only
    partial = stages[1][1].views.phase.layer("test_error")
    assert partial.contour.shape == (2, 4)
    # the current cell: alpha = 2, eta_tilde = 2 (between the cells 1.5 and 3)
    assert phase.current == pytest.approx((math.log10(2.0), 2.0))
    assert phase.cell_at(math.log10(2.1), 1.7) == (2, 1)
    assert phase.cell_parameters(2, 1) == (("alpha", 2.0), ("eta_tilde", 1.5))
    assert phase.cell_at(5.0, 0.0) is None
    assert phase.layer("test_error", "mean") is None  # no simulation


def test_contour_field_fills_gaps_with_the_nearest_cell():
    values = np.array([[1.0, 2.0, np.nan], [4.0, np.nan, 6.0], [np.nan, np.nan, np.nan]])
    field, origin = _contour_field(values)
    assert origin == (0, 0) and field.shape == (2, 3)
    assert np.isfinite(field).all()
    assert field[0, 2] in (2.0, 6.0) and field[1, 1] in (2.0, 4.0, 6.0)
    assert _contour_field(np.full((3, 3), np.nan))[0] is None
    flat = _levels(np.full((2, 2), 0.3), signed=False)
    assert flat[0] < 0.3 < flat[1]


def test_tables_hold_every_cell(streamed):
    _, _, final = streamed
    tables = final.views.phase.tables()
    cols, rows = tables["theory"]
    assert cols[:4] == ["iy", "ix", "alpha", "eta_tilde"]
    assert set(views.PHASE_QUANTITIES) <= set(cols)
    assert rows.shape == (12, len(cols))
    th = final.views.phase.theory[0]
    k = 1 * 4 + 3  # iy = 1, ix = 3, row by row
    assert rows[k, :4].tolist() == [1, 3, 4.0, 1.5]
    assert rows[k, cols.index("test_error")] == th.values["test_error"][1, 3]
    assert views.PhaseView().tables() == {}
    assert views.theory_views(views.compute_theory(
        Config(model=MODEL, numerics=FAST), extras=False)).phase.tables() == {}


# =========================================================================== simulations


@pytest.fixture(scope="module")
def simulated() -> tuple[Config, views.Views]:
    grid = Grid(GridAxis("alpha", (1.0, 2.0)), GridAxis("eta_tilde", (0.0, 2.0)))
    config = grid_config(grid, simulate=("network",), seeds=(0, 1, 2), n_test=300)
    theory_half = views.live_theory(config, extras=False).views
    result = run(config.with_run(theory=False))
    return config, views.combine(theory_half, views.simulation_views(result, config), config)


def test_simulated_means_and_spreads_are_the_seeds(simulated):
    config, v = simulated
    (sim,) = v.phase.sims
    assert sim.model == "network" and sim.n_seeds.tolist() == [[3, 3], [3, 3]]
    assert sim.simulated_baseline  # eta_tilde = 0 is a row of the grid
    result = run(config.with_run(theory=False))
    for (iy, ix), point in zip([(0, 0), (0, 1), (1, 0), (1, 1)], result.curves[0].points,
                               strict=True):
        test = np.array([s.test_error for s in point.sims["network"]])
        train = np.array([s.train_error for s in point.sims["network"]])
        assert sim.mean["test_error"][iy, ix] == pytest.approx(test.mean(), rel=1e-12)
        assert sim.std["test_error"][iy, ix] == pytest.approx(test.std(ddof=1), rel=1e-12)
        assert sim.mean["train_error"][iy, ix] == pytest.approx(train.mean(), rel=1e-12)
        # the gain seed by seed, against the same seed's random features (eta_tilde = 0)
        base = np.array([s.test_error for s in result.curves[0].points[ix].sims["network"]])
        assert sim.mean["gain"][iy, ix] == pytest.approx((base - test).mean(), abs=1e-12)
        assert sim.std["gain"][iy, ix] == pytest.approx((base - test).std(ddof=1), abs=1e-12)
    mean = v.phase.layer("gain", "mean")
    assert mean.baseline == "simulated" and mean.n_seeds is sim.n_seeds
    np.testing.assert_array_equal(v.phase.layer("test_error", "spread").values,
                                  sim.std["test_error"])
    cols, rows = v.phase.tables()["sim_network"]
    assert rows.shape == (4, len(cols)) and "gain_mean" in cols and "test_error_std" in cols
    assert rows[:, cols.index("gain_baseline (1 simulated eta_tilde = 0, 0 theory)")].tolist() \
        == [1.0] * 4


def test_simulated_gain_without_random_feature_cells_uses_the_theory():
    grid = Grid(GridAxis("alpha", (1.0, 2.0)), GridAxis("eta_tilde", (1.0, 2.0)))
    config = grid_config(grid, simulate=("network",), seeds=(0, 1), n_test=300)
    result = run(config.with_run(theory=False))
    sim_half = views.simulation_views(result, config)
    assert views.combine(None, sim_half, config).phase.layer("gain", "mean") is None
    theory_half = views.live_theory(config, extras=False).views
    phase = views.combine(theory_half, sim_half, config).phase
    (sim,) = phase.sims
    assert not sim.simulated_baseline
    gain = phase.layer("gain", "mean")
    assert gain.baseline == "theory"
    np.testing.assert_allclose(gain.values, phase.theory[0].values["rf_test_error"]
                               - sim.mean["test_error"])
    np.testing.assert_array_equal(gain.spread, sim.std["test_error"])
    # a simulation alone still has the grid's axes
    assert views.combine(None, sim_half, config).phase.x.param == "alpha"


def test_partial_simulations_leave_cells_empty(simulated):
    config, _ = simulated
    result = run(config.with_run(theory=False))
    first = result.curves[0].points[3]  # the last cell only, as a worker may finish it
    part = views.partial_result(config, {(0, 3): first})
    (sim,) = views.simulation_views(part, config).phase.sims
    assert sim.n_seeds.tolist() == [[0, 0], [0, 3]]
    assert np.isnan(sim.mean["test_error"][0]).all()
    assert np.isfinite(sim.mean["test_error"][1, 1])


def test_other_views_show_the_cell_at_the_panel(simulated):
    config, _ = simulated
    result = run(config.with_run(theory=False))
    at = views.selected_points(result, config.with_model(alpha=1.9, eta_tilde=0.1))
    assert at[0][2].value == (2.0, 0.0)
    at = views.selected_points(result, config.with_model(alpha=1.1, eta_tilde=1.8))
    assert at[0][2].value == (1.0, 2.0)
    # a grid's errors are not drawn against alpha: they are the phase diagram's
    assert views.simulation_views(result, config).learning_curves.sims == ()


# =========================================================================== reuse


def test_a_grid_whose_cells_did_not_change_is_not_solved_again(streamed, monkeypatch):
    config, _, final = streamed
    moved = config.with_model(alpha=4.0, eta_tilde=1.5)  # a click on cell (3, 1)
    assert views.reusable_run(final.bundle, moved) is not None
    for other in (config.with_model(lam=0.2), replace(config, numerics=NumericsConfig()),
                  config.with_run(kind="spectrum")):
        assert views.reusable_run(final.bundle, other) is None
    partial = views.TheoryBundle(config=config, run=final.bundle.run, stage="row")
    assert views.reusable_run(partial, moved) is None  # an unfinished grid

    calls = []
    monkeypatch.setattr("engine.views.theory.run_theory", lambda *a, **k: calls.append(a))
    stages = []
    again = views.live_theory(moved, extras=False, previous=final.bundle,
                              on_stage=lambda s, u: stages.append(s))
    assert calls == [] and stages == ["snapshot"]
    np.testing.assert_array_equal(again.views.phase.theory[0].values["test_error"],
                                  final.views.phase.theory[0].values["test_error"])
    assert again.views.phase.current == pytest.approx((math.log10(4.0), 1.5))
    assert again.bundle.snapshot[0].model == moved.model


# =========================================================================== the preset


def test_phase_preset_shows_where_the_step_beats_random_features():
    from engine.presets import load_preset, preset_info

    info = preset_info("Phase diagram: gain over random features")
    assert info.tab == "phase"
    assert info.view["phase"]["options"] == {"quantity": "gain", "contour": True,
                                             "contour_level": 0.0}
    config = load_preset(info.name)
    grid = config.run.grid
    assert (grid.x.param, grid.y.param) == ("alpha0", "eta_tilde")
    assert config.run.simulate == ()  # theory only until the user asks
    assert views.PhaseAxis.of(grid.x.param, grid.x.values).scale == "log"
    # the zero contour crosses the map: a small batch with a large step loses, a large
    # batch wins at every step (corners of the grid, solved alone)
    m = config.model

    def gain(alpha0: float, eta: float) -> float:
        cell = m.with_(alpha0=alpha0, eta_tilde=eta)
        return (theory.solve_ridge(cell.with_(eta_tilde=0.0), FAST).test_error
                - theory.solve_ridge(cell, FAST).test_error)

    assert gain(grid.x.values[0], grid.y.values[-1]) < -0.05
    assert gain(grid.x.values[-1], grid.y.values[-1]) > 0.05
    assert gain(grid.x.values[-1], grid.y.values[0]) > 0.05
