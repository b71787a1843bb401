"""Configuration: every validation rule, round trip, migrations, unknown keys."""

from __future__ import annotations

import json

import pytest

from engine import config as config_mod
from engine.config import ALaw, Config, ModelConfig, NumericsConfig, RunConfig
from engine.config_rules import SCHEMA
from engine.errors import ConfigError

SPEC_EXAMPLE = {
    "schema": 1,
    "model": {
        "d": 1000, "beta": 1.0, "alpha": 2.0, "alpha0": None,
        "eta_tilde": 3.0, "lam": 0.1, "noise": 0.0,
        "sigma": "tanh", "sigma_star": "tanh",
        "a_law": {"values": [1.0, -1.0], "probs": [0.5, 0.5]},
        "w_init": "sphere", "residual": "labels",
    },
    "run": {
        "kind": "spectrum",
        "sweep": {"param": "alpha", "values": [0.5, 1.0, 2.0, 4.0]},
        "theory": True, "simulate": ["network", "srf"],
        "seeds": [0, 1, 2],
    },
}


def _with(section: str, key: str, value: object) -> dict:
    data = json.loads(json.dumps(SPEC_EXAMPLE))
    data[section][key] = value
    return data


def test_spec_example_parses_and_round_trips() -> None:
    cfg = Config.from_dict(SPEC_EXAMPLE)
    assert cfg.model.p == 1000 and cfg.model.n == 2000 and cfg.model.n0 is None
    assert cfg.model.a_law.K == 2
    assert cfg.run.sweep is not None and cfg.run.sweep.values == (0.5, 1.0, 2.0, 4.0)
    again = Config.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg


def test_derived_integers_and_lam_mapping() -> None:
    m = ModelConfig(d=500, beta=1.5, alpha=0.7, alpha0=4.0, lam=0.2)
    assert (m.p, m.n, m.n0) == (750, 350, 2000)
    # docs/model.md#conventions: lam_int = lam * p / n
    assert m.lam_int == pytest.approx(0.2 * 750 / 350)


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("model", "beta", -1, "model.beta must be > 0, got -1 (allowed: a number in (0, 100])"),
        ("model", "alpha", 0, "model.alpha must be > 0, got 0"),
        ("model", "d", 5, "model.d must be >= 10, got 5 (allowed: an integer in [10, 20000])"),
        ("model", "d", 100.5, "model.d must be an integer, got 100.5"),
        ("model", "alpha0", -2.0, "model.alpha0 must be > 0"),
        ("model", "eta_tilde", -0.5,
         "model.eta_tilde must be >= 0, got -0.5 (allowed: a number in [0, 100])"),
        ("model", "lam", -0.1, "model.lam must be >= 0"),
        ("model", "noise", -1.0, "model.noise must be >= 0"),
        ("model", "noise", "big", "model.noise must be a number in [0, 1e+06], got 'big'"),
        ("model", "beta", float("nan"), "model.beta must be a finite number, got nan"),
        ("model", "sigma", "tanhh", "model.sigma is not a known activation"),
        ("model", "sigma_star", "os.system('x')", "model.sigma_star is not a known activation"),
        ("model", "w_init", "uniform",
         "model.w_init must be one of sphere, gaussian, got 'uniform'"),
        ("model", "residual", "both", "model.residual must be one of labels, full"),
        ("model", "foo", 1, "model.foo is not a known key"),
        ("run", "kind", "histogram", "run.kind must be one of spectrum, weights, errors"),
        ("run", "simulate", ["network", "mlp"], "run.simulate[1] must be one of network, srf"),
        ("run", "seeds", [],
         "run.seeds must be a list of 1 to 1000 distinct integers in [0, 4294967295], got []"),
        ("run", "seeds", [-1], "run.seeds[0] must be >= 0, got -1 (allowed: an integer in [0, "),
        ("run", "theory", "yes", "run.theory must be true or false"),
        ("run", "sweep", {"param": "gamma", "values": [1]}, "run.sweep.param must be one of"),
        ("run", "sweep", {"param": "alpha", "values": [1, -2]},
         "run.sweep.values[1] must be > 0"),
        ("run", "memory_fraction", 1.5,
         "run.memory_fraction must be <= 1, got 1.5 (allowed: a number in [0.01, 1])"),
        ("run", "bar", 1, "run.bar is not a known key"),
    ],
)
def test_each_rule_names_key_value_and_range(section, key, value, expected) -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_dict(_with(section, key, value))
    assert expected in str(info.value)
    assert info.value.key.startswith(f"{section}.{key}")


@pytest.mark.parametrize(
    ("a_law", "expected"),
    [
        ({"values": [1.0, -1.0], "probs": [0.5, 0.6]}, "model.a_law.probs must sum to 1"),
        ({"values": [1.0, -1.0], "probs": [1.0]}, "model.a_law.probs must be a list of 2"),
        ({"values": [1.0, 1.0], "probs": [0.5, 0.5]}, "model.a_law.values must be distinct"),
        ({"values": [], "probs": []}, "model.a_law.values must be a list of 1 to"),
        ({"values": [1.0, 2.0], "probs": [1.0, 0.0]}, "model.a_law.probs[1] must be > 0"),
        ({"values": [1.0], "weights": [1.0]}, "model.a_law.weights is not a known key"),
    ],
)
def test_a_law_rules(a_law, expected) -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_dict(_with("model", "a_law", a_law))
    assert expected in str(info.value)


