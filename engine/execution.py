"""Where a run's simulations execute: this process, local worker processes, or Dask.

A run's simulations are independent tasks (curve, point, simulated model, seed), each a
call ``fn(*args, progress=..., cancel=...)`` of a module-level engine function.
:class:`Execution` says where they run (docs/cli.md#where-a-run-executes); its
:meth:`~Execution.open` gives an :class:`Executor`, and :func:`run_tasks` submits the
tasks and hands each result to a callback as it completes. The executors schedule;
nothing here does:

- :class:`SerialExecutor`: one task after the other in the calling thread
  (``--workers 1``);
- :class:`ProcessExecutor`: a :class:`concurrent.futures.ProcessPoolExecutor` of
  *spawned* worker processes (forking a process that runs Qt or BLAS threads is unsafe);
- :class:`DaskExecutor`: futures of a :class:`distributed.Client`, on a
  :class:`distributed.LocalCluster` started for the run or on an existing scheduler.

Results do not depend on where a task ran: a task is a seeded, deterministic function of
its arguments. Worker processes run BLAS with ``cores // workers`` threads (Dask's workers
with one), which can change the last bits of a LAPACK result (docs/cli.md says which).

**Progress** travels from the workers as ``(task, fraction, message)`` through a
multiprocessing queue (local processes) or a :class:`distributed.Queue` (Dask),
throttled to :data:`PROGRESS_INTERVAL_S` per task; :func:`run_tasks` merges it into one
fraction weighted by the tasks' costs.

**Cancel**: once the run's token is set, :func:`run_tasks` asks the executor to
:meth:`~Executor.stop`: pending tasks are cancelled; running ones see a shared cancel
event (a multiprocessing event, or a :class:`distributed.Event`) that the engine's
``check_cancel`` polls between chunks; worker processes still busy after
:data:`STOP_GRACE_S` (a LAPACK call cannot be interrupted) are terminated, and so are
those whose task abandoned a LAPACK call to stop (the call would run on), so that no
computation of the run is left and its memory returns.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import signal
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures as cf
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from engine.errors import Cancelled, EngineError
from engine.progress import CancelLike, ProgressFn, null_progress

#: How often :func:`run_tasks` wakes to read progress and the cancel token (s).
POLL_S = 0.05
#: How long running tasks get to stop by themselves after a cancel before their worker
#: processes are terminated (s). Tasks poll the cancel event between chunks (~0.2 s
#: apart at the largest sizes); the GUI promises that nothing is left within 1 s.
STOP_GRACE_S = 0.3
#: Least interval between two progress messages of one task from a worker (s): each is
#: a message to the parent, or a round trip to the Dask scheduler.
PROGRESS_INTERVAL_S = 0.2
#: Least interval between two looks at a Dask cancel event from a task (s): each look
#: is a round trip to the scheduler.
CANCEL_POLL_S = 0.2
#: How long to wait for a Dask scheduler to answer (s).
CONNECT_TIMEOUT_S = 10.0
#: How worker processes start: a fresh interpreter. Forking a process that runs Qt
#: threads, BLAS threads or the sampling thread pool is unsafe.
START_METHOD = "spawn"
#: Environment variables that set the BLAS/OpenMP thread count of a new process.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

MODES = ("serial", "processes", "dask-local", "dask")

TaskFn = Callable[..., Any]
#: ``(task index, fraction of that task, message)``.
ProgressEvent = tuple[int, float, str]

log = logging.getLogger(__name__)


class ExecutionError(EngineError):
    """A run could not execute where it was asked to: the scheduler cannot be reached,
    or a worker process died (killed, or out of memory)."""


def machine_cores() -> int:
    """CPU cores this process may use (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# =========================================================================== where


@dataclass(frozen=True)
class Execution:
    """Where a run's simulations execute (docs/cli.md#where-a-run-executes).

    Attributes
    ----------
    mode : {"serial", "processes", "dask-local", "dask"}
        In the calling thread; on local worker processes; on a Dask ``LocalCluster``
        started for the run; on an existing Dask scheduler.
    workers : int or None
        Worker processes (``processes``, ``dask-local``); None: the machine's cores.
    address : str or None
        The scheduler (``dask``), e.g. ``tcp://10.0.0.5:8786``.
    isolate : bool
        ``processes`` only: run even a single task in a child process, so that a cancel
        can terminate it (the GUI); otherwise one worker runs in-process.
    """

    mode: str = "serial"
    workers: int | None = None
    address: str | None = None
    isolate: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.workers is not None and (isinstance(self.workers, bool)
                                         or not isinstance(self.workers, int)
                                         or self.workers < 1):
            raise ValueError(f"workers must be an integer >= 1, got {self.workers!r}")
        if self.mode == "dask" and not _valid_address(self.address):
            raise ValueError(f"a Dask scheduler address looks like tcp://HOST:PORT, got "
                             f"{self.address!r}")

    # Constructors ------------------------------------------------------------------
    @classmethod
    def serial(cls) -> Execution:
        """In the calling thread, one task after the other."""
        return cls("serial")

    @classmethod
    def local(cls, workers: int | None = None, *, isolate: bool = False) -> Execution:
        """``workers`` local processes (None: the machine's cores); 1 runs in-process
        unless ``isolate``."""
        if workers == 1 and not isolate:
            return cls("serial")
        return cls("processes", workers=workers, isolate=isolate)

    @classmethod
    def dask_local(cls, workers: int | None = None) -> Execution:
        """A Dask ``LocalCluster`` of ``workers`` single-threaded processes for the run."""
        return cls("dask-local", workers=workers)

    @classmethod
    def scheduler(cls, address: str) -> Execution:
        """An existing Dask scheduler at ``address`` (``tcp://HOST:PORT``)."""
        return cls("dask", address=address.strip())

    @classmethod
    def parse_dask(cls, spec: str) -> Execution:
        """``local`` or ``local:N`` (the command line's ``--dask``)."""
        head, _, count = spec.strip().partition(":")
        if head != "local":
            raise ValueError(f"--dask takes local or local:N, got {spec!r} (an existing "
                             f"scheduler is --scheduler tcp://HOST:PORT)")
        if not count:
            return cls.dask_local()
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"--dask local:N needs a number of workers N >= 1, got {spec!r}")
        return cls.dask_local(int(count))

    # Description -------------------------------------------------------------------
    def worker_count(self) -> int | None:
        """Worker processes on this machine (None: a remote scheduler decides)."""
        if self.mode == "serial":
            return 1
        if self.mode == "dask":
            return None
        return self.workers or machine_cores()

    def describe(self) -> str:
        """``"on 2 local worker processes"``, ``"in this process"``, …"""
        n = self.worker_count()
        if self.mode == "serial":
            return "in this process"
        if self.mode == "processes":
            return f"on {n} local worker process{'es' if n != 1 else ''}"
        if self.mode == "dask-local":
            return f"on a Dask LocalCluster of {n} worker{'s' if n != 1 else ''}"
        return f"on the Dask scheduler at {self.address}"

    def open(self, n_tasks: int) -> Executor:
        """An executor for ``n_tasks`` tasks (never more workers than tasks).

        Raises
        ------
        ExecutionError
            When a Dask scheduler cannot be reached.
        """
        n_tasks = max(1, int(n_tasks))
        if self.mode == "serial":
            return SerialExecutor()
        if self.mode == "dask":
            return DaskExecutor(address=self.address)
        workers = min(self.worker_count() or 1, n_tasks)
        if self.mode == "dask-local":
            return DaskExecutor(workers=workers)
        if workers == 1 and not self.isolate:
            return SerialExecutor()
        return ProcessExecutor(workers)


