"""The one configuration format (docs/configuration.md): ``Config = ModelConfig + RunConfig``.

Frozen dataclasses, validated on construction. Every invalid value raises
:class:`~engine.errors.ConfigError` whose message names the dotted key, the value
and the allowed range, e.g. ``model.beta must be > 0, got -1``. Unknown keys are
errors. The ``schema`` number has a migration path (:data:`MIGRATIONS`).

Conventions (docs/model.md#conventions): ``p = round(beta*d)``, ``n = round(alpha*d)``,
``n0 = round(alpha0*d)`` (``alpha0 = None``: the large-batch limit), ``noise`` is
the label-noise variance ``Delta``, and ``lam`` is the ridge penalty in the *sum*
convention (penalty ``lam*|a|^2`` added to the *sum* of squared residuals).
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from engine.activations import get_activation
from engine.errors import ConfigError, ExpressionError

#: The schema number this version writes.
SCHEMA = 1

#: ``MIGRATIONS[k]`` turns a schema-``k`` document into a schema-``k+1`` one.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

#: Model parameters a sweep (or a curve) may vary.
SWEEPABLE = ("alpha", "beta", "lam", "eta_tilde", "alpha0", "noise", "d")

RUN_KINDS = ("spectrum", "weights", "errors")
SIM_MODELS = ("network", "srf")
W_INITS = ("sphere", "gaussian")
RESIDUALS = ("labels", "full")

D_MAX = 20000
K_MAX = 16


# --------------------------------------------------------------------------- checks


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(key, f"{key} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ConfigError(key, f"{key} must be a finite number, got {value!r}")
    return v


def _positive(key: str, value: Any) -> float:
    v = _number(key, value)
    if v <= 0:
        raise ConfigError(key, f"{key} must be > 0, got {value!r}")
    return v


def _nonneg(key: str, value: Any) -> float:
    v = _number(key, value)
    if v < 0:
        raise ConfigError(key, f"{key} must be >= 0, got {value!r}")
    return v


def _in_range(key: str, value: Any, lo: float, hi: float, *, integer: bool = False) -> float:
    if integer and (isinstance(value, bool) or not isinstance(value, int)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ConfigError(key, f"{key} must be an integer in [{lo}, {hi}], got {value!r}")
    v = _number(key, value)
    if not lo <= v <= hi:
        kind = "an integer" if integer else "a number"
        raise ConfigError(key, f"{key} must be {kind} in [{lo}, {hi}], got {value!r}")
    return v


def _choice(key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(key, f"{key} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _activation(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(key, f"{key} must be an activation name or an expression in z, "
                               f"got {value!r}")
    try:
        get_activation(value)
    except ExpressionError as exc:
        raise ConfigError(key, f"{key} is not a known activation nor an allowed expression "
                               f"in z: {exc}") from None
    return value


def _check_keys(section: str, data: Mapping[str, Any], allowed: set[str]) -> None:
    if not isinstance(data, Mapping):
        raise ConfigError(section, f"{section} must be an object, got {data!r}")
    for k in data:
        if k not in allowed:
            raise ConfigError(
                f"{section}.{k}",
                f"{section}.{k} is not a known key; allowed keys: {', '.join(sorted(allowed))}",
            )


# --------------------------------------------------------------------------- a_law


@dataclass(frozen=True)
class ALaw:
    """Finitely supported law of the second-layer weights ``a_i`` (K atoms).

    Attributes
    ----------
    values : tuple of float
        The atoms ``a^(k)``.
    probs : tuple of float
        Their probabilities ``pi_k`` (positive, summing to 1 within 1e-6).
    """

    values: tuple[float, ...] = (1.0,)
    probs: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        key = "model.a_law"
        vals = self.values
        probs = self.probs
        if not isinstance(vals, (list, tuple)) or not 1 <= len(vals) <= K_MAX:
            raise ConfigError(f"{key}.values", f"{key}.values must be a list of 1 to {K_MAX} "
                                               f"numbers, got {vals!r}")
        if not isinstance(probs, (list, tuple)) or len(probs) != len(vals):
            raise ConfigError(f"{key}.probs", f"{key}.probs must be a list of {len(vals)} "
                                              f"probabilities (one per value), got {probs!r}")
        v = tuple(_number(f"{key}.values[{i}]", x) for i, x in enumerate(vals))
        p = tuple(_positive(f"{key}.probs[{i}]", x) for i, x in enumerate(probs))
        total = sum(p)
        if abs(total - 1.0) > 1e-6:
            raise ConfigError(f"{key}.probs", f"{key}.probs must sum to 1, got sum {total:g}")
        if len(set(v)) != len(v):
            raise ConfigError(f"{key}.values", f"{key}.values must be distinct, got {list(v)}")
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "probs", tuple(x / total for x in p))

    @property
    def K(self) -> int:  # noqa: N802 - the mathematics' name
        """Number of atoms."""
        return len(self.values)

    @classmethod
    def from_dict(cls, data: Any) -> ALaw:
        """Build from ``{"values": [...], "probs": [...]}`` (probs default to uniform)."""
        _check_keys("model.a_law", data, {"values", "probs"})
        values = data.get("values", [1.0])
        if not isinstance(values, (list, tuple)):
            raise ConfigError("model.a_law.values", f"model.a_law.values must be a list of "
                                                    f"numbers, got {values!r}")
        probs = data.get("probs")
        if probs is None:
            probs = [1.0 / max(len(values), 1)] * len(values)
        return cls(tuple(values), tuple(probs))

    def to_dict(self) -> dict[str, list[float]]:
        return {"values": list(self.values), "probs": list(self.probs)}


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class ModelConfig:
    """The model of docs/model.md#conventions. See the module docstring for conventions.

    Attributes
    ----------
    d : int
        Input dimension, in [10, 20000].
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

    d: int = 1000
    beta: float = 1.0
    alpha: float = 2.0
    alpha0: float | None = None
    eta_tilde: float = 3.0
    lam: float = 0.1
    noise: float = 0.0
    sigma: str = "tanh"
    sigma_star: str = "tanh"
    a_law: ALaw = field(default_factory=ALaw)
    w_init: str = "sphere"
    residual: str = "labels"

    def __post_init__(self) -> None:
        k = "model."
        object.__setattr__(self, "d", int(_in_range(k + "d", self.d, 10, D_MAX, integer=True)))
        _in_range(k + "beta", _positive(k + "beta", self.beta), 0, 100)
        _in_range(k + "alpha", _positive(k + "alpha", self.alpha), 0, 1000)
        if self.alpha0 is not None:
            _in_range(k + "alpha0", _positive(k + "alpha0", self.alpha0), 0, 1e6)
        _in_range(k + "eta_tilde", self.eta_tilde, 0, 100)
        _nonneg(k + "lam", self.lam)
        _nonneg(k + "noise", self.noise)
        _activation(k + "sigma", self.sigma)
        _activation(k + "sigma_star", self.sigma_star)
        if not isinstance(self.a_law, ALaw):
            raise ConfigError(k + "a_law", f"{k}a_law must be an ALaw, got {self.a_law!r}")
        _choice(k + "w_init", self.w_init, W_INITS)
        _choice(k + "residual", self.residual, RESIDUALS)
        for name in ("beta", "alpha", "eta_tilde", "lam", "noise"):
            object.__setattr__(self, name, float(getattr(self, name)))
        if self.alpha0 is not None:
            object.__setattr__(self, "alpha0", float(self.alpha0))
        for name, ratio in (("p", self.beta), ("n", self.alpha)):
            if round(ratio * self.d) < 1:
                raise ConfigError(
                    k + ("beta" if name == "p" else "alpha"),
                    f"{k}{'beta' if name == 'p' else 'alpha'} * d must give {name} >= 1, "
                    f"got {name} = {round(ratio * self.d)}",
                )

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
        names = {f.name for f in fields(cls)}
        _check_keys("model", data, names)
        kwargs = dict(data)
        if "a_law" in kwargs:
            kwargs["a_law"] = ALaw.from_dict(kwargs["a_law"])
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["a_law"] = self.a_law.to_dict()
        return out


