"""The thumbnail grid, and what a person can do with a result."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import SIGNAL, QAbstractItemModel, QModelIndex, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication, QListView, QMenu, QToolTip, QWidget

from finder.core.types import FileKind, SearchResult, display_path
from finder.ui.views.results_model import MoreRole, ResultRole, ResultsModel
from finder.ui.views.thumbnail_delegate import TILE, ThumbnailDelegate


class ResultsView(QListView):
    open_requested = Signal(object)  # SearchResult
    reveal_requested = Signal(object)
    copy_path_requested = Signal(object)
    similar_requested = Signal(object)
    preview_requested = Signal(object)
    folder_requested = Signal(str)  # search only under this folder (a "Folder:" chip)

    def __init__(self, parent: QWidget | None = None, tile: QSize = TILE) -> None:
        super().__init__(parent)
        self._tile = tile
        self._delegate = ThumbnailDelegate(self, tile)
        self._kept_row = -1  # the current row before a refresh of the same question
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
        self.setItemDelegate(self._delegate)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.activated.connect(self._activated)  # double click or Enter
        self.clicked.connect(self._clicked)
        self.setAccessibleName("Search results")
        self.actions_by_name: dict[str, QAction] = {}
        for name, text, shortcut, signal in (
            ("reveal", "Reveal in folder", "Ctrl+Shift+R", self.reveal_requested),
            # Ctrl+C: the window's Ctrl+Shift+C compares models.
            ("copy", "Copy path", QKeySequence.StandardKey.Copy, self.copy_path_requested),
            ("similar", "Find similar", "Ctrl+Shift+S", self.similar_requested),
            ("preview", "Preview", "Space", self.preview_requested),
        ):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            action.setShortcutVisibleInContextMenu(True)
            action.triggered.connect(lambda _=False, s=signal: self._emit_current(s))
            self.addAction(action)
            self.actions_by_name[name] = action

    # -- keeping the grid in step with its rows ------------------------------------------

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        if model is not None:
            model.modelAboutToBeReset.connect(self._before_reset)
            model.modelReset.connect(self._after_reset)

    def _before_reset(self) -> None:
        self._kept_row = self.currentIndex().row()

    def _after_reset(self) -> None:
        """A new question starts at the top with its first result current; the same
        question answered again (after indexing) keeps its place."""
        QToolTip.hideText()  # it described a tile of the previous rows
        model = self.model()
        if model.rowCount() == 0:
            return
        same = isinstance(model, ResultsModel) and model.same_question
        row = self._kept_row if same and 0 <= self._kept_row < model.rowCount() else 0
        index = model.index(row, 0)
        self.selectionModel().setCurrentIndex(
            index, self.selectionModel().SelectionFlag.ClearAndSelect
        )
        if row == 0:
            self.scrollToTop()
        else:
            self.scrollTo(index)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._fit_columns()
        super().resizeEvent(event)

    def _fit_columns(self) -> None:
        """Tiles share the row's width, so no empty strip is left at its right."""
        # QListView lays out in the widest viewport less the room for a scroll bar that
        # may appear (QListViewPrivate::prepareItemsLayout): fill that width exactly.
        width = self.maximumViewportSize().width()
        if self.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAsNeeded:
            width -= self.verticalScrollBar().sizeHint().width()
        width -= 1  # a tile ending exactly at the edge would wrap
        columns = max(1, width // self._tile.width())
        cell = QSize(max(self._tile.width(), width // columns), self._tile.height())
        if cell != self.gridSize():
            self._delegate.tile = cell
            self.setGridSize(cell)

    def updateGeometries(self) -> None:
        super().updateGeometries()  # sets its own steps; one notch should be one row
        # Qt scrolls wheelScrollLines() single steps a notch: together, about one row.
        lines = max(1, QApplication.wheelScrollLines())
        self.verticalScrollBar().setSingleStep(max(1, self._tile.height() // lines))
        self._fit_columns()

    # -- acting on results -----------------------------------------------------------------

    def enter_from_search(self) -> bool:
        """Down from the search box: focus the grid with a current result (the first
        unless one is current); False when there is nothing to enter."""
        model = self.model()
        if model is None or model.rowCount() == 0 or not self.isVisible():
            return False
        index = self.currentIndex()
        if not index.isValid():
            index = model.index(0, 0)
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        self.selectionModel().setCurrentIndex(
            index, self.selectionModel().SelectionFlag.ClearAndSelect
        )
        self.scrollTo(index)
        return True

    def current_result(self) -> SearchResult | None:
        index = self.currentIndex()
        return index.data(ResultRole) if index.isValid() else None

    def _emit_current(self, signal: Signal) -> None:  # type: ignore[type-arg]
        result = self.current_result()
        if result is not None:
            signal.emit(result)  # type: ignore[attr-defined]

    def _reveal_weaker(self, index: QModelIndex) -> bool:
        model = self.model()
        if not index.data(MoreRole) or not isinstance(model, ResultsModel):
            return False
        row = index.row()
        model.reveal_weaker()
        self.setCurrentIndex(model.index(row, 0))
        return True

    def _clicked(self, index: QModelIndex) -> None:
        self._reveal_weaker(index)  # the last row is a button: one click

    def _activated(self, index: QModelIndex) -> None:
        if not self._reveal_weaker(index):
            self.open_requested.emit(index.data(ResultRole))

    def menu_for(self, index: QModelIndex) -> QMenu | None:
        """The context menu of a result (it becomes the current one), each entry with
        its shortcut."""
        if not index.isValid() or index.data(MoreRole):
            return None
        result: SearchResult = index.data(ResultRole)
        self.setCurrentIndex(index)
        menu = QMenu(self)
        open_action = menu.addAction("Open", lambda: self.open_requested.emit(result))
        open_action.setShortcut(QKeySequence(Qt.Key.Key_Return))  # the view's Enter
        open_action.setShortcutVisibleInContextMenu(True)
        actions = self.actions_by_name
        menu.addAction(actions["reveal"])
        menu.addAction(actions["copy"])
        menu.addAction(actions["similar"])
        actions["similar"].setEnabled(result.kind is FileKind.PHOTO)
        menu.addAction(actions["preview"])
        if self.receivers(SIGNAL("folder_requested(QString)")) > 0:  # the main grid's
            menu.addSeparator()
            folder = str(Path(result.path).parent)
            only_here = menu.addAction(
                f"Search only in \u201c{display_path(Path(folder).name or folder)}\u201d",
                lambda: self.folder_requested.emit(folder),
            )
            only_here.setToolTip(folder)
        if result.copies:  # the same shot elsewhere (duplicates): each one revealed
            copies = menu.addMenu(f"Copies elsewhere ({len(result.copies)})")
            for path in result.copies:
                copy = dataclasses.replace(result, path=path, copies=())
                copies.addAction(display_path(path), lambda c=copy: self.reveal_requested.emit(c))
        menu.aboutToHide.connect(lambda: actions["similar"].setEnabled(True))
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        menu = self.menu_for(self.indexAt(pos))
        if menu is not None:
            menu.exec(self.viewport().mapToGlobal(pos))
