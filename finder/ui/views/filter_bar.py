"""The row of filter chips under the query bar (issue #17): one removable chip per filter,
understood from the typed words or set by the person ("2019", "in Lisbon", "not: dogs").

A chip's \u2715 (a click, or Delete/Backspace when it has the focus) removes its filter and
searches again with the rest; Backspace at the start of the search box removes the last
chip. Tab goes from the box to the chips. An empty row is hidden and takes no space.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QToolButton, QWidget

from finder.ui.filter_chips import Chip
from finder.ui.search_filters import FilterState

CHIP_STYLE = """
QToolButton#chip {
    border: 1px solid palette(mid);
    border-radius: 11px;
    padding: 2px 9px;
    background: palette(alternate-base);
}
QToolButton#chip:hover { border-color: palette(highlight); }
QToolButton#chip:focus { border: 2px solid palette(highlight); }
"""
REMOVE_KEYS = (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)


class ChipButton(QToolButton):
    """One chip: its words and a \u2715; a click or Delete removes it."""

    remove_requested = Signal(object)  # Chip

    def __init__(self, chip: Chip, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chip = chip
        self.setObjectName("chip")
        self.setText(f"{chip.label}  \u2715")
        self.setToolTip(f"{chip.label}: click or press Delete to remove")
        self.setAccessibleName(f"Filter {chip.label}, remove")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.clicked.connect(lambda: self.remove_requested.emit(self.chip))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in REMOVE_KEYS:
            self.remove_requested.emit(self.chip)
            return
        super().keyPressEvent(event)


class FilterBar(QWidget):
    """The chips of `state`, kept in step with it; `edit` is the search box the chips
    follow in the Tab order and whose Backspace at its start removes the last chip."""

    def __init__(self, state: FilterState, edit: QLineEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.edit = edit
        self.buttons: list[ChipButton] = []
        self.setStyleSheet(CHIP_STYLE)
        self.setAccessibleName("Search filters")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(10, 0, 10, 4)
        self._layout.setSpacing(6)
        self._layout.addStretch(1)
        edit.installEventFilter(self)
        self.setVisible(False)  # until there is a chip
        state.changed.connect(self.refresh)
        self.refresh()

    def chips(self) -> list[Chip]:
        return [b.chip for b in self.buttons]

    def labels(self) -> list[str]:
        return [b.chip.label for b in self.buttons]

    def refresh(self) -> None:
        chips = self.state.chips()
        if chips == self.chips():
            return
        # The window's focus widget, not hasFocus(): the same whether the window is active.
        focus = self.window().focusWidget()
        focused = next((i for i, b in enumerate(self.buttons) if b is focus), None)
        for button in self.buttons:
            self._layout.removeWidget(button)
            button.hide()
            button.deleteLater()
        self.buttons = []
        for i, chip in enumerate(chips):
            button = ChipButton(chip, self)
            button.remove_requested.connect(self.state.remove_chip)
            button.setToolTip(f"{self.state.describe(chip)}. Click or press Delete to remove it.")
            self._layout.insertWidget(i, button)
            button.show()  # now, not when the layout gets to it: it may take the focus
            self.buttons.append(button)
        previous: QWidget = self.edit
        for button in self.buttons:  # right after the search box, before the results
            QWidget.setTabOrder(previous, button)
            previous = button
        self.setVisible(bool(self.buttons))
        if focused is not None:  # a chip removed from the keyboard: the focus stays near
            if self.buttons:
                self.buttons[min(focused, len(self.buttons) - 1)].setFocus()
            else:
                self.edit.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.edit
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Backspace
            and self.edit.cursorPosition() == 0
            and not self.edit.hasSelectedText()
            and self.buttons
        ):
            self.state.remove_last()
            return True
        return super().eventFilter(watched, event)
