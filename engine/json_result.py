"""The command line's ``--json`` document of a run (docs/cli.md#run).

:func:`result_to_json` turns a :class:`~engine.results.RunResult` into one JSON-safe
object (NaN and infinities become ``null``): a sweep lists its per-point quantities in
sweep order, a grid (``run.grid``) nests them as rows ``[iy][ix]``
(docs/configuration.md#rungrid). This is the readable summary that scripts and tests read;
the exact encoding of a result (every array bit for bit) is :mod:`engine.encoding`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.grids import spectral_summary
from engine.results import CurveResult, PointResult, RunResult, SimSeed
from engine.spectra import split_outliers


def _clean(x: Any) -> Any:
    """JSON-safe copy: arrays to lists, NaN/inf to None, numpy scalars to Python."""
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        return v if math.isfinite(v) else None
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return str(x)


def _srf_json(sp: Any) -> dict[str, Any] | None:
    if sp is None:
        return None
    return {"a": sp.a, "pi": sp.pi, "u": sp.u, "s0": sp.s0, "c": sp.c, "s": sp.s,
            "nv": sp.nv, "gamma": sp.gamma, "r0": sp.r0, "constants": dict(sp.constants)}


def _ridge_json(tr: Any) -> dict[str, Any] | None:
    if tr is None:
        return None
    return {"test_error": tr.test_error, "train_error": tr.train_error, "bias": tr.bias,
            "variance": tr.variance, "kappa": tr.kappa, "learned_function": tr.learned_function,
            "target": tr.target, "warnings": list(tr.warnings),
            "convergence": _conv_json(tr.convergence)}


def _conv_json(c: Any) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"success": c.success, "n_iter": c.n_iter, "residual": c.residual,
            "message": c.message}


def _spec_json(ts: Any) -> dict[str, Any]:
    if ts is None:
        return {"grid": None, "density": None, "outliers": None, "edges": None}
    return {"grid": ts.grid, "density": ts.density, "outliers": ts.outliers,
            "outliers_centred": ts.outliers_centred, "edges": ts.edges,
            "atom_zero": ts.atom_zero, "mass": ts.mass,
            "convergence": _conv_json(ts.convergence)}


def _seed_lists(seeds: tuple[SimSeed, ...], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: [getattr(s, name) for s in seeds] for name in names}


_SPECTRUM_SIM = ("eigenvalues", "eigenvalues_before", "outliers", "test_error", "train_error")
_WEIGHTS_SIM = ("weight_eigenvalues", "spike_overlap", "top_overlaps", "test_error",
                "train_error")
_FUNC_SIM = ("kappa_bins", "fhat_mean", "fhat_sem")


def _point_json(pt: PointResult, kind: str, sim_names: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"value": pt.value, "model": pt.model.to_dict(),
                           "theory_error": pt.theory_error}
    tr, rf = pt.theory_ridge, pt.theory_ridge_rf
    if kind == "spectrum":
        theory = _spec_json(pt.theory_spectrum)
        theory["before"] = _spec_json(pt.theory_spectrum_before)
    elif kind == "weights":
        tw = pt.theory_weights
        theory = ({"grid": tw.grid, "density": tw.density, "edges": tw.edges,
                   "atom_zero": tw.atom_zero, "spikes": tw.spikes} if tw is not None else
                  {"grid": None, "density": None, "edges": None, "spikes": None})
    else:
        theory = {}
    theory.update(test_error=None if tr is None else tr.test_error,
                  train_error=None if tr is None else tr.train_error,
                  rf_test_error=None if rf is None else rf.test_error,
                  rf_train_error=None if rf is None else rf.train_error,
                  ridge=_ridge_json(tr), srf_params=_srf_json(pt.srf_params))
    out["theory"] = theory
    names = _SPECTRUM_SIM if kind == "spectrum" else _WEIGHTS_SIM
    for name in sim_names:
        seeds = pt.sims.get(name, ())
        block = {"seeds": [s.seed for s in seeds]}
        block.update(_seed_lists(seeds, names + _FUNC_SIM))
        out[name] = block
    return out


def _sim_names(curve: CurveResult) -> tuple[str, ...]:
    return tuple(sorted({k for pt in curve.points for k in pt.sims},
                        key=lambda k: ("network", "srf").index(k)))


def _curve_json(curve: CurveResult, result: RunResult) -> dict[str, Any]:
    if result.config.run.grid is not None:
        return grid_curve_json(curve, result)
    kind = result.config.run.kind
    sim_names = _sim_names(curve)
    pts = [_point_json(pt, kind, sim_names) for pt in curve.points]
    out: dict[str, Any] = {"label": curve.label, "overrides": curve.overrides}
    if kind == "errors":
        out["sweep"] = {"param": result.sweep_param,
                        "values": list(result.sweep_values) or [None]}
        out["theory"] = {k: [p["theory"][k] for p in pts]
                         for k in ("test_error", "train_error", "rf_test_error",
                                   "rf_train_error")}
        out["theory"]["ridge"] = [p["theory"]["ridge"] for p in pts]
        out["theory"]["srf_params"] = [p["theory"]["srf_params"] for p in pts]
        for name in sim_names:
            out[name] = {k: [p[name][k] for p in pts]
                         for k in ("test_error", "train_error") + _FUNC_SIM}
            out[name]["seeds"] = pts[0][name]["seeds"]
        out["theory_error"] = [p["theory_error"] for p in pts]
    else:
        first = pts[0]
        out["theory"] = first["theory"]
        for name in sim_names:
            out[name] = first[name]
        out["theory_error"] = first["theory_error"]
        if len(pts) > 1:
            out["sweep"] = {"param": result.sweep_param, "values": list(result.sweep_values)}
            out["points"] = pts
    return out


def result_to_json(result: RunResult) -> dict[str, Any]:
    """The CLI's ``--json`` object (docs/configuration.md), JSON-safe (NaN -> null).

    Top level: ``kind``, ``success``, ``message``, ``started``, ``elapsed``, ``versions``,
    ``config``, and the first curve's keys:

    - ``spectrum``: ``theory.{grid, density, outliers, edges, before, test_error, ...}``,
      ``network``/``srf``: ``{eigenvalues: [per seed], eigenvalues_before, outliers, ...}``
      (with a sweep: the first point, and every point under ``points``);
    - ``errors``: ``sweep.{param, values}``, ``theory.{test_error, train_error,
      rf_test_error}`` (one per sweep value), ``network``/``srf``:
      ``{test_error: [[per seed] per sweep value], train_error: ...}``;
    - ``weights``: ``theory.{grid, density, edges, spikes}``, ``network``/``srf``:
      ``{weight_eigenvalues, spike_overlap, top_overlaps}`` per seed;
    - a grid run (``run.grid``, any kind): ``grid`` (the two axes as given) instead of
      ``sweep``, and every per-point quantity nested as rows ``[iy][ix]``
      (:func:`grid_curve_json`).

    With several curves, ``curves`` lists every curve (``label`` + the same keys).
    """
    curves = [_curve_json(c, result) for c in result.curves]
    out: dict[str, Any] = {"kind": result.config.run.kind, "success": result.success,
                           "message": result.message, "started": result.started,
                           "elapsed": result.elapsed, "versions": result.versions,
                           "config": result.config.to_dict()}
    if curves:
        out.update(curves[0])
    if len(curves) > 1:
        out["curves"] = curves
    return _clean(out)


# --------------------------------------------------------------------------- grids


def _nest(values: list[Any], nx: int) -> list[list[Any]]:
    """Point-ordered values (index ``iy * nx + ix``) as rows ``[iy][ix]``."""
    return [values[i:i + nx] for i in range(0, len(values), nx)]


def _sim_summary(seed: SimSeed, attr: str) -> tuple[float, int, float] | None:
    """Bulk edge, outlier count and largest outlier of a simulated spectrum."""
    ev = getattr(seed, attr)
    if ev is None or np.size(ev) == 0:
        return None
    bulk, outliers = split_outliers(ev)
    top = float(outliers.max()) if outliers.size else math.nan
    return float(bulk.max()) if bulk.size else math.nan, int(outliers.size), top


_SUMMARY_KEYS = ("edge_right", "n_outliers", "outlier_max")


def _grid_theory_json(pts: tuple[PointResult, ...], kind: str, nx: int) -> dict[str, Any]:
    def ridge(attr: str, which: str) -> list[list[Any]]:
        return _nest([None if getattr(p, which) is None else getattr(getattr(p, which), attr)
                      for p in pts], nx)

    theory: dict[str, Any] = {}
    if kind == "errors":
        theory.update(test_error=ridge("test_error", "theory_ridge"),
                      train_error=ridge("train_error", "theory_ridge"),
                      rf_test_error=ridge("test_error", "theory_ridge_rf"),
                      rf_train_error=ridge("train_error", "theory_ridge_rf"))
    else:
        which = "theory_spectrum" if kind == "spectrum" else "theory_weights"
        summaries = [spectral_summary(getattr(p, which)) for p in pts]
        for k, key in enumerate(_SUMMARY_KEYS):
            theory[key] = _nest([None if s is None else s[k] for s in summaries], nx)
    theory["gamma"] = _nest([None if p.srf_params is None else p.srf_params.gamma
                             for p in pts], nx)
    return theory


def _grid_sim_json(pts: tuple[PointResult, ...], kind: str, name: str,
                   nx: int) -> dict[str, Any]:
    def per_seed(fn: Any) -> list[list[Any]]:
        return _nest([[fn(s) for s in p.sims.get(name, ())] for p in pts], nx)

    block: dict[str, Any] = {"seeds": [s.seed for s in pts[0].sims.get(name, ())],
                             "test_error": per_seed(lambda s: s.test_error),
                             "train_error": per_seed(lambda s: s.train_error)}
    if kind in ("spectrum", "weights"):
        attr = "eigenvalues" if kind == "spectrum" else "weight_eigenvalues"
        for k, key in enumerate(_SUMMARY_KEYS):
            block[key] = per_seed(lambda s, k=k: (lambda t: None if t is None else t[k])(
                _sim_summary(s, attr)))
    if kind == "weights":
        block["spike_overlap"] = per_seed(lambda s: s.spike_overlap)
    return block


def grid_curve_json(curve: CurveResult, result: RunResult) -> dict[str, Any]:
    """One curve of a grid run: ``grid``, and every per-point quantity as ``[iy][ix]``.

    - ``theory``: for ``errors`` ``test_error``, ``train_error``, ``rf_test_error``,
      ``rf_train_error``; for ``spectrum`` and ``weights`` the scalar summaries
      ``edge_right`` (the bulk's right edge), ``n_outliers`` (outliers right of it) and
      ``outlier_max``; for every kind ``gamma`` (the spike's overlap with theta);
    - per simulated model: ``seeds`` and ``test_error[iy][ix]`` / ``train_error[iy][ix]``
      = one value per seed (for ``spectrum``/``weights`` also the simulated summaries per
      seed, and ``spike_overlap`` for ``weights``);
    - ``theory_error[iy][ix]``: what did not converge there (``null``: nothing).
    """
    config = result.config
    grid = config.run.grid
    assert grid is not None
    nx = len(grid.x.values)
    kind = config.run.kind
    pts = curve.points
    out: dict[str, Any] = {"label": curve.label, "overrides": curve.overrides,
                           "grid": grid.to_dict(),
                           "theory": _grid_theory_json(pts, kind, nx) if pts else {}}
    for name in _sim_names(curve):
        out[name] = _grid_sim_json(pts, kind, name, nx)
    out["theory_error"] = _nest([p.theory_error for p in pts], nx)
    return out
