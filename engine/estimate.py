"""How long a simulation will take: before it starts, and while it runs.

The cost of a run is the sum over its simulation tasks (points x models x seeds) of the
flop count :func:`engine.runner.sim_cost` (giga-flops); dividing by this machine's rate
gives seconds. The rate is learned from finished runs (a front end keeps it between
sessions) and starts from :data:`DEFAULT_GFLOPS`, measured on two shared cores. While a
run goes, the remaining time follows from its progress fraction, which the runner weighs
by the same costs.
"""

from __future__ import annotations

import math

from engine.config import Config
from engine.runner import sim_cost

#: Giga-flops per second before anything was measured on this machine: a spectrum run
#: at d = 1000 went at ~50 on two idle cores and 4-11 on the same cores shared with
#: other work; the rate learned from the first run replaces it.
DEFAULT_GFLOPS = 30.0

#: Weight of a new measurement in the learned rate (exponential average).
LEARNING_WEIGHT = 0.5


def simulation_gflop(config: Config) -> float:
    """Giga-flops of every simulation task of ``config`` (0 without simulations)."""
    tasks = len(config.run.simulate) * len(config.run.seeds)
    return tasks * sum(sim_cost(pt.model) for pt in config.points())


def simulation_seconds(config: Config, gflops: float = DEFAULT_GFLOPS) -> float:
    """Estimated wall time of ``config``'s simulations at ``gflops`` per second."""
    return simulation_gflop(config) / max(gflops, 1e-9)


def learned_rate(previous: float, config: Config, elapsed: float) -> float:
    """The rate after a run of ``config`` took ``elapsed`` seconds (giga-flops/s)."""
    cost = simulation_gflop(config)
    if cost <= 0 or elapsed <= 0 or not math.isfinite(elapsed):
        return previous
    return (1 - LEARNING_WEIGHT) * previous + LEARNING_WEIGHT * cost / elapsed


def remaining_seconds(fraction: float, elapsed: float) -> float | None:
    """Seconds left when ``fraction`` of the run took ``elapsed`` seconds (None early on:
    the first percent is dominated by start-up)."""
    if fraction < 0.02 or elapsed < 1.0:
        return None
    return elapsed * (1.0 - fraction) / fraction


def describe_seconds(seconds: float) -> str:
    """``"about 40 s"``, ``"about 9 min"``, ``"about 2.5 h"``."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} min"
    return f"about {seconds / 3600:.1f} h"
