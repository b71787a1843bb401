"""The strict JSON reader of configuration files: ``loads_json`` and ``load_config_file``."""

from __future__ import annotations

import json

import pytest

from engine.config import Config, load_config_file, loads_json
from engine.config_rules import NESTING_MAX, NUMBER_CHARS_MAX, TEXT_MAX, LongNumber
from engine.errors import ConfigError

GOOD = {"model": {"d": 100, "beta": 1.5}, "run": {"kind": "errors", "seeds": [0, 1]}}


def _one_line_error(text: str, **kwargs) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        loads_json(text, source="c.json", **kwargs)
    message = str(info.value)
    assert "\n" not in message and len(message) < 400, message
    assert message.startswith("c.json: ")
    return info.value


def test_reads_plain_json() -> None:
    assert loads_json(json.dumps(GOOD), source="c.json") == GOOD
    assert loads_json("[1, 2.5, null, true]") == [1, 2.5, None, True]


def test_duplicate_keys_are_refused() -> None:
    exc = _one_line_error('{"model": {"beta": 1.0, "beta": 2.0}}')
    assert "model.beta appears twice" in exc.message and exc.key == "model.beta"
    exc = _one_line_error('{"run": {"curves": [{"label": "a"}, {"label": "b", "label": "c"}]}}')
    assert exc.key == "run.curves[1].label"


def test_deep_nesting_is_refused_before_parsing() -> None:
    deep = "[" * 100_000 + "]" * 100_000  # json.loads alone raises RecursionError
    exc = _one_line_error(deep)
    assert f"nested deeper than {NESTING_MAX} levels" in exc.message
    assert "line 1, column 33" in exc.message
    ok = "[" * NESTING_MAX + "]" * NESTING_MAX
    assert loads_json(ok) is not None
    # brackets inside strings do not count
    assert loads_json(json.dumps({"label": "[" * 1000})) == {"label": "[" * 1000}


def test_text_size_is_bounded_before_parsing() -> None:
    exc = _one_line_error(" " * (TEXT_MAX + 1))
    assert f"{TEXT_MAX + 1} characters" in exc.message
    assert loads_json("[1]", max_chars=3) == [1]


@pytest.mark.parametrize("text", ["{not json", '{"a": 1', "", "   ", "[1, 2,]", "\ufeff{}"])
def test_invalid_json_gives_one_line(text: str) -> None:
    exc = _one_line_error(text)
    assert "not valid JSON" in exc.message or "is empty" in exc.message


def test_truncated_json_says_so() -> None:
    exc = _one_line_error('{"model": {"d": 100,')
    assert "ends early" in exc.message


def test_numbers_past_the_int_conversion_limit_are_kept_as_long_numbers() -> None:
    huge = "9" * 5000  # beyond Python's 4300-digit limit: json.loads raises ValueError
    value = loads_json(f"[{huge}, -{huge}, 1{'0' * 400}.5, 1e999]")
    assert all(isinstance(v, LongNumber) for v in value)
    assert repr(value[0]) == "9" * 20 + "…(5000 characters)"
    assert loads_json("1" * NUMBER_CHARS_MAX) == int("1" * NUMBER_CHARS_MAX)


def test_load_config_file(tmp_path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(GOOD), encoding="utf-8")
    cfg = load_config_file(path)
    assert cfg.model.d == 100 and cfg.run.seeds == (0, 1)
    assert Config.from_json(path) == cfg
    # a saved session carries its configuration under "config"
    path.write_text(json.dumps({"session_schema": 1, "config": GOOD}), encoding="utf-8")
    assert load_config_file(path) == cfg


@pytest.mark.parametrize(("content", "expected"), [
    (None, "configuration file not found"),
    (b"\x89PNG\r\n\x1a\n\x00\xff", "not a UTF-8 text file"),
    (b'{"model": {"d": 100, "d": 200}}', "model.d appears twice"),
    (b"{not json", "not valid JSON"),
])
def test_load_config_file_errors_name_the_file(tmp_path, content, expected) -> None:
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_config_file(path)
    assert expected in info.value.message and "bad.json" in info.value.message
    assert "\n" not in info.value.message


def test_load_config_file_refuses_a_huge_file_before_reading(tmp_path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 4001)
    with pytest.raises(ConfigError, match="4001 bytes"):
        load_config_file(path, max_chars=1000)
