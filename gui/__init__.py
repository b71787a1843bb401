"""Feature Spectrum Lab's GUI (PySide6 + pyqtgraph); the numerics live in ``engine``."""
