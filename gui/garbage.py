"""Python's garbage collector runs in the GUI thread only.

Why: the collector runs in whichever thread happens to allocate when a threshold is
crossed. If that is a worker thread and the garbage holds Qt objects (the wrappers of a
closed window's menus and actions, say), their C++ destructors run there: one waited
for a Qt lock held by the GUI thread while the GUI thread, holding the interpreter's
lock, waited for it (a deadlock seen in the test suite). pyqtgraph's
``GarbageCollector`` disables automatic collection and collects from a timer in the
thread that created it, which the main window does (docs/architecture.md#pitfalls).
"""

from __future__ import annotations

from pyqtgraph.util.garbage_collector import GarbageCollector

#: How often the GUI thread collects (s); each collection only runs when the
#: allocation counts passed the usual thresholds.
INTERVAL_S = 1.0

_collector: GarbageCollector | None = None


def collect_in_gui_thread() -> GarbageCollector:
    """Start collecting garbage from the GUI thread only (idempotent; call it there)."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=INTERVAL_S)
    return _collector
