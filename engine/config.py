"""The one configuration format (docs/configuration.md): ``Config = ModelConfig + RunConfig``.

The frozen dataclasses of a configuration (:class:`Config` and its parts) read their
defaults from the rule tables of :mod:`engine.config_rules` and validate against them
on construction: every invalid value raises :class:`~engine.errors.ConfigError` whose
one-line message names the dotted key, the value and the allowed range. Unknown keys
are errors. The ``schema`` number has a migration path (:data:`MIGRATIONS`).
:func:`loads_json` / :func:`load_config_file` are the strict reader of configuration
files.

Conventions (docs/model.md#conventions): ``p = round(beta*d)``, ``n = round(alpha*d)``,
``n0 = round(alpha0*d)`` (``alpha0 = None``: the large-batch limit), ``noise`` is
the label-noise variance ``Delta``, and ``lam`` is the ridge penalty in the *sum*
convention (penalty ``lam*|a|^2`` added to the *sum* of squared residuals).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar

from engine.config_rules import (
    _OBJECT_TYPES,
    A_LAW,
    CONFIG,
    CURVE,
    CURVES_MAX,
    GRID,
    GRID_AXIS,
    K_MAX,
    MODEL,
    NESTING_MAX,
    NUMBER_CHARS_MAX,
    NUMERICS,
    RUN,
    SCHEMA,
    SEEDS_MAX,
    SWEEP,
    SWEEP_MAX,
    TEXT_MAX,
    LongNumber,
    Section,
    _child,
    _one_line,
    _show,
)
from engine.errors import ConfigError

#: ``MIGRATIONS[k]`` turns a schema-``k`` document into a schema-``k+1`` one.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def _rekey(exc: ConfigError, old: str, new: str) -> ConfigError:
    """``exc`` with the key prefix ``old`` replaced by ``new`` (in key and message)."""
    return ConfigError(exc.key.replace(old, new, 1), exc.message.replace(old, new))


# --------------------------------------------------------------------------- a_law


@dataclass(frozen=True)
class ALaw:
    """Finitely supported law of the second-layer weights ``a_i`` (K atoms).

    Attributes
    ----------
    values : tuple of float
        The atoms ``a^(k)``, distinct, ``|a| <= A_VALUE_MAX``.
    probs : tuple of float
        Their probabilities ``pi_k`` (positive, summing to 1 within 1e-6; normalised).
    """

    values: tuple[float, ...] = A_LAW["values"].default
    probs: tuple[float, ...] = A_LAW["probs"].default

    def __post_init__(self) -> None:
        A_LAW.validate(self, "model.a_law")
        A_LAW.check_constraints(asdict(self), "model.a_law")
        total = math.fsum(self.probs)
        object.__setattr__(self, "probs", tuple(x / total for x in self.probs))

    @property
    def K(self) -> int:  # noqa: N802 - the mathematics' name
        """Number of atoms."""
        return len(self.values)

    @classmethod
    def from_dict(cls, data: Any) -> ALaw:
        """Build from ``{"values": [...], "probs": [...]}`` (probs default to uniform)."""
        A_LAW.check_keys(data, "model.a_law")
        values = data.get("values", A_LAW["values"].default)
        probs = data.get("probs")
        if probs is None and isinstance(values, (list, tuple)) and 0 < len(values) <= K_MAX:
            probs = [1.0 / len(values)] * len(values)
        return cls(values, probs)

    def to_dict(self) -> dict[str, Any]:
        return {"values": list(self.values), "probs": list(self.probs)}


# --------------------------------------------------------------------------- model


def _default(section: Section, name: str) -> Any:
    return section[name].default


@dataclass(frozen=True)
class ModelConfig:
    """The model of docs/model.md#conventions; keys, ranges and meanings: :data:`MODEL`.

    Attributes
    ----------
    d : int
        Input dimension, in [10, D_MAX].
    beta : float
        ``p/d`` (> 0).
    alpha : float
        ``n/d`` for the ridge readout (> 0).
    alpha0 : float or None
        ``n0/d`` of the gradient step's batch; ``None`` is the large-batch limit.
    eta_tilde : float
        Step size in the maximal scaling ``eta = eta_tilde*sqrt(p)``, in [0, 100].
    lam : float
        Ridge penalty, sum convention (>= 0).
    noise : float
        Label-noise variance ``Delta`` (>= 0).
    sigma, sigma_star : str
        Activation of the network and target function: registry key or expression.
    a_law : ALaw
        Law of the second-layer weights.
    w_init : {"sphere", "gaussian"}
        Rows of ``W0`` uniform on the unit sphere, or ``N(0, I_d/d)``.
    residual : {"labels", "full"}
        Residual of the gradient step: ``y`` (default, the theory's) or ``y - f(x; W0, a)``.
    """

    d: int = _default(MODEL, "d")
    beta: float = _default(MODEL, "beta")
    alpha: float = _default(MODEL, "alpha")
    alpha0: float | None = _default(MODEL, "alpha0")
    eta_tilde: float = _default(MODEL, "eta_tilde")
    lam: float = _default(MODEL, "lam")
    noise: float = _default(MODEL, "noise")
    sigma: str = _default(MODEL, "sigma")
    sigma_star: str = _default(MODEL, "sigma_star")
    a_law: ALaw = field(default_factory=ALaw)
    w_init: str = _default(MODEL, "w_init")
    residual: str = _default(MODEL, "residual")

    def __post_init__(self) -> None:
        MODEL.validate(self, "model")
        MODEL.check_constraints(self._values(), "model")

    def _values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # Derived integers ---------------------------------------------------------
    @property
    def p(self) -> int:
        """Width ``p = round(beta*d)``."""
        return max(1, round(self.beta * self.d))

    @property
    def n(self) -> int:
        """Readout samples ``n = round(alpha*d)``."""
        return max(1, round(self.alpha * self.d))

    @property
    def n0(self) -> int | None:
        """First-step batch ``n0 = round(alpha0*d)``, ``None`` in the large-batch limit."""
        if self.alpha0 is None:
            return None
        return max(1, round(self.alpha0 * self.d))

    @property
    def lam_int(self) -> float:
        """The engine's internal ridge ``lam_int = lam*p/n`` (docs/model.md#conventions)."""
        return self.lam * self.p / self.n

    @property
    def large_batch(self) -> bool:
        return self.alpha0 is None

    def with_(self, **changes: Any) -> ModelConfig:
        """A validated copy with ``changes`` applied (``a_law`` may be a dict)."""
        if isinstance(changes.get("a_law"), Mapping):
            changes["a_law"] = ALaw.from_dict(changes["a_law"])
        return replace(self, **changes)

    @classmethod
    def from_dict(cls, data: Any) -> ModelConfig:
        kwargs = dict(MODEL.check_keys(data, "model"))
        if "a_law" in kwargs:
            kwargs["a_law"] = ALaw.from_dict(kwargs["a_law"])
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["a_law"] = self.a_law.to_dict()
        return out


def _check_model_value(name: str, value: Any, key: str) -> Any:
    """One model value given outside ``model`` (a sweep value, a curve's ``set``)."""
    if name == "a_law":
        if isinstance(value, ALaw):
            return value
        try:
            return ALaw.from_dict(value)
        except ConfigError as exc:
            raise _rekey(exc, "model.a_law", key) from None
    return MODEL[name].check(value, key)


# --------------------------------------------------------------------------- run


def _check_axis(param: Any, values: Any, key: str) -> tuple[str, tuple[Any, ...]]:
    """A parameter and its values (``run.sweep``, each axis of ``run.grid``)."""
    param = SWEEP["param"].check(param, f"{key}.param")
    values = SWEEP["values"].check(values, f"{key}.values")
    return param, tuple(_check_model_value(param, v, f"{key}.values[{i}]")
                        for i, v in enumerate(values))


@dataclass(frozen=True)
class _Axis:
    """A parameter and its values: what a sweep and each axis of a grid have in common.

    Attributes
    ----------
    param : str
        One of :data:`SWEEPABLE`.
    values : tuple
        Its values (``None`` allowed for ``alpha0``: the large-batch limit).
    """

    param: str
    values: tuple[Any, ...]

    #: The dotted key errors name.
    KEY: ClassVar[str] = ""

    def __post_init__(self) -> None:
        _, values = _check_axis(self.param, self.values, self.KEY)
        object.__setattr__(self, "values", values)

    def to_dict(self) -> dict[str, Any]:
        return {"param": self.param, "values": list(self.values)}


@dataclass(frozen=True)
class Sweep(_Axis):
    """One parameter varied over a list of values (:data:`SWEEP`)."""

    KEY: ClassVar[str] = "run.sweep"

    @classmethod
    def from_dict(cls, data: Any) -> Sweep:
        SWEEP.check_keys(data, "run.sweep")
        return cls(data["param"], data["values"])


#: The key of a grid axis that does not know its name (rekeyed by Grid.from_dict).
_AXIS = "run.grid.{x,y}"


@dataclass(frozen=True)
class GridAxis(_Axis):
    """One axis of a grid: a parameter and its values (:data:`GRID_AXIS`, as a sweep)."""

    KEY: ClassVar[str] = _AXIS

    @classmethod
    def from_dict(cls, data: Any, key: str = _AXIS) -> GridAxis:
        """Build from ``{"param", "values"}``; errors name ``key`` (``run.grid.x``)."""
        try:
            GRID_AXIS.check_keys(data, _AXIS)
            return cls(data["param"], data["values"])
        except ConfigError as exc:
            raise _rekey(exc, _AXIS, key) from None


@dataclass(frozen=True)
class Grid:
    """Two parameters varied together (:data:`GRID`): the cells ``x.values x y.values``.

    Point ``(ix, iy)`` sets ``x.param = x.values[ix]`` and ``y.param = y.values[iy]``;
    :meth:`Config.points` numbers the cells row by row, ``index = iy * nx + ix``.
    """

    x: GridAxis
    y: GridAxis

    def __post_init__(self) -> None:
        GRID.validate(self, "run.grid")
        GRID.check_constraints({"x": self.x, "y": self.y}, "run.grid")

    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)``: rows (y values) by columns (x values), as results nest them."""
        return len(self.y.values), len(self.x.values)

    @property
    def size(self) -> int:
        """Number of cells ``nx * ny``."""
        return len(self.x.values) * len(self.y.values)

    def cells(self) -> tuple[tuple[Any, Any], ...]:
        """``(x, y)`` of every cell, row by row (the order of :meth:`Config.points`)."""
        return tuple((x, y) for y in self.y.values for x in self.x.values)

    @classmethod
    def from_dict(cls, data: Any) -> Grid:
        GRID.check_keys(data, "run.grid")
        return cls(GridAxis.from_dict(data["x"], "run.grid.x"),
                   GridAxis.from_dict(data["y"], "run.grid.y"))

    def to_dict(self) -> dict[str, Any]:
        return {"x": self.x.to_dict(), "y": self.y.to_dict()}


#: The key of a curve that does not know its index (rekeyed by Curve.from_dict).
_CURVE = "run.curves[*]"


@dataclass(frozen=True)
class Curve:
    """One curve of a multi-curve run: a label and model overrides (:data:`CURVE`).

    Example: ``{"label": "alpha0 = 5", "set": {"alpha0": 5}}``.
    """

    label: str
    set: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        CURVE["label"].check(self.label, f"{_CURVE}.label")
        if not isinstance(self.set, tuple) or not all(
                isinstance(kv, tuple) and len(kv) == 2 for kv in self.set):
            raise ConfigError(f"{_CURVE}.set", f"{_CURVE}.set must be pairs of model keys "
                                               f"and values, got {_show(self.set)}")
        seen: set[str] = set()
        for name, value in self.set:
            key = _child(f"{_CURVE}.set", name)
            if name not in MODEL:
                raise ConfigError(key, f"{key} is not a known key; allowed keys: "
                                       f"{', '.join(sorted(MODEL.names()))}")
            if name in seen:
                raise ConfigError(key, f"{key} is set twice")
            seen.add(name)
            _check_model_value(name, value, key)

    @property
    def overrides(self) -> dict[str, Any]:
        return dict(self.set)

    @classmethod
    def from_dict(cls, data: Any, index: int) -> Curve:
        key = f"run.curves[{index}]"
        try:
            CURVE.check_keys(data, key)
            sets = MODEL.check_keys(data.get("set", {}), key + ".set")
            items = tuple((name, ALaw.from_dict(value) if name == "a_law" else value)
                          for name, value in sets.items())
            return cls(data["label"], items)
        except ConfigError as exc:
            raise _rekey(_rekey(exc, "model.a_law", f"{key}.set.a_law"), _CURVE, key) from None

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label,
                "set": {k: (v.to_dict() if isinstance(v, ALaw) else v) for k, v in self.set}}


@dataclass(frozen=True)
class RunConfig:
    """What to compute (docs/configuration.md ``run``; rules: :data:`RUN`).

    Attributes
    ----------
    kind : {"spectrum", "weights", "errors"}
    sweep : Sweep or None
    grid : Grid or None
        Two parameters varied together (at most one of ``sweep`` and ``grid``).
    theory : bool
        Solve the theory (docs/model.md).
    simulate : tuple of str
        Subset of ``("network", "srf")``.
    seeds : tuple of int
        One simulation per seed (distinct, in [0, SEED_MAX]).
    n_test : int or None
        Size of the fresh test set; ``None`` means ``max(n, 2000)``.
    curves : tuple of Curve
        Several curves that differ by model overrides (presets of docs/user-guide.md#presets);
        empty means one curve with the model as given.
    memory_fraction : float
        Share of this machine's memory a run may use, in [0.01, 1].
    """

    kind: str = _default(RUN, "kind")
    sweep: Sweep | None = _default(RUN, "sweep")
    grid: Grid | None = _default(RUN, "grid")
    theory: bool = _default(RUN, "theory")
    simulate: tuple[str, ...] = _default(RUN, "simulate")
    seeds: tuple[int, ...] = _default(RUN, "seeds")
    n_test: int | None = _default(RUN, "n_test")
    curves: tuple[Curve, ...] = _default(RUN, "curves")
    memory_fraction: float = _default(RUN, "memory_fraction")

    def __post_init__(self) -> None:
        RUN.validate(self, "run")
        RUN.check_constraints(self.__dict__, "run")

    @classmethod
    def from_dict(cls, data: Any) -> RunConfig:
        kwargs = dict(RUN.check_keys(data, "run"))
        if kwargs.get("sweep") is not None:
            kwargs["sweep"] = Sweep.from_dict(kwargs["sweep"])
        if kwargs.get("grid") is not None:
            kwargs["grid"] = Grid.from_dict(kwargs["grid"])
        if kwargs.get("curves") is not None:
            # The list's length is checked before any of its curves is built.
            curves = RUN["curves"].check_size(kwargs["curves"], "run.curves")
            kwargs["curves"] = tuple(Curve.from_dict(c, i) for i, c in enumerate(curves))
        else:
            kwargs.pop("curves", None)
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "sweep": None if self.sweep is None else self.sweep.to_dict(),
            "grid": None if self.grid is None else self.grid.to_dict(),
            "theory": self.theory,
            "simulate": list(self.simulate),
            "seeds": list(self.seeds),
            "n_test": self.n_test,
            "curves": [c.to_dict() for c in self.curves],
            "memory_fraction": self.memory_fraction,
        }


# --------------------------------------------------------------------------- numerics


@dataclass(frozen=True)
class NumericsConfig:
    """Theory numerics (docs/model.md#numerics; rules: :data:`NUMERICS`).

    Attributes
    ----------
    q_kappa : int
        Gauss–Hermite nodes of the ``kappa`` grid (20..400).
    q_inner : int
        Nodes of the inner average over ``g`` for smooth ``sigma`` (20..400).
    q2 : int
        Nodes of the second grid when ``gamma < 1`` (10..200).
    n_grid : int
        Points of the spectral grid (50..5000).
    eta_min : float
        Smallest imaginary part of the spectral parameter (1e-8..1e-1).
    tol : float
        Convergence tolerance of the fixed points (1e-14..1e-3).
    max_iter : int
        Iteration cap of any fixed point (10..100000).
    """

    q_kappa: int = _default(NUMERICS, "q_kappa")
    q_inner: int = _default(NUMERICS, "q_inner")
    q2: int = _default(NUMERICS, "q2")
    n_grid: int = _default(NUMERICS, "n_grid")
    eta_min: float = _default(NUMERICS, "eta_min")
    tol: float = _default(NUMERICS, "tol")
    max_iter: int = _default(NUMERICS, "max_iter")

    def __post_init__(self) -> None:
        NUMERICS.validate(self, "numerics")

    @classmethod
    def from_dict(cls, data: Any) -> NumericsConfig:
        return cls(**NUMERICS.check_keys(data, "numerics"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class Point:
    """One parameter point of a run (see :meth:`Config.points`).

    Attributes
    ----------
    curve : int
        Index of the curve (0 without ``run.curves``).
    index : int
        Index of the point on its curve: the sweep value's index; for a grid
        ``iy * nx + ix`` (row by row, ``nx`` x values a row); 0 without either.
    label : str
        The curve's label (``""`` without ``run.curves``).
    value : Any
        The swept parameter's value; for a grid the pair ``(x_value, y_value)``;
        ``None`` without either.
    model : ModelConfig
        The model at this point: curve overrides, then the sweep value (or grid cell).
    """

    curve: int
    index: int
    label: str
    value: Any
    model: ModelConfig


def _copy_document(value: Any, path: str, depth: int = 1) -> Any:
    """A copy of the containers of a JSON-like document, refusing deep nesting.

    A list or object longer than any the format allows is copied without looking
    inside: its rule refuses it by its length before reading an item.
    """
    if not isinstance(value, (Mapping, list, tuple)):
        return value
    if depth > NESTING_MAX:
        raise ConfigError(path, f"{_one_line(path, 120)} is nested deeper than {NESTING_MAX} "
                                f"levels of objects and lists (NESTING_MAX)")
    if len(value) > _LONGEST_LIST:
        return dict(value) if isinstance(value, Mapping) else type(value)(value)
    if isinstance(value, Mapping):
        return {k: _copy_document(v, _child(path, k), depth + 1) for k, v in value.items()}
    return type(value)(_copy_document(v, f"{path}[{i}]", depth + 1)
                       for i, v in enumerate(value))


_LONGEST_LIST = max(SEEDS_MAX, SWEEP_MAX, CURVES_MAX, K_MAX)


@dataclass(frozen=True)
class Config:
    """A whole configuration: ``{"schema", "model", "run", "numerics"}`` (:data:`SECTIONS`)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    run: RunConfig = field(default_factory=RunConfig)
    numerics: NumericsConfig = field(default_factory=NumericsConfig)
    schema: int = SCHEMA

    def __post_init__(self) -> None:
        if self.schema != SCHEMA:
            raise ConfigError("schema", f"schema must be {SCHEMA} after migration, got "
                                        f"{_show(self.schema)}")
        for name in ("model", "run", "numerics"):
            CONFIG[name].check(getattr(self, name), name)
        self._check_points()

    def _check_points(self) -> None:
        """Every point (curve x sweep value or grid cell) must be a valid model; errors
        name the key that the curve (``run.curves[i].set.<key>``), the sweep
        (``run.sweep.values[i]``) or the grid (``run.grid.x.values[i]``) set."""
        base = self.model._values()
        sweep, grid = self.run.sweep, self.run.grid
        for ci, curve in enumerate(self.run.curves or (None,)):
            over = {} if curve is None else curve.overrides
            values = {**base, **over}
            set_by = {k: f"run.curves[{ci}].set.{k}" for k in over}
            if grid is not None:
                self._check_grid_points(values, set_by)
                continue
            if sweep is None:
                MODEL.check_constraints(values, "model", set_by)
                continue
            for i, v in enumerate(sweep.values):
                MODEL.check_constraints({**values, sweep.param: v}, "model",
                                        {**set_by, sweep.param: f"run.sweep.values[{i}]"})

    def _check_grid_points(self, values: dict[str, Any], set_by: dict[str, str]) -> None:
        """The cells of ``run.grid`` on one curve (``values``: the curve's model).

        When no constraint ties the two parameters together, each axis is checked alone
        (the other at the curve's value): the same verdict as every cell, in nx + ny
        checks instead of nx * ny.
        """
        grid = self.run.grid
        assert grid is not None
        px, py = grid.x.param, grid.y.param
        tied = any(px in c.keys and py in c.keys for c in MODEL.constraints)
        if tied:
            cells = [((ix, x), (iy, y)) for iy, y in enumerate(grid.y.values)
                     for ix, x in enumerate(grid.x.values)]
        else:
            cells = [((ix, x), (None, values[py])) for ix, x in enumerate(grid.x.values)]
            cells += [((None, values[px]), (iy, y)) for iy, y in enumerate(grid.y.values)]
        for (ix, x), (iy, y) in cells:
            by = dict(set_by)
            if ix is not None:
                by[px] = f"run.grid.x.values[{ix}]"
            if iy is not None:
                by[py] = f"run.grid.y.values[{iy}]"
            MODEL.check_constraints({**values, px: x, py: y}, "model", by)

    @classmethod
    def from_dict(cls, data: Any) -> Config:
        """Validate, migrate and build a config from a JSON-like dict.

        The caller's document is not modified.

        Raises
        ------
        ConfigError
            Naming the first invalid key, its value and the allowed range.
        """
        if not isinstance(data, Mapping):
            raise ConfigError("config", f"a configuration must be a JSON object, got "
                                        f"{type(data).__name__}")
        data = migrate(_copy_document(data, ""))
        CONFIG.check_keys(data, "config")
        return cls(
            model=ModelConfig.from_dict(data.get("model", {})),
            run=RunConfig.from_dict(data.get("run", {})),
            numerics=NumericsConfig.from_dict(data.get("numerics", {})),
            schema=data["schema"],
        )

    @classmethod
    def from_json(cls, path: str | Path) -> Config:
        """Read and validate a JSON file: :func:`load_config_file`."""
        return load_config_file(path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "model": self.model.to_dict(),
            "run": self.run.to_dict(),
            "numerics": self.numerics.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def with_model(self, **changes: Any) -> Config:
        return replace(self, model=self.model.with_(**changes))

    # The one expansion of curves x sweep values (or grid cells) into points ------------
    def curve_models(self) -> tuple[tuple[str, ModelConfig], ...]:
        """``(label, model)`` of every curve: the model with the curve's overrides.

        Without ``run.curves`` there is one unlabelled curve, the model as given.
        """
        if not self.run.curves:
            return (("", self.model),)
        return tuple((c.label, self.model.with_(**c.overrides)) for c in self.run.curves)

    def sweep_values(self) -> tuple[Any, ...]:
        """The values of the points of one curve, in point order: those of ``run.sweep``,
        the cells ``(x, y)`` of ``run.grid`` row by row, or ``(None,)`` (one point, the
        model as given)."""
        if self.run.grid is not None:
            return self.run.grid.cells()
        return self.run.sweep.values if self.run.sweep is not None else (None,)

    def points(self) -> tuple[Point, ...]:
        """Every parameter point of the run: curves x sweep values, curve by curve.

        With ``run.grid`` a curve's points are its cells row by row: point
        ``index = iy * nx + ix`` (``nx`` the number of x values) has
        ``value = (x.values[ix], y.values[iy])``. Used by the runner, the memory guard,
        the GUI and the exports, so that they all agree on what point ``(curve, index)``
        is. Built once per config (a grid's thousands of models are not rebuilt on
        every call).
        """
        cached = self.__dict__.get("_points")
        if cached is not None:
            return cached
        sweep, grid = self.run.sweep, self.run.grid
        out = []
        for ci, (label, base) in enumerate(self.curve_models()):
            for pi, value in enumerate(self.sweep_values()):
                if grid is not None:
                    model = base.with_(**{grid.x.param: value[0], grid.y.param: value[1]})
                elif sweep is not None:
                    model = base.with_(**{sweep.param: value})
                else:
                    model = base
                out.append(Point(curve=ci, index=pi, label=label, value=value, model=model))
        points = tuple(out)
        # A frozen dataclass: the memo bypasses __setattr__; it is no field (eq, hash
        # and to_dict ignore it) and is dropped when pickled (__getstate__).
        object.__setattr__(self, "_points", points)
        return points

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_points"}

    def with_run(self, **changes: Any) -> Config:
        return replace(self, run=replace(self.run, **changes))


_OBJECT_TYPES.update({"model": ModelConfig, "model.a_law": ALaw, "run": RunConfig,
                      "run.sweep": Sweep, "run.grid": Grid, "run.grid.{x,y}": GridAxis,
                      "run.curves[i]": Curve, "numerics": NumericsConfig})


# --------------------------------------------------------------------------- JSON files

_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _line_column(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, column {pos - text.rfind(chr(10), 0, pos)}"


def _too_deep_at(text: str, limit: int) -> int | None:
    """Position where the nesting of ``text`` first exceeds ``limit`` (strings skipped)."""
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        c = text[match.start()]
        if c in "[{":
            depth += 1
            if depth > limit:
                return match.start()
        elif c in "]}":
            depth -= 1
    return None


class _Duplicate(Exception):  # noqa: N818 - internal signal, never escapes loads_json
    pass


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Duplicate
    return out


class _Duplicated(dict):
    """An object of the document that had a duplicate key (the first one, in ``key``)."""

    key: str = ""


def _mark_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    marked = _Duplicated(out)
    seen: set[str] = set()
    for k, _ in pairs:
        if k in seen:
            marked.key = k
            break
        seen.add(k)
    return marked


def _duplicate_path(value: Any, path: str) -> str | None:
    """Dotted key of the first duplicate key in a document read with _mark_duplicates."""
    if isinstance(value, _Duplicated):
        return _child(path, value.key)
    children = (value.items() if isinstance(value, dict)
                else enumerate(value) if isinstance(value, list) else ())
    for k, v in children:
        if isinstance(v, (dict, list)):
            found = _duplicate_path(v, _child(path, k))
            if found is not None:
                return found
    return None


def _parse_int(text: str) -> int | LongNumber:
    return LongNumber(text) if len(text) > NUMBER_CHARS_MAX else int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if len(text) > NUMBER_CHARS_MAX or not math.isfinite(value):
        return LongNumber(text)
    return value


def loads_json(text: str, *, source: str = "<text>", max_chars: int = TEXT_MAX,
               max_depth: int = NESTING_MAX) -> Any:
    """Parse one JSON document strictly: the one reader of configuration and session files.

    Parameters
    ----------
    text : str
        The document.
    source : str
        What to call it in messages (a file name).
    max_chars : int
        Longest text read (:data:`TEXT_MAX`); checked before parsing.
    max_depth : int
        Deepest nesting of objects and lists (:data:`NESTING_MAX`); checked before parsing.

    Returns
    -------
    Any
        The document (dicts, lists, str, int, float, bool, None). Number literals
        longer than :data:`NUMBER_CHARS_MAX` characters, or beyond the float range,
        come back as :class:`LongNumber`, which every numeric key refuses by name.
        ``NaN`` and ``Infinity`` are read as floats (and refused by every key).

    Raises
    ------
    ConfigError
        With a one-line message starting with ``source``: text too long or nested too
        deeply, not valid JSON (with line and column), or an object with a duplicate key
        (JSON readers differ on which one they keep, so none is; the error's key is the
        dotted key that appears twice, e.g. ``model.beta``). Other errors have the key
        ``"config"``.
    """
    where = _one_line(str(source), 120)
    if not isinstance(text, str):
        raise ConfigError("config", f"{where}: expected JSON text, got {type(text).__name__}")
    if len(text) > max_chars:
        raise ConfigError("config", f"{where}: {len(text)} characters, more than the "
                                    f"{max_chars} a configuration file may have")
    if not text.strip():
        raise ConfigError("config", f"{where}: is empty, not a JSON document")
    pos = _too_deep_at(text, max_depth)
    if pos is not None:
        raise ConfigError("config", f"{where}: objects and lists nested deeper than "
                                    f"{max_depth} levels (at {_line_column(text, pos)})")
    hooks = {"parse_int": _parse_int, "parse_float": _parse_float}
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicates, **hooks)
    except _Duplicate:
        key = _duplicate_path(json.loads(text, object_pairs_hook=_mark_duplicates, **hooks),
                              "") or "config"
        raise ConfigError(key, f"{where}: {_one_line(key, 160)} appears twice; duplicate "
                               f"keys are refused (JSON readers differ on which one they "
                               f"keep)") from None
    except json.JSONDecodeError as exc:
        ends_early = exc.pos >= len(text.rstrip())
        why = "not valid JSON (it ends early: truncated?)" if ends_early else "not valid JSON"
        raise ConfigError("config", f"{where}: {why}: {exc.msg} at line {exc.lineno}, "
                                    f"column {exc.colno}") from None
    except RecursionError:
        raise ConfigError("config", f"{where}: nested too deeply to read") from None
    except ValueError as exc:
        raise ConfigError("config", f"{where}: not valid JSON ({_one_line(str(exc))})") from None


def load_config_file(path: str | os.PathLike[str], *, max_chars: int = TEXT_MAX) -> Config:
    """Read, check and validate a configuration file (or a saved session's configuration).

    A session document (``{"config": {...}, ...}`` without ``"model"``) yields its
    ``config``. Parse errors name the file (:func:`loads_json`); validation errors name
    the key (:meth:`Config.from_dict`).

    Raises
    ------
    ConfigError
        File missing, unreadable, too large, not UTF-8, not valid JSON, or invalid.
    """
    file = Path(path)
    where = _one_line(str(path), 120)
    try:
        if not file.is_file():
            raise ConfigError("config", f"configuration file not found: {where}")
        # UTF-8 takes at most 4 bytes a character: refuse a huge file before reading it.
        size = file.stat().st_size
        if size > 4 * max_chars:
            raise ConfigError("config", f"{where}: {size} bytes, more than a configuration "
                                        f"file may have ({max_chars} characters)")
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError("config", f"{where}: cannot be read "
                                    f"({_one_line(exc.strerror or str(exc))})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError("config", f"{where}: not a UTF-8 text file ({exc.reason} at byte "
                                    f"{exc.start})") from None
    data = loads_json(text, source=where, max_chars=max_chars)
    if isinstance(data, dict) and "config" in data and "model" not in data:
        data = data["config"]  # a saved session
    return Config.from_dict(data)


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a config document to :data:`SCHEMA` through :data:`MIGRATIONS`.

    A missing ``schema`` is read as the current one. A newer schema, or an older one
    without a migration path, raises :class:`ConfigError`.
    """
    if not isinstance(data, dict):
        raise ConfigError("config", f"a configuration must be a JSON object, got "
                                    f"{type(data).__name__}")
    schema = data.get("schema", SCHEMA)
    if isinstance(schema, (bool, LongNumber)) or not isinstance(schema, int):
        raise ConfigError("schema", f"schema must be an integer, got {_show(schema)}")
    if schema > SCHEMA:
        raise ConfigError("schema", f"schema {_show(schema)} is newer than this version of "
                                    f"the app understands (at most {SCHEMA}); please update "
                                    f"the app")
    while schema < SCHEMA:
        step = MIGRATIONS.get(schema)
        if step is None:
            raise ConfigError("schema", f"schema {_show(schema)} cannot be migrated (known "
                                        f"migrations start at {sorted(MIGRATIONS) or 'none'}; "
                                        f"this version reads schema {SCHEMA})")
        data = step(data)
        schema += 1
        data["schema"] = schema
    data["schema"] = SCHEMA
    return data
