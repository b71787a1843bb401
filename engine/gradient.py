"""The one gradient step on the first layer: population and finite-batch gradients.

Conventions (docs/model.md#conventions): one step ``Delta w_i = eta_tilde a_i g_i`` with
``g_i = (1/n0) sum_nu r_nu sigma'(<w_i, x_nu>) x_nu`` (i.e. ``eta = eta_tilde sqrt p`` on
the averaged square loss, docs/model.md#known-limits), ``r = y`` ("labels") or
``r = y - f(x; W0, a)`` ("full"). Large batch: ``g_i`` is the exact population gradient
``E[y sigma'(<w_i, x>) x]`` (:func:`population_gradient`), computed by quadrature with
tables of the target's moments cached per rule.

The finite batch is streamed in chunks (engine/sampling.py): the gradient is accumulated
chunk by chunk and never needs an ``n0 x p`` matrix.
"""

from __future__ import annotations

import math

import numpy as np

from engine.activations import Activation, gauss_hermite, get_activation
from engine.config import ModelConfig
from engine.progress import CancelLike, ProgressFn, check_cancel, null_progress
from engine.sampling import BlockNormals, Init, chunk_rows, data_streams, sample_chunks

#: Monte-Carlo batch (in units of d) for the f(x; W0, a) part of the gradient in the
#: large-batch limit with residual "full" (no closed form; see population_gradient).
FULL_RESIDUAL_MC_ALPHA = 64

#: Nodes of the dense trapezoid rule (functions with kinks), the largest rule used.
QUAD_NODES = 1201

#: Rows per block when the rows of W have different norms: temporaries stay at
#: ROW_BLOCK x (nodes of the rule).
ROW_BLOCK = 256

_QUAD_HALF_WIDTH = 9.0
_CHEB_NODES = 16

#: Registry functions that are smooth (entire): Gauss–Hermite converges geometrically.
_SMOOTH = frozenset({"tanh", "erf", "sin", "sigmoid", "He2", "He3", "linear"})
_GH_NODES = 160


# --------------------------------------------------------------------------- derivatives


def _fprime_inplace(act: Activation, h: np.ndarray) -> np.ndarray:
    """``sigma'(h)`` overwriting ``h`` for common registry activations (no temporaries)."""
    if act.name == "tanh":
        np.tanh(h, out=h)
        np.square(h, out=h)
        np.subtract(1.0, h, out=h)
        return h
    if act.name == "relu":
        np.greater(h, 0.0, out=h)  # writes 1.0 / 0.0 into the float buffer
        return h
    if act.name == "sin":
        np.cos(h, out=h)
        return h
    return act.fprime(h)


def _symmetric_fprime(act: Activation, z: np.ndarray) -> np.ndarray:
    """``sigma'`` averaged over ``z -+ 1e-7``: the midpoint value at a jump (relu at 0).

    Trapezoid quadrature with a jump exactly at a node is then second-order accurate.
    """
    delta = 1e-7
    return 0.5 * (act.fprime(z + delta) + act.fprime(z - delta))


# --------------------------------------------------------------------------- quadrature tables


def rule_size(name: str) -> int:
    """Nodes of the quadrature rule used for the activation ``name``.

    Gauss–Hermite (160 nodes) for the smooth registry functions, else the dense
    trapezoid rule (:data:`QUAD_NODES`); see :func:`population_gradient`.
    """
    return _GH_NODES if name in _SMOOTH else QUAD_NODES


def _trapezoid_rule(half_width: float = _QUAD_HALF_WIDTH, n: int = QUAD_NODES):
    # A dense trapezoid rule with Gaussian weight: spectrally accurate for smooth
    # integrands and O(h^2) for kinks (relu, abs), where Gauss–Hermite is O(1/Q).
    x = np.linspace(-half_width, half_width, n)
    w = np.exp(-0.5 * x * x)
    w[0] *= 0.5
    w[-1] *= 0.5
    w /= w.sum()
    return x, w