def _valid_address(address: str | None) -> bool:
    if not isinstance(address, str):
        return False
    scheme, sep, rest = address.strip().partition("://")
    return bool(sep and scheme and rest and " " not in rest)


# =========================================================================== executors


class Executor(ABC):
    """Runs task calls ``fn(*args, progress=..., cancel=...)`` somewhere.

    Attributes
    ----------
    concurrency : int
        Tasks that run at once (the memory guard counts them).
    separate_processes : bool
        Each concurrent task lives in a worker process of its own (the memory guard
        adds a process's own footprint per task).
    worker_resources : sequence of (int, int)
        ``(threads, memory limit in bytes)`` of each remote worker, checked by the
        memory guard against its own limit (empty where the workers share this
        machine's memory).
    """

    concurrency: int = 1
    separate_processes: bool = False
    worker_resources: Sequence[tuple[int, int]] = ()

    def bind(self, cancel: CancelLike | None, report: Callable[[int, float, str], None]
             ) -> None:
        """The run's cancel token and progress sink (used by the in-process executor)."""
        return None

    @abstractmethod
    def submit(self, task_id: int, fn: TaskFn, args: tuple[Any, ...]) -> Any:
        """Queue ``fn(*args)``; returns a future."""

    @abstractmethod
    def wait(self, pending: Sequence[Any], timeout: float) -> list[Any]:
        """The futures of ``pending`` done within ``timeout`` seconds (maybe none)."""

    def result(self, future: Any) -> Any:
        """The task's value; raises the task's exception."""
        return future.result()

    def poll_progress(self) -> list[ProgressEvent]:
        """Progress reported by the workers since the last call."""
        return []

    @abstractmethod
    def stop(self) -> None:
        """Cancel pending tasks and stop running ones (terminating workers if needed)."""

    def close(self) -> None:
        """Release the workers (after the run, or after :meth:`stop`)."""
        return None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is not None:
                self.stop()
        finally:
            self.close()


