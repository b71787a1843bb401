"""Where a run executes: serial, local worker processes, Dask; same numbers, progress, cancel."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from processes import child_pids, new_children

from engine import execution as ex
from engine.config import Config
from engine.errors import Cancelled
from engine.execution import Execution, ExecutionError, ProcessExecutor
from engine.progress import CancelToken
from engine.runner import run

ROOT = Path(__file__).resolve().parents[2]

#: Where a different BLAS thread count may change the last bits (docs/cli.md).
RTOL = 1e-9


def _config(kind="errors", seeds=(0, 1), d=80) -> Config:
    return Config.from_dict({"model": {"d": d, "noise": 0.1}, "run": {
        "kind": kind, "theory": False, "simulate": ["network", "srf"], "seeds": list(seeds),
        "n_test": 300, "grid": {"x": {"param": "alpha", "values": [0.5, 2.0]},
                                "y": {"param": "eta_tilde", "values": [0.0, 3.0]}}}})


def _numbers(result) -> list[tuple[str, float | np.ndarray]]:
    out = []
    for c in result.curves:
        for p in c.points:
            for name in sorted(p.sims):
                for s in p.sims[name]:
                    out += [(f"{p.value} {name} {s.seed} {k}", getattr(s, k)) for k in
                            ("test_error", "train_error", "eigenvalues", "fhat_mean")
                            if getattr(s, k) is not None]
    return out


def _assert_same(a, b) -> None:
    na, nb = _numbers(a), _numbers(b)
    assert [k for k, _ in na] == [k for k, _ in nb]
    for (key, x), (_, y) in zip(na, nb, strict=True):
        np.testing.assert_allclose(y, x, rtol=RTOL, atol=0, err_msg=key)


@pytest.fixture
def before() -> set[int]:
    """The child processes alive when a test starts (e.g. the module's Dask cluster)."""
    return child_pids()


@pytest.fixture(scope="module")
def cluster():
    """A real Dask LocalCluster on the loopback address: two single-threaded processes."""
    distributed = pytest.importorskip("distributed")
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 host="127.0.0.1", dashboard_address=None,
                                 silence_logs=logging.ERROR)
    try:
        yield c
    finally:
        c.close()


def test_dask_cluster_equals_serial(cluster):
    cfg = _config(kind="spectrum")
    serial = run(cfg)
    messages = []
    on_dask = run(cfg, execution=Execution.scheduler(cluster.scheduler_address),
                  progress=lambda f, m: messages.append(m))
    _assert_same(serial, on_dask)
    # progress streamed from inside the tasks on the workers (a stage of a simulation)
    assert any("seed" in m and (": gradient step" in m or ": sRF weights" in m)
               for m in messages)


def test_dask_local_cluster_started_for_the_run_equals_serial(before):
    cfg = _config(seeds=(0,))
    _assert_same(run(cfg), run(cfg, execution=Execution.dask_local(2)))
    time.sleep(0.5)
    assert not new_children(before)  # the run's cluster is gone


def test_two_worker_processes_equal_serial(before):
    cfg = _config(kind="spectrum", seeds=(0, 1, 2))
    messages = []
    local = run(cfg, execution=Execution.local(2), progress=lambda f, m: messages.append(m))
    _assert_same(run(cfg), local)
    # progress streamed from inside the tasks in the worker processes
    assert any("seed" in m and (": gradient step" in m or ": sRF weights" in m)
               for m in messages)
    assert not new_children(before)


def test_progress_counts_the_tasks_running_at_once():
    """Which tasks overlap in the worker processes depends on the machine's load; the
    meter's arithmetic does not."""
    seen: list[tuple[float, str]] = []
    tasks = [ex.Task(fn=print, args=(), weight=w, label=f"task {i}")
             for i, w in enumerate((1.0, 1.0, 2.0))]
    meter = ex._Meter(tasks, lambda f, m: seen.append((f, m)))
    meter.report(0, 0.5, "step")
    meter.report(1, 0.5, "step")
    meter.report(2, 0.25, "step")
    assert seen[0] == (0.125, "task 0: step")
    assert seen[1] == (0.25, "task 1: step (2 running)")
    assert seen[2] == (0.375, "task 2: step (3 running)")
    meter.report(0, 1.0, "last")  # a finished task's last message: no longer running
    meter.finish(0)
    assert seen[-1] == (0.5, "task 0: done")
    meter.report(1, 0.75, "step")
    assert seen[-1][1] == "task 1: step (2 running)"
    meter.finish(1)
    meter.finish(2)
    assert seen[-1] == (1.0, "task 2: done")


