"""Speed of the phase diagram's live theory: a whole grid, as the app computes it.

Each row is :func:`engine.views.live_theory` of an ``errors`` configuration with a
``run.grid`` of ``--n`` x ``--n`` cells (tanh features and target, large batch,
``lam = 0.1``, ``noise = 0``; x = ``alpha`` geometric from 0.2 to 5, y = ``eta_tilde``
linear from 0 to 6), with the app's stages: every row of the grid streamed as views
(``"row"``), then the snapshot at the panel's parameters and the extras. Columns:

- ``first row``: until the first row's views exist (the map starts to fill);
- ``grid``: until the last row's views; ``cells/s`` is cells over that time;
- ``total``: the whole live theory, snapshot and extras included (the goal: under 10 s
  for 60 x 60 at K = 1 or 2);
- ``views``: the time spent building views at the row stages (the map's own overhead).

Every repeat runs in a fresh process, so the solver's caches (coefficients, bulk edges)
start cold, as after an edit of a parameter every cell depends on; times are medians
over ``--repeat`` processes. The machine is shared: other work inflates the seconds.
Usage: ``python bench/phase_speed.py [--repeat 3] [--n 60] [--ks 1,2]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

from engine.config import Config


def grid_config(n: int, K: int) -> Config:
    """The benchmark's configuration: ``n x n`` cells, ``K`` = 1 (a = 1) or 2 (a = ±1)."""
    law = {"values": [1.0], "probs": [1.0]} if K == 1 else \
        {"values": [1.0, -1.0], "probs": [0.5, 0.5]}
    return Config.from_dict({
        "schema": 1,
        "model": {"sigma": "tanh", "sigma_star": "tanh", "a_law": law, "beta": 1.0,
                  "alpha": 2.0, "eta_tilde": 3.0, "lam": 0.1, "noise": 0.0},
        "run": {"kind": "errors", "theory": True, "simulate": [], "seeds": [0],
                "grid": {"x": {"param": "alpha",
                               "values": [float(f"{v:.6g}")
                                          for v in np.geomspace(0.2, 5.0, n)]},
                         "y": {"param": "eta_tilde",
                               "values": [float(f"{v:.6g}")
                                          for v in np.linspace(0.0, 6.0, n)]}}}})


def one_run(n: int, K: int) -> dict[str, float]:
    """One live theory in this process: the times of its stages (seconds)."""
    from engine import views

    config = grid_config(n, K)
    marks: list[tuple[str, float]] = []
    spent = [0.0]
    build = views.theory_views

    def timed_views(bundle: views.TheoryBundle) -> views.Views:
        t = time.perf_counter()
        out = build(bundle)
        if bundle.stage == "row":
            spent[0] += time.perf_counter() - t
        return out

    views.theory_views = timed_views  # the row stages' own cost, measured in place
    t0 = time.perf_counter()
    update = views.live_theory(
        config, on_stage=lambda stage, _u: marks.append((stage, time.perf_counter() - t0)))
    total = time.perf_counter() - t0
    rows = [t for stage, t in marks if stage == "row"]
    phase = update.views.phase.theory[0]
    return {"first_row": rows[0], "grid": rows[-1], "total": total, "views": spent[0],
            "rows": len(rows), "finite": float(np.isfinite(phase.values["test_error"]).sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--ks", default="1,2")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one_run(args.n, args.one)))
        return
    print(f"live theory of a {args.n} x {args.n} grid (errors), median of {args.repeat} "
          f"fresh processes")
    print(f"{'K':>3} {'first row':>10} {'grid':>8} {'total':>8} {'views':>7} {'cells/s':>8} "
          f"{'solved':>8}")
    for K in (int(k) for k in args.ks.split(",")):
        runs = []
        for _ in range(args.repeat):
            out = subprocess.run([sys.executable, __file__, "--n", str(args.n), "--one",
                                  str(K)], capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout))

        def med(key: str, runs: list[dict[str, float]] = runs) -> float:
            return statistics.median(r[key] for r in runs)

        cells = args.n * args.n
        print(f"{K:>3} {med('first_row'):>9.2f}s {med('grid'):>7.2f}s {med('total'):>7.2f}s "
              f"{med('views'):>6.2f}s {cells / med('grid'):>8.0f} "
              f"{int(med('finite')):>4}/{cells}")


if __name__ == "__main__":
    main()
