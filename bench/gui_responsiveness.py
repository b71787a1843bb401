"""GUI responsiveness while a simulation runs in the worker thread.

A QTimer at 5 ms records when the GUI thread gets to run; the largest gap between two
ticks is how long the window was frozen. Measured in one process, in this order:

1. baseline: the main window idle (the live theory finished), no simulation;
2. the same window while ``engine.runner.run`` simulates at ``d = 2000`` in the worker
   (progress signals, streamed points and their redraws included).

Prints a table (median / 99th percentile / max gap, and the ratio to the baseline).
Goal: max gap under 50 ms during the simulation.

Usage: ``QT_QPA_PLATFORM=offscreen python bench/gui_responsiveness.py [--d 2000]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TICK_MS = 5


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
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(Path("/tmp") / "fsl-bench-settings"))
    app = QApplication([])
    from engine.presets import default_preset, load_preset
    from gui.main_window import MainWindow

    config = load_preset(default_preset()).with_model(d=args.d)
    config = config.with_run(seeds=tuple(range(args.seeds)), simulate=("network", "srf"))
    window = MainWindow(QSettings(), initial_config=config)
    window.resize(1500, 900)
    window.show()
    t0 = time.monotonic()
    while window.theory_tasks.busy and time.monotonic() - t0 < 120:
        run_loop_for(app, 0.1)
    run_loop_for(app, 0.5)

    rec = GapRecorder()
    rec.start()
    run_loop_for(app, args.baseline_s)
    base = rec.stop()

    done = QEventLoop()
    window.sig_simulation_finished.connect(done.quit)
    QTimer.singleShot(int(args.max_s * 1000), window.sim_tasks.cancel)
    stages: list[tuple[float, str]] = []
    window.sim_tasks.sig_progress.connect(
        lambda _rid, _f, msg: stages.append((rec.clock.nsecsElapsed() / 1e6, msg)))
    rec.start()
    t_sim = time.monotonic()
    window.start_simulation()
    done.exec()
    sim_s = time.monotonic() - t_sim
    during = rec.stop()
    ok = window._sim_result is not None  # noqa: SLF001 - the bench reads the window state
    window.close()
    app.processEvents()

    def row(name: str, gaps: np.ndarray, ref: np.ndarray | None) -> str:
        med, p99, mx = (float(np.median(gaps)), float(np.percentile(gaps, 99)),
                        float(np.max(gaps)))
        ratio = f"{mx / float(np.max(ref)):6.2f}" if ref is not None else "  1.00"
        return (f"{name:<34s} {gaps.size:7d} {med:9.2f} {p99:9.2f} {mx:9.2f} {ratio}")

    print(f"GUI responsiveness: {TICK_MS} ms timer, d = {args.d}, "
          f"{args.seeds} seed(s), network + sRF, kind = spectrum")
    print(f"{'condition':<34s} {'ticks':>7s} {'median':>9s} {'p99':>9s} {'max':>9s} "
          f"{'max/base':>6s}")
    print(f"{'':<34s} {'':>7s} {'(ms)':>9s} {'(ms)':>9s} {'(ms)':>9s}")
    print(row("idle window (baseline)", base, None))
    print(row(f"simulation running ({sim_s:.1f} s)", during, base))
    # where the worst stalls happened (the stage reported just before each)
    stamps = np.asarray(rec.stamps[1:], dtype=float)
    for i in np.argsort(during)[::-1][:3]:
        end = stamps[i]
        before = [m for t, m in stages if t <= end - during[i]]
        print(f"  stall of {during[i]:7.1f} ms ending at {end / 1000:6.2f} s, "
              f"after stage: {before[-1] if before else '(start)'}")
    verdict = "PASS" if float(np.max(during)) < 50.0 else "FAIL"
    print(f"goal: max gap < 50 ms during the simulation -> {verdict}"
          f"{'' if ok else ' (simulation did not complete: cancelled or failed)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
