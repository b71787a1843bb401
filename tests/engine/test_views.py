"""engine.views: the theory and simulation halves of every view, and their files."""

from __future__ import annotations

import json
import math
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


# --------------------------------------------------------------------------- frames


@pytest.fixture(scope="module")
def spectrum_views() -> views.Views:
    config = _config(seeds=(3, 4))
    result = runner.run(config.with_run(theory=False))
    bundle = views.compute_theory(config, extras=False)
    return views.combine(views.theory_views(bundle), views.simulation_views(result), config)


def _positive_bins(h: views.Histogram, lo: float, hi: float) -> np.ndarray:
    centres = 0.5 * (h.edges[:-1] + h.edges[1:])
    keep = (h.density > 0) & (centres >= lo) & (centres <= hi)
    return h.density[keep]


def test_spectrum_frames_show_the_bulk(spectrum_views):
    sp = spectrum_views.spectrum
    edge = sp.right_edge()
    (x0, x1), (y0, y1) = sp.frame()
    assert (x0, x1) == (0.0, pytest.approx(1.08 * edge)) and (y0, y1) == (0.0, sp.y_top)
    # log x: from the first geometric bin
    (x0, _), _ = sp.frame(log_x=True)
    assert x0 == min(s.after_log.edges[0] for s in sp.sims)
    # log y: a floor below every bin drawn (the histograms are filled down to it)
    (x0, x1), (y0, y1) = sp.frame(log_y=True)
    bins = np.concatenate([_positive_bins(h, x0, x1) for s in sp.sims
                           for h in (s.after, s.before) if h is not None])
    assert 0 < y0 < bins.min() and y1 >= bins.max()


def test_spectrum_tail_frame_is_around_the_right_edge(spectrum_views):
    sp = spectrum_views.spectrum
    edge = sp.right_edge()
    (x0, x1), (y0, y1) = sp.frame(tail=True)
    assert (x0, x1) == (pytest.approx(views.TAIL_FRAME[0] * edge),
                        pytest.approx(views.TAIL_FRAME[1] * edge))
    bins = np.concatenate([_positive_bins(h, x0, x1) for s in sp.sims
                           for h in (s.after, s.before) if h is not None])
    theory = np.concatenate([ln.y[(ln.x >= x0) & (ln.x <= x1)] for t in sp.theory
                             for ln in (t.after, t.before)])
    assert 0 < y0 < bins.min() and y1 > max(bins.max(), theory.max())
    assert y1 / y0 >= 100  # a log density axis: at least two decades


def test_spectrum_frame_without_theory_or_anything(spectrum_views):
    sims_only = views.SpectrumView(sims=spectrum_views.spectrum.sims)
    (x0, x1), (y0, y1) = sims_only.frame()
    top = max(h.edges[-1] for s in sims_only.sims for h in (s.after, s.before))
    assert x1 == pytest.approx(1.08 * top) and y1 > 0
    assert views.SpectrumView().frame() is None
    assert views.SpectrumView().outlier_span() is None


def test_spectrum_outlier_span_and_curves(spectrum_views):
    sp = spectrum_views.spectrum
    values = np.concatenate([*(t.outliers for t in sp.theory), *(s.outliers for s in sp.sims)])
    assert sp.outlier_span() == (values.min(), values.max())
    assert sp.curves() == [(0, "")]


def test_tail_markers_keep_the_tail(spectrum_views):
    sim = spectrum_views.tail.sims[0]
    lam, frac = sim.markers(max_points=40)
    assert lam.size <= 40 and lam.size < sim.eigenvalues.size
    # the largest eigenvalues (the tail) are all kept, with their fractions
    top = np.sort(sim.eigenvalues)[::-1][:10]
    assert set(top) <= set(lam)
    for value, f in zip(lam, frac, strict=True):
        assert f == pytest.approx(np.mean(sim.eigenvalues >= value))
    lam, _ = sim.markers(max_points=10_000)
    assert lam.size == sim.eigenvalues.size


def test_tail_frame_is_the_top_decades(spectrum_views):
    tail = spectrum_views.tail
    (x0, x1), (y0, y1) = tail.frame()
    top = max(s.eigenvalues.max() for s in tail.sims)
    assert x1 >= top and x0 == pytest.approx(x1 / 1.3 * 10.0 ** -views.LOG_DECADES)
    assert y0 == pytest.approx(0.5 * min(s.fraction.min() for s in tail.sims)) and y1 > 1
    assert views.TailView().frame() is None
    theory_only = views.TailView(theory=tail.theory)
    assert theory_only.frame()[1][0] == views.TAIL_FLOOR


def test_weights_and_learned_function_frames(single):
    _config_, bundle, _ = single
    v = views.theory_views(bundle)
    (x0, x1), (y0, y1) = v.weights.frame()
    assert x0 == 0 and x1 >= v.weights.theory.density.x[-1] and y1 == v.weights.theory.y_top
    assert views.WeightsView().frame() is None
    lf = v.learned_function
    (k0, k1), (lo, hi) = lf.frame()
    assert (k0, k1) == (-views.LEARNED_KAPPA_SPAN, views.LEARNED_KAPPA_SPAN)
    inside = np.abs(lf.target.x) <= views.LEARNED_KAPPA_SPAN
    assert lo <= lf.target.y[inside].min() and hi >= lf.target.y[inside].max()
    density = lf.kappa_density()
    # the standard Gaussian density: its mass within the span
    mass = np.trapezoid(density.y, density.x)
    assert mass == pytest.approx(math.erf(views.LEARNED_KAPPA_SPAN / math.sqrt(2)), abs=1e-4)
    assert views.LearnedFunctionView().frame() is None
