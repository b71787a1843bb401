"""The live tasks a front end runs in a worker thread: the theory and the simulations of
a configuration, with the views of every stage built as it arrives.

The views (numerics included) are computed in the worker, so a front end only draws
them; :func:`reusable_run` lets the live theory keep a grid whose cells did not change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from engine.cache import ResultCache
from engine.config import Config
from engine.execution import Execution
from engine.progress import CancelLike, ProgressFn
from engine.results import PointResult, RunResult
from engine.views.build import simulation_views, theory_views
from engine.views.data import Views
from engine.views.runs import partial_result, simulation_matches
from engine.views.theory import TheoryBundle, compute_theory


@dataclass(frozen=True)
class TheoryUpdate:
    """A stage of the live theory: the bundle so far and its views (theory halves)."""

    bundle: TheoryBundle
    views: Views


@dataclass(frozen=True)
class SimulationUpdate:
    """Simulations so far (``done`` once the run is complete) and their views."""

    result: RunResult
    views: Views
    done: bool


def reusable_run(previous: TheoryBundle | None, config: Config) -> RunResult | None:
    """The grid theory of ``previous`` when it is also ``config``'s, else None.

    A grid's cells set both of its parameters, so moving the panel's values of them (a
    click on the phase diagram loads a cell) leaves every cell as it was: the grid,
    seconds of solving, need not be solved again; only the snapshot at the new panel
    values is. The previous run must be complete (its snapshot stage reached), of the
    same kind and numerics, on the same points.
    """
    if previous is None or previous.run is None or config.run.grid is None \
            or previous.stage not in ("snapshot", "extras"):
        return None
    old = previous.config
    if old.run.kind != config.run.kind or old.numerics != config.numerics \
            or not simulation_matches(old, config):
        return None
    return replace(previous.run, config=config)


def live_theory(config: Config, *, progress: ProgressFn | None = None,
                cancel: CancelLike | None = None,
                on_stage: Callable[[str, TheoryUpdate], None] | None = None,
                extras: bool = True, previous: TheoryBundle | None = None) -> TheoryUpdate:
    """:func:`compute_theory` with the views of every stage built as it arrives.

    Meant for a worker thread: the views (numerics included) are computed there, so a
    front end only has to draw them. ``previous`` is the last theory drawn: its grid is
    reused when it is this configuration's (:func:`reusable_run`).
    """
    def stage(name: str, bundle: TheoryBundle) -> None:
        if on_stage is not None:
            on_stage(name, TheoryUpdate(bundle, theory_views(bundle)))

    bundle = compute_theory(config, progress=progress, cancel=cancel, on_stage=stage,
                            extras=extras, run=reusable_run(previous, config))
    return TheoryUpdate(bundle, theory_views(bundle))


def simulate(config: Config, *, progress: ProgressFn | None = None,
             cancel: CancelLike | None = None,
             on_update: Callable[[SimulationUpdate], None] | None = None,
             execution: Execution | None = None,
             cache: ResultCache | None = None) -> SimulationUpdate:
    """Run ``config``'s simulations, reporting the views of the points done so far.

    ``execution`` says where the simulations run (None: in the calling thread). A front
    end that must be able to stop them at once passes worker processes
    (``Execution.local(n, isolate=True)``): a cancel then terminates a worker stuck in a
    LAPACK call, and its memory returns. ``cache`` reuses and stores the tasks' results.

    Returns the final :class:`SimulationUpdate`. Raises what :func:`engine.runner.run`
    raises (``MemoryGuardError`` before anything runs, ``Cancelled``, ``ExecutionError``).
    """
    from engine.runner import run

    done: dict[tuple[int, int], PointResult] = {}

    def on_point(curve: int, index: int, point: PointResult) -> None:
        done[(curve, index)] = point
        if on_update is not None:
            part = partial_result(config, done)
            on_update(SimulationUpdate(part, simulation_views(part, config), False))

    result = run(config, progress=progress, cancel=cancel, on_point=on_point,
                 execution=execution, cache=cache)
    return SimulationUpdate(result, simulation_views(result, config), True)
