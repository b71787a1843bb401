"""Speed of the theory solver against a plain damped fixed point, measured in one run.

Rows:

- ``spectrum K=k``: :func:`engine.theory.solve_spectrum` with a 400-point grid (support
  location, edge refinement and the final grid included), relu features, tanh target,
  ``eta_tilde = 3``, ``a`` uniform on ``k`` values in ``[-1.5, 1.5]``; versus the
  baseline: damped fixed-point iteration ``x <- (1-d) x + d Phi(x)`` of the same
  equations (docs/model.md#spectrum-of-the-feature-covariance), vectorised over the same
  400 final grid points at ``Im z = eta_min`` (the baseline is given the grid for free),
  capped at ``--baseline-iter`` sweeps. Its converged fraction is reported: near the real
  axis it converges slowly or not at all.
- ``learning curve K=k``: :func:`engine.theory.learning_curve` over 30 values of
  ``alpha`` (quasi-Newton at ``z = -lam_int``, warm starts, and the weak-direction check
  with its bulk-edge estimate for every ``alpha``) versus the same pipeline with the fixed
  point solved by the damped iteration from a cold start.

Times are medians over ``--repeat`` runs of the solver (caches of the coefficients warm,
the learning curve's bulk-edge cache cleared before each run) and of half as many runs of
the baseline; ``ratio`` is baseline / solver. The machine is shared: compare ratios, not
seconds. Goals (docs/model.md#numerics): a whole spectrum or learning curve well under a
second for small K, K = 16 in a few seconds. Usage:
``python bench/theory_speed.py [--repeat 5] [--ks 1,2,4,8,16]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

import engine.theory.ridge as ridge_mod
from engine.config import ALaw, ModelConfig, NumericsConfig
from engine.theory import learning_curve, solve_spectrum
from engine.theory._core import ModelData, initial_guess, model_data, phi


def law(K: int) -> ALaw:
    """``K`` atoms uniform on ``[-1.5, 1.5]`` (``a = 1`` for K = 1)."""
    values = tuple(float(v) for v in np.round(np.linspace(-1.5, 1.5, K), 6)) if K > 1 \
        else (1.0,)
    return ALaw(values, tuple([1.0 / K] * K))


def damped_fixed_point(z: np.ndarray, D: ModelData, tol: float, max_iter: int,
                       damping: float = 0.5) -> tuple[np.ndarray, np.ndarray, int]:
    """Baseline: plain damped iteration of the spectral equations, all z together."""
    x = initial_guess(z, D)
    done = np.zeros(z.size, dtype=bool)
    it = 0
    while it < max_iter:
        it += 1
        act = ~done
        xa = x[act]
        with np.errstate(all="ignore"):
            xn = (1 - damping) * xa + damping * phi(xa, z[act], D)
            err = np.max(np.abs(xn - xa), axis=1) / np.maximum(1.0, np.max(np.abs(xn), axis=1))
        x[act] = xn
        idx = np.nonzero(act)[0]
        done[idx[err < tol]] = True
        if done.all():
            break
    return x, done, it


def _median_time(fn: Callable[[], object], repeat: int,
                 before: Callable[[], None] | None = None) -> tuple[float, object]:
    times = []
    out = None
    for _ in range(repeat):
        if before is not None:
            before()
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def spectrum_row(K: int, num: NumericsConfig, repeat: int, base_iter: int) -> tuple:
    m = ModelConfig(eta_tilde=3.0, sigma="relu", sigma_star="tanh", a_law=law(K))
    solve_spectrum(m, num)  # warm the coefficient cache for both solvers
    t_new, sp = _median_time(lambda: solve_spectrum(m, num), repeat)
    D = model_data(m, num)
    z = sp.grid + 1j * num.eta_min
    t_base, (_, done, it) = _median_time(
        lambda: damped_fixed_point(z, D, num.tol, base_iter), max(1, repeat // 2))
    note = (f"n = K + r = {D.K + D.red.r} unknowns (N = {D.N}), grid {sp.grid.size}, "
            f"mass {sp.mass:.4f}, baseline {it} sweeps")
    return f"spectrum K={K} (400 pts)", t_new, t_base, float(done.mean()), note


def curve_row(K: int, repeat: int, base_iter: int) -> tuple:
    m = ModelConfig(eta_tilde=3.0, sigma="relu", sigma_star="tanh", a_law=law(K), noise=0.1)
    alphas = np.linspace(0.2, 3.0, 30)
    learning_curve(m, "alpha", alphas)  # warm the coefficient caches
    clear = ridge_mod._right_edge_cached.cache_clear
    t_new, curve = _median_time(lambda: learning_curve(m, "alpha", alphas), repeat, clear)
    counter = {"ok": 0, "all": 0}

    def baseline_solve(zr, D, numerics, warm=None):
        x, done, it = damped_fixed_point(np.array([complex(zr)]), D, numerics.tol, base_iter)
        counter["all"] += 1
        counter["ok"] += int(done[0])
        return x[0], it, 0.0

    original = ridge_mod.solve_at_real_z
    ridge_mod.solve_at_real_z = baseline_solve
    try:
        t_base, base_curve = _median_time(lambda: learning_curve(m, "alpha", alphas),
                                          max(1, repeat // 2), clear)
    finally:
        ridge_mod.solve_at_real_z = original
    diff = max(abs(a.test_error - b.test_error) for a, b in zip(curve, base_curve, strict=True))
    note = f"{1e3 * t_new / 30:.1f} ms/point; max |dE_te| {diff:.1e}"
    return (f"learning curve K={K} (30)", t_new, t_base,
            counter["ok"] / max(counter["all"], 1), note)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline-iter", type=int, default=1000)
    ap.add_argument("--ks", default="1,2,4,8,16", help="numbers of atoms of the spectrum rows")
    ap.add_argument("--curve-ks", default="2,16", help="numbers of atoms of the curve rows")
    args = ap.parse_args()
    num = NumericsConfig(n_grid=400)
    print(f"{'task':28s} {'solver [s]':>11s} {'baseline [s]':>13s} {'ratio':>7s} "
          f"{'baseline converged':>19s}  notes", flush=True)
    jobs = [lambda k=int(k): spectrum_row(k, num, args.repeat, args.baseline_iter)
            for k in args.ks.split(",")]
    jobs += [lambda k=int(k): curve_row(k, args.repeat, args.baseline_iter)
             for k in args.curve_ks.split(",")]
    for job in jobs:
        name, tn, tb, conv, note = job()
        print(f"{name:28s} {tn:11.3f} {tb:13.3f} {tb / tn:7.1f} {100 * conv:18.0f}%  {note}",
              flush=True)


if __name__ == "__main__":
    main()
