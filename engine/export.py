"""Exports of a run: provenance, and a result's CSV / JSON / NPZ files (docs/configuration.md).

Every file written here carries its *provenance*: all parameters, the seeds, the app
and library versions, the date, and the conventions of docs/model.md#conventions spelled
out, so a number in a file can always be traced back to what produced it.

:func:`write_result` builds every file in memory (tables from :mod:`engine.tables`, the
exact encoding of :mod:`engine.encoding`) and publishes them as one set
(:func:`engine.files.write_set`): a failure or a kill leaves the folder as it was or with
all the files, never with some of them.

This module never imports Qt.
"""

from __future__ import annotations

import datetime as _dt
import io
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy

import engine
from engine import results as _results
from engine.config import Config
from engine.encoding import dumps, result_to_dict
from engine.files import PathLike, write_set
from engine.tables import npz_arrays, table_csv, tables

#: The ``app`` of every document written here.
APP_NAME = "feature-spectrum-lab"

#: The conventions of docs/model.md#conventions, written verbatim into every export.
CONVENTIONS: dict[str, str] = {
    "inputs": "x ~ N(0, I_d); target direction theta with |theta| = 1 (random, seeded)",
    "labels": "y = sigma_star(<theta, x>) + sqrt(Delta) * xi, xi ~ N(0, 1); "
              "model.noise is the variance Delta",
    "network": "f(x) = (1/sqrt(p)) * sum_i a_i * sigma(<w_i, x>), i = 1..p",
    "w_init": "rows w_i of W0 uniform on the unit sphere ('sphere') or N(0, I_d/d) "
              "('gaussian')",
    "a_law": "a_i i.i.d. from the finitely supported law model.a_law (values, probs)",
    "step": "one gradient step W1 = W0 - eta * grad_W L, "
            "L = (1/(2 n0)) sum_nu (y_nu - f(x_nu))^2",
    "eta": "eta = eta_tilde * sqrt(p) (maximal scaling; each row moves by O(1))",
    "residual": "'labels': r_nu = y_nu (network output at initialisation removed, as the "
                "theory assumes); 'full': r_nu = y_nu - f(x_nu; W0, a)",
    "batch": "n0 = round(alpha0 * d); alpha0 = null is the large-batch limit "
             "(population gradient, Delta w_i = eta_tilde * a_i * mu1 * mu1_star * theta)",
    "sizes": "p = round(beta * d), n = round(alpha * d), n0 = round(alpha0 * d)",
    "readout": "a_hat = argmin_a sum_nu (y_nu - a . sigma(F x_nu)/sqrt(p))^2 + lam |a|^2 "
               "on n fresh samples (sum over samples, not mean)",
    "lam": "lam in the sum convention; the engine's internal ridge is lam_int = lam * p / n",
    "features": "Phi is the n x p matrix sigma(F x_nu); spectra are those of the feature "
                "covariance (1/n) Phi^T Phi (p x p)",
    "outliers": "order-p outlier positions are given in eigenvalue units of (1/n) Phi^T Phi",
    "weights": "weight spectra are those of W1 W1^T (p x p); F F^T for the sRF model",
    "test_error": "E (y - f_hat(x))^2 on fresh data (includes the noise Delta)",
    "hermite": "mu1 = E[z sigma(z)], mu1_star = E[z sigma_star(z)], z ~ N(0, 1)",
    "srf": "spiked random features F = sqrt(c) W0 + u v^T, u_i = r * a_i",
}


# =========================================================================== provenance


def versions() -> dict[str, str]:
    """App, Python, numpy and scipy versions, and the platform."""
    return {
        "app": engine.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "platform": f"{platform.system()} {platform.machine()}",
    }


