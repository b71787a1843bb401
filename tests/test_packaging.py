"""Packaging: what a wheel contains and how the installed code finds its data.

The wheel itself is built, installed into a fresh venv and run from another folder by
``.ci/run``; these checks catch the usual ways that goes wrong before it gets there: a
package folder missing from ``pyproject.toml``, a data file no ``package-data`` pattern
matches, code that reads ``../resources`` next to itself, metadata out of step.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import re
import tomllib
from importlib.resources import files
from pathlib import Path

import engine
from engine.presets import RESOURCE_PACKAGE

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _source_dir(package: str) -> Path:
    """Where a listed package's files are, following ``package-dir``."""
    mapping = SETUPTOOLS.get("package-dir", {})
    if package in mapping:
        return ROOT / mapping[package]
    return ROOT / package.replace(".", "/")


def test_every_code_package_is_listed():
    listed = set(SETUPTOOLS["packages"])
    on_disk = {str(init.parent.relative_to(ROOT)).replace("/", ".")
               for top in ("engine", "gui") for init in (ROOT / top).rglob("__init__.py")}
    missing = on_disk - listed
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {missing}"
    for package in listed:
        assert (_source_dir(package) / "__init__.py").is_file(), package


def test_the_data_package_has_a_name_of_its_own():
    mapping = SETUPTOOLS["package-dir"]
    assert mapping[RESOURCE_PACKAGE] == "resources"
    assert mapping[f"{RESOURCE_PACKAGE}.docs"] == "docs"
    # a generic top-level name ("resources", "docs") would collide in site-packages
    assert all("." in p or p in ("engine", "gui") or p.startswith("feature_spectrum_lab")
               for p in SETUPTOOLS["packages"])


def test_every_data_file_is_matched_by_package_data():
    patterns = SETUPTOOLS["package-data"]
    wanted = {RESOURCE_PACKAGE: ["presets", "examples", "icons"],
              f"{RESOURCE_PACKAGE}.docs": ["."]}
    for package, folders in wanted.items():
        base = _source_dir(package)
        for folder in folders:
            found = [p for p in (base / folder).iterdir()
                     if p.is_file() and p.suffix != ".py" and p.name != "__pycache__"]
            assert found, (package, folder)
            for path in found:
                rel = str(path.relative_to(base))
                assert any(fnmatch.fnmatch(rel, pat) for pat in patterns[package]), \
                    f"{rel} of {package} is not in the wheel: add it to package-data"


def test_installed_data_is_read_through_importlib_resources():
    root = files(RESOURCE_PACKAGE)
    assert (root / "presets" / "index.json").is_file()
    assert (root / "icons" / "feature-spectrum-lab.svg").is_file()
    docs = files(f"{RESOURCE_PACKAGE}.docs")
    for page in ("user-guide.md", "model.md", "cli.md"):
        assert (docs / page).is_file(), page


def test_no_code_reads_data_next_to_itself():
    """``Path(__file__).parent.parent / "resources"`` works only in a source checkout."""
    bad = re.compile(r"__file__.*[\"'](resources|docs)[\"']|\.\./(resources|docs)")
    offenders = [f"{path.relative_to(ROOT)}:{n}"
                 for top in ("engine", "gui") for path in (ROOT / top).rglob("*.py")
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if bad.search(line)]
    assert not offenders, offenders


def test_metadata():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert project["authors"] == [{"name": "Feature Spectrum Lab contributors"}]
    assert project["dynamic"] == ["version"]
    assert SETUPTOOLS["dynamic"]["version"] == {"attr": "engine.__version__"}
    assert project["scripts"]["feature-spectrum-lab"] == "gui.app:main"
    assert any(c.startswith("Intended Audience :: Science/Research")
               for c in project["classifiers"])
    # PEP 639: with a licence expression, no licence classifier
    assert not any(c.startswith("License ::") for c in project["classifiers"])
    for url in project.get("urls", {}).values():
        assert url.startswith("https://"), url
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License")
    assert "Feature Spectrum Lab contributors" in licence


def test_installed_version_is_the_packages():
    assert importlib.metadata.version("feature-spectrum-lab") == engine.__version__
