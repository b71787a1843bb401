"""Properties of reading a configuration, on random (valid-ish and hostile) documents.

Whatever the input, ``loads_json`` and ``Config.from_dict`` either give a ``Config``
or a ``ConfigError`` whose message is one line of bounded length, with a dotted key
inside the document; never another exception. Hypothesis' deadline bounds the time
of one example.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config import Config, loads_json
from engine.config_rules import A_LAW, MODEL, NUMERICS, RUN, SWEEPABLE, Rule
from engine.errors import ConfigError

#: The longest message any invalid document may produce.
MESSAGE_MAX = 500
ROOTS = {"config", "schema", "model", "run", "numerics"}

# database=None: no example database is written into the checkout.
PROPERTY = settings(max_examples=150, deadline=timedelta(seconds=2), database=None,
                    suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- strategies

# Up to 4000 digits: hypothesis must be able to print a failing example (repr stops at
# 4300); longer literals are exercised through raw JSON text below.
huge_ints = st.builds(lambda n, sign: sign * (10**n + 7), st.integers(19, 4000),
                      st.sampled_from([1, -1]))
hostile_numbers = st.one_of(
    huge_ints,
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 5e-324, 1e-9, -0.0, 0, 1, -1]),
)
short_text = st.text(max_size=12)
long_text = st.sampled_from(["x" * 5000, "9" * 400, "(" * 300, "z" * 600, "tanh(z" * 50,
                             "line\nbreak", "\x00\u2028"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(), hostile_numbers, short_text,
                    long_text)
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(short_text, inner, max_size=4)),
    max_leaves=12,
)


def _nested(depth: int) -> object:
    value: object = 1
    for i in range(depth):
        value = [value] if i % 2 else {"x": value}
    return value


deep_values = st.integers(min_value=20, max_value=200).map(_nested)


def _valid(rule: Rule) -> st.SearchStrategy:
    """Values a rule accepts (or nearly: sizes may still break a constraint)."""
    if rule.kind in ("number", "integer"):
        lo = rule.lo if not rule.lo_open else rule.lo + 1e-3
        if rule.kind == "integer":
            base = st.integers(int(math.ceil(lo)), int(min(rule.hi, lo + 1000)))
        else:
            base = st.floats(lo, rule.hi, allow_nan=False)
        return st.one_of(base, st.none()) if rule.null else base
    if rule.kind == "choice":
        return st.sampled_from(rule.choices)
    if rule.kind == "boolean":
        return st.booleans()
    if rule.kind == "activation":
        return st.sampled_from(["tanh", "relu", "He2", "tanh(z) + 0.5*He2(z)", "sin(2*z)"])
    if rule.kind == "list" and rule.item is not None:
        return st.lists(_valid(rule.item), min_size=max(rule.min_items, 1), max_size=3,
                        unique=rule.distinct)
    return st.none()


def _value(rule: Rule) -> st.SearchStrategy:
    """Mostly valid, sometimes hostile or of the wrong type."""
    return st.one_of(_valid(rule), _valid(rule), _valid(rule), scalars, json_like, deep_values)


def _section(rules, extra: dict | None = None) -> st.SearchStrategy:
    keys = {rule.name: _value(rule) for rule in rules if rule.kind != "object"}
    keys.update(extra or {})
    return st.fixed_dictionaries({}, optional={**keys, "unknown_key": scalars})


a_laws = st.one_of(
    st.fixed_dictionaries({"values": _value(A_LAW["values"])},
                          optional={"probs": _value(A_LAW["probs"])}),
    json_like,
)
sweeps = st.one_of(
    st.fixed_dictionaries({"param": st.sampled_from(SWEEPABLE),
                           "values": st.lists(st.one_of(st.floats(0.01, 10), scalars),
                                              min_size=1, max_size=4)}),
    st.none(),
    json_like,
)
curve_sets = st.dictionaries(st.sampled_from(SWEEPABLE + ("a_law", "sigma", "gamma")),
                             st.one_of(st.floats(1e-12, 50), scalars, a_laws), max_size=3)
curves = st.lists(st.one_of(st.fixed_dictionaries({"label": st.one_of(short_text, scalars)},
                                                  optional={"set": curve_sets}),
                            json_like), max_size=3)
documents = st.fixed_dictionaries({}, optional={
    "schema": st.one_of(st.just(1), scalars),
    "model": st.one_of(_section(MODEL, {"a_law": a_laws}), json_like),
    "run": st.one_of(_section(RUN, {"sweep": sweeps, "curves": curves}), json_like),
    "numerics": st.one_of(_section(NUMERICS), json_like),
    "extra": json_like,
})


def _read(document: object) -> Config | ConfigError:
    try:
        return Config.from_dict(document)
    except ConfigError as exc:
        return exc


def _assert_readable(exc: ConfigError) -> None:
    message = exc.message
    assert str(exc) == message
    assert "\n" not in message and "\r" not in message, message
    assert 0 < len(message) <= MESSAGE_MAX, (len(message), message[:300])
    root = exc.key.split(".")[0].split("[")[0]
    assert root in ROOTS, exc.key


# --------------------------------------------------------------------------- properties


@PROPERTY
@given(documents)
def test_any_document_gives_a_config_or_a_readable_error(document) -> None:
    outcome = _read(document)
    if isinstance(outcome, ConfigError):
        _assert_readable(outcome)
    else:
        # a valid configuration survives its own JSON, exactly
        again = Config.from_dict(loads_json(outcome.to_json(), source="round trip"))
        assert again == outcome


@PROPERTY
@given(json_like)
def test_any_json_value_gives_a_config_or_a_readable_error(value) -> None:
    outcome = _read(value)
    if isinstance(outcome, ConfigError):
        _assert_readable(outcome)


@PROPERTY
@given(documents, st.sampled_from(["model", "run", "numerics"]), short_text)
def test_duplicate_keys_in_raw_text_are_refused(document, section, key) -> None:
    # JSON text where one object holds the same key twice
    body = json.dumps(document, default=str)[1:-1]
    twice = json.dumps(key)
    text = "{" + body + (", " if body else "") + f'"{section}": {{{twice}: 1, {twice}: 2}}}}'
    try:
        loads_json(text, source="c.json")
    except ConfigError as exc:
        _assert_readable(exc)
        # a document nested too deeply is refused before it is parsed
        assert "appears twice" in exc.message or "nested deeper" in exc.message
    else:  # pragma: no cover - the property is that it never succeeds
        raise AssertionError("a duplicate key was accepted")


raw_texts = st.one_of(
    st.text(max_size=40),
    st.integers(1, 3000).map(lambda n: "[" * n),
    st.integers(1, 3000).map(lambda n: '{"model": {"d": ' + "9" * n + "}}"),
    st.integers(1, 3000).map(lambda n: '{"run": {"seeds": [' + "1" * n + "]}}"),
    st.integers(1, 2000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.sampled_from(['{"model": {"noise": NaN}}', '{"model": {"lam": -Infinity}}',
                     '{"model": {"beta": 1e999}}', "\ufeff{}", '{"schema": 1.0}',
                     '{"model": {"d": 1e3}}', '"just a string"', "null"]),
)


@PROPERTY
@given(raw_texts)
def test_any_text_gives_a_config_or_a_readable_error(text) -> None:
    try:
        outcome = _read(loads_json(text, source="c.json"))
    except ConfigError as exc:
        outcome = exc
        assert exc.message.startswith("c.json: ")
    if isinstance(outcome, ConfigError):
        _assert_readable(outcome)
