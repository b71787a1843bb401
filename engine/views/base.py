"""What the data of every view is made of: the :class:`View` base class, theory lines,
histograms, and the tables a view exports (column names with units, rows)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

Table = tuple[list[str], np.ndarray]
#: A plot frame in data units: ``((x_min, x_max), (y_min, y_max))``.
Frame = tuple[tuple[float, float], tuple[float, float]]


def _suffix(label: str) -> str:
    return f"_{label}" if label else ""


def _columns(names: Iterable[str], *cols: Any) -> Table:
    return list(names), np.column_stack([np.asarray(c, dtype=float) for c in cols])


def _param_values(values: Iterable[Any]) -> np.ndarray:
    return np.array([math.nan if v is None else float(v) for v in values])


@dataclass(frozen=True)
class View:
    """Base of the view data: ``name``, the fields filled by the simulation, tables."""

    name: ClassVar[str] = ""
    #: Fields that come from the simulation (the rest from the theory).
    SIM_FIELDS: ClassVar[tuple[str, ...]] = ()

    def tables(self) -> dict[str, Table]:  # pragma: no cover - every view overrides
        """What the view draws: ``{name: (column names with units, rows)}``."""
        raise NotImplementedError

    def is_empty(self) -> bool:
        return not self.tables()


@dataclass(frozen=True)
class Line:
    """A theory curve ``y(x)``."""

    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Histogram:
    """Simulated eigenvalues binned as a density (``edges`` has one more entry).

    The density is normalised by the number of all eigenvalues (outliers included), so
    it overlays a theory density of the same normalisation.
    """

    edges: np.ndarray
    density: np.ndarray
