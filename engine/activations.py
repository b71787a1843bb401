"""Activations and targets: the registry, a safe expression parser, Hermite constants.

Every activation ``sigma`` or target ``sigma_star`` is named either by a registry
key (``tanh``, ``relu``, ``erf``, ``sin``, ``sigmoid``, ``He2``, ``He3``,
``linear``) or by a user expression in ``z`` such as ``"tanh(2*z) + 0.1*z**2"``.
Expressions are parsed with :mod:`ast` against a whitelist (numbers, ``z``,
``pi``, ``e``, ``+ - * / **``, and the functions in :data:`FUNCTIONS`); nothing is
ever passed to ``eval``.

Hermite constants follow docs/model.md#conventions with ``z ~ N(0, 1)``::

    mu0 = E f(z),  mu1 = E z f(z),  mu2 = E (z^2 - 1) f(z) = E f''(z),  m2 = E f(z)^2

A user expression must be finite on ``[-VALIDATED_RANGE, VALIDATED_RANGE] = [-20, 20]``,
the range on which the theory's quadratures of a standard Gaussian variable evaluate it
(docs/model.md#numerics): the Hermite constants integrate expressions on ``[-10, 10]``,
the default ``kappa`` grid (80 Gauss–Hermite nodes) reaches ``+-16.8`` and carries the
target ``sigma_*``, and the simulations draw pre-activations and ``<theta, x>`` of unit
scale (``|z| < 7`` for 10^10 draws). A function that overflows somewhere in that range has
no usable Gaussian moments anyway (``exp(36 z)`` overflows at 20, and ``E exp(36 z)^2 =
e^2592``). Finer grids and the arguments ``s g + u kappa`` of a large spike can reach
further out: there the theory checks what it computed and fails with a
:class:`~engine.errors.ConvergenceError` naming the stage (docs/model.md#known-limits).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special

from engine.errors import ExpressionError

ArrayFn = Callable[[np.ndarray], np.ndarray]

SQRT2 = math.sqrt(2.0)
SQRT6 = math.sqrt(6.0)


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def _sigmoid_centred(z: np.ndarray) -> np.ndarray:
    # 1/(1+e^-z) - 1/2 == tanh(z/2)/2, which never overflows.
    return 0.5 * np.tanh(0.5 * z)


def _he2(z: np.ndarray) -> np.ndarray:
    return (z * z - 1.0) / SQRT2


def _he3(z: np.ndarray) -> np.ndarray:
    return (z**3 - 3.0 * z) / SQRT6


@dataclass(frozen=True)
class Activation:
    """A scalar function with its first derivative.

    Attributes
    ----------
    name : str
        The registry key or the user's expression, exactly as given.
    f : callable
        Vectorised function ``f(z)``.
    fprime : callable
        Vectorised derivative ``f'(z)`` (analytic for registry entries,
        central differences for user expressions).
    is_relu : bool
        True for ``relu``, whose conditional coefficients have closed forms.
    description : str
        Formula shown to the user.
    """

    name: str
    f: ArrayFn
    fprime: ArrayFn
    is_relu: bool = False
    description: str = ""

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.f(z)


REGISTRY: dict[str, Activation] = {
    "tanh": Activation("tanh", np.tanh, lambda z: 1.0 - np.tanh(z) ** 2, description="tanh(z)"),
    "relu": Activation(
        "relu", _relu, lambda z: (z > 0).astype(float), is_relu=True, description="max(z, 0)"
    ),
    "erf": Activation(
        "erf",
        special.erf,
        lambda z: (2.0 / math.sqrt(math.pi)) * np.exp(-z * z),
        description="erf(z)",
    ),
    "sin": Activation("sin", np.sin, np.cos, description="sin(z)"),
    "sigmoid": Activation(
        "sigmoid",
        _sigmoid_centred,
        lambda z: 0.25 * (1.0 - np.tanh(0.5 * z) ** 2),
        description="1/(1+exp(-z)) - 1/2 (centred sigmoid)",
    ),
    "He2": Activation("He2", _he2, lambda z: SQRT2 * z, description="(z^2 - 1)/sqrt(2)"),
    "He3": Activation(
        "He3", _he3, lambda z: (3.0 * z * z - 3.0) / SQRT6, description="(z^3 - 3z)/sqrt(6)"
    ),
    "linear": Activation("linear", lambda z: np.asarray(z, dtype=float) * 1.0,
                         lambda z: np.ones_like(np.asarray(z, dtype=float)), description="z"),
}

#: Functions a user expression may call, with their arity.
FUNCTIONS: dict[str, tuple[Callable[..., np.ndarray], int]] = {
    "tanh": (np.tanh, 1),
    "sin": (np.sin, 1),
    "cos": (np.cos, 1),
    "exp": (np.exp, 1),
    "log": (np.log, 1),
    "sqrt": (np.sqrt, 1),
    "abs": (np.abs, 1),
    "sign": (np.sign, 1),
    "erf": (special.erf, 1),
    "arctan": (np.arctan, 1),
    "sinh": (np.sinh, 1),
    "cosh": (np.cosh, 1),
    "relu": (_relu, 1),
    "sigmoid": (_sigmoid_centred, 1),
    "He2": (_he2, 1),
    "He3": (_he3, 1),
    "maximum": (np.maximum, 2),
    "minimum": (np.minimum, 2),
}

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

_BINOPS: dict[type, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.divide,
    ast.Pow: np.power,
}

_MAX_EXPRESSION_LENGTH = 500

#: Half-width of the range on which a user expression must be finite (module docstring).
VALIDATED_RANGE = 20.0
#: The probe points: every 0.05 on the range (integers, halves and zero included).
_PROBE = np.linspace(-VALIDATED_RANGE, VALIDATED_RANGE, 801)


def _compile_node(node: ast.AST, source: str) -> Callable[[np.ndarray], np.ndarray]:
    """Turn one whitelisted AST node into a closure of ``z``."""
    if isinstance(node, ast.Expression):
        return _compile_node(node.body, source)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(
                f"in expression {source!r}: only numbers are allowed as constants, "
                f"got {node.value!r}"
            )
        value = float(node.value)
        # A scalar, broadcast by the operations (a full array per constant cost as much as
        # the expression); _wrapped gives constant expressions the shape of z.
        return lambda z: value
    if isinstance(node, ast.Name):
        if node.id == "z":
            return lambda z: z
        if node.id in CONSTANTS:
            value = CONSTANTS[node.id]
            return lambda z: value
        raise ExpressionError(
            f"in expression {source!r}: unknown name {node.id!r}; allowed: z, "
            + ", ".join(CONSTANTS)
        )
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _compile_node(node.operand, source)
        if isinstance(node.op, ast.USub):
            return lambda z: -inner(z)
        return inner
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        op = _BINOPS[type(node.op)]
        left = _compile_node(node.left, source)
        right = _compile_node(node.right, source)
        return lambda z: op(left(z), right(z))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ExpressionError(
                f"in expression {source!r}: call to {what!r} is not allowed; allowed "
                "functions: " + ", ".join(sorted(FUNCTIONS))
            )
        if node.keywords:
            raise ExpressionError(f"in expression {source!r}: keyword arguments are not allowed")
        fn, arity = FUNCTIONS[node.func.id]
        if len(node.args) != arity:
            raise ExpressionError(
                f"in expression {source!r}: {node.func.id} takes {arity} argument(s), "
                f"got {len(node.args)}"
            )
        args = [_compile_node(a, source) for a in node.args]
        if arity == 1:
            a0 = args[0]
            return lambda z: fn(a0(z))
        a0, a1 = args
        return lambda z: fn(a0(z), a1(z))
    raise ExpressionError(
        f"in expression {source!r}: {type(node).__name__} ({ast.unparse(node)!r}) is not "
        "allowed; use numbers, z, pi, e, + - * / ** and the functions "
        + ", ".join(sorted(FUNCTIONS))
    )


def parse_expression(source: str) -> ArrayFn:
    """Parse a user expression in ``z`` into a vectorised function.

    Parameters
    ----------
    source : str
        E.g. ``"tanh(z) + 0.5*He2(z)"``. Grammar: numbers, ``z``, ``pi``, ``e``,
        ``+ - * / **``, unary ``-``, parentheses and calls to :data:`FUNCTIONS`.

    Returns
    -------
    callable
        ``f(z)`` for a float ndarray ``z``, returning an array of the same shape.

    Raises
    ------
    ExpressionError
        On a syntax error or anything outside the whitelist (attribute access,
        imports, subscripts, lambdas, unknown names or functions, ...).
    """
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("expression must be a non-empty string in z")
    if len(source) > _MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"expression is too long ({len(source)} characters, at most "
            f"{_MAX_EXPRESSION_LENGTH})"
        )
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"in expression {source!r}: syntax error ({exc.msg})") from None
    fn = _compile_node(tree, source)

    def _wrapped(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        with np.errstate(all="ignore"):
            out = np.asarray(fn(z), dtype=float)
        return np.broadcast_to(out, z.shape).copy() if out.shape != z.shape else out

    # Probe: finite everywhere the theory and the simulations evaluate it.
    bad = ~np.isfinite(_wrapped(_PROBE))
    if bad.any():
        r = f"{VALIDATED_RANGE:g}"
        raise ExpressionError(
            f"expression {source!r} is not finite for every z in [-{r}, {r}], the range the "
            f"theory and the simulation evaluate activations on (e.g. at z = "
            f"{_PROBE[np.argmax(bad)]:g}: log or sqrt of a negative number, division by "
            "zero, or overflow)"
        )
    return _wrapped


def _numerical_derivative(f: ArrayFn) -> ArrayFn:
    h = 1e-5

    def fprime(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        return (f(z + h) - f(z - h)) / (2.0 * h)

    return fprime


@lru_cache(maxsize=256)
def get_activation(name: str) -> Activation:
    """Return the registry activation ``name`` or parse it as an expression in ``z``.

    Raises
    ------
    ExpressionError
        When ``name`` is neither a registry key nor an allowed expression.
    """
    if not isinstance(name, str):
        raise ExpressionError(f"activation must be a string, got {name!r}")
    key = name.strip()
    if key in REGISTRY:
        return REGISTRY[key]
    for reg_key, act in REGISTRY.items():
        if reg_key.lower() == key.lower():
            return act
    f = parse_expression(key)
    return Activation(key, f, _numerical_derivative(f), description=key)


@dataclass(frozen=True)
class HermiteConstants:
    """Hermite constants of ``f`` under ``z ~ N(0, 1)`` (docs/model.md#conventions).

    Attributes
    ----------
    mu0 : float
        ``E f(z)``.
    mu1 : float
        ``E z f(z)``.
    mu2 : float
        ``E (z^2 - 1) f(z)`` (= ``E f''(z)``).
    m2 : float
        ``E f(z)^2``.
    var_fprime : float
        ``Var f'(z)``, which sets the finite-batch row noise (docs/model.md#network-to-srf-mapping).
    """

    mu0: float
    mu1: float
    mu2: float
    m2: float
    var_fprime: float

    @property
    def mus2(self) -> float:
        """``E f^2 - mu0^2 - mu1^2``: the variance outside the linear part."""
        return self.m2 - self.mu0**2 - self.mu1**2


@lru_cache(maxsize=16)
def gauss_hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss–Hermite nodes and weights normalised to sum to one.

    ``sum(w * f(x)) ≈ E f(z)`` for ``z ~ N(0, 1)``.
    """
    x, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / w.sum()
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


@lru_cache(maxsize=1)
def dense_gaussian_rule(half_width: float = 10.0, n: int = 40001) -> tuple[np.ndarray, np.ndarray]:
    """Trapezoid nodes and weights on ``[-half_width, half_width]`` for ``E f(z)``."""
    x = np.linspace(-half_width, half_width, n)
    w = np.exp(-0.5 * x * x)
    w[0] *= 0.5
    w[-1] *= 0.5
    w /= w.sum()
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


@lru_cache(maxsize=256)
def hermite_constants(name: str, n_nodes: int = 200) -> HermiteConstants:
    """Hermite constants of the activation ``name`` by Gauss–Hermite quadrature.

    ``relu`` uses its closed form (its kink slows quadrature down); user
    expressions use :func:`dense_gaussian_rule`, robust to kinks.

    Parameters
    ----------
    name : str
        Registry key or expression.
    n_nodes : int
        Number of Gauss–Hermite nodes.
    """
    act = get_activation(name)
    if act.is_relu:
        c = 1.0 / math.sqrt(2.0 * math.pi)
        # E relu = phi(0); E z relu = 1/2; E (z^2-1) relu = phi(0); E relu^2 = 1/2;
        # relu' = step, Var = 1/4.
        return HermiteConstants(mu0=c, mu1=0.5, mu2=c, m2=0.5, var_fprime=0.25)
    if act.name in REGISTRY:
        x, w = gauss_hermite(n_nodes)
    else:
        # A user expression may have kinks (abs, maximum, sign) where Gauss–Hermite
        # converges slowly (1e-3 for abs with 200 nodes); a dense trapezoid rule
        # is exact to ~1e-7 there and spectrally accurate for smooth functions.
        x, w = dense_gaussian_rule()
    # numpy arithmetic throughout: an overflow gives inf (which the theory reports, naming
    # the constant), where Python's float ** would raise.
    with np.errstate(all="ignore"):
        fx = act.f(x)
        fp = act.fprime(x)
        mean_fp = w @ fp
        return HermiteConstants(
            mu0=float(w @ fx),
            mu1=float(w @ (x * fx)),
            mu2=float(w @ ((x * x - 1.0) * fx)),
            m2=float(w @ (fx * fx)),
            var_fprime=float(max(w @ (fp * fp) - mean_fp * mean_fp, 0.0)),
        )


def activation_names() -> list[str]:
    """Registry keys in display order."""
    return list(REGISTRY)
