"""Activations: registry, safe expression parser, Hermite constants vs closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.activations import (
    REGISTRY,
    VALIDATED_RANGE,
    get_activation,
    hermite_constants,
    parse_expression,
)
from engine.errors import ExpressionError

PHI0 = 1.0 / math.sqrt(2.0 * math.pi)


@pytest.mark.parametrize(
    ("name", "mu0", "mu1", "mu2", "m2"),
    [
        # closed forms under z ~ N(0,1)
        ("relu", PHI0, 0.5, PHI0, 0.5),
        ("linear", 0.0, 1.0, 0.0, 1.0),
        ("He2", 0.0, 0.0, math.sqrt(2.0), 1.0),
        ("He3", 0.0, 0.0, 0.0, 1.0),
        ("sin", 0.0, math.exp(-0.5), 0.0, 0.5 * (1.0 - math.exp(-2.0))),
        # E z erf(z) = 2/sqrt(3 pi); E erf^2 = (2/pi) arcsin(2/3)
        ("erf", 0.0, 2.0 / math.sqrt(3.0 * math.pi), 0.0, (2.0 / math.pi) * math.asin(2.0 / 3.0)),
        # user expressions, including kinks
        ("abs(z)", math.sqrt(2.0 / math.pi), 0.0, math.sqrt(2.0 / math.pi), 1.0),
        ("relu(z)", PHI0, 0.5, PHI0, 0.5),
        ("He2(z) + z", 0.0, 1.0, math.sqrt(2.0), 2.0),
        ("exp(z/2)", math.exp(1 / 8), 0.5 * math.exp(1 / 8), 0.25 * math.exp(1 / 8), math.e ** 0.5),
    ],
)
def test_hermite_constants_closed_forms(name, mu0, mu1, mu2, m2) -> None:
    h = hermite_constants(name)
    assert h.mu0 == pytest.approx(mu0, abs=1e-6)
    assert h.mu1 == pytest.approx(mu1, abs=1e-6)
    assert h.mu2 == pytest.approx(mu2, abs=1e-6)
    assert h.m2 == pytest.approx(m2, abs=1e-6)


def test_tanh_constants_against_direct_integration() -> None:
    from scipy.integrate import quad

    def e(f):
        return quad(lambda z: f(z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), -40, 40,
                    limit=200)[0]

    h = hermite_constants("tanh")
    assert h.mu1 == pytest.approx(e(lambda z: z * math.tanh(z)), abs=1e-10)
    assert h.m2 == pytest.approx(e(lambda z: math.tanh(z) ** 2), abs=1e-10)
    assert abs(h.mu0) < 1e-12 and abs(h.mu2) < 1e-12
    var_fp = e(lambda z: (1 - math.tanh(z) ** 2) ** 2) - e(lambda z: 1 - math.tanh(z) ** 2) ** 2
    assert h.var_fprime == pytest.approx(var_fp, abs=1e-10)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_registry_derivatives_match_finite_differences(name) -> None:
    act = get_activation(name)
    z = np.linspace(-3.0, 3.0, 61) + 0.013  # avoid the relu kink at 0
    fd = (act.f(z + 1e-6) - act.f(z - 1e-6)) / 2e-6
    np.testing.assert_allclose(act.fprime(z), fd, atol=1e-6)


def test_sigmoid_is_centred() -> None:
    f = get_activation("sigmoid").f
    z = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(f(z), 1 / (1 + np.exp(-z)) - 0.5, atol=1e-15)


@pytest.mark.parametrize(
    ("source", "z", "expected"),
    [
        ("z**2 - 1", 2.0, 3.0),
        ("-z + 3*z", 1.5, 3.0),
        ("tanh(2*z) + 0.1*z**2", 0.5, math.tanh(1.0) + 0.025),
        ("maximum(z, 0) - minimum(z, 0)", -2.0, 2.0),
        ("sin(pi*z) + e", 0.5, 1.0 + math.e),
        ("He3(z)/sqrt(2)", 1.0, (1 - 3) / math.sqrt(6) / math.sqrt(2)),
        ("1e-3 * z", 2.0, 2e-3),
    ],
)
def test_expression_grammar_accepts(source, z, expected) -> None:
    f = parse_expression(source)
    assert f(np.array([z]))[0] == pytest.approx(expected)
    assert f(np.zeros(7)).shape == (7,)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("__import__('os').system('ls')", "system\" is not allowed"),
        ("z.real", "Attribute"),
        ("np.tanh(z)", "call to 'np.tanh' is not allowed"),
        ("open('f')", "call to 'open' is not allowed"),
        ("x + 1", "unknown name 'x'"),
        ("z[0]", "Subscript"),
        ("lambda z: z", "Lambda"),
        ("z if z > 0 else 0", "IfExp"),
        ("'a' * 3", "only numbers are allowed"),
        ("tanh(z, 2)", "tanh takes 1 argument"),
        ("tanh(x=z)", "keyword arguments are not allowed"),
        ("z +", "syntax error"),
        ("import os", "syntax error"),
        ("", "non-empty"),
        ("log(z)", "not finite"),
        ("[z for z in ()]", "ListComp"),
        ("z" + " + z" * 300, "too long"),
    ],
)
def test_expression_grammar_rejects(source, fragment) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(source)
    assert fragment in str(info.value)


def test_user_expression_gets_numerical_derivative() -> None:
    act = get_activation("sin(2*z)")
    z = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(act.fprime(z), 2 * np.cos(2 * z), atol=1e-7)


def test_registry_lookup_is_case_insensitive() -> None:
    assert get_activation("TANH") is REGISTRY["tanh"]
    assert get_activation("he2") is REGISTRY["He2"]


@pytest.mark.parametrize(("source", "numpy_fn"), [
    ("exp(50*z)", lambda z: np.exp(50 * z)),
    ("cosh(z)**50", lambda z: np.cosh(z) ** 50),
    ("exp(exp(z))", lambda z: np.exp(np.exp(z))),
    ("sinh(100*z)", lambda z: np.sinh(100 * z)),
    ("log(z + 19)", lambda z: np.log(z + 19)),
    ("sqrt(15 - z)", lambda z: np.sqrt(15 - z)),
])
def test_expression_must_be_finite_on_the_validated_range(source, numpy_fn) -> None:
    # All finite on [-6, 6]; the theory's quadratures reach 16.8 (kappa grid) and more.
    assert np.all(np.isfinite(numpy_fn(np.linspace(-6.0, 6.0, 241))))
    with pytest.raises(ExpressionError) as info:
        parse_expression(source)
    msg = str(info.value)
    assert "is not finite for every z in [-20, 20], the range the theory and the simulation" \
        in msg
    assert "\n" not in msg


def test_validated_range_keeps_usable_expressions() -> None:
    assert VALIDATED_RANGE == 20.0
    for source in ("exp(2.5*z)", "z**8", "tanh(2*z) + 0.1*z**2", "1/(z - 0.0123)",
                   "exp(-z**2)*1e5", "abs(z)**0.5"):
        f = parse_expression(source)
        assert np.all(np.isfinite(f(np.linspace(-VALIDATED_RANGE, VALIDATED_RANGE, 81))))


def test_hermite_constants_overflow_to_inf_not_an_exception() -> None:
    # Python's float ** raised OverflowError here; the theory reports inf by name.
    h = hermite_constants("1e200*z")
    assert h.mu1 == pytest.approx(1e200)
    assert math.isinf(h.m2)
    assert not math.isfinite(h.var_fprime)
