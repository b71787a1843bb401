"""Numerical failures of the theory end as a one-line ConvergenceError, never a traceback.

docs/model.md#numerics: every public theory function returns finite numbers or raises
:class:`ConvergenceError` naming the stage; programming errors still surface. The hostile
inputs are activations and laws of ``a`` that the configuration accepts but that overflow
the theory's quadratures (the spike ``u kappa`` carries them far beyond the validated
range), and, for the mapping, values that only a caller bypassing the configuration
could pass.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from engine.activations import VALIDATED_RANGE, hermite_constants
from engine.config import ALaw, ModelConfig, NumericsConfig
from engine.errors import Cancelled, ConfigError, ConvergenceError
from engine.progress import CancelToken
from engine.theory import (
    conditional_coefficients,
    equivalent_srf,
    expressivity,
    learning_curve,
    solve_ridge,
    solve_spectrum,
    tail_curve,
    weights_theory,
)
from engine.theory._guard import (
    NUMERICAL_ERRORS,
    guarded,
    require_finite,
    safe_inv,
    safe_solve,
    stage,
)

NUM = NumericsConfig(n_grid=60)
PM = ALaw((1.0, -1.0), (0.5, 0.5))

#: Models the configuration accepts, each of which used to break some theory function
#: (LinAlgError in expressivity, NaN coefficients, overflowing spikes) or sits at a limit.
HOSTILE = {
    "sigma=exp(2.5*z)": dict(sigma="exp(2.5*z)"),
    "sigma_star=exp(2.5*z)": dict(sigma_star="exp(2.5*z)"),
    "sigma=exp(3*z)": dict(sigma="exp(3*z)", a_law=PM),
    "sigma=z**8": dict(sigma="z**8"),
    "sigma_star=z**8": dict(sigma_star="z**8", a_law=PM),
    "sigma=1e5*tanh(z)": dict(sigma="1e5*tanh(z)"),
    "sigma_star=1e5*tanh(z)": dict(sigma_star="1e5*tanh(z)"),
    "sigma=1/(z-0.0123)": dict(sigma="1/(z-0.0123)"),
    "a=+-1000, eta=100": dict(a_law=ALaw((1000.0, -1000.0), (0.5, 0.5)), eta_tilde=100.0),
    "relu, a=+-1000, eta=100": dict(sigma="relu", a_law=ALaw((1000.0, -1000.0), (0.5, 0.5)),
                                    eta_tilde=100.0),
    "alpha0=1e-3, noise=1e6": dict(alpha0=1e-3, noise=1e6, a_law=PM),
}

FUNCTIONS = {
    "equivalent_srf": lambda m: equivalent_srf(m),
    "solve_spectrum": lambda m: solve_spectrum(m, NUM),
    "solve_ridge": lambda m: solve_ridge(m, NUM),
    "learning_curve": lambda m: learning_curve(m, "alpha", [0.5, 2.0], NUM),
    "tail_curve": lambda m: tail_curve(m, [0.0, m.eta_tilde], 1.0, NUM),
    "weights_theory": lambda m: weights_theory(m),
    "expressivity": lambda m: expressivity(m, NUM),
}

STAGES = ("network -> sRF mapping", "conditional Gaussian equivalence", "spectral equations",
          "theory spectrum", "bulk edge estimate", "ridge theory", "learning curve at",
          "tail curve at", "weight spectrum", "expressivity")


def _numbers(obj, path="result"):
    """Every float array or scalar reachable from a theory result, with its path."""
    if isinstance(obj, (tuple, list)):
        for i, v in enumerate(obj):
            yield from _numbers(v, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers(v, f"{path}.{k}")
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, (ModelConfig, ALaw)):
        for f in dataclasses.fields(obj):
            yield from _numbers(getattr(obj, f.name), f"{path}.{f.name}")
    elif isinstance(obj, (float, np.floating, np.ndarray)):
        arr = np.asarray(obj)
        if arr.dtype.kind in "fc":
            yield path, arr


def _assert_clean(fn, model):
    try:
        out = fn(model)
    except ConvergenceError as exc:
        msg = str(exc)
        assert "\n" not in msg and len(msg) < 600, msg
        assert msg.startswith(STAGES), msg
        return "error"
    for path, arr in _numbers(out):
        assert np.all(np.isfinite(arr)), f"{path} is not finite: {arr}"
    return "ok"


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_models_give_finite_results_or_convergence_errors(name):
    model = ModelConfig(**{"eta_tilde": 3.0, **HOSTILE[name]})
    outcomes = {fname: _assert_clean(fn, model) for fname, fn in FUNCTIONS.items()}
    assert outcomes["equivalent_srf"] == "ok"


def test_the_overflowing_activations_are_reported_by_stage():
    # exp(2.5 z) at spikes u ~ 100: the quadrature evaluates sigma at |u kappa| ~ 1700.
    m = ModelConfig(eta_tilde=3.0, sigma="exp(2.5*z)")
    for fn in (solve_spectrum, solve_ridge, expressivity):
        with pytest.raises(ConvergenceError, match=r"^conditional Gaussian equivalence: .*"
                           r"'exp\(2\.5\*z\)'.*beyond the validated range \[-20, 20\]"):
            fn(m, NUM)
    with pytest.raises(ConvergenceError, match=r"^learning curve at alpha = 0\.5: "
                                               r"conditional Gaussian equivalence"):
        learning_curve(m, "alpha", [0.5], NUM)
    with pytest.raises(ConvergenceError, match=r"^tail curve at eta_tilde = 3: conditional"):
        tail_curve(m, [0.0, 3.0], 1.0, NUM)


def test_coefficients_check_what_they_computed():
    kappa = np.linspace(-16.0, 16.0, 9)
    with pytest.raises(ConvergenceError, match=r"up to \|1\.61e\+03\|, beyond the validated"):
        conditional_coefficients("exp(2.5*z)", [1.0], [100.0], kappa, 40)
    # Inside the validated range the same expression is fine.
    c0, c1, c2 = conditional_coefficients("exp(2.5*z)", [1.0], [0.5], kappa, 40)
    assert np.all(np.isfinite(c0)) and np.all(np.isfinite(c1)) and np.all(np.isfinite(c2))


def _unchecked(model: ModelConfig, **fields) -> ModelConfig:
    """``model`` with ``fields`` set without validation: what a caller bypassing the
    configuration would pass (the mapping must still fail cleanly)."""
    out = dataclasses.replace(model)
    for k, v in fields.items():
        object.__setattr__(out, k, v)
    return out


@pytest.mark.parametrize("sigma,what", [("2**1000", "m2 = inf"), ("1e200*z", "m2 = inf")])
def test_mapping_names_the_overflowing_hermite_constant(sigma, what):
    for role in ("sigma", "sigma_star"):
        m = _unchecked(ModelConfig(eta_tilde=3.0), **{role: sigma})
        with pytest.raises(ConvergenceError) as info:
            equivalent_srf(m)
        msg = str(info.value)
        assert msg.startswith(f"network -> sRF mapping: the Hermite constants of {role} = "
                              f"{sigma!r} overflow"), msg
        assert what in msg


@pytest.mark.parametrize("a", [1e308, -1e308, 1e200])
def test_mapping_names_the_overflowing_spike(a):
    law = dataclasses.replace(PM)
    object.__setattr__(law, "values", (1.0, a))
    m = _unchecked(ModelConfig(eta_tilde=3.0, sigma="relu"), a_law=law)
    with pytest.raises(ConvergenceError, match=r"^network -> sRF mapping: .* overflows for a = "):
        equivalent_srf(m)
    for fn in (weights_theory, expressivity):
        with pytest.raises(ConvergenceError, match=r"^network -> sRF mapping"):
            fn(m)


def test_the_inputs_of_the_brief_are_refused_before_the_theory():
    # Beyond the validated range they are not activations at all; the message names it.
    for expr in ("exp(50*z)", "cosh(z)**50", "exp(exp(z))", "sinh(100*z)"):
        with pytest.raises(ConfigError, match=r"\[-20, 20\]"):
            ModelConfig(sigma=expr)
    # Finite there but without usable moments: the Hermite constants say so (and the
    # configuration refuses them on these moments).
    h = hermite_constants("2**1000")
    assert not math.isfinite(h.m2)
    h = hermite_constants("z**100")
    assert h.m2 > 1e150 and h.var_fprime > 1e150
    for expr in ("2**1000", "z**100"):
        with pytest.raises(ConfigError, match="too large for the theory"):
            ModelConfig(sigma=expr)


# --------------------------------------------------------------------------- the guard


@pytest.mark.parametrize("exc", NUMERICAL_ERRORS)
def test_stage_turns_numerical_exceptions_into_convergence_errors(exc):
    with pytest.raises(ConvergenceError, match=r"^my stage: numerical failure \("
                                               + exc.__name__ + r": boom\)$"):
        with stage("my stage"):
            raise exc("boom")


def test_stage_lets_programming_errors_and_own_errors_through():
    with pytest.raises(TypeError):
        with stage("s"):
            raise TypeError("a bug")
    with pytest.raises(AttributeError):
        guarded("s")(lambda: None.missing)()
    with pytest.raises(ConvergenceError, match="^kept$"):
        with stage("s"):
            raise ConvergenceError("kept")


def test_stage_evaluates_overflows_silently_even_if_numpy_raises():
    with np.errstate(all="raise"):
        with stage("s"):
            x = np.exp(np.array([1000.0]))
        assert np.isinf(x[0])
    with pytest.raises(ConvergenceError, match=r"^s: x overflows \(got inf\)$"):
        require_finite("s", "x overflows", 1.0, x)


def test_safe_linear_algebra_marks_singular_points_instead_of_raising():
    M = np.stack([np.eye(2), np.zeros((2, 2)), 2 * np.eye(2)])
    inv = safe_inv(M)
    np.testing.assert_allclose(inv[0], np.eye(2))
    assert np.all(np.isnan(inv[1]))
    np.testing.assert_allclose(inv[2], 0.5 * np.eye(2))
    sol = safe_solve(M, np.ones((3, 2)))
    np.testing.assert_allclose(sol[[0, 2]], [[1, 1], [0.5, 0.5]])
    assert np.all(np.isfinite(sol[1]))          # least squares where singular


def test_newton_survives_singular_points(monkeypatch):
    # Singular Jacobians (NaN inverses) and trial points where the map is not finite
    # (a singular M) are absorbed: the first by a damped fixed-point step, the second by
    # backtracking; the spectrum is the same as without them.
    import engine.theory._core as core

    ref = solve_spectrum(ModelConfig(eta_tilde=1.0, a_law=PM), NUM)
    count = {"jac": 0, "trial": 0}
    real_inv, real_search, real_eval = core.inverse_jacobian, core._line_search, core.evaluate

    def singular_jacobians(u, z, D):
        H = real_inv(u, z, D)
        count["jac"] += 1
        if count["jac"] % 5 == 0:
            H[0] = np.nan
        return H

    def search_with_a_bad_first_trial(act, du, state, z, D):
        count["search"] = count.get("search", 0) + 1
        first = {"done": count["search"] % 4 != 0}

        def flaky(u, z, D):
            out = real_eval(u, z, D)
            if not first["done"]:
                first["done"] = True
                count["trial"] += 1
                out[0][0] = np.nan
                out[1][0] = np.inf
            return out

        monkeypatch.setattr(core, "evaluate", flaky)
        try:
            return real_search(act, du, state, z, D)
        finally:
            monkeypatch.setattr(core, "evaluate", real_eval)

    monkeypatch.setattr(core, "inverse_jacobian", singular_jacobians)
    monkeypatch.setattr(core, "_line_search", search_with_a_bad_first_trial)
    sp = solve_spectrum(ModelConfig(eta_tilde=1.0, a_law=PM, d=999), NUM)
    assert count["jac"] > 10 and count["trial"] > 10
    np.testing.assert_allclose(sp.grid, ref.grid)
    np.testing.assert_allclose(sp.density, ref.density, rtol=1e-6, atol=1e-9 * ref.density.max())


# --------------------------------------------------------------------------- tail_curve


def test_tail_curve_reports_progress_and_can_be_cancelled():
    seen = []
    m = ModelConfig(sigma="relu", sigma_star="tanh")
    t = tail_curve(m, [0.0, 3.0], 1.5, NUM, progress=lambda f, msg: seen.append((f, msg)))
    assert t.right_edge.shape == (2,)
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(b >= a for a, b in zip(fractions, fractions[1:], strict=False))
    assert any("eta_tilde = 3" in msg for _, msg in seen)
    tok = CancelToken()
    tok.set()
    with pytest.raises(Cancelled):
        tail_curve(m, [0.0, 3.0], 1.5, NUM, cancel=tok)
    # Cancelled in the middle of the curve: the second spectrum stops at its next stage.
    late = CancelToken()

    def cancel_after_first(f, msg):
        if f >= 1.0 / 3.0:
            late.set()

    with pytest.raises(Cancelled):
        tail_curve(m, [0.0, 3.0, 5.0], 1.5, NUM, progress=cancel_after_first, cancel=late)


def test_validated_range_covers_the_default_quadratures():
    from engine.activations import dense_gaussian_rule, gauss_hermite

    num = NumericsConfig()
    assert gauss_hermite(num.q_kappa)[0].max() <= VALIDATED_RANGE
    assert dense_gaussian_rule()[0].max() <= VALIDATED_RANGE
