"""docs/configuration.md is rendered from the rules and must not drift from them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from engine.config_rules import LIMITS, SECTIONS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "configuration.md"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_config_docs",
                                                  ROOT / "tools" / "gen_config_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_configuration_page_matches_the_rules() -> None:
    gen = _generator()
    rendered = gen.render()
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    assert current == rendered, (
        f"docs/configuration.md is out of date with the rules in engine/config_rules.py; "
        f"regenerate it with: {gen.COMMAND}")


def test_page_documents_every_key_limit_and_constraint() -> None:
    text = _generator().render()
    for section in SECTIONS:
        assert f"## `{section.key}`" in text
        for rule in section:
            assert f"| `{rule.name}` | {rule.allowed().replace('|', chr(92) + '|')}" in text, (
                section.key, rule.name)
        for constraint in section.constraints:
            assert f"- {constraint.text}" in text
    for name in LIMITS:
        assert f"| `{name}` |" in text
    assert '"sweep": {' in text and '"curves": [' in text and '"numerics": {' in text
    assert "λ|a|² is added to the SUM" in text.replace("\\|", "|")
