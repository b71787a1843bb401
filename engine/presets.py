"""Presets of docs/user-guide.md#presets: plain configuration files shipped with the package.

Each preset is an ordinary config JSON; ``index.json`` gives their display names,
descriptions and the default. The CLI runs one by name
(``python -m engine run "Dandi et al. spectrum"``) or by file stem (``dandi_spectrum``).
The small example configurations (``quick_errors``, ``quick_spectrum``) ship beside them.

The files live in the repository's ``resources/`` folder, installed as the package
:data:`RESOURCE_PACKAGE`; they are read through :mod:`importlib.resources`, so an
installed wheel, an editable install and a zipped install all find them, whatever the
working directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from engine.config import Config, loads_json
from engine.errors import ConfigError

#: The installed name of the repository's ``resources/`` folder (pyproject.toml).
RESOURCE_PACKAGE = "feature_spectrum_lab_resources"


def resource_root() -> Traversable:
    """The data package: ``presets/``, ``examples/``, ``icons/`` and ``docs/``."""
    return files(RESOURCE_PACKAGE)


@dataclass(frozen=True)
class PresetInfo:
    """Display name, file, description and the view a preset opens on.

    ``tab`` is the plot the preset reproduces (a view name of :mod:`engine.views`) and
    ``view`` the display state of plots that differ from their defaults
    (``{plot name: {"options": {...}}}``, e.g. a log axis).
    """

    name: str
    file: str
    description: str
    tab: str = "spectrum"
    view: dict[str, Any] = field(default_factory=dict)

    @property
    def stem(self) -> str:
        """The file name without ``.json`` (also accepted as the preset's name)."""
        return self.file.removesuffix(".json")

    def ui(self) -> dict[str, Any]:
        """The view a session of this preset opens on: ``{"tab", "plots"}`` (the format
        of a session's ``ui``)."""
        return {"tab": self.tab, "plots": {name: dict(state) for name, state in
                                           self.view.items()}}

    @property
    def resource(self) -> Traversable:
        """The preset's configuration file inside the data package."""
        return resource_root() / "presets" / self.file


@lru_cache(maxsize=1)
def _index() -> tuple[str, tuple[PresetInfo, ...]]:
    data = json.loads((resource_root() / "presets" / "index.json").read_text(encoding="utf-8"))
    infos = tuple(PresetInfo(p["name"], p["file"], p.get("description", ""),
                             p.get("tab", "spectrum"), dict(p.get("view") or {}))
                  for p in data["presets"])
    return data.get("default", infos[0].name), infos


def list_presets() -> list[str]:
    """Display names of all presets, in menu order."""
    return [p.name for p in _index()[1]]


def preset_infos() -> list[PresetInfo]:
    """Every preset's :class:`PresetInfo`, in menu order."""
    return list(_index()[1])


def find_preset(name: str) -> PresetInfo | None:
    """The preset called ``name`` (display name or file stem), or ``None``."""
    for info in _index()[1]:
        if name in (info.name, info.stem, info.file):
            return info
    return None


def preset_info(name: str) -> PresetInfo:
    """The :class:`PresetInfo` of ``name`` (display name or file stem).

    Raises
    ------
    ConfigError
        When no preset has that name (the message lists the known ones).
    """
    info = find_preset(name)
    if info is None:
        raise ConfigError("preset", f"preset must be one of {', '.join(list_presets())}, "
                                    f"got {name!r}")
    return info


def default_preset() -> str:
    """Name of the preset the app opens with."""
    return _index()[0]


def _load(resource: Traversable, label: str) -> Config:
    # The one strict reader of configuration files (duplicate keys, size, nesting).
    return Config.from_dict(loads_json(resource.read_text(encoding="utf-8"), source=label))


def load_preset(name: str) -> Config:
    """The validated :class:`Config` of preset ``name`` (display name or file stem)."""
    info = preset_info(name)
    return _load(info.resource, f"preset {info.name!r}")


def list_examples() -> list[str]:
    """File stems of the bundled example configurations (``quick_errors``, ...)."""
    folder = resource_root() / "examples"
    return sorted(f.name.removesuffix(".json") for f in folder.iterdir()
                  if f.name.endswith(".json"))


def find_example(name: str) -> Traversable | None:
    """The bundled example configuration ``name`` (stem or file name), or ``None``."""
    stem = name.removesuffix(".json")
    if stem not in list_examples():
        return None
    return resource_root() / "examples" / f"{stem}.json"


def load_example(name: str) -> Config:
    """The validated :class:`Config` of the bundled example ``name``.

    Raises
    ------
    ConfigError
        When no example has that name (the message lists the known ones).
    """
    resource = find_example(name)
    if resource is None:
        raise ConfigError("example", f"example must be one of {', '.join(list_examples())}, "
                                     f"got {name!r}")
    return _load(resource, f"example {name!r}")
