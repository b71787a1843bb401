"""The one configuration format (docs/configuration.md): ``Config = ModelConfig + RunConfig``.

Every key's type, range, default and meaning is declared once, as data: the
:class:`Rule` tables of :data:`SECTIONS` (``config``, ``model``, ``model.a_law``,
``run``, ``run.sweep``, ``run.grid``, ``run.grid.{x,y}``, ``run.curves[i]``,
``numerics``), with the constraints that
tie keys together and the named limits of :data:`LIMITS`. The frozen dataclasses read
their defaults from these tables and validate against them on construction, and
docs/configuration.md is rendered from them (``python tools/gen_config_docs.py``).

Every invalid value raises :class:`~engine.errors.ConfigError` whose one-line message
names the dotted key, the value (cut to :data:`SHOW_CHARS` characters) and the allowed
range, e.g. ``model.beta must be > 0, got -1 (allowed: a number in (0, 100])``.
Unknown keys are errors. The ``schema`` number has a migration path
(:data:`MIGRATIONS`). :func:`loads_json` / :func:`load_config_file` are the strict
reader of configuration files.

Conventions (docs/model.md#conventions): ``p = round(beta*d)``, ``n = round(alpha*d)``,
``n0 = round(alpha0*d)`` (``alpha0 = None``: the large-batch limit), ``noise`` is
the label-noise variance ``Delta``, and ``lam`` is the ridge penalty in the *sum*
convention (penalty ``lam*|a|^2`` added to the *sum* of squared residuals).
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engine.activations import REGISTRY, get_activation, hermite_constants
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

# --------------------------------------------------------------------------- limits
# Each bound below is documented in LIMITS (rendered into docs/configuration.md).

D_MAX = 20000
BETA_MAX = 100.0
ALPHA_MAX = 1000.0
ALPHA0_MAX = 1e6
ETA_TILDE_MAX = 100.0
LAM_MAX = 1e6
NOISE_MAX = 1e6
K_MAX = 16
A_VALUE_MAX = 1e3
SEEDS_MAX = 1000
SEED_MAX = 2**32 - 1
SWEEP_MAX = 1000
CURVES_MAX = 20
GRID_MAX = 40000
N_TEST_MAX = 10**6
LABEL_CHARS_MAX = 100
ACTIVATION_CHARS_MAX = 500
ACTIVATION_M2_MAX = 1e12

#: Longest JSON text :func:`loads_json` reads by default (characters).
TEXT_MAX = 1_000_000
#: Deepest nesting of objects and lists in a document.
NESTING_MAX = 32
#: Longest number literal (characters); longer ones are read as :class:`LongNumber`.
NUMBER_CHARS_MAX = 100
#: Values are cut to this many characters in error messages.
SHOW_CHARS = 80

#: Why each limit has its value (docs/configuration.md#limits).
LIMITS: dict[str, str] = {
    "D_MAX": "Largest input dimension d. At d = 20000 and β = α = 1 the feature matrix "
             "alone holds 4·10⁸ doubles (3.2 GB); the theory does not depend on d.",
    "BETA_MAX": "Largest β = p/d: 100 hidden units per input dimension.",
    "ALPHA_MAX": "Largest α = n/d; far past the point where the learning curves are flat.",
    "ALPHA0_MAX": "Largest finite α0 = n0/d; beyond it the step is the large-batch limit "
                  "to within 10⁻⁶ (use null for the limit itself).",
    "ETA_TILDE_MAX": "Largest step size η̃. With |a| ≤ A_VALUE_MAX the spike of the learned "
                     "features, η̃·|μ1 μ1*|·|a|, stays below 10⁵·|μ1 μ1*|, so the outliers "
                     "(about spike²) stay within double precision of the O(1) bulk.",
    "LAM_MAX": "Largest ridge penalty λ (sum convention). Beyond it the readout is zero to "
               "double precision; the bound keeps λ_int = λ·p/n finite.",
    "NOISE_MAX": "Largest label-noise variance Δ; the errors grow with Δ.",
    "K_MAX": "Most atoms of the law of a: the theory solves K coupled equations at each "
             "spectral point and the spectrum has at most K outliers of order p.",
    "A_VALUE_MAX": "Largest |a| of an atom. At |a| = 10⁶ (η̃ = 100) the ridge theory "
                   "already loses all precision, and near 10²⁰⁰ it overflows.",
    "SEEDS_MAX": "Most simulation seeds of a run (each seed is one full simulation).",
    "SEED_MAX": "Largest seed: numpy seeds are unsigned 32-bit integers here.",
    "SWEEP_MAX": "Most values of a sweep.",
    "CURVES_MAX": "Most curves of a run (a legend with more is unreadable); a run computes "
                  "curves x sweep values points.",
    "GRID_MAX": "Most points of a grid run: cells (x values times y values) times curves. "
                "Each point is a model (about 40 µs to build and check) and a theory "
                "solve (a few ms), so 40000 points take minutes of theory, not hours; "
                "e.g. 200 x 200 cells, or 60 x 60 cells for 11 curves.",
    "N_TEST_MAX": "Largest fresh test set of a simulation.",
    "LABEL_CHARS_MAX": "Longest curve label (a legend entry).",
    "ACTIVATION_CHARS_MAX": "Longest activation expression (the safe parser's own bound).",
    "ACTIVATION_M2_MAX": "Largest second moment E f(z)², z ~ N(0, 1), of an activation (and "
                         "of E f′(z)²): a typical |f| up to 10⁶. The theory and the "
                         "simulations square features and spikes; beyond this they overflow "
                         "or lose all precision (1e300*z overflows outright, exp(z**2) has "
                         "no second moment).",
    "TEXT_MAX": "Longest configuration file read, in characters, checked before parsing. "
                "A configuration with 1000 sweep values, 1000 seeds and 20 curves stays "
                "below 100 000.",
    "NESTING_MAX": "Deepest nesting of objects and lists, checked before parsing. A "
                   "configuration nests 7 levels (run.curves[i].set.a_law.values), a saved "
                   "session about 12; deeper documents would exhaust Python's recursion.",
    "NUMBER_CHARS_MAX": "Longest number literal. A double has 17 significant digits; longer "
                        "literals (and integers past Python's 4300-digit conversion limit) "
                        "are refused by every numeric key.",
    "SHOW_CHARS": "Values are cut to this many characters in error messages.",
}


# --------------------------------------------------------------------------- showing values


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


def _show_container(value: Any, limit: int, depth: int) -> str:
    is_map = isinstance(value, Mapping)
    opening, closing = ("{", "}") if is_map else (
        ("(", ")") if isinstance(value, tuple) else ("[", "]"))
    parts: list[str] = []
    used = 2
    if depth < 3:
        for item in value.items() if is_map else value:
            if used >= limit:
                break
            room = limit - used
            piece = (f"{_show(item[0], min(room, 30), depth + 1)}: "
                     f"{_show(item[1], room, depth + 1)}" if is_map
                     else _show(item, room, depth + 1))
            parts.append(piece)
            used += len(piece) + 2
    more = ", …" if len(parts) < len(value) and parts else "…" if len(parts) < len(value) else ""
    one = "," if isinstance(value, tuple) and len(value) == 1 and parts else ""
    text = opening + ", ".join(parts) + one + more + closing
    if len(text) > limit:
        text = text[: limit - 2] + "…" + closing
    if len(parts) < len(value):
        text += f" ({len(value)} {'keys' if is_map else 'items'})"
    return text


def _show(value: Any, limit: int = SHOW_CHARS, depth: int = 0) -> str:
    """``value`` for a message: a repr cut to about ``limit`` characters, never huge.

    Works on any input in bounded time: containers show their first items and their
    length, integers of more than 78 digits their number of digits, and no repr of a
    large object is ever built.
    """
    limit = max(limit, 8)
    if isinstance(value, LongNumber):
        return repr(value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        if value.bit_length() <= 256:
            return repr(value)
        return f"<an integer of {int(math.log10(abs(value))) + 1} digits>"
    if isinstance(value, str):
        if len(value) <= limit:
            return _one_line(repr(value), limit + 2)
        return _one_line(repr(value[:limit]), limit) + f" ({len(value)} characters)"
    if isinstance(value, (list, tuple, Mapping)):
        return _show_container(value, limit, depth)
    if isinstance(value, numbers.Number):
        return _one_line(repr(value), limit)
    return f"<{type(value).__name__}>"


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,40}\Z")


def _child(path: str, key: Any) -> str:
    """The dotted key of ``key`` inside ``path`` (``model.beta``, ``run.seeds[3]``)."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    if isinstance(key, str) and _IDENTIFIER.match(key):
        return f"{path}.{key}" if path else key
    return f"{path or 'config'}[{_show(key, 40)}]"


