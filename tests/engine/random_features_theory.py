"""Ridge errors of random features without a step, written independently of engine.theory.

The classical deterministic equivalent of ridge regression on Gaussian-equivalent
features. Without a step (``eta_tilde = 0``) and for odd ``sigma`` and ``sigma_star``,
the features ``phi = sigma(W x)`` (rows of ``W`` on the unit sphere) are equivalent to
Gaussian features of covariance ``Omega = mu1^2 W W^T + ms2 I`` (``ms2 = m2 - mu1^2``),
and the label is ``y = b^T phi + r`` with ``b = Omega^-1 mu1 mu1_* W theta`` and ``r``
independent of ``phi``. For ridge ``(Phi^T Phi/n + lam_int)^-1 Phi^T y/n``:

    lam_int = kappa (1 - tr(Omega (Omega + kappa)^-1)/n)
    df2     = tr(Omega^2 (Omega + kappa)^-2)/n
    E_te    = (E r^2 + kappa^2 b^T Omega (Omega + kappa)^-2 b)/(1 - df2)
    E_tr    = (lam_int/kappa)^2 E_te

As ``d -> infinity`` the traces are integrals against the Marchenko–Pastur law of
``W^T W``, done here by Gauss–Legendre quadrature on the law's support; the Hermite
constants come from Gauss–Hermite quadrature. Nothing here calls the engine.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize

Fn = Callable[[np.ndarray], np.ndarray]


def _moments(f: Fn, nodes: int = 200) -> tuple[float, float, float]:
    """``(E f(z), E z f(z), E f(z)^2)`` for ``z ~ N(0, 1)``."""
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    fz = f(z)
    return float(w @ fz), float(w @ (z * fz)), float(w @ (fz * fz))


def _mp_mean(g: Callable[[np.ndarray], np.ndarray], beta: float, nodes: int = 400) -> float:
    """``E g(x)`` over the eigenvalues ``x`` of ``W^T W`` (``d x d``; ``W`` has ``p = beta d``
    rows of norm 1): ``(1/y) MP_y`` with ``y = 1/beta``, plus an atom ``1 - beta`` at 0
    when ``beta < 1``."""
    y = 1.0 / beta
    lo, hi = (1 - np.sqrt(y)) ** 2, (1 + np.sqrt(y)) ** 2
    t, wt = np.polynomial.legendre.leggauss(nodes)
    t, wt = (t + 1) * np.pi / 2, wt * np.pi / 2
    x = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(t)  # the sqrt edges become smooth in t
    density_dx = ((hi - lo) / 2) ** 2 * np.sin(t) ** 2 / (2 * np.pi * y * x)
    atom = max(1.0 - beta, 0.0) * float(g(np.zeros(1))[0])
    return float(np.sum(wt * density_dx * g(x / y))) + atom


def random_features_errors(sigma: Fn, sigma_star: Fn, *, alpha: float, beta: float,
                           lam_int: float, noise: float) -> tuple[float, float]:
    """``(test error, training error)`` of ridge on random features, ``eta_tilde = 0``.

    ``sigma`` and ``sigma_star`` must be odd (no mean to fit); ``noise`` is the label
    noise variance, included in the test error.
    """
    mu0, mu1, m2 = _moments(sigma)
    mu0_star, mu1_star, m2_star = _moments(sigma_star)
    if abs(mu0) > 1e-12 or abs(mu0_star) > 1e-12:
        raise ValueError("only odd activations (mu0 = 0) are covered")
    ms2 = m2 - mu1**2

    def omega(x: np.ndarray) -> np.ndarray:
        return mu1**2 * x + ms2

    def feature_trace(h: Callable[[np.ndarray], np.ndarray]) -> float:
        """``tr h(Omega) / d``: the ``p`` directions are those of ``W^T W`` plus
        ``p - d`` at ``x = 0``."""
        return _mp_mean(lambda x: h(omega(x)), beta) + (beta - 1.0) * float(
            h(np.array([ms2]))[0])

    def fixed_point(kappa: float) -> float:
        return kappa * (1.0 - feature_trace(lambda o: o / (o + kappa)) / alpha) - lam_int

    kappa = optimize.brentq(fixed_point, lam_int, lam_int + 100.0 * (m2 + 1.0), xtol=1e-15,
                            rtol=1e-15)
    df2 = feature_trace(lambda o: o**2 / (o + kappa) ** 2) / alpha
    # W theta has coordinate s_i (v_i . theta) on the i-th singular pair, (v_i . theta)^2 -> 1/d
    signal = (mu1 * mu1_star) ** 2
    captured = signal * _mp_mean(lambda x: x / omega(x), beta)  # b^T Omega b
    bias = signal * _mp_mean(lambda x: x * kappa**2 / (omega(x) * (omega(x) + kappa) ** 2), beta)
    residual = m2_star + noise - captured  # E r^2
    test = (residual + bias) / (1.0 - df2)
    return test, (lam_int / kappa) ** 2 * test
