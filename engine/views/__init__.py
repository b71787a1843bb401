"""What every view of the app draws, computed from a configuration: the engine's centre.

The desktop app, the headless export and the command line call the same functions, so
a figure and the data file written next to it hold the same numbers:

- :func:`compute_theory` solves everything the views need from the theory for a
  :class:`~engine.config.Config`: the run's own points (curves x sweep), a *snapshot*
  of every curve at the parameters on screen (spectra before and after the step,
  weights, ridge errors, expressivity), and the *extras* some views add (spectra at a
  few ``eta_tilde`` for the tail, a learning curve against ``alpha`` when the run does
  not sweep it, the learned function at a few ``eta_tilde``). It reports its stages,
  so a front end can draw the first ones while the others compute; a grid
  (``run.grid``) also reports each row of its cells as it is solved.
- :func:`theory_views` and :func:`simulation_views` turn a :class:`TheoryBundle` and a
  simulated :class:`~engine.results.RunResult` into the data of each view: theory
  lines, histograms, seed means and standard deviations, outlier positions. They are
  pure and fast (milliseconds), and :func:`combine` puts the two halves together.
- Every view has ``tables()``: what it draws as named tables (column names with
  units, rows), which the app exports and :func:`view_files` writes, one file per view.
- :func:`exported_views` and :func:`export_files` are an export's views and data files
  (the command line's ``--out`` and the app's headless export).

Only results of the parameters on screen may be drawn: :func:`simulation_matches`
tells whether a simulation was computed for the points of a configuration.

The modules, each importing only those listed before it:

- :mod:`~engine.views.runs`: results across runs (which simulation matches, partial
  and merged results);
- :mod:`~engine.views.theory`: the theory the views need (:class:`TheoryBundle`);
- :mod:`~engine.views.base`: the view base class, lines, histograms, tables;
- :mod:`~engine.views.phase`: the phase diagram, its data and how it is built;
- :mod:`~engine.views.data`: the data of the other tabs' views, and :class:`Views`;
- :mod:`~engine.views.build`: the theory and simulation halves of the views, combined;
- :mod:`~engine.views.files`: the views as data files, and an export's files;
- :mod:`~engine.views.tasks`: the live tasks a worker thread runs.

Other modules import the names below from this package.
"""

from __future__ import annotations

from engine.views.base import (
    Frame,
    Histogram,
    Line,
    Table,
    View,
)
from engine.views.build import (
    HIST_BINS,
    combine,
    selected_points,
    simulation_views,
    theory_views,
)
from engine.views.data import (
    LEARNED_KAPPA_SPAN,
    LOG_DECADES,
    TAIL_FLOOR,
    TAIL_FRAME,
    TAIL_MARKERS,
    ErrorCurve,
    ErrorPoints,
    ExpressivityCurve,
    ExpressivityView,
    LearnedFunctionView,
    LearnedLine,
    LearnedSim,
    LearningCurveView,
    SpectrumSim,
    SpectrumTheory,
    SpectrumView,
    TailSim,
    TailTheory,
    TailView,
    Views,
    WeightsSim,
    WeightsTheory,
    WeightsView,
)
from engine.views.files import export_files, exported_views, view_files
from engine.views.phase import (
    AXIS_STEP_RTOL,
    PHASE_QUANTITIES,
    PHASE_SIGNED,
    PHASE_SIM_QUANTITIES,
    PHASE_SOURCES,
    PhaseAxis,
    PhaseLayer,
    PhaseSim,
    PhaseTheory,
    PhaseView,
)
from engine.views.runs import (
    merged_result,
    partial_result,
    simulation_key,
    simulation_matches,
)
from engine.views.tasks import (
    SimulationUpdate,
    TheoryUpdate,
    live_theory,
    reusable_run,
    simulate,
)
from engine.views.theory import (
    LEARNING_POINTS,
    TAIL_GRID,
    LearnedSeries,
    LearningSeries,
    StageFn,
    TailSeries,
    TheoryBundle,
    compute_theory,
)

__all__ = [
    # runs
    "merged_result", "partial_result", "simulation_key", "simulation_matches",
    # theory
    "LEARNING_POINTS", "TAIL_GRID", "LearnedSeries", "LearningSeries", "StageFn", "TailSeries",
    "TheoryBundle", "compute_theory",
    # base
    "Frame", "Histogram", "Line", "Table", "View",
    # phase
    "AXIS_STEP_RTOL", "PHASE_QUANTITIES", "PHASE_SIGNED", "PHASE_SIM_QUANTITIES", "PHASE_SOURCES",
    "PhaseAxis", "PhaseLayer", "PhaseSim", "PhaseTheory", "PhaseView",
    # data
    "LEARNED_KAPPA_SPAN", "LOG_DECADES", "TAIL_FLOOR", "TAIL_FRAME", "TAIL_MARKERS", "ErrorCurve",
    "ErrorPoints", "ExpressivityCurve", "ExpressivityView", "LearnedFunctionView", "LearnedLine",
    "LearnedSim", "LearningCurveView", "SpectrumSim", "SpectrumTheory", "SpectrumView", "TailSim",
    "TailTheory", "TailView", "Views", "WeightsSim", "WeightsTheory", "WeightsView",
    # build
    "HIST_BINS", "combine", "selected_points", "simulation_views", "theory_views",
    # files
    "export_files", "exported_views", "view_files",
    # tasks
    "SimulationUpdate", "TheoryUpdate", "live_theory", "reusable_run", "simulate",
]
