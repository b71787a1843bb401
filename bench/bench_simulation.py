"""Benchmark: one full network simulation vs the dense linear algebra it cannot avoid.

For each size, in the same run (so machine load affects both alike):

- ``sim``: ``simulate_network`` (gradient step + features + spectrum + ridge + test error);
- ``lapack``: the bare calls the brief names on arrays of the same sizes — the Gram
  ``Phi^T Phi`` of an ``n x p`` matrix, ``eigvalsh`` of the ``p x p`` result, and the ridge
  solve (Cholesky + two triangular solves);
- ``+matmul``: ``lapack`` plus the two products any simulation must do as well: the
  features ``X W^T`` (``n x d`` by ``d x p``) and the test-set features (``n_test x d``
  by ``d x p``), plus, for a finite batch, the step's two ``n0 x d x p`` products.

Every column is the minimum (``--stat median`` for the median) of ``--repeats`` runs,
interleaved (a shared machine's load comes in bursts; the minimum is the intrinsic cost).
Ratios ``sim / lapack`` and ``sim / (+matmul)``; the goal is ``< 1.3``. The last columns
give the same with process CPU time (all threads), less sensitive to other processes.

Usage: ``python bench/bench_simulation.py [--sizes 1000 2000 4000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import scipy.linalg as sla

from engine.config import ModelConfig
from engine.gradient import gradient_step
from engine.network import simulate_network
from engine.sampling import draw_init

#: "min" (default: the intrinsic cost when other processes load the machine in bursts) or
#: "median".
STAT = "min"


def _timed(fn) -> tuple[float, float]:
    """(wall, CPU) seconds of ``fn()``; CPU time is less sensitive to other processes."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def _case(model: ModelConfig, repeats: int) -> tuple[tuple[float, float, float], ...]:
    """(wall, CPU) times of (simulation, bare LAPACK, LAPACK + unavoidable products).

    The three are interleaved repeat by repeat, so that a burst of load from other
    processes hits all of them alike.
    """
    rng = np.random.default_rng(0)
    d, p, n = model.d, model.p, model.n
    n_test = max(n, 2000)
    X = rng.standard_normal((n, d))
    Xt = rng.standard_normal((n_test, d))
    # The real W1 of this model: the Gram then has the same spectrum (bulk + outlier) as in
    # the simulation, which matters for the eigensolver's deflation.
    init = draw_init(model, 0)
    W = gradient_step(model, init, 0)
    Phi = np.tanh(X @ W.T)
    y = rng.standard_normal(n)

    def lapack() -> None:
        G = Phi.T @ Phi
        G /= n
        M = G.copy()
        M.flat[:: p + 1] += model.lam_int
        U = np.linalg.cholesky(M, upper=True)
        z = sla.solve_triangular(U, Phi.T @ y / n, trans="T", check_finite=False)
        sla.solve_triangular(U, z, check_finite=False)
        np.linalg.eigvalsh(G)

    def matmuls() -> None:
        X @ W.T
        Xt @ W.T
        if model.n0 is not None:
            for _ in range(2):  # forward and backward of the step, in n-row blocks
                for _ in range(max(1, round(model.n0 / n))):
                    X @ W.T

    t_sim, t_lapack, t_mm = [], [], []
    for _ in range(repeats):
        t_sim.append(_timed(lambda: simulate_network(model, 0)))
        t_lapack.append(_timed(lapack))
        t_mm.append(_timed(matmuls))
    pick = min if STAT == "min" else statistics.median
    out = []
    for k in range(2):  # wall, CPU
        s, la, mm = (pick(t[k] for t in ts) for ts in (t_sim, t_lapack, t_mm))
        out.append((s, la, la + mm))
    return tuple(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000])
    ap.add_argument("--finite-sizes", type=int, nargs="*", default=[1000, 2000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--stat", choices=("min", "median"), default="min")
    args = ap.parse_args()
    global STAT
    STAT = args.stat
    cases = [(d, None) for d in args.sizes] + [(d, 4.0) for d in args.finite_sizes]
    print(f"# {args.stat} of {args.repeats} interleaved repeats; 2 cores shared")
    print(f"{'d':>5} {'batch':>8} {'sim s':>8} {'lapack s':>9} {'ratio':>6} "
          f"{'+matmul s':>10} {'ratio':>6} | {'CPU: sim':>8} {'+matmul':>8} {'ratio':>6}")
    for d, alpha0 in sorted(cases, key=lambda c: (c[1] is not None, c[0])):
        model = ModelConfig(d=d, beta=1.0, alpha=2.0, alpha0=alpha0, eta_tilde=3.0, lam=0.1,
                            noise=0.1, sigma="tanh", sigma_star="tanh")
        reps = args.repeats if d < 4000 else max(1, args.repeats - 1)
        simulate_network(model.with_(d=min(d, 200)), 0)  # warm caches and imports
        (t_sim, t_lapack, t_full), (c_sim, _c_lapack, c_full) = _case(model, reps)
        batch = "large" if alpha0 is None else f"a0={alpha0:g}"
        print(f"{d:>5} {batch:>8} {t_sim:8.2f} {t_lapack:9.2f} {t_sim / t_lapack:6.2f} "
              f"{t_full:10.2f} {t_sim / t_full:6.2f} | {c_sim:8.2f} {c_full:8.2f} "
              f"{c_sim / c_full:6.2f}", flush=True)


if __name__ == "__main__":
    main()
