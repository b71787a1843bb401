"""The real two-layer network: initialisation, one gradient step, ridge readout.

Conventions (docs/model.md#conventions, docs/model.md#conventions):

- ``x ~ N(0, I_d)``, ``|theta| = 1``, ``y = sigma_*(<theta, x>) + sqrt(Delta) xi``.
- ``f(x) = (1/sqrt p) sum_i a_i sigma(<w_i, x>)``; rows of ``W0`` uniform on the sphere
  (or ``N(0, I_d/d)``), ``a_i`` i.i.d. from ``model.a_law``.
- One step ``Delta w_i = eta_tilde a_i g_i`` with
  ``g_i = (1/n0) sum_nu r_nu sigma'(<w_i, x_nu>) x_nu`` (i.e. ``eta = eta_tilde sqrt p``
  on the averaged square loss, docs/model.md#known-limits), ``r = y`` ("labels") or
  ``r = y - f(x; W0, a)`` ("full"). Large batch: ``g_i`` is the exact population
  gradient ``E[y sigma'(<w_i, x>) x]`` (:func:`population_gradient`).
- Readout: ``Phi = sigma(X W1^T)`` (``n x p``), ``b = a/sqrt p``,
  ``b_hat = (Phi^T Phi/n + lam_int I)^{-1} Phi^T y/n``, ``lam_int = lam p/n``; this is the
  SPEC's sum-convention ridge ``a_hat = sqrt(p) b_hat``.

Seeds: one integer seed drives independent named streams (``SeedSequence(seed).spawn``):
theta, W0, a, the step's batch, the readout's samples, the test samples, and the sRF's
extra randomness. The sRF simulation (engine/srf.py) draws theta, W0, a and the readout
and test samples from the same streams, so network and sRF share them exactly.

Memory: nothing of size ``n x p`` or ``n0 x p`` is ever held; samples are generated in
chunks of ``chunk_rows(d, p)`` rows (in parallel, by independently seeded blocks of 64
rows, so that they do not depend on the chunk size or on the number of threads),
``Phi^T Phi`` is accumulated chunk by chunk (BLAS ``syrk`` into the upper triangle) and
the training error is obtained from the accumulated ``Phi^T Phi``, ``Phi^T y``,
``|y|^2``. The cancel token is checked between chunks, and long LAPACK calls run in a
helper thread (numpy's LAPACK releases the GIL) so a cancel returns within a fraction of
a second even at ``d = 4000``.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg as sla
from scipy import special

from engine.activations import Activation, gauss_hermite, get_activation
from engine.config import ModelConfig
from engine.errors import Cancelled
from engine.progress import CancelLike, ProgressFn, check_cancel, null_progress, sub_progress
from engine.results import SimSeed

#: Names of the independent random streams spawned from one seed.
STREAMS = ("theta", "w0", "a", "step", "train", "test", "srf", "mc")

#: Target size of one chunk buffer in float64 numbers (~64 MB).
CHUNK_NUMBERS = 8_000_000

#: At most this many multiply-adds (m d p) per chunk product, so the cancel token is
#: polled every ~0.2 s even at d = p = 4000. Larger chunks make syrk more efficient
#: (measured at d = 2000: 960 -> 1984 rows per chunk saves ~12 % of a simulation).
CHUNK_WORK = 8_000_000_000

#: Learned-function bins along kappa = <theta, x>.
KAPPA_BINS = np.linspace(-3.0, 3.0, 26)

#: Monte-Carlo batch (in units of d) for the f(x; W0, a) part of the gradient in the
#: large-batch limit with residual "full" (no closed form; see population_gradient).
FULL_RESIDUAL_MC_ALPHA = 64


# --------------------------------------------------------------------------- set-up


def chunk_rows(d: int, p: int) -> int:
    """Rows per sample chunk: buffers ``m x d`` and ``m x p`` stay ~64 MB each, and one
    chunk's product ``X_c F^T`` stays below :data:`CHUNK_WORK` multiply-adds."""
    m = max(BLOCK_ROWS, min(CHUNK_NUMBERS // max(d, p, 1), CHUNK_WORK // max(d * p, 1)))
    return int(m - m % BLOCK_ROWS)


def streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators for :data:`STREAMS`, all derived from ``seed``."""
    children = np.random.SeedSequence(int(seed)).spawn(len(STREAMS))
    return {name: np.random.default_rng(ss) for name, ss in zip(STREAMS, children, strict=True)}


#: Rows of one independently seeded block of Gaussian samples (see BlockNormals).
BLOCK_ROWS = 64

_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1),
                                   thread_name_prefix="fsl-normals")
    return _POOL


class BlockNormals:
    """Gaussian sample rows generated in parallel, reproducibly.

    Row block ``b`` (rows ``64 b .. 64 b + 63`` of the data set) comes from its own
    generator seeded by ``SeedSequence(entropy, spawn_key + (b,))``, so the samples do not
    depend on the chunk size nor on the number of threads, and blocks can be filled by
    several threads at once (numpy releases the GIL while filling). Generating normals is
    the largest cost of a simulation after BLAS/LAPACK (~30 ns each), hence the threads.
    """

    def __init__(self, ss: np.random.SeedSequence) -> None:
        self.ss = ss

    def _fill_block(self, X: np.ndarray, first_row: int, b: int) -> None:
        key = np.random.SeedSequence(self.ss.entropy, spawn_key=self.ss.spawn_key + (b,))
        lo = b * BLOCK_ROWS - first_row
        np.random.default_rng(key).standard_normal(out=X[lo:lo + BLOCK_ROWS])

    def fill(self, X: np.ndarray, first_row: int) -> None:
        """Fill ``X`` (``m x d``) with rows ``first_row .. first_row + m - 1``.

        ``first_row`` must be a multiple of :data:`BLOCK_ROWS`.
        """
        if first_row % BLOCK_ROWS:
            raise ValueError(f"first_row must be a multiple of {BLOCK_ROWS}, got {first_row}")
        m = X.shape[0]
        b0 = first_row // BLOCK_ROWS
        blocks = range(b0, b0 + -(-m // BLOCK_ROWS))
        if len(blocks) >= 4 and X.size >= 100_000 and (os.cpu_count() or 1) > 1:
            list(_pool().map(lambda b: self._fill_block(X, first_row, b), blocks))
        else:
            for b in blocks:
                self._fill_block(X, first_row, b)


def data_streams(seed: int, which: str) -> tuple[BlockNormals, np.random.Generator]:
    """Fresh ``(x_source, noise_rng)`` for the data set ``which`` (``step``/``train``/...).

    Re-created on demand, so the same samples can be drawn twice (e.g. the spectrum
    before the step uses exactly the readout samples used after it).
    """
    ss = np.random.SeedSequence(int(seed)).spawn(len(STREAMS))[STREAMS.index(which)]
    x_ss, noise_ss = ss.spawn(2)
    return BlockNormals(x_ss), np.random.default_rng(noise_ss)


@dataclass(frozen=True)
class Init:
    """The random initialisation shared by the network and the sRF model.

    Attributes
    ----------
    theta : ndarray (d,)
        Unit target direction.
    W0 : ndarray (p, d)
        First layer at initialisation (C order).
    a : ndarray (p,)
        Second-layer weights.
    classes : ndarray (p,) of int
        Index ``k`` of the atom ``a_i = a^(k)``.
    """

    theta: np.ndarray
    W0: np.ndarray
    a: np.ndarray
    classes: np.ndarray


def draw_init(model: ModelConfig, seed: int, cancel: CancelLike | None = None) -> Init:
    """Draw ``theta``, ``W0`` and ``a`` for ``model`` from ``seed`` (see module docstring)."""
    rng = streams(seed)
    d, p = model.d, model.p
    theta = rng["theta"].standard_normal(d)
    theta /= np.linalg.norm(theta)
    W0 = np.empty((p, d))
    # Row blocks (the stream is sequential, so the values do not depend on the blocks)
    # keep a cancel responsive at d = 4000.
    step = max(1, CHUNK_NUMBERS // (4 * d))
    for i in range(0, p, step):
        check_cancel(cancel)
        rng["w0"].standard_normal(out=W0[i:i + step])
    if model.w_init == "sphere":
        W0 /= np.sqrt(np.einsum("ij,ij->i", W0, W0))[:, None]  # no p x d temporary
    else:
        W0 *= 1.0 / math.sqrt(d)
    values = np.asarray(model.a_law.values, dtype=float)
    probs = np.asarray(model.a_law.probs, dtype=float)
    classes = rng["a"].choice(values.size, size=p, p=probs)
    return Init(theta=theta, W0=W0, a=values[classes], classes=classes)


def sample_chunks(
    n: int,
    d: int,
    theta: np.ndarray,
    target: Activation,
    noise: float,
    x_rng: BlockNormals | np.random.Generator,
    noise_rng: np.random.Generator,
    chunk: int,
    cancel: CancelLike | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(X_c, kappa_c, y_c)`` chunks of ``n`` fresh samples.

    ``X_c`` is a reused buffer (``m x d``, valid until the next chunk). The samples do not
    depend on ``chunk`` (block-seeded :class:`BlockNormals`, or a sequential generator).
    Checks ``cancel`` before every chunk.
    """
    if isinstance(x_rng, BlockNormals):
        chunk = max(BLOCK_ROWS, chunk - chunk % BLOCK_ROWS)
    buf = np.empty((min(chunk, n), d))
    sd = math.sqrt(noise)
    for start in range(0, n, chunk):
        check_cancel(cancel)
        m = min(chunk, n - start)
        X = buf[:m]
        if isinstance(x_rng, BlockNormals):
            x_rng.fill(X, start)
        else:
            x_rng.standard_normal(out=X)
        kappa = X @ theta
        y = target.f(kappa)
        if noise > 0:
            y = y + sd * noise_rng.standard_normal(m)
        yield X, kappa, y


_INPLACE: dict[str, Callable[[np.ndarray], None]] = {
    "tanh": lambda h: np.tanh(h, out=h),
    "relu": lambda h: np.maximum(h, 0.0, out=h),
    "erf": lambda h: special.erf(h, out=h),
    "sin": lambda h: np.sin(h, out=h),
    "linear": lambda h: None,
}


def apply_activation(act: Activation, h: np.ndarray) -> np.ndarray:
    """``sigma(h)``, in place for registry activations (saves an ``m x p`` copy)."""
    fn = _INPLACE.get(act.name)
    if fn is not None:
        fn(h)
        return h
    return act.f(h)


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


# --------------------------------------------------------------------------- population gradient


_QUAD_HALF_WIDTH = 9.0
_QUAD_NODES = 1201
_CHEB_NODES = 16


def _trapezoid_rule(half_width: float = _QUAD_HALF_WIDTH, n: int = _QUAD_NODES):
    # A dense trapezoid rule with Gaussian weight: spectrally accurate for smooth
    # integrands and O(h^2) for kinks (relu, abs), where Gauss–Hermite is O(1/Q).
    x = np.linspace(-half_width, half_width, n)
    w = np.exp(-0.5 * x * x)
    w[0] *= 0.5
    w[-1] *= 0.5
    w /= w.sum()
    return x, w


#: Registry functions that are smooth (entire): Gauss–Hermite converges geometrically.
_SMOOTH = frozenset({"tanh", "erf", "sin", "sigmoid", "He2", "He3", "linear"})
_GH_NODES = 160


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
            for i in range(0, rho.size, 256):  # row blocks keep memory at 256 x N
                blk = slice(i, i + 256)
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


# --------------------------------------------------------------------------- readout


@dataclass(frozen=True)
class FeatureStats:
    """Sufficient statistics of the features on ``n`` samples.

    Attributes
    ----------
    gram : ndarray (p, p), Fortran order
        ``Phi^T Phi`` (un-normalised), both triangles filled; ``gram.T`` is C-ordered.
    phi_y : ndarray (p,)
        ``Phi^T y``.
    y_sq : float
        ``|y|^2``.
    n : int
    """

    gram: np.ndarray
    phi_y: np.ndarray
    y_sq: float
    n: int


def feature_stats(
    F: np.ndarray,
    sigma: Activation,
    chunks: Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]],
    n: int,
    *,
    progress: ProgressFn | None = None,
) -> FeatureStats:
    """Accumulate ``Phi^T Phi``, ``Phi^T y``, ``|y|^2`` over chunks, ``Phi = sigma(X F^T)``.

    ``np.matmul(Phi.T, Phi)`` runs BLAS ``syrk`` (numpy recognises the transposed
    self-product: half the flops of a general product) and releases the GIL.
    scipy's ``dsyrk`` wrapper is as fast but holds the GIL for the whole call, which
    froze the GUI thread for 80-300 ms per chunk at d = 2000.
    """
    progress = progress or null_progress
    p = F.shape[0]
    gram_c = np.zeros((p, p))  # C-ordered; returned as its Fortran-ordered transpose
    part = np.empty((p, p))
    phi_y = np.zeros(p)
    y_sq = 0.0
    h = None
    done = 0
    for X, _kappa, y in chunks:
        m = X.shape[0]
        if h is None or h.shape[0] < m:
            h = np.empty((m, p))
        H = h[:m]
        np.matmul(X, F.T, out=H)
        Phi = apply_activation(sigma, H)
        np.matmul(Phi.T, Phi, out=part)
        gram_c += part
        phi_y += y @ Phi
        y_sq += float(y @ y)
        done += m
        progress(done / n, "features")
    return FeatureStats(gram=gram_c.T, phi_y=phi_y, y_sq=y_sq, n=done)