# --------------------------------------------------------------------------- run


def _check_param_value(param: str, value: Any, key: str) -> Any:
    """Validate one value of a swept parameter by building a model with it."""
    if param == "alpha0" and value is None:
        return None
    if param == "d":
        return int(_in_range(key, value, 10, D_MAX, integer=True))
    v = _number(key, value)
    try:
        ModelConfig(**{param: v})
    except ConfigError as exc:
        raise ConfigError(key, exc.message.replace(f"model.{param}", key)) from None
    return v


@dataclass(frozen=True)
class Sweep:
    """One parameter varied over a list of values.

    Attributes
    ----------
    param : str
        One of :data:`SWEEPABLE`.
    values : tuple
        Its values (``None`` allowed for ``alpha0``: the large-batch limit).
    """

    param: str
    values: tuple[Any, ...]

    def __post_init__(self) -> None:
        _choice("run.sweep.param", self.param, SWEEPABLE)
        if not isinstance(self.values, (list, tuple)) or not 1 <= len(self.values) <= 1000:
            raise ConfigError("run.sweep.values", f"run.sweep.values must be a list of 1 to "
                                                  f"1000 values, got {self.values!r}")
        vals = tuple(_check_param_value(self.param, v, f"run.sweep.values[{i}]")
                     for i, v in enumerate(self.values))
        object.__setattr__(self, "values", vals)

    @classmethod
    def from_dict(cls, data: Any) -> Sweep:
        _check_keys("run.sweep", data, {"param", "values"})
        if "param" not in data or "values" not in data:
            raise ConfigError("run.sweep", "run.sweep needs both 'param' and 'values'")
        return cls(data["param"], tuple(data["values"]) if isinstance(data["values"], list)
                   else data["values"])

    def to_dict(self) -> dict[str, Any]:
        return {"param": self.param, "values": list(self.values)}


