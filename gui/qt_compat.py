"""Work-around for a reference-counting bug of the Qt binding, applied on ``import gui``.

PySide6 6.12.0 on Python 3.11 returns ``True``/``False`` from several calls without
taking a reference (``SignalInstance.emit`` and ``disconnect`` at least, and more inside
pyqtgraph's item bookkeeping: ~200 per redraw of a plot). Each such call decrements the
reference count of ``True``; when it reaches zero the interpreter aborts with
"bool_dealloc: deallocating True or False" — after a few hundred redraws, or at exit.

The same happens to ``None`` (seen at exit: "none_dealloc"). ``True``, ``False`` and
``None`` are static singletons that must never be deallocated, which is why Python
3.12 made them immortal. We do the same on 3.11: give them a reserve of
2**40 references, so no realistic number of stray decrements can reach zero. This is
harmless with a fixed binding (the singletons are never freed anyway), so it is applied
on every Python < 3.12 rather than after a probe: a probe of ``emit`` proved unreliable
(its drift depends on what was imported before).
"""

from __future__ import annotations

import ctypes
import sys

#: References added to True, False and None (about 10**12: centuries of redraws).
RESERVE = 1 << 40

_APPLIED = False


def apply_pyside_fixes() -> bool:
    """Make True, False and None effectively immortal (Python < 3.12).

    Returns True when the reserve has been added (once per process).
    """
    global _APPLIED
    if _APPLIED:
        return True
    if sys.version_info >= (3, 12):
        return False  # immortal already
    for singleton in (True, False, None):
        # ob_refcnt is the first field of every CPython object
        refcnt = ctypes.c_ssize_t.from_address(id(singleton))
        refcnt.value += RESERVE
    _APPLIED = True
    return True


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
