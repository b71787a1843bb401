"""Shared test set-up.

With pytest's default (prepend) import mode this file's folder, ``tests/``, is put on
``sys.path``, so the engine and GUI tests share one builder of results:
``import synthetic`` (tests/synthetic.py). The repository root comes first
(``pythonpath`` in pyproject.toml): tests/engine and tests/gui carry the names of the
packages they test.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own user cache folder (the result cache lives there): no test
    reads what another stored, none writes into the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
