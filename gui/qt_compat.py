"""Work-arounds for the Qt stack, applied on ``import gui``.

PySide6 6.12.0 on CPython 3.11 drops references to ``True``/``None`` on every
``Signal.emit`` and the process aborts ("bool_dealloc") after a few hundred redraws;
``pyproject.toml`` excludes that version (``PySide6-Essentials<6.12``) rather than
patching reference counts here.
"""

from __future__ import annotations


def patch_pyqtgraph_teardown() -> None:
    """Let a legend survive its ViewBox being deleted first (teardown only).

    pyqtgraph anchors a legend to its ViewBox's ``geometryChanged``; when a plot widget
    is deleted the ViewBox can go first and the anchor's handler then raises
    "Internal C++ object (ViewBox) already deleted" from inside Qt's event processing.
    Must run before any legend is created (the handler is bound at anchor time).
    """
    from pyqtgraph.graphicsItems.GraphicsWidgetAnchor import GraphicsWidgetAnchor

    name = "_GraphicsWidgetAnchor__geometryChanged"
    original = getattr(GraphicsWidgetAnchor, name, None)
    if original is None or getattr(original, "_fsl_safe", False):
        return

    def geometry_changed(self: GraphicsWidgetAnchor) -> None:
        try:
            original(self)
        except RuntimeError:
            pass  # the parent's C++ object is gone: nothing left to anchor to

    geometry_changed._fsl_safe = True  # type: ignore[attr-defined]
    setattr(GraphicsWidgetAnchor, name, geometry_changed)
