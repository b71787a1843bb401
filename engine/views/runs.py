"""Results across runs: which simulation belongs to which parameters, and one result
put together from parts.

Only results of the parameters on screen may be drawn: :func:`simulation_matches` tells
whether a simulation was computed for the points of a configuration.
:func:`partial_result` holds the points done so far (streamed simulations, the rows of
a grid), :func:`merged_result` the theory of one run with the simulations of another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from engine.config import Config
from engine.results import CurveResult, PointResult, RunResult


def simulation_key(config: Config) -> tuple[Any, ...]:
    """What a simulation depends on: the points' models (with their curve labels and
    values) and the test-set size. Seeds, models simulated and theory numerics are not
    parameters of the points."""
    return (tuple((p.curve, p.label, p.value, p.model) for p in config.points()),
            config.run.n_test)


def simulation_matches(sim_config: Config, config: Config) -> bool:
    """True when a simulation of ``sim_config`` belongs to the parameters of ``config``."""
    return simulation_key(sim_config) == simulation_key(config)


def partial_result(config: Config, points: Mapping[tuple[int, int], PointResult],
                   template: RunResult | None = None) -> RunResult:
    """A :class:`RunResult` of the points completed so far (streamed simulations)."""
    labels = config.curve_models()
    curves = tuple(CurveResult(label, dict(c.overrides) if c is not None else {},
                               tuple(points[(ci, pi)] for pi in range(len(config.sweep_values()))
                                     if (ci, pi) in points))
                   for ci, ((label, _), c) in enumerate(
                       zip(labels, config.run.curves or (None,), strict=True)))
    sweep = config.run.sweep
    return RunResult(config=config, curves=curves,
                     sweep_param=sweep.param if sweep is not None else None,
                     sweep_values=tuple(sweep.values) if sweep is not None else (),
                     success=True, message="partial", elapsed=0.0,
                     started=template.started if template is not None else "",
                     versions=template.versions if template is not None else {})


_THEORY_FIELDS = ("srf_params", "theory_spectrum", "theory_spectrum_before", "theory_ridge",
                  "theory_ridge_rf", "theory_weights", "expressivity", "theory_error")


def merged_result(theory_run: RunResult | None, sims: RunResult | None) -> RunResult | None:
    """One result with the theory of ``theory_run`` and the simulations of ``sims``
    (for saving and exporting), point by point; either may be None."""
    if sims is None or theory_run is None:
        return sims if sims is not None else theory_run
    curves = []
    for c_sim, c_th in zip(sims.curves, theory_run.curves, strict=False):
        by_value = {i: p for i, p in enumerate(c_th.points)}
        points = []
        for i, p in enumerate(c_sim.points):
            th = by_value.get(i)
            if th is not None and (th.value == p.value or th.value is p.value):
                p = replace(p, **{f: getattr(th, f) for f in _THEORY_FIELDS
                                  if getattr(p, f) is None})
            points.append(p)
        curves.append(replace(c_sim, points=tuple(points)))
    return replace(sims, curves=tuple(curves), success=theory_run.success and sims.success,
                   message=theory_run.message if not theory_run.success else sims.message)