@dataclass(frozen=True)
class Curve:
    """One curve of a multi-curve run: a label and model overrides.

    Example: ``{"label": "alpha0 = 5", "set": {"alpha0": 5}}``.
    """

    label: str
    set: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label:
            raise ConfigError("run.curves.label", f"run.curves.label must be a non-empty "
                                                  f"string, got {self.label!r}")

    @property
    def overrides(self) -> dict[str, Any]:
        return dict(self.set)

    @classmethod
    def from_dict(cls, data: Any, index: int) -> Curve:
        key = f"run.curves[{index}]"
        _check_keys(key, data, {"label", "set"})
        sets = data.get("set", {})
        _check_keys(key + ".set", sets, {f.name for f in fields(ModelConfig)})
        items = []
        for name, value in sets.items():
            if name == "a_law":
                value = ALaw.from_dict(value)
            items.append((name, value))
        return cls(str(data.get("label", "")), tuple(items))

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label,
                "set": {k: (v.to_dict() if isinstance(v, ALaw) else v) for k, v in self.set}}


@dataclass(frozen=True)
class RunConfig:
    """What to compute (docs/configuration.md ``run``).

    Attributes
    ----------
    kind : {"spectrum", "weights", "errors"}
    sweep : Sweep or None
    theory : bool
        Solve the theory (docs/model.md).
    simulate : tuple of str
        Subset of ``("network", "srf")``.
    seeds : tuple of int
        One simulation per seed (>= 0).
    n_test : int or None
        Size of the fresh test set; ``None`` means ``max(n, 2000)``.
    curves : tuple of Curve
        Several curves that differ by model overrides (presets of docs/user-guide.md#presets);
        empty means one curve with the model as given.
    memory_fraction : float
        Share of this machine's memory a run may use, in (0, 1].
    """

    kind: str = "spectrum"
    sweep: Sweep | None = None
    theory: bool = True
    simulate: tuple[str, ...] = ("network", "srf")
    seeds: tuple[int, ...] = (0,)
    n_test: int | None = None
    curves: tuple[Curve, ...] = ()
    memory_fraction: float = 0.5

    def __post_init__(self) -> None:
        _choice("run.kind", self.kind, RUN_KINDS)
        if not isinstance(self.theory, bool):
            raise ConfigError("run.theory", f"run.theory must be true or false, got "
                                            f"{self.theory!r}")
        if not isinstance(self.simulate, (list, tuple)):
            raise ConfigError("run.simulate", f"run.simulate must be a list drawn from "
                                              f"{list(SIM_MODELS)}, got {self.simulate!r}")
        for i, m in enumerate(self.simulate):
            _choice(f"run.simulate[{i}]", m, SIM_MODELS)
        if len(set(self.simulate)) != len(self.simulate):
            raise ConfigError("run.simulate", f"run.simulate has duplicates: "
                                              f"{list(self.simulate)}")
        object.__setattr__(self, "simulate", tuple(self.simulate))
        if not isinstance(self.seeds, (list, tuple)) or not 1 <= len(self.seeds) <= 1000:
            raise ConfigError("run.seeds", f"run.seeds must be a list of 1 to 1000 integers, "
                                           f"got {self.seeds!r}")
        seeds = tuple(int(_in_range(f"run.seeds[{i}]", s, 0, 2**32 - 1, integer=True))
                      for i, s in enumerate(self.seeds))
        object.__setattr__(self, "seeds", seeds)
        if self.n_test is not None:
            object.__setattr__(self, "n_test",
                               int(_in_range("run.n_test", self.n_test, 1, 10**6, integer=True)))
        _in_range("run.memory_fraction", self.memory_fraction, 0.01, 1.0)
        if self.sweep is not None and not isinstance(self.sweep, Sweep):
            raise ConfigError("run.sweep", f"run.sweep must be a Sweep, got {self.sweep!r}")
        if not self.theory and not self.simulate:
            raise ConfigError("run.simulate", "run.simulate must name at least one model "
                                              "when run.theory is false (nothing to compute)")

    @classmethod
    def from_dict(cls, data: Any) -> RunConfig:
        names = {f.name for f in fields(cls)}
        _check_keys("run", data, names)
        kwargs = dict(data)
        if kwargs.get("sweep") is not None:
            kwargs["sweep"] = Sweep.from_dict(kwargs["sweep"])
        if "curves" in kwargs:
            curves = kwargs["curves"] or []
            if not isinstance(curves, list):
                raise ConfigError("run.curves", f"run.curves must be a list, got {curves!r}")
            kwargs["curves"] = tuple(Curve.from_dict(c, i) for i, c in enumerate(curves))
        for k in ("simulate", "seeds"):
            if isinstance(kwargs.get(k), list):
                kwargs[k] = tuple(kwargs[k])
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "sweep": None if self.sweep is None else self.sweep.to_dict(),
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
    """Theory numerics (docs/model.md#numerics).

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

    q_kappa: int = 80
    q_inner: int = 120
    q2: int = 60
    n_grid: int = 400
    eta_min: float = 1e-5
    tol: float = 1e-10
    max_iter: int = 2000

    def __post_init__(self) -> None:
        k = "numerics."
        for name, lo, hi in (("q_kappa", 20, 400), ("q_inner", 20, 400), ("q2", 10, 200),
                             ("n_grid", 50, 5000), ("max_iter", 10, 100000)):
            object.__setattr__(self, name, int(_in_range(k + name, getattr(self, name), lo, hi,
                                                         integer=True)))
        _in_range(k + "eta_min", self.eta_min, 1e-8, 1e-1)
        _in_range(k + "tol", self.tol, 1e-14, 1e-3)

    @classmethod
    def from_dict(cls, data: Any) -> NumericsConfig:
        _check_keys("numerics", data, {f.name for f in fields(cls)})
        return cls(**data)

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
        Index of the point on its curve (the sweep value's index; 0 without a sweep).
    label : str
        The curve's label (``""`` without ``run.curves``).
    value : Any
        The swept parameter's value (``None`` without a sweep).
    model : ModelConfig
        The model at this point: curve overrides, then the sweep value.
    """

    curve: int
    index: int
    label: str
    value: Any
    model: ModelConfig