class SerialExecutor(Executor):
    """Tasks run one after the other in the thread that waits for them."""

    def __init__(self) -> None:
        self._queue: list[tuple[cf.Future[Any], int, TaskFn, tuple[Any, ...]]] = []
        self._cancel: CancelLike | None = None
        self._report: Callable[[int, float, str], None] = lambda i, f, m: None

    def bind(self, cancel: CancelLike | None, report: Callable[[int, float, str], None]
             ) -> None:
        self._cancel = cancel
        self._report = report

    def submit(self, task_id: int, fn: TaskFn, args: tuple[Any, ...]) -> cf.Future[Any]:
        future: cf.Future[Any] = cf.Future()
        self._queue.append((future, task_id, fn, args))
        return future

    def wait(self, pending: Sequence[Any], timeout: float) -> list[Any]:
        done = [f for f in pending if f.done()]
        if done or not self._queue:
            return done
        # The waiting thread is the worker: run the next task to its end.
        future, task_id, fn, args = self._queue.pop(0)
        future.set_running_or_notify_cancel()
        try:
            value = fn(*args, progress=lambda f, m: self._report(task_id, f, m),
                       cancel=self._cancel)
        except Exception as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        else:
            future.set_result(value)
        return [future]

    def stop(self) -> None:
        for future, *_ in self._queue:
            future.cancel()
        self._queue.clear()


# --------------------------------------------------------------------------- processes

#: In a worker process: the run's cancel event and progress queue (set at start-up).
_WORKER_CHANNEL: tuple[Any, Any] | None = None


def _init_process_worker(cancel: Any, progress: Any) -> None:
    """Start-up of a worker process: remember the run's channel; leave Ctrl-C to the
    parent, which stops the workers itself (a KeyboardInterrupt here would only print
    a traceback per worker)."""
    global _WORKER_CHANNEL
    _WORKER_CHANNEL = (cancel, progress)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ready() -> bool:
    """A no-op task: starts a worker process (and its imports) ahead of the real tasks."""
    import engine.runner  # noqa: F401 - the import is the point

    return True


class _Throttled:
    """A task's progress callback sending at most one message per interval (and 1.0)."""

    def __init__(self, send: Callable[[float, str], None],
                 interval: float = PROGRESS_INTERVAL_S) -> None:
        self.send = send
        self.interval = interval
        self.last = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - self.last >= self.interval:
            self.last = now
            self.send(float(fraction), str(message))


def _call_in_process(task_id: int, fn: TaskFn, args: tuple[Any, ...]) -> Any:
    """A task in a worker process, with the run's progress queue and cancel event."""
    assert _WORKER_CHANNEL is not None, "worker process started without its channel"
    cancel, progress = _WORKER_CHANNEL
    report = _Throttled(lambda f, m: progress.put((task_id, f, m)))
    return fn(*args, progress=report, cancel=cancel)


