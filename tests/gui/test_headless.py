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
    assert {"view_spectrum.json", "view_phase.json"} <= names
    assert "phase.png" not in names  # no grid: an empty figure is not exported
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


def test_reexporting_a_session_reuses_its_simulations(tmp_path: Path) -> None:
    from gui.headless import run_headless

    first, second = tmp_path / "first", tmp_path / "second"
    log = tmp_path / "log.txt"
    with open(log, "w") as stream:
        assert run_headless(_tiny_session(tmp_path), first, dpi=60, stream=stream) == 0
    with open(log, "w") as stream:
        assert run_headless(first / "session.json", second, dpi=60, stream=stream) == 0
    text = log.read_text()
    assert "using the simulations stored in the session" in text and "100%" not in text
    a = json.loads((first / "view_spectrum.json").read_text())["tables"]
    b = json.loads((second / "view_spectrum.json").read_text())["tables"]
    assert a["histogram_network_after"] == b["histogram_network_after"]
    assert (first / "sim_eigenvalues.csv").read_text().split("# date")[0] == \
        (second / "sim_eigenvalues.csv").read_text().split("# date")[0]
    # --recompute simulates again
    with open(log, "w") as stream:
        assert run_headless(first / "session.json", tmp_path / "third", dpi=60,
                            recompute=True, stream=stream) == 0
    assert "100%" in log.read_text()


def test_every_check_comes_before_computing(tmp_path: Path) -> None:
    from gui.headless import run_headless

    session = _tiny_session(tmp_path)
    log = tmp_path / "log.txt"

    def export(target: Path, **kw: object) -> tuple[int, str]:
        with open(log, "w") as stream:
            code = run_headless(session, target, stream=stream, **kw)  # type: ignore[arg-type]
        return code, log.read_text()

    code, text = export(tmp_path / "a", dpi=0)
    assert code == 2 and "--dpi" in text and "%" not in text
    code, text = export(tmp_path / "b", style="neon")
    assert code == 2 and "--style" in text and "%" not in text
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    code, text = export(afile)
    assert code == 2 and "%" not in text and afile.read_text() == "x"
    stale = tmp_path / "stale"
    stale.mkdir()
    (stale / "sim_errors.csv").write_text("old")
    code, text = export(stale)
    assert code == 1 and "--force" in text and "%" not in text
    assert (stale / "sim_errors.csv").read_text() == "old"
