"""The entry point: option handling and a clean exit of the real app (in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gui.app import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def test_run_needs_export():
    assert main(["--run", "session.json"]) == 2


def test_parser_knows_every_option():
    args = build_parser().parse_args(["--screenshot", "x.png", "--preset", "ReLU tail",
                                      "--tab", "tail", "--simulate", "100"])
    assert args.screenshot == "x.png" and args.simulate == 100


def test_screenshot_renders_and_exits_cleanly(tmp_path):
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               XDG_CONFIG_HOME=str(tmp_path / "config"))  # keep the user's settings out
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--screenshot", str(out),
                           "--preset", "Large step, a = ±1", "--size", "1000x700"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    # a teardown crash (docs/architecture.md#pitfalls) would show as a negative return code
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "screenshot saved" in proc.stdout
    assert out.exists() and out.stat().st_size > 20000
    assert "Fatal Python error" not in proc.stderr
