"""Sessions: parameters + results (+ optional view state) in one JSON file.

A session document is::

    {"app": "feature-spectrum-lab", "session_schema": 1,
     "config": {...Config.to_dict()...},
     "result": {...engine.encoding.result_to_dict(result)...} or null,
     "ui": {...view state, free-form JSON...},
     "provenance": {...engine.export.provenance(config)...}}

It is written atomically (a crash never leaves half a session) and reopens exactly:
the same :class:`~engine.config.Config`, and a :class:`~engine.results.RunResult`
whose every array is bit-for-bit the one saved. Loading validates everything first
and only then returns, so a front end that keeps its current session until
:func:`load_session` returns loses nothing when a file is bad.

Migrations: a plain configuration file (``{"schema": 1, "model": ..., "run": ...}``,
e.g. a preset or a CLI config) is read as session schema 0 and opens as a session
without results; ``config`` documents go through :func:`engine.config.migrate`.

This module never imports Qt.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config import Config
from engine.encoding import DecodeError, dumps, result_from_dict, result_to_dict
from engine.errors import ConfigError, EngineError
from engine.export import APP_NAME, provenance
from engine.files import atomic_write_bytes
from engine.results import RunResult

#: The session an export writes beside its data (``--out``, the headless export).
SESSION_FILE = "session.json"

#: The session schema this version writes.
SESSION_SCHEMA = 1

#: ``SESSION_MIGRATIONS[k]`` turns a schema-``k`` session document into schema ``k+1``.
SESSION_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

#: How many entries :func:`update_recent` keeps.
RECENT_MAX = 10

#: Session files are small unless they hold big simulations; refuse absurd sizes before
#: reading them into memory (a wrong file picked by mistake, e.g. a video).
MAX_SESSION_BYTES = 2 * 1024**3


class SessionError(EngineError, ValueError):
    """A session file that cannot be opened; the message names the file and the cause.

    Attributes
    ----------
    path : str
        The file.
    key : str
        Dotted path of the offending entry (``"config.model.beta"``,
        ``"result.curves[0].points[1].theory_spectrum.grid"``), or ``""``.
    """

    def __init__(self, path: str | os.PathLike[str], message: str, key: str = "") -> None:
        super().__init__(f"{path}: {message}")
        self.path = str(path)
        self.key = key
        self.message = message


def _migrate_0_to_1(doc: dict[str, Any]) -> dict[str, Any]:
    # Schema 0 is a bare configuration document: it becomes a session without results.
    return {"app": APP_NAME, "session_schema": 1, "config": doc, "result": None, "ui": {}}


SESSION_MIGRATIONS[0] = _migrate_0_to_1


@dataclass(frozen=True)
class Session:
    """What :func:`load_session` returns.

    Attributes
    ----------
    config : Config
    result : RunResult or None
    ui : dict
        The view state saved with the session (``{}`` if none).
    provenance : dict
        As saved (``{}`` for a migrated plain config).
    path : Path
    """

    config: Config
    result: RunResult | None
    ui: dict[str, Any]
    provenance: dict[str, Any]
    path: Path


def session_to_dict(config: Config, result: RunResult | None = None, *,
                    ui: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The session document (see the module docstring) as JSON-able data."""
    if not isinstance(config, Config):
        raise TypeError(f"config must be a Config, got {type(config).__name__}")
    if result is not None and not isinstance(result, RunResult):
        raise TypeError(f"result must be a RunResult or None, got {type(result).__name__}")
    seeds = None
    if result is not None:
        seeds = sorted({int(s.seed) for c in result.curves for p in c.points
                        for sims in p.sims.values() for s in sims}) or None
    return {
        "app": APP_NAME,
        "session_schema": SESSION_SCHEMA,
        "config": config.to_dict(),
        "result": None if result is None else result_to_dict(result),
        "ui": dict(ui or {}),
        "provenance": provenance(config, seeds),
    }


def save_session(path: str | os.PathLike[str], config: Config,
                 result: RunResult | None = None, *, force: bool = True,
                 ui: Mapping[str, Any] | None = None) -> Path:
    """Write a session file atomically.

    Parameters
    ----------
    path : str or path-like
        Destination (``.json``; its directory must exist).
    config : Config
    result : RunResult, optional
        The last result; ``None`` saves the parameters only.
    force : bool
        Replace an existing file (the default: "Save" overwrites). With ``False`` an
        existing file raises :class:`FileExistsError`.
    ui : mapping, optional
        JSON-able view state (tab, axis scales, ...), returned as ``Session.ui``.

    Returns
    -------
    Path

    Raises
    ------
    TypeError
        If ``ui`` (or the result) holds something that cannot be written as JSON;
        nothing is written then.
    FileExistsError
        If the file exists and ``force`` is false.
    """
    return atomic_write_bytes(path, session_document(config, result, ui=ui), force=force)


def session_document(config: Config, result: RunResult | None = None, *,
                     ui: Mapping[str, Any] | None = None) -> bytes:
    """The bytes of a session file (what :func:`save_session` writes).

    For a front end that publishes the session with other files
    (:func:`engine.files.write_set`).

    Raises
    ------
    TypeError
        If ``ui`` (or the result) holds something that cannot be written as JSON.
    """
    doc = session_to_dict(config, result, ui=ui)
    try:
        text = dumps(doc)
    except ValueError as exc:  # NaN in ui, a circular reference, ...
        raise TypeError(f"session view state is not JSON-able: {exc}") from None
    return text.encode("utf-8")


