"""Shared test set-up.

With pytest's default (prepend) import mode this file's folder, ``tests/``, is put on
``sys.path``, so the engine and GUI tests share one builder of results:
``import synthetic`` (tests/synthetic.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

# tests/engine and tests/gui carry the names of the packages they test. With tests/ on
# sys.path and the packages reachable only through an editable install's import hook
# (which runs after the path search), a plain ``pytest`` would import tests/engine as
# an empty namespace package instead of the engine. The repository root goes first.
_ROOT = str(Path(__file__).resolve().parents[1])
if sys.path[0] != _ROOT:
    sys.path.insert(0, _ROOT)


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own user cache folder (the result cache lives there): no test
    reads what another stored, none writes into the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
