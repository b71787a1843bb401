"""Hostile configurations: each gives a one-line ConfigError naming the key, nothing else.

Every case here raised another exception, hung, produced a multi-megabyte message or
was silently accepted before the validation was bounded.
"""

from __future__ import annotations

import json

import pytest

from engine.config import ALaw, Config, Curve, ModelConfig, RunConfig, Sweep, loads_json
from engine.config_rules import A_VALUE_MAX, CURVES_MAX, NESTING_MAX, SEEDS_MAX, SHOW_CHARS
from engine.errors import ConfigError

BASE = {"model": {"d": 100}, "run": {"kind": "errors"}}
#: A message shows at most SHOW_CHARS characters of a value, plus its key, a few words
#: and the allowed range.
MESSAGE_MAX = 400


def _doc(section: str, key: str, value: object) -> dict:
    data = json.loads(json.dumps(BASE))
    data.setdefault(section, {})[key] = value
    return data


def _refused(data: object, key: str) -> str:
    with pytest.raises(ConfigError) as info:
        Config.from_dict(data)
    message = info.value.message
    assert info.value.key == key, message
    assert message.startswith(key) or message.startswith("c.json: "), message
    assert "\n" not in message and len(message) <= MESSAGE_MAX, message
    return message


def _refused_text(text: str, key: str) -> str:
    with pytest.raises(ConfigError) as info:
        Config.from_dict(loads_json(text, source="c.json"))
    message = info.value.message
    assert info.value.key == key, message
    assert "\n" not in message and len(message) <= MESSAGE_MAX, message
    return message


@pytest.mark.parametrize(("section", "key", "value", "name"), [
    ("model", "d", 10**400, "model.d"),
    ("model", "lam", 10**1000, "model.lam"),
    ("model", "alpha", -(10**5000), "model.alpha"),
    ("run", "seeds", [10**5000], "run.seeds[0]"),
    ("run", "n_test", 10**300, "run.n_test"),
    ("numerics", "max_iter", 10**400, "numerics.max_iter"),
], ids=lambda v: v if isinstance(v, str) else "huge")
def test_integers_with_thousands_of_digits(section, key, value, name) -> None:
    # float() of such an int overflows and repr() past 4300 digits raises ValueError
    message = _refused(_doc(section, key, value), name)
    assert "digits>" in message


@pytest.mark.parametrize(("where", "name"), [
    ('"model": {"d": %s}', "model.d"),
    ('"model": {"lam": %s}', "model.lam"),
    ('"run": {"seeds": [0, %s]}', "run.seeds[1]"),
    ('"model": {"a_law": {"values": [%s]}}', "model.a_law.values[0]"),
    ('"run": {"sweep": {"param": "alpha", "values": [1, %s]}}', "run.sweep.values[1]"),
])
@pytest.mark.parametrize("digits", [400, 5000])
def test_json_number_literals_with_many_digits(where, name, digits) -> None:
    text = "{" + where % ("9" * digits) + "}"
    message = _refused_text(text, name)
    assert f"999…({digits} characters)" in message


def test_deeply_nested_json_and_dicts() -> None:
    with pytest.raises(ConfigError) as info:
        loads_json('{"model": {"a_law": ' + "[" * 50_000 + "]" * 50_000 + "}}",
                   source="c.json")
    assert f"nested deeper than {NESTING_MAX}" in info.value.message
    deep: dict = {}
    inner = deep
    for _ in range(10_000):  # copy.deepcopy of this raised RecursionError
        inner["x"] = {}
        inner = inner["x"]
    message = _refused({"model": {"a_law": deep}}, "model.a_law" + ".x" * (NESTING_MAX - 2))
    assert f"nested deeper than {NESTING_MAX} levels" in message


@pytest.mark.parametrize("value", [1e308, -1e308, A_VALUE_MAX * 1.0001, float("inf")])
def test_a_law_values_beyond_what_the_theory_computes(value) -> None:
    message = _refused(_doc("model", "a_law", {"values": [1.0, value]}),
                       "model.a_law.values[1]")
    assert "[-1000, 1000]" in message
    law = ALaw((A_VALUE_MAX, -A_VALUE_MAX), (0.5, 0.5))  # the bounds themselves are allowed
    assert ModelConfig(a_law=law).a_law.K == 2


def test_eta_tilde_beyond_the_range() -> None:
    message = _refused(_doc("model", "eta_tilde", 1e300), "model.eta_tilde")
    assert message == ("model.eta_tilde must be <= 100, got 1e+300 (allowed: a number in "
                       "[0, 100])")


@pytest.mark.parametrize("key", ["sigma", "sigma_star"])
@pytest.mark.parametrize("value", ["9" * 400, "1" * 300 + "*z", "1e300*z", "exp(z**2)",
                                   "exp(10*z)", "z**" * 120 + "z", "z" * 501, "1e999*z", "",
                                   "(" * 300 + "z" + ")" * 300, 12, None])
def test_hostile_activation_names(key, value) -> None:
    message = _refused(_doc("model", key, value), f"model.{key}")
    assert len(message) < 2 * SHOW_CHARS + 260


def test_five_million_seeds_give_a_short_message() -> None:
    message = _refused(_doc("run", "seeds", list(range(5_000_000))), "run.seeds")
    assert message.endswith("(5000000 items)")
    assert f"a list of 1 to {SEEDS_MAX} distinct integers" in message


def test_long_strings_are_cut() -> None:
    message = _refused(_doc("model", "w_init", "x" * 5_000_000), "model.w_init")
    assert message.endswith("… (5000000 characters)")
    message = _refused(_doc("run", "curves", [{"label": "y" * 10_000}]), "run.curves[0].label")
    assert "(10000 characters)" in message