def load_session(path: str | os.PathLike[str]) -> Session:
    """Read, migrate and validate a session file; nothing is changed anywhere.

    Parameters
    ----------
    path : str or path-like
        A session file, or a plain configuration file (opens without results).

    Returns
    -------
    Session
        ``.config``, ``.result``, ``.ui``, ``.provenance``, ``.path``.

    Raises
    ------
    SessionError
        The file is missing or unreadable, truncated or not JSON, from another app,
        from a newer version (``session_schema`` or config ``schema``), has entries of
        the wrong type, an invalid configuration, or a corrupt array. The message
        names the file and the entry.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_SESSION_BYTES:
            raise SessionError(p, f"is {size / 1e9:.1f} GB, too large for a session file")
        raw = p.read_bytes()
    except SessionError:
        raise
    except OSError as exc:
        raise SessionError(p, f"cannot be read ({exc.strerror or exc})") from None
    if not raw.strip():
        raise SessionError(p, "is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SessionError(p, "is not a text (UTF-8) file; is it really a session?") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        at_end = exc.pos >= len(text.rstrip()) - 1
        why = "is truncated (the JSON ends early)" if at_end else "is not valid JSON"
        raise SessionError(p, f"{why}: {exc.msg} at line {exc.lineno}, "
                              f"column {exc.colno}") from None
    return session_from_dict(doc, path=p)


def session_from_dict(doc: Any, *, path: str | os.PathLike[str] = "<session>") -> Session:
    """Validate and decode a session document (see :func:`load_session`)."""
    p = Path(path)
    if not isinstance(doc, dict):
        raise SessionError(p, f"a session must be a JSON object, got a JSON "
                              f"{_json_type(doc)}")
    doc = _migrated(doc, _session_schema(doc, p), p)
    unknown = sorted(set(doc) - {"app", "session_schema", "config", "result", "ui",
                                 "provenance"})
    if unknown:
        raise SessionError(p, f"unknown top-level key(s) {', '.join(unknown)}", unknown[0])
    return Session(config=_decode_config(doc, p), result=_decode_result(doc, p),
                   ui=_object(doc, "ui", p), provenance=_object(doc, "provenance", p), path=p)


def _session_schema(doc: dict[str, Any], p: Path) -> int:
    """The document's session schema (0: a bare configuration), checked."""
    if "session_schema" not in doc:
        if not ("model" in doc or "run" in doc or "schema" in doc):
            raise SessionError(p, "has no 'session_schema' and is not a configuration either "
                                  "(no 'model' or 'run'); is it a Feature Spectrum Lab "
                                  "session?", "session_schema")
        return 0  # a bare configuration document (see _migrate_0_to_1)
    app = doc.get("app", APP_NAME)
    if app != APP_NAME:
        raise SessionError(p, f"was written by {app!r}, not {APP_NAME!r}", "app")
    schema = doc["session_schema"]
    if isinstance(schema, bool) or not isinstance(schema, int) or schema < 0:
        raise SessionError(p, f"session_schema must be a non-negative integer, got "
                              f"{schema!r}", "session_schema")
    if schema > SESSION_SCHEMA:
        raise SessionError(p, f"session_schema {schema} is newer than this version of "
                              f"the app reads (at most {SESSION_SCHEMA}); please update "
                              f"the app", "session_schema")
    return schema


def _migrated(doc: dict[str, Any], schema: int, p: Path) -> dict[str, Any]:
    while schema < SESSION_SCHEMA:
        step = SESSION_MIGRATIONS.get(schema)
        if step is None:  # pragma: no cover - every older schema has a migration
            raise SessionError(p, f"session_schema {schema} cannot be migrated",
                               "session_schema")
        doc = step(doc)
        schema += 1
    return doc


def _decode_config(doc: dict[str, Any], p: Path) -> Config:
    if "config" not in doc:
        raise SessionError(p, "has no 'config'", "config")
    try:
        return Config.from_dict(doc["config"])
    except ConfigError as exc:
        raise SessionError(p, f"invalid configuration: {exc.message}",
                           f"config.{exc.key}") from None
    except (TypeError, ValueError) as exc:
        raise SessionError(p, f"invalid configuration: {exc}", "config") from None


def _decode_result(doc: dict[str, Any], p: Path) -> RunResult | None:
    if doc.get("result") is None:
        return None
    try:
        return result_from_dict(doc["result"])
    except DecodeError as exc:
        key = str(exc).split(":", 1)[0]
        raise SessionError(p, f"corrupt result: {exc}", key) from None
    except ConfigError as exc:
        raise SessionError(p, f"corrupt result: {exc.message}", "result") from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise SessionError(p, f"corrupt result: {type(exc).__name__}: {exc}",
                           "result") from None


def _object(doc: dict[str, Any], key: str, p: Path) -> dict[str, Any]:
    """``doc[key]``, a JSON object (``{}`` when absent or null)."""
    value = doc.get(key) or {}
    if not isinstance(value, dict):
        raise SessionError(p, f"'{key}' must be an object, got a JSON {_json_type(value)}", key)
    return value


def _json_type(v: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean",
            int: "number", float: "number", type(None): "null"}.get(type(v), type(v).__name__)


def update_recent(recent: Iterable[str], path: str | os.PathLike[str], *,
                  max_items: int = RECENT_MAX) -> list[str]:
    """A recent-files list with ``path`` first, without duplicates, at most ``max_items``.

    Pure (no file-system access beyond making ``path`` absolute): entries are compared
    by their normalised absolute path, so ``./a.json`` and ``a.json`` are one entry.
    """
    def norm(s: str | os.PathLike[str]) -> str:
        return os.path.normcase(os.path.abspath(os.fspath(s)))

    new = norm(path)
    out = [os.path.abspath(os.fspath(path))]
    for entry in recent:
        if entry and norm(entry) != new and norm(entry) not in {norm(o) for o in out}:
            out.append(entry)
    return out[:max(0, max_items)]
