"""engine.views: the theory and simulation halves of every view, and their files."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from engine import runner, views
from engine.config import ALaw, Config, Curve, ModelConfig, NumericsConfig, RunConfig, Sweep
from engine.spectra import split_outliers

FAST = NumericsConfig(q_kappa=40, q_inner=40, q2=20, n_grid=150)


def _config(**run) -> Config:
    model = ModelConfig(d=80, beta=1.0, alpha=2.0, eta_tilde=2.0, lam=0.1, noise=0.1)
    defaults = {"kind": "spectrum", "simulate": ("network", "srf"), "seeds": (0, 1),
                "n_test": 400}
    defaults.update(run)
    return Config(model=model, run=RunConfig(**defaults), numerics=FAST)


@pytest.fixture(scope="module")
def single() -> tuple[Config, views.TheoryBundle, list[str]]:
    config = _config()
    stages: list[str] = []
    bundle = views.compute_theory(config, on_stage=lambda s, b: stages.append(s))
    return config, bundle, stages


def test_compute_theory_stages_and_snapshot(single):
    config, bundle, stages = single
    # no sweep: the run's own point is the snapshot, drawn once complete
    assert stages == ["snapshot", "extras"]
    (point,) = bundle.snapshot
    for attr in ("theory_spectrum", "theory_spectrum_before", "theory_weights",
                 "theory_ridge", "theory_ridge_rf", "expressivity", "srf_params"):
        assert getattr(point, attr) is not None, attr
    assert point.theory_spectrum_before.model.eta_tilde == 0.0
    assert [s.eta_tilde for s in bundle.tail] == [0.0, 1.0, 2.0, 4.0]
    assert len(bundle.learning) == 1 and bundle.learning[0].alpha.size == views.LEARNING_POINTS
    assert [s.eta_tilde for s in bundle.learned] == [0.0, 1.0, 2.0]
    assert not bundle.warnings


def test_theory_views_hold_the_bundle_numbers(single):
    config, bundle, _ = single
    v = views.theory_views(bundle)
    point = bundle.snapshot[0]
    spec = v.spectrum.theory[0]
    assert np.array_equal(spec.after.x, point.theory_spectrum.grid)
    assert np.array_equal(spec.before.y, point.theory_spectrum_before.density)
    # the outliers shown are right of the bulk
    assert np.all(spec.outliers > spec.edges[:, 1].max())
    tables = v.spectrum.tables()
    assert {"theory_after", "theory_before", "outliers"} <= tables.keys()
    tail = v.tail.theory
    assert [t.current for t in tail] == [False, False, True, False]
    lc = v.learning_curves
    assert lc.param == "alpha" and lc.current is not None
    assert lc.current[2] == pytest.approx(point.theory_ridge.test_error)
    np.testing.assert_allclose(lc.theory[0].x_per_p, bundle.learning[0].alpha / config.model.beta)
    assert v.weights.theory is not None and v.weights.theory.gamma == 1.0
    assert v.expressivity.theory.mu0.shape[0] == 1
    assert len(v.learned_function.theory) == 3 and v.learned_function.target is not None
    for name in views.Views.NAMES:
        for key, (cols, rows) in v.view(name).tables().items():
            assert rows.ndim == 2 and rows.shape[1] == len(cols), (name, key)


def test_weak_mean_directions_are_not_called_outliers():
    # K = 4 relu law at a small step: most mean directions fall inside the bulk
    model = ModelConfig(d=300, beta=1.5, alpha=1.5, eta_tilde=0.5, lam=0.01, sigma="relu",
                        sigma_star="tanh",
                        a_law=ALaw((-1.341641, -0.447214, 0.447214, 1.341641), (0.25,) * 4))
    bundle = views.compute_theory(Config(model=model, numerics=FAST), extras=False)
    spec = views.theory_views(bundle).spectrum.theory[0]
    right = spec.edges[:, 1].max()
    assert spec.inside_bulk.size >= 1 and np.all(spec.inside_bulk <= right)
    assert np.all(spec.outliers > right)
    everything = np.asarray(bundle.snapshot[0].theory_spectrum.outliers)
    assert spec.outliers.size + spec.inside_bulk.size == everything.size


def test_sweep_run_is_drawn_before_the_snapshot():
    config = _config(kind="errors", sweep=Sweep("alpha", (0.5, 1.0, 2.0)))
    stages: list[str] = []
    bundle = views.compute_theory(config, on_stage=lambda s, b: stages.append(s),
                                  extras=False)
    assert stages == ["run", "snapshot"]
    v = views.theory_views(bundle)
    lc = v.learning_curves
    assert lc.param == "alpha" and lc.current is None  # the run's own curve, not the automatic
    ridges = [p.theory_ridge.test_error for p in bundle.run.curves[0].points]
    np.testing.assert_allclose(lc.theory[0].test, ridges)
    np.testing.assert_allclose(lc.theory[0].x_per_p, [0.5, 1.0, 2.0])


@pytest.fixture(scope="module")
def simulated() -> tuple[Config, object]:
    config = _config(kind="errors", sweep=Sweep("alpha", (1.0, 2.0)), theory=False)
    return config, runner.run(config)


def test_simulation_views_seed_statistics(simulated):
    config, result = simulated
    v = views.simulation_views(result)
    net = next(s for s in v.learning_curves.sims if s.model == "network")
    for i, point in enumerate(result.curves[0].points):
        vals = np.array([s.test_error for s in point.sims["network"]])
        assert net.test_mean[i] == pytest.approx(vals.mean())
        assert net.test_std[i] == pytest.approx(vals.std(ddof=1))
    np.testing.assert_allclose(net.x, [1.0, 2.0])
    assert net.n_seeds == 2 and v.seeds == (0, 1)
    # the spectrum-like views show the point at the panel's alpha (2.0)
    (ci, _label, chosen), = views.selected_points(result, config)
    assert chosen.value == 2.0
    other = config.with_model(alpha=1.0)
    assert views.selected_points(result, other)[0][2].value == 1.0
    learned = {s.model: s for s in v.learned_function.sims}
    seeds = chosen.sims["srf"]
    means = np.array([s.fhat_mean for s in seeds])
    both = np.all(np.isfinite(means), axis=0)  # bins empty in a seed are NaN there
    np.testing.assert_allclose(learned["srf"].mean[both], means[:, both].mean(axis=0))


def test_spectrum_histograms_are_normalised_by_all_eigenvalues():
    config = _config(seeds=(3,), theory=False)
    result = runner.run(config)
    seed = result.curves[0].points[0].sims["network"][0]
    sim = next(s for s in views.simulation_views(result).spectrum.sims if s.model == "network")
    bulk, outliers = split_outliers(seed.eigenvalues)
    assert np.array_equal(np.sort(sim.outliers), np.sort(outliers))
    for h in (sim.after, sim.after_log):
        mass = float(np.sum(h.density * np.diff(h.edges)))
        inside = np.count_nonzero((bulk >= h.edges[0]) & (bulk <= h.edges[-1]))
        assert mass == pytest.approx(inside / seed.eigenvalues.size, rel=1e-9)
    # geometric bins: equal ratios, three decades at most
    ratios = sim.after_log.edges[1:] / sim.after_log.edges[:-1]
    assert np.allclose(ratios, ratios[0])
    assert sim.after_log.edges[-1] / sim.after_log.edges[0] <= 10 ** views.LOG_DECADES * 1.001
    assert sim.before is not None  # eta_tilde > 0: the spectrum before the step too


def test_combine_and_matching(simulated):
    config, result = simulated
    bundle = views.compute_theory(config, extras=False)
    both = views.combine(views.theory_views(bundle), views.simulation_views(result), config)
    assert both.learning_curves.theory and both.learning_curves.sims
    assert views.simulation_matches(result.config, config)
    assert views.simulation_matches(result.config, config.with_run(seeds=(5,)))
    assert views.simulation_matches(result.config, replace(config, numerics=NumericsConfig()))
    assert not views.simulation_matches(result.config, config.with_model(eta_tilde=2.5))
    assert not views.simulation_matches(result.config, config.with_run(
        sweep=Sweep("alpha", (1.0, 3.0))))
    curves = config.with_run(curves=(Curve("step", (("eta_tilde", 2.0),)),))
    assert not views.simulation_matches(result.config, curves)
    alone = views.combine(views.theory_views(bundle), None, config)
    assert not alone.learning_curves.sims and alone.seeds == ()


def test_merged_result_has_theory_and_simulations(simulated):
    config, result = simulated
    bundle = views.compute_theory(config, extras=False)
    merged = views.merged_result(bundle.run, result)
    for p_m, p_s, p_t in zip(merged.curves[0].points, result.curves[0].points,
                             bundle.run.curves[0].points, strict=True):
        assert p_m.sims is p_s.sims
        assert p_m.theory_ridge is p_t.theory_ridge
    assert views.merged_result(None, result) is result
    assert views.merged_result(bundle.run, None) is bundle.run


def test_partial_result_keeps_completed_points(simulated):
    config, result = simulated
    first = result.curves[0].points[0]
    part = views.partial_result(config, {(0, 0): first})
    assert part.curves[0].points == (first,)
    v = views.simulation_views(part, config)
    assert v.learning_curves.sims[0].x.tolist() == [1.0]


def test_view_files_hold_the_tables(single, simulated):
    config, bundle, _ = single
    v = views.theory_views(bundle)
    files = views.view_files(v, {"app_version": "x"})
    assert sorted(files) == sorted(f"view_{n}.json" for n in views.Views.NAMES)
    doc = json.loads(files["view_spectrum.json"])
    assert doc["view"] == "spectrum" and doc["provenance"] == {"app_version": "x"}
    cols, rows = v.spectrum.tables()["theory_after"]
    assert doc["tables"]["theory_after"]["columns"] == cols
    np.testing.assert_array_equal(np.array(doc["tables"]["theory_after"]["rows"]), rows)
