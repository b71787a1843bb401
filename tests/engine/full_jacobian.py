"""The Jacobian of the spectral map in the full unknowns ``(g, vec tau)``: a reference.

The solver works in reduced unknowns (engine/theory/_reduced.py); this independent
forward-mode Jacobian of the full map is what the reduced one, and finite differences,
are checked against.
"""

from __future__ import annotations

import numpy as np

from engine.theory._core import ModelData, averages


def phi_and_jacobian(x: np.ndarray, z: np.ndarray, D: ModelData
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``Phi(x)`` (B, N) and its Jacobian ``dPhi/dx`` (B, N, N) in the full unknowns.

    Forward mode: the ``N`` unit tangents are pushed through the map together. The
    solver works in the reduced unknowns instead (cost ``O(Q N K^2)`` per ``z`` here);
    this is the reference the reduced Jacobian is checked against: ``Phi`` and ``Psi``
    are compositions of the same two maps in opposite orders, so their Jacobians share
    their nonzero eigenvalues.
    """
    K = D.K
    N = D.N
    B = x.shape[0]
    g = x[:, :K]
    w, A, b = averages(x, D)
    ww = w * D.omega
    # d delta / d x_j (N, Q) is constant: delta is linear in x.
    ddelta = D.c0 * np.concatenate([D.pi[:, None] * D.ms2, D.M2], axis=0)
    # dA_j = -E[w^2 m1 m1^T d delta_j], db_j = -E[w^2 ms2 d delta_j].
    w2 = -(w * ww)[:, None, :] * ddelta[None, :, :]               # (B, N, Q)
    dA = (w2 @ D.M2.T).reshape(B, N, K, K)
    db = w2 @ D.ms2.T
    X = D.pi * g
    dX = np.zeros((N, K))
    dX[np.arange(K), np.arange(K)] = D.pi                         # dX/dg_k
    M = np.eye(K) + D.beta * X[:, :, None] * A
    Minv = np.linalg.inv(M)
    AM = A @ Minv
    gn = 1.0 / (b - z[:, None] + np.einsum("bkk->bk", AM))
    taun = Minv * X[:, None, :]
    dM = D.beta * (dX[None, :, :, None] * A[:, None] + X[:, None, :, None] * dA)
    # d(M^-1) = -M^-1 dM M^-1
    dMinv = -Minv[:, None] @ dM @ Minv[:, None]
    dAM = dA @ Minv[:, None] + A[:, None] @ dMinv
    dh = np.einsum("bjkk->bjk", dAM)
    dgn = -(gn * gn)[:, None, :] * (db + dh)                      # (B, N, K)
    dtaun = dMinv * X[:, None, None, :] + Minv[:, None] * dX[None, :, None, :]
    J = np.concatenate([dgn, dtaun.reshape(B, N, K * K)], axis=2)  # (B, j, out)
    out = np.concatenate([gn, taun.reshape(B, K * K)], axis=1)
    return out, np.swapaxes(J, 1, 2)
