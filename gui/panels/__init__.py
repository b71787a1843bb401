"""Parameter panels mirroring the engine's config dataclasses."""

from gui.panels.common import ParamPanel
from gui.panels.model_panel import ModelPanel
from gui.panels.numerics_panel import NumericsPanel
from gui.panels.run_panel import RunPanel

__all__ = ["ModelPanel", "NumericsPanel", "ParamPanel", "RunPanel"]
