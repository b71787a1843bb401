"""The views as data files: one JSON document per view, with its tables and provenance;
and the whole set of data files an export writes (the command line's ``--out`` and the
app's headless export)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from engine.config import Config
from engine.export import provenance, result_files
from engine.results import RunResult
from engine.session import SESSION_FILE, session_document
from engine.views.build import combine, simulation_views, theory_views
from engine.views.data import Views
from engine.views.theory import TheoryBundle, compute_theory


def _json_table(columns: list[str], rows: np.ndarray) -> dict[str, Any]:
    data = np.asarray(rows, dtype=float).tolist()
    clean = [[v if math.isfinite(v) else None for v in row] for row in data]
    return {"columns": list(columns), "rows": clean}


def view_files(views: Views, provenance: Mapping[str, Any]) -> dict[str, bytes]:
    """One JSON document per view (``view_<name>.json``): its tables and provenance.

    Each table is ``{"columns": [...], "rows": [[...], ...]}`` (non-finite values as
    null), exactly what the app draws and exports for that view, so a figure can be
    remade outside the app.
    """
    out = {}
    for name in Views.NAMES:
        view = views.view(name)
        doc = {"app": "feature-spectrum-lab", "view": name, "provenance": dict(provenance),
               "tables": {k: _json_table(cols, rows) for k, (cols, rows) in
                          view.tables().items()}}
        out[f"view_{name}.json"] = (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode()
    return out


def exported_views(config: Config, sims: RunResult | None, *,
                   theory_run: RunResult | None = None) -> tuple[TheoryBundle, Views]:
    """The theory of ``config`` and every view, with the simulations of ``sims``.

    ``theory_run`` is a run that already solved the theory of ``config``'s points (a
    fresh run with ``run.theory``): its points are reused instead of solved again.
    """
    bundle = compute_theory(config, run=theory_run)
    sim_views = simulation_views(sims, config) if sims is not None else None
    return bundle, combine(theory_views(bundle), sim_views, config)


def export_files(config: Config, result: RunResult | None, views: Views, *,
                 ui: Mapping[str, Any]) -> dict[str, bytes]:
    """The data files of an export: the result's tables (when there is a result), one
    file per view (the numbers of the app's figures) and a session with view ``ui``."""
    files = dict(result_files(result)) if result is not None else {}
    files.update(view_files(views, provenance(config, list(views.seeds) or None)))
    files[SESSION_FILE] = session_document(config, result, ui=ui)
    return files
