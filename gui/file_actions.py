"""The File menu of the main window: sessions, recent files, figure and data exports.

A :class:`FileActions` object owns these actions and their dialogs; it asks the window
for what to save (:meth:`MainWindow.session_content`) and what to export (its plots and
their views), and restores a session through :meth:`MainWindow.restore_session`.
Everything written goes through the engine's atomic file functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QMessageBox

from engine.errors import EngineError
from engine.export import provenance, write_result
from engine.files import write_set
from engine.session import SessionError, load_session, save_session
from engine.views import view_files
from gui.figure_export import FORMATS, copy_to_clipboard, export_all, export_figure
from gui.style import get_style

if TYPE_CHECKING:
    from gui.main_window import MainWindow

MAX_RECENT = 8
STYLES = ("presentation", "screen")


class FileActions(QObject):
    """Open/save sessions, recent files, exports of figures and data, the clipboard."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.settings = window.settings
        self.session_path: Path | None = None
        self.recent_menu: QMenu | None = None

    # ------------------------------------------------------------------ menu
    def build_menu(self, menu: QMenu) -> None:
        """Fill the File menu."""
        w = self.window
        self.act_open = w.add_action(menu, "&Open session…", self._on_open_triggered,
                                     QKeySequence.StandardKey.Open)
        self.act_save = w.add_action(menu, "&Save session", self._on_save_triggered,
                                     QKeySequence.StandardKey.Save)
        self.act_save_as = w.add_action(menu, "Save session &as…", self._on_save_as_triggered,
                                        QKeySequence.StandardKey.SaveAs)
        self.recent_menu = menu.addMenu("Recent files")
        menu.addSeparator()
        w.add_action(menu, "Export &figure…", self._on_export_figure_triggered, "Ctrl+E")
        w.add_action(menu, "Export all figures…", self._on_export_all_triggered)
        w.add_action(menu, "Export &data…", self._on_export_data_triggered)
        w.add_action(menu, "Copy figure to clipboard", self._on_copy_triggered, "Ctrl+Shift+C")
        w.add_action(menu, "Export settings (DPI, style)…", self._on_export_settings_triggered)
        menu.addSeparator()
        w.add_action(menu, "&Quit", w.close, QKeySequence.StandardKey.Quit)
        self.update_recent_menu()

    # ------------------------------------------------------------------ sessions
    @Slot()
    def _on_open_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open session", self.last_dir(),
                                              "Sessions (*.json);;All files (*)")
        if path:
            self.open_session(Path(path))

    def open_session(self, path: Path) -> bool:
        """Load ``path`` and show it; a bad file leaves the current session untouched."""
        try:
            session = load_session(path)
        except SessionError as exc:
            self.window.banner.show_error(f"Cannot open {path}: {exc.message}", str(exc),
                                          source="session")
            return False
        self.window.restore_session(session.config, session.result, session.ui)
        self._remember(Path(path))
        return True

    @Slot()
    def _on_save_triggered(self) -> None:
        if self.session_path is None:
            self._on_save_as_triggered()
        else:
            self.save_session(self.session_path)

    @Slot()
    def _on_save_as_triggered(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save session as",
                                              str(Path(self.last_dir()) / "session.json"),
                                              "Sessions (*.json)")
        if path:
            self.save_session(Path(path if path.endswith(".json") else path + ".json"))

    def save_session(self, path: Path) -> bool:
        """Write the parameters, the results on screen and the view state to ``path``."""
        content = self.window.session_content()
        if content is None:
            return False
        config, result, ui = content
        try:
            # the file dialog has already asked about overwriting
            save_session(path, config, result, force=True, ui=ui)
        except (OSError, TypeError, EngineError) as exc:
            self.window.banner.show_error(f"Cannot save {path}: {exc}", source="session")
            return False
        self._remember(Path(path))
        self.window.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def _remember(self, path: Path) -> None:
        self.session_path = path
        self.window.set_document_name(path.name)
        recent = [str(path)] + [p for p in self.recent() if p != str(path)]
        self.settings.setValue("recent", recent[:MAX_RECENT])
        self.settings.setValue("paths/last_dir", str(path.parent))
        self.update_recent_menu()

    def recent(self) -> list[str]:
        """Recently opened or saved sessions, newest first."""
        value = self.settings.value("recent", [])
        if isinstance(value, str):
            return [value]
        return [str(v) for v in (value or [])]

    def update_recent_menu(self) -> None:
        if self.recent_menu is None:
            return
        self.recent_menu.clear()
        for p in self.recent():
            act = self.recent_menu.addAction(p)
            act.setData(p)
            act.triggered.connect(self._on_recent_triggered)
        self.recent_menu.setEnabled(bool(self.recent()))

    @Slot()
    def _on_recent_triggered(self) -> None:
        act = self.sender()
        if isinstance(act, QAction):
            self.open_session(Path(str(act.data())))

    def last_dir(self) -> str:
        return str(self.settings.value("paths/last_dir", str(Path.home())))

    # ------------------------------------------------------------------ exports
    def export_dpi(self) -> int:
        return int(self.settings.value("export/dpi", 150))

    def export_style_name(self) -> str:
        name = str(self.settings.value("export/style", "presentation"))
        return name if name in STYLES else "presentation"

    def _confirm_overwrite(self, paths: list[Path]) -> bool:
        existing = [p for p in paths if p.exists()]
        if not existing:
            return True
        names = "\n".join(str(p) for p in existing[:10])
        answer = QMessageBox.question(self.window, "Overwrite files?",
                                      f"These files exist and will be replaced:\n{names}")
        return answer == QMessageBox.StandardButton.Yes

    def _failed(self, what: str, exc: Exception) -> None:
        self.window.banner.show_error(f"{what} failed: {exc}", source="export")

    @Slot()
    def _on_export_figure_triggered(self) -> None:
        plot = self.window.current_plot()
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Export figure", str(Path(self.last_dir()) / f"{plot.name}.png"),
            "PNG image (*.png);;SVG vector image (*.svg);;PDF document (*.pdf)")
        if not path:
            return
        try:
            # QFileDialog has asked for confirmation if the file existed
            out = export_figure(plot, Path(path), dpi=self.export_dpi(),
                                style=get_style(self.export_style_name()), force=True)
        except (OSError, ValueError, RuntimeError) as exc:
            self._failed("Export", exc)
            return
        self.window.statusBar().showMessage(f"Exported {out}", 5000)

    @Slot()
    def _on_export_all_triggered(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Export all figures to",
                                                  self.last_dir())
        if not folder:
            return
        # a plot with nothing to show (the phase diagram without a grid) has no figure
        plots = [p for p in self.window.plot_list if p.export_data()]
        targets = [Path(folder) / f"{p.name}.{f}" for p in plots for f in FORMATS]
        if not self._confirm_overwrite(targets):
            return
        try:
            # the user confirmed overwriting above
            out = export_all(plots, Path(folder), style=get_style(self.export_style_name()),
                             dpi=self.export_dpi(), formats=FORMATS, force=True)
        except (OSError, ValueError, RuntimeError) as exc:
            self._failed("Export", exc)
            return
        self.window.statusBar().showMessage(f"Exported {len(out)} files to {folder}", 5000)

    def data_files(self) -> dict[str, bytes] | None:
        """The view files of what is on screen (see :func:`engine.views.view_files`)."""
        views = self.window.current_views()
        return view_files(views, provenance(views.config, list(views.seeds) or None))

    @Slot()
    def _on_export_data_triggered(self) -> None:
        content = self.window.session_content()
        if content is None or content[1] is None:
            self.window.banner.show_error("Nothing to export yet: no result.", source="export")
            return
        folder = QFileDialog.getExistingDirectory(self.window, "Export data to",
                                                  self.last_dir())
        if folder:
            self.export_data(Path(folder), ask=True)

    def export_data(self, folder: Path, *, ask: bool = False, force: bool = False) -> int:
        """Write the result files and the view files to ``folder``; the number written."""
        content = self.window.session_content()
        if content is None or content[1] is None:
            return 0
        try:
            try:
                out = self._write_data(folder, content[1], force=force)
            except FileExistsError as exc:
                if not ask or QMessageBox.question(
                        self.window, "Overwrite files?",
                        f"{exc}\n\nReplace the existing files?") \
                        != QMessageBox.StandardButton.Yes:
                    return 0
                out = self._write_data(folder, content[1], force=True)
        except (OSError, ValueError, EngineError) as exc:
            self._failed("Data export", exc)
            return 0
        self.window.statusBar().showMessage(f"Wrote {len(out)} files to {folder}", 5000)
        return len(out)

    def _write_data(self, folder: Path, result: Any, *, force: bool) -> list[Path]:
        files = self.data_files() or {}
        return write_result(result, folder, force=force) + write_set(folder, files, force=force)

    @Slot()
    def _on_copy_triggered(self) -> None:
        try:
            copy_to_clipboard(self.window.current_plot(), dpi=self.export_dpi())
        except (ValueError, RuntimeError) as exc:
            self._failed("Copy", exc)
            return
        self.window.statusBar().showMessage("Figure copied to the clipboard", 4000)

    @Slot()
    def _on_export_settings_triggered(self) -> None:
        dpi, ok = QInputDialog.getInt(self.window, "Export DPI",
                                      "Resolution of PNG exports (DPI):", self.export_dpi(),
                                      50, 1200, 25)
        if ok:
            self.settings.setValue("export/dpi", dpi)
        current = self.export_style_name()
        style, ok = QInputDialog.getItem(self.window, "Export style",
                                         "Style of exported figures:", list(STYLES),
                                         STYLES.index(current), False)
        if ok:
            self.settings.setValue("export/style", style)
