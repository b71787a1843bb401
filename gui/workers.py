"""The one worker mechanism of the GUI (docs/architecture.md#threads).

A :class:`TaskManager` owns one :class:`QThread` and one :class:`Worker` moved to it.
``start(fn, config)`` runs ``fn(config, progress=..., cancel=...)`` (an engine function
such as :func:`engine.views.live_theory` or :func:`engine.views.simulate`) in that
thread; ``stages=True`` also passes ``on_stage(name, payload)`` (reported by
``sig_stage``) and ``updates=True`` passes ``on_update(payload)`` (``sig_update``).

Every run carries a run id: starting a new run cancels the old one (its
:class:`~engine.progress.CancelToken` is set) and any signal of an older run that
is still queued is dropped here, so receivers only ever see the current run.

Why one persistent thread per manager rather than a thread per run: a ``QThread``
destroyed while running aborts the process, and a queue of requests on a single
thread serialises runs for free (a request whose token is already set is skipped
without starting, which also coalesces a burst of slider moves).

Outcomes of a run, always followed by ``sig_finished(run_id)``:
``sig_result`` (success), ``sig_cancelled`` (a normal outcome, not an error) or
``sig_error`` with a :class:`TaskFailure`: the exception object itself and its
traceback, so receivers dispatch on the exception's type.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.errors import Cancelled
from engine.progress import CancelToken

#: Minimum interval between two progress signals of one run: a solver may report
#: thousands of times per second and every signal is an event in the GUI queue.
PROGRESS_INTERVAL_S = 0.05

TaskFn = Callable[..., Any]

#: Niceness added to worker threads (Linux: per-thread). Why: on a busy machine the GUI
#: thread must win the CPU (and with it the GIL hand-over) against the worker; Qt's
#: QThread priorities are no-ops under Linux's default scheduler.
WORKER_NICENESS = 5

@dataclass(frozen=True)
class TaskFailure:
    """A task's exception, carried across threads with its formatted traceback."""

    error: BaseException
    traceback: str

    @property
    def message(self) -> str:
        """``"ConvergenceError: …"``: the exception's type and text."""
        return f"{type(self.error).__name__}: {self.error}"


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
    sig_stage = Signal(int, str, object)
    sig_update = Signal(int, object)
    sig_result = Signal(int, object)
    sig_error = Signal(int, object)
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

    @Slot(int, object, object, object, object)
    def _on_manager_request(self, run_id: int, fn: TaskFn, config: Any,
                            cancel: CancelToken, streams: tuple[str, ...]) -> None:
        # A request whose token is set was superseded while it waited in the queue.
        if cancel.is_set():
            self.sig_cancelled.emit(run_id)
            self.sig_finished.emit(run_id)
            return
        try:
            result = fn(config, **self._callbacks(run_id, cancel, streams))
        except Cancelled:
            self.sig_cancelled.emit(run_id)
        except Exception as exc:  # noqa: BLE001 - a worker must never take the app down
            # Expected failures (non-convergence, memory guard) and bugs alike travel as
            # the exception object: the receiver decides by its type what to show.
            self.sig_error.emit(run_id, TaskFailure(exc, traceback.format_exc()))
        else:
            self.sig_result.emit(run_id, result)
        self.sig_finished.emit(run_id)

    def _callbacks(self, run_id: int, cancel: CancelToken,
                   streams: tuple[str, ...]) -> dict[str, Any]:
        """``progress`` (throttled), ``cancel`` and the streams the task asked for."""
        last = [0.0]

        def progress(fraction: float, message: str) -> None:
            now = time.monotonic()
            if fraction >= 1.0 or now - last[0] >= PROGRESS_INTERVAL_S:
                last[0] = now
                self.sig_progress.emit(run_id, float(fraction), str(message))

        def on_stage(name: str, payload: Any) -> None:
            self.sig_stage.emit(run_id, str(name), payload)

        def on_update(payload: Any) -> None:
            self.sig_update.emit(run_id, payload)

        out: dict[str, Any] = {"progress": progress, "cancel": cancel}
        if "stages" in streams:
            out["on_stage"] = on_stage
        if "updates" in streams:
            out["on_update"] = on_update
        return out


class TaskManager(QObject):
    """One task at a time on one worker thread, with stale signals dropped.

    Public signals have the same shape as the :class:`Worker`'s but only fire for the
    current run. Connect them to ``@Slot`` methods of GUI objects.
    """

    sig_progress = Signal(int, float, str)
    sig_stage = Signal(int, str, object)
    sig_update = Signal(int, object)
    sig_result = Signal(int, object)
    sig_error = Signal(int, object)
    sig_cancelled = Signal(int)
    sig_finished = Signal(int)
    sig_busy_changed = Signal(bool)

    # Internal: a queued request to the worker thread.
    _sig_request = Signal(int, object, object, object, object)

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
        self._worker.sig_stage.connect(self._on_worker_stage)
        self._worker.sig_update.connect(self._on_worker_update)
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

    def start(self, fn: TaskFn, config: Any, *, stages: bool = False,
              updates: bool = False) -> int:
        """Cancel the current run (if any) and queue ``fn(config, ...)``; return its id.

        ``stages`` passes ``on_stage`` to ``fn`` (``sig_stage``), ``updates`` passes
        ``on_update`` (``sig_update``).
        """
        if not self._thread.isRunning():
            raise RuntimeError(f"task manager {self.name!r} has been shut down")
        self.cancel()
        self._run_id += 1
        self._cancel = CancelToken()
        self._set_busy(True)
        streams = tuple(name for name, on in (("stages", stages), ("updates", updates)) if on)
        self._sig_request.emit(self._run_id, fn, config, self._cancel, streams)
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

    @Slot(int, str, object)
    def _on_worker_stage(self, run_id: int, name: str, payload: Any) -> None:
        if run_id == self._run_id:
            self.sig_stage.emit(run_id, name, payload)

    @Slot(int, object)
    def _on_worker_update(self, run_id: int, payload: Any) -> None:
        if run_id == self._run_id:
            self.sig_update.emit(run_id, payload)

    @Slot(int, object)
    def _on_worker_result(self, run_id: int, result: Any) -> None:
        if run_id == self._run_id:
            self.sig_result.emit(run_id, result)

    @Slot(int, object)
    def _on_worker_error(self, run_id: int, failure: TaskFailure) -> None:
        if run_id == self._run_id:
            self.sig_error.emit(run_id, failure)

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
