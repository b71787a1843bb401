"""The readout: feature statistics, the ridge solve, spectra, test error, weight spectra.

Conventions (docs/model.md#conventions): ``Phi = sigma(X F^T)`` (``n x p``),
``b = a/sqrt p``, ``b_hat = (Phi^T Phi/n + lam_int I)^{-1} Phi^T y/n``,
``lam_int = lam p/n``; this is the sum-convention ridge ``a_hat = sqrt(p) b_hat``.

Memory: ``Phi^T Phi`` is accumulated chunk by chunk (BLAS ``syrk``) and the training
error is obtained from the accumulated ``Phi^T Phi``, ``Phi^T y``, ``|y|^2``; nothing of
size ``n x p`` is held. Long LAPACK calls run through :func:`run_interruptible` (numpy's
LAPACK releases the GIL), so a cancel returns within a fraction of a second even at
``d = 4000`` (docs/architecture.md#threads).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg as sla
from scipy import special

from engine.activations import Activation
from engine.errors import Cancelled
from engine.progress import CancelLike, ProgressFn, check_cancel, null_progress

#: Learned-function bins along kappa = <theta, x>.
KAPPA_BINS = np.linspace(-3.0, 3.0, 26)


# --------------------------------------------------------------------------- features


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


# --------------------------------------------------------------------------- LAPACK calls


def run_interruptible(fn: Callable[[], Any], cancel: CancelLike | None) -> Any:
    """Run a long LAPACK call ``fn()`` in a worker thread and poll ``cancel`` meanwhile.

    LAPACK releases the GIL, so the caller can raise :class:`Cancelled` within ~20 ms;
    the abandoned call finishes in the background (its result is dropped). Without a
    cancel token ``fn`` runs in the calling thread.

    Parameters
    ----------
    fn : callable
        No arguments; its return value is returned.
    cancel : CancelToken or None

    Raises
    ------
    Cancelled
        When ``cancel`` is set before ``fn`` returns.
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


# --------------------------------------------------------------------------- ridge, spectrum


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
    worker thread while the caller polls ``cancel``. Scales ``stats.gram`` in place.
    """
    G = stats.gram.T  # C-ordered view (see FeatureStats)
    G *= 1.0 / stats.n
    return run_interruptible(lambda: np.linalg.eigvalsh(G, UPLO="L"), cancel)


# --------------------------------------------------------------------------- hold-out


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

