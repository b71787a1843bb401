"""A memory guard: estimate a run's peak memory before allocating anything.

The simulations never hold an ``n x p`` (or ``n0 x p``) matrix: samples are drawn in
chunks (engine/sampling.py). What is alive at the peak of one simulation, in float64:

- ``W0`` and ``W1`` (or ``F``): ``2 p d``;
- the gradient step: its ``d x p`` accumulator plus one ``d x p`` product per chunk
  (finite batch only), and the chunk buffers ``m x d`` + 4 ``m x p``; in the large-batch
  limit the quadrature tables of the population gradient (:func:`quad_bytes`);
- the readout: ``Phi^T Phi`` (``p x p``), the ridge matrix and its Cholesky factor
  (with numpy's internal copy, ``3 p x p``), or the eigensolver's copy of the Gram and its
  workspace, plus the chunk buffers;
- the weights analysis (``kind = "weights"``): ``W1 W1^T``, its eigenvectors, the solver's
  copy and the ``(W1-W0)(W1-W0)^T`` Gram (``4 p x p``), ``W1 - W0`` and a product (``2 p d``).

A run's peak is a fixed allowance for the interpreter, numpy, scipy and the theory
solver, plus the simulations that run at once (docs/cli.md#where-a-run-executes): one in
this process, or N on N workers, each then in a process of its own
(:data:`WORKER_BASE_BYTES` more). The N largest simulations of the run are assumed to run
together. On a remote Dask cluster each worker is checked against its own memory limit
(:func:`check_worker_memory`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from engine.config import Config, ModelConfig
from engine.errors import MemoryGuardError
from engine.gradient import QUAD_NODES, ROW_BLOCK, rule_size
from engine.sampling import chunk_rows

#: Interpreter + libraries + theory solver (a generous constant).
BASE_BYTES = 300 * 2**20
#: A worker process of its own: interpreter, numpy, scipy and the engine (about 60 MiB
#: measured after the imports), with room for the allocator and the sampling threads.
WORKER_BASE_BYTES = 150 * 2**20


def quad_bytes(model: ModelConfig) -> int:
    """The population gradient's quadrature tables: ~4 temporaries of ``N_z1 x N_g``
    numbers, ``N`` the nodes of each function's rule (:func:`engine.gradient.rule_size`)."""
    return 4 * rule_size(model.sigma) * rule_size(model.sigma_star) * 8


_F8 = 8


def model_peak_bytes(model: ModelConfig, kind: str = "spectrum",
                     n_test: int | None = None) -> int:
    """Peak bytes of one simulation of ``model`` (see the module docstring).

    Parameters
    ----------
    model : ModelConfig
    kind : {"spectrum", "weights", "errors"}
    n_test : int or None
        Test samples (only their chunk buffers count: the test set is streamed).
    """
    d, p, n = model.d, model.p, model.n
    m = chunk_rows(d, p)
    # X_c, H_c and sigma'(H_c) with its temporaries (e.g. 1 - tanh^2): m (d + 4p).
    chunk = min(m, max(n, n_test or 0, model.n0 or 0, 1)) * (d + 4 * p)
    weights = 2 * p * d
    if model.large_batch:
        # sigma' on ROW_BLOCK rows at every node (bounded by the densest rule).
        step = quad_bytes(model) // _F8 + ROW_BLOCK * QUAD_NODES * 3 + p * 64
        if model.residual == "full":  # Monte Carlo part: a finite-batch gradient
            step += chunk + 3 * d * p
    else:
        step = chunk + 3 * d * p  # W0, accumulator, product buffer
    readout = chunk + 5 * p * p  # Gram, its per-chunk product, ridge matrix, factor, copy
    wstage = 4 * p * p + 2 * p * d if kind == "weights" else 0
    return _F8 * (weights + max(step, readout, wstage))


def _models(config: Config) -> list[ModelConfig]:
    return [pt.model for pt in config.points()]


def _largest_tasks(config: Config, concurrent: int) -> list[int]:
    """Peaks of the ``concurrent`` largest simulations of the run (one per model and
    seed at every point), largest first."""
    per_point = len(config.run.simulate) * len(config.run.seeds)
    peaks = sorted((model_peak_bytes(m, config.run.kind, config.run.n_test)
                    for m in set(_models(config))), reverse=True)
    out: list[int] = []
    for peak in peaks:
        out.extend([peak] * min(per_point, concurrent - len(out)))
        if len(out) >= concurrent:
            break
    return out