@dataclass(frozen=True)
class Config:
    """A whole configuration: ``{"schema", "model", "run", "numerics"}``."""

    model: ModelConfig = field(default_factory=ModelConfig)
    run: RunConfig = field(default_factory=RunConfig)
    numerics: NumericsConfig = field(default_factory=NumericsConfig)
    schema: int = SCHEMA

    def __post_init__(self) -> None:
        if self.schema != SCHEMA:
            raise ConfigError("schema", f"schema must be {SCHEMA} after migration, got "
                                        f"{self.schema!r}")
        for curve in self.run.curves:
            try:
                self.model.with_(**curve.overrides)
            except ConfigError as exc:
                raise ConfigError(f"run.curves.{exc.key}", f"curve {curve.label!r}: "
                                                           f"{exc.message}") from None

    @classmethod
    def from_dict(cls, data: Any) -> Config:
        """Validate, migrate and build a config from a JSON-like dict.

        Raises
        ------
        ConfigError
            Naming the first invalid key, its value and the allowed range.
        """
        if not isinstance(data, Mapping):
            raise ConfigError("config", f"a configuration must be a JSON object, got "
                                        f"{type(data).__name__}")
        data = migrate(copy.deepcopy(dict(data)))
        _check_keys("config", data, {"schema", "model", "run", "numerics"})
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

    # The one expansion of curves x sweep values into points -------------------------
    def curve_models(self) -> tuple[tuple[str, ModelConfig], ...]:
        """``(label, model)`` of every curve: the model with the curve's overrides.

        Without ``run.curves`` there is one unlabelled curve, the model as given.
        """
        if not self.run.curves:
            return (("", self.model),)
        return tuple((c.label, self.model.with_(**c.overrides)) for c in self.run.curves)

    def sweep_values(self) -> tuple[Any, ...]:
        """The values of ``run.sweep`` (``(None,)``: one point, the model as given)."""
        return self.run.sweep.values if self.run.sweep is not None else (None,)

    def points(self) -> tuple[Point, ...]:
        """Every parameter point of the run: curves x sweep values, curve by curve.

        Used by the runner, the memory guard, the GUI and the exports, so that they all
        agree on what point ``(curve, index)`` is.
        """
        sweep = self.run.sweep
        out = []
        for ci, (label, base) in enumerate(self.curve_models()):
            for pi, value in enumerate(self.sweep_values()):
                model = base if sweep is None else base.with_(**{sweep.param: value})
                out.append(Point(curve=ci, index=pi, label=label, value=value, model=model))
        return tuple(out)

    def with_run(self, **changes: Any) -> Config:
        return replace(self, run=replace(self.run, **changes))

