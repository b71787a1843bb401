"""engine.estimate: a simulation's duration before and while it runs."""

from __future__ import annotations

import pytest

from engine import estimate
from engine.config import Config, ModelConfig, RunConfig, Sweep
from engine.runner import sim_cost


def test_cost_counts_every_task():
    one = Config(ModelConfig(d=500), RunConfig(simulate=("network",), seeds=(0,)))
    six = Config(ModelConfig(d=500), RunConfig(simulate=("network", "srf"), seeds=(0, 1, 2)))
    assert estimate.simulation_gflop(one) == pytest.approx(sim_cost(one.model))
    assert estimate.simulation_gflop(six) == pytest.approx(6 * sim_cost(one.model))
    sweep = Config(ModelConfig(d=500), RunConfig(kind="errors", simulate=("network",),
                                                 sweep=Sweep("alpha", (1.0, 2.0))))
    assert estimate.simulation_gflop(sweep) == pytest.approx(
        sim_cost(sweep.model.with_(alpha=1.0)) + sim_cost(sweep.model.with_(alpha=2.0)))
    theory_only = Config(ModelConfig(d=500), RunConfig(simulate=()))
    assert estimate.simulation_gflop(theory_only) == 0.0
    # larger d costs more, roughly like d^3
    big = Config(ModelConfig(d=1000), RunConfig(simulate=("network",), seeds=(0,)))
    assert 6 < estimate.simulation_gflop(big) / estimate.simulation_gflop(one) < 10


def test_rate_learning_and_remaining_time():
    cfg = Config(ModelConfig(d=500), RunConfig(simulate=("network",), seeds=(0,)))
    cost = estimate.simulation_gflop(cfg)
    assert estimate.simulation_seconds(cfg, gflops=cost) == pytest.approx(1.0)
    rate = estimate.learned_rate(10.0, cfg, elapsed=cost / 30.0)  # this run went at 30
    assert rate == pytest.approx(20.0)
    assert estimate.learned_rate(10.0, cfg, elapsed=0.0) == 10.0
    assert estimate.remaining_seconds(0.25, 30.0) == pytest.approx(90.0)
    assert estimate.remaining_seconds(0.01, 30.0) is None
    assert estimate.describe_seconds(40.2) == "about 40 s"
    assert estimate.describe_seconds(9 * 60 + 10) == "about 9 min"
    assert estimate.describe_seconds(2.5 * 3600) == "about 2.5 h"
