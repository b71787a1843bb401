"""engine.spectra: outlier separation, histograms, Kolmogorov distances."""

from __future__ import annotations

import numpy as np
import pytest

from engine.spectra import (
    empirical_cdf_distance,
    histogram,
    ks_distance,
    robust_bulk_edge,
    split_outliers,
)


def _mp_eigs(p=400, n=800, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, p))
    return np.linalg.eigvalsh(X.T @ X / n)


def test_split_outliers_finds_planted_order_p_values():
    ev = _mp_eigs()
    planted = np.concatenate([ev[:-2], [40.0, 120.0]])
    bulk, out = split_outliers(planted)
    np.testing.assert_array_equal(out, [120.0, 40.0])  # largest first
    assert bulk.size == ev.size - 2 and np.all(np.diff(bulk) >= 0)


def test_split_outliers_keeps_a_pure_bulk_and_a_long_thin_tail():
    ev = _mp_eigs()
    assert split_outliers(ev)[1].size == 0
    # A thin right tail reaching 1.6x the robust edge is bulk, not outliers.
    edge = robust_bulk_edge(ev)
    tail = np.concatenate([ev, np.linspace(edge, 1.6 * edge, 5)])
    assert split_outliers(tail)[1].size == 0


def test_split_outliers_caps_and_degenerate_inputs():
    ev = np.concatenate([np.ones(100), 1000.0 + np.arange(30.0)])
    assert split_outliers(ev, max_outliers=16)[1].size <= 16
    bulk, out = split_outliers(np.zeros(50))
    assert out.size == 0 and bulk.size == 50
    bulk, out = split_outliers(np.array([]))
    assert bulk.size == out.size == 0


def test_histogram_is_a_density_of_all_given_values():
    ev = np.random.default_rng(1).uniform(0, 2, 10_000)
    edges, dens = histogram(ev, bins=20, range=(0.0, 1.0))
    assert edges.shape == (21,) and dens.shape == (20,)
    # Half the values fall inside: the density integrates to 1/2 (not renormalised).
    assert np.sum(dens * np.diff(edges)) == pytest.approx(0.5, abs=0.02)
    assert dens.mean() == pytest.approx(0.5, rel=0.05)
    edges, dens = histogram(ev, bins=10)
    assert np.sum(dens * np.diff(edges)) == pytest.approx(1.0)


def test_ks_distance_against_a_known_cdf():
    rng = np.random.default_rng(2)
    grid = np.linspace(0, 1, 201)
    sample = rng.uniform(0, 1, 4000)
    d = ks_distance(sample, grid, grid)
    # Kolmogorov: sqrt(N) D is O(1); P(sqrt(N) D > 1.95) < 1e-3.
    assert d < 1.95 / np.sqrt(sample.size)
    # A shifted CDF is detected at its true distance 0.1.
    assert ks_distance(sample, grid, np.clip(grid - 0.1, 0, 1)) == pytest.approx(0.1, abs=0.03)
    # Exact value on a tiny sample: points 0.25, 0.75 vs uniform CDF -> D = 0.25.
    assert ks_distance(np.array([0.25, 0.75]), grid, grid) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        ks_distance(np.array([]), grid, grid)


def test_two_sample_distance():
    a = np.arange(10.0)
    assert empirical_cdf_distance(a, a) == 0.0
    assert empirical_cdf_distance(a, a + 100) == 1.0


def test_ccdf_from_density_matches_closed_forms():
    from engine.spectra import ccdf_from_density

    grid = np.linspace(0.0, 2.0, 201)
    # uniform density on [0, 2]: P(lambda >= x) = 1 - x/2
    np.testing.assert_allclose(ccdf_from_density(grid, np.full(201, 0.5)), 1 - grid / 2,
                               atol=1e-12)
    # exponential density (unnormalised on the grid): normalised tail mass
    g = np.linspace(0.0, 10.0, 4001)
    tail = ccdf_from_density(g, 3.0 * np.exp(-g))
    exact = (np.exp(-g) - np.exp(-10.0)) / (1 - np.exp(-10.0))
    np.testing.assert_allclose(tail, exact, atol=1e-5)
    assert np.all(ccdf_from_density(grid, np.zeros(201)) == 0)
