"""The error banner of the main window."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class ErrorBanner(QFrame):
    """A dismissable message above the plots, with the full text behind "Details".

    Why a banner and not a modal dialog: the user keeps editing parameters while the
    message stays next to the plots it concerns; a slider move must not pop dialogs.
    """

    sig_dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#errorBanner { background: #4A1F1F; border: 1px solid #E57373; "
                           "border-radius: 4px; } QLabel { color: #FFCDD2; }")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("errorMessage")
        self.details_button = QPushButton("Details")
        self.details_button.setCheckable(True)
        self.close_button = QPushButton("✕")
        self.close_button.setFixedWidth(28)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setVisible(False)
        self.details.setMaximumHeight(180)
        row = QHBoxLayout()
        row.addWidget(self.message, 1)
        row.addWidget(self.details_button)
        row.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addLayout(row)
        layout.addWidget(self.details)
        self.details_button.toggled.connect(self._on_details_toggled)
        self.close_button.clicked.connect(self._on_close_clicked)
        self.source = ""
        self.setVisible(False)

    def show_error(self, message: str, details: str = "", *, source: str = "") -> None:
        """Show ``message`` (and the traceback or full text in the details)."""
        self.source = source
        self.message.setText(message)
        self.details.setPlainText(details or message)
        self.details_button.setVisible(bool(details))
        self.setVisible(True)

    def hide_error(self, source: str | None = None) -> None:
        """Hide the banner (only if it shows an error of ``source``, when given)."""
        if source is None or source == self.source:
            self.setVisible(False)
            self.details_button.setChecked(False)
            self.source = ""

    @Slot(bool)
    def _on_details_toggled(self, checked: bool) -> None:
        self.details.setVisible(checked)

    @Slot()
    def _on_close_clicked(self) -> None:
        self.hide_error()
        self.sig_dismissed.emit()