def _rule_for(act: Activation) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Hermite (160 nodes) for smooth registry functions, else the dense trapezoid."""
    if act.name in _SMOOTH:
        return gauss_hermite(_GH_NODES)
    return _trapezoid_rule()


def _target_moments(target: Activation, rho: np.ndarray, z1: np.ndarray,
                    cancel: CancelLike | None = None):
    """``M0 = E_g sigma_*(rho z1 + t g)``, ``M1 = E_g[g sigma_*(rho z1 + t g)]``.

    ``t = sqrt(1 - rho^2)``. Shapes: ``rho`` (R,), ``z1`` (N,) -> (R, N) each.
    """
    g, wg = _rule_for(target)
    out0 = np.empty((rho.size, z1.size))
    out1 = np.empty((rho.size, z1.size))
    for j, r in enumerate(rho):
        check_cancel(cancel)
        t = math.sqrt(max(1.0 - r * r, 0.0))
        vals = target.f(r * z1[:, None] + t * g[None, :])  # (N, Ng)
        out0[j] = vals @ wg
        out1[j] = vals @ (wg * g)
    return out0, out1


_TABLES: dict[tuple[str, float], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _moment_tables(target: Activation, R: float, z1: np.ndarray,
                   cancel: CancelLike | None):
    """``M0, M1`` at Chebyshev nodes of ``[-R, R]`` and at ``z1`` (cached per rule)."""
    key = (target.name, R, z1.size)
    hit = _TABLES.get(key)
    if hit is None:
        n_nodes = _CHEB_NODES if R <= 0.3 else 2 * _CHEB_NODES
        nodes = _cheb_nodes(-R, R, n_nodes)
        T0, T1 = _target_moments(target, nodes, z1, cancel)
        if len(_TABLES) > 64:
            _TABLES.clear()
        hit = _TABLES[key] = (nodes, T0, T1)
    return hit


def _cheb_nodes(lo: float, hi: float, n: int) -> np.ndarray:
    k = np.arange(n)
    return 0.5 * (lo + hi) + 0.5 * (hi - lo) * np.cos((2 * k + 1) * math.pi / (2 * n))


def _lagrange_matrix(nodes: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Barycentric Lagrange interpolation weights (len(x), len(nodes))."""
    diff = nodes[:, None] - nodes[None, :]
    np.fill_diagonal(diff, 1.0)
    bw = 1.0 / diff.prod(axis=1)
    dx = x[:, None] - nodes[None, :]
    exact = dx == 0.0
    dx[exact] = 1.0
    L = bw[None, :] / dx
    L /= L.sum(axis=1, keepdims=True)
    rows = exact.any(axis=1)
    if rows.any():
        L[rows] = exact[rows].astype(float)
    return L


# --------------------------------------------------------------------------- population gradient


