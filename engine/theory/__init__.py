"""The theory solver (docs/model.md): sRF mapping, conditional coefficients, spectrum, ridge.

Public API::

    equivalent_srf(model) -> SRFParams
    solve_spectrum(model, numerics=None, *, centred=False, progress=None, cancel=None)
    solve_ridge(model, numerics=None, *, warm=None) -> TheoryRidge
    learning_curve(model, param, values, numerics=None, *, progress=None, cancel=None)
    tail_curve(model, eta_values, threshold, numerics=None, *, progress=None, cancel=None)
    weights_theory(model) -> TheoryWeights
    expressivity(model, numerics=None) -> Expressivity

Failures raise :class:`engine.errors.ConvergenceError` with a one-line message naming the
stage (docs/model.md#numerics), never a silent NaN or another exception type; programming
errors still surface as themselves.
"""

from engine.theory.coefficients import conditional_coefficients, mu0, mu1, mus2
from engine.theory.curves import expressivity, learning_curve, tail_curve, weights_theory
from engine.theory.mapping import equivalent_srf
from engine.theory.ridge import solve_ridge
from engine.theory.spectrum import solve_spectrum

__all__ = [
    "conditional_coefficients",
    "equivalent_srf",
    "expressivity",
    "learning_curve",
    "mu0",
    "mu1",
    "mus2",
    "solve_ridge",
    "solve_spectrum",
    "tail_curve",
    "weights_theory",
]
