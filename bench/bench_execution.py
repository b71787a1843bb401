"""Benchmark: a 2-D simulation grid where it runs, a rerun from the cache, theory grids.

In the same run (so machine load affects every column alike), ``--repeats`` times,
interleaved, for one simulation grid (``alpha`` x ``eta_tilde``, network and sRF, two
seeds: ``--nx x --ny x 2 x 2`` tasks at ``--d``):

- ``serial``: in this process, one task after the other (``--workers 1``);
- ``workers 2``: two local worker processes (``--workers 2``), started for each run;
- ``dask local:2``: a Dask ``LocalCluster`` of two workers started for each run;
- ``cache rerun``: the same run again with every task in the cache.

Times are wall-clock medians of whole runs (worker start-up included); the ratio is
against the serial median of the same invocation. A parallel run also checks that it
gives the serial numbers (to 1e-9 relative). Then the theory of a grid
(:func:`engine.grids.grid_theory`, kind errors with the random-features baseline, and the
spectral summaries) in cells per second.

Usage: ``python bench/bench_execution.py [--d 600] [--nx 3] [--ny 2] [--repeats 3]
[--theory-size 20]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np

from engine.cache import ResultCache
from engine.config import ALaw, Config, Grid, GridAxis, ModelConfig
from engine.execution import Execution
from engine.grids import grid_theory
from engine.runner import run


def _config(d: int, nx: int, ny: int) -> Config:
    return Config.from_dict({"model": {"d": d, "noise": 0.1}, "run": {
        "kind": "errors", "theory": False, "simulate": ["network", "srf"], "seeds": [0, 1],
        "grid": {"x": {"param": "alpha", "values": [float(a) for a in
                                                     np.geomspace(0.5, 2.0, nx)]},
                 "y": {"param": "eta_tilde", "values": [float(e) for e in
                                                         np.linspace(0.0, 3.0, ny)]}}}})


def _numbers(result) -> np.ndarray:
    return np.array([(s.test_error, s.train_error) for c in result.curves for p in c.points
                     for name in sorted(p.sims) for s in p.sims[name]])


def _simulations(args: argparse.Namespace) -> None:
    cfg = _config(args.d, args.nx, args.ny)
    n_tasks = len(cfg.points()) * 4
    modes = {"serial": Execution.serial(), "workers 2": Execution.local(2),
             "dask local:2": Execution.dask_local(2)}
    times: dict[str, list[float]] = {name: [] for name in [*modes, "cache rerun"]}
    worst = 0.0
    with tempfile.TemporaryDirectory() as folder:
        run(cfg, cache=ResultCache(folder))  # fills the cache for the rerun column
        for _ in range(args.repeats):
            reference = None
            for name, execution in modes.items():
                t0 = time.perf_counter()
                result = run(cfg, execution=execution)
                times[name].append(time.perf_counter() - t0)
                values = _numbers(result)
                if reference is None:
                    reference = values
                worst = max(worst, float(np.max(np.abs(values - reference) / np.abs(reference))))
            cache = ResultCache(folder)
            t0 = time.perf_counter()
            run(cfg, cache=cache)
            times["cache rerun"].append(time.perf_counter() - t0)
            assert cache.stats.hits == n_tasks, cache.stats
    serial = statistics.median(times["serial"])
    print(f"simulation grid {args.nx} x {args.ny} (alpha x eta_tilde), network + sRF, "
          f"2 seeds: {n_tasks} tasks at d = {args.d}; medians of {args.repeats} runs")
    print(f"{'where':<16}{'median s':>10}{'vs serial':>11}")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"{name:<16}{m:>10.2f}{m / serial:>10.2f}x")
    print(f"largest relative difference from serial: {worst:.1e}")


def _theory(args: argparse.Namespace) -> None:
    n = args.theory_size
    grid = Grid(GridAxis("alpha", tuple(float(a) for a in np.geomspace(0.2, 5.0, n))),
                GridAxis("eta_tilde", tuple(float(e) for e in np.linspace(0.0, 5.0, n))))
    models = {"K = 1, tanh": ModelConfig(sigma="tanh", sigma_star="tanh", lam=0.1, noise=0.1),
              "K = 2, relu": ModelConfig(sigma="relu", sigma_star="tanh", lam=0.1, noise=0.1,
                                         a_law=ALaw((1.0, -1.0), (0.5, 0.5)))}
    print(f"\ntheory grid {n} x {n} (alpha x eta_tilde), default numerics")
    print(f"{'model':<14}{'quantities':<20}{'s':>8}{'cells/s':>10}{'60x60 est. s':>14}")
    for label, model in models.items():
        for quantities in (("ridge", "baseline"), ("spectrum",)):
            t0 = time.perf_counter()
            grid_theory(model, grid, quantities=quantities)
            dt = time.perf_counter() - t0
            rate = n * n / dt
            print(f"{label:<14}{'+'.join(quantities):<20}{dt:>8.2f}{rate:>10.0f}"
                  f"{3600 / rate:>14.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=600)
    parser.add_argument("--nx", type=int, default=3)
    parser.add_argument("--ny", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--theory-size", type=int, default=20)
    args = parser.parse_args()
    _simulations(args)
    _theory(args)


if __name__ == "__main__":
    main()