def _run_interruptible(fn: Callable[[], Any], cancel: CancelLike | None) -> Any:
    """Run a long LAPACK call in a helper thread and poll ``cancel`` meanwhile.

    LAPACK releases the GIL, so the caller can raise :class:`Cancelled` within ~20 ms;
    the abandoned call finishes in the background (its result is dropped).
    """
    if cancel is None:
        return fn()
    check_cancel(cancel)
    box: dict[str, object] = {}

    def _target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box["error"] = exc

    th = threading.Thread(target=_target, daemon=True, name="fsl-lapack")
    th.start()
    while th.is_alive():
        th.join(0.02)
        if cancel.is_set() and th.is_alive():
            raise Cancelled("cancelled by the user")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]


def ridge_solve(stats: FeatureStats, lam_int: float) -> tuple[np.ndarray, float]:
    """``b_hat = (Phi^T Phi/n + lam_int I)^{-1} Phi^T y/n`` and the training error.

    Cholesky factorisation (numpy's LAPACK, which releases the
    GIL so a cancel can be honoured meanwhile). When the matrix is singular to working
    precision (``lam_int ~ 0`` with ``p >= n``: the factor's diagonal ratio below 1e-7,
    i.e. a condition number above 1e14) the minimum-norm least-squares solution (the
    ridgeless limit) is used instead. The training error ``(1/n)|y - Phi b|^2`` is computed
    from the accumulated statistics: ``|y|^2/n - b.r - lam_int |b|^2`` at the solution,
    ``r = Phi^T y/n``, or the explicit ``|y|^2/n - 2 b.r + b^T M b - lam_int |b|^2`` when
    the error is near round-off (clipped at 0).

    Returns
    -------
    b : ndarray (p,)
    train_error : float
    """
    n = stats.n
    p = stats.phi_y.size
    rhs = stats.phi_y / n
    # gram.T is a C-ordered view (see FeatureStats). numpy's LAPACK is 3-6x slower on
    # Fortran-ordered input (it copies with strides), hence the transposed views.
    M = stats.gram.T / n  # new C-ordered array: the Gram stays intact for the spectrum
    M.flat[:: p + 1] += lam_int
    b = None
    try:
        L = np.linalg.cholesky(M)  # reads the lower triangle only
        diag = np.abs(np.diag(L))
        if diag.min() > 1e-7 * diag.max():
            z = sla.solve_triangular(L, rhs, lower=True, check_finite=False)
            b = sla.solve_triangular(L, z, lower=True, trans="T", check_finite=False)
        del L
    except np.linalg.LinAlgError:
        b = None
    if b is not None and np.all(np.isfinite(b)):
        # At the solution M b = r, so |y - Phi b|^2/n = |y|^2/n - b.r - lam_int |b|^2:
        # no p x p product. Its round-off is ~1e-16 |y|^2/n; when the error is not far
        # above that, use the explicit quadratic form below instead.
        train = stats.y_sq / n - float(b @ rhs) - lam_int * float(b @ b)
        if train > 1e-8 * stats.y_sq / n:
            return b, train
    full = np.tril(M)
    full += np.tril(full, -1).T
    if b is None or not np.all(np.isfinite(b)):
        b = sla.lstsq(full, rhs, cond=1e-12, check_finite=False)[0]
    train = stats.y_sq / n - 2 * float(b @ rhs) + float(b @ (full @ b)) - lam_int * float(b @ b)
    return b, max(train, 0.0)