def provenance(config: Config, seeds: Sequence[int] | None = None) -> dict[str, Any]:
    """Everything needed to trace a file back to what produced it.

    Parameters
    ----------
    config : Config
        The configuration that was run.
    seeds : sequence of int, optional
        The seeds actually used; defaults to ``config.run.seeds``.

    Returns
    -------
    dict
        JSON-able: ``app``, ``app_version``, ``python``, ``numpy``, ``scipy``,
        ``platform``, ``date`` (ISO 8601, UTC), ``seeds``, ``config``
        (``config.to_dict()``, all parameters), ``derived`` (``p``, ``n``, ``n0``,
        ``lam_int``, ``large_batch``), ``conventions`` (docs/model.md#conventions as
        text) and ``conventions_doc`` (that section, with the package version).
    """
    v = versions()
    m = config.model
    return {
        "app": APP_NAME,
        "app_version": v["app"],
        "python": v["python"],
        "numpy": v["numpy"],
        "scipy": v["scipy"],
        "platform": v["platform"],
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "seeds": [int(s) for s in (config.run.seeds if seeds is None else seeds)],
        "config": config.to_dict(),
        "derived": {"p": m.p, "n": m.n, "n0": m.n0, "lam_int": m.lam_int,
                    "large_batch": m.large_batch},
        "conventions": dict(CONVENTIONS),
        "conventions_doc": f"docs/model.md#conventions of Feature Spectrum Lab {v['app']}",
    }



def _seeds_used(result: _results.RunResult) -> list[int]:
    seeds: set[int] = set()
    for curve in result.curves:
        for pt in curve.points:
            for sims in pt.sims.values():
                seeds.update(int(s.seed) for s in sims)
    return sorted(seeds) if seeds else list(result.config.run.seeds)


# =========================================================================== write_result


#: The formats :func:`result_files` writes.
FORMATS = ("csv", "json", "npz")


def result_files(result: _results.RunResult, *, formats: Sequence[str] = FORMATS,
                 prefix: str = "") -> dict[str, bytes]:
    """A run's result as files in memory, ``{file name: bytes}``, every one with its provenance.

    Parameters
    ----------
    result : RunResult
    formats : sequence of {"csv", "json", "npz"}
        ``csv``: one tidy table per quantity (``<prefix><table>.csv``, see
        :func:`engine.tables.tables`) with ``# key: value`` provenance lines on top.
        ``json``: one document ``<prefix>result.json`` ``{"app", "provenance", "result"}``
        with the whole result (:func:`engine.encoding.result_to_dict`, reloadable
        exactly). ``npz``: ``<prefix>arrays.npz``, the raw arrays
        (:func:`engine.tables.npz_arrays`) plus ``provenance`` (a JSON string).
    prefix : str
        Prepended to every file name.

    Raises
    ------
    ValueError
        For an unknown format.
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"formats must be drawn from csv, json, npz; got {bad}")
    prov = provenance(result.config, _seeds_used(result))
    prov["run"] = {"success": result.success, "message": result.message,
                   "elapsed_s": result.elapsed, "started": result.started,
                   "versions_at_run": dict(result.versions)}
    files: dict[str, bytes] = {}
    if "csv" in formats:
        for name, (columns, rows) in tables(result).items():
            files[f"{prefix}{name}.csv"] = table_csv(columns, rows, prov,
                                                     title=name).encode("utf-8")
    if "json" in formats:
        doc = {"app": APP_NAME, "kind": "result", "provenance": prov,
               "result": result_to_dict(result)}
        files[f"{prefix}result.json"] = dumps(doc).encode("utf-8")
    if "npz" in formats:
        buf = io.BytesIO()
        np.savez_compressed(buf, provenance=np.array(dumps(prov, indent=None)),
                            **npz_arrays(result))
        files[f"{prefix}arrays.npz"] = buf.getvalue()
    return files


def write_result(result: _results.RunResult, folder: PathLike, *,
                 formats: Sequence[str] = FORMATS, force: bool = False,
                 prefix: str = "") -> list[Path]:
    """Write a run's result to ``folder`` as one set of files (:func:`result_files`).

    Parameters
    ----------
    result : RunResult
    folder : str or path-like
        Created if missing; an existing folder keeps its other files (and must hold
        files only, see :func:`engine.files.write_set`).
    formats : sequence of {"csv", "json", "npz"}
        See :func:`result_files`.
    force : bool
        Overwrite existing files. Without it nothing is written if any target exists.
    prefix : str
        Prepended to every file name.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    FileExistsError
        If a target exists and ``force`` is false (checked before writing anything).
    ValueError
        For an unknown format.
    OSError
        When the set cannot be published (:func:`engine.files.write_set`); the folder
        is then as it was.
    """
    # Every file is built in memory first: a failure then writes nothing at all.
    return write_set(folder, result_files(result, formats=formats, prefix=prefix), force=force)