def population_gradient(
    W: np.ndarray,
    theta: np.ndarray,
    sigma: Activation,
    target: Activation,
    *,
    direct: bool | None = None,
    cancel: CancelLike | None = None,
) -> np.ndarray:
    """Exact population gradient ``G_i = E[sigma_*(<theta,x>) sigma'(<w_i,x>) x]``.

    For a row ``w`` (``s = |w|``, ``rho = <w, theta>/s``) write ``x = z1 e1 + z2 e2 + x_perp``
    with ``e1 = w/s``, ``e2 = (theta - rho e1)/t``, ``t = sqrt(1 - rho^2)``, so that
    ``<w, x> = s z1``, ``kappa = rho z1 + t z2``. Then ``G = A e1 + B e2`` (``x_perp`` is
    independent and centred) with the two scalar integrals

        A = E[ sigma'(s z1) z1 M0(rho z1) ],     B = E[ sigma'(s z1) M1(rho z1) ],
        M0(c) = E_g sigma_*(c + t g),            M1(c) = E_g [ g sigma_*(c + t g) ],

    i.e. ``G = (A/s - B rho/(s t)) w + (B/t) theta``. Label noise drops out (centred,
    independent). Integrals: Gauss–Hermite (160 nodes) for smooth registry functions, dense
    trapezoid rules otherwise (1201 nodes on [-9, 9]; O(h^2) accurate at kinks such as
    relu's, with ``sigma'`` taken at the midpoint of a jump).
    ``M0, M1`` depend on the row only through ``rho``; for many rows they are computed at
    16 (32 when ``R > 0.3``) Chebyshev nodes of ``[-R, R]`` covering the rows' ``rho``, cached,
    and interpolated (analytic in ``rho``; the interpolation error is below 1e-7, checked in
    the tests against ``direct``).

    Parameters
    ----------
    W : ndarray (p, d)
    theta : ndarray (d,)
        Unit vector.
    sigma, target : Activation
    direct : bool or None
        Compute ``M0, M1`` at every row's own ``rho`` (slow for many rows); default:
        only when there are at most 32 rows.

    Returns
    -------
    ndarray (p, d)
        ``G`` (the step is ``Delta w_i = eta_tilde a_i G_i`` in labels mode).
    """
    W = np.asarray(W, dtype=float)
    s = np.linalg.norm(W, axis=1)
    eps = W @ theta
    rho = np.clip(eps / s, -1.0 + 1e-12, 1.0 - 1e-12)
    # sigma' enters the z1 integrand directly: Gauss–Hermite if it is smooth, else the
    # dense trapezoid. M0, M1 are smooth in z1 whatever sigma_* is (Gaussian smoothing
    # at scale t ~ 1), but their own g-integral needs the dense rule for a kinked target.
    z1, w1 = _rule_for(sigma)
    if direct is None:
        direct = W.shape[0] <= 32
    uniform = bool(np.allclose(s, s[0], rtol=0, atol=1e-13))
    if direct:
        M0, M1 = _target_moments(target, rho, z1, cancel)
        fp = _symmetric_fprime(sigma, s[:, None] * z1[None, :])
        A = (fp * M0) @ (w1 * z1)
        B = (fp * M1) @ w1
    else:
        # Symmetric interval [-R, R] with R rounded up to a power of 2^(1/4): the
        # tables depend only on (target, R), so seeds and models at one d share them.
        rmax = float(np.max(np.abs(rho))) * 1.05 + 1e-6
        R = min(2.0 ** (math.ceil(4 * math.log2(rmax)) / 4), 0.999)
        nodes, T0, T1 = _moment_tables(target, R, z1, cancel)
        L = _lagrange_matrix(nodes, rho)
        if uniform:
            # Same sigma'(s z1) for every row: contract the tables first (no p x N array).
            fp = _symmetric_fprime(sigma, s[0] * z1)
            A = L @ (T0 @ (fp * w1 * z1))
            B = L @ (T1 @ (fp * w1))
        else:
            A = np.empty(rho.size)
            B = np.empty(rho.size)
            for i in range(0, rho.size, ROW_BLOCK):
                blk = slice(i, i + ROW_BLOCK)
                fp = _symmetric_fprime(sigma, s[blk, None] * z1[None, :])
                A[blk] = (fp * (L[blk] @ T0)) @ (w1 * z1)
                B[blk] = (fp * (L[blk] @ T1)) @ w1
    t = np.sqrt(1.0 - rho * rho)
    coef_w = A / s - B * rho / (s * t)
    coef_theta = B / t
    return coef_w[:, None] * W + coef_theta[:, None] * theta[None, :]


# --------------------------------------------------------------------------- the step


