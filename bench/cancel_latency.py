"""How long a cancel takes to be honoured (the tests check that it is; this times it).

Rows (medians over repeats):

- ``simulation d = D, cancel after T s``: a network simulation with the spectrum before
  and after the step, the token set from a timer; the time from setting the token to
  :class:`~engine.errors.Cancelled` reaching the caller;
- ``eigensolver p = P``: ``gram_eigenvalues`` (LAPACK in a helper thread) cancelled
  50 ms after it started, against the full eigensolve measured in the same run (the
  ratio says how much of the call the cancel saves the caller);
- ``child process``: the app's way, a simulation in a child process (one worker,
  :class:`engine.execution.Execution` ``isolate``), cancelled once it computes; the time
  until no child process is left (the LAPACK call dies with its process).

Usage: ``python bench/cancel_latency.py [--d 2000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from engine.config import ModelConfig  # noqa: E402
from engine.errors import Cancelled  # noqa: E402
from engine.network import simulate_network  # noqa: E402
from engine.progress import CancelToken  # noqa: E402
from engine.readout import FeatureStats, gram_eigenvalues  # noqa: E402


def simulation_latency(d: int, after: float) -> float:
    """Seconds from setting the token to Cancelled, at ``after`` seconds into a run."""
    token = CancelToken()
    set_at: list[float] = []

    def fire() -> None:
        set_at.append(time.perf_counter())
        token.set()

    timer = threading.Timer(after, fire)
    timer.start()
    try:
        simulate_network(ModelConfig(d=d, beta=1.0, alpha=2.0), 0, before=True, cancel=token)
    except Cancelled:
        return time.perf_counter() - set_at[0]
    finally:
        timer.cancel()
    return float("nan")  # finished before the cancel


def eigensolver(p: int, cancel_after: float | None) -> float:
    """Seconds the caller waits: until Cancelled, or the whole eigensolve."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((p, p))
    stats = FeatureStats(gram=np.asfortranarray(a @ a.T), phi_y=np.zeros(p), y_sq=0.0, n=p)
    token = CancelToken()
    if cancel_after is not None:
        threading.Timer(cancel_after, token.set).start()
    t0 = time.perf_counter()
    try:
        gram_eigenvalues(stats, token)
    except Cancelled:
        pass
    return time.perf_counter() - t0


def child_process_latency(d: int, after: float) -> float:
    """Seconds from the cancel to no child process left, for a simulation in a child."""
    import psutil

    from engine.config import Config, RunConfig
    from engine.views import simulate

    me = psutil.Process()
    config = Config(ModelConfig(d=d), RunConfig(kind="spectrum", simulate=("network",),
                                                seeds=(0, 1), theory=False))
    token = CancelToken()
    worker = threading.Thread(target=_swallow_cancel, args=(simulate, config, token))
    worker.start()
    time.sleep(after)
    t0 = time.perf_counter()
    token.set()
    while _workers(me) and time.perf_counter() - t0 < 30:
        time.sleep(0.01)
    seconds = time.perf_counter() - t0
    worker.join()
    return seconds


def _workers(me: object) -> list[object]:
    """Child processes that compute (multiprocessing's idle resource tracker stays for
    the life of the parent: it holds no computation)."""
    import psutil

    out = []
    for child in me.children(recursive=True):  # type: ignore[attr-defined]
        try:
            if "resource_tracker" not in " ".join(child.cmdline()):
                out.append(child)
        except psutil.NoSuchProcess:  # it just ended
            pass
    return out


def _swallow_cancel(fn: object, config: object, token: CancelToken) -> None:
    from engine.execution import Execution

    try:
        fn(config, cancel=token, execution=Execution.local(1, isolate=True))  # type: ignore
    except Cancelled:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--d", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    rows = []
    for after in (0.3, 1.5):
        lat = [simulation_latency(args.d, after) for _ in range(args.repeats)]
        rows.append((f"simulation d = {args.d}, cancel after {after} s", np.nanmedian(lat),
                     None))
    full = np.median([eigensolver(args.d, None) for _ in range(args.repeats)])
    cut = np.median([eigensolver(args.d, 0.05) for _ in range(args.repeats)])
    rows.append((f"eigensolver p = {args.d}, cancel after 0.05 s", cut, cut / full))
    rows.append((f"eigensolver p = {args.d}, not cancelled (baseline)", full, 1.0))
    child = [child_process_latency(args.d, 3.0) for _ in range(args.repeats)]
    rows.append((f"child process d = {args.d}: cancel to none left", np.median(child), None))
    print(f"{'case':<48} {'median s':>9} {'ratio':>7}")
    for name, seconds, ratio in rows:
        print(f"{name:<48} {seconds:9.3f} {'' if ratio is None else f'{ratio:7.3f}':>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