def _num(x: float) -> str:
    """A bound as people write it: ``100``, ``0.01``, ``1e+06``, ``4294967295``."""
    if isinstance(x, int):
        return str(x)
    if x.is_integer() and abs(x) < 1e5:
        return str(int(x))
    return f"{x:g}"


# --------------------------------------------------------------------------- rules

class _Required:
    """The default of a key that must be given."""

    def __repr__(self) -> str:
        return "REQUIRED"


#: The default of a key that must be given.
REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Rule:
    """One configuration key: its type, range, default and meaning.

    Attributes
    ----------
    name : str
        The key inside its section (``"beta"``).
    kind : str
        ``"number"``, ``"integer"``, ``"boolean"``, ``"choice"``, ``"activation"``,
        ``"text"``, ``"list"`` or ``"object"``.
    default : Any
        The value when the key is left out (:data:`REQUIRED`: it must be given).
    meaning : str
        What the key is, in plain words with the model's symbols (docs/configuration.md).
    lo, hi : float or None
        Bounds of a number or integer; ``lo_open`` / ``hi_open`` exclude them.
    choices : tuple of str
        Allowed values of a choice.
    null : str
        What ``null`` means when it is allowed (empty: not allowed).
    item : Rule or None
        The rule of every item of a list (``None``: checked by the dataclass).
    min_items, max_items : int
        Length of a list (or of a text, in characters).
    distinct : bool
        A list's items must differ.
    section : str
        The section describing an object's keys (``"run.sweep"``).
    limits : tuple of str
        Names of the :data:`LIMITS` that bound the key.
    doc_default : str
        The default as the documentation writes it, when not the value itself.
    """

    name: str
    kind: str
    default: Any
    meaning: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple[str, ...] = ()
    null: str = ""
    item: Rule | None = None
    min_items: int = 0
    max_items: int = 0
    distinct: bool = False
    section: str = ""
    limits: tuple[str, ...] = ()
    doc_default: str = ""

    # Description -----------------------------------------------------------------
    def interval(self) -> str:
        """``(0, 100]``: the bounds of a number or integer."""
        return (f"{'(' if self.lo_open else '['}{_num(self.lo)}, {_num(self.hi)}"
                f"{')' if self.hi_open else ']'}")

    def _plural(self) -> str:
        if self.kind in ("number", "integer"):
            return f"{self.kind}s in {self.interval()}"
        if self.kind == "choice":
            return f"names from {', '.join(self.choices)}"
        if self.kind == "object":
            return f"objects ({self.section})"
        return "values"

    def allowed(self) -> str:
        """What the key accepts, as messages and docs say it (``a number in (0, 100]``)."""
        kind = self.kind
        if kind in ("number", "integer"):
            text = f"{'a number' if kind == 'number' else 'an integer'} in {self.interval()}"
        elif kind == "boolean":
            text = "true or false"
        elif kind == "choice":
            text = f"one of {', '.join(self.choices)}"
        elif kind == "activation":
            text = (f"an activation name or an expression in z of at most "
                    f"{ACTIVATION_CHARS_MAX} characters")
        elif kind == "text":
            text = f"a non-empty string of at most {self.max_items} characters"
        elif kind == "list":
            size = (f"at most {self.max_items}" if self.min_items == 0
                    else f"{self.min_items} to {self.max_items}")
            items = self.item._plural() if self.item is not None else "values"
            text = f"a list of {size} {'distinct ' if self.distinct else ''}{items}"
        else:
            text = f"an object ({self.section})"
        return text + (" or null" if self.null else "")

    # Checking --------------------------------------------------------------------
    def check(self, value: Any, key: str) -> Any:
        """The value, normalised (floats, ints, tuples), or :class:`ConfigError`."""
        if value is None:
            if self.null:
                return None
            raise ConfigError(key, f"{key} must be {self.allowed()}, got None")
        return _CHECKS[self.kind](self, value, key)

    def check_size(self, value: Any, key: str) -> list[Any] | tuple[Any, ...]:
        """A list's type and length only, before any of its items is read."""
        if not isinstance(value, (list, tuple)) or not (
                self.min_items <= len(value) <= self.max_items):
            raise self.refuse(key, value)
        return value

    def refuse(self, key: str, value: Any, why: str | None = None) -> ConfigError:
        """The error for ``value``: ``why`` (e.g. ``must be > 0``) and the allowed range."""
        if why is None:
            return ConfigError(key, f"{key} must be {self.allowed()}, got {_show(value)}")
        return ConfigError(key, f"{key} {why}, got {_show(value)} (allowed: {self.allowed()})")


