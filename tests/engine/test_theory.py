"""Theory solver: exact limits, published regression numbers, contracts (no simulation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from full_jacobian import phi_and_jacobian

from engine.activations import gauss_hermite, hermite_constants
from engine.config import ALaw, ModelConfig, NumericsConfig
from engine.errors import Cancelled, ConfigError, ConvergenceError
from engine.progress import CancelToken
from engine.theory import (
    conditional_coefficients,
    equivalent_srf,
    expressivity,
    learning_curve,
    mu0,
    mu1,
    mus2,
    solve_ridge,
    solve_spectrum,
    tail_curve,
    weights_theory,
)
from engine.theory._core import model_data, phi
from engine.theory.ridge import _traces, solve_at_real_z

PM = ALaw((1.0, -1.0), (0.5, 0.5))
K3 = ALaw((1.0, 0.5, -1.0), (0.3, 0.3, 0.4))


def _cdf(sp):
    c = np.concatenate([[0.0], np.cumsum(0.5 * (sp.density[1:] + sp.density[:-1])
                                         * np.diff(sp.grid))])
    return sp.atom_zero + c


# --------------------------------------------------------------------------- coefficients


def test_relu_closed_form_matches_quadrature():
    kappa = np.linspace(-3, 3, 13)
    x = np.linspace(-12, 12, 200001)
    w = np.exp(-0.5 * x * x)
    w /= w.sum()
    for s, u in [(1.0, 0.0), (1.3, 0.7), (0.6, -2.0)]:
        a0, a1, a2 = conditional_coefficients("relu", [s], [u], kappa)
        arg = s * x[None, :] + u * kappa[:, None]
        f = np.maximum(arg, 0.0)
        e0 = f @ w
        e1 = f @ (w * x)
        e2 = (f * f) @ w - e0**2 - e1**2
        np.testing.assert_allclose(a0[0], e0, atol=1e-7)
        np.testing.assert_allclose(a1[0], e1, atol=1e-7)
        np.testing.assert_allclose(a2[0], e2, atol=1e-7)


def test_coefficients_of_expression_equal_registry():
    kappa, _ = gauss_hermite(40)
    reg = conditional_coefficients("tanh", [1.2, 0.9], [0.5, -1.0], kappa)
    expr = conditional_coefficients("tanh(z) + 0*z", [1.2, 0.9], [0.5, -1.0], kappa)
    for a, b in zip(reg, expr, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-7)


def test_coefficients_at_zero_spike_are_hermite_constants():
    h = hermite_constants("tanh")
    k = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_allclose(mu0(k, 0.0), h.mu0, atol=1e-12)
    np.testing.assert_allclose(mu1(k, 0.0), h.mu1, atol=1e-10)
    np.testing.assert_allclose(mus2(k, 0.0), h.mus2, atol=1e-10)
    # Broadcast over kappa and u: mu0 is odd in u kappa for tanh.
    np.testing.assert_allclose(mu0(k, 0.7), -mu0(-k, 0.7), atol=1e-12)


# --------------------------------------------------------------------------- mapping


def test_equivalent_srf_large_batch_constants():
    m = ModelConfig(eta_tilde=2.0, sigma="relu", sigma_star="tanh", a_law=PM)
    p = equivalent_srf(m)
    h, hs = hermite_constants("relu"), hermite_constants("tanh")
    np.testing.assert_allclose(p.u, 2.0 * np.array([1, -1]) * h.mu1 * hs.mu1)
    np.testing.assert_allclose(p.s0, 1 + 2.0 * np.array([1, -1]) * h.mu2 * hs.mu0)
    np.testing.assert_allclose(p.c, 2.0 * np.array([1, -1]) * h.mu2 * hs.mu2)
    np.testing.assert_allclose(p.s, np.abs(p.s0))
    assert p.gamma == 1.0 and np.all(p.nv == 0)
    # tanh: mu2 = 0, so no row rescale and no coherent amplification.
    q = equivalent_srf(m.with_(sigma="tanh"))
    np.testing.assert_allclose(q.s0, 1.0, atol=1e-12)
    np.testing.assert_allclose(q.c, 0.0, atol=1e-12)


def test_equivalent_srf_finite_batch_uses_ey2():
    m = ModelConfig(eta_tilde=3.0, sigma="tanh", sigma_star="tanh", alpha0=16.0, noise=0.1,
                    a_law=PM)
    p = equivalent_srf(m)
    h, hs = hermite_constants("tanh"), hermite_constants("tanh")
    ey2 = hs.m2 + 0.1
    rad = math.sqrt(hs.mu1**2 + ey2 / 16.0)
    assert p.gamma == pytest.approx(hs.mu1 / rad)
    assert p.r0 == pytest.approx(h.mu1 * rad)
    np.testing.assert_allclose(p.nv, 9.0 * ey2 * h.var_fprime / 16.0)
    np.testing.assert_allclose(p.s**2, p.s0**2 + p.nv)
    # alpha0 -> infinity recovers the large batch.
    big = equivalent_srf(m.with_(alpha0=1e6))
    assert big.gamma == pytest.approx(1.0, abs=1e-5)


# --------------------------------------------------------------------------- map and Jacobian


def test_analytic_jacobian_matches_finite_differences():
    m = ModelConfig(eta_tilde=1.0, sigma="relu", a_law=K3)
    D = model_data(m, NumericsConfig())
    rng = np.random.default_rng(1)
    z = np.array([0.5 + 0.3j, 1.0 + 0.05j])
    x = (rng.standard_normal((2, D.N)) + 1j * rng.standard_normal((2, D.N))) * 0.3
    P, J = phi_and_jacobian(x, z, D)
    np.testing.assert_allclose(P, phi(x, z, D), atol=1e-14)
    h = 1e-6
    for j in range(D.N):
        e = np.zeros(D.N)
        e[j] = h
        fd = (phi(x + e, z, D) - phi(x - e, z, D)) / (2 * h)
        np.testing.assert_allclose(J[:, :, j], fd, atol=1e-7)


def test_second_order_traces_are_symmetric():
    m = ModelConfig(eta_tilde=2.0, sigma="relu", a_law=PM)
    num = NumericsConfig()
    D = model_data(m, num)
    x, _, _ = solve_at_real_z(-m.lam_int, D, num)
    H, _ = _traces(x, -m.lam_int, D)
    # _traces symmetrises; check that the raw object was already (nearly) symmetric by
    # comparing the two bilinear forms on random coordinates of C(kappa).
    c1 = np.concatenate([D.M2[:, 10], D.ms2[:, 10]])
    c2 = np.concatenate([D.M2[:, 50], D.ms2[:, 50]])
    assert c1 @ H @ c2 == pytest.approx(c2 @ H @ c1)
    assert c1 @ H @ c1 > 0


# --------------------------------------------------------------------------- spectrum


@pytest.mark.parametrize("sigma,law,edges", [
    ("tanh", ALaw(), (2.09, 1.96, 1.45, 1.12)),
    ("tanh", PM, (2.09, 1.96, 1.45, 1.12)),
    ("relu", ALaw(), (1.58, 1.72, 2.26, 2.60)),
    ("relu", PM, (1.58, 1.60, 1.71, 1.82)),
])
def test_right_edges_of_the_model_doc(sigma, law, edges):
    # docs/model.md#spectrum-of-the-feature-covariance, here truncated to two decimals:
    # tolerance 0.01.
    for eta, expected in zip((0.0, 1.0, 3.0, 5.0), edges, strict=True):
        sp = solve_spectrum(ModelConfig(eta_tilde=eta, sigma=sigma, sigma_star="tanh",
                                        a_law=law))
        assert sp.edges[-1, 1] == pytest.approx(expected, abs=0.01), (sigma, law, eta)
        assert sp.mass == pytest.approx(1.0, abs=2e-3)
        assert sp.convergence.success


def test_marchenko_pastur_exact_for_pure_noise_features():
    # He2 has mu0 = mu1 = 0 and mus2 = 1: at eta_tilde = 0 the features are i.i.d. noise
    # and Phi^T Phi / n follows Marchenko–Pastur with ratio y = p/n.
    for beta, alpha in [(1.0, 2.0), (2.0, 1.0)]:
        m = ModelConfig(eta_tilde=0.0, sigma="He2", sigma_star="tanh", beta=beta, alpha=alpha)
        sp = solve_spectrum(m)
        y = beta / alpha
        a, b = (1 - math.sqrt(y)) ** 2, (1 + math.sqrt(y)) ** 2
        x = sp.grid
        mp = np.where((x > a) & (x < b),
                      np.sqrt(np.clip((b - x) * (x - a), 0, None)) / (2 * math.pi * y * x), 0)
        assert sp.edges.shape == (1, 2)
        assert sp.edges[0, 0] == pytest.approx(a, abs=2e-3)
        assert sp.edges[0, 1] == pytest.approx(b, abs=2e-3)
        assert sp.atom_zero == pytest.approx(max(0.0, 1 - 1 / y))
        np.testing.assert_allclose(sp.density, mp, atol=2e-3 * mp.max())
        assert sp.mass == pytest.approx(1.0, abs=2e-3)
        assert sp.outliers.size == 0


def _rf_scalar(z: complex, mu1_: float, mus2_: float, beta: float, alpha: float) -> complex:
    """Classical K = 1 random-features resolvent, written independently.

    m = 1/(b - z + A/(1 + beta m A)), A = mu1^2/(1+delta), b = mus2/(1+delta),
    delta = (beta/alpha) (mu1^2 m/(1 + beta m A) + mus2 m); damped iteration.
    """
    m = -1.0 / z
    for _ in range(20000):
        # Solve delta self-consistently for this m (inner damped loop).
        delta = 0.0
        for _ in range(200):
            A = mu1_**2 / (1 + delta)
            t = m / (1 + beta * m * A)
            delta_new = (beta / alpha) * (mu1_**2 * t + mus2_ * m)
            delta = 0.5 * delta + 0.5 * delta_new
        A = mu1_**2 / (1 + delta)
        b = mus2_ / (1 + delta)
        m_new = 1.0 / (b - z + A / (1 + beta * m * A))
        if abs(m_new - m) < 1e-13:
            return m_new
        m = 0.5 * m + 0.5 * m_new
    return m


@pytest.mark.parametrize("law", [ALaw(), PM, K3])
def test_no_step_reduces_to_random_features(law):
    # eta_tilde = 0: every u_k = 0, the K classes are identical, and the K-dimensional
    # system must reproduce the scalar random-features equation.
    m = ModelConfig(eta_tilde=0.0, sigma="tanh", sigma_star="tanh", a_law=law)
    h = hermite_constants("tanh")
    srf = equivalent_srf(m)
    assert np.all(srf.u == 0)
    D = model_data(m, NumericsConfig())
    from engine.theory._core import continuation
    lam = np.array([0.05, 0.5, 1.0, 1.8])
    etas, xs, _, _ = continuation(lam, D, NumericsConfig(eta_min=1e-3), 1.0)
    m_k = xs[-1][:, : D.K] @ D.pi
    for i, l0 in enumerate(lam):
        ref = _rf_scalar(complex(l0, 1e-3), h.mu1, h.mus2, m.beta, m.alpha)
        assert m_k[i] == pytest.approx(ref, rel=1e-6)


def test_atom_at_zero_when_p_exceeds_n():
    m = ModelConfig(eta_tilde=1.0, sigma="tanh", beta=2.0, alpha=1.0)
    sp = solve_spectrum(m)
    assert sp.atom_zero == pytest.approx(0.5)
    assert np.trapezoid(sp.density, sp.grid) == pytest.approx(0.5, abs=2e-3)
    assert sp.mass == pytest.approx(1.0, abs=2e-3)
    assert sp.edges[0, 0] > 0  # a gap above the atom


@pytest.mark.parametrize("sigma,law,eta,count,count_c", [
    ("tanh", ALaw(), 0.0, 0, 0),
    ("relu", ALaw(), 0.0, 1, 0),
    ("tanh", ALaw(), 2.0, 1, 1),
    ("tanh", PM, 2.0, 1, 1),
    ("relu", PM, 2.0, 2, 2),
    ("relu", PM, 0.0, 1, 0),
])
def test_outlier_counts_of_the_model_doc(sigma, law, eta, count, count_c):
    m = ModelConfig(eta_tilde=eta, sigma=sigma, sigma_star="tanh", a_law=law, d=500)
    sp = solve_spectrum(m, NumericsConfig(n_grid=60))
    assert sp.outliers.size == count
    assert sp.outliers_centred.size == count_c
    assert np.all(sp.outliers > 10 * sp.edges[-1, 1])
    c = solve_spectrum(m, NumericsConfig(n_grid=60), centred=True)
    np.testing.assert_allclose(c.outliers, sp.outliers_centred)
    np.testing.assert_allclose(c.density, sp.density)


def test_spectrum_progress_and_cancel():
    seen = []
    solve_spectrum(ModelConfig(eta_tilde=1.0), progress=lambda f, msg: seen.append(f))
    assert seen and seen[0] == 0.0 and seen[-1] == 1.0
    assert all(b >= a for a, b in zip(seen, seen[1:], strict=False))
    tok = CancelToken()
    tok.set()
    with pytest.raises(Cancelled):
        solve_spectrum(ModelConfig(eta_tilde=1.0), cancel=tok)


def test_vanishing_row_norm_raises_convergence_error():
    # relu / relu: s0 = 1 + eta a mu2 mu0_* vanishes for a = -1/(eta mu2 mu0_*).
    h = hermite_constants("relu")
    a = -1.0 / (2.0 * h.mu2 * h.mu0)
    m = ModelConfig(eta_tilde=2.0, sigma="relu", sigma_star="relu",
                    a_law=ALaw((1.0, a), (0.5, 0.5)))
    with pytest.raises(ConvergenceError, match="row norm"):
        solve_spectrum(m)
    with pytest.raises(ConvergenceError, match="row norm"):
        solve_ridge(m)


def test_ridgeless_with_p_above_n_raises():
    with pytest.raises(ConvergenceError, match="lam > 0"):
        solve_ridge(ModelConfig(beta=2.0, alpha=1.0, lam=0.0))


# --------------------------------------------------------------------------- ridge


@pytest.mark.parametrize("sigma,eta,expected", [
    ("tanh", 1.0, 0.1524), ("tanh", 0.0, 0.3211), ("relu", 0.0, 0.3978)])
def test_regression_numbers_of_the_model_doc(sigma, eta, expected):
    # docs/model.md#validation: alpha = 2, beta = 1, lam_int = 0.1 (user lam = 0.2), Delta = 0.1.
    m = ModelConfig(eta_tilde=eta, sigma=sigma, sigma_star=sigma, a_law=ALaw(), lam=0.2,
                    noise=0.1)
    assert m.lam_int == pytest.approx(0.1)
    r = solve_ridge(m)
    assert r.test_error == pytest.approx(expected, abs=1e-4)
    assert r.test_error == pytest.approx(r.bias + r.variance)
    assert 0 < r.train_error < r.test_error
    assert r.convergence.success and r.convergence.residual < 1e-8


def test_ridge_limits_and_shapes():
    base = ModelConfig(eta_tilde=2.0, sigma="relu", sigma_star="tanh", a_law=PM, noise=0.1)
    r = solve_ridge(base)
    assert r.m0.shape == (2,) and r.m1.shape == (2,)
    assert r.kappa.shape == r.learned_function.shape == r.target.shape
    # Huge penalty without mean directions: nothing learned, test error -> E y^2.
    # lam = 1e6 is the largest the configuration accepts (LAM_MAX).
    big = solve_ridge(base.with_(lam=1e6, sigma="tanh", eta_tilde=0.0))
    ey2 = hermite_constants("tanh").m2 + 0.1
    assert big.test_error == pytest.approx(ey2, rel=1e-3)
    # With mean directions the leading-order theory keeps them stiff: say so.
    assert any("lam" in w for w in solve_ridge(base.with_(lam=1e6)).warnings)
    # Finite batch with a huge batch is continuous with the large-batch limit.
    fb = solve_ridge(base.with_(alpha0=1e6))
    assert fb.m1.shape == (2, 2)
    assert fb.test_error == pytest.approx(r.test_error, rel=1e-3)
    # Learned function: the theory's conditional mean tracks the target after the step.
    gw = np.exp(-0.5 * r.kappa**2)
    err_after = gw @ (r.learned_function - r.target) ** 2
    rf = solve_ridge(base.with_(eta_tilde=0.0))
    err_before = gw @ (rf.learned_function - rf.target) ** 2
    assert err_after < err_before


def test_finite_batch_ridge_runs_for_k3():
    m = ModelConfig(eta_tilde=2.0, sigma="tanh", sigma_star="tanh", a_law=K3, alpha0=8.0,
                    noise=0.1)
    r = solve_ridge(m)
    assert r.m1.shape == (3, 2) and np.isfinite(r.test_error)
    assert r.train_error < r.test_error


def test_weak_mean_direction_warning():
    # K = 3 relu: the third mean direction has p*eig ~ 0.1 at d = 400 (docs/model.md#known-limits).
    m = ModelConfig(d=400, eta_tilde=2.0, sigma="relu", sigma_star="relu", a_law=K3)
    r = solve_ridge(m)
    assert r.warnings and "weak" in r.warnings[0]
    assert not solve_ridge(m.with_(a_law=ALaw())).warnings


def test_learning_curve_warm_equals_cold_and_validates():
    m = ModelConfig(eta_tilde=2.0, sigma="relu", sigma_star="tanh", a_law=PM, noise=0.1)
    alphas = [0.5, 1.0, 1.5, 3.0]
    curve = learning_curve(m, "alpha", alphas)
    for a, r in zip(alphas, curve, strict=True):
        cold = solve_ridge(m.with_(alpha=a))
        assert r.test_error == pytest.approx(cold.test_error, rel=1e-9)
    lamc = learning_curve(m, "lam", [0.01, 0.1, 1.0])
    assert len(lamc) == 3
    a0 = learning_curve(m, "alpha0", [4.0, 64.0, None])
    assert a0[-1].test_error == pytest.approx(solve_ridge(m).test_error)
    with pytest.raises(ConfigError):
        learning_curve(m, "sigma", ["tanh"])
    tok = CancelToken()
    tok.set()
    with pytest.raises(Cancelled):
        learning_curve(m, "alpha", alphas, cancel=tok)


def test_random_features_baseline_everywhere():
    m = ModelConfig(eta_tilde=0.0, sigma="relu", sigma_star="tanh", a_law=K3)
    assert np.all(equivalent_srf(m).u == 0)
    sp = solve_spectrum(m, NumericsConfig(n_grid=80))
    assert sp.outliers.size == 1
    r = solve_ridge(m)
    assert np.isfinite(r.test_error)
    w = weights_theory(m)
    assert w.spikes.size == 0
    e = expressivity(m)
    assert e.mu0.shape == (3, e.kappa.size)


# --------------------------------------------------------------------------- side results


def test_tail_curve_relu_edges():
    t = tail_curve(ModelConfig(sigma="relu", sigma_star="tanh"), [0.0, 3.0, 5.0], 1.5,
                   NumericsConfig(n_grid=120))
    np.testing.assert_allclose(t.right_edge, [1.58, 2.26, 2.60], atol=0.015)
    assert np.all(np.diff(t.mass_above) > 0)
    assert t.mass_above[0] > 0  # the eta = 0 bulk ends at 1.58 > 1.5


def test_weights_theory_marchenko_pastur_and_spike():
    m = ModelConfig(d=500, eta_tilde=0.0, beta=0.5)
    w = weights_theory(m)
    a, b = (1 - math.sqrt(0.5)) ** 2, (1 + math.sqrt(0.5)) ** 2
    np.testing.assert_allclose(w.edges, [[a, b]], rtol=1e-12)
    assert np.trapezoid(w.density, w.grid) == pytest.approx(1.0, abs=5e-3)
    # Own small simulation: rows of W0 uniform on the sphere.
    rng = np.random.default_rng(0)
    d, p = 800, 400
    W = rng.standard_normal((p, d))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    ev = np.linalg.eigvalsh(W @ W.T)
    cdf = np.concatenate([[0], np.cumsum(0.5 * (w.density[1:] + w.density[:-1])
                                         * np.diff(w.grid))])
    f = np.interp(ev, w.grid, cdf)
    i = np.arange(1, p + 1)
    ks = max(np.max(i / p - f), np.max(f - (i - 1) / p))
    assert ks < 1.0 / math.sqrt(p)
    # Spike of u theta^T: order p E[u^2].
    s = weights_theory(ModelConfig(d=500, eta_tilde=3.0, sigma="relu", a_law=PM))
    assert s.spikes.size == 1
    eu2 = float(equivalent_srf(s.model).u[0] ** 2)
    assert s.spikes[0] == pytest.approx(s.model.p * eu2, rel=0.02)
    assert s.atom_zero == 0.0
    assert weights_theory(ModelConfig(beta=2.0)).atom_zero == pytest.approx(0.5)


def test_expressivity_fit():
    m = ModelConfig(eta_tilde=3.0, sigma="relu", sigma_star="He2(z) + z", a_law=PM)
    e = expressivity(m)
    assert e.mu0.shape == (2, e.kappa.size) and e.coefficients.shape == (3,)
    assert 0.5 < e.r2 <= 1.0
    # Without a step the mean features are constant: only the linear part is expressible.
    e0 = expressivity(m.with_(eta_tilde=0.0))
    he2_var = 1.0
    assert e0.r2 == pytest.approx(1.0 - he2_var / (1.0 + he2_var), abs=1e-6)
    assert e.r2 > e0.r2


def test_newton_failure_raises_with_location(monkeypatch):
    import engine.theory._core as core

    real = core.newton

    def failing(x, z, D, tol, max_iter=30):
        out = real(x, z, D, tol, max_iter=max_iter)
        if np.all(np.abs(z.imag) < 0.1):  # fail every level below the first
            out.converged[:] = False
        return out

    monkeypatch.setattr(core, "newton", failing)
    with pytest.raises(ConvergenceError, match=r"z = .*\+.*i .*tried: Newton continuation"):
        solve_spectrum(ModelConfig(eta_tilde=1.0))


def test_spectrum_grid_size_and_cache_independent_of_lam():
    m = ModelConfig(eta_tilde=1.0)
    a = solve_spectrum(m, NumericsConfig(n_grid=300))
    b = solve_spectrum(m.with_(lam=5.0, d=300), NumericsConfig(n_grid=300))
    assert a.grid.size == 300
    np.testing.assert_allclose(a.density, b.density)
    np.testing.assert_allclose(a.outliers * 300 / 1000, b.outliers)


def test_finite_p_errors_tend_to_asymptotic():
    m = ModelConfig(eta_tilde=2.0, sigma="relu", sigma_star="relu", a_law=K3, noise=0.1)
    gaps = []
    for d in (400, 4000, 20000):
        r = solve_ridge(m.with_(d=d))
        gaps.append(r.test_error_finite_p - r.test_error)
        assert r.train_error_finite_p > 0
    # Not learning a weak direction costs error; the cost vanishes as p grows.
    assert gaps[0] > gaps[1] > gaps[2] > 0
    assert gaps[2] < 0.1 * gaps[0]


@pytest.mark.parametrize("sigma,beta,alpha", [("tanh", 1.0, 1.0), ("sigmoid", 1.0, 2.0),
                                              ("sigmoid", 1.0, 1.0), ("linear", 1.0, 1.0)])
def test_mass_with_hard_edge_or_small_scale(sigma, beta, alpha):
    # p = n puts a 1/sqrt hard edge at zero; the centred sigmoid has mus2 ~ 7e-4, 40x
    # below tanh, so the solver must resolve finer structure than the default eta_min.
    sp = solve_spectrum(ModelConfig(sigma=sigma, beta=beta, alpha=alpha, eta_tilde=0.0))
    assert sp.mass == pytest.approx(1.0, abs=3e-3)


def test_errors_only_gives_the_same_errors_without_the_extras():
    fast = NumericsConfig(q_kappa=40, q_inner=40)
    weak = ModelConfig(d=400, sigma="relu", sigma_star="relu", eta_tilde=3.0, lam=0.2,
                       noise=0.1).with_(a_law={"values": [1.0, -1.0, 0.5],
                                                "probs": [0.4, 0.4, 0.2]})
    full = solve_ridge(weak, fast)
    quick = solve_ridge(weak, fast, errors_only=True)
    assert full.warnings and full.learned_function.size  # what the quick one leaves out
    assert quick.warnings == () and quick.learned_function.size == quick.kappa.size == 0
    for attr in ("test_error", "train_error", "bias", "variance", "test_error_finite_p"):
        assert getattr(quick, attr) == getattr(full, attr), attr
    np.testing.assert_array_equal(quick.m0, full.m0)