def gram_eigenvalues(stats: FeatureStats, cancel: CancelLike | None = None) -> np.ndarray:
    """Ascending eigenvalues of ``(1/n) Phi^T Phi`` (LAPACK ``syevd``, values only).

    numpy's LAPACK releases the GIL (scipy's wrappers do not), so the call runs in a
    helper thread while the caller polls ``cancel``. Scales ``stats.gram`` in place.
    """
    G = stats.gram.T  # C-ordered view (see FeatureStats)
    G *= 1.0 / stats.n
    return _run_interruptible(lambda: np.linalg.eigvalsh(G, UPLO="L"), cancel)


@dataclass(frozen=True)
class HoldoutStats:
    """Test error and the learned function binned along ``kappa``."""

    test_error: float
    kappa_bins: np.ndarray
    fhat_mean: np.ndarray
    fhat_sem: np.ndarray


def holdout_stats(
    F: np.ndarray,
    b: np.ndarray,
    sigma: Activation,
    chunks: Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]],
    n_test: int,
    *,
    progress: ProgressFn | None = None,
) -> HoldoutStats:
    """Test error ``mean (y - f_hat)^2`` and ``f_hat`` binned by ``kappa`` (:data:`KAPPA_BINS`).

    Bins with fewer than 2 samples get NaN mean/s.e.m. (shown as gaps).
    """
    progress = progress or null_progress
    nb = KAPPA_BINS.size - 1
    cnt = np.zeros(nb)
    s1 = np.zeros(nb)
    s2 = np.zeros(nb)
    sq = 0.0
    done = 0
    h = None
    for X, kappa, y in chunks:
        m = X.shape[0]
        if h is None or h.shape[0] < m:
            h = np.empty((m, F.shape[0]))
        H = h[:m]
        np.matmul(X, F.T, out=H)
        fhat = apply_activation(sigma, H) @ b
        err = y - fhat
        sq += float(err @ err)
        idx = np.searchsorted(KAPPA_BINS, kappa, side="right") - 1
        ok = (idx >= 0) & (idx < nb)
        cnt += np.bincount(idx[ok], minlength=nb)
        s1 += np.bincount(idx[ok], weights=fhat[ok], minlength=nb)
        s2 += np.bincount(idx[ok], weights=fhat[ok] ** 2, minlength=nb)
        done += m
        progress(done / n_test, "test error")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / cnt
        var = np.maximum(s2 / cnt - mean**2, 0.0) * cnt / (cnt - 1)
        sem = np.sqrt(var / cnt)
    mean[cnt < 2] = np.nan
    sem[cnt < 2] = np.nan
    centres = 0.5 * (KAPPA_BINS[1:] + KAPPA_BINS[:-1])
    return HoldoutStats(sq / max(done, 1), centres, mean, sem)


