"""Presets of docs/user-guide.md#presets: plain configuration files in ``resources/presets``.

Each preset is an ordinary config JSON (the CLI can run it directly:
``python -m engine run resources/presets/dandi_spectrum.json``); ``index.json``
gives their display names, descriptions and the default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from engine.config import Config
from engine.errors import ConfigError

PRESET_DIR = Path(__file__).resolve().parent.parent / "resources" / "presets"


@dataclass(frozen=True)
class PresetInfo:
    """Display name, file and description of one preset."""

    name: str
    path: Path
    description: str


@lru_cache(maxsize=1)
def _index() -> tuple[str, tuple[PresetInfo, ...]]:
    data = json.loads((PRESET_DIR / "index.json").read_text(encoding="utf-8"))
    infos = tuple(
        PresetInfo(p["name"], PRESET_DIR / p["file"], p.get("description", ""))
        for p in data["presets"]
    )
    return data.get("default", infos[0].name), infos


def list_presets() -> list[str]:
    """Display names of all presets, in menu order."""
    return [p.name for p in _index()[1]]


def preset_info(name: str) -> PresetInfo:
    """The :class:`PresetInfo` of ``name``.

    Raises
    ------
    ConfigError
        When no preset has that name (the message lists the known ones).
    """
    for info in _index()[1]:
        if info.name == name or info.path.stem == name:
            return info
    raise ConfigError("preset", f"preset must be one of {', '.join(list_presets())}, "
                                f"got {name!r}")


def default_preset() -> str:
    """Name of the preset the app opens with."""
    return _index()[0]


def load_preset(name: str) -> Config:
    """The validated :class:`Config` of preset ``name`` (display name or file stem)."""
    return Config.from_json(preset_info(name).path)
