"""The rule tables are the single source: dataclasses, limits and checks all follow them."""

from __future__ import annotations

import json
import math
from dataclasses import MISSING, fields

import pytest

from engine import config_rules as rules_mod
from engine.config import ALaw, Config, ModelConfig, NumericsConfig, RunConfig
from engine.config_rules import A_LAW, LIMITS, MODEL, NUMERICS, RUN, SECTIONS, SWEEPABLE, Rule
from engine.errors import ConfigError

DATACLASSES = [(MODEL, ModelConfig), (RUN, RunConfig), (NUMERICS, NumericsConfig),
               (A_LAW, ALaw)]


@pytest.mark.parametrize(("section", "cls"), DATACLASSES, ids=lambda x: getattr(x, "key", ""))
def test_dataclass_fields_are_the_rules_keys_with_their_defaults(section, cls) -> None:
    assert tuple(f.name for f in fields(cls)) == section.names()
    instance = cls()
    for f in fields(cls):
        rule = section[f.name]
        if f.default is not MISSING:
            assert f.default == rule.default, f.name
        if rule.kind != "object":
            assert getattr(instance, f.name) == rule.default, f.name
        assert rule.meaning, f"{section.key}.{f.name} has no meaning"


def test_every_limit_is_a_documented_module_constant() -> None:
    constants = {name for name in dir(rules_mod) if name.endswith("_MAX")}
    assert constants <= set(LIMITS)
    for name, why in LIMITS.items():
        assert isinstance(getattr(rules_mod, name), (int, float)), name
        assert len(why) > 20, name
    for section in SECTIONS:
        for rule in section:
            assert set(rule.limits) <= set(LIMITS), (section.key, rule.name)


def _scalar_rules() -> list[tuple[str, Rule]]:
    out = []
    for section in (MODEL, RUN, NUMERICS):
        for rule in section:
            if rule.kind in ("number", "integer"):
                out.append((section.key, rule))
    return out


def _outside(rule: Rule) -> list[float]:
    step = 1 if rule.kind == "integer" else 0
    below = rule.lo if rule.lo_open else (rule.lo - step if step else
                                          math.nextafter(rule.lo, -math.inf))
    above = rule.hi + step if step else math.nextafter(rule.hi, math.inf)
    return [below, above]


@pytest.mark.parametrize(("section", "rule"), _scalar_rules(),
                         ids=lambda x: x if isinstance(x, str) else x.name)
def test_every_number_is_checked_at_its_bounds(section, rule) -> None:
    if not rule.lo_open:
        cfg = Config.from_dict({section: {rule.name: rule.lo}})
        assert getattr(getattr(cfg, section), rule.name) == rule.lo
    cfg = Config.from_dict({section: {rule.name: rule.hi}})
    assert getattr(getattr(cfg, section), rule.name) == rule.hi
    for value in _outside(rule):
        with pytest.raises(ConfigError) as info:
            Config.from_dict({section: {rule.name: value}})
        assert info.value.key == f"{section}.{rule.name}"
        assert f"(allowed: {rule.allowed()})" in info.value.message
    with pytest.raises(ConfigError) as info:
        Config.from_dict({section: {rule.name: "1"}})
    assert info.value.message == f"{section}.{rule.name} must be {rule.allowed()}, got '1'"


@pytest.mark.parametrize(("section", "rule"),
                         [(s.key, r) for s in (MODEL, RUN) for r in s if r.kind == "choice"],
                         ids=lambda x: x if isinstance(x, str) else x.name)
def test_every_choice_is_checked(section, rule) -> None:
    for choice in rule.choices:
        cfg = Config.from_dict({section: {rule.name: choice}})
        assert getattr(getattr(cfg, section), rule.name) == choice
    with pytest.raises(ConfigError) as info:
        Config.from_dict({section: {rule.name: "x"}})
    assert info.value.message.endswith(f"must be one of {', '.join(rule.choices)}, got 'x'")


def test_sweep_values_follow_the_rule_of_their_parameter() -> None:
    for param in SWEEPABLE:
        rule = MODEL[param]
        values = [rule.hi] + ([None] if rule.null else [])
        cfg = Config.from_dict({"run": {"sweep": {"param": param, "values": values}}})
        assert cfg.run.sweep.values == tuple(values)
        with pytest.raises(ConfigError) as info:
            Config.from_dict({"run": {"sweep": {"param": param,
                                                "values": [rule.hi, _outside(rule)[1]]}}})
        assert info.value.key == "run.sweep.values[1]"
        assert rule.allowed() in info.value.message


def test_allowed_ranges_read_as_written() -> None:
    assert MODEL["beta"].allowed() == "a number in (0, 100]"
    assert MODEL["alpha0"].allowed() == "a number in (0, 1e+06] or null"
    assert MODEL["d"].allowed() == "an integer in [10, 20000]"
    assert RUN["seeds"].allowed() == "a list of 1 to 1000 distinct integers in [0, 4294967295]"
    assert RUN["simulate"].allowed() == "a list of at most 2 distinct names from network, srf"
    assert A_LAW["values"].allowed() == "a list of 1 to 16 distinct numbers in [-1000, 1000]"


def test_defaults_round_trip_through_json() -> None:
    cfg = Config()
    again = Config.from_dict(json.loads(cfg.to_json()))
    assert again == cfg
    assert Config.from_dict({}) == cfg