def test_duplicate_json_keys_are_refused_naming_the_key() -> None:
    message = _refused_text('{"model": {"beta": 1.0, "d": 100, "beta": 2.0}}', "model.beta")
    assert "appears twice" in message


def test_duplicate_seeds_are_refused() -> None:
    message = _refused(_doc("run", "seeds", [0, 1, 2, 1]), "run.seeds[3]")
    assert message == "run.seeds[3] = 1 repeats run.seeds[1]: run.seeds must be distinct"
    with pytest.raises(ConfigError, match="distinct"):
        RunConfig(seeds=(5, 5))


def test_alpha0_follows_the_same_size_rule_as_beta_and_alpha() -> None:
    # before: alpha0 = 1e-9 gave n0 = max(1, 0) = 1 silently, while beta = 1e-9 was refused
    message = _refused(_doc("model", "alpha0", 1e-9), "model.alpha0")
    assert message == ("model.alpha0 must give n0 = round(alpha0*d) >= 1, got n0 = 0 "
                       "(alpha0 = 1e-09, d = 100)")
    assert _refused(_doc("model", "beta", 1e-9), "model.beta").startswith(
        "model.beta must give p = round(beta*d) >= 1, got p = 0")
    assert ModelConfig(d=100, alpha0=0.01).n0 == 1


def test_errors_inside_sweep_values_name_the_value() -> None:
    data = _doc("run", "sweep", {"param": "alpha0", "values": [1.0, 1e-9]})
    _refused(data, "run.sweep.values[1]")
    data = _doc("run", "sweep", {"param": "d", "values": [100, 10]})
    data["model"]["beta"] = 0.05  # p = round(0.05 * 10) = 0 at the second value
    message = _refused(data, "run.sweep.values[1]")
    assert "p = round(beta*d) >= 1, got p = 0 (beta = 0.05, d = 10)" in message
    data = _doc("run", "sweep", {"param": "eta_tilde", "values": [1.0, "x"]})
    _refused(data, "run.sweep.values[1]")


def test_errors_inside_curves_name_the_curve_and_key() -> None:
    curves = [{"label": "ok", "set": {"alpha0": 5}}, {"label": "bad", "set": {"alpha0": 1e-9}}]
    _refused(_doc("run", "curves", curves), "run.curves[1].set.alpha0")
    curves = [{"label": "bad", "set": {"a_law": {"values": [1.0, 1e308]}}}]
    _refused(_doc("run", "curves", curves), "run.curves[0].set.a_law.values[1]")
    curves = [{"label": "bad", "set": {"sigma": "9" * 400}}]
    _refused(_doc("run", "curves", curves), "run.curves[0].set.sigma")
    # a sweep value and a curve together: the key the curve set is named
    data = _doc("run", "curves", [{"label": "small", "set": {"d": 10}}])
    data["run"]["sweep"] = {"param": "beta", "values": [1.0, 0.01]}
    _refused(data, "run.sweep.values[1]")
    data["run"]["sweep"] = {"param": "alpha", "values": [1.0]}
    data["model"]["beta"] = 0.01
    _refused(data, "run.curves[0].set.d")


def test_curves_built_in_python_are_checked_too() -> None:
    with pytest.raises(ConfigError, match=r"run.curves\[\*\].set.beta must be > 0"):
        Curve("x", (("beta", -1.0),))
    with pytest.raises(ConfigError, match=r"run.curves\[\*\].set.gamma is not a known key"):
        Curve("x", (("gamma", 1.0),))
    model = ModelConfig(d=10, beta=1.0)
    with pytest.raises(ConfigError) as info:
        Config(model, RunConfig(curves=(Curve("narrow", (("beta", 0.01),)),)))
    assert info.value.key == "run.curves[0].set.beta"
    with pytest.raises(ConfigError) as info:
        Config(model, RunConfig(sweep=Sweep("beta", (1.0, 0.01))))
    assert info.value.key == "run.sweep.values[1]"


def test_sizes_are_bounded() -> None:
    curves = [{"label": f"c{i}"} for i in range(CURVES_MAX + 1)]
    message = _refused(_doc("run", "curves", curves), "run.curves")
    assert f"at most {CURVES_MAX}" in message
    _refused(_doc("run", "sweep", {"param": "alpha", "values": [1.0] * 1001}),
             "run.sweep.values")
    _refused(_doc("model", "a_law", {"values": list(range(17))}), "model.a_law.values")


@pytest.mark.parametrize(("data", "key"), [
    ({"model": {"d": True}}, "model.d"),
    ({"model": {"alpha0": [1]}}, "model.alpha0"),
    ({"model": []}, "model"),
    ({"model": {"a_law": "ones"}}, "model.a_law"),
    ({"run": {"curves": {"label": "x"}}}, "run.curves"),
    ({"run": {"curves": [[1, 2]]}}, "run.curves[0]"),
    ({"run": {"curves": [{"label": "x", "set": [1]}]}}, "run.curves[0].set"),
    ({"run": {"sweep": [1]}}, "run.sweep"),
    ({"run": {"sweep": {"param": "alpha"}}}, "run.sweep.values"),
    ({"run": {"simulate": "network"}}, "run.simulate"),
    ({"numerics": {"tol": "1e-3"}}, "numerics.tol"),
    ({"schema": 10**5000}, "schema"),
    ({"model": {("a",): 1}}, "model[('a',)]"),
])
def test_wrong_types_anywhere(data, key) -> None:
    _refused(data, key)