# --------------------------------------------------------------------------- weights


def weight_stats(
    W1: np.ndarray, W0: np.ndarray, theta: np.ndarray, n_top: int = 5
) -> tuple[np.ndarray, float, np.ndarray]:
    """Spectrum of ``W1 W1^T`` and alignments with ``theta``.

    Returns
    -------
    eigenvalues : ndarray (p,)
        Ascending eigenvalues of ``W1 W1^T``.
    spike_overlap : float
        ``|<v_hat, theta>|``, ``v_hat`` the top right singular vector of ``W1 - W0``.
    top_overlaps : ndarray (min(n_top, p),)
        ``|<e_j, theta>|`` for the top right singular vectors ``e_j`` of ``W1``.
    """
    p = W1.shape[0]
    evals, U = np.linalg.eigh(W1 @ W1.T)
    m = min(n_top, p)
    top_u = U[:, ::-1][:, :m]
    top_l = evals[::-1][:m]
    proj = top_u.T @ (W1 @ theta)  # u_j^T W1 theta = sqrt(l_j) <e_j, theta>
    with np.errstate(divide="ignore", invalid="ignore"):
        top_overlaps = np.abs(proj) / np.sqrt(np.maximum(top_l, 1e-300))
    dW = W1 - W0
    # numpy's eigh releases the GIL (scipy's subset eigh held it for ~1 s at p = 1500).
    u_top = np.linalg.eigh(dW @ dW.T)[1][:, -1]
    v = dW.T @ u_top
    nv = np.linalg.norm(v)
    spike_overlap = float(abs(v @ theta) / nv) if nv > 0 else 0.0
    return evals, spike_overlap, top_overlaps


