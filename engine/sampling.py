"""Random draws of a simulation: seed streams, the initialisation, the data in chunks.

Seeds: one integer seed drives independent named streams (``SeedSequence(seed).spawn``,
:data:`STREAMS`): theta, W0, a, the step's batch, the readout's samples, the test samples,
the sRF's extra randomness and the Monte Carlo part of the full-residual step. The sRF
simulation (engine/srf.py) draws theta, W0, a and the readout and test samples from the
same streams as the network, so the two models share them exactly.

Memory: nothing of size ``n x p`` or ``n0 x p`` is ever held. Samples are generated in
chunks of :func:`chunk_rows` rows, in parallel, by independently seeded blocks of
:data:`BLOCK_ROWS` rows (:class:`BlockNormals`), so that they depend neither on the chunk
size nor on the number of threads. The cancel token is checked between chunks.

Conventions (docs/model.md#conventions): ``x ~ N(0, I_d)``, ``|theta| = 1``,
``y = sigma_*(<theta, x>) + sqrt(Delta) xi``; rows of ``W0`` uniform on the unit sphere
(or ``N(0, I_d/d)``); ``a_i`` i.i.d. from ``model.a_law``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from engine.activations import Activation
from engine.config import ModelConfig
from engine.progress import CancelLike, check_cancel

#: Names of the independent random streams spawned from one seed.
STREAMS = ("theta", "w0", "a", "step", "train", "test", "srf", "mc")

#: Target size of one chunk buffer in float64 numbers (~64 MB).
CHUNK_NUMBERS = 8_000_000

#: At most this many multiply-adds (m d p) per chunk product, so the cancel token is
#: polled every ~0.2 s even at d = p = 4000. Larger chunks make syrk more efficient
#: (measured at d = 2000: 960 -> 1984 rows per chunk saves ~12 % of a simulation).
CHUNK_WORK = 8_000_000_000

#: Rows of one independently seeded block of Gaussian samples (see BlockNormals).
BLOCK_ROWS = 64


# --------------------------------------------------------------------------- seeds and sizes


def chunk_rows(d: int, p: int) -> int:
    """Rows per sample chunk: buffers ``m x d`` and ``m x p`` stay ~64 MB each, and one
    chunk's product ``X_c F^T`` stays below :data:`CHUNK_WORK` multiply-adds."""
    m = max(BLOCK_ROWS, min(CHUNK_NUMBERS // max(d, p, 1), CHUNK_WORK // max(d * p, 1)))
    return int(m - m % BLOCK_ROWS)


def streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators for :data:`STREAMS`, all derived from ``seed``."""
    children = np.random.SeedSequence(int(seed)).spawn(len(STREAMS))
    return {name: np.random.default_rng(ss) for name, ss in zip(STREAMS, children, strict=True)}


# --------------------------------------------------------------------------- samples

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


# --------------------------------------------------------------------------- initialisation


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
