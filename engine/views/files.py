"""The views as data files: one JSON document per view, with its tables and provenance."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from engine.views.data import Views


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
