"""The result list as a Qt model; thumbnails arrive later and fill in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QImage, QPixmap

from finder.core.types import FileKind, SearchResult

PathRole = Qt.ItemDataRole.UserRole + 1
KindRole = Qt.ItemDataRole.UserRole + 2
ScoreRole = Qt.ItemDataRole.UserRole + 3
SnippetRole = Qt.ItemDataRole.UserRole + 4
PageRole = Qt.ItemDataRole.UserRole + 5
ResultRole = Qt.ItemDataRole.UserRole + 6
ThumbnailStateRole = Qt.ItemDataRole.UserRole + 7  # "loading", "ready", "none"
# Lines of small text under a tile's name; None: its score (and page). A model may say more.
DetailRole = Qt.ItemDataRole.UserRole + 8

AnyIndex = QModelIndex | QPersistentModelIndex


def thumbnail_key(result: SearchResult) -> str:
    return f"{result.path}\0{result.page or 0}"


class ResultsModel(QAbstractListModel):
    """Rows are SearchResults. Asking for a row's picture requests its thumbnail once."""

    thumbnail_wanted = Signal(str, str, object)  # key, path, page

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._results: list[SearchResult] = []
        self._rows_by_key: dict[str, list[int]] = {}
        self._pixmaps: dict[str, QPixmap | None] = {}  # None: no preview exists
        self._requested: set[str] = set()

    # -- content ------------------------------------------------------------------------

    def set_results(self, results: list[SearchResult]) -> None:
        self.beginResetModel()
        self._results = list(results)
        self._rows_by_key = {}
        for row, result in enumerate(self._results):
            self._rows_by_key.setdefault(thumbnail_key(result), []).append(row)
        self.endResetModel()

    def result(self, row: int) -> SearchResult:
        return self._results[row]

    def results(self) -> list[SearchResult]:
        return list(self._results)

    def set_thumbnail(self, key: str, image: QImage) -> None:
        """Called on the GUI thread: only here does a QImage become a QPixmap."""
        self._pixmaps[key] = None if image.isNull() else QPixmap.fromImage(image)
        for row in self._rows_by_key.get(key, []):
            index = self.index(row)
            self.dataChanged.emit(
                index, index, [Qt.ItemDataRole.DecorationRole, ThumbnailStateRole]
            )

    def forget_thumbnails(self) -> None:
        """Drop cached pixmaps (memory) except those of the rows shown now."""
        keep = set(self._rows_by_key)
        self._pixmaps = {k: v for k, v in self._pixmaps.items() if k in keep}
        self._requested &= keep

    # -- QAbstractListModel ---------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._results)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._results):
            return None
        r = self._results[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return Path(r.path).name
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = r.path
            if r.page:
                tip += f"\npage {r.page}"
            if r.snippet:
                tip += f"\n\n\u201c{r.snippet}\u201d"
            if r.matched_terms:
                tip += "\n\nmatched: " + ", ".join(r.matched_terms)
            if r.signals:
                tip += "\nfound by: " + ", ".join(r.signals)
            return tip
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(r)
        if role == ThumbnailStateRole:
            key = thumbnail_key(r)
            if key not in self._pixmaps:
                return "loading"
            return "none" if self._pixmaps[key] is None else "ready"
        if role == PathRole:
            return r.path
        if role == KindRole:
            return r.kind.value
        if role == ScoreRole:
            return r.score
        if role == SnippetRole:
            return r.snippet
        if role == PageRole:
            return r.page
        if role == ResultRole:
            return r
        return None

    def _pixmap(self, r: SearchResult) -> QPixmap | None:
        key = thumbnail_key(r)
        if key in self._pixmaps:
            return self._pixmaps[key]
        if key not in self._requested:
            self._requested.add(key)
            self.thumbnail_wanted.emit(key, r.path, r.page if r.kind is FileKind.DOCUMENT else None)
        return None
