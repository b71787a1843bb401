"""engine.memory: the estimate and the guard."""

from __future__ import annotations

import pytest

from engine.config import Config, ModelConfig
from engine.errors import MemoryGuardError
from engine.memory import (
    BASE_BYTES,
    check_memory,
    estimate_peak_bytes,
    model_peak_bytes,
    quad_bytes,
    total_memory_bytes,
)
from engine.network import simulate_network
from engine.sampling import chunk_rows


def _cfg(d=1000, beta=1.0, alpha=2.0, kind="spectrum", sweep=None, simulate=("network",),
         fraction=0.5, alpha0=None):
    run = {"kind": kind, "simulate": list(simulate), "memory_fraction": fraction}
    if sweep:
        run["sweep"] = sweep
    return Config.from_dict({"model": {"d": d, "beta": beta, "alpha": alpha, "alpha0": alpha0},
                             "run": run})


def test_estimate_covers_the_large_arrays():
    cfg = _cfg(d=2000)
    p, d = 2000, 2000
    need = estimate_peak_bytes(cfg)
    # At least W0, W1, the Gram, the ridge matrix, its factor and numpy's working copy.
    assert need >= BASE_BYTES + 8 * (2 * p * d + 4 * p * p)
    # ... plus the per-chunk Gram product and at most one chunk of samples and its products.
    assert need <= BASE_BYTES + 8 * (2 * p * d + 5 * p * p + chunk_rows(d, p) * (d + 4 * p))


def test_quadrature_tables_follow_the_rules_of_the_gradient():
    # 160 Gauss–Hermite nodes for a smooth registry function, 1201 trapezoid nodes for a
    # kinked one, 8 bytes each, ~4 tables of N_z1 x N_g.
    m = ModelConfig(d=100)
    assert quad_bytes(m.with_(sigma="tanh", sigma_star="erf")) == 4 * 160 * 160 * 8
    assert quad_bytes(m.with_(sigma="relu", sigma_star="tanh")) == 4 * 1201 * 160 * 8
    assert quad_bytes(m.with_(sigma="tanh", sigma_star="relu")) == 4 * 160 * 1201 * 8


def test_estimate_grows_with_d_beta_and_takes_the_largest_sweep_point():
    small = estimate_peak_bytes(_cfg(d=500))
    big = estimate_peak_bytes(_cfg(d=1000))
    assert big > 3 * (small - BASE_BYTES)
    assert estimate_peak_bytes(_cfg(beta=2.0)) > estimate_peak_bytes(_cfg(beta=1.0))
    swept = _cfg(d=500, sweep={"param": "d", "values": [200, 1000, 300]})
    assert estimate_peak_bytes(swept) == estimate_peak_bytes(_cfg(d=1000))
    # A finite batch needs the d x p gradient accumulator.
    m = _cfg().model
    assert model_peak_bytes(m.with_(alpha0=4.0)) > model_peak_bytes(m)


def test_theory_only_needs_the_base():
    cfg = Config.from_dict({"model": {"d": 20000}, "run": {"simulate": [], "theory": True}})
    assert estimate_peak_bytes(cfg) == BASE_BYTES


def test_guard_refuses_with_a_useful_message():
    cfg = _cfg(d=4000, fraction=0.5)
    with pytest.raises(MemoryGuardError) as info:
        check_memory(cfg, total_bytes=2**30)
    msg = str(info.value)
    assert "needs about" in msg and "GiB" in msg
    assert "allows 0.50 GiB" in msg and "1.00 GiB" in msg
    for what in ("d", "beta", "alpha", "n_test", "memory_fraction"):
        assert what in msg
    assert info.value.needed_bytes > info.value.allowed_bytes == 2**29


def test_guard_accepts_what_fits():
    cfg = _cfg(d=500)
    assert check_memory(cfg, total_bytes=64 * 2**30) == estimate_peak_bytes(cfg)
    assert total_memory_bytes() > 2**28


@pytest.mark.parametrize(("kind", "alpha0"), [("spectrum", None), ("weights", 4.0)])
def test_estimate_bounds_the_measured_peak(kind, alpha0):
    # numpy reports its array allocations to tracemalloc: the estimate (without the base
    # allowance) must cover the simulation's measured peak, and not by a silly margin.
    import tracemalloc

    cfg = _cfg(d=300, kind=kind, alpha0=alpha0)
    tracemalloc.start()
    try:
        simulate_network(cfg.model, 0, spectrum=kind == "spectrum", before=True,
                         weights=kind == "weights")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    est = model_peak_bytes(cfg.model, kind)
    assert peak <= est < 4 * peak, (peak, est)


def test_workers_hold_the_largest_simulations_at_once():
    from engine.memory import WORKER_BASE_BYTES

    swept = _cfg(d=500, sweep={"param": "d", "values": [200, 1000, 300]})
    small, big = (model_peak_bytes(swept.model.with_(d=d)) for d in (300, 1000))
    # one model and one seed per point: two at once are the d = 1000 and d = 300 points
    assert estimate_peak_bytes(swept, concurrent=2) == BASE_BYTES + big + small
    assert estimate_peak_bytes(swept, concurrent=2, processes=True) == (
        BASE_BYTES + big + small + 2 * WORKER_BASE_BYTES)
    # never more at once than the run has simulations
    assert estimate_peak_bytes(swept, concurrent=64) == estimate_peak_bytes(swept,
                                                                            concurrent=3)


def test_dask_workers_are_checked_against_their_own_limit():
    from engine.memory import WORKER_BASE_BYTES, check_worker_memory

    cfg = _cfg(d=2000, simulate=("network", "srf"))  # two simulations of one size
    peak = model_peak_bytes(cfg.model)
    need = WORKER_BASE_BYTES + 2 * peak
    assert check_worker_memory(cfg, [(2, 4 * need), (1, 0)]) == need
    with pytest.raises(MemoryGuardError) as info:
        check_worker_memory(cfg, [(1, 64 * 2**30), (2, int(1.5 * need))])
    assert "Dask worker with 2 thread(s)" in str(info.value)
    assert info.value.needed_bytes == need
