"""Headless run and export: ``python main.py --run SESSION.json --export DIR``.

Runs the session's configuration offscreen (theory and simulations, with a text
progress bar on stderr), draws every plot of the GUI with the result exactly as the
main window does (the live theory bundle with its extras, then the simulation), and
writes what the GUI's export menu writes: every figure in PNG, SVG and PDF, the data
files of :func:`engine.export.write_result`, and a session file with the result that
reopens in the GUI.

Exit status, as the command line of the engine (``engine/cli.py``):

==== ==============================================================================
0    success
1    any other failure (e.g. output files exist and ``--force`` was not given)
2    invalid session or configuration (the message names the file and the key)
3    the theory did not converge somewhere; everything is still exported
4    the memory guard refused the run
130  interrupted (Ctrl-C)
==== ==============================================================================
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Any, TextIO

from engine.cli import (  # the same exit codes as `python -m engine run`
    EXIT_CONFIG,
    EXIT_ERROR,
    EXIT_INTERRUPT,
    EXIT_MEMORY,
    EXIT_OK,
    EXIT_THEORY,
)

FIGURE_FORMATS = ("png", "svg", "pdf")


def _say(stream: TextIO, text: str) -> None:
    stream.write(text + "\n")
    stream.flush()


def _targets(export_dir: Path, plot_names: list[str]) -> list[Path]:
    figs = [export_dir / f"{name}.{fmt}" for name in plot_names for fmt in FIGURE_FORMATS]
    return [*figs, export_dir / "result.json", export_dir / "arrays.npz",
            export_dir / "session.json"]


def run_headless(session_path: str | os.PathLike[str], export_dir: str | os.PathLike[str], *,
                 style: str = "presentation", dpi: float = 150, force: bool = False,
                 width_in: float = 6.0, height_in: float = 4.0,
                 stream: TextIO | None = None) -> int:
    """Run a session offscreen and export every figure and data file.

    Parameters
    ----------
    session_path : str or path-like
        A session file (or a plain configuration file).
    export_dir : str or path-like
        Output folder (created if missing).
    style : str
        ``"presentation"`` or ``"screen"``.
    dpi : float
        PNG resolution.
    force : bool
        Overwrite existing files; without it nothing is run if an output exists.
    width_in, height_in : float
        Figure size in inches.
    stream : text stream, optional
        Progress and messages (default ``sys.stderr``).

    Returns
    -------
    int
        The exit status (module docstring).
    """
    err = stream if stream is not None else sys.stderr
    from engine.cli import ProgressBar
    from engine.errors import Cancelled, ConfigError, EngineError, MemoryGuardError
    from engine.session import SessionError, load_session

    export_dir = Path(export_dir)
    try:
        from gui.style import get_style

        export_style = get_style(style)
    except ValueError as exc:
        _say(err, f"error: {exc}")
        return EXIT_CONFIG
    try:
        session = load_session(session_path)
    except SessionError as exc:
        _say(err, f"error: invalid session: {exc}")
        return EXIT_CONFIG
    config = session.config

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QLocale
    from PySide6.QtWidgets import QApplication

    QLocale.setDefault(QLocale.c())
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "fsl"])
    from gui.plots import create_plots

    plots: list[Any] = []
    bar: ProgressBar | None = None
    try:
        plots = create_plots()
        if not force:
            existing = [p for p in _targets(export_dir, [p.name for p in plots]) if p.exists()]
            if existing:
                _say(err, f"error: {len(existing)} output file(s) already exist in "
                          f"{export_dir}, e.g. {existing[0].name}; use --force to replace them")
                return EXIT_ERROR

        from engine.runner import run

        bar = ProgressBar(err)
        _say(err, f"running {session.path} (kind {config.run.kind}, "
                  f"{len(config.run.seeds)} seed(s), simulate {list(config.run.simulate)})")
        result = run(config, progress=bar)
        bar.close()
        bar = None

        _draw(plots, config, result, err)
        app.processEvents()

        from engine.export import write_result
        from engine.session import save_session
        from gui.figure_export import export_all

        export_dir.mkdir(parents=True, exist_ok=True)
        from engine.export import provenance

        seeds = sorted({s.seed for c in result.curves for p in c.points
                        for sims in p.sims.values() for s in sims}) or None
        written = export_all(plots, export_dir, style=export_style, dpi=dpi,
                             formats=FIGURE_FORMATS, width_in=width_in, height_in=height_in,
                             force=force, provenance=provenance(config, seeds))
        written += write_result(result, export_dir, force=force)
        written.append(save_session(export_dir / "session.json", config, result,
                                    ui=session.ui, force=force))
        for path in written:
            _say(err, f"wrote {path}")
        if not result.success:
            _say(err, f"error: the theory did not converge everywhere: {result.message}")
            return EXIT_THEORY
        return EXIT_OK
    except ConfigError as exc:
        _say(err, f"error: invalid configuration: {exc}")
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
    except (EngineError, OSError, ValueError, RuntimeError) as exc:
        _say(err, f"error: {type(exc).__name__}: {exc}")
        return EXIT_ERROR
    finally:
        if bar is not None:
            bar.close()
        # Delete the widgets while the event loop can still process it
        # (docs/architecture.md#pitfalls:
        # tearing Qt down with live widgets at exit can segfault).
        for plot in plots:
            plot.close()
            plot.deleteLater()
        app.processEvents()


def _draw(plots: list[Any], config: Any, result: Any, err: TextIO) -> None:
    """Give the plots what the main window gives them after a run.

    The window draws the live theory bundle (the run's theory plus extras: spectra at
    several eta_tilde for the tail, automatic learning curves, learned functions) and
    then the simulation result. Without the GUI's theory task (or if it fails) the
    plots get the run's own result, which holds the same theory at the run's points.
    """
    bundle = None
    try:
        from gui.tasks import theory_task

        bundle = theory_task(config)
    except Exception as exc:  # noqa: BLE001 - extras are optional for the export
        _say(err, f"warning: theory extras unavailable ({type(exc).__name__}: {exc}); "
                  f"figures show the run's own theory")
        if os.environ.get("FSL_DEBUG"):
            traceback.print_exc(file=err)
    for plot in plots:
        if bundle is not None:
            plot.set_theory(bundle)
            if bundle.extras is not None:
                plot.set_extras(bundle.extras)
            plot.set_simulation(result)
        else:
            plot.set_result(result)
        if hasattr(plot, "ensure_drawn"):
            plot.ensure_drawn()
