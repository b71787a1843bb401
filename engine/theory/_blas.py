"""Stacked matrix products that OpenBLAS runs on one thread.

The solvers multiply many small matrices, one product per spectral parameter. OpenBLAS
hands a GEMM of more than ``65536`` multiply-adds to its thread pool, and on a loaded
2-core machine such a call waited for its threads 10-100x longer than the product took
(measured: a 34 x 80 x 34 complex product, ~15 us alone, took 2 ms). :func:`matmul` splits
a product into pieces below that size, so that the solver's speed does not depend on
what else the machine runs; the pieces are still BLAS calls, one per matrix of the stack.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SERIAL_GEMV", "SERIAL_MADDS", "matmul"]

#: Largest ``m * k * n`` that OpenBLAS's GEMM computes on the calling thread.
SERIAL_MADDS = 65536
#: The same for a matrix-vector product (GEMV), which numpy uses when m or n is 1.
SERIAL_GEMV = 9216


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for stacked (or 2-d) operands, in products small enough for one thread.

    Rows of ``a`` are halved while there are at least four (the pieces stay
    matrix-matrix products), then columns of ``b``.
    """
    m, k = a.shape[-2:]
    n = b.shape[-1]
    vector = m == 1 or n == 1
    if m * k * n <= (SERIAL_GEMV if vector else SERIAL_MADDS):
        return a @ b
    if m >= 4:
        h = m // 2
        return np.concatenate([matmul(a[..., :h, :], b), matmul(a[..., h:, :], b)], axis=-2)
    if n >= 2:
        h = n // 2
        return np.concatenate([matmul(a, b[..., :h]), matmul(a, b[..., h:])], axis=-1)
    return a @ b