@contextlib.contextmanager
def _blas_threads(threads: int) -> Iterator[None]:
    """Processes spawned inside get ``threads`` BLAS/OpenMP threads (read at their start).

    Why: N workers with a full-machine BLAS each would oversubscribe the cores (OpenBLAS
    threads spin while they wait). The variables are restored at once; the workers are
    all spawned inside (see :class:`ProcessExecutor`).
    """
    saved = {k: os.environ.get(k) for k in BLAS_THREAD_VARIABLES}
    os.environ.update({k: str(threads) for k in BLAS_THREAD_VARIABLES})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class ProcessExecutor(Executor):
    """Tasks on ``workers`` spawned worker processes (one pool per run)."""

    separate_processes = True

    def __init__(self, workers: int) -> None:
        ctx = multiprocessing.get_context(START_METHOD)
        self.concurrency = int(workers)
        self._cancel = ctx.Event()
        self._progress = ctx.Queue()
        self._stopped = False
        threads = max(1, machine_cores() // self.concurrency)
        with _blas_threads(threads):
            self._pool = cf.ProcessPoolExecutor(
                self.concurrency, mp_context=ctx, initializer=_init_process_worker,
                initargs=(self._cancel, self._progress))
            # Spawn every worker now, inside the BLAS setting: the pool would otherwise
            # spawn them on later submits, with the parent's environment.
            for _ in range(self.concurrency):
                self._pool.submit(_ready)

    def processes(self) -> list[multiprocessing.process.BaseProcess]:
        """The worker processes (for tests and for :meth:`stop`)."""
        # Python < 3.14 has no public way to reach (or terminate) a pool's workers.
        procs = getattr(self._pool, "_processes", None) or {}
        return list(procs.values())

    def submit(self, task_id: int, fn: TaskFn, args: tuple[Any, ...]) -> cf.Future[Any]:
        return self._pool.submit(_call_in_process, task_id, fn, args)

    def wait(self, pending: Sequence[Any], timeout: float) -> list[Any]:
        done, _ = cf.wait(pending, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return list(done)

    def result(self, future: Any) -> Any:
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise ExecutionError("a worker process ended unexpectedly (killed, or out of "
                                 "memory?); the results computed so far are kept in the "
                                 "cache") from exc

    def poll_progress(self) -> list[ProgressEvent]:
        events: list[ProgressEvent] = []
        # Bounded: a burst of messages must not keep the loop from the cancel token.
        for _ in range(10000):
            try:
                events.append(self._progress.get_nowait())
            except queue.Empty:
                break
        return events

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._cancel.set()
        procs = self.processes()
        manager = getattr(self._pool, "_executor_manager_thread", None)
        self._pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + STOP_GRACE_S
        for p in procs:
            p.join(max(0.0, deadline - time.monotonic()))
        # Still alive: inside a LAPACK call, or holding one abandoned to stop. Either way
        # it computes for nothing: terminate (SIGTERM), then kill if it ignores that.
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(1.0)
            if p.is_alive():  # pragma: no cover - SIGTERM is not ignored by workers
                p.kill()
                p.join(1.0)
        if manager is not None:
            manager.join(2.0)

    def close(self) -> None:
        if not self._stopped:
            self._pool.shutdown(wait=True)
        self._progress.close()
        self._progress.join_thread()


# --------------------------------------------------------------------------- Dask


class _ThrottledEvent:
    """A :class:`distributed.Event` looked at most every :data:`CANCEL_POLL_S`."""

    def __init__(self, event: Any) -> None:
        self.event = event
        self.last = 0.0
        self.value = False

    def is_set(self) -> bool:
        now = time.monotonic()
        if not self.value and now - self.last >= CANCEL_POLL_S:
            self.last = now
            self.value = bool(self.event.is_set())
        return self.value


def _call_in_dask(token: str, task_id: int, fn: TaskFn, args: tuple[Any, ...]) -> Any:
    """A task on a Dask worker: progress through the run's queue, cancel through its event.

    The queue also says on which worker the task runs and how it ended, so that a
    cancel can restart exactly the workers that still compute for the run.
    """
    from distributed import Event, Queue, get_worker

    channel = Queue(f"fsl-progress-{token}")
    worker = get_worker().address
    channel.put((task_id, "started", worker))
    report = _Throttled(lambda f, m: channel.put((task_id, f, m)))
    ended = "ended"
    try:
        return fn(*args, progress=report, cancel=_ThrottledEvent(Event(f"fsl-cancel-{token}")))
    except Cancelled:
        # the task may have abandoned a LAPACK call that runs on in this worker
        ended = "cancelled"
        raise
    finally:
        channel.put((task_id, ended, worker))


class DaskExecutor(Executor):
    """Tasks as futures of a :class:`distributed.Client`.

    With ``address`` None a :class:`distributed.LocalCluster` of ``workers``
    single-threaded worker processes is started on the loopback interface for the run
    (and closed after it); otherwise the client connects to the scheduler at ``address``.
    """

    separate_processes = True

    def __init__(self, *, address: str | None = None, workers: int | None = None) -> None:
        import distributed

        self._distributed = distributed
        self._cluster = None
        self._stopped = False
        self._futures: list[Any] = []
        #: task -> worker address while it runs; workers to restart after a cancel
        self._running: dict[int, str] = {}
        self._tainted: set[str] = set()
        try:
            if address is None:
                self._cluster = distributed.LocalCluster(
                    n_workers=workers or machine_cores(), threads_per_worker=1,
                    processes=True, host="127.0.0.1", dashboard_address=None,
                    silence_logs=logging.ERROR)
                address = self._cluster.scheduler_address
            self._client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S,
                                              set_as_default=False)
        except (OSError, TimeoutError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            raise ExecutionError(f"cannot connect to the Dask scheduler at {address}: "
                                 f"{exc}") from None
        self.address = address
        self._token = uuid.uuid4().hex
        self._cancel = distributed.Event(f"fsl-cancel-{self._token}", client=self._client)
        self._progress = distributed.Queue(f"fsl-progress-{self._token}",
                                           client=self._client)
        #: futures in completion order (fed by the client's event loop)
        self._completed = distributed.as_completed(loop=self._client.loop)
        workers_info = self._client.scheduler_info().get("workers", {})
        self.worker_resources = [(int(w.get("nthreads", 1)), int(w.get("memory_limit") or 0))
                                 for w in workers_info.values()]
        self.concurrency = max(1, sum(n for n, _ in self.worker_resources))

    def submit(self, task_id: int, fn: TaskFn, args: tuple[Any, ...]) -> Any:
        future = self._client.submit(_call_in_dask, self._token, task_id, fn, args,
                                     key=f"fsl-{self._token}-{task_id}", pure=False)
        self._futures.append(future)
        self._completed.add(future)
        return future

    def wait(self, pending: Sequence[Any], timeout: float) -> list[Any]:
        deadline = time.monotonic() + timeout
        while not self._completed.has_ready() and time.monotonic() < deadline:
            time.sleep(0.005)
        return self._completed.next_batch(block=False)

    def result(self, future: Any) -> Any:
        try:
            return future.result()
        except self._distributed.KilledWorker as exc:
            raise ExecutionError(f"a Dask worker died while running a task ({exc})") from exc
        except cf.CancelledError:
            raise Cancelled("the task was cancelled on the Dask cluster") from None

    def poll_progress(self) -> list[ProgressEvent]:
        try:
            items = self._progress.get(batch=True)
        except (OSError, TimeoutError):  # pragma: no cover - scheduler gone
            return []
        events: list[ProgressEvent] = []
        for task_id, what, detail in items:
            if what == "started":
                self._running[task_id] = detail
            elif what in ("ended", "cancelled"):
                self._running.pop(task_id, None)
                if what == "cancelled":
                    self._tainted.add(detail)
            else:
                events.append((task_id, what, detail))
        return events

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._cancel.set()
        self._client.cancel([f for f in self._futures if not f.done()], force=True)
        deadline = time.monotonic() + STOP_GRACE_S
        self.poll_progress()
        while self._running and time.monotonic() < deadline:
            time.sleep(POLL_S)
            self.poll_progress()
        # Workers still inside a task of this run, or holding an abandoned LAPACK call:
        # restart their processes (the nanny starts fresh ones).
        workers = sorted(set(self._running.values()) | self._tainted)
        if workers:
            try:
                self._client.restart_workers(workers, raise_for_error=False)
            except Exception as exc:  # noqa: BLE001 - best effort; the run is cancelled
                log.warning("could not restart Dask workers %s: %s", workers, exc)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()


# =========================================================================== running tasks


@dataclass(frozen=True)
class Task:
    """One call ``fn(*args, progress=..., cancel=...)`` of a run.

    ``weight`` is its rough cost (progress is weighted by it); ``label`` prefixes its
    progress messages (``"curve 1/1, alpha = 2, network seed 1/3"``).
    """

    fn: TaskFn
    args: tuple[Any, ...]
    weight: float = 1.0
    label: str = ""


class _Meter:
    """One fraction over weighted tasks, some done, some running at once."""

    def __init__(self, tasks: Sequence[Task], progress: ProgressFn) -> None:
        self.tasks = tasks
        self.progress = progress
        self.total = sum(t.weight for t in tasks) or 1.0
        self.done = 0.0
        self.running: dict[int, float] = {}

    def report(self, task_id: int, fraction: float, message: str) -> None:
        self.running[task_id] = min(max(float(fraction), 0.0), 1.0)
        label = self.tasks[task_id].label
        text = f"{label}: {message}" if label else message
        # a task's last message can arrive before its result: count unfinished ones
        running = sum(1 for f in self.running.values() if f < 1.0)
        if running > 1:
            text += f" ({running} running)"
        self.progress(self.fraction(), text)

    def finish(self, task_id: int) -> None:
        self.running.pop(task_id, None)
        self.done += self.tasks[task_id].weight
        label = self.tasks[task_id].label
        self.progress(self.fraction(), f"{label}: done" if label else "done")

    def fraction(self) -> float:
        busy = sum(f * self.tasks[i].weight for i, f in self.running.items())
        return min((self.done + busy) / self.total, 1.0)


def run_tasks(executor: Executor, tasks: Sequence[Task], *,
              on_result: Callable[[int, Any], None], progress: ProgressFn | None = None,
              cancel: CancelLike | None = None) -> None:
    """Run ``tasks`` on ``executor``; ``on_result(index, value)`` as each completes.

    Results arrive in completion order (submission order in-process). A task's
    exception is raised here (the caller's ``with executor`` then stops the others).

    Raises
    ------
    Cancelled
        Once ``cancel`` is set: the executor is stopped first (pending tasks cancelled,
        running ones stopped or their workers terminated).
    """
    meter = _Meter(tasks, progress or null_progress)
    executor.bind(cancel, meter.report)
    pending = {executor.submit(i, t.fn, t.args): i for i, t in enumerate(tasks)}
    waiting = set(pending.values())
    while pending:
        if cancel is not None and cancel.is_set():
            executor.stop()
            raise Cancelled("cancelled by the user")
        done = executor.wait(list(pending), POLL_S)
        for task_id, fraction, message in executor.poll_progress():
            if task_id in waiting:
                meter.report(task_id, fraction, message)
        for future in done:
            index = pending.pop(future)
            waiting.discard(index)
            value = executor.result(future)
            meter.finish(index)
            on_result(index, value)


# =========================================================================== workers seen


@dataclass(frozen=True)
class WorkerInfo:
    """A worker a run would use: its name, threads and memory (bytes, 0: unknown)."""

    name: str
    threads: int
    memory: int


def describe_workers(execution: Execution) -> list[WorkerInfo]:
    """The workers ``execution`` would run on (the GUI's "Check" button).

    Local modes describe this machine's worker processes (nothing is started); a Dask
    scheduler is asked for its workers.

    Raises
    ------
    ExecutionError
        When the scheduler cannot be reached.
    """
    if execution.mode != "dask":
        from engine.memory import total_memory_bytes

        n = execution.worker_count() or 1
        cores = machine_cores()
        return [WorkerInfo(f"local worker {i + 1}/{n}", max(1, cores // n),
                           total_memory_bytes() // n) for i in range(n)]
    import distributed

    try:
        with distributed.Client(execution.address, timeout=CONNECT_TIMEOUT_S,
                                set_as_default=False) as client:
            info = client.scheduler_info().get("workers", {})
    except (OSError, TimeoutError) as exc:
        raise ExecutionError(f"cannot connect to the Dask scheduler at "
                             f"{execution.address}: {exc}") from None
    return [WorkerInfo(str(w.get("name", addr)) + f" ({addr})", int(w.get("nthreads", 1)),
                       int(w.get("memory_limit") or 0)) for addr, w in sorted(info.items())]
