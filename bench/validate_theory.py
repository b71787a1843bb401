"""Validation table of docs/model.md#validation: theory versus simulation at full size.

For each case: the Kolmogorov distance between the bulk eigenvalues of
``(1/n) Phi^T Phi`` (outliers removed by :func:`engine.spectra.split_outliers`) and the
theoretical CDF, the order-p outliers (theory vs the mean over seeds), and the
seed-averaged training and test errors of the ridge readout with their relative gaps
to the theory. Simulations: the real network (``engine.network.simulate_network``) and
the equivalent sRF model (``engine.srf.simulate_srf``).

Usage::

    python bench/validate_theory.py [--d 1000] [--seeds 3] [--quick]

Prints the table and writes ``bench/out/validate_theory.csv``.
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path

import numpy as np

from engine.config import ALaw, ModelConfig
from engine.network import simulate_network
from engine.spectra import ks_distance, split_outliers
from engine.srf import simulate_srf
from engine.theory import solve_ridge, solve_spectrum

ONE = ALaw()
PM = ALaw((1.0, -1.0), (0.5, 0.5))
K3 = ALaw((1.0, 0.5, -1.0), (0.3, 0.3, 0.4))
SIMS = {"srf": simulate_srf, "network": simulate_network}


def _cdf(sp) -> np.ndarray:
    c = np.concatenate([[0.0], np.cumsum(0.5 * (sp.density[1:] + sp.density[:-1])
                                         * np.diff(sp.grid))])
    return sp.atom_zero + c


def _law_name(law: ALaw) -> str:
    return "a=1" if law == ONE else ("a=±1" if law == PM else f"K={law.K}")


def spectrum_cases(quick: bool) -> list[tuple]:
    etas = (0.0, 3.0) if quick else (0.0, 1.0, 3.0, 5.0)
    out = []
    for sigma in ("tanh", "relu"):
        for law in (ONE, PM):
            for eta in etas:
                out.append((sigma, "tanh", law, eta, None))
    out.append(("tanh", "tanh", PM, 3.0, 16.0))
    out.append(("relu", "relu", ONE, 3.0, None))
    out.append(("relu", "relu", ONE, 2.0, 128.0))
    out.append(("relu", "relu", K3, 2.0, None))
    return out


def error_cases(quick: bool) -> list[tuple]:
    cases = [
        ("tanh", "tanh", ONE, 1.0, None),
        ("tanh", "tanh", ONE, 0.0, None),
        ("relu", "relu", ONE, 0.0, None),
        ("tanh", "tanh", ONE, 3.0, None),
        ("relu", "tanh", PM, 3.0, None),
        ("relu", "relu", ONE, 3.0, None),
        ("tanh", "tanh", PM, 3.0, 16.0),
        ("relu", "relu", ONE, 2.0, 128.0),
        ("relu", "relu", K3, 2.0, None),
        ("tanh", "tanh", K3, 2.0, None),
        ("tanh", "tanh", K3, 2.0, 16.0),
    ]
    return cases[:4] if quick else cases


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="fewer cases")
    ap.add_argument("--out", default=str(Path(__file__).parent / "out" / "validate_theory.csv"))
    args = ap.parse_args()
    d = args.d
    seeds = range(args.seeds)
    rows: list[dict] = []
    t_start = time.perf_counter()

    print(f"# Spectra: d = p = {d}, n = {2 * d}, {args.seeds} seed(s); KS of the bulk CDF")
    hdr = (f"{'case':34s} {'model':8s} {'KS mean':>8s} {'KS max':>7s} {'edge th':>8s} "
           f"{'outliers theory':>18s} {'outliers sim':>18s} {'max rel':>8s}"
           "  (max rel: outliers above 3x the edge)")
    print(hdr)
    for sigma, star, law, eta, a0 in spectrum_cases(args.quick):
        m = ModelConfig(d=d, eta_tilde=eta, sigma=sigma, sigma_star=star, a_law=law,
                        alpha0=a0, lam=0.2, noise=0.1)
        sp = solve_spectrum(m)
        name = f"{sigma}/{star} {_law_name(law)} eta={eta:g}" + (
            f" a0={a0:g}" if a0 else "")
        for kind, fn in SIMS.items():
            ks, outs = [], []
            for s in seeds:
                sim = fn(m, s, spectrum=True, errors=False)
                bulk, out = split_outliers(sim.eigenvalues)
                ks.append(ks_distance(bulk, sp.grid, _cdf(sp)))
                outs.append(np.sort(sim.eigenvalues)[::-1][: sp.outliers.size])
            so = np.mean(outs, axis=0) if sp.outliers.size else np.zeros(0)
            # Compare only outliers well above the bulk (a weak mean direction with
            # p*eig inside the bulk is not an outlier at this size: pitfall 5).
            strong = sp.outliers > 3 * sp.edges[-1, 1]
            rel = (float(np.max(np.abs(so[strong] / sp.outliers[strong] - 1)))
                   if strong.any() else float("nan"))
            rows.append({"table": "spectrum", "case": name, "model": kind,
                         "ks_mean": np.mean(ks), "ks_max": np.max(ks),
                         "edge_theory": float(sp.edges[-1, 1]),
                         "outliers_theory": " ".join(f"{x:.1f}" for x in sp.outliers),
                         "outliers_sim": " ".join(f"{x:.1f}" for x in so),
                         "outlier_rel_gap": rel})
            print(f"{name:34s} {kind:8s} {np.mean(ks):8.4f} {np.max(ks):7.4f} "
                  f"{sp.edges[-1, 1]:8.3f} {rows[-1]['outliers_theory']:>18s} "
                  f"{rows[-1]['outliers_sim']:>18s} {rel:8.3f}", flush=True)

    print(f"\n# Ridge: d = p = {d}, n = {2 * d}, lam_int = 0.1 (lam = 0.2), Delta = 0.1, "
          f"{args.seeds} seed(s), n_test = 10000")
    print(f"{'case':34s} {'model':8s} {'te theory':>9s} {'te sim':>16s} {'gap':>7s} "
          f"{'tr theory':>9s} {'tr sim':>16s} {'gap':>7s} {'te th(p)':>8s} {'gap':>7s}  warn")
    for sigma, star, law, eta, a0 in error_cases(args.quick):
        m = ModelConfig(d=d, eta_tilde=eta, sigma=sigma, sigma_star=star, a_law=law,
                        alpha0=a0, lam=0.2, noise=0.1)
        th = solve_ridge(m)
        name = f"{sigma}/{star} {_law_name(law)} eta={eta:g}" + (
            f" a0={a0:g}" if a0 else "")
        for kind, fn in SIMS.items():
            te, tr = [], []
            for s in seeds:
                sim = fn(m, s, spectrum=False, errors=True, n_test=10000)
                te.append(sim.test_error)
                tr.append(sim.train_error)
            te, tr = np.asarray(te), np.asarray(tr)
            se_te = te.std(ddof=1) / math.sqrt(te.size) if te.size > 1 else float("nan")
            se_tr = tr.std(ddof=1) / math.sqrt(tr.size) if tr.size > 1 else float("nan")
            gte = te.mean() / th.test_error - 1
            gtr = tr.mean() / th.train_error - 1
            gtp = te.mean() / th.test_error_finite_p - 1
            rows.append({"table": "errors", "case": name, "model": kind,
                         "test_theory": th.test_error, "test_sim": te.mean(),
                         "test_sim_se": se_te, "test_gap": gte,
                         "train_theory": th.train_error, "train_sim": tr.mean(),
                         "train_sim_se": se_tr, "train_gap": gtr,
                         "test_theory_finite_p": th.test_error_finite_p,
                         "test_gap_finite_p": gtp,
                         "warning": "weak direction" if th.warnings else ""})
            print(f"{name:34s} {kind:8s} {th.test_error:9.4f} {te.mean():8.4f}±{se_te:.4f} "
                  f"{100 * gte:+6.1f}% {th.train_error:9.4f} {tr.mean():8.4f}±{se_tr:.4f} "
                  f"{100 * gtr:+6.1f}% {th.test_error_finite_p:8.4f} {100 * gtp:+6.1f}%  "
                  f"{'weak' if th.warnings else ''}", flush=True)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with out.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    print(f"\nwrote {out} ({len(rows)} rows) in {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
