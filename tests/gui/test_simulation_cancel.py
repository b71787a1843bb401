"""Cancel frees the machine: a window's simulation runs in a child process that Cancel
terminates; nothing of a cancelled run is left, memory returns, closing leaves nothing."""

from __future__ import annotations

import gc
import time

import psutil
from conftest import small
from processes import child_pids, new_children
from PySide6.QtCore import QSettings

from engine.presets import load_preset
from gui.panels.run_panel import SETTINGS_WORKERS

ROUNDS = 5
THEORY_TIMEOUT = 30000


def _computing(before: set[int]) -> bool:
    """A child has spent over 1.5 s of CPU: past its start-up (imports ~0.5 s), inside
    the simulation (at d = 2200 an eigendecomposition of seconds)."""
    for p in new_children(before):
        try:
            if sum(p.cpu_times()[:2]) > 1.5:
                return True
        except psutil.NoSuchProcess:
            pass
    return False


def _rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


def _slow_config():  # noqa: ANN202
    config = small(load_preset("Large step, a = 1"), d=2200)
    return config.with_run(kind="spectrum", simulate=("network",), seeds=(0, 1),
                           theory=True)


def test_five_cancels_leave_no_process_and_return_the_memory(qtbot, make_window):
    before = child_pids()
    w = make_window(_slow_config())
    qtbot.waitUntil(lambda: not w.theory_tasks.busy, timeout=THEORY_TIMEOUT)
    rss_start = _rss()
    waits = []
    for _ in range(ROUNDS):
        assert w.start_simulation()
        qtbot.waitUntil(lambda: _computing(before), timeout=60000)
        t0 = time.monotonic()
        with qtbot.waitSignal(w.sig_simulation_finished, timeout=10000):
            w.cancel_button.click()
        qtbot.waitUntil(lambda: not new_children(before), timeout=5000)
        waits.append(time.monotonic() - t0)
    time.sleep(2.0)
    left = new_children(before)
    rss_end = _rss()
    print(f"cancel -> no child process: {', '.join(f'{t:.2f}' for t in waits)} s; "
          f"RSS {rss_start / 2**20:.0f} -> {rss_end / 2**20:.0f} MiB")
    assert not left, [p.cmdline() for p in left]
    assert rss_end <= 1.15 * rss_start  # (latencies: bench/cancel_latency.py)
    assert not w.sim_tasks.busy and w.run_button.isEnabled()
    assert not w.banner.isVisible()


def test_closing_during_a_simulation_leaves_no_process(qtbot, make_window):
    from gui.workers import running_threads

    before = child_pids()
    w = make_window(_slow_config())
    qtbot.waitUntil(lambda: not w.theory_tasks.busy, timeout=THEORY_TIMEOUT)
    w.start_simulation()
    qtbot.waitUntil(lambda: _computing(before), timeout=60000)
    w.close()
    assert not running_threads()
    assert not new_children(before)


def test_where_to_run_is_a_preference(qtbot, make_window):
    w = make_window()
    where = w.run_panel.where
    where.workers.setValue(3)
    assert int(QSettings().value(SETTINGS_WORKERS)) == 3
    options = w.run_panel.execution_options()
    assert options["execution"].mode == "processes" and options["execution"].workers == 3
    assert options["execution"].isolate and options["cache"] is not None  # cache: default on
    where.use_cache.setChecked(False)
    assert w.run_panel.execution_options()["cache"] is None
    where.dask.setChecked(True)
    where.scheduler.setText("not an address")
    assert w.run_panel.execution_options() is None
    assert "simulation.scheduler" in w.run_panel.marked_keys()
    # a fresh window reads the preferences back
    w2 = make_window()
    assert w2.run_panel.where.workers.value() == 3 and w2.run_panel.where.dask.isChecked()


def test_check_lists_the_local_workers(qtbot, make_window):
    w = make_window()
    where = w.run_panel.where
    where.local.setChecked(True)
    where.workers.setValue(2)
    where.check_button.click()
    qtbot.waitUntil(lambda: "2 workers" in where.report.text(), timeout=10000)
    assert "local worker 2/2" in where.report.text()
