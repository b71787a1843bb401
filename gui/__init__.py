"""Feature Spectrum Lab desktop application (PySide6 + pyqtgraph).

The GUI formats and draws; all numerics live in :mod:`engine`.
"""
