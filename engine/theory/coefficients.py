"""Conditional Gaussian-equivalence coefficients (docs/model.md#conditional-gaussian-equivalence).

For a row of norm ``s`` carrying a spike ``u`` along the (spike) direction, and
conditionally on ``kappa = <v, x>``, the feature ``sigma(s g + u kappa)`` with
``g ~ N(0, 1)`` is replaced by its Hermite decomposition in ``g``::

    mu0(kappa, u)  = E sigma(s g + u kappa)
    mu1(kappa, u)  = E [ g sigma(s g + u kappa) ]
    mus2(kappa, u) = E sigma(s g + u kappa)^2 - mu0^2 - mu1^2

``relu`` uses closed forms (normal cdf/pdf); registry functions use a
Gauss–Hermite average over ``g`` with ``q_inner`` nodes; user expressions (which may
contain kinks: ``abs``, ``maximum``, ``sign``) use a dense trapezoid rule.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import special

from engine.activations import REGISTRY, VALIDATED_RANGE, gauss_hermite, get_activation
from engine.errors import ConvergenceError
from engine.theory._blas import matmul as mm

__all__ = ["conditional_coefficients", "mu0", "mu1", "mus2"]

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def _relu_coefficients(s: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, ...]:
    """Closed forms for ``relu(s g + m)``, ``s > 0``, broadcast over ``s`` and ``m``."""
    t = m / s
    cdf = special.ndtr(t)
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * t * t)
    c0 = m * cdf + s * pdf
    # Stein: E[g f(s g + m)] = s E f'(s g + m) = s P(s g + m > 0).
    c1 = s * cdf
    second = (m * m + s * s) * cdf + m * s * pdf
    return c0, c1, second


def _inner_rule(name: str, q_inner: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the average over ``g`` (weights sum to one)."""
    if name in REGISTRY:
        return gauss_hermite(int(q_inner))
    # A user expression may have kinks, where Gauss–Hermite converges slowly;
    # a dense trapezoid rule on [-9, 9] is robust and still cheap (vectorised).
    x = np.linspace(-9.0, 9.0, 1201)
    w = np.exp(-0.5 * x * x)
    w[[0, -1]] *= 0.5
    return x, w / w.sum()


