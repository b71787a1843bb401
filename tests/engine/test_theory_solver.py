"""The spectral solver in reduced unknowns: exactness of the reduction, its Jacobian, large K.

docs/model.md#numerics: Newton works in ``u = (g, y)`` with ``delta = U y``; these tests
check that the reduction loses nothing (the span, the map, the fixed point) and that its
analytic Jacobian is the derivative of the reduced map, and they solve K = 16.
"""

from __future__ import annotations

import numpy as np
import pytest
from full_jacobian import phi_and_jacobian

from engine.config import ALaw, ModelConfig, NumericsConfig
from engine.theory import solve_ridge, solve_spectrum
from engine.theory._blas import SERIAL_MADDS, matmul
from engine.theory._core import (
    continuation,
    damped_fixed_point,
    delta_of_x,
    initial_guess,
    model_data,
    phi,
)
from engine.theory._reduced import (
    broyden_update,
    evaluate,
    reduce_x,
    reduced_jacobian,
)

NUM = NumericsConfig()


def _law(K: int) -> ALaw:
    values = tuple(np.round(np.linspace(-1.5, 1.5, K), 6)) if K > 1 else (1.0,)
    return ALaw(values, tuple([1.0 / K] * K))


def _model(K: int, sigma: str = "relu", eta: float = 3.0) -> ModelConfig:
    return ModelConfig(eta_tilde=eta, sigma=sigma, sigma_star="tanh", a_law=_law(K))


@pytest.mark.parametrize("K,sigma", [(1, "tanh"), (3, "relu"), (8, "tanh"), (16, "relu")])
def test_basis_spans_delta_exactly(K, sigma):
    D = model_data(_model(K, sigma), NUM)
    E, P = D.red.E, D.red.PT.T
    np.testing.assert_allclose(P @ E, np.eye(D.red.r), atol=1e-13)
    # delta of arbitrary unknowns x lies in span(E), node by node up to rounding.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, D.N)) + 1j * rng.standard_normal((5, D.N))
    delta = delta_of_x(x, D)
    resid = delta - (delta @ P.T) @ E.T
    assert np.all(np.abs(resid) <= 1e-12 * np.abs(delta).max(axis=0))
    assert D.red.r <= min(D.kappa.size, D.N)
    if K == 16:
        assert D.K + D.red.r < D.N / 4          # what makes K = 16 fast


def test_growing_activation_with_a_large_spike():
    # He2 + z, K = 16, eta_tilde = 10: delta is 1e4 times larger at the outer kappa nodes
    # than at the centre. The basis is exact node by node, and Newton converges (with y in
    # raw values it stalled at a residual of 1e-3 and the spectrum failed).
    m = ModelConfig(eta_tilde=10.0, sigma="He2(z) + z", sigma_star="tanh",
                    a_law=ALaw(tuple(np.round(np.linspace(-3.0, 3.0, 16), 6)), (1 / 16,) * 16))
    D = model_data(m, NUM)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, D.N)) + 1j * rng.standard_normal((3, D.N))
    delta = delta_of_x(x, D)
    size = np.abs(delta).max(axis=0)
    assert size.max() > 1e3 * size.min()
    resid = delta - (delta @ D.red.PT) @ D.red.ET
    assert np.all(np.abs(resid) <= 1e-12 * size)
    sp = solve_spectrum(m)
    assert sp.convergence.success and sp.mass == pytest.approx(1.0, abs=3e-3)


@pytest.mark.parametrize("K", [1, 3, 6])
def test_reduced_jacobian_is_the_derivative_of_the_reduced_map(K):
    D = model_data(_model(K), NUM)
    z = np.array([0.5 + 0.3j, 1.0 + 0.05j, 0.2 + 1e-3j])
    x = damped_fixed_point(initial_guess(z, D), z, D, 8)
    u = reduce_x(x, D)
    J = reduced_jacobian(u, z, D)
    n = u.shape[1]
    for j in range(n):
        e = np.zeros(n)
        e[j] = 1e-6 * max(1.0, float(np.abs(u[:, j]).max()))
        # Psi(u) = u - F(u); the map is holomorphic, so real steps suffice.
        fp = (u + e) - evaluate(u + e, z, D)[0]
        fm = (u - e) - evaluate(u - e, z, D)[0]
        np.testing.assert_allclose(J[:, :, j], (fp - fm) / (2 * e[j]), rtol=1e-5,
                                   atol=1e-7 * max(1.0, np.abs(J).max()))


