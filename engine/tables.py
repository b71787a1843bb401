"""A RunResult as tidy tables (CSV with provenance lines on top) and as named NPZ arrays.

Every table starts with the columns ``curve`` and the sweep parameter (or ``point``), so
the tables of a multi-curve sweep stack cleanly; the other columns carry their units in
brackets (docs/configuration.md). Histograms of simulated spectra are binned by
:func:`engine.spectra.histogram`, the function the plots use, so a CSV matches its
figure.

This module never imports Qt.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from engine import results as _results
from engine.config import ALaw
from engine.spectra import histogram, split_outliers

#: ``(columns, rows)`` of one table.
Table = tuple[list[str], list[list[Any]]]

_Rows = dict[str, list[list[Any]]]

#: The columns of every table after the two key columns, in the order of the files.
_COLUMNS: dict[str, list[str]] = {
    "theory_spectrum": ["state", "eigenvalue [1]", "density [1/eigenvalue]"],
    "theory_spectrum_summary": ["state", "atom_zero [probability]", "mass [probability]",
                                "edges [eigenvalue]", "outliers [eigenvalue]",
                                "outliers_centred [eigenvalue]", "success", "n_iter",
                                "residual", "message"],
    "theory_errors": ["baseline", "test_error [y^2]", "train_error [y^2]", "bias [y^2]",
                      "variance [y^2]", "success", "n_iter", "residual", "warnings"],
    "theory_learned_function": ["baseline", "kappa [1]", "learned_function [y]",
                                "target [y]"],
    "theory_weights": ["eigenvalue [W1 W1^T]", "density [1/eigenvalue]"],
    "theory_weights_summary": ["atom_zero [probability]", "edges [eigenvalue]",
                               "spikes [eigenvalue]"],
    "expressivity": ["kappa [1]", "target [y]", "fit [y]", "atom", "mu0 [y]"],
    "srf_params": ["atom", "a [1]", "pi [probability]", "u [1]", "s0 [1]", "c [1]", "s [1]",
                   "nv [1]", "gamma [1]", "r0 [1]"],
    "sim_eigenvalues": ["model", "seed", "state", "rank", "eigenvalue [1]"],
    "sim_weight_eigenvalues": ["model", "seed", "rank", "eigenvalue [W1 W1^T]"],
    "sim_histogram": ["model", "state", "bin_lo [1]", "bin_hi [1]",
                      "density [1/eigenvalue] (bulk, seeds pooled)"],
    "sim_outliers": ["model", "seed", "index", "outlier [eigenvalue]"],
    "sim_errors": ["model", "seed", "test_error [y^2]", "train_error [y^2]",
                   "spike_overlap [1]", "elapsed [s]"],
    "sim_errors_summary": ["model", "n_seeds", "test_error_mean [y^2]",
                           "test_error_std [y^2]", "train_error_mean [y^2]",
                           "train_error_std [y^2]"],
    "sim_learned_function": ["model", "seed", "kappa [1]", "fhat_mean [y]", "fhat_sem [y]"],
    "theory_failures": ["message"],
}


# =========================================================================== tables


def tables(result: _results.RunResult) -> dict[str, Table]:
    """The result as tidy tables: ``{name: (columns, rows)}``; only non-empty ones.

    Columns carry their units in brackets. Every table starts with the columns
    ``curve`` and the sweep parameter (or ``point``), so the tables of a multi-curve
    sweep stack cleanly. Eigenvalues are those of ``(1/n) Phi^T Phi`` (dimensionless),
    densities are per unit eigenvalue, errors are mean squared errors in units of ``y^2``.
    """
    sweep = result.sweep_param or "point"
    key = ["curve", f"{sweep} [sweep value]" if result.sweep_param else "point"]
    t: _Rows = {name: [] for name in _COLUMNS}
    for curve in result.curves:
        for i, pt in enumerate(curve.points):
            k = [curve.label, _fmt(pt.value) if result.sweep_param else i]
            if pt.theory_error:
                t["theory_failures"].append(k + [pt.theory_error])
            _theory_spectrum_rows(t, k, pt)
            _theory_ridge_rows(t, k, pt)
            _theory_extra_rows(t, k, pt)
            for model, sims in pt.sims.items():
                for s in sims:
                    _seed_rows(t, k, model, s)
                _pooled_rows(t, k, model, sims)
    return {name: (key + _COLUMNS[name], rows) for name, rows in t.items() if rows}


def _theory_spectrum_rows(t: _Rows, k: list[Any], pt: _results.PointResult) -> None:
    for state, ts in (("after", pt.theory_spectrum), ("before", pt.theory_spectrum_before)):
        if ts is None:
            continue
        t["theory_spectrum"] += [k + [state, _fmt(x), _fmt(y)]
                                 for x, y in zip(ts.grid, ts.density, strict=True)]
        c = ts.convergence
        t["theory_spectrum_summary"].append(
            k + [state, _fmt(ts.atom_zero), _fmt(ts.mass), _js(ts.edges), _js(ts.outliers),
                 _js(ts.outliers_centred), c.success, c.n_iter, _fmt(c.residual), c.message])


def _theory_ridge_rows(t: _Rows, k: list[Any], pt: _results.PointResult) -> None:
    for base, tr in (("after step", pt.theory_ridge), ("rf (eta_tilde=0)", pt.theory_ridge_rf)):
        if tr is None:
            continue
        c = tr.convergence
        t["theory_errors"].append(
            k + [base, _fmt(tr.test_error), _fmt(tr.train_error), _fmt(tr.bias),
                 _fmt(tr.variance), c.success, c.n_iter, _fmt(c.residual),
                 "; ".join(tr.warnings)])
        t["theory_learned_function"] += [
            k + [base, _fmt(a), _fmt(b), _fmt(c_)]
            for a, b, c_ in zip(tr.kappa, tr.learned_function, tr.target, strict=True)]


def _theory_extra_rows(t: _Rows, k: list[Any], pt: _results.PointResult) -> None:
    """Weights spectrum, expressivity and the sRF parameters."""
    tw = pt.theory_weights
    if tw is not None:
        t["theory_weights"] += [k + [_fmt(x), _fmt(y)]
                                for x, y in zip(tw.grid, tw.density, strict=True)]
        t["theory_weights_summary"].append(
            k + [_fmt(tw.atom_zero), _js(tw.edges), _js(tw.spikes)])
    ex = pt.expressivity
    if ex is not None:
        mu0 = np.atleast_2d(ex.mu0)
        for atom in range(mu0.shape[0]):
            t["expressivity"] += [
                k + [_fmt(ex.kappa[q]), _fmt(ex.target[q]), _fmt(ex.fit[q]), atom,
                     _fmt(mu0[atom, q])] for q in range(len(ex.kappa))]
    sp = pt.srf_params
    if sp is not None:
        for atom in range(len(sp.a)):
            t["srf_params"].append(
                k + [atom] + [_fmt(getattr(sp, f)[atom])
                              for f in ("a", "pi", "u", "s0", "c", "s", "nv")]
                + [_fmt(sp.gamma), _fmt(sp.r0)])


def _seed_rows(t: _Rows, k: list[Any], model: str, s: _results.SimSeed) -> None:
    for state, ev in (("after", s.eigenvalues), ("before", s.eigenvalues_before)):
        if ev is not None:
            t["sim_eigenvalues"] += [k + [model, s.seed, state, r, _fmt(x)]
                                     for r, x in enumerate(ev)]
    if s.weight_eigenvalues is not None:
        t["sim_weight_eigenvalues"] += [k + [model, s.seed, r, _fmt(x)]
                                        for r, x in enumerate(s.weight_eigenvalues)]
    t["sim_outliers"] += [k + [model, s.seed, j, _fmt(x)]
                          for j, x in enumerate(np.ravel(s.outliers))]
    if s.test_error is not None or s.train_error is not None:
        t["sim_errors"].append(k + [model, s.seed, _fmt(s.test_error), _fmt(s.train_error),
                                    _fmt(s.spike_overlap), _fmt(s.elapsed)])
    if s.kappa_bins is not None and s.fhat_mean is not None:
        sem = s.fhat_sem if s.fhat_sem is not None else np.full(len(s.kappa_bins), np.nan)
        t["sim_learned_function"] += [
            k + [model, s.seed, _fmt(a), _fmt(b), _fmt(c)]
            for a, b, c in zip(s.kappa_bins, s.fhat_mean, sem, strict=True)]


def _pooled_rows(t: _Rows, k: list[Any], model: str,
                 sims: Sequence[_results.SimSeed]) -> None:
    """The histogram of the bulk and the error summary, seeds pooled."""
    for state in ("after", "before"):
        evs = [_bulk(s, state) for s in sims]
        evs = [e for e in evs if e is not None and len(e)]
        total = sum(len(e) for e in (s.eigenvalues if state == "after"
                                     else s.eigenvalues_before for s in sims)
                    if e is not None)
        if evs:
            edges, dens = _histogram(np.concatenate(evs), total)
            t["sim_histogram"] += [k + [model, state, _fmt(lo), _fmt(hi), _fmt(y)]
                                   for lo, hi, y in zip(edges[:-1], edges[1:], dens,
                                                        strict=True)]
    te = np.array([s.test_error for s in sims if s.test_error is not None], float)
    tr = np.array([s.train_error for s in sims if s.train_error is not None], float)
    if te.size or tr.size:
        t["sim_errors_summary"].append(
            k + [model, max(te.size, tr.size), _fmt(te.mean()) if te.size else "",
                 _fmt(te.std(ddof=1)) if te.size > 1 else "",
                 _fmt(tr.mean()) if tr.size else "",
                 _fmt(tr.std(ddof=1)) if tr.size > 1 else ""])


def _bulk(s: _results.SimSeed, state: str) -> np.ndarray | None:
    """The bulk of one seed's spectrum: order-p outliers would squash the histogram.

    After the step the run has already separated ``s.outliers`` (the largest
    eigenvalues); before it, the outliers (e.g. from a non-centred activation) are
    separated by the engine's own rule.
    """
    if state == "after":
        if s.eigenvalues is None:
            return None
        ev = np.sort(np.asarray(s.eigenvalues, float))
        k = len(np.ravel(s.outliers))
        return ev[: ev.size - k] if k else ev
    if s.eigenvalues_before is None:
        return None
    return split_outliers(s.eigenvalues_before)[0]


def _histogram(ev: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin the bulk as the plots do; the density is normalised by ``total`` (all
    eigenvalues, outliers included), like the engine's."""
    edges, dens = histogram(ev)
    return np.asarray(edges, float), np.asarray(dens, float) * ev.size / total


