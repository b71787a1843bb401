"""Speed of the theory solver against a plain damped fixed point, measured in one run.

Rows:

- ``spectrum K=k``: :func:`engine.theory.solve_spectrum` with a 400-point grid
  (support location, edge refinement and the final grid included) versus the plain
  baseline: damped fixed-point iteration ``x <- (1-d) x + d Phi(x)`` of the same
  equations (docs/model.md#spectrum-of-the-feature-covariance), vectorised over the same 400 final
  grid points at
  ``Im z = eta_min`` (the baseline is given the grid for free). The baseline's
  converged fraction is reported: near the real axis it converges slowly or not at all.
- ``learning curve``: :func:`engine.theory.learning_curve` over 30 values of ``alpha``
  (Newton, analytic Jacobian, warm starts) versus the same pipeline with the fixed point
  at ``z = -lam_int`` solved by the damped iteration from a cold start.

Goals (README of the task): spectrum K = 2 under 0.25 s; a learning-curve point in a
few milliseconds on 2 cores. Usage: ``python bench/theory_speed.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import engine.theory.ridge as ridge_mod
from engine.config import ALaw, ModelConfig, NumericsConfig
from engine.theory import learning_curve, solve_spectrum
from engine.theory._core import ModelData, initial_guess, model_data, phi

LAWS = {1: ALaw(), 2: ALaw((1.0, -1.0), (0.5, 0.5)), 3: ALaw((1.0, 0.5, -1.0), (0.3, 0.3, 0.4))}


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
        xn = (1 - damping) * xa + damping * phi(xa, z[act], D)
        err = np.max(np.abs(xn - xa), axis=1) / np.maximum(1.0, np.max(np.abs(xn), axis=1))
        x[act] = xn
        idx = np.nonzero(act)[0]
        done[idx[err < tol]] = True
        if done.all():
            break
    return x, done, it


def _median_time(fn, repeat: int) -> tuple[float, object]:
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline-iter", type=int, default=3000)
    args = ap.parse_args()
    num = NumericsConfig(n_grid=400)
    rows = []
    print(f"{'task':26s} {'solver [s]':>11s} {'baseline [s]':>13s} {'ratio':>7s} "
          f"{'baseline converged':>19s}  notes")
    for K, law in LAWS.items():
        m = ModelConfig(eta_tilde=3.0, sigma="relu", sigma_star="tanh", a_law=law)
        solve_spectrum(m, num)  # warm the coefficient cache for both solvers
        t_new, sp = _median_time(lambda m=m: solve_spectrum(m, num), args.repeat)
        D = model_data(m, num)
        z = sp.grid + 1j * num.eta_min
        t_base, (x, done, it) = _median_time(
            lambda D=D, z=z: damped_fixed_point(z, D, num.tol, args.baseline_iter),
            max(1, args.repeat // 2))
        rows.append((f"spectrum K={K} (400 pts)", t_new, t_base, done.mean(),
                     f"grid {sp.grid.size}, mass {sp.mass:.4f}, baseline {it} it"))
    # Learning curve: 30 values of alpha.
    m = ModelConfig(eta_tilde=3.0, sigma="relu", sigma_star="tanh", a_law=LAWS[2], noise=0.1)
    alphas = np.linspace(0.2, 3.0, 30)
    learning_curve(m, "alpha", alphas)  # warm caches
    t_new, curve = _median_time(lambda: learning_curve(m, "alpha", alphas), args.repeat)
    conv_counter = {"ok": 0, "all": 0}

    def baseline_solve(zr, D, numerics, warm=None):
        x, done, it = damped_fixed_point(np.array([complex(zr)]), D, numerics.tol,
                                         args.baseline_iter)
        conv_counter["all"] += 1
        conv_counter["ok"] += int(done[0])
        return x[0], it, 0.0

    original = ridge_mod.solve_at_real_z
    ridge_mod.solve_at_real_z = baseline_solve
    try:
        t_base, base_curve = _median_time(lambda: learning_curve(m, "alpha", alphas),
                                          args.repeat)
    finally:
        ridge_mod.solve_at_real_z = original
    diff = max(abs(a.test_error - b.test_error) for a, b in zip(curve, base_curve, strict=True))
    rows.append(("learning curve (30 pts)", t_new, t_base,
                 conv_counter["ok"] / max(conv_counter["all"], 1),
                 f"{1e3 * t_new / 30:.1f} ms/point; max |dE_te| {diff:.1e}"))
    for name, tn, tb, conv, note in rows:
        print(f"{name:26s} {tn:11.3f} {tb:13.3f} {tb / tn:7.1f} {100 * conv:18.0f}%  {note}")


if __name__ == "__main__":
    main()
