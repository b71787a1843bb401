"""The one worker mechanism of the GUI (docs/architecture.md#threads).

A :class:`TaskManager` owns one :class:`QThread` and one :class:`Worker` moved to it.
``start(fn, config)`` runs ``fn(config, progress=..., cancel=..., on_point=...)`` (an
engine function such as :func:`engine.runner.run` or :func:`engine.runner.run_theory`)
in that thread. Every run carries a run id: starting a new run cancels the old one
(its :class:`~engine.progress.CancelToken` is set) and any signal of an older run that
is still queued is dropped here, so receivers only ever see the current run.

Why one persistent thread per manager rather than a thread per run: a ``QThread``
destroyed while running aborts the process, and a queue of requests on a single
thread serialises runs for free (a request whose token is already set is skipped
without starting, which also coalesces a burst of slider moves).

Outcomes of a run, always followed by ``sig_finished(run_id)``:
``sig_result`` (success), ``sig_cancelled`` (a normal outcome, not an error) or
``sig_error`` (message and traceback).
"""

from __future__ import annotations

import os
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.errors import Cancelled, EngineError
from engine.progress import CancelToken

#: Minimum interval between two progress signals of one run: a solver may report
#: thousands of times per second and every signal is an event in the GUI queue.
PROGRESS_INTERVAL_S = 0.05

TaskFn = Callable[..., Any]

#: Niceness added to worker threads (Linux: per-thread). Why: on a busy machine the GUI
#: thread must win the CPU (and with it the GIL hand-over) against the worker; Qt's
#: QThread priorities are no-ops under Linux's default scheduler.
WORKER_NICENESS = 5

#: Every worker thread ever started (weakly held), so tests can assert none is left.
_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()


def running_threads() -> list[QThread]:
    """Worker threads that are still running (should be empty after a window closed)."""
    alive = []
    for t in list(_THREADS):
        try:
            if t.isRunning():
                alive.append(t)
        except RuntimeError:  # the C++ object is gone: not running
            pass
    return alive


class Worker(QObject):
    """Runs tasks in its own thread; talks to the GUI only through signals.

    Signals carry the run id first. Payloads are results built freshly in this thread
    (never arrays shared with a live computation), so the GUI thread can keep them.
    """

    sig_progress = Signal(int, float, str)
    sig_point = Signal(int, int, int, object)
    sig_result = Signal(int, object)
    sig_error = Signal(int, str, str)
    sig_cancelled = Signal(int)
    sig_finished = Signal(int)

    @Slot()
    def _on_thread_started(self) -> None:
        """Runs in the worker thread: lower its scheduling priority (best effort)."""
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid,
                           os.getpriority(os.PRIO_PROCESS, tid) + WORKER_NICENESS)
        except (AttributeError, OSError):
            pass  # not Linux, or not permitted: keep the default priority

    @Slot(int, object, object, object, bool)
    def _on_manager_request(self, run_id: int, fn: TaskFn, config: Any,
                            cancel: CancelToken, streaming: bool) -> None:
        # A request whose token is set was superseded while it waited in the queue.
        if cancel.is_set():
            self.sig_cancelled.emit(run_id)
            self.sig_finished.emit(run_id)
            return
        last = [0.0]

        def progress(fraction: float, message: str) -> None:
            now = time.monotonic()
            if fraction >= 1.0 or now - last[0] >= PROGRESS_INTERVAL_S:
                last[0] = now
                self.sig_progress.emit(run_id, float(fraction), str(message))

        def on_point(curve_index: int, point_index: int, point: Any) -> None:
            self.sig_point.emit(run_id, int(curve_index), int(point_index), point)

        kwargs: dict[str, Any] = {"progress": progress, "cancel": cancel}
        if streaming:
            kwargs["on_point"] = on_point
        try:
            result = fn(config, **kwargs)
        except Cancelled:
            self.sig_cancelled.emit(run_id)
        except EngineError as exc:
            # Expected failures (non-convergence, memory guard, bad input): the message
            # is the point; the traceback is still available behind "details".
            self.sig_error.emit(run_id, f"{type(exc).__name__}: {exc}", traceback.format_exc())
        except Exception as exc:  # noqa: BLE001 - a worker must never take the app down
            self.sig_error.emit(run_id, f"{type(exc).__name__}: {exc}", traceback.format_exc())
        else:
            self.sig_result.emit(run_id, result)
        self.sig_finished.emit(run_id)


