"""What is left out of a watched folder (issue #17): the patterns, one to type and add
(Enter), one to take back (Delete). Part of the Folders dialog; the library is asked at
each use (the window's library changes with the model)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from finder.core.ingest.exclusions import Exclusion, ExclusionError

EVERY_FOLDER = " (every folder)"
PLACEHOLDER = "a subfolder, a name or a pattern: private, *.tmp, 2019/raw"


class Exclusions(Protocol):
    """What the panel needs of the library (Library has these)."""

    def exclusions(self) -> list[Exclusion]: ...
    def add_exclusion(self, pattern: str, folder: str | None = None) -> Exclusion: ...
    def remove_exclusion(self, pattern: str, folder: str | None = None) -> bool: ...


class ExclusionsPanel(QWidget):
    """`changed`: an exclusion was added or taken back (searches should be asked again);
    `reread_requested(folder)`: what was left out of it should be read again (indexed)."""

    changed = Signal()
    reread_requested = Signal(str)

    def __init__(self, library: Callable[[], Exclusions], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self.folder: str | None = None
        self.title = QLabel(self)
        self.patterns = QListWidget(self)
        self.patterns.setMaximumHeight(96)
        self.pattern = QLineEdit(self)
        self.pattern.setPlaceholderText(PLACEHOLDER)
        self.pattern.installEventFilter(self)  # Enter adds it (not the dialog's default button)
        self.add_button = QPushButton("Leave out", self)
        self.add_button.clicked.connect(self.add)
        self.remove_button = QPushButton("Include again", self)
        self.remove_button.clicked.connect(self.remove_selected)
        for button in (self.add_button, self.remove_button):
            button.setAutoDefault(False)
        self.patterns.installEventFilter(self)  # Delete takes the selected pattern back
        self.patterns.currentItemChanged.connect(lambda *_: self._enable())
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.pattern, 1)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.patterns)
        layout.addLayout(row)
        layout.addWidget(self.message)
        self.show_folder(None)

    def show_folder(self, folder: str | None) -> None:
        """List what is left out of `folder` (None: no folder selected)."""
        self.folder = folder
        self.title.setText(
            f"Left out of {folder}:" if folder else "Select a folder to leave parts of it out."
        )
        self.patterns.clear()
        if folder is not None:
            for exclusion in self._library().exclusions():
                if exclusion.folder in (None, folder):
                    label = exclusion.pattern + ("" if exclusion.folder else EVERY_FOLDER)
                    item = QListWidgetItem(label, self.patterns)
                    item.setData(Qt.ItemDataRole.UserRole, exclusion)
        self._enable()

    def add(self) -> None:
        pattern = self.pattern.text().strip()
        if self.folder is None or not pattern:
            return
        try:
            added = self._library().add_exclusion(pattern, self.folder)
        except ExclusionError as exc:
            self.message.setText(str(exc))
            return
        self.pattern.clear()
        self.message.setText(
            f"{added.pattern} is left out: hidden from searches now, not read again."
        )
        self.show_folder(self.folder)
        self.changed.emit()

    def remove_selected(self) -> None:
        item = self.patterns.currentItem()
        if item is None or self.folder is None:
            return
        exclusion: Exclusion = item.data(Qt.ItemDataRole.UserRole)
        self._library().remove_exclusion(exclusion.pattern, exclusion.folder)
        self.message.setText(f"{exclusion.pattern} is included again: reading it now.")
        self.show_folder(self.folder)
        self.changed.emit()
        self.reread_requested.emit(exclusion.folder or self.folder)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Enter in the pattern adds it, Delete in the list takes one back: theirs, not
        the dialog's (Enter would press Add folder, Delete remove the whole folder)."""
        if not isinstance(event, QKeyEvent):
            return super().eventFilter(watched, event)
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if watched is self.pattern and enter and event.type() == QEvent.Type.KeyPress:
            self.add()
            return True
        if watched is self.patterns and event.key() == Qt.Key.Key_Delete:
            if event.type() == QEvent.Type.ShortcutOverride:
                event.accept()
                return True
            if event.type() == QEvent.Type.KeyPress:
                self.remove_selected()
                return True
        return super().eventFilter(watched, event)

    def _enable(self) -> None:
        has_folder = self.folder is not None
        self.pattern.setEnabled(has_folder)
        self.add_button.setEnabled(has_folder)
        self.remove_button.setEnabled(has_folder and self.patterns.currentItem() is not None)
