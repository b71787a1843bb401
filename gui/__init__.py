"""Feature Spectrum Lab's GUI (PySide6 + pyqtgraph); the numerics live in ``engine``."""

from gui.qt_compat import apply_pyside_fixes, patch_pyqtgraph_teardown

# Before any widget exists: see gui/qt_compat.py (PySide6 6.12 refcount bug, pyqtgraph
# legend teardown).
apply_pyside_fixes()
patch_pyqtgraph_teardown()