def test_a_law_default_probs_uniform() -> None:
    law = ALaw.from_dict({"values": [1.0, 2.0, 3.0, 4.0]})
    assert law.probs == (0.25, 0.25, 0.25, 0.25)


def test_unknown_top_level_key_and_non_object() -> None:
    with pytest.raises(ConfigError, match="config.extra is not a known key"):
        Config.from_dict({**SPEC_EXAMPLE, "extra": 1})
    with pytest.raises(ConfigError, match="must be a JSON object"):
        Config.from_dict([1, 2])


def test_numerics_rules() -> None:
    with pytest.raises(ConfigError, match=r"numerics.q_kappa must be >= 20, got 5 \(allowed: "
                                          r"an integer in \[20, 400\]\)"):
        Config.from_dict({**SPEC_EXAMPLE, "numerics": {"q_kappa": 5}})
    assert NumericsConfig().q_kappa == 80


def test_future_schema_is_refused_and_missing_schema_is_current() -> None:
    with pytest.raises(ConfigError, match="schema 2 is newer"):
        Config.from_dict({**SPEC_EXAMPLE, "schema": SCHEMA + 1})
    data = dict(SPEC_EXAMPLE)
    del data["schema"]
    assert Config.from_dict(data).schema == SCHEMA


def test_migration_hook_runs_registered_steps(monkeypatch) -> None:
    # A schema-0 document that called eta_tilde "eta" is migrated by a registered step.
    def zero_to_one(doc: dict) -> dict:
        doc["model"]["eta_tilde"] = doc["model"].pop("eta")
        return doc

    monkeypatch.setitem(config_mod.MIGRATIONS, 0, zero_to_one)
    old = json.loads(json.dumps(SPEC_EXAMPLE))
    old["schema"] = 0
    old["model"]["eta"] = old["model"].pop("eta_tilde")
    cfg = Config.from_dict(old)
    assert cfg.model.eta_tilde == 3.0 and cfg.schema == SCHEMA
    assert "eta" in old["model"], "migration must not modify the caller's document"


def test_old_schema_without_migration_path_is_refused() -> None:
    with pytest.raises(ConfigError, match="schema -1 cannot be migrated"):
        Config.from_dict({**SPEC_EXAMPLE, "schema": -1})


def test_curves_are_validated_against_the_model() -> None:
    data = _with("run", "curves", [{"label": "bad", "set": {"beta": -2}}])
    with pytest.raises(ConfigError, match=r"run.curves\[0\].set.beta must be > 0, got -2") as info:
        Config.from_dict(data)
    assert info.value.key == "run.curves[0].set.beta"
    data = _with("run", "curves", [{"label": "x", "set": {"nope": 1}}])
    with pytest.raises(ConfigError, match="run.curves\\[0\\].set.nope is not a known key"):
        Config.from_dict(data)


def test_alpha0_sweep_accepts_large_batch_none() -> None:
    cfg = Config.from_dict(_with("run", "sweep", {"param": "alpha0", "values": [None, 4, 16]}))
    assert cfg.run.sweep.values == (None, 4.0, 16.0)


def test_nothing_to_compute_is_an_error() -> None:
    with pytest.raises(ConfigError, match="run.simulate must name at least one model"):
        RunConfig(theory=False, simulate=())


def test_with_revalidates() -> None:
    m = ModelConfig()
    with pytest.raises(ConfigError, match="model.beta must be > 0"):
        m.with_(beta=0.0)
    assert m.with_(a_law={"values": [2.0], "probs": [1.0]}).a_law.values == (2.0,)


def test_from_json_reports_bad_json(tmp_path) -> None:
    path = tmp_path / "c.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        Config.from_json(path)


def test_points_expand_curves_times_sweep_in_order():
    from engine.config import Config, Curve, ModelConfig, RunConfig, Sweep

    config = Config(ModelConfig(d=100, eta_tilde=3.0),
                    RunConfig(kind="errors", sweep=Sweep("alpha", (0.5, 1.0, 2.0)),
                              curves=(Curve("no step", (("eta_tilde", 0.0),)),
                                      Curve("alpha0 = 5", (("alpha0", 5.0),)))))
    pts = config.points()
    assert [(p.curve, p.index) for p in pts] == [(c, i) for c in range(2) for i in range(3)]
    assert [p.value for p in pts[:3]] == [0.5, 1.0, 2.0]
    assert pts[1].model.alpha == 1.0 and pts[1].model.eta_tilde == 0.0
    assert pts[4].label == "alpha0 = 5" and pts[4].model.alpha0 == 5.0
    assert pts[4].model.eta_tilde == 3.0
    single = Config(ModelConfig(d=100)).points()
    assert len(single) == 1 and single[0].value is None and single[0].label == ""
    assert single[0].model == ModelConfig(d=100)