# --------------------------------------------------------------------------- simulate


def default_n_test(model: ModelConfig, n_test: int | None) -> int:
    """``n_test`` or ``max(n, 2000)``."""
    return int(n_test) if n_test is not None else max(model.n, 2000)


def simulate_features(
    kind: str,
    model: ModelConfig,
    seed: int,
    init: Init,
    F: np.ndarray,
    *,
    spectrum: bool,
    before: bool,
    weights: bool,
    errors: bool,
    n_test: int | None,
    progress: ProgressFn | None,
    cancel: CancelLike | None,
    t_start: float,
) -> SimSeed:
    """Readout, spectra, errors and weights for first-layer matrix ``F`` (shared with sRF)."""
    from engine.spectra import split_outliers

    progress = progress or null_progress
    sigma = get_activation(model.sigma)
    target = get_activation(model.sigma_star)
    d, p, n = model.d, model.p, model.n
    chunk = chunk_rows(d, p)
    # Rough split of the remaining work by flops (features and spectrum dominate).
    stages = [("before", 1.0 if before else 0.0), ("features", 1.0 if (spectrum or errors)
                                                   else 0.0),
              ("weights", 0.5 if weights else 0.0),
              ("test", 0.3 * default_n_test(model, n_test) / n if errors else 0.0)]
    total = sum(w for _, w in stages) or 1.0
    bounds: dict[str, tuple[float, float]] = {}
    acc = 0.0
    for name, w in stages:
        bounds[name] = (acc / total, (acc + w) / total)
        acc += w

    def stage(name: str) -> ProgressFn:
        lo, hi = bounds[name]
        return sub_progress(progress, lo, hi)

    out: dict[str, object] = {}
    if before:
        x_rng, noise_rng = data_streams(seed, "train")
        chunks = sample_chunks(n, d, init.theta, target, model.noise, x_rng, noise_rng, chunk,
                               cancel)
        prog = stage("before")
        st = feature_stats(init.W0, sigma, chunks, n,
                           progress=lambda f, m: prog(0.6 * f, "features before the step"))
        out["eigenvalues_before"] = gram_eigenvalues(st, cancel)
        prog(1.0, "spectrum before the step")
        del st
    b = None
    if spectrum or errors:
        x_rng, noise_rng = data_streams(seed, "train")
        chunks = sample_chunks(n, d, init.theta, target, model.noise, x_rng, noise_rng, chunk,
                               cancel)
        prog = stage("features")
        st = feature_stats(F, sigma, chunks, n, progress=lambda f, m: prog(0.55 * f, "features"))
        check_cancel(cancel)
        if errors:
            b, train = _run_interruptible(lambda: ridge_solve(st, model.lam_int), cancel)
            out["train_error"] = float(train)
        prog(0.7, "spectrum")
        if spectrum:
            ev = gram_eigenvalues(st, cancel)
            out["eigenvalues"] = ev
            out["outliers"] = split_outliers(ev)[1]
        prog(1.0, "spectrum")
        del st
    if weights:
        check_cancel(cancel)
        prog = stage("weights")
        ev_w, so, top = _run_interruptible(lambda: weight_stats(F, init.W0, init.theta),
                                           cancel)
        out["weight_eigenvalues"] = ev_w
        out["spike_overlap"] = float(so)
        out["top_overlaps"] = top
        prog(1.0, "weights")
    if errors and b is not None:
        nt = default_n_test(model, n_test)
        x_rng, noise_rng = data_streams(seed, "test")
        chunks = sample_chunks(nt, d, init.theta, target, model.noise, x_rng, noise_rng, chunk,
                               cancel)
        ts = holdout_stats(F, b, sigma, chunks, nt, progress=stage("test"))
        out.update(test_error=ts.test_error, kappa_bins=ts.kappa_bins, fhat_mean=ts.fhat_mean,
                   fhat_sem=ts.fhat_sem)
    progress(1.0, "done")
    return SimSeed(model=kind, seed=int(seed), elapsed=time.perf_counter() - t_start,
                   **out)  # type: ignore[arg-type]


