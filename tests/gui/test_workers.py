"""The worker mechanism without the engine: run ids, stale results, cancel, errors."""

from __future__ import annotations

import time

from engine.progress import check_cancel
from gui.workers import TaskFailure, TaskManager


def slow_task(config, *, progress, cancel, on_stage=None, on_update=None):  # noqa: ANN001, ANN201
    """Counts for ``config`` seconds in small chunks, checking the token."""
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < config:
        check_cancel(cancel)
        time.sleep(0.01)
        i += 1
        progress(min((time.monotonic() - t0) / config, 1.0), f"chunk {i}")
        if on_update is not None and i % 5 == 0:
            on_update(i)
        if on_stage is not None and i % 7 == 0:
            on_stage(f"stage {i}", i)
    return ("done", config)


def failing_task(config, *, progress, cancel):  # noqa: ANN001, ANN201
    raise ZeroDivisionError("division in the task")


def test_result_progress_updates_and_stages(qtbot):
    tm = TaskManager("test")
    progress, updates, stages = [], [], []
    tm.sig_progress.connect(lambda rid, f, m: progress.append(f))
    tm.sig_update.connect(lambda rid, p: updates.append(p))
    tm.sig_stage.connect(lambda rid, name, p: stages.append((name, p)))
    with qtbot.waitSignal(tm.sig_result, timeout=5000) as blocker:
        run_id = tm.start(slow_task, 0.3, stages=True, updates=True)
    assert blocker.args == [run_id, ("done", 0.3)]
    qtbot.waitUntil(lambda: not tm.busy, timeout=2000)
    assert progress and updates and all(u % 5 == 0 for u in updates)
    assert stages and all(name == f"stage {p}" for name, p in stages)
    # without the flags the task gets neither callback
    updates.clear()
    stages.clear()
    with qtbot.waitSignal(tm.sig_result, timeout=5000):
        tm.start(slow_task, 0.1)
    assert not updates and not stages
    assert tm.shutdown()


def test_new_run_cancels_old_and_drops_its_signals(qtbot):
    tm = TaskManager("test")
    results, cancelled = [], []
    tm.sig_result.connect(lambda rid, r: results.append((rid, r)))
    tm.sig_cancelled.connect(lambda rid: cancelled.append(rid))
    first = tm.start(slow_task, 5.0)
    qtbot.wait(100)
    second = tm.start(slow_task, 0.1)
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    # the first run's cancellation was stale by then: only the second run is reported
    assert results == [(second, ("done", 0.1))]
    assert first not in cancelled
    assert tm.shutdown()


def test_cancel_is_a_normal_outcome(qtbot):
    tm = TaskManager("test")
    errors = []
    tm.sig_error.connect(lambda *a: errors.append(a))
    tm.start(slow_task, 10.0)
    qtbot.wait(50)
    with qtbot.waitSignal(tm.sig_cancelled, timeout=1000):
        tm.cancel()
    qtbot.waitUntil(lambda: not tm.busy, timeout=1000)
    assert not errors
    assert tm.shutdown()


def test_exception_object_reported_with_traceback(qtbot):
    tm = TaskManager("test")
    with qtbot.waitSignal(tm.sig_error, timeout=3000) as blocker:
        tm.start(failing_task, None)
    _, failure = blocker.args
    assert isinstance(failure, TaskFailure)
    assert isinstance(failure.error, ZeroDivisionError)  # the object itself, not its name
    assert failure.message == "ZeroDivisionError: division in the task"
    assert "failing_task" in failure.traceback
    assert tm.shutdown()


def test_shutdown_interrupts_a_running_task(qtbot):
    tm = TaskManager("test")
    tm.start(slow_task, 30.0)
    qtbot.wait(50)
    assert tm.shutdown()  # interrupts the task and joins (latency: bench/cancel_latency.py)
    assert not tm.thread.isRunning()
