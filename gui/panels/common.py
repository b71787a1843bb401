"""Shared machinery of the parameter panels: field registry and error marking.

Each editable widget is registered under the dotted config key it edits
(``model.beta``, ``run.seeds``...). When building the :class:`~engine.config.Config`
raises :class:`~engine.errors.ConfigError`, the panel whose registered key is the longest
prefix of ``exc.key`` marks that widget: red border, the engine's message in its tooltip
and in the panel's message label.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QSpinBox,
    QWidget,
)

ERROR_STYLE = "border: 2px solid #E53935; border-radius: 3px;"
#: A field whose value some curves replace: it is the base of the others only.
OVERRIDE_STYLE = "border: 2px dashed #FFB74D; border-radius: 3px;"


def key_matches(registered: str, key: str) -> bool:
    """True when ``registered`` names ``key`` or one of its parents/children."""
    if key == registered:
        return True
    for sep in (".", "["):
        if key.startswith(registered + sep):
            return True
    return False


class ParamPanel(QWidget):
    """Base of the parameter panels: ``sig_changed`` on any edit, field error marking."""

    #: Any user edit (the main window debounces it before recomputing).
    sig_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fields: dict[str, QWidget] = {}
        self._tips: dict[str, str] = {}
        self._marked: list[str] = []
        self._overridden: dict[str, str] = {}
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: #E57373;")
        self.message_label.setVisible(False)

    def register(self, key: str, widget: QWidget, tip: str) -> QWidget:
        """Remember ``widget`` as the editor of config key ``key``; set its tooltip."""
        self._fields[key] = widget
        self._tips[key] = tip
        widget.setToolTip(tip)
        widget.setObjectName(key)
        return widget

    def field(self, key: str) -> QWidget:
        return self._fields[key]

    def keys(self) -> list[str]:
        return list(self._fields)

    def mark_error(self, key: str, message: str) -> bool:
        """Mark the field editing ``key``; return False when no field of this panel does.

        The longest matching registered key wins (``model.a_law`` for
        ``model.a_law.probs[1]``; ``run.curves.model.beta`` falls back to the run panel's
        curves label).
        """
        best = None
        for registered in self._fields:
            if key_matches(registered, key) and (best is None or len(registered) > len(best)):
                best = registered
        if best is None:
            return False
        widget = self._fields[best]
        widget.setStyleSheet(ERROR_STYLE)
        widget.setToolTip(f"{message}\n\n{self._tips[best]}")
        widget.setProperty("configError", message)
        self._marked.append(best)
        self.message_label.setText(message)
        self.message_label.setVisible(True)
        return True

    def marked_keys(self) -> list[str]:
        return list(self._marked)

    def clear_errors(self) -> None:
        for key in self._marked:
            self._restore(key)
            self._fields[key].setProperty("configError", None)
        self._marked = []
        self.message_label.setVisible(False)
        self.message_label.setText("")

    def mark_overrides(self, notes: dict[str, str]) -> None:
        """Mark the fields that curves set: ``{dotted key: what the curves do}``.

        The note goes first in the field's tooltip; a field no curve sets loses its mark.
        """
        old = set(self._overridden)
        self._overridden = {k: v for k, v in notes.items() if k in self._fields}
        for key in old | set(self._overridden):
            if key not in self._marked:
                self._restore(key)

    def overridden_keys(self) -> list[str]:
        return list(self._overridden)

    def _restore(self, key: str) -> None:
        """The field's look without an error: plain, or marked as set by curves."""
        widget = self._fields[key]
        note = self._overridden.get(key)
        widget.setStyleSheet(OVERRIDE_STYLE if note else "")
        widget.setToolTip(f"{note}\n\n{self._tips[key]}" if note else self._tips[key])
        widget.setProperty("setByCurves", note)

    def _emit_changed(self, *_args: object) -> None:
        self.sig_changed.emit()


def spin(lo: float, hi: float, value: float, *, decimals: int = 3,
         step: float | None = None) -> QDoubleSpinBox:
    """A float editor whose range is wider than the engine's where the engine validates.

    Keeping e.g. 0 reachable for ``beta`` lets the engine's message explain the limit,
    instead of the widget silently clamping.
    """
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setKeyboardTracking(False)
    if step is None:
        box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
    else:
        box.setSingleStep(step)
    box.setValue(value)
    return box


def ispin(lo: int, hi: int, value: int, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setKeyboardTracking(False)
    box.setValue(value)
    return box


def combo(items: list[str] | tuple[str, ...], value: str, *, editable: bool = False) -> QComboBox:
    box = QComboBox()
    box.addItems(list(items))
    box.setEditable(editable)
    if editable:
        box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    idx = box.findText(value)
    if idx >= 0:
        box.setCurrentIndex(idx)
    elif editable:
        box.setEditText(value)
    return box