def batch_gradient(
    W: np.ndarray,
    a: np.ndarray,
    theta: np.ndarray,
    sigma: Activation,
    target: Activation,
    noise: float,
    n0: int,
    x_rng: BlockNormals | np.random.Generator,
    noise_rng: np.random.Generator,
    *,
    residual: str = "labels",
    labels: bool = True,
    progress: ProgressFn | None = None,
    cancel: CancelLike | None = None,
) -> np.ndarray:
    """Finite-batch gradient ``G_i = (1/n0) sum_nu r_nu sigma'(<w_i, x_nu>) x_nu``.

    Parameters
    ----------
    W : ndarray (p, d)
    a : ndarray (p,)
        Second layer (used by ``residual="full"``).
    theta, sigma, target, noise
        The teacher.
    n0 : int
        Batch size; processed in chunks (never an ``n0 x p`` matrix).
    x_rng : BlockNormals or Generator
        Source of the samples ``x`` (see :func:`data_streams`).
    noise_rng : Generator
    residual : {"labels", "full"}
        ``r = y`` or ``r = y - f(x; W, a)``.
    labels : bool
        With ``False`` the labels are dropped: ``r = -f(x; W, a)`` (used for the Monte
        Carlo part of the large-batch full-residual gradient).

    Returns
    -------
    ndarray (p, d)
    """
    progress = progress or null_progress
    p, d = W.shape
    chunk = chunk_rows(d, p)
    # d x p accumulator plus one reused product buffer. numpy's matmul releases the GIL;
    # scipy's dgemm wrapper (which could accumulate in place) holds it for the whole
    # chunk and froze the GUI thread. The transpose is the p x d result, without a copy.
    acc = np.zeros((d, p))
    part = np.empty((d, p))
    h = np.empty((min(chunk, n0), p))
    inv_sqrt_p = 1.0 / math.sqrt(p)
    done = 0
    for X, _kappa, y in sample_chunks(n0, d, theta, target, noise, x_rng, noise_rng, chunk,
                                      cancel):
        m = X.shape[0]
        H = h[:m]
        np.matmul(X, W.T, out=H)
        r = y if labels else np.zeros(m)
        if residual == "full":
            r = r - (sigma.f(H) @ a) * inv_sqrt_p
        D = _fprime_inplace(sigma, H)
        D *= r[:, None]
        np.matmul(X.T, D, out=part)
        acc += part
        done += m
        progress(done / n0, "gradient step")
    acc *= 1.0 / n0
    return acc.T


def gradient_step(
    model: ModelConfig,
    init: Init,
    seed: int,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelLike | None = None,
) -> np.ndarray:
    """``W1 = W0 + eta_tilde * diag(a) G``, finite batch or large-batch limit.

    Conventions: docs/model.md#conventions.

    Large batch with ``residual="full"``: the label part is exact
    (:func:`population_gradient`); the ``-E[f(x;W0,a) sigma'(<w_i,x>) x]`` part has no
    closed form over ``p`` coupled rows and is estimated by Monte Carlo on
    ``FULL_RESIDUAL_MC_ALPHA * d`` samples (stream ``"mc"``); it is labelled
    "beyond the theory" in the app anyway (docs/model.md#network-to-srf-mapping).

    Returns
    -------
    ndarray (p, d)
        ``W1``.
    """
    sigma = get_activation(model.sigma)
    target = get_activation(model.sigma_star)
    if model.eta_tilde == 0.0:
        return init.W0.copy()
    if model.large_batch:
        G = population_gradient(init.W0, init.theta, sigma, target, cancel=cancel)
        check_cancel(cancel)
        if model.residual == "full":
            x_rng, noise_rng = data_streams(seed, "mc")
            G += batch_gradient(init.W0, init.a, init.theta, sigma, target, 0.0,
                                FULL_RESIDUAL_MC_ALPHA * model.d, x_rng, noise_rng,
                                residual="full", labels=False, progress=progress,
                                cancel=cancel)
    else:
        x_rng, noise_rng = data_streams(seed, "step")
        G = batch_gradient(init.W0, init.a, init.theta, sigma, target, model.noise, model.n0,
                           x_rng, noise_rng, residual=model.residual, progress=progress,
                           cancel=cancel)
    G *= (model.eta_tilde * init.a)[:, None]
    G += init.W0
    return G


