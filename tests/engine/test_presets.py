"""Presets of docs/user-guide.md#presets load as valid configs with the table's parameters."""

from __future__ import annotations

import pytest

from engine.activations import hermite_constants
from engine.errors import ConfigError
from engine.presets import default_preset, list_presets, load_preset


def test_every_preset_loads() -> None:
    names = list_presets()
    assert len(names) == 9
    assert default_preset() in names
    for name in names:
        cfg = load_preset(name)
        assert cfg.model.d == 1000


def test_dandi_spectrum_preset_matches_spec_table() -> None:
    m = load_preset("Dandi et al. spectrum").model
    assert (m.sigma, m.sigma_star, m.beta, m.lam, m.noise) == ("relu", "tanh", 1.5, 0.01, 0.0)
    assert m.n / m.p == pytest.approx(1.0)  # n/p = 1
    r = m.eta_tilde * hermite_constants("relu").mu1 * hermite_constants("tanh").mu1
    assert r == pytest.approx(1.0, abs=0.01)  # "spike r ≈ 1"


def test_multi_curve_presets() -> None:
    cui = load_preset("Cui et al. learning curves")
    assert [c.label for c in cui.run.curves] == ["no step", "alpha0 = 5", "alpha0 = 10",
                                                 "alpha0 = 20"]
    assert cui.run.kind == "errors" and cui.run.sweep.param == "alpha"
    assert min(cui.run.sweep.values) == pytest.approx(0.2)
    assert max(cui.run.sweep.values) == pytest.approx(3.0)
    voc = load_preset("Dandi et al. vocabularies")
    ks = [len(dict(c.set)["a_law"].values) for c in voc.run.curves]
    assert ks == [1, 2, 4]
    for c in voc.run.curves:
        law = dict(c.set)["a_law"]
        assert sum(p * v * v for v, p in zip(law.values, law.probs, strict=True)) == \
            pytest.approx(1.0, abs=1e-5)


def test_unknown_preset_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="preset must be one of Random features"):
        load_preset("nope")
