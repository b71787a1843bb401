"""GUI test set-up: offscreen Qt, C locale, isolated QSettings, no thread left running."""

from __future__ import annotations

import os

# Before any Qt import: headless rendering and a fixed locale for numbers.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["LC_ALL"] = "C.UTF-8"
os.environ["LANG"] = "C.UTF-8"

from collections.abc import Iterator  # noqa: E402
from dataclasses import replace  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QCoreApplication, QLocale, QSettings  # noqa: E402

from engine.config import Config, NumericsConfig  # noqa: E402

#: Theory numerics that keep each live theory well under a second.
FAST_NUMERICS = NumericsConfig(q_kappa=40, q_inner=40, q2=20, n_grid=150)


def small(config: Config, d: int = 120) -> Config:
    """A preset made cheap: small d for simulations, fast theory numerics."""
    return replace(config.with_model(d=d), numerics=FAST_NUMERICS)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, qapp) -> Iterator[None]:  # noqa: ANN001 - fixtures
    """Every test gets its own QSettings directory (never the user's)."""
    QLocale.setDefault(QLocale.c())
    QCoreApplication.setOrganizationName("FeatureSpectrumLabTests")
    QCoreApplication.setApplicationName("gui-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(tmp_path / "settings"))
    yield


@pytest.fixture(autouse=True)
def no_thread_left(qapp) -> Iterator[None]:  # noqa: ANN001
    """After each test, no worker thread may still be running."""
    yield
    from gui.workers import running_threads

    qapp.processEvents()
    left = running_threads()
    assert not left, f"worker threads still running: {[t.objectName() for t in left]}"


@pytest.fixture
def make_window(qtbot):  # noqa: ANN001
    """Factory of main windows on a small default config; closed (workers joined) after."""
    from gui.main_window import MainWindow

    windows = []

    def factory(config: Config | None = None, *, show: bool = True,
                extras: bool = False) -> MainWindow:
        if config is None:
            from engine.presets import default_preset, load_preset

            config = small(load_preset(default_preset()))
        w = MainWindow(QSettings(), initial_config=config, theory_extras=extras)
        qtbot.addWidget(w)
        if show:
            w.show()
        windows.append(w)
        return w

    yield factory
    for w in windows:
        w.close()