def test_workers_2_on_the_command_line_equals_serial_bit_for_bit(tmp_path):
    """With the same BLAS thread count (one) serial and two workers agree exactly."""
    path = tmp_path / "config.json"
    path.write_text(_config(kind="spectrum").to_json())
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    docs = {}
    for flag in ("1", "2"):
        out = subprocess.run([sys.executable, "-m", "engine", "run", str(path), "--json",
                              "--quiet", "--no-cache", "--workers", flag],
                             capture_output=True, text=True, env=env, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        docs[flag] = json.loads(out.stdout)
    assert docs["2"]["execution"]["where"] == "on 2 local worker processes"
    for name in ("network", "srf"):
        assert docs["1"][name] == docs["2"][name]


def _slow_config() -> Config:
    # One task is an eigendecomposition (and a Cholesky) of p = 2200: seconds of LAPACK.
    return Config.from_dict({"model": {"d": 2200, "alpha": 1.0}, "run": {
        "kind": "spectrum", "theory": False, "simulate": ["network"], "seeds": [0, 1],
        "n_test": 500}})


def _busy(procs: list[psutil.Process]) -> bool:
    try:
        return any(p.cpu_times().user > 2.0 for p in procs)
    except psutil.NoSuchProcess:
        return False


def test_cancel_terminates_the_workers_within_a_second(before):
    token = CancelToken()
    outcome = {}

    def target() -> None:
        try:
            run(_slow_config(), execution=Execution.local(2), cancel=token)
        except Cancelled:
            outcome["cancelled"] = time.monotonic()

    thread = threading.Thread(target=target)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not _busy(new_children(before)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _busy(new_children(before)), "the workers never started computing"
        t0 = time.monotonic()
        token.set()
        thread.join(10)
        gone = time.monotonic()
    finally:
        token.set()
        thread.join(30)
    assert "cancelled" in outcome
    assert not new_children(before)
    print(f"cancel to no worker left: {gone - t0:.2f} s")
    assert gone - t0 < 1.5, f"cancel took {gone - t0:.2f} s"


def test_memory_guard_counts_the_workers(monkeypatch, before):
    import engine.memory as memory

    cfg = _config(d=1500)
    one = memory.estimate_peak_bytes(cfg)
    two = memory.estimate_peak_bytes(cfg, concurrent=2, processes=True)
    assert two == one + (one - memory.BASE_BYTES) + 2 * memory.WORKER_BASE_BYTES
    # a machine where one simulation fits but two at once do not
    total = int((one + two) / 2 / cfg.run.memory_fraction)
    monkeypatch.setattr(memory, "total_memory_bytes", lambda: total)
    memory.check_memory(cfg)
    with pytest.raises(memory.MemoryGuardError) as info:
        run(cfg, execution=Execution.local(2))
    assert "2 simulations at once" in str(info.value) and "fewer workers" in str(info.value)
    assert not new_children(before)  # refused before any worker started


def test_an_unreachable_scheduler_is_an_execution_error(monkeypatch):
    monkeypatch.setattr(ex, "CONNECT_TIMEOUT_S", 0.5)
    with pytest.raises(ExecutionError, match="cannot connect to the Dask scheduler"):
        run(_config(seeds=(0,)), execution=Execution.scheduler("tcp://127.0.0.1:9"))


def test_a_worker_that_dies_is_an_execution_error(before):
    from engine.runner import simulate_task

    big = _slow_config().model
    executor = ProcessExecutor(1)
    try:
        future = executor.submit(0, simulate_task, ("network", big, "spectrum", 500, 0))
        time.sleep(1.0)
        executor.processes()[0].kill()
        done = executor.wait([future], 10.0)
        with pytest.raises(ExecutionError, match="worker process ended unexpectedly"):
            executor.result(done[0])
    finally:
        executor.stop()
        executor.close()
    assert not new_children(before)


@pytest.mark.parametrize(("spec", "mode", "workers"), [
    ("local", "dask-local", None), ("local:3", "dask-local", 3)])
def test_dask_specs(spec, mode, workers):
    e = Execution.parse_dask(spec)
    assert (e.mode, e.workers) == (mode, workers)


@pytest.mark.parametrize("spec", ["remote", "local:0", "local:x", "tcp://h:1"])
def test_bad_dask_specs(spec):
    with pytest.raises(ValueError):
        Execution.parse_dask(spec)


def test_executions():
    assert Execution.local(1).mode == "serial"
    assert Execution.local(1, isolate=True).mode == "processes"
    assert Execution.local().worker_count() == ex.machine_cores()
    assert Execution.scheduler(" tcp://10.0.0.5:8786 ").address == "tcp://10.0.0.5:8786"
    with pytest.raises(ValueError):
        Execution.scheduler("10.0.0.5")
    assert isinstance(Execution.serial().open(5), ex.SerialExecutor)
    assert isinstance(Execution.local(4).open(1), ex.SerialExecutor)  # one task: in-process