def estimate_peak_bytes(config: Config, *, concurrent: int = 1,
                        processes: bool = False) -> int:
    """Peak bytes of running ``config``.

    Parameters
    ----------
    config : Config
    concurrent : int
        Simulations that run at once (N workers hold N simulations); the N largest of
        the run are assumed to run together.
    processes : bool
        Each simulation runs in a worker process of its own (adds
        :data:`WORKER_BASE_BYTES` per simulation).

    Returns
    -------
    int
        :data:`BASE_BYTES` plus the simulations; 0 simulations (theory only) gives
        :data:`BASE_BYTES`.
    """
    if not config.run.simulate:
        return BASE_BYTES
    tasks = _largest_tasks(config, max(1, int(concurrent)))
    return BASE_BYTES + sum(tasks) + (WORKER_BASE_BYTES * len(tasks) if processes else 0)


def largest_point(config: Config) -> ModelConfig:
    """The point of ``config`` with the largest simulation footprint."""
    return max(_models(config), key=lambda m: model_peak_bytes(m, config.run.kind,
                                                               config.run.n_test))


def total_memory_bytes() -> int:
    """This machine's physical memory (``SC_PHYS_PAGES * SC_PAGE_SIZE``)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def _gib(x: float) -> str:
    return f"{x / 2**30:.2f} GiB"


def check_memory(config: Config, total_bytes: int | None = None, *, concurrent: int = 1,
                 processes: bool = False) -> int:
    """Refuse a run that needs more than ``run.memory_fraction`` of this machine's memory.

    Parameters
    ----------
    config : Config
    total_bytes : int or None
        Total memory to assume (tests inject a small one); default the machine's.
    concurrent, processes
        Simulations at once and whether each has a process of its own
        (:func:`estimate_peak_bytes`).

    Returns
    -------
    int
        The estimated peak in bytes (when it fits).

    Raises
    ------
    MemoryGuardError
        Saying how much is needed, how much is allowed, and what to lower.
    """
    need = estimate_peak_bytes(config, concurrent=concurrent, processes=processes)
    total = total_memory_bytes() if total_bytes is None else int(total_bytes)
    allowed = int(config.run.memory_fraction * total)
    if need <= allowed:
        return need
    m = largest_point(config)
    at_once = len(_largest_tasks(config, max(1, int(concurrent))))
    at_once_text = f" with {at_once} simulations at once" if at_once > 1 else ""
    fewer = ", run fewer simulations at once (fewer workers)" if at_once > 1 else ""
    raise MemoryGuardError(
        f"this simulation needs about {_gib(need)} of memory{at_once_text} (largest point: "
        f"d = {m.d}, p = {m.p}, n = {m.n}), but run.memory_fraction = "
        f"{config.run.memory_fraction:g} of this machine's {_gib(total)} allows "
        f"{_gib(allowed)}. Lower d (memory grows like d^2), beta (p = beta*d), alpha "
        f"(n = alpha*d) or run.n_test{fewer}, or raise run.memory_fraction.",
        needed_bytes=need,
        allowed_bytes=allowed,
    )


def check_worker_memory(config: Config, workers: Sequence[tuple[int, int]]) -> int:
    """Refuse a run whose simulations would not fit the workers of a Dask cluster.

    Parameters
    ----------
    config : Config
    workers : sequence of (int, int)
        ``(threads, memory limit in bytes)`` of each worker; a worker runs up to
        ``threads`` simulations at once and may use ``run.memory_fraction`` of its limit
        (0: no limit known, not checked).

    Returns
    -------
    int
        The largest need of one worker, in bytes (when every worker fits).

    Raises
    ------
    MemoryGuardError
        Naming the worker's limit, what it would need and what to lower.
    """
    worst = 0
    for threads, limit in workers:
        need = WORKER_BASE_BYTES + sum(_largest_tasks(config, max(1, threads))) \
            if config.run.simulate else 0
        worst = max(worst, need)
        allowed = int(config.run.memory_fraction * limit)
        if limit > 0 and need > allowed:
            m = largest_point(config)
            raise MemoryGuardError(
                f"a Dask worker with {threads} thread(s) would need about {_gib(need)} "
                f"(largest point: d = {m.d}, p = {m.p}, n = {m.n}), but "
                f"run.memory_fraction = {config.run.memory_fraction:g} of its "
                f"{_gib(limit)} memory limit allows {_gib(allowed)}. Lower d, beta, alpha "
                f"or run.n_test, give the workers fewer threads or more memory, or raise "
                f"run.memory_fraction.",
                needed_bytes=need, allowed_bytes=allowed)
    return worst
