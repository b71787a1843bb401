"""Headless export: ``python main.py --run SESSION.json --export DIR``.

Draws every view of a session offscreen exactly as the main window does and writes what
the app's export menus write: every figure in PNG, SVG and PDF (with the session's
saved view: tab options, log axes, ranges), the result's data files, one data file per
view and a session file that reopens in the app. The simulations stored in the session
are reused when they belong to its configuration (``recompute=True`` runs them again);
the theory is recomputed (it takes seconds at most).

Every check happens before any computation: the style, the DPI, the output folder, and
without ``force`` every file that would be replaced. The set of files is published in
one step (:func:`engine.files.write_set`): a kill leaves the folder as it was or with
the complete export.

Exit status, as the command line of the engine (docs/cli.md):

==== ==============================================================================
0    success
1    any other failure (e.g. output files exist and ``force`` was not given)
2    invalid session, configuration or option (the message names it)
3    the theory did not converge somewhere; everything is still exported
4    the memory guard refused the run
130  interrupted (Ctrl-C)
==== ==============================================================================
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from engine.cli import (
    EXIT_CONFIG,
    EXIT_ERROR,
    EXIT_INTERRUPT,
    EXIT_MEMORY,
    EXIT_OK,
    EXIT_THEORY,
    ProgressBar,
)
from engine.config import Config
from engine.errors import Cancelled, ConfigError, EngineError, MemoryGuardError
from engine.files import check_targets, write_set
from engine.results import RunResult
from engine.runner import run
from engine.session import SESSION_FILE, SessionError, load_session
from engine.views import Views, export_files, exported_views, simulation_matches

FIGURE_FORMATS = ("png", "svg", "pdf")
DPI_RANGE = (10, 2400)


@dataclass(frozen=True)
class ExportOptions:
    """How to export: style, PNG resolution, figure size in inches, overwrite, rerun."""

    style: str = "presentation"
    dpi: float = 150
    width_in: float = 6.0
    height_in: float = 4.0
    force: bool = False
    recompute: bool = False


class UsageError(Exception):
    """An option or output folder that cannot work: refused before computing."""


def _say(stream: TextIO, text: str) -> None:
    stream.write(text + "\n")
    stream.flush()


def run_headless(session_path: str | os.PathLike[str], export_dir: str | os.PathLike[str], *,
                 style: str = "presentation", dpi: float = 150, force: bool = False,
                 recompute: bool = False, width_in: float = 6.0, height_in: float = 4.0,
                 ui: dict[str, Any] | None = None, stream: TextIO | None = None) -> int:
    """Export every figure and data file of a session; return the exit status.

    Parameters
    ----------
    session_path : str or path-like
        A session file (or a plain configuration file).
    export_dir : str or path-like
        Output folder (created if missing).
    style : {"presentation", "screen"}
    dpi : float
        PNG resolution.
    force : bool
        Replace existing files; without it nothing runs if an output exists.
    recompute : bool
        Run the simulations again even when the session holds them.
    width_in, height_in : float
        Figure size in inches.
    ui : dict, optional
        The view to draw with (tab and plot options, as a session's ``ui``), instead of
        the session's own: a preset's view when the session is a preset's file.
    stream : text stream, optional
        Progress and messages (default ``sys.stderr``).
    """
    err = stream if stream is not None else sys.stderr
    options = ExportOptions(style=style, dpi=dpi, width_in=width_in, height_in=height_in,
                            force=force, recompute=recompute)
    try:
        return _export(Path(session_path), Path(export_dir), options, err, ui)
    except (UsageError, SessionError, ConfigError) as exc:
        _say(err, f"error: {exc}")
        return EXIT_CONFIG
    except MemoryGuardError as exc:
        _say(err, f"error: not enough memory: {exc}")
        return EXIT_MEMORY
    except (KeyboardInterrupt, Cancelled):
        _say(err, "interrupted")
        return EXIT_INTERRUPT
    except FileExistsError as exc:
        _say(err, f"error: {exc}")
        return EXIT_ERROR
    except (EngineError, OSError) as exc:
        _say(err, f"error: {exc}")
        return EXIT_ERROR


def _check_options(options: ExportOptions) -> Any:
    from gui.style import get_style

    lo, hi = DPI_RANGE
    if not lo <= options.dpi <= hi:
        raise UsageError(f"--dpi must be in [{lo}, {hi}], got {options.dpi:g}")
    try:
        return get_style(options.style)
    except ValueError as exc:
        raise UsageError(f"--style: {exc}") from None


def _figure_names() -> list[str]:
    from gui.plots import PLOT_CLASSES

    return [f"{cls.name}.{fmt}" for cls in PLOT_CLASSES for fmt in FIGURE_FORMATS]


def _export(session_path: Path, export_dir: Path, options: ExportOptions, err: TextIO,
            ui: dict[str, Any] | None = None) -> int:
    export_style = _check_options(options)
    session = load_session(session_path)
    config = session.config
    view = session.ui if ui is None else ui
    try:
        check_targets(export_dir, _figure_names() + [SESSION_FILE], force=options.force,
                      patterns=("*.csv", "view_*.json", "result.json", "arrays.npz"))
    except (NotADirectoryError, IsADirectoryError, PermissionError) as exc:
        raise UsageError(f"--export {export_dir}: {exc}") from None
    sims = _simulations(session.result, config, options, err)
    # a run made here solved the theory of its points: reused, not solved again
    fresh = sims is not None and sims is not session.result and config.run.theory
    bundle, views = exported_views(config, sims, theory_run=sims if fresh else None)
    figures = _render_figures(views, view, export_style, options)
    result = sims if sims is not None else bundle.run
    files = dict(figures)
    files.update(export_files(config, result, views, ui=view))
    written = write_set(export_dir, files, force=options.force)
    for path in written:
        _say(err, f"wrote {path}")
    if bundle.failures:
        _say(err, f"error: the theory did not converge everywhere: {'; '.join(bundle.failures)}")
        return EXIT_THEORY
    return EXIT_OK


def _simulations(stored: RunResult | None, config: Config, options: ExportOptions,
                 err: TextIO) -> RunResult | None:
    """The session's simulations when they belong to its configuration, else a run."""
    has_sims = stored is not None and any(p.sims for c in stored.curves for p in c.points)
    if has_sims and not options.recompute and simulation_matches(stored.config, config):
        _say(err, "using the simulations stored in the session (--recompute runs them again)")
        return stored
    if not config.run.simulate:
        return None
    _say(err, f"running {len(config.points())} point(s) x {len(config.run.seeds)} seed(s), "
              f"simulating {', '.join(config.run.simulate)}")
    bar = ProgressBar(err)
    try:
        return run(config, progress=bar)
    finally:
        bar.close()


def _render_figures(views: Views, ui: dict[str, Any], style: Any,
                    options: ExportOptions) -> dict[str, bytes]:
    """Every plot drawn offscreen with the session's view, rendered in every format."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QLocale
    from PySide6.QtWidgets import QApplication

    QLocale.setDefault(QLocale.c())
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "fsl"])
    from gui.figure_export import render_bytes
    from gui.plots import create_plots

    plots = create_plots()
    try:
        states = ui.get("plots") or {}
        out = {}
        for plot in plots:
            state = states.get(plot.name)
            if isinstance(state, dict):
                plot.apply_view_state(state)
            plot.set_views(views)
            if not plot.export_data():
                continue  # nothing to show (the phase diagram of a run without a grid)
            for fmt in FIGURE_FORMATS:
                out[f"{plot.name}.{fmt}"] = render_bytes(
                    plot, fmt, width_in=options.width_in, height_in=options.height_in,
                    dpi=options.dpi, style=style)
        return out
    finally:
        # Delete the widgets while the event loop can still process it: tearing Qt down
        # with live widgets at exit can segfault (docs/architecture.md#pitfalls).
        for plot in plots:
            plot.close()
            plot.deleteLater()
        app.processEvents()