# --------------------------------------------------------------------------- JSON files

#: Longest JSON text :func:`loads_json` reads by default (characters). A configuration
#: with 1000 sweep values, 1000 seeds and 20 curves is below 100 000 characters.
TEXT_MAX = 1_000_000

#: Deepest nesting of objects and lists in a document. A configuration nests 7 levels
#: (``run.curves[i].set.a_law.values``), a saved session about 12; Python's JSON reader
#: and the validation recurse once per level, far below Python's recursion limit.
NESTING_MAX = 32

#: Longest number literal (characters). A double has 17 significant digits; longer
#: literals (and integers past Python's 4300-digit conversion limit) are kept as
#: :class:`LongNumber` and refused by every numeric key, naming the key.
NUMBER_CHARS_MAX = 100

#: Values are cut to this many characters in error messages.
SHOW_CHARS = 80

_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


class LongNumber(float):
    """A JSON number literal no configuration key can hold (see :data:`NUMBER_CHARS_MAX`).

    Its float value is what ``float(text)`` gives (often ``inf``); ``text`` keeps the
    literal so that a message can show its first digits and its length.
    """

    text: str

    def __new__(cls, text: str) -> LongNumber:
        self = super().__new__(cls, float(text))
        self.text = text
        return self

    def __repr__(self) -> str:
        if len(self.text) <= 24:
            return self.text
        return f"{self.text[:20]}…({len(self.text)} characters)"

    __str__ = __repr__


def _one_line(text: str, limit: int = 200) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    flat = text.replace("\r", "\\r").replace("\n", "\\n")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


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
    def __init__(self, key: str) -> None:
        self.key = key


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _Duplicate(k)
            seen.add(k)
    return out


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

    Raises
    ------
    ConfigError
        With key ``"config"`` and a one-line message starting with ``source``: text too
        long or nested too deeply, not valid JSON (with line and column), or an object
        with a duplicate key (JSON readers differ on which one they keep, so none is).
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
    try:
        return json.loads(text, object_pairs_hook=_object_pairs, parse_int=_parse_int,
                          parse_float=_parse_float)
    except _Duplicate as dup:
        raise ConfigError("config", f"{where}: the key {_one_line(repr(dup.key), 60)} appears "
                                    f"twice in one object; duplicate keys are refused (JSON "
                                    f"readers differ on which one they keep)") from None
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
        if file.stat().st_size > 4 * max_chars:
            raise ConfigError("config", f"{where}: {file.stat().st_size} bytes, more than a "
                                        f"configuration file may have ({max_chars} characters)")
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
    schema = data.get("schema", SCHEMA)
    if isinstance(schema, bool) or not isinstance(schema, int):
        raise ConfigError("schema", f"schema must be an integer, got {schema!r}")
    if schema > SCHEMA:
        raise ConfigError("schema", f"schema {schema} is newer than this version of the app "
                                    f"understands (at most {SCHEMA}); please update the app")
    while schema < SCHEMA:
        step = MIGRATIONS.get(schema)
        if step is None:
            raise ConfigError("schema", f"schema {schema} cannot be migrated (known migrations "
                                        f"start at {sorted(MIGRATIONS) or 'none'}; this version "
                                        f"reads schema {SCHEMA})")
        data = step(data)
        schema += 1
        data["schema"] = schema
    data["schema"] = SCHEMA
    return data
