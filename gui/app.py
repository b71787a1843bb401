"""Application entry point: ``python main.py`` or the ``feature-spectrum-lab`` script.

Options (docs/cli.md)::

    [--preset NAME]                         start on a preset
    --screenshot FILE.png [--preset NAME] [--tab NAME] [--size WxH] [--simulate D]
                                            render the window once the theory is drawn
    --run SESSION.json --export DIR [--style presentation] [--dpi N] [--force]
                                            headless export (gui.headless.run_headless)
    --install-desktop-entry / --uninstall-desktop-entry
                                            menu entry and icon for this user (gui.desktop)
    --version

Exit is clean: windows are closed (workers interrupted and joined) and the event loop
returns before the interpreter tears Qt down (docs/architecture.md#pitfalls).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

ORGANIZATION = "FeatureSpectrumLab"
APPLICATION = "Feature Spectrum Lab"
SCREENSHOT_TIMEOUT_MS = 60000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feature-spectrum-lab",
                                     description="Feature Spectrum Lab: the spectrum of learned "
                                                 "features after one large gradient step.")
    parser.add_argument("--screenshot", metavar="FILE.png",
                        help="render the main window once the theory is drawn, save, exit")
    parser.add_argument("--preset", metavar="NAME", help="preset to show (with --screenshot "
                                                         "or at start)")
    parser.add_argument("--tab", metavar="NAME", help="plot tab to show with --screenshot, by "
                                                      "title or name; default the preset's "
                                                      "(spectrum, tail, learning_curves, "
                                                      "weights, expressivity, learned_function)")
    parser.add_argument("--size", default="1600x950", help="window size WxH for --screenshot")
    parser.add_argument("--simulate", type=int, metavar="D", default=0,
                        help="with --screenshot: also run the simulation at d = D first")
    parser.add_argument("--run", metavar="SESSION.json",
                        help="run a session or configuration file (or a preset's name) "
                             "headless and export every figure and data file")
    parser.add_argument("--export", metavar="DIR", help="output folder for --run")
    parser.add_argument("--style", default="presentation", help="export style for --run")
    parser.add_argument("--dpi", type=int, default=150, help="PNG resolution for --run")
    parser.add_argument("--force", action="store_true", help="overwrite files with --run")
    parser.add_argument("--recompute", action="store_true",
                        help="with --run: simulate again even when the session holds the "
                             "simulations of its parameters")
    entry = parser.add_mutually_exclusive_group()
    entry.add_argument("--install-desktop-entry", action="store_true",
                       help="add the app and its icon to this user's desktop menu (XDG data "
                            "home: $XDG_DATA_HOME or ~/.local/share), then exit")
    entry.add_argument("--uninstall-desktop-entry", action="store_true",
                       help="remove that menu entry and icon, then exit")
    parser.add_argument("--version", action="version",
                        version=f"Feature Spectrum Lab {_version()}")
    return parser


def _version() -> str:
    from engine import __version__

    return __version__


def _choose_platform(screenshot: bool) -> str:
    """Pick Qt's platform before it aborts for want of one; return a problem, or "".

    On Linux without ``DISPLAY`` or ``WAYLAND_DISPLAY`` Qt's default (xcb) platform
    aborts the process (status 134) with a message about libxcb-cursor0. A screenshot
    needs no screen, so it goes offscreen; the interactive app says what is missing.
    An explicit ``QT_QPA_PLATFORM`` is always respected.
    """
    if (not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM")
            or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return ""
    if screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return ""
    return ("no display: DISPLAY and WAYLAND_DISPLAY are unset. Start the app from a "
            "desktop session (or ssh -X); --screenshot and --run ... --export work without "
            "one (QT_QPA_PLATFORM=offscreen)")


def _run_headless(args: argparse.Namespace) -> int:
    """``--run X --export DIR``: X is a file, else the name of a bundled preset or example."""
    from contextlib import ExitStack
    from importlib.resources import as_file

    from engine.presets import find_example, find_preset

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from gui.headless import run_headless  # lazy: the export helper's module

    with ExitStack() as stack:
        source = Path(args.run)
        ui = None
        if not source.is_file():
            preset = find_preset(args.run)
            bundled = preset.resource if preset is not None else find_example(args.run)
            if bundled is not None:  # a real file even when installed as a zip
                source = stack.enter_context(as_file(bundled))
            if preset is not None:
                ui = preset.ui()  # the figure the preset reproduces, in its view
        return int(run_headless(source, Path(args.export), style=args.style, dpi=args.dpi,
                                force=args.force, recompute=args.recompute, ui=ui))


def _desktop_entry(install: bool) -> int:
    """``--install-desktop-entry`` / ``--uninstall-desktop-entry``: no window, no display."""
    from gui.desktop import install_desktop_entry, uninstall_desktop_entry

    try:
        paths = install_desktop_entry() if install else uninstall_desktop_entry()
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    verb = "wrote" if install else "removed"
    for path in paths:
        print(f"{verb} {path}")
    if not paths:
        print("no desktop entry was installed: nothing to remove")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Start the app (or a headless mode); return the exit status."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.install_desktop_entry or args.uninstall_desktop_entry:
        return _desktop_entry(args.install_desktop_entry)
    if args.run or args.export:
        if not (args.run and args.export):
            print("--run SESSION.json needs --export DIR (and vice versa)", file=sys.stderr)
            return 2
        return _run_headless(args)
    problem = _choose_platform(bool(args.screenshot))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1

    from PySide6.QtCore import QCoreApplication, QLocale
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from gui.desktop import APP_ID, app_icon

    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QCoreApplication.setApplicationVersion(_version())
    # Lets Wayland compositors match the window to the installed desktop entry (its icon).
    QGuiApplication.setDesktopFileName(APP_ID)
    # Numbers typed and shown with '.' whatever the system locale: configs are JSON.
    QLocale.setDefault(QLocale.c())
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setWindowIcon(app_icon())
    from gui.main_window import MainWindow

    if args.preset:
        from engine.presets import find_preset, list_presets

        if find_preset(args.preset) is None:
            print(f"error: --preset must be one of {', '.join(list_presets())}, "
                  f"got {args.preset!r}", file=sys.stderr)
            return 2
    window = MainWindow(preset=args.preset)
    if args.screenshot:
        return _screenshot(app, window, Path(args.screenshot), args.tab, args.size,
                           args.simulate)
    window.show()
    status = app.exec()
    # closeEvent has joined the workers; drop the window before Qt goes away
    window.deleteLater()
    app.processEvents()
    return int(status)


def _screenshot(app: object, window: object, path: Path, tab: str | None, size: str,
                simulate_d: int = 0) -> int:
    """Wait for the theory (all stages) to be drawn, grab the window, exit cleanly."""
    from PySide6.QtCore import QEventLoop, QTimer

    try:
        w, h = (int(x) for x in size.lower().split("x"))
    except ValueError:
        w, h = 1600, 950
    window.resize(w, h)  # type: ignore[attr-defined]
    if tab and not window.show_tab(tab):  # type: ignore[attr-defined]
        print(f"warning: no tab called {tab!r}; showing the preset's", file=sys.stderr)
    window.show()  # type: ignore[attr-defined]
    loop = QEventLoop()
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    window.sig_theory_finished.connect(loop.quit)  # type: ignore[attr-defined]
    timer.start(SCREENSHOT_TIMEOUT_MS)
    if window.theory_tasks.busy:  # type: ignore[attr-defined]
        loop.exec()
    ok = timer.isActive()
    timer.stop()
    # Only the simulation may end the next wait: changing d re-runs the (quick) theory.
    window.sig_theory_finished.disconnect(loop.quit)  # type: ignore[attr-defined]
    if simulate_d:
        window.model_panel.d.setValue(simulate_d)  # type: ignore[attr-defined]
        if window.start_simulation():  # type: ignore[attr-defined]
            window.sig_simulation_finished.connect(loop.quit)  # type: ignore[attr-defined]
            timer.start(10 * SCREENSHOT_TIMEOUT_MS)
            loop.exec()
            timer.stop()
    for _ in range(5):
        app.processEvents()  # type: ignore[attr-defined]
    window.current_plot().ensure_drawn()  # type: ignore[attr-defined]
    app.processEvents()  # type: ignore[attr-defined]
    image = window.grab()  # type: ignore[attr-defined]
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = image.save(str(path))
    window.close()  # type: ignore[attr-defined]
    window.deleteLater()  # type: ignore[attr-defined]
    app.processEvents()  # type: ignore[attr-defined]
    if not ok:
        print("warning: the theory did not finish before the timeout", file=sys.stderr)
    print(f"screenshot saved to {path}" if saved else f"could not save {path}")
    return 0 if saved else 1


if __name__ == "__main__":
    sys.exit(main())
