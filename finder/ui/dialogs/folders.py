"""Watched folders: see them with their counts, add and remove them, and leave parts of
them out (exclusions.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from finder.core.types import FolderStatus
from finder.ui.dialogs.exclusions import Exclusions, ExclusionsPanel

COLUMNS = ["Folder", "Photos", "Documents", "Errors", "Status"]


def row_table(columns: list[str], parent: QWidget) -> tuple[QStandardItemModel, QTableView]:
    """A read-only table of whole-row selections: first column stretched, others fitted."""
    model = QStandardItemModel(0, len(columns), parent)
    model.setHorizontalHeaderLabels(columns)
    table = QTableView(parent)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column in range(1, len(columns)):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    return model, table


class FoldersDialog(QDialog):
    add_requested = Signal(str)
    remove_requested = Signal(str)

    def __init__(
        self,
        folders: Callable[[], list[FolderStatus]],
        parent: QWidget | None = None,
        exclusions: Callable[[], Exclusions] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Watched folders")
        self.resize(720, 360)
        self._folders = folders

        self.model, self.table = row_table(COLUMNS, self)

        self.add_button = QPushButton("Add folder\u2026", self)
        self.add_button.setShortcut(QKeySequence("Ctrl+O"))
        self.add_button.clicked.connect(self._choose_folder)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.remove_button.clicked.connect(self._remove_selected)
        self.remove_button.setEnabled(False)
        self.table.selectionModel().selectionChanged.connect(
            lambda *_: self.remove_button.setEnabled(self.table.selectionModel().hasSelection())
        )
        # What is left out of the selected folder; None without a library (tests).
        self.exclusions = ExclusionsPanel(exclusions, self) if exclusions else None
        if self.exclusions is not None:
            self.table.selectionModel().selectionChanged.connect(self._show_exclusions)

        note = QLabel(
            "Removing a folder removes it from the index only; your files are never changed.", self
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(row)
        if self.exclusions is not None:
            layout.addWidget(self.exclusions)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        self.model.removeRows(0, self.model.rowCount())
        for folder in self._folders():
            status = _folder_state(folder)
            cells = [
                folder.path,
                f"{folder.photos:,}",
                f"{folder.documents:,}",
                f"{folder.errors:,}",
                status,
            ]
            items = [QStandardItem(text) for text in cells]
            for item in items[1:4]:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.model.appendRow(items)
        self.remove_button.setEnabled(self.table.selectionModel().hasSelection())
        self._show_exclusions()

    def selected_folder(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.item(rows[0].row(), 0).text() if rows else None

    def _show_exclusions(self) -> None:
        if self.exclusions is not None:
            self.exclusions.show_folder(self.selected_folder())

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self,
            "Add a folder to index",
            str(Path.home()),  # not the working directory
        )
        if folder:
            self.add_requested.emit(folder)

    def _remove_selected(self) -> None:
        folder = self.selected_folder()
        if folder is None:
            return
        answer = QMessageBox.question(
            self,
            "Remove folder",
            f"Stop watching {folder} and remove it from the index?\n\n"
            "The files themselves are not touched.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.remove_requested.emit(folder)


def _folder_state(folder: FolderStatus) -> str:
    if folder.offline or not folder.present:
        return "offline: not found (its files stay in the index, hidden)"
    if folder.watch == "native":
        return "watched"
    if folder.watch == "polling":
        return (
            f"checked every few seconds ({folder.watch_reason})"
            if folder.watch_reason
            else "checked every few seconds"
        )
    return "indexed"