def _fmt(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, ALaw):
        return json.dumps(v.to_dict())
    return v


def _js(a: np.ndarray | None) -> str:
    return "" if a is None else json.dumps(np.asarray(a).tolist())


# =========================================================================== CSV text


def table_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]],
              prov: Mapping[str, Any] | None = None, *, title: str = "") -> str:
    """CSV text: ``# key: value`` provenance lines, then a header row, then the rows."""
    buf = io.StringIO()
    if title:
        buf.write(f"# table: {title}\n")
    if prov is not None:
        buf.write(provenance_header(prov))
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    w.writerows([_fmt(v) for v in row] for row in rows)
    return buf.getvalue()


def provenance_header(prov: Mapping[str, Any]) -> str:
    """The provenance as ``# key: value`` comment lines (dotted keys), for CSV files."""
    items: list[tuple[str, str]] = []
    _flatten("", prov, items)
    return "".join(f"# {k}: {v}\n" for k, v in items)


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, Mapping) and value:
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out.append((prefix, json.dumps(value, allow_nan=True) if not isinstance(value, str)
                    else value))


def read_csv_provenance(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``# key: value`` lines at the top of a CSV written here (for tests and tools)."""
    out: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("# "):
                break
            k, _, v = line[2:].rstrip("\n").partition(": ")
            out[k] = v
    return out


# =========================================================================== NPZ arrays


def npz_arrays(result: _results.RunResult) -> dict[str, np.ndarray]:
    """The raw arrays of a result by name: ``sweep_values`` and ``c<curve>_p<point>_...``.

    Theory grids, densities, edges and outliers (``theory``, ``theory_before``), the
    ridge quantities (``ridge``, ``ridge_rf``, with ``errors`` = test, train), weights and
    expressivity, and per simulated seed ``<model>_seed<seed>_<field>`` (``errors`` =
    test, train, NaN where absent).
    """
    arrays: dict[str, np.ndarray] = {}
    if result.sweep_param:
        arrays["sweep_values"] = np.array([np.nan if v is None else float(v)
                                           for v in result.sweep_values])
    for ci, curve in enumerate(result.curves):
        for pi, pt in enumerate(curve.points):
            pre = f"c{ci}_p{pi}_"
            _theory_arrays(arrays, pre, pt)
            for model, sims in pt.sims.items():
                for s in sims:
                    _seed_arrays(arrays, f"{pre}{model}_seed{s.seed}_", s)
    return arrays


def _theory_arrays(arrays: dict[str, np.ndarray], pre: str, pt: _results.PointResult) -> None:
    for tag, ts in (("theory", pt.theory_spectrum), ("theory_before", pt.theory_spectrum_before)):
        if ts is not None:
            for f in ("grid", "density", "edges", "outliers", "outliers_centred"):
                arrays[f"{pre}{tag}_{f}"] = np.asarray(getattr(ts, f))
    for tag, tr in (("ridge", pt.theory_ridge), ("ridge_rf", pt.theory_ridge_rf)):
        if tr is not None:
            for f in ("m0", "m1", "kappa", "learned_function", "target"):
                arrays[f"{pre}{tag}_{f}"] = np.asarray(getattr(tr, f))
            arrays[f"{pre}{tag}_errors"] = np.array([tr.test_error, tr.train_error])
    if pt.theory_weights is not None:
        for f in ("grid", "density", "edges", "spikes"):
            arrays[f"{pre}weights_{f}"] = np.asarray(getattr(pt.theory_weights, f))
    if pt.expressivity is not None:
        for f in ("kappa", "mu0", "target", "fit", "coefficients"):
            arrays[f"{pre}expressivity_{f}"] = np.asarray(getattr(pt.expressivity, f))


def _seed_arrays(arrays: dict[str, np.ndarray], sp: str, s: _results.SimSeed) -> None:
    for f in ("eigenvalues", "eigenvalues_before", "outliers", "weight_eigenvalues",
              "top_overlaps", "kappa_bins", "fhat_mean", "fhat_sem"):
        a = getattr(s, f)
        if a is not None:
            arrays[sp + f] = np.asarray(a)
    arrays[sp + "errors"] = np.array([np.nan if s.test_error is None else s.test_error,
                                      np.nan if s.train_error is None else s.train_error])
