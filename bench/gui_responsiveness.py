"""GUI responsiveness: the window during a simulation and during a burst of edits.

A QTimer at 5 ms records when the GUI thread gets to run; the largest gap between two
ticks is how long the window was frozen. Measured in one process, in this order:

1. baseline: the main window idle (the live theory finished), nothing running;
2. the same window while a simulation at ``d = 2000`` runs (progress signals, streamed
   points, their redraws and the final redraw of the result included);
3. a burst of 200 edits of eta_tilde 5 ms apart (a fast slider drag), until the live
   theory has settled.

Prints a table (median / 99th percentile / max gap, and the max's ratio to the
baseline); the last line reads PASS or FAIL with the figures. Goals: max gap under
50 ms during the simulation, under 100 ms during the burst.

Usage: ``QT_QPA_PLATFORM=offscreen python bench/gui_responsiveness.py [--d 2000]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TICK_MS = 5
SIM_GOAL_MS = 50.0
BURST_GOAL_MS = 100.0
BURST_EDITS = 200
BURST_EVERY_MS = 5


class GapRecorder:
    """Timestamps of a 5 ms timer; gaps between them are GUI-thread stalls."""

    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.stamps: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._on_timer_timeout)

    def _on_timer_timeout(self) -> None:
        self.stamps.append(self.clock.nsecsElapsed() / 1e6)

    def start(self) -> None:
        self.stamps = []
        self.clock.start()
        self.timer.start()

    def stop(self) -> np.ndarray:
        self.timer.stop()
        return np.diff(np.asarray(self.stamps, dtype=float))


def run_loop_for(app: QApplication, seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def wait_theory(app: QApplication, window: object, limit_s: float = 120.0) -> None:
    t0 = time.monotonic()
    while window.theory_tasks.busy and time.monotonic() - t0 < limit_s:  # type: ignore
        run_loop_for(app, 0.05)


def measure_simulation(app: QApplication, window: object, rec: GapRecorder,
                       max_s: float) -> tuple[np.ndarray, float, bool]:
    """Gaps while the window simulates (and draws the result)."""
    done = QEventLoop()
    window.sig_simulation_finished.connect(done.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(int(max_s * 1000), window.sim_tasks.cancel)  # type: ignore
    rec.start()
    t0 = time.monotonic()
    window.start_simulation()  # type: ignore[attr-defined]
    done.exec()
    run_loop_for(app, 0.5)  # the final redraw happens after the finished signal
    seconds = time.monotonic() - t0
    gaps = rec.stop()
    return gaps, seconds, window.current_simulation() is not None  # type: ignore


def measure_burst(app: QApplication, window: object, rec: GapRecorder) -> np.ndarray:
    """Gaps during a burst of edits of eta_tilde and until the theory has settled."""
    spin = window.model_panel.eta_tilde  # type: ignore[attr-defined]
    values = iter(np.linspace(0.5, 6.0, BURST_EDITS))
    timer = QTimer()
    timer.setInterval(BURST_EVERY_MS)

    def edit() -> None:
        value = next(values, None)
        if value is None:
            timer.stop()
        else:
            spin.setValue(float(value))

    timer.timeout.connect(edit)
    rec.start()
    timer.start()
    while timer.isActive():
        run_loop_for(app, 0.05)
    run_loop_for(app, 0.3)  # the debounce
    wait_theory(app, window)
    run_loop_for(app, 0.3)
    return rec.stop()


def row(name: str, gaps: np.ndarray, ref: np.ndarray | None) -> str:
    med, p99, mx = float(np.median(gaps)), float(np.percentile(gaps, 99)), float(gaps.max())
    ratio = f"{mx / float(np.max(ref)):8.2f}" if ref is not None else "    1.00"
    return f"{name:<36s} {gaps.size:7d} {med:9.2f} {p99:9.2f} {mx:9.2f} {ratio}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=2000)
    parser.add_argument("--baseline-s", type=float, default=5.0)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--max-s", type=float, default=600.0,
                        help="cancel the simulation after this many seconds")
    args = parser.parse_args()

    QCoreApplication.setOrganizationName("FeatureSpectrumLabBench")
    QCoreApplication.setApplicationName("gui-responsiveness")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    settings_dir = tempfile.TemporaryDirectory()
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir.name)
    app = QApplication([])
    from engine.presets import default_preset, load_preset
    from gui.main_window import MainWindow

    config = load_preset(default_preset()).with_model(d=args.d)
    config = config.with_run(seeds=tuple(range(args.seeds)), simulate=("network", "srf"))
    window = MainWindow(QSettings(), initial_config=config)
    window.resize(1500, 900)
    window.show()
    wait_theory(app, window)
    run_loop_for(app, 0.5)

    rec = GapRecorder()
    rec.start()
    run_loop_for(app, args.baseline_s)
    base = rec.stop()
    during, sim_s, ok = measure_simulation(app, window, rec, args.max_s)
    burst = measure_burst(app, window, rec)
    window.close()
    app.processEvents()

    print(f"GUI responsiveness: {TICK_MS} ms timer, d = {args.d}, {args.seeds} seed(s), "
          f"network + sRF, kind = spectrum; burst: {BURST_EDITS} edits {BURST_EVERY_MS} ms "
          f"apart")
    print(f"{'condition':<36s} {'ticks':>7s} {'median':>9s} {'p99':>9s} {'max':>9s} "
          f"{'max/base':>8s}")
    print(f"{'':<36s} {'':>7s} {'(ms)':>9s} {'(ms)':>9s} {'(ms)':>9s}")
    print(row("idle window (baseline)", base, None))
    print(row(f"simulation and final redraw ({sim_s:.1f} s)", during, base))
    print(row("burst of edits until settled", burst, base))
    sim_max, burst_max = float(during.max()), float(burst.max())
    verdict = "PASS" if sim_max < SIM_GOAL_MS and burst_max < BURST_GOAL_MS and ok else "FAIL"
    print(f"{verdict}: max gap {sim_max:.0f} ms during the simulation (goal < {SIM_GOAL_MS:.0f}),"
          f" {burst_max:.0f} ms during the burst (goal < {BURST_GOAL_MS:.0f})"
          f"{'' if ok else '; the simulation did not complete (cancelled or failed)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