class TaskManager(QObject):
    """One task at a time on one worker thread, with stale signals dropped.

    Public signals have the same shape as the :class:`Worker`'s but only fire for the
    current run. Connect them to ``@Slot`` methods of GUI objects.
    """

    sig_progress = Signal(int, float, str)
    sig_point = Signal(int, int, int, object)
    sig_result = Signal(int, object)
    sig_error = Signal(int, str, str)
    sig_cancelled = Signal(int)
    sig_finished = Signal(int)
    sig_busy_changed = Signal(bool)

    # Internal: a queued request to the worker thread.
    _sig_request = Signal(int, object, object, object, bool)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._run_id = 0
        self._cancel: CancelToken | None = None
        self._busy = False
        self._thread = QThread()
        self._thread.setObjectName(f"worker-{name}")
        self._worker = Worker()
        self._worker.moveToThread(self._thread)
        self._sig_request.connect(self._worker._on_manager_request)
        self._worker.sig_progress.connect(self._on_worker_progress)
        self._worker.sig_point.connect(self._on_worker_point)
        self._worker.sig_result.connect(self._on_worker_result)
        self._worker.sig_error.connect(self._on_worker_error)
        self._worker.sig_cancelled.connect(self._on_worker_cancelled)
        self._worker.sig_finished.connect(self._on_worker_finished)
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.started.connect(self._worker._on_thread_started)
        self._thread.start()
        _THREADS.add(self._thread)

    # ------------------------------------------------------------------ control
    @property
    def run_id(self) -> int:
        """Id of the current (latest) run; 0 before the first."""
        return self._run_id

    @property
    def busy(self) -> bool:
        """True from :meth:`start` until the current run's ``sig_finished``."""
        return self._busy

    @property
    def thread(self) -> QThread:
        return self._thread

    def start(self, fn: TaskFn, config: Any, *, streaming: bool = False) -> int:
        """Cancel the current run (if any) and queue ``fn(config, ...)``; return its id."""
        if not self._thread.isRunning():
            raise RuntimeError(f"task manager {self.name!r} has been shut down")
        self.cancel()
        self._run_id += 1
        self._cancel = CancelToken()
        self._set_busy(True)
        self._sig_request.emit(self._run_id, fn, config, self._cancel, streaming)
        return self._run_id

    def cancel(self) -> None:
        """Ask the current run to stop; it ends with ``sig_cancelled`` then ``sig_finished``."""
        if self._cancel is not None:
            self._cancel.set()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel, stop the thread and wait for it (call before the window goes away).

        Returns True when the thread has finished. The engine checks its token between
        chunks, so the wait is short unless one dense linear-algebra call is in flight.
        """
        self.cancel()
        self._run_id += 1  # whatever still arrives is stale
        self._set_busy(False)
        if self._thread.isRunning():
            self._thread.requestInterruption()
            self._thread.quit()
            return self._thread.wait(timeout_ms)
        return True

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.sig_busy_changed.emit(busy)

    # ------------------------------------------------------------------ worker -> GUI
    @Slot(int, float, str)
    def _on_worker_progress(self, run_id: int, fraction: float, message: str) -> None:
        if run_id == self._run_id:
            self.sig_progress.emit(run_id, fraction, message)

    @Slot(int, int, int, object)
    def _on_worker_point(self, run_id: int, curve_index: int, point_index: int,
                         point: Any) -> None:
        if run_id == self._run_id:
            self.sig_point.emit(run_id, curve_index, point_index, point)

    @Slot(int, object)
    def _on_worker_result(self, run_id: int, result: Any) -> None:
        if run_id == self._run_id:
            self.sig_result.emit(run_id, result)

    @Slot(int, str, str)
    def _on_worker_error(self, run_id: int, message: str, tb: str) -> None:
        if run_id == self._run_id:
            self.sig_error.emit(run_id, message, tb)

    @Slot(int)
    def _on_worker_cancelled(self, run_id: int) -> None:
        if run_id == self._run_id:
            self.sig_cancelled.emit(run_id)

    @Slot(int)
    def _on_worker_finished(self, run_id: int) -> None:
        if run_id == self._run_id:
            self._cancel = None
            self._set_busy(False)
            self.sig_finished.emit(run_id)
