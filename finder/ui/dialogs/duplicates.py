"""The Duplicates window: groups of files that are the same shot, their copies side by
side (picture, size, dimensions, date, path), the copy finder suggests keeping marked.
Reveal in folder and Copy path only: finder never deletes or moves a file, so there is
no delete button; the person removes what they want in their file manager.

The groups are computed on the pool (Library.duplicates), the pictures of a group read
from the thumbnail cache there too; only the GUI thread makes the pixmaps."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Qt, QThreadPool, QUrl
from PySide6.QtGui import QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from finder.core.ingest.thumbnails import ThumbnailCache
from finder.core.library import Library
from finder.core.types import DuplicateFile, DuplicateGroup, display_path
from finder.ui import desktop
from finder.ui.workers import one_line, start_task

PICTURE_SIDE = 220
EMPTY_TEXT = "No duplicates: every photo and file in your folders is here once."
LOADING_TEXT = "Looking for duplicates\u2026"
NEVER_DELETES = (
    "finder never deletes or moves anything: reveal a copy in its folder to remove it yourself."
)


class DuplicatesHost(Protocol):
    """What the window needs of the app (the Controller has it all)."""

    library: Library
    thumbnails: ThumbnailCache
    pool: QThreadPool | None

    def opener(self, url: QUrl) -> object: ...

    def report_failure(self, what: str, exc: BaseException, *, show: bool = True) -> None: ...


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}"
        n //= 1000
    return f"{n / 1000:.2f} GB"


class DuplicatesDialog(QDialog):
    def __init__(self, host: DuplicatesHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Duplicates")
        self.setModal(False)
        self.resize(1100, 700)
        self.host = host
        self.groups: list[DuplicateGroup] = []
        self.loading = False
        self._shown_group = -1

        self.summary = QLabel(LOADING_TEXT, self)
        self.summary.setWordWrap(True)
        note = QLabel(NEVER_DELETES, self)
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(mid);")
        self.group_list = QListWidget(self)
        self.group_list.setAccessibleName("Duplicate groups")
        self.group_list.currentRowChanged.connect(self.show_group)
        self.copies_row = QWidget(self)
        self.copies_layout = QHBoxLayout(self.copies_row)
        self.copies_layout.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.copies_row)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.group_list)
        splitter.addWidget(scroll)
        splitter.setSizes([300, 800])

        self.empty = QLabel(EMPTY_TEXT, self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.empty)
        self.pages.addWidget(splitter)
        refresh = QPushButton("Look again", self)
        refresh.clicked.connect(self.refresh)

        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(refresh)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(note)
        layout.addWidget(self.pages, 1)
        for keys in (QKeySequence(Qt.Key.Key_Escape), QKeySequence.StandardKey.Close):
            QShortcut(keys, self, self.close)

    # -- finding the groups ---------------------------------------------------------------

    def refresh(self) -> None:
        """Find the groups again, off the GUI thread."""
        if self.loading:
            return
        self.loading = True
        self.summary.setText(LOADING_TEXT)
        library = self.host.library
        start_task(self.host.pool, library.duplicates, self._on_groups, self._on_failed)

    def _on_groups(self, groups: list[DuplicateGroup]) -> None:
        self.loading = False
        self.groups = groups
        self._shown_group = -1
        self.group_list.clear()
        if not groups:
            self.summary.setText("No duplicates found.")
            self.pages.setCurrentWidget(self.empty)
            return
        files = sum(len(g.files) for g in groups)
        space = _size(sum(g.reclaimable for g in groups))
        self.summary.setText(
            f"{len(groups)} group{'s' if len(groups) != 1 else ''} of duplicates ({files} "
            f"files): the copies finder would not keep take {space}."
        )
        for group in groups:
            copies = len(group.files) - 1
            name = display_path(group.keeper.path).rsplit("/", 1)[-1]
            item = QListWidgetItem(
                f"{name}\n+{copies} cop{'y' if copies == 1 else 'ies'}, {_size(group.reclaimable)}"
            )
            item.setToolTip(display_path(group.keeper.path))
            self.group_list.addItem(item)
        self.pages.setCurrentIndex(1)
        self.group_list.setCurrentRow(0)

    def _on_failed(self, exc: Exception) -> None:
        self.loading = False
        self.host.report_failure("Looking for duplicates failed", exc, show=False)
        self.summary.setText(f"Looking for duplicates failed: {one_line(exc)}")

    # -- one group, side by side ----------------------------------------------------------

    def show_group(self, row: int) -> None:
        if row < 0 or row >= len(self.groups) or row == self._shown_group:
            return
        self._shown_group = row
        while self.copies_layout.count():
            widget = self.copies_layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        group = self.groups[row]
        cards = [FileCard(f, self.host, self.copies_row) for f in group.files]
        for card in cards:
            self.copies_layout.addWidget(card)
        cache = self.host.thumbnails

        def pictures() -> tuple[int, list[QImage]]:
            images = []
            for f in group.files:
                thumb = cache.get(f.path, None)
                images.append(QImage(str(thumb)) if thumb is not None else QImage())
            return row, images

        start_task(self.host.pool, pictures, self._on_pictures, self._on_failed)

    def _on_pictures(self, answer: tuple[int, list[QImage]]) -> None:
        row, images = answer
        if row != self._shown_group:
            return  # another group was chosen meanwhile
        cards = [self.copies_layout.itemAt(i).widget() for i in range(self.copies_layout.count())]
        for card, image in zip(cards, images, strict=False):
            if isinstance(card, FileCard):
                card.set_picture(image)

    def cards(self) -> list[FileCard]:
        """The files of the group shown, in order (the keeper first)."""
        found = [self.copies_layout.itemAt(i).widget() for i in range(self.copies_layout.count())]
        return [c for c in found if isinstance(c, FileCard)]


class FileCard(QFrame):
    """One copy: its picture, what tells it apart, Reveal in folder and Copy path."""

    def __init__(self, file: DuplicateFile, host: DuplicatesHost, parent: QWidget) -> None:
        super().__init__(parent)
        self.file = file
        self.host = host
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(PICTURE_SIDE + 24)
        self.picture = QLabel("\u2026", self)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setFixedSize(PICTURE_SIDE, PICTURE_SIDE)
        self.badge = QLabel("\u2605 Suggested to keep" if file.keep else "Copy", self)
        if file.keep:
            self.badge.setStyleSheet("font-weight: bold; color: #1a7f37;")
        pixels = (
            f"{file.width} \u00d7 {file.height}" if file.width and file.height else "size unknown"
        )
        path = display_path(file.path)
        self.details = QLabel(
            f"<b>{path.rsplit('/', 1)[-1]}</b><br>{pixels} \u00b7 {file.file_format or '?'}"
            f"<br>{_size(file.size)} \u00b7 {(file.taken or '?')[:10]}",
            self,
        )
        self.details.setWordWrap(True)
        self.path_label = QLabel(path, self)
        self.path_label.setWordWrap(True)
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setStyleSheet("color: palette(mid);")
        self.reveal_button = QPushButton("Reveal in folder", self)
        self.reveal_button.clicked.connect(self.reveal)
        self.copy_button = QPushButton("Copy path", self)
        self.copy_button.clicked.connect(lambda: desktop.copy_path(file.path))
        layout = QVBoxLayout(self)
        for widget in (
            self.picture,
            self.badge,
            self.details,
            self.path_label,
            self.reveal_button,
            self.copy_button,
        ):
            layout.addWidget(widget)
        layout.addStretch(1)

    def set_picture(self, image: QImage) -> None:
        if image.isNull():
            self.picture.setText("no preview")
            return
        pixmap = QPixmap.fromImage(image).scaled(
            PICTURE_SIDE,
            PICTURE_SIDE,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        self.picture.setPixmap(pixmap)

    def reveal(self) -> None:
        outcome = desktop.reveal(self.file.path, self.host.opener)
        if not outcome:
            desktop.explain_failure(self, self.file.path, outcome.problem)


def show_duplicates(host: DuplicatesHost, parent: QWidget) -> DuplicatesDialog:
    """Open (or raise) the parent's Duplicates window and look for groups again."""
    dialog = parent.findChild(DuplicatesDialog)
    if dialog is None:
        dialog = DuplicatesDialog(host, parent)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    dialog.refresh()
    return dialog