def _check_number(rule: Rule, value: Any, key: str) -> float | int:
    if (isinstance(value, (bool, LongNumber))
            or not isinstance(value, (int, float))):
        raise rule.refuse(key, value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise rule.refuse(key, value, "must be a finite number")
        if rule.kind == "integer" and not value.is_integer():
            raise rule.refuse(key, value, "must be an integer")
    # Compared before any conversion: Python compares int and float exactly, and a
    # huge int would overflow float().
    if value < rule.lo or (rule.lo_open and value == rule.lo):
        raise rule.refuse(key, value, f"must be {'>' if rule.lo_open else '>='} {_num(rule.lo)}")
    if value > rule.hi or (rule.hi_open and value == rule.hi):
        raise rule.refuse(key, value, f"must be {'<' if rule.hi_open else '<='} {_num(rule.hi)}")
    return int(value) if rule.kind == "integer" else float(value)


def _check_boolean(rule: Rule, value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise rule.refuse(key, value)
    return value


def _check_choice(rule: Rule, value: Any, key: str) -> str:
    if not isinstance(value, str) or value not in rule.choices:
        raise rule.refuse(key, value)
    return value


def _check_text(rule: Rule, value: Any, key: str) -> str:
    if not isinstance(value, str) or not value or len(value) > rule.max_items:
        raise rule.refuse(key, value)
    return value


def _check_activation(rule: Rule, value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > ACTIVATION_CHARS_MAX:
        raise rule.refuse(key, value)
    try:
        get_activation(value)
    except ExpressionError as exc:
        why = str(exc).replace(repr(value), _show(value)).replace(repr(value.strip()),
                                                                  _show(value))
    except (ArithmeticError, ValueError):
        why = f"a number in {_show(value)} is too large"
    except RecursionError:
        why = f"{_show(value)} is nested too deeply"
    else:
        return _check_moments(value, key)
    raise ConfigError(key, f"{key} is not a known activation nor an allowed expression "
                           f"in z: {_one_line(why, 300)}")


def _check_moments(value: str, key: str) -> str:
    """The activation's Gaussian moments must be finite and at most ACTIVATION_M2_MAX."""
    try:
        with np.errstate(all="ignore"):
            h = hermite_constants(value)
        m2, var = h.m2, h.var_fprime
    except ArithmeticError:
        m2 = var = math.inf
    worst = max(m2, var) if math.isfinite(m2) and math.isfinite(var) else math.inf
    if worst <= ACTIVATION_M2_MAX:
        return value
    name = "E f'(z)^2" if var > m2 else "E f(z)^2"
    raise ConfigError(key, f"{key} = {_show(value)} is too large for the theory: {name} = "
                           f"{worst:.3g} over z ~ N(0, 1), at most {ACTIVATION_M2_MAX:g} "
                           f"(ACTIVATION_M2_MAX)")


def _check_list(rule: Rule, value: Any, key: str) -> tuple[Any, ...]:
    rule.check_size(value, key)
    if rule.item is None:
        return tuple(value)
    items = tuple(rule.item.check(v, f"{key}[{i}]") for i, v in enumerate(value))
    if rule.distinct and len(set(items)) != len(items):
        first: dict[Any, int] = {}
        for i, v in enumerate(items):
            if v in first:
                raise ConfigError(f"{key}[{i}]", f"{key}[{i}] = {_show(v)} repeats "
                                                 f"{key}[{first[v]}]: {key} must be distinct")
            first[v] = i
    return items


def _check_object(rule: Rule, value: Any, key: str) -> Any:
    if not isinstance(value, _OBJECT_TYPES[rule.section]):
        raise rule.refuse(key, value)
    return value


_CHECKS: dict[str, Callable[[Rule, Any, str], Any]] = {
    "number": _check_number,
    "integer": _check_number,
    "boolean": _check_boolean,
    "choice": _check_choice,
    "text": _check_text,
    "activation": _check_activation,
    "list": _check_list,
    "object": _check_object,
}

#: The dataclass of each object section (filled in below the dataclasses).
_OBJECT_TYPES: dict[str, type] = {}


@dataclass(frozen=True)
class Constraint:
    """A rule that ties keys of one section together.

    Attributes
    ----------
    keys : tuple of str
        The keys involved; an error names the first one (or the one a curve or a sweep
        set, when the point of a run breaks it).
    text : str
        The constraint for the documentation.
    violation : callable
        ``violation(values)`` -> ``None`` or the rest of the message after the key
        (``"must give p = round(beta*d) >= 1, got p = 0 ..."``).
    """

    keys: tuple[str, ...]
    text: str
    violation: Callable[[Mapping[str, Any]], str | None]


@dataclass(frozen=True)
class Section:
    """The rules of one object of the configuration, in the order of its keys."""

    key: str
    meaning: str
    rules: tuple[Rule, ...]
    constraints: tuple[Constraint, ...] = ()

    def __getitem__(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __contains__(self, name: object) -> bool:
        return any(rule.name == name for rule in self.rules)

    def names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.rules)

    def check_keys(self, data: Any, where: str) -> Mapping[str, Any]:
        """``data`` must be an object with keys of this section (``where`` names it)."""
        if not isinstance(data, Mapping):
            raise ConfigError(where, f"{where} must be an object, got {_show(data)}")
        for k in data:
            if k not in self:
                key = _child(where, k)
                raise ConfigError(key, f"{_one_line(key, 160)} is not a known key; allowed "
                                       f"keys: {', '.join(sorted(self.names()))}")
        missing = [r.name for r in self.rules if r.default is REQUIRED and r.name not in data]
        if missing:
            need = " and ".join(repr(r.name) for r in self.rules if r.default is REQUIRED)
            raise ConfigError(f"{where}.{missing[0]}", f"{where}.{missing[0]} is missing: "
                                                       f"{where} needs {need}")
        return data

    def validate(self, obj: Any, where: str) -> None:
        """Check and normalise every field of the dataclass ``obj`` by its rule."""
        for rule in self.rules:
            value = rule.check(getattr(obj, rule.name), f"{where}.{rule.name}")
            object.__setattr__(obj, rule.name, value)

    def check_constraints(self, values: Mapping[str, Any], where: str,
                          set_by: Mapping[str, str] | None = None) -> None:
        """Raise on the first broken constraint; ``set_by[k]`` names who set key ``k``."""
        for constraint in self.constraints:
            tail = constraint.violation(values)
            if tail is not None:
                set_by = set_by or {}
                key = next((set_by[k] for k in constraint.keys if k in set_by),
                           f"{where}.{constraint.keys[0]}")
                raise ConfigError(key, f"{key} {tail}")


def _size_at_least_one(size: str, ratio: str) -> Callable[[Mapping[str, Any]], str | None]:
    def violation(values: Mapping[str, Any]) -> str | None:
        if values[ratio] is None:
            return None
        got = round(values[ratio] * values["d"])
        if got >= 1:
            return None
        return (f"must give {size} = round({ratio}*d) >= 1, got {size} = {got} "
                f"({ratio} = {_show(values[ratio])}, d = {values['d']})")
    return violation


def _probs_one_per_value(values: Mapping[str, Any]) -> str | None:
    k = len(values["values"])
    if len(values["probs"]) == k:
        return None
    return (f"must be a list of {k} probabilities (one per value), got "
            f"{_show(values['probs'])}")


def _probs_sum_to_one(values: Mapping[str, Any]) -> str | None:
    total = math.fsum(values["probs"])
    return None if abs(total - 1.0) <= 1e-6 else f"must sum to 1 (within 1e-6), got sum {total:g}"


def _something_to_compute(values: Mapping[str, Any]) -> str | None:
    if values["theory"] or values["simulate"]:
        return None
    return "must name at least one model when run.theory is false (nothing to compute)"


def _one_of_sweep_and_grid(values: Mapping[str, Any]) -> str | None:
    if values["grid"] is None or values["sweep"] is None:
        return None
    return "cannot be given together with run.sweep: a run varies one parameter (sweep) " \
           "or two (grid)"


def _grid_points_bounded(values: Mapping[str, Any]) -> str | None:
    grid = values["grid"]
    if grid is None:
        return None
    curves = max(1, len(values["curves"]))
    points = grid.size * curves
    if points <= GRID_MAX:
        return None
    ny, nx = grid.shape
    return (f"has {nx} x {ny} cells for {curves} curve(s), {points} points; at most "
            f"{GRID_MAX} (GRID_MAX)")


def _grid_axes_differ(values: Mapping[str, Any]) -> str | None:
    if values["x"].param != values["y"].param:
        return None
    return (f"must vary another parameter than run.grid.x, got param "
            f"{_show(values['y'].param)} for both")


def _number(name: str, default: Any, lo: float, hi: float, meaning: str, *,
            integer: bool = False, lo_open: bool = False, null: str = "",
            limits: tuple[str, ...] = ()) -> Rule:
    return Rule(name, "integer" if integer else "number", default, meaning, lo=lo, hi=hi,
                lo_open=lo_open, null=null, limits=limits)


_ACTIVATIONS = ", ".join(REGISTRY)

CONFIG = Section("config", "A whole configuration document.", (
    _number("schema", SCHEMA, 0, SCHEMA, "Version of this format. Older documents are "
            "migrated; newer ones are refused (update the app). Left out: the current one.",
            integer=True),
    Rule("model", "object", None, "The model: network, target, gradient step, readout.",
         section="model", doc_default="all defaults"),
    Rule("run", "object", None, "What to compute.", section="run", doc_default="all defaults"),
    Rule("numerics", "object", None, "Numerics of the theory solver.", section="numerics",
         doc_default="all defaults"),
))

MODEL = Section("model", (
    "The model ([conventions](model.md#conventions)): inputs x ~ N(0, I_d), labels "
    "y = σ*(⟨θ, x⟩) + √Δ ξ, network f(x) = (1/√p) Σ_i a_i σ(⟨w_i, x⟩), one gradient step "
    "on the first layer, then a ridge readout of the second layer on n fresh samples."), (
    _number("d", 1000, 10, D_MAX, "Input dimension d; the sizes p, n, n0 are rounded from "
            "it. Only simulations depend on d (their cost grows like d³); the theory is the "
            "d → ∞ limit.", integer=True, limits=("D_MAX",)),
    _number("beta", 1.0, 0, BETA_MAX, "β = p/d: hidden units per input dimension; the width "
            "is p = round(β·d).", lo_open=True, limits=("BETA_MAX",)),
    _number("alpha", 2.0, 0, ALPHA_MAX, "α = n/d: samples of the ridge readout per input "
            "dimension, n = round(α·d). The papers' 'samples per feature' n/p is α/β.",
            lo_open=True, limits=("ALPHA_MAX",)),
    _number("alpha0", None, 0, ALPHA0_MAX, "α0 = n0/d: samples in the batch of the gradient "
            "step, n0 = round(α0·d).", lo_open=True, limits=("ALPHA0_MAX",),
            null="the large-batch limit α0 → ∞ (the step uses the population gradient)"),
    _number("eta_tilde", 3.0, 0, ETA_TILDE_MAX, "η̃: size of the one gradient step in the "
            "maximal scaling η = η̃·√p, so that each row of W moves by O(1). 0: no step "
            "(random features).", limits=("ETA_TILDE_MAX",)),
    _number("lam", 0.1, 0, LAM_MAX, "λ: ridge penalty of the readout in the sum convention: "
            "λ|a|² is added to the SUM (not the mean) of the n squared residuals. The engine "
            "works with λ_int = λ·p/n.", limits=("LAM_MAX",)),
    _number("noise", 0.0, 0, NOISE_MAX, "Δ: variance of the label noise, "
            "y = σ*(⟨θ, x⟩) + √Δ ξ with ξ ~ N(0, 1).", limits=("NOISE_MAX",)),
    Rule("sigma", "activation", "tanh", f"σ: activation of the network. A name ({_ACTIVATIONS}) "
         "or an expression in z with numbers, pi, e, + - * / ** and the usual functions "
         "(e.g. \"tanh(z) + 0.5*He2(z)\").", limits=("ACTIVATION_CHARS_MAX", "ACTIVATION_M2_MAX")),
    Rule("sigma_star", "activation", "tanh", "σ*: the target function of ⟨θ, x⟩; the same "
         "names and expressions as sigma.",
         limits=("ACTIVATION_CHARS_MAX", "ACTIVATION_M2_MAX")),
    Rule("a_law", "object", None, "Law of the second-layer weights a_i: finitely many atoms "
         "with their probabilities.", section="model.a_law", doc_default="a = 1"),
    Rule("w_init", "choice", "sphere", "Rows w_i of W0: uniform on the unit sphere (sphere) "
         "or Gaussian N(0, I_d/d) (gaussian).", choices=W_INITS),
    Rule("residual", "choice", "labels", "Residual r of the gradient step: the labels, "
         "r = y (labels: the theory's assumption, the network output at initialisation is "
         "removed), or r = y − f(x; W0, a) (full).", choices=RESIDUALS),
), (
    Constraint(("beta", "d"), "p = round(β·d) ≥ 1", _size_at_least_one("p", "beta")),
    Constraint(("alpha", "d"), "n = round(α·d) ≥ 1", _size_at_least_one("n", "alpha")),
    Constraint(("alpha0", "d"), "n0 = round(α0·d) ≥ 1 (unless alpha0 is null)",
               _size_at_least_one("n0", "alpha0")),
))

A_LAW = Section("model.a_law", (
    "The law of each second-layer weight a_i: P(a_i = values[k]) = probs[k], K atoms "
    "(\"all ones\": values [1]; Rademacher ±1: values [1, -1], probs [0.5, 0.5])."), (
    Rule("values", "list", (1.0,), "The atoms a^(k) of the law.", min_items=1, max_items=K_MAX,
         distinct=True, item=_number("value", None, -A_VALUE_MAX, A_VALUE_MAX, "an atom"),
         limits=("K_MAX", "A_VALUE_MAX"), doc_default="[1.0]"),
    Rule("probs", "list", (1.0,), "Their probabilities π_k (normalised to sum exactly 1).",
         min_items=1, max_items=K_MAX, item=Rule("prob", "number", None, "", lo=0, hi=1,
                                                  lo_open=True),
         doc_default="uniform, 1/K each"),
), (
    Constraint(("probs",), "one probability per value", _probs_one_per_value),
    Constraint(("probs",), "the probabilities sum to 1 within 1e-6", _probs_sum_to_one),
))

RUN = Section("run", "What to compute, how often, and over which parameter values.", (
    Rule("kind", "choice", "spectrum", "spectrum: the spectrum of the feature covariance "
         "(1/n) Φᵀ Φ before and after the step; weights: the spectrum of W1 W1ᵀ; errors: "
         "training and test errors (usually with a sweep).", choices=RUN_KINDS),
    Rule("sweep", "object", None, "One model parameter varied over a list of values.",
         section="run.sweep", null="no sweep: one point, the model as given"),
    Rule("grid", "object", None, "Two model parameters varied together: every cell of the "
         "grid x values × y values is a point (a phase diagram). A run has at most one of "
         "sweep and grid.", section="run.grid", null="no grid", limits=("GRID_MAX",)),
    Rule("theory", "boolean", True, "Solve the theory (the d → ∞ limit)."),
    Rule("simulate", "list", SIM_MODELS, "Models to simulate at finite d: network (the "
         "two-layer network with its real gradient step) and srf (the equivalent spiked "
         "random-features model).", max_items=len(SIM_MODELS), distinct=True,
         item=Rule("model", "choice", None, "", choices=SIM_MODELS)),
    Rule("seeds", "list", (0,), "One simulation per seed; results give mean ± std over them.",
         min_items=1, max_items=SEEDS_MAX, distinct=True,
         item=_number("seed", None, 0, SEED_MAX, "", integer=True),
         limits=("SEEDS_MAX", "SEED_MAX")),
    _number("n_test", None, 1, N_TEST_MAX, "Size of the fresh test set of a simulation.",
            integer=True, null="max(n, 2000)", limits=("N_TEST_MAX",)),
    Rule("curves", "list", (), "Several curves that differ by model values (e.g. one per "
         "α0); none: one curve, the model as given. Every curve runs the whole sweep.",
         max_items=CURVES_MAX, item=Rule("curve", "object", None, "", section="run.curves[i]"),
         limits=("CURVES_MAX",), doc_default="[]"),
    _number("memory_fraction", 0.5, 0.01, 1.0, "Share of this machine's memory a run may use "
            "(a larger run is refused before it starts)."),
), (
    Constraint(("simulate", "theory"), "something to compute: theory true or a model to "
               "simulate", _something_to_compute),
    Constraint(("grid", "sweep"), "at most one of sweep and grid", _one_of_sweep_and_grid),
    Constraint(("grid", "curves"), "a grid's cells times the curves: at most GRID_MAX points",
               _grid_points_bounded),
))

SWEEP = Section("run.sweep", "One model parameter varied over a list of values.", (
    Rule("param", "choice", REQUIRED, "The model key to vary.", choices=SWEEPABLE),
    Rule("values", "list", REQUIRED, "Its values, each within the range of that model key "
         "(null allowed for alpha0: the large-batch limit).", min_items=1,
         max_items=SWEEP_MAX, limits=("SWEEP_MAX",)),
))

GRID = Section("run.grid", (
    "Two model parameters varied together (a phase diagram). Point (ix, iy) of a curve has "
    "x.param = x.values[ix] and y.param = y.values[iy]; points are numbered row by row, "
    "index = iy·nx + ix with nx the number of x values, and a result lists every per-point "
    "quantity as rows [iy][ix]."), (
    Rule("x", "object", REQUIRED, "The parameter along a row and its values.",
         section="run.grid.{x,y}"),
    Rule("y", "object", REQUIRED, "The parameter across rows and its values.",
         section="run.grid.{x,y}"),
), (
    Constraint(("y", "x"), "x and y vary different parameters", _grid_axes_differ),
))

GRID_AXIS = Section("run.grid.{x,y}", "One axis of a grid, written like a sweep.", SWEEP.rules)

CURVE = Section("run.curves[i]", "One curve: a label and the model values it changes.", (
    Rule("label", "text", REQUIRED, "The curve's name in legends and exports.",
         max_items=LABEL_CHARS_MAX, limits=("LABEL_CHARS_MAX",)),
    Rule("set", "object", {}, "Model keys and their values for this curve, each within the "
         "range of that model key (e.g. {\"alpha0\": 5}).", section="model",
         doc_default="{}"),
))

NUMERICS = Section("numerics", "Numerics of the theory solver ([numerics](model.md#numerics)).", (
    _number("q_kappa", 80, 20, 400, "Gauss–Hermite nodes of the κ grid.", integer=True),
    _number("q_inner", 120, 20, 400, "Nodes of the inner average over g for a smooth σ.",
            integer=True),
    _number("q2", 60, 10, 200, "Nodes of the second grid when γ < 1 (finite batch).",
            integer=True),
    _number("n_grid", 400, 50, 5000, "Points of the spectral grid.", integer=True),
    _number("eta_min", 1e-5, 1e-8, 1e-1, "Smallest imaginary part of the spectral "
            "parameter z = λ + iη."),
    _number("tol", 1e-10, 1e-14, 1e-3, "Convergence tolerance of the fixed points."),
    _number("max_iter", 2000, 10, 100000, "Iteration cap of any fixed point.", integer=True),
))

#: Every section of the format, in the order of the documentation.
SECTIONS: tuple[Section, ...] = (CONFIG, MODEL, A_LAW, RUN, SWEEP, GRID, GRID_AXIS, CURVE,
                                 NUMERICS)


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
