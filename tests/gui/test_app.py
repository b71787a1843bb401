"""The entry point: option handling and a clean exit of the real app (in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gui.app import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def test_run_needs_export():
    assert main(["--run", "session.json"]) == 2


#: Every option of the entry point with a non-default value and the value it parses to.
OPTIONS = {
    "screenshot": (["--screenshot", "x.png"], "x.png"),
    "preset": (["--preset", "ReLU tail"], "ReLU tail"),
    "tab": (["--tab", "tail"], "tail"),
    "size": (["--size", "800x600"], "800x600"),
    "simulate": (["--simulate", "100"], 100),
    "run": (["--run", "s.json"], "s.json"),
    "export": (["--export", "figs"], "figs"),
    "style": (["--style", "screen"], "screen"),
    "dpi": (["--dpi", "300"], 300),
    "force": (["--force"], True),
    "recompute": (["--recompute"], True),
    "install_desktop_entry": (["--install-desktop-entry"], True),
}


def test_parser_knows_every_option():
    parser = build_parser()
    defaults = parser.parse_args([])
    argv = [a for flags, _ in OPTIONS.values() for a in flags]
    args = parser.parse_args(argv)
    for dest, (_, value) in OPTIONS.items():
        assert getattr(args, dest) == value, dest
        assert getattr(defaults, dest) != value, dest  # the check could fail
    # the options not combinable with the others, one at a time
    assert parser.parse_args(["--uninstall-desktop-entry"]).uninstall_desktop_entry is True
    assert defaults.uninstall_desktop_entry is False
    # and no option is left out of this test
    dests = {a.dest for a in parser._actions} - {"help", "version"}
    assert dests == set(OPTIONS) | {"uninstall_desktop_entry"}


def test_install_and_uninstall_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--install-desktop-entry", "--uninstall-desktop-entry"])
    assert exit_info.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_version(capsys):
    import engine

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"Feature Spectrum Lab {engine.__version__}"


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


# ------------------------------------------------------------------ desktop launcher


def _installed_files(data_home: Path) -> set[Path]:
    return {p for p in data_home.rglob("*") if p.is_file()}


def test_console_script_installs_and_uninstalls_the_desktop_entry(tmp_path):
    from gui.desktop import APP_ID, ICON_SIZES

    script = Path(sys.executable).parent / "feature-spectrum-lab"
    assert script.is_file(), "the console script is installed with the package"
    data_home = tmp_path / "data"
    env = dict(os.environ, XDG_DATA_HOME=str(data_home), HOME=str(tmp_path / "home"))
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)  # no display needed: nothing is drawn
    env.pop("QT_QPA_PLATFORM", None)
    proc = subprocess.run([str(script), "--install-desktop-entry"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    desktop = data_home / "applications" / f"{APP_ID}.desktop"
    icons = data_home / "icons" / "hicolor"
    expected = {desktop, icons / "scalable" / "apps" / f"{APP_ID}.svg"} | {
        icons / f"{n}x{n}" / "apps" / f"{APP_ID}.png" for n in ICON_SIZES}
    assert _installed_files(data_home) == expected
    assert not (tmp_path / "home").exists()  # XDG_DATA_HOME is honoured, ~ untouched
    for path in expected:
        assert f"wrote {path}" in proc.stdout

    entry = _parse_desktop_entry(desktop.read_text(encoding="utf-8"))
    assert entry["Type"] == "Application" and entry["Name"] == "Feature Spectrum Lab"
    assert entry["Icon"] == APP_ID and entry["Terminal"] == "false"
    assert entry["Exec"] == str(script.absolute())  # this environment's script
    assert entry["Categories"].endswith(";")

    proc = subprocess.run([str(script), "--uninstall-desktop-entry"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert _installed_files(data_home) == set()
    proc = subprocess.run([str(script), "--uninstall-desktop-entry"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "nothing to remove" in proc.stdout


def _parse_desktop_entry(text: str) -> dict[str, str]:
    lines = text.splitlines()
    assert lines[0] == "[Desktop Entry]"
    entry = {}
    for line in lines[1:]:
        key, sep, value = line.partition("=")
        assert sep and key and key not in entry, line
        entry[key] = value
    return entry


def test_installed_icons_are_the_shipped_ones(tmp_path):
    from gui.desktop import ICON_SIZES, icon_png, icon_svg, install_desktop_entry

    written = install_desktop_entry(tmp_path, command=["fsl"])
    by_name = {p.parent.parent.name: p for p in written if p.suffix in (".png", ".svg")}
    assert by_name["scalable"].read_bytes() == icon_svg().read_bytes()
    for n in ICON_SIZES:
        assert by_name[f"{n}x{n}"].read_bytes() == icon_png(n).read_bytes()
    # reinstalling over an existing entry replaces it
    install_desktop_entry(tmp_path, command=["other"])
    assert "Exec=other\n" in (tmp_path / "applications" / "feature-spectrum-lab.desktop"
                              ).read_text(encoding="utf-8")


def test_exec_key_quotes_arguments_as_the_spec_says():
    from gui.desktop import desktop_entry

    text = desktop_entry(["/opt/my apps/bin/fsl", "--preset", "Large step, a = 1", "50%",
                          'say "hi"', "C:\\x"])
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert exec_line == ('Exec="/opt/my apps/bin/fsl" --preset "Large step, a = 1" "50%%" '
                         '"say \\\\"hi\\\\"" "C:\\\\\\\\x"')


def test_icon_pngs_are_renders_of_the_svg(qapp):
    """The shipped PNG sizes are the SVG rendered by Qt (regenerate them after an edit)."""
    import numpy as np
    from PySide6.QtGui import QImage

    from gui.desktop import ICON_SIZES, icon_png, icon_svg, render_icon

    def pixels(image: QImage) -> np.ndarray:
        image = image.convertToFormat(QImage.Format.Format_RGBA8888)
        buf = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
        return buf.reshape(image.height(), image.bytesPerLine())[:, :4 * image.width()] \
            .reshape(image.height(), image.width(), 4).astype(float)

    svg = icon_svg().read_bytes()
    for n in ICON_SIZES:
        shipped = QImage()
        assert shipped.loadFromData(icon_png(n).read_bytes(), "PNG"), n
        assert (shipped.width(), shipped.height()) == (n, n)
        got, want = pixels(shipped), pixels(render_icon(svg, n))
        assert np.abs(got - want).mean() < 2.0, n  # identical up to antialiasing
        rgb = got[..., :3][got[..., 3] > 0]
        assert rgb.std(axis=0).max() > 20, n  # a picture, not a flat square
        assert got[0, 0, 3] == 0  # transparent corners (rounded square)


def test_app_icon_has_every_size(qapp):
    from gui.desktop import ICON_SIZES, app_icon

    sizes = {(s.width(), s.height()) for s in app_icon().availableSizes()}
    assert sizes == {(n, n) for n in ICON_SIZES}


def test_run_accepts_a_preset_or_example_name(tmp_path, monkeypatch):
    """``--run NAME --export DIR`` hands the headless export the bundled file."""
    import json

    import gui.headless
    from engine.presets import load_example, load_preset

    seen = []

    def fake_run_headless(source, export, **options):  # noqa: ANN001, ANN003
        seen.append((json.loads(Path(source).read_text(encoding="utf-8")), export, options))
        return 0

    monkeypatch.setattr(gui.headless, "run_headless", fake_run_headless)
    monkeypatch.chdir(tmp_path)  # no file of that name here
    assert main(["--run", "ReLU tail", "--export", "figs", "--dpi", "99"]) == 0
    assert main(["--run", "quick_errors", "--export", "figs"]) == 0
    (tmp_path / "quick_errors").write_text(json.dumps({"schema": 1, "model": {"d": 50}}))
    assert main(["--run", "quick_errors", "--export", "figs"]) == 0  # a file wins
    from engine.config import Config

    assert Config.from_dict(seen[0][0]) == load_preset("ReLU tail")
    assert seen[0][1] == Path("figs") and seen[0][2]["dpi"] == 99
    assert Config.from_dict(seen[1][0]) == load_example("quick_errors")
    assert seen[2][0]["model"] == {"d": 50}


def test_without_a_display_the_app_says_so_and_screenshots_go_offscreen(monkeypatch):
    import gui.app as app_module

    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    problem = app_module._choose_platform(screenshot=False)
    assert "no display" in problem and "QT_QPA_PLATFORM=offscreen" in problem
    assert "QT_QPA_PLATFORM" not in os.environ
    assert app_module._choose_platform(screenshot=True) == ""
    assert os.environ["QT_QPA_PLATFORM"] == "offscreen"
    # a display, or an explicit platform, is left alone
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("DISPLAY", ":0")
    assert app_module._choose_platform(screenshot=False) == ""
    assert "QT_QPA_PLATFORM" not in os.environ
    monkeypatch.delenv("DISPLAY")
    monkeypatch.setenv("QT_QPA_PLATFORM", "vnc")
    assert app_module._choose_platform(screenshot=True) == ""
    assert os.environ["QT_QPA_PLATFORM"] == "vnc"


def test_the_app_without_a_display_exits_1_with_a_message(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run([sys.executable, str(ROOT / "main.py")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])  # not 134 (abort)
    assert "no display" in proc.stderr


def _shot(tmp_path, name, *extra):
    out = tmp_path / f"{name}.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--screenshot", str(out),
                           "--size", "1000x650", *extra], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def test_a_preset_opens_on_the_figure_it_reproduces(tmp_path):
    from PySide6.QtGui import QImage

    from gui.figure_export import image_array

    name = "Cui et al. learning curves"
    own = _shot(tmp_path, "own", "--preset", name)
    asked = _shot(tmp_path, "asked", "--preset", name, "--tab", "Learning curves")
    other = _shot(tmp_path, "other", "--preset", name, "--tab", "spectrum")
    a, b, c = (image_array(QImage(str(p))) for p in (own, asked, other))
    assert a.shape == b.shape and np.array_equal(a, b)  # pixel-identical
    assert not np.array_equal(a, c)  # and the check could fail
