"""engine.session: exact round trip, migrations, and clear errors on bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from synthetic import assert_results_equal, make_config, make_result

from engine import files
from engine.config import Config
from engine.session import (
    SESSION_SCHEMA,
    Session,
    SessionError,
    load_session,
    save_session,
    update_recent,
)


@pytest.fixture()
def saved(tmp_path: Path) -> tuple[Path, Config, object]:
    cfg = make_config()
    res = make_result(cfg)
    path = save_session(tmp_path / "s.json", cfg, res, ui={"tab": "Spectrum", "log_y": True})
    return path, cfg, res


def test_round_trip_is_exact(saved) -> None:
    path, cfg, res = saved
    s = load_session(path)
    assert isinstance(s, Session)
    assert s.config == cfg and s.path == path
    assert_results_equal(res, s.result)
    ev = res.curves[0].points[0].sims["network"][1].eigenvalues
    assert np.array_equal(ev, s.result.curves[0].points[0].sims["network"][1].eigenvalues)
    assert s.ui == {"tab": "Spectrum", "log_y": True}
    assert s.provenance["seeds"] == [3, 7]
    doc = json.loads(path.read_text())
    assert doc["app"] == "feature-spectrum-lab" and doc["session_schema"] == SESSION_SCHEMA
    # and saving what was loaded gives the same document (apart from the date)
    path2 = save_session(path.with_name("t.json"), s.config, s.result, ui=s.ui)
    doc2 = json.loads(path2.read_text())
    for d in (doc, doc2):
        d["provenance"].pop("date")
    assert doc == doc2


def test_session_without_result(tmp_path: Path) -> None:
    cfg = make_config()
    s = load_session(save_session(tmp_path / "c.json", cfg))
    assert s.config == cfg and s.result is None and s.ui == {}


def test_plain_config_file_migrates_to_a_session(tmp_path: Path) -> None:
    cfg = make_config()
    p = tmp_path / "config.json"
    doc = cfg.to_dict()
    doc.pop("schema")  # a missing config schema is read as the current one
    p.write_text(json.dumps(doc))
    s = load_session(p)
    assert s.config == cfg and s.result is None and s.provenance == {}


def test_save_refuses_overwrite_without_force(saved) -> None:
    path, cfg, _ = saved
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        save_session(path, cfg, None, force=False)
    assert path.read_bytes() == before


def test_save_failure_keeps_previous_file(saved, monkeypatch: pytest.MonkeyPatch) -> None:
    path, cfg, _ = saved
    before = path.read_bytes()

    def boom(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", boom)
    with pytest.raises(OSError):
        save_session(path, cfg.with_model(beta=2.0))
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.suffix == ".tmp"] == []
    assert load_session(path).config == cfg


def test_unwritable_ui_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="ui|JSON|encod|serial"):
        save_session(tmp_path / "u.json", make_config(), ui={"x": object()})
    assert list(tmp_path.iterdir()) == []


def _write(path: Path, data: bytes) -> Path:
    out = path.with_name("bad.json")
    out.write_bytes(data)
    return out


def _edit(path: Path, fn) -> Path:
    doc = json.loads(path.read_text())
    fn(doc)
    out = path.with_name("bad.json")
    out.write_text(json.dumps(doc))
    return out


@pytest.mark.parametrize("make_bad, message, key", [
    (lambda p: _write(p, p.read_bytes()[: len(p.read_bytes()) // 2]), "truncated", ""),
    (lambda p: _write(p, b""), "empty", ""),
    (lambda p: _write(p, b"\x89PNG\r\n\x1a\n\x00\xff"), "not a text", ""),
    (lambda p: _write(p, b"[1, 2]"), "must be a JSON object", ""),
    (lambda p: _write(p, b"{not json}"), "is not valid JSON", ""),
    (lambda p: _edit(p, lambda d: d.__setitem__("session_schema", SESSION_SCHEMA + 1)),
     "newer than this version", "session_schema"),
    (lambda p: _edit(p, lambda d: d["config"].__setitem__("schema", 99)),
     "schema 99 is newer", "config.schema"),
    (lambda p: _edit(p, lambda d: d.__setitem__("session_schema", "1")),
     "must be a non-negative integer", "session_schema"),
    (lambda p: _edit(p, lambda d: d["config"]["model"].__setitem__("beta", "wide")),
     "model.beta must be a number", "config.model.beta"),
    (lambda p: _edit(p, lambda d: d.__setitem__("app", "other")), "written by 'other'", "app"),
    (lambda p: _edit(p, lambda d: d.__setitem__("ui", [1])), "'ui' must be an object", "ui"),
    (lambda p: _edit(p, lambda d: d["result"]["curves"][0]["points"][1]["theory_spectrum"]
                     ["density"]["data"].__setitem__(3, [1, 2])),
     "corrupt array", "result.curves[0].points[1].theory_spectrum.density"),
    (lambda p: _edit(p, lambda d: d["result"]["curves"][1]["points"][0]["sims"]["srf"][0]
                     .__setitem__("seed", 1.5)),
     "expected an integer", "result.curves[1].points[0].sims.srf[0].seed"),
    (lambda p: _edit(p, lambda d: d["result"].__setitem__("curves", {"a": 1})),
     "expected a list", "result.curves"),
    (lambda p: p.with_name("missing.json"), "cannot be read", ""),
])
def test_bad_files_raise_a_clear_error(saved, make_bad, message: str, key: str) -> None:
    path, cfg, res = saved
    before = path.read_bytes()
    current = load_session(path)  # what a GUI holds while the user opens another file
    bad = make_bad(path)
    with pytest.raises(SessionError) as exc:
        load_session(bad)
    assert message in str(exc.value)
    assert str(bad) in str(exc.value)  # names the file
    if key:
        assert exc.value.key == key
    # nothing changed: the good file, and the session object already loaded
    assert path.read_bytes() == before
    assert current.config == cfg
    assert_results_equal(res, current.result)


def test_update_recent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    recent = [str(tmp_path / f"s{i}.json") for i in range(10)]
    out = update_recent(recent, "s5.json")
    assert out[0] == str(tmp_path / "s5.json")
    assert len(out) == 10 and len(set(out)) == 10
    out = update_recent(out, tmp_path / "new.json")
    assert out[0] == str(tmp_path / "new.json") and len(out) == 10
    assert str(tmp_path / "s9.json") not in out  # the oldest dropped
    assert update_recent([], "a.json", max_items=3) == [str(tmp_path / "a.json")]
