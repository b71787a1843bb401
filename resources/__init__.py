"""Data files of Feature Spectrum Lab, installed as ``feature_spectrum_lab_resources``.

``presets/`` (configuration files and their ``index.json``), ``examples/`` (small
configurations and example exports), ``icons/`` (the application icon) and, as the
subpackage ``docs``, the documentation pages of the repository's ``docs/`` folder.
Read them with :func:`importlib.resources.files`, never by a path relative to the code.
"""
