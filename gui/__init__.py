"""Feature Spectrum Lab's GUI (PySide6 + pyqtgraph); the numerics live in ``engine``."""

from gui.qt_compat import patch_pyqtgraph_teardown

# Before any legend exists: see gui/qt_compat.py (pyqtgraph legend teardown).
patch_pyqtgraph_teardown()
