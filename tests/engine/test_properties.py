"""Properties on random expressions and session files: a result or a documented error.

- An expression in ``z`` built from the allowed grammar (and random text) is either an
  activation finite on the validated range, or an ``ExpressionError``; through a
  configuration it is a ``Config`` or a ``ConfigError``; and the theory of an accepted
  one is a finite result or a ``ConvergenceError`` — never another exception.
- A session file, valid or mutated (truncated, bytes flipped, keys changed, values
  replaced), opens as a ``Session`` or raises ``SessionError``.

Hypothesis' deadline bounds the time of one example (no hang).
"""

from __future__ import annotations

import json
import math
from datetime import timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.activations import FUNCTIONS, VALIDATED_RANGE, get_activation
from engine.config import Config, ModelConfig, NumericsConfig, RunConfig
from engine.errors import ConfigError, ConvergenceError, ExpressionError
from engine.session import SessionError, load_session, save_session
from engine.theory import equivalent_srf, expressivity, solve_ridge, solve_spectrum

PROPERTY = settings(max_examples=60, deadline=timedelta(seconds=20), database=None,
                    suppress_health_check=[HealthCheck.too_slow])
FAST = NumericsConfig(q_kappa=30, q_inner=30, q2=15, n_grid=60)

# --------------------------------------------------------------------------- expressions

unary = [name for name, (_, arity) in FUNCTIONS.items() if arity == 1]
atoms = st.one_of(st.just("z"), st.sampled_from(["pi", "e", "1", "0.5", "2", "10", "100",
                                                 "1e3", "0", "-1"]))


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda f, a: f"{f}({a})", st.sampled_from(unary), children),
        st.builds(lambda a, op, b: f"({a}){op}({b})", children,
                  st.sampled_from(["+", "-", "*", "/", "**"]), children),
        st.builds(lambda a: f"-({a})", children),
        st.builds(lambda a, b: f"maximum({a}, {b})", children, children),
    )


expressions = st.recursive(atoms, _combine, max_leaves=6)
junk = st.text(alphabet="z()+-*/.,_ 0123456789abcdefghijklmnopqrstuvwxyz[]{}'\"\\",
               max_size=40)


@PROPERTY
@given(st.one_of(expressions, junk))
def test_an_expression_is_an_activation_or_an_expression_error(source: str) -> None:
    try:
        act = get_activation(source)
    except ExpressionError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    z = np.linspace(-VALIDATED_RANGE, VALIDATED_RANGE, 401)
    assert np.all(np.isfinite(act.f(z)))


@PROPERTY
@given(expressions, st.sampled_from(["sigma", "sigma_star"]))
def test_the_theory_of_an_expression_is_a_result_or_a_convergence_error(
        source: str, which: str) -> None:
    try:
        model = ModelConfig(d=100, eta_tilde=2.0, lam=0.1, noise=0.1, **{which: source})
    except ConfigError as exc:
        assert exc.message and "\n" not in exc.message
        return
    for solve in (equivalent_srf, lambda m: solve_ridge(m, FAST),
                  lambda m: expressivity(m, FAST)):
        try:
            out = solve(model)
        except ConvergenceError as exc:
            assert str(exc) and "\n" not in str(exc)
            continue
        numbers = [v for v in vars(out).values() if isinstance(v, float)]
        assert all(math.isfinite(v) for v in numbers), out


@settings(max_examples=15, deadline=timedelta(seconds=30), database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
def test_the_spectrum_of_an_expression_is_a_density_or_a_convergence_error(
        source: str) -> None:
    try:
        model = ModelConfig(d=100, eta_tilde=1.0, sigma=source)
    except ConfigError:
        return
    try:
        spec = solve_spectrum(model, FAST)
    except ConvergenceError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert np.all(np.isfinite(spec.density)) and np.all(spec.density >= 0)


# --------------------------------------------------------------------------- sessions


def _valid_session(tmp_path_factory: object) -> bytes:
    folder = tmp_path_factory.mktemp("session")  # type: ignore[attr-defined]
    config = Config(ModelConfig(d=40), RunConfig(simulate=()), FAST)
    path = save_session(folder / "s.json", config, None, ui={"tab": "tail"})
    return path.read_bytes()


mutations = st.one_of(
    st.builds(lambda n: ("truncate", n), st.integers(0, 4000)),
    st.builds(lambda i, b: ("flip", i, b), st.integers(0, 4000), st.integers(0, 255)),
    st.builds(lambda k, v: ("set", k, v),
              st.sampled_from(["config", "ui", "result", "session_schema", "app",
                               "provenance", "extra"]),
              st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=8),
                        st.lists(st.integers(), max_size=3),
                        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))),
)


def _mutate(data: bytes, mutation: tuple) -> bytes:
    kind = mutation[0]
    if kind == "truncate":
        return data[: mutation[1]]
    if kind == "flip":
        i = mutation[1] % max(len(data), 1)
        return data[:i] + bytes([mutation[2]]) + data[i + 1:]
    doc = json.loads(data)
    doc[mutation[1]] = mutation[2]
    return json.dumps(doc).encode()


@settings(max_examples=120, deadline=timedelta(seconds=5), database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(mutations, min_size=1, max_size=3))
def test_a_session_file_opens_or_raises_session_error(tmp_path_factory, changes) -> None:
    data = _valid_session(tmp_path_factory)
    for change in changes:
        try:
            data = _mutate(data, change)
        except (ValueError, UnicodeDecodeError):
            break  # no longer JSON: the next step is the loader's
    path = tmp_path_factory.mktemp("mutated") / "s.json"
    path.write_bytes(data)
    try:
        session = load_session(path)
    except SessionError as exc:
        assert exc.message and len(str(exc)) < 2000
        return
    assert isinstance(session.config, Config)
