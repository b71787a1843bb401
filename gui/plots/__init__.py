"""Plot modules: one :class:`~gui.plots.base.PlotBase` subclass per engine view."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from gui.plots.base import PlotBase
from gui.plots.expressivity import ExpressivityPlot
from gui.plots.learned_function import LearnedFunctionPlot
from gui.plots.learning_curves import LearningCurvesPlot
from gui.plots.phase import PhasePlot
from gui.plots.spectrum import SpectrumPlot
from gui.plots.tail import TailPlot
from gui.plots.weights import WeightsPlot
from gui.style import ON_SCREEN, PlotStyle

#: Tab order of the main window (the order of :attr:`engine.views.Views.NAMES`).
PLOT_CLASSES: tuple[type[PlotBase], ...] = (
    SpectrumPlot,
    TailPlot,
    LearningCurvesPlot,
    WeightsPlot,
    ExpressivityPlot,
    LearnedFunctionPlot,
    PhasePlot,
)


def create_plots(style: PlotStyle = ON_SCREEN, parent: QWidget | None = None) -> list[PlotBase]:
    """One instance of every plot, in tab order (also used by the exporters)."""
    return [cls(style, parent) for cls in PLOT_CLASSES]


__all__ = ["PLOT_CLASSES", "PlotBase", "create_plots"]
