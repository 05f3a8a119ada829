"""The thumbnail grid, and what a person can do with a result."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QListView, QMenu, QWidget

from finder.core.types import FileKind, SearchResult
from finder.ui.views.results_model import ResultRole
from finder.ui.views.thumbnail_delegate import TILE, ThumbnailDelegate


class ResultsView(QListView):
    open_requested = Signal(object)  # SearchResult
    reveal_requested = Signal(object)
    copy_path_requested = Signal(object)
    similar_requested = Signal(object)
    preview_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None, tile: QSize = TILE) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)  # constant-time layout for 10,000 results
        self.setGridSize(tile)
        self.setSpacing(0)
        self.setWordWrap(False)
        self.setMouseTracking(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setItemDelegate(ThumbnailDelegate(self, tile))
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.activated.connect(self._activated)  # double click or Enter
        self.setAccessibleName("Search results")
        for text, shortcut, signal in (
            ("Reveal in folder", "Ctrl+Shift+R", self.reveal_requested),
            # Ctrl+C: the window's Ctrl+Shift+C compares models.
            ("Copy path", QKeySequence.StandardKey.Copy, self.copy_path_requested),
            ("Preview", "Space", self.preview_requested),
        ):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(lambda _=False, s=signal: self._emit_current(s))
            self.addAction(action)

    def current_result(self) -> SearchResult | None:
        index = self.currentIndex()
        return index.data(ResultRole) if index.isValid() else None

    def _emit_current(self, signal: Signal) -> None:  # type: ignore[type-arg]
        result = self.current_result()
        if result is not None:
            signal.emit(result)  # type: ignore[attr-defined]

    def _activated(self, index: QModelIndex) -> None:
        self.open_requested.emit(index.data(ResultRole))

    def _context_menu(self, pos: QPoint) -> None:
        index = self.indexAt(pos)
        if not index.isValid():
            return
        result: SearchResult = index.data(ResultRole)
        menu = QMenu(self)
        menu.addAction("Open", lambda: self.open_requested.emit(result))
        menu.addAction("Reveal in folder", lambda: self.reveal_requested.emit(result))
        menu.addAction("Copy path", lambda: self.copy_path_requested.emit(result))
        similar = menu.addAction("Find similar", lambda: self.similar_requested.emit(result))
        similar.setEnabled(result.kind is FileKind.PHOTO)
        menu.addAction("Preview", lambda: self.preview_requested.emit(result))
        menu.exec(self.viewport().mapToGlobal(pos))
