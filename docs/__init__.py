"""The documentation pages, installed as ``feature_spectrum_lab_resources.docs``.

The Help window of the app reads these Markdown files through :mod:`importlib.resources`.
"""
