"""Presets of docs/user-guide.md#presets load as valid configs with the table's parameters."""

from __future__ import annotations

import pytest

from engine.activations import hermite_constants
from engine.errors import ConfigError
from engine.presets import default_preset, list_presets, load_preset


def test_every_preset_loads() -> None:
    names = list_presets()
    assert len(names) == 10
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


def test_presets_are_found_by_display_name_file_stem_or_file_name():
    from engine.presets import find_preset, preset_info

    info = preset_info("Dandi et al. spectrum")
    assert (info.file, info.stem) == ("dandi_spectrum.json", "dandi_spectrum")
    assert find_preset("dandi_spectrum") == info == find_preset("dandi_spectrum.json")
    assert find_preset("nope") is None
    assert load_preset("dandi_spectrum") == load_preset("Dandi et al. spectrum")


def test_presets_are_package_data_not_paths_next_to_the_code():
    from importlib.resources import files

    from engine.presets import RESOURCE_PACKAGE, preset_infos

    for info in preset_infos():
        assert info.resource.is_file(), info.file
        assert info.resource.read_bytes() == (files(RESOURCE_PACKAGE) / "presets" /
                                              info.file).read_bytes()
        assert info.description


def test_examples_load_by_name():
    from engine.presets import find_example, list_examples, load_example

    assert list_examples() == ["quick_errors", "quick_spectrum"]
    assert load_example("quick_errors").model.d == 300
    assert load_example("quick_spectrum.json").run.kind == "spectrum"
    assert find_example("dandi_spectrum") is None  # a preset, not an example
    with pytest.raises(ConfigError, match="example must be one of quick_errors"):
        load_example("nope")


def test_a_broken_preset_names_itself(monkeypatch, tmp_path):
    """Presets go through the strict reader: a duplicate key is refused, naming the preset."""
    import engine.presets as presets

    (tmp_path / "presets").mkdir()
    (tmp_path / "presets" / "index.json").write_text(
        '{"default": "Bad", "presets": [{"name": "Bad", "file": "bad.json"}]}')
    (tmp_path / "presets" / "bad.json").write_text('{"schema": 1, "schema": 1}')
    monkeypatch.setattr(presets, "resource_root", lambda: tmp_path)
    presets._index.cache_clear()
    try:
        with pytest.raises(ConfigError, match="preset 'Bad'.*twice"):
            presets.load_preset("Bad")
    finally:
        presets._index.cache_clear()


def test_the_user_guide_lists_every_preset():
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "user-guide.md").read_text(
        encoding="utf-8")
    section = guide.split("\n## Presets\n", 1)[1].split("\n## ", 1)[0]
    for name in list_presets():
        assert f"| {name} |" in section, name


def test_every_preset_opens_on_a_real_view_and_names_its_figure():
    from engine.presets import preset_infos
    from engine.views import Views

    for info in preset_infos():
        assert info.tab in Views.NAMES, info.name
        assert set(info.view) <= set(Views.NAMES), info.name
        assert "arXiv:" in info.description or "baseline" in info.description, info.name
    tabs = {i.name: i.tab for i in preset_infos()}
    assert tabs["Cui et al. learning curves"] == "learning_curves"
    assert tabs["Expressivity (He2 target)"] == "expressivity"
    cui = next(i for i in preset_infos() if i.name == "Cui et al. learning curves")
    assert cui.view["learning_curves"]["options"]["log_x"] is True


def test_vocabularies_are_visibly_distinct():
    # The preset is named for "a richer second-layer law learns more": the theory's test
    # errors of k = 1, 2, 4 atoms must be ordered and apart, not equal to three decimals.
    from engine.theory import solve_ridge

    voc = load_preset("Dandi et al. vocabularies")
    for alpha in (0.45, 1.5, 3.75):
        errors = [solve_ridge(m.with_(alpha=alpha)).test_error
                  for _, m in voc.curve_models()]
        assert errors[0] > errors[1] > errors[2], errors
        assert errors[1] - errors[2] > 0.05 and errors[0] - errors[1] > 0.05, errors
