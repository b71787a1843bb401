"""Feature Spectrum Lab engine: pure numerics (numpy, scipy), never Qt.

See docs/architecture.md. Public entry points live in :mod:`engine.config`,
:mod:`engine.runner`, :mod:`engine.theory` and :mod:`engine.export`.
"""

__version__ = "0.1.0"
