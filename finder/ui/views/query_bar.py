"""The query bar: text with debounce and history, an image chip, and the kind tabs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import SIGNAL, QEvent, QMimeData, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QKeyEvent, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLineEdit,
    QSizePolicy,
    QTabBar,
    QToolButton,
    QWidget,
)

from finder.core.ingest.extract import IMAGE_SUFFIXES
from finder.core.types import SearchKind

DEBOUNCE_MS = 250
HISTORY_LIMIT = 50
KIND_TABS = [(SearchKind.ALL, "All"), (SearchKind.PHOTOS, "Photos"), (SearchKind.DOCS, "Documents")]
MIN_EDIT_WIDTH = 180  # the field stays usable in a narrow window; buttons give way first


def holds_image(mime: QMimeData | None) -> bool:
    """A pasted screenshot, or a copied image file of this computer."""
    if mime is None:
        return False
    if mime.hasImage():
        return True
    return mime.hasUrls() and any(
        u.isLocalFile() and Path(u.toLocalFile()).suffix.lower() in IMAGE_SUFFIXES
        for u in mime.urls()
    )


class QueryBar(QWidget):
    text_query = Signal(str)  # debounced, or at once on Enter
    image_cleared = Signal()
    kind_changed = Signal(object)  # SearchKind
    image_pasted = Signal()  # Ctrl+V of an image in the search box: search with it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history: list[str] = []
        self._history_pos: int | None = None
        # Down from the box: move into the results; False when there are none to enter.
        self.enter_results: Callable[[], bool] = lambda: False

        self.chip = QToolButton(self)
        self.chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.chip.setAutoRaise(True)
        self.chip.setToolTip("Searching with this image; click to remove it")
        self.chip.setVisible(False)
        self.chip.clicked.connect(self.clear_image)

        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText(
            "Describe what you are looking for, or drop an image here\u2026"
        )
        self.edit.setClearButtonEnabled(True)
        self.edit.setAccessibleName("Search")
        self.edit.setMinimumWidth(MIN_EDIT_WIDTH)
        self.edit.installEventFilter(self)
        self.edit.textEdited.connect(self._on_edited)
        self.edit.returnPressed.connect(self.submit)

        self.tabs = QTabBar(self)
        for _, label in KIND_TABS:
            self.tabs.addTab(label)
        self.tabs.setDrawBase(False)
        self.tabs.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.tabs.currentChanged.connect(lambda i: self.kind_changed.emit(KIND_TABS[i][0]))

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._emit_text)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.chip)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.tabs)

    # -- state ----------------------------------------------------------------------------

    @property
    def kind(self) -> SearchKind:
        return KIND_TABS[self.tabs.currentIndex()][0]

    def set_kind(self, kind: SearchKind) -> None:
        for i, (k, _) in enumerate(KIND_TABS):
            if k is kind:
                self.tabs.setCurrentIndex(i)

    def text(self) -> str:
        return self.edit.text().strip()

    def set_text(self, text: str) -> None:
        self.edit.setText(text)

    def show_image(self, thumbnail: QPixmap, label: str) -> None:
        self.chip.setIcon(QIcon(thumbnail))
        self.chip.setText(f"{label}  \u2715")
        self.chip.setVisible(True)
        self.edit.clear()

    def has_image(self) -> bool:
        return self.chip.isVisible()

    def clear_image(self) -> None:
        if self.chip.isVisible():
            self.chip.setVisible(False)
            self.image_cleared.emit()

    def focus(self) -> None:
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()

    # -- behaviour ----------------------------------------------------------------------

    def submit(self) -> None:
        """Search now (Enter): no waiting for the debounce, and remember the query."""
        self._debounce.stop()
        text = self.text()
        if text:
            if text in self.history:
                self.history.remove(text)
            self.history.append(text)
            del self.history[:-HISTORY_LIMIT]
        self._history_pos = None
        self._emit_text()

    def _on_edited(self, _: str) -> None:
        self._history_pos = None
        if self.chip.isVisible() and self.text():
            self.clear_image()  # typing replaces the image query
        self._debounce.start()

    def _emit_text(self) -> None:
        self.text_query.emit(self.text())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            key = event.key() if isinstance(event, QKeyEvent) else None
            if key == Qt.Key.Key_Escape:
                self.edit.clear()
                self.clear_image()
                self._debounce.stop()
                self._emit_text()
                return True
            if isinstance(event, QKeyEvent) and self._on_key(event):
                return True
        return super().eventFilter(watched, event)

    def _on_key(self, event: QKeyEvent) -> bool:
        """Down enters the results; Up (or Ctrl+Up/Down) walks the history; pasting an
        image searches with it. True: the key was taken."""
        key = event.key()
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if event.matches(QKeySequence.StandardKey.Paste) and self._takes_pasted_images():
            if holds_image(QApplication.clipboard().mimeData()):
                self.image_pasted.emit()
                return True
            return False  # text: the box types it
        if key == Qt.Key.Key_Down and not ctrl and self.enter_results():
            return True
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and self.history:
            self._walk_history(-1 if key == Qt.Key.Key_Up else 1)
            return True
        return False

    def _takes_pasted_images(self) -> bool:
        """Only where someone searches with a pasted image (a box without that types)."""
        return self.receivers(SIGNAL("image_pasted()")) > 0

    def _walk_history(self, step: int) -> None:
        pos = len(self.history) if self._history_pos is None else self._history_pos
        pos = max(0, min(len(self.history), pos + step))
        self._history_pos = pos
        self.edit.setText(self.history[pos] if pos < len(self.history) else "")
        self._debounce.start()
