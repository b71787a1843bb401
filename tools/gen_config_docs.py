"""Render docs/configuration.md from the configuration rules of engine/config_rules.py.

Usage::

    python tools/gen_config_docs.py          # rewrite docs/configuration.md
    python tools/gen_config_docs.py --check  # exit 1 when the file differs from the rules

The page is never edited by hand: every key's type, range, default and meaning, the
constraints between keys, the limits and the example messages come from
:data:`engine.config_rules.SECTIONS` and :data:`engine.config_rules.LIMITS`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from engine import config, config_rules  # noqa: E402
from engine.errors import ConfigError  # noqa: E402

OUTPUT = ROOT / "docs" / "configuration.md"
COMMAND = "python tools/gen_config_docs.py"

INTRO = f"""\
# Configuration

<!-- Generated from the rules in engine/config_rules.py by `{COMMAND}`; do not edit. -->

One JSON format describes a run everywhere: the GUI saves it inside a session, the
command line runs it (`python -m engine run CONFIG.json`), presets are such files, and
tests build it. The model's conventions (β = p/d, α = n/d, α0 = n0/d, η = η̃·√p, the
sum convention of λ) are explained in [the model](model.md#conventions).

- A key left out takes its default; an unknown key is an error.
- Every invalid value is refused when the configuration is read, with a one-line message
  that names the dotted key, the value (cut to {config_rules.SHOW_CHARS} characters) and the allowed
  range; the command line exits with status 2 and prints it.
- Files are read strictly: at most {config_rules.TEXT_MAX} characters, objects and lists nested at
  most {config_rules.NESTING_MAX} levels, no duplicate keys in an object, number literals of at most
  {config_rules.NUMBER_CHARS_MAX} characters. A saved session holds its configuration under
  `"config"`; the command line reads either.
"""


def _compact(value: Any, indent: int = 0) -> str:
    """JSON with objects over several lines and lists of plain values on one."""
    pad = "  " * indent
    if isinstance(value, dict) and value:
        items = [f'{pad}  {json.dumps(k)}: {_compact(v, indent + 1)}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        items = [f"{pad}  {_compact(v, indent + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False)


def example_config() -> config.Config:
    """A configuration that uses every section: a sweep, two curves, numerics."""
    model = config.ModelConfig(d=1000, beta=1.0, alpha=2.0, alpha0=None, eta_tilde=3.0, lam=0.1,
                          a_law=config.ALaw((1.0, -1.0), (0.5, 0.5)))
    run = config.RunConfig(kind="errors", sweep=config.Sweep("alpha", (0.5, 1.0, 2.0, 4.0)),
                      seeds=(0, 1, 2),
                      curves=(config.Curve("no step", (("eta_tilde", 0.0),)),
                              config.Curve("alpha0 = 5", (("alpha0", 5.0),))))
    return config.Config(model, run)


#: Invalid documents whose real messages the page shows.
EXAMPLES: tuple[dict[str, Any], ...] = (
    {"model": {"beta": -1}},
    {"model": {"alpha0": 1e-9}},
    {"model": {"a_law": {"values": [1.0, 1e308]}}},
    {"run": {"seeds": [0, 1, 1]}},
    {"run": {"sweep": {"param": "d", "values": [1000, 5]}}},
    {"run": {"curves": [{"label": "narrow", "set": {"beta": 0.0001}}]}},
    {"model": {"sigma": "tanh(z"}},
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(rule: config_rules.Rule) -> str:
    if rule.doc_default:
        return rule.doc_default
    if rule.default is config_rules.REQUIRED:
        return "required"
    value = list(rule.default) if isinstance(rule.default, tuple) else rule.default
    return f"`{json.dumps(value)}`"


def _type(rule: config_rules.Rule) -> str:
    text = rule.allowed()
    if rule.null:
        text += f"; null: {rule.null}"
    if rule.limits:
        text += " (" + ", ".join(f"[{name}](#limits)" for name in rule.limits) + ")"
    return text


def render_section(section: config_rules.Section) -> str:
    lines = [f"## `{section.key}`", "", section.meaning, "",
             "| key | type and range | default | meaning |", "|---|---|---|---|"]
    for rule in section:
        lines.append(f"| `{rule.name}` | {_cell(_type(rule))} | {_cell(_default(rule))} | "
                     f"{_cell(rule.meaning)} |")
    if section.constraints:
        lines += ["", "Together (an error names the first key of the constraint, or the key "
                      "that a curve or a sweep value set):", ""]
        lines += [f"- {c.text}" for c in section.constraints]
    return "\n".join(lines) + "\n"


def render_limits() -> str:
    lines = ["## Limits", "",
             "Sizes, magnitudes and nesting are bounded when a configuration is read, so "
             "that no input can exhaust memory or time, overflow the theory, or produce an "
             "unreadable message. The names are constants of `engine/config_rules.py`.", "",
             "| limit | value | why |", "|---|---|---|"]
    for name, why in config_rules.LIMITS.items():
        value = getattr(config_rules, name)
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        lines.append(f"| `{name}` | {shown} | {_cell(why)} |")
    return "\n".join(lines) + "\n"


def render_examples() -> str:
    lines = ["## Messages", "", "What the validation says about a few invalid documents:", ""]
    for doc in EXAMPLES:
        try:
            config.Config.from_dict(doc)
        except ConfigError as exc:
            lines += [f"- `{json.dumps(doc)}`  ", f"  → `{exc.message}`"]
        else:  # pragma: no cover - the examples are invalid by construction
            raise AssertionError(f"example {doc} is valid")
    return "\n".join(lines) + "\n"


def render() -> str:
    """The whole page, from the rules."""
    shape = ["## The shape of a configuration", "",
             "Every section with its keys; `schema`, `numerics` and any key may be left "
             "out (their defaults are shown below). Here an error-curve run over four "
             "values of α, for two curves that differ by η̃ and α0:", "",
             "```json", _compact(example_config().to_dict()), "```", ""]
    parts = [INTRO, "\n".join(shape)]
    parts += [render_section(section) for section in config_rules.SECTIONS]
    parts += [render_limits(), render_examples()]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when docs/configuration.md differs from the rules")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date; run: {COMMAND}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
