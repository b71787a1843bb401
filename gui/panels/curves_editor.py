"""The curves of a run, editable: one row per curve, a label and the model values it sets.

A curve's values are written ``key = value; key = value`` with JSON values
(``eta_tilde = 0; alpha0 = 5``, ``a_law = {"values": [1, -1], "probs": [0.5, 0.5]}``,
``alpha0 = null`` for the large batch). The engine validates them: an error names
``run.curves[i]…`` and the row is marked.
"""

from __future__ import annotations

import json
import re
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.config import Curve, loads_json
from engine.errors import ConfigError

ERROR_BACKGROUND = QColor("#5C2B2B")
_ROW = re.compile(r"run\.curves\[(\d+)\]")


def format_overrides(curve: Curve) -> str:
    """``eta_tilde = 0; alpha0 = 5`` (values as JSON)."""
    return "; ".join(f"{key} = {json.dumps(value)}"
                     for key, value in curve.to_dict()["set"].items())


def parse_overrides(text: str, index: int) -> dict[str, Any]:
    """The curve's ``set`` object from ``key = value; …`` (ConfigError names the row)."""
    key = f"run.curves[{index}].set"
    out: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(key, f"{key}: write key = value pairs separated by ';', "
                                   f"got {part[:60]!r}")
        out[name] = loads_json(value.strip(), source=f"{key}.{name}")
    return out


class CurvesEditor(QWidget):
    """A table of curves (label, values set) with add, duplicate and remove."""

    #: Any edit of the curves.
    sig_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["label", "sets (key = value; …)"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setMinimumHeight(90)
        self.add_button = QPushButton("+ curve")
        self.duplicate_button = QPushButton("duplicate")
        self.remove_button = QPushButton("− curve")
        row = QHBoxLayout()
        for b in (self.add_button, self.duplicate_button, self.remove_button):
            b.setAutoDefault(False)
            row.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(row)
        self.table.itemChanged.connect(self._on_table_item_changed)
        self.add_button.clicked.connect(self._on_add_clicked)
        self.duplicate_button.clicked.connect(self._on_duplicate_clicked)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self._update_buttons()

    # ------------------------------------------------------------------ values
    def set_curves(self, curves: tuple[Curve, ...]) -> None:
        """Show ``curves`` (no ``sig_changed``)."""
        old = self.table.blockSignals(True)
        self.table.setRowCount(0)
        for curve in curves:
            self._append(curve.label, format_overrides(curve))
        self.table.blockSignals(old)
        self._update_buttons()

    def values(self) -> list[dict[str, Any]]:
        """The curves as config dicts; a bad ``sets`` cell raises ConfigError."""
        out = []
        for row in range(self.table.rowCount()):
            label = self._text(row, 0)
            out.append({"label": label, "set": parse_overrides(self._text(row, 1), row)})
        return out

    def mark_error(self, key: str, message: str) -> bool:
        """Mark the row a ``run.curves[i]…`` error names; False if it names none."""
        match = _ROW.match(key)
        if match is None or int(match[1]) >= self.table.rowCount():
            return False
        row = int(match[1])
        for col in range(2):
            item = self.table.item(row, col)
            if item is not None:
                item.setBackground(QBrush(ERROR_BACKGROUND))
                item.setToolTip(message)
        return True

    def clear_errors(self) -> None:
        old = self.table.blockSignals(True)
        for row in range(self.table.rowCount()):
            for col in range(2):
                item = self.table.item(row, col)
                if item is not None:
                    item.setBackground(QBrush())
                    item.setToolTip("")
        self.table.blockSignals(old)

    # ------------------------------------------------------------------ internals
    def _text(self, row: int, col: int) -> str:
        item = self.table.item(row, col)
        return item.text().strip() if item is not None else ""

    def _append(self, label: str, sets: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(label))
        self.table.setItem(row, 1, QTableWidgetItem(sets))

    def _update_buttons(self) -> None:
        has = self.table.rowCount() > 0
        self.duplicate_button.setEnabled(has)
        self.remove_button.setEnabled(has)

    @Slot(QTableWidgetItem)
    def _on_table_item_changed(self, _item: QTableWidgetItem) -> None:
        self.sig_changed.emit()

    @Slot()
    def _on_add_clicked(self) -> None:
        old = self.table.blockSignals(True)
        self._append(f"curve {self.table.rowCount() + 1}", "")
        self.table.blockSignals(old)
        self._update_buttons()
        self.sig_changed.emit()

    @Slot()
    def _on_duplicate_clicked(self) -> None:
        row = max(self.table.currentRow(), 0)
        old = self.table.blockSignals(True)
        self._append(self._text(row, 0) + " (copy)", self._text(row, 1))
        self.table.blockSignals(old)
        self._update_buttons()
        self.sig_changed.emit()

    @Slot()
    def _on_remove_clicked(self) -> None:
        row = self.table.currentRow()
        self.table.removeRow(row if row >= 0 else self.table.rowCount() - 1)
        self._update_buttons()
        self.sig_changed.emit()
