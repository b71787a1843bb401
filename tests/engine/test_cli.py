"""``python -m engine run``: exit codes, JSON on stdout, messages on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import engine.cli as cli
import engine.runner as runner
from engine.errors import ConvergenceError

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path, run=None, **model):
    m = {"d": 60, "beta": 1.0, "alpha": 1.5, "eta_tilde": 1.0, "noise": 0.1}
    m.update(model)
    r = {"kind": "errors", "simulate": ["network"], "seeds": [0, 1], "n_test": 300,
         "theory": False, "sweep": {"param": "alpha", "values": [1.0, 2.0]}}
    r.update(run or {})
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"schema": 1, "model": m, "run": r}))
    return path


def _run(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "engine", "run", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_success_json_to_stdout_progress_to_stderr(tmp_path):
    proc = _run(_write(tmp_path, run={"theory": True}), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["kind"] == "errors" and data["success"] is True
    assert data["sweep"] == {"param": "alpha", "values": [1.0, 2.0]}
    assert len(data["network"]["test_error"]) == 2
    assert len(data["network"]["test_error"][0]) == 2
    # one theory value per sweep value, each a finite error (noise 0.1 is its floor)
    for key in ("test_error", "train_error"):
        values = data["theory"][key]
        assert len(values) == 2
        assert all(isinstance(v, float) and 0.0 < v < 10.0 for v in values), values
    assert all(v >= 0.1 for v in data["theory"]["test_error"])
    assert "100%" in proc.stderr and "[" in proc.stderr


def test_theory_off_reports_no_theory_values(tmp_path, capsys):
    code = cli.main(["run", str(_write(tmp_path, run={"theory": False, "seeds": [0]})),
                     "--json", "--quiet"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["theory"]["test_error"] == [None, None]
    assert data["theory"]["train_error"] == [None, None]
    assert all(v is not None for v in data["network"]["test_error"][0])


def test_spectrum_json_keys(tmp_path):
    proc = _run(_write(tmp_path, run={"kind": "spectrum", "sweep": None, "seeds": [1],
                                      "simulate": ["network", "srf"]}), "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    for key in ("grid", "density", "outliers", "edges"):
        assert key in data["theory"]
    assert len(data["network"]["eigenvalues"][0]) == 60
    assert len(data["srf"]["eigenvalues"]) == 1
    assert proc.stderr == ""


def test_invalid_value_exits_2_naming_the_key(tmp_path):
    proc = _run(_write(tmp_path, beta=-1.0), "--json")
    assert proc.returncode == 2
    assert "model.beta" in proc.stderr and "> 0" in proc.stderr
    # stdout is still one JSON document: the failure, its status and its message
    doc = json.loads(proc.stdout)
    assert doc["success"] is False and doc["exit_status"] == 2
    assert "model.beta" in doc["error"]


def test_unknown_key_missing_file_and_bad_json_exit_2(tmp_path):
    proc = _run(_write(tmp_path, run={"sedds": [1]}))
    assert proc.returncode == 2 and "run.sedds" in proc.stderr
    proc = _run(tmp_path / "nope.json")
    assert proc.returncode == 2 and "not found" in proc.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    proc = _run(bad)
    assert proc.returncode == 2 and "not valid JSON" in proc.stderr


def test_theory_failure_exits_3_saying_where(tmp_path, monkeypatch, capsys):
    def fail_ridge(model, numerics=None, *, warm=None):
        raise ConvergenceError("ridge fixed point: residual 3e-2 after 2000 iterations "
                               "(damping 0.5 then Newton)")

    import types

    from engine.theory import equivalent_srf

    fake = types.SimpleNamespace(
        equivalent_srf=equivalent_srf, solve_ridge=fail_ridge, expressivity=lambda m, n=None: None,
        learning_curve=lambda *a, **k: (_ for _ in ()).throw(ConvergenceError("lc")))
    for name in ("solve_ridge", "expressivity", "learning_curve"):
        monkeypatch.setattr(runner.theory, name, getattr(fake, name))
    path = _write(tmp_path, run={"theory": True, "seeds": [0]})
    code = cli.main(["run", str(path), "--json", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 3
    assert "did not converge" in err and "alpha = 2" in err and "curve 1/1" in err
    assert "after 2000 iterations" in err
    data = json.loads(out)  # the JSON is still printed, with nulls where theory failed
    assert data["theory"]["test_error"] == [None, None]
    assert len(data["network"]["test_error"]) == 2


def test_memory_guard_exits_4(tmp_path, monkeypatch, capsys):
    import engine.memory as memory

    monkeypatch.setattr(memory, "total_memory_bytes", lambda: 2**20)
    code = cli.main(["run", str(_write(tmp_path)), "--quiet"])
    err = capsys.readouterr().err
    assert code == 4 and "lower d" in err.lower()


def test_out_writes_files(tmp_path):
    out = tmp_path / "out"
    cfg = _write(tmp_path, run={"seeds": [0], "sweep": None})
    proc = _run(cfg, "--out", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert any(out.iterdir())
    proc = _run(cfg, "--out", out, "--quiet")
    assert proc.returncode == 1, proc.stderr  # refuses to overwrite without --force
    assert "exist" in proc.stderr
    proc = _run(cfg, "--out", out, "--quiet", "--force")
    assert proc.returncode == 0, proc.stderr


def test_progress_bar_lines_are_throttled():
    import io

    buf = io.StringIO()
    bar = cli.ProgressBar(buf)
    for i in range(1001):
        bar(i / 1000, "work")
    lines = buf.getvalue().splitlines()
    assert 10 <= len(lines) <= 13
    assert lines[-1].startswith("[" + "#" * 24 + "] 100%")


def test_runs_the_config_inside_a_session_file(tmp_path, capsys):
    cfg = json.loads(_write(tmp_path, run={"seeds": [0], "sweep": None}).read_text())
    session = tmp_path / "session.json"
    session.write_text(json.dumps({"app": "Feature Spectrum Lab", "session_schema": 1,
                                   "config": cfg, "result": None, "ui": {}}))
    code = cli.main(["run", str(session), "--json", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert json.loads(out)["config"]["model"]["d"] == 60


def test_ctrl_c_exits_130(tmp_path):
    import signal

    path = _write(tmp_path, d=2000, run={"seeds": [0, 1, 2], "sweep": None, "n_test": 4000})
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # A shell without job control starts background jobs with SIGINT ignored, and the
    # child would inherit that: give it the default disposition, as a terminal does.
    proc = subprocess.Popen([sys.executable, "-m", "engine", "run", str(path)], cwd=ROOT,
                            env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        first = proc.stderr.readline()  # the progress bar's first line: the run has started
        assert "%" in first
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err


def test_runs_a_preset_by_name_from_any_folder(tmp_path):
    # No PYTHONPATH and a working directory outside the checkout: the presets come from
    # the installed data package, not from a path relative to the repository.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-m", "engine", "run", "Large step, a = 1",
                           "--json", "--quiet"], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["kind"] == "spectrum" and data["success"] is True
    for key in ("grid", "density", "outliers", "edges"):
        assert data["theory"][key], key
    assert len(data["network"]["eigenvalues"][0]) == data["config"]["model"]["d"]


def test_a_preset_by_file_stem_and_an_example_by_name():
    from engine.presets import load_example, load_preset

    assert cli._load_config("dandi_spectrum") == load_preset("Dandi et al. spectrum")
    assert cli._load_config("Dandi et al. spectrum") == load_preset("Dandi et al. spectrum")
    assert cli._load_config("quick_errors") == load_example("quick_errors")
    assert cli._load_config("quick_errors").model.d == 300


def test_an_existing_file_wins_over_a_preset_name(tmp_path, monkeypatch):
    cfg = _write(tmp_path, run={"seeds": [0], "sweep": None})
    named = tmp_path / "large_step_a1"
    named.write_text(cfg.read_text())
    monkeypatch.chdir(tmp_path)
    assert cli._load_config("large_step_a1").model.d == 60


def test_unknown_name_exits_2_pointing_to_the_list(tmp_path, capsys):
    code = cli.main(["run", "No such preset", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "not found: No such preset" in err and "python -m engine presets" in err


def test_presets_lists_every_name_and_description(capsys):
    from engine.presets import default_preset, preset_infos

    assert cli.main(["presets"]) == 0
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    infos = preset_infos()
    assert len(infos) == 10
    for info in infos:
        assert info.name in out
        assert " ".join(info.description.split()) in flat
    assert f"{default_preset()}" in out and "default" in out
    assert "quick_errors" in out and "quick_spectrum" in out


def test_presets_json(capsys):
    assert cli.main(["presets", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    names = [p["name"] for p in doc["presets"]]
    assert "Dandi et al. spectrum" in names and len(names) == 10
    assert [p["name"] for p in doc["presets"] if p["default"]] == ["Large step, a = 1"]
    assert all(p["description"] and p["file"].endswith(".json") for p in doc["presets"])
    assert doc["examples"] == ["quick_errors", "quick_spectrum"]


def test_version(capsys):
    import engine

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"Feature Spectrum Lab {engine.__version__}"
