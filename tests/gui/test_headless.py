"""The headless export: ``main.py --run SESSION --export DIR``."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from PySide6.QtGui import QImage

from engine.config import NumericsConfig
from engine.session import load_session, save_session

FAST = NumericsConfig(q_kappa=30, q_inner=30, q2=15, n_grid=120)


def _tiny_session(tmp_path: Path) -> Path:
    from engine.presets import load_preset

    cfg = load_preset("Large step, a = ±1").with_model(d=60).with_run(seeds=(0,))
    cfg = replace(cfg, numerics=FAST)
    return save_session(tmp_path / "tiny.json", cfg)


def test_headless_run_and_export(tmp_path: Path) -> None:
    from gui.headless import run_headless

    session = _tiny_session(tmp_path)
    out = tmp_path / "exp"
    log = tmp_path / "log.txt"
    with open(log, "w") as stream:
        code = run_headless(session, out, style="presentation", dpi=80, stream=stream)
    text = log.read_text()
    assert code == 0, text
    assert "100%" in text  # the progress bar
    names = {p.name for p in out.iterdir()}
    for plot in ("spectrum", "tail", "learning_curves", "weights", "expressivity",
                 "learned_function"):
        assert {f"{plot}.png", f"{plot}.svg", f"{plot}.pdf"} <= names
    assert {"result.json", "arrays.npz", "session.json", "sim_eigenvalues.csv"} <= names
    assert QImage(str(out / "spectrum.png")).width() == 480
    doc = json.loads((out / "result.json").read_text())
    assert doc["provenance"]["config"]["model"]["d"] == 60
    s = load_session(out / "session.json")
    assert s.result is not None and s.result.curves[0].points[0].sims["network"]

    # outputs exist: refused without --force, nothing touched
    stamp = (out / "spectrum.png").stat().st_mtime_ns
    with open(log, "w") as stream:
        assert run_headless(session, out, dpi=80, stream=stream) == 1
    assert "--force" in log.read_text()
    assert (out / "spectrum.png").stat().st_mtime_ns == stamp


def test_headless_bad_session_exit_2(tmp_path: Path) -> None:
    from gui.headless import run_headless

    bad = tmp_path / "bad.json"
    bad.write_text('{"session_schema": 1, "config": {"model": {"beta": -1}}}')
    log = tmp_path / "log.txt"
    with open(log, "w") as stream:
        assert run_headless(bad, tmp_path / "exp", stream=stream) == 2
    assert "model.beta" in log.read_text()
    assert not (tmp_path / "exp").exists()
    with open(log, "w") as stream:
        assert run_headless(tmp_path / "missing.json", tmp_path / "exp", stream=stream) == 2




def test_a_preset_exports_in_its_own_view(tmp_path: Path) -> None:
    from engine.presets import preset_info
    from gui.app import main

    name = "Phase diagram: gain over random features"
    out = tmp_path / "exp"
    assert main(["--run", name, "--export", str(out), "--dpi", "60"]) == 0
    session = load_session(out / "session.json")
    info = preset_info(name)
    assert session.ui["tab"] == info.tab == "phase"
    assert session.ui["plots"]["phase"]["options"]["quantity"] == "gain"
    assert (out / "phase.png").stat().st_size > 2000