def simulate_network(
    model: ModelConfig,
    seed: int,
    *,
    spectrum: bool = True,
    before: bool = False,
    weights: bool = False,
    errors: bool = True,
    n_test: int | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelLike | None = None,
) -> SimSeed:
    """Simulate the two-layer network at one parameter point and one seed.

    Parameters
    ----------
    model : ModelConfig
    seed : int
        Drives every random draw (module docstring: named streams).
    spectrum : bool
        Eigenvalues of ``(1/n) Phi^T Phi`` (``p``) after the step, and its outliers.
    before : bool
        Also the eigenvalues at ``W0`` (``eta_tilde = 0``) on the same readout samples.
    weights : bool
        Eigenvalues of ``W1 W1^T`` and the overlaps with ``theta``.
    errors : bool
        Ridge readout: training and test error, learned function along ``kappa``.
    n_test : int or None
        Test samples (default ``max(n, 2000)``).
    progress : callable or None
        ``progress(fraction, message)``.
    cancel : CancelToken or None
        Checked between chunks; raises :class:`~engine.errors.Cancelled`.

    Returns
    -------
    SimSeed
        ``model = "network"``.
    """
    t0 = time.perf_counter()
    progress = progress or null_progress
    check_cancel(cancel)
    init = draw_init(model, seed, cancel)
    # The step costs ~n0 d p (x2) flops vs ~n d p + n p^2 for the readout.
    if model.large_batch:
        w_step = 0.05 if model.residual == "labels" else 0.5
    else:
        w_step = min(0.8, model.alpha0 / (model.alpha0 + 2 * model.alpha))
    step_prog = sub_progress(progress, 0.0, w_step)
    W1 = gradient_step(model, init, seed, progress=lambda f, m: step_prog(f, "gradient step"),
                       cancel=cancel)
    step_prog(1.0, "gradient step")
    return simulate_features("network", model, seed, init, W1, spectrum=spectrum,
                             before=before, weights=weights, errors=errors, n_test=n_test,
                             progress=sub_progress(progress, w_step, 1.0), cancel=cancel,
                             t_start=t0)
