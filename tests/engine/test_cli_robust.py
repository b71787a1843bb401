"""The command line under hostile input: a result or a documented exit code, one line of
message, never a traceback, and with --json one JSON document on stdout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import engine.cli as cli
from engine.views import Views

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = {0, 2, 3, 4}

BASE = {"d": 40, "beta": 1.0, "alpha": 1.5, "eta_tilde": 1.0, "noise": 0.1}
RUN = {"kind": "errors", "simulate": ["srf"], "seeds": [0], "n_test": 200, "theory": True}
FAST = {"q_kappa": 30, "q_inner": 30, "q2": 15, "n_grid": 80}


def _doc(model=None, run=None, numerics=None, raw=None):  # noqa: ANN001, ANN202
    if raw is not None:
        return raw
    return json.dumps({"schema": 1, "model": {**BASE, **(model or {})},
                       "run": {**RUN, **(run or {})}, "numerics": {**FAST, **(numerics or {})}})


#: Hostile inputs: each must give a result or a documented exit code.
CORPUS = {
    "huge d digits": _doc(raw='{"model": {"d": ' + "9" * 5000 + "}}"),
    "huge lam": _doc({"lam": 1e308}),
    "deep nesting": _doc(raw="[" * 5000 + "]" * 5000),
    "a_law 1e308": _doc({"a_law": {"values": [1e308, -1e308], "probs": [0.5, 0.5]}}),
    "sigma of nines": _doc({"sigma": "9" * 400}),
    "exp(2.5*z)": _doc({"sigma": "exp(2.5*z)"}),
    "exp(50*z)": _doc({"sigma_star": "exp(50*z)"}),
    "2**1000": _doc({"sigma": "2**1000"}),
    "cosh(z)**50": _doc({"sigma": "cosh(z)**50"}),
    "z**100": _doc({"sigma": "z**100"}),
    "exp(exp(z))": _doc({"sigma": "exp(exp(z))"}),
    "sinh(100*z)": _doc({"sigma": "sinh(100*z)"}),
    "duplicate key": _doc(raw='{"schema": 1, "model": {"d": 40, "d": 50}}'),
    "duplicate seeds": _doc(run={"seeds": [0, 0]}),
    "alpha0 tiny": _doc({"alpha0": 1e-9}),
    "many seeds": _doc(run={"seeds": list(range(5000))}),
    "sweep bad value": _doc(run={"sweep": {"param": "beta", "values": [1.0, -1.0]}}),
    "curve bad value": _doc(run={"curves": [{"label": "x", "set": {"alpha": -2}}]}),
    "not an object": _doc(raw="[1, 2, 3]"),
    "binary": _doc(raw="\x00\x01\x02"),
    "lam zero p > n": _doc({"lam": 0.0, "beta": 2.0, "alpha": 0.5}),
    "sixteen atoms": _doc({"a_law": {"values": [float(v) for v in range(1, 17)]}},
                          run={"simulate": []}),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_input_gives_a_documented_exit_and_json(name, tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text(CORPUS[name], encoding="utf-8", errors="surrogateescape")
    code = cli.main(["run", str(path), "--json", "--quiet", "--no-cache", "--workers", "1"])
    out, err = capsys.readouterr()
    assert code in DOCUMENTED, (code, err)
    assert "Traceback" not in err and "Traceback" not in out
    doc = json.loads(out)  # exactly one JSON document
    assert doc["exit_status"] == code
    if code:
        assert doc["error"] and "\n" not in doc["error"] and len(doc["error"]) < 2000
        assert err.count("\n") <= 3, err  # a message, not a dump


def test_sigterm_stops_like_ctrl_c_with_exit_143(tmp_path):
    path = tmp_path / "long.json"
    path.write_text(_doc({"d": 1500}, run={"kind": "spectrum", "seeds": [0, 1, 2, 3],
                                           "simulate": ["network"], "theory": False}))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "engine", "run", str(path), "--no-cache",
                             "--workers", "1"], cwd=tmp_path, env=env, text=True,
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert "%" in proc.stderr.readline()  # the progress bar: the run has started
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert "terminated" in err and "Traceback" not in err


def test_out_writes_what_the_app_draws_and_checks_first(tmp_path, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text(_doc(run={"kind": "spectrum", "simulate": ["network"]}))
    out = tmp_path / "out"
    assert cli.main(["run", str(cfg), "--out", str(out), "--quiet", "--no-cache",
                     "--workers", "1"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {f"view_{v}.json" for v in Views.NAMES} <= names
    assert {"session.json", "result.json", "arrays.npz"} <= names
    spectrum = json.loads((out / "view_spectrum.json").read_text())
    assert "theory_after" in spectrum["tables"] and "histogram_network_after" in \
        spectrum["tables"]
    assert spectrum["provenance"]["config"]["model"]["d"] == 40
    capsys.readouterr()
    # an existing CSV is found before computing: nothing is run, nothing is touched
    stamp = (out / "result.json").stat().st_mtime_ns
    code = cli.main(["run", str(cfg), "--out", str(out), "--json", "--no-cache"])
    outp, err = capsys.readouterr()
    assert code == 1 and "--force" in err and json.loads(outp)["exit_status"] == 1
    assert "%" not in err  # no progress bar: nothing was computed
    assert (out / "result.json").stat().st_mtime_ns == stamp
    # a target that is a file is a usage error, before computing
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    assert cli.main(["run", str(cfg), "--out", str(afile), "--quiet"]) == 2
    assert "--out" in capsys.readouterr().err
