"""Eigenvalue post-processing: outlier separation, histograms, Kolmogorov distances.

Binning lives here (not in the GUI) so that plots, exports and tests all show the
same histogram of the same eigenvalues.

Outlier rule (:func:`split_outliers`)
-------------------------------------
The feature covariance ``(1/n) Phi^T Phi`` has at most ``K`` (number of atoms of the
second-layer law, <= 16) eigenvalues of order ``p``
(docs/model.md#spectrum-of-the-feature-covariance), far above an
``O(1)`` bulk. The rule is gap based and robust to a long thin right tail (relu):

1. a *robust bulk edge* ``e`` is the eigenvalue that has ``max(max_outliers, 2% of p)``
   eigenvalues above it (so up to ``max_outliers`` outliers cannot move it);
2. an eigenvalue is an outlier when it exceeds ``factor * e`` (default ``factor = 3``);
   the bulk's own tail ends within a factor ~1.5 of ``e`` in every validated case
   (docs/model.md#spectrum-of-the-feature-covariance), while order-``p`` outliers sit a factor
   ``~p/100`` or more above it.

At small ``p`` (below ~100) an order-``p`` outlier may not clear the factor and is then
left in the bulk; that is the honest answer at that size.
"""

from __future__ import annotations

import math

import numpy as np

#: Upper bound on the number of order-p outliers (K_MAX atoms of the second-layer law).
MAX_OUTLIERS = 16


def robust_bulk_edge(eigenvalues: np.ndarray, max_outliers: int = MAX_OUTLIERS) -> float:
    """The eigenvalue with ``max(max_outliers, ceil(0.02 p))`` eigenvalues above it.

    Parameters
    ----------
    eigenvalues : ndarray (p,)
        Any order.
    max_outliers : int
        How many outliers the estimate must be insensitive to.
    """
    ev = np.sort(np.asarray(eigenvalues, dtype=float))
    p = ev.size
    if p == 0:
        return 0.0
    above = max(max_outliers, math.ceil(0.02 * p))
    return float(ev[max(p - 1 - above, 0)])


def split_outliers(
    eigenvalues: np.ndarray,
    *,
    factor: float = 3.0,
    max_outliers: int = MAX_OUTLIERS,
) -> tuple[np.ndarray, np.ndarray]:
    """Separate the order-``p`` outliers from the bulk (rule in the module docstring).

    Parameters
    ----------
    eigenvalues : ndarray (p,)
        Eigenvalues of ``(1/n) Phi^T Phi`` (any order).
    factor : float
        An eigenvalue above ``factor * robust_bulk_edge`` is an outlier.
    max_outliers : int
        At most this many eigenvalues are called outliers (the largest ones).

    Returns
    -------
    bulk : ndarray (p - J,)
        Ascending.
    outliers : ndarray (J,)
        Largest first.
    """
    ev = np.sort(np.asarray(eigenvalues, dtype=float))
    if ev.size == 0:
        return ev, ev.copy()
    edge = robust_bulk_edge(ev, max_outliers)
    # A positive floor keeps an all-zero (degenerate) spectrum from calling
    # everything an outlier.
    threshold = factor * max(edge, 1e-12 * max(abs(ev[-1]), 1.0))
    n_out = int(np.count_nonzero(ev > threshold))
    n_out = min(n_out, max_outliers)
    if n_out == 0:
        return ev, np.zeros(0)
    return ev[:-n_out].copy(), ev[-n_out:][::-1].copy()


def histogram(
    eigenvalues: np.ndarray,
    bins: int | np.ndarray = 80,
    range: tuple[float, float] | None = None,  # noqa: A002 - numpy's name
) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of eigenvalues as a density.

    Parameters
    ----------
    eigenvalues : ndarray (N,)
    bins : int or ndarray
        Number of bins, or the bin edges.
    range : (float, float) or None
        Lower and upper edge; default the sample's min and max.

    Returns
    -------
    edges : ndarray (B + 1,)
    density : ndarray (B,)
        ``count / (N * width)`` with ``N`` the number of *all* eigenvalues given, so the
        histogram integrates to the fraction inside ``range`` and overlays a theory
        density of the same normalisation (outliers and atoms outside do not inflate it).
    """
    ev = np.asarray(eigenvalues, dtype=float).ravel()
    if ev.size == 0:
        edges = np.linspace(0.0, 1.0, (bins if isinstance(bins, int) else len(bins) - 1) + 1)
        return edges, np.zeros(edges.size - 1)
    if range is None and isinstance(bins, int):
        lo, hi = float(ev.min()), float(ev.max())
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        range = (lo, hi)
    counts, edges = np.histogram(ev, bins=bins, range=range)
    widths = np.diff(edges)
    density = counts / (ev.size * widths)
    return edges, density


def ks_distance(sample: np.ndarray, cdf_grid: np.ndarray, cdf_values: np.ndarray) -> float:
    """Kolmogorov distance between an empirical CDF and a CDF given on a grid.

    Parameters
    ----------
    sample : ndarray (N,)
        E.g. the bulk eigenvalues (outliers removed).
    cdf_grid : ndarray (G,)
        Increasing abscissae.
    cdf_values : ndarray (G,)
        The theoretical CDF at ``cdf_grid``; linearly interpolated in between, taken as
        0 left of the grid and 1 right of it.

    Returns
    -------
    float
        ``sup_x |F_N(x) - F(x)|``, evaluated on both sides of every sample point
        (exact for a continuous ``F``).
    """
    x = np.sort(np.asarray(sample, dtype=float).ravel())
    n = x.size
    if n == 0:
        raise ValueError("ks_distance needs a non-empty sample")
    grid = np.asarray(cdf_grid, dtype=float)
    vals = np.asarray(cdf_values, dtype=float)
    f = np.interp(x, grid, vals, left=0.0, right=1.0)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - f), np.max(f - (i - 1) / n)))


def empirical_cdf_distance(sample_a: np.ndarray, sample_b: np.ndarray) -> float:
    """Two-sample Kolmogorov distance ``sup_x |F_a(x) - F_b(x)|``."""
    a = np.sort(np.asarray(sample_a, dtype=float).ravel())
    b = np.sort(np.asarray(sample_b, dtype=float).ravel())
    if a.size == 0 or b.size == 0:
        raise ValueError("empirical_cdf_distance needs non-empty samples")
    x = np.concatenate([a, b])
    fa = np.searchsorted(a, x, side="right") / a.size
    fb = np.searchsorted(b, x, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))


def ccdf_from_density(grid: np.ndarray, density: np.ndarray) -> np.ndarray:
    """Mass of the density above each grid point (trapezoid rule), normalised to 1.

    Used for the theory's complementary CDF on the tail plot (an integral: engine work).
    """
    grid = np.asarray(grid, dtype=float)
    density = np.clip(np.asarray(density, dtype=float), 0.0, None)
    if grid.size < 2:
        return np.zeros_like(grid)
    steps = 0.5 * (density[1:] + density[:-1]) * np.diff(grid)
    cum = np.concatenate(([0.0], np.cumsum(steps)))
    total = cum[-1]
    if total <= 0:
        return np.zeros_like(grid)
    return np.clip(1.0 - cum / total, 0.0, 1.0)
