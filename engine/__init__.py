"""Feature Spectrum Lab engine: pure numerics (numpy, scipy), never Qt.

See docs/architecture.md for the layers and docs/model.md for the mathematics. Public
entry points live in :mod:`engine.config`, :mod:`engine.runner`, :mod:`engine.theory`
and :mod:`engine.export`; the command line is :mod:`engine.cli` (docs/cli.md).
"""

#: The one version number of the package (pyproject.toml reads it from here).
__version__ = "0.1.0"