def _coefficients(name: str, s: np.ndarray, m: np.ndarray, q_inner: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mu0, mu1, mus2)`` for rows of norm ``s`` and shifts ``m = u kappa`` (broadcast).

    Raises
    ------
    ConvergenceError
        When a coefficient is not finite: ``sigma`` overflows (or is undefined) where
        the quadrature evaluates it, ``s g + u kappa``.
    """
    act = get_activation(name)
    s, m = np.broadcast_arrays(np.asarray(s, dtype=float), np.asarray(m, dtype=float))
    with np.errstate(all="ignore"):
        if act.is_relu:
            safe = np.where(s > 0, s, 1.0)
            c0, c1, second = _relu_coefficients(safe, m)
            # A vanishing row norm leaves the deterministic feature relu(m).
            zero = s <= 0
            if np.any(zero):
                c0 = np.where(zero, np.maximum(m, 0.0), c0)
                c1 = np.where(zero, 0.0, c1)
                second = np.where(zero, np.maximum(m, 0.0) ** 2, second)
            reach = float(np.max(np.abs(m), initial=0.0))
        else:
            c0, c1, second, reach = _quadrature(act.f, *_inner_rule(act.name, q_inner), s, m)
        ms2 = np.maximum(second - c0 * c0 - c1 * c1, 0.0)
    if not (np.all(np.isfinite(c0)) and np.all(np.isfinite(c1)) and np.all(np.isfinite(ms2))):
        beyond = (f", beyond the validated range [-{VALIDATED_RANGE:g}, {VALIDATED_RANGE:g}]"
                  if reach > VALIDATED_RANGE else "")
        raise ConvergenceError(
            f"conditional Gaussian equivalence: the coefficients of sigma = {name!r} "
            f"overflow (it is evaluated at s g + u kappa up to |{reach:.3g}|{beyond}; "
            "docs/model.md#conditional-gaussian-equivalence)")
    return c0, c1, ms2


#: Evaluations of sigma per chunk of the quadrature (16 MB of doubles).
_CHUNK = 1 << 21


def _quadrature(f, g: np.ndarray, w: np.ndarray, s: np.ndarray, m: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``E f(s g + m)``, ``E g f``, ``E f^2`` by the rule ``(g, w)``, and the largest |arg|.

    In chunks of the points ``(s, m)``: the learned function alone asks for 6440 points
    times 1201 nodes per atom, 185 MB in one piece.
    """
    shape = s.shape
    s, m = s.ravel(), m.ravel()
    out = np.empty((3, s.size))
    W = np.stack([w, w * g], axis=1)
    reach = 0.0
    step = max(1, _CHUNK // g.size)
    for i in range(0, s.size, step):
        arg = s[i:i + step, None] * g + m[i:i + step, None]
        fx = f(arg)
        out[:2, i:i + step] = mm(fx, W).T
        out[2, i:i + step] = mm(fx * fx, w[:, None])[:, 0]
        reach = max(reach, float(np.max(np.abs(arg), initial=0.0)))
    return out[0].reshape(shape), out[1].reshape(shape), out[2].reshape(shape), reach


def conditional_coefficients(sigma: str, s: np.ndarray, u: np.ndarray, kappa: np.ndarray,
                             q_inner: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Conditional coefficients of every atom on a ``kappa`` grid.

    Parameters
    ----------
    sigma : str
        Activation (registry key or expression in ``z``).
    s, u : array_like (K,)
        Row norms ``s_k`` and spikes ``u_k`` of the atoms.
    kappa : array_like (Q,)
        Grid of ``kappa`` (projection of ``x`` on the spike direction).
    q_inner : int
        Gauss–Hermite nodes of the inner average (ignored for ``relu``).

    Returns
    -------
    mu0, mu1, mus2 : ndarray (K, Q)
        ``mu0(kappa_q, u_k)``, ``mu1(kappa_q, u_k)``, ``mus2(kappa_q, u_k)`` (read-only,
        cached per arguments).
    """
    s = np.atleast_1d(np.asarray(s, dtype=float))
    u = np.atleast_1d(np.asarray(u, dtype=float))
    kappa = np.atleast_1d(np.asarray(kappa, dtype=float))
    return _cached(sigma, tuple(s.tolist()), tuple(u.tolist()), kappa.tobytes(), int(q_inner))


@lru_cache(maxsize=64)
def _cached(sigma: str, s: tuple[float, ...], u: tuple[float, ...], kappa_bytes: bytes,
            q_inner: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    kappa = np.frombuffer(kappa_bytes, dtype=float)
    s_arr = np.asarray(s)[:, None]
    m = np.asarray(u)[:, None] * kappa[None, :]
    out = _coefficients(sigma, s_arr, m, q_inner)
    for a in out:
        a.setflags(write=False)
    return out


def _single(sigma: str, kappa: np.ndarray, u: np.ndarray, s: float, q_inner: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    kappa = np.asarray(kappa, dtype=float)
    u = np.asarray(u, dtype=float)
    return _coefficients(sigma, np.asarray(s, dtype=float), u * kappa, q_inner)


def mu0(kappa: np.ndarray, u: np.ndarray, *, sigma: str = "tanh", s: float = 1.0,
        q_inner: int = 120) -> np.ndarray:
    """``E sigma(s g + u kappa)``, broadcast over ``kappa`` and ``u``."""
    return _single(sigma, kappa, u, s, q_inner)[0]


def mu1(kappa: np.ndarray, u: np.ndarray, *, sigma: str = "tanh", s: float = 1.0,
        q_inner: int = 120) -> np.ndarray:
    """``E [g sigma(s g + u kappa)]``, broadcast over ``kappa`` and ``u``."""
    return _single(sigma, kappa, u, s, q_inner)[1]


def mus2(kappa: np.ndarray, u: np.ndarray, *, sigma: str = "tanh", s: float = 1.0,
         q_inner: int = 120) -> np.ndarray:
    """``E sigma(s g + u kappa)^2 - mu0^2 - mu1^2``, broadcast over ``kappa`` and ``u``."""
    return _single(sigma, kappa, u, s, q_inner)[2]
