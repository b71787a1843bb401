"""The rules of the configuration format (docs/configuration.md), declared once as data.

Every key's type, range, default and meaning is a :class:`Rule` of the tables of
:data:`SECTIONS` (``config``, ``model``, ``model.a_law``, ``run``, ``run.sweep``,
``run.grid``, ``run.grid.{x,y}``, ``run.curves[i]``, ``numerics``), with the
constraints that tie keys together and the named limits of :data:`LIMITS`. The
dataclasses of :mod:`engine.config` read their defaults from these tables and validate
against them on construction, and docs/configuration.md is rendered from them
(``python tools/gen_config_docs.py``).

Every invalid value raises :class:`~engine.errors.ConfigError` whose one-line message
names the dotted key, the value (cut to :data:`SHOW_CHARS` characters) and the allowed
range, e.g. ``model.beta must be > 0, got -1 (allowed: a number in (0, 100])``.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.activations import REGISTRY, get_activation, hermite_constants
from engine.errors import ConfigError, ExpressionError

#: The schema number this version writes.
SCHEMA = 1

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

#: The dataclass of each object section (filled in by engine.config, below its dataclasses).
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