def test_reduced_and_full_jacobians_share_their_spectrum():
    # With L: x -> u (linear) and E: u -> (g, U y), Phi = Phi_d o E o L and
    # Psi = L o Phi_d o E: the Jacobians are A B and B A (A = D(Phi_d o E), B = L), with
    # the same nonzero eigenvalues, so Newton sees the same local problem in both.
    D = model_data(_model(3), NUM)
    z = np.array([0.7 + 0.2j])
    x = damped_fixed_point(initial_guess(z, D), z, D, 20)
    u = reduce_x(x, D)
    _, J_full = phi_and_jacobian(x, z, D)
    ev_red = np.linalg.eigvals(reduced_jacobian(u, z, D)[0])
    ev_full = np.linalg.eigvals(J_full[0])
    big = 1e-10
    ev_red = np.sort_complex(ev_red[np.abs(ev_red) > big])
    ev_full = np.sort_complex(ev_full[np.abs(ev_full) > big])
    assert ev_red.size == ev_full.size > 0
    np.testing.assert_allclose(ev_red, ev_full, rtol=1e-7, atol=1e-9)


def test_solutions_solve_the_full_equations():
    # The reduced solver's x satisfies x = Phi(x) of the original parametrisation.
    D = model_data(_model(6, "tanh"), NUM)
    lam = np.array([0.05, 0.4, 1.0, 1.6])
    etas, xs, _, res = continuation(lam, D, NUM, 1.0)
    z = lam + 1j * etas[-1]
    x = xs[-1]
    r = np.max(np.abs(x - phi(x, z, D)), axis=1) / np.maximum(1, np.max(np.abs(x), axis=1))
    assert np.all(r <= NUM.tol) and res <= NUM.tol
    assert np.all(x[:, :D.K].imag >= 0)


def test_sixteen_atoms_without_a_step_are_one_atom():
    # eta_tilde = 0: every atom has the same features, so K = 16 must reproduce K = 1.
    one = solve_spectrum(_model(1, "relu", 0.0))
    many = solve_spectrum(_model(16, "relu", 0.0))
    np.testing.assert_allclose(many.edges, one.edges, rtol=1e-9)
    dens = np.interp(one.grid, many.grid, many.density)
    np.testing.assert_allclose(dens, one.density, rtol=1e-6, atol=1e-6 * one.density.max())
    r1 = solve_ridge(_model(1, "relu", 0.0).with_(noise=0.1))
    r16 = solve_ridge(_model(16, "relu", 0.0).with_(noise=0.1))
    # Both converge to tol = 1e-10 in their unknowns; the error inherits ~10x that.
    assert r16.test_error == pytest.approx(r1.test_error, rel=1e-7)


def test_sixteen_atoms_after_a_step():
    sp = solve_spectrum(_model(16, "relu"))
    assert sp.convergence.success and sp.convergence.residual <= 1e3 * NUM.tol
    assert sp.mass == pytest.approx(1.0, abs=2e-3)
    assert sp.grid.size == NUM.n_grid
    # Between the a = 1 bulk (2.26) and the a = +-1 one (1.71): a spread-out law.
    assert 1.5 < sp.edges[-1, 1] < 2.0


def test_model_data_memory_does_not_grow_like_k4():
    # The full Jacobian's precomputed products held N K^2 x Q complex numbers (89 MB at
    # K = 16, for every cached model); the reduced solver keeps O(Q (K^2 + r)) numbers.
    D = model_data(_model(16), NUM)
    total = sum(v.nbytes for v in vars(D).values() if isinstance(v, np.ndarray))
    total += sum(v.nbytes for v in vars(D.red).values() if isinstance(v, np.ndarray))
    assert total < 2_000_000


def test_broyden_update_satisfies_the_secant_condition():
    rng = np.random.default_rng(3)
    H = rng.standard_normal((4, 5, 5)) + 1j * rng.standard_normal((4, 5, 5))
    s = rng.standard_normal((4, 5)) + 1j * rng.standard_normal((4, 5))
    y = rng.standard_normal((4, 5)) + 1j * rng.standard_normal((4, 5))
    H2, ok = broyden_update(H, s, y)
    assert ok.all()
    np.testing.assert_allclose(np.einsum("bij,bj->bi", H2, y), s, atol=1e-12)
    _, ok0 = broyden_update(H, s, np.zeros_like(y))
    assert not ok0.any()


@pytest.mark.parametrize("a_shape,b_shape", [((5, 16, 80), (80, 40)), ((80, 272), (272, 272)),
                                             ((40, 45), (7, 45, 40)), ((3, 1, 300), (300, 200)),
                                             ((2, 3, 900), (900, 100))])
def test_serial_matmul_equals_matmul(a_shape, b_shape):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(a_shape) + 1j * rng.standard_normal(a_shape)
    b = rng.standard_normal(b_shape)
    np.testing.assert_allclose(matmul(a, b), a @ b, rtol=1e-13, atol=1e-12)
    assert SERIAL_MADDS == 65536
