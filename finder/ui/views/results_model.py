"""The result list as a Qt model; thumbnails arrive later and fill in.

The main grid folds the clearly irrelevant results (match "tail") behind a last row,
"Show N weaker matches", and says relevance in words (strong, weak), never raw scores.
"""

from __future__ import annotations

from collections import Counter
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

from finder.core.types import FileKind, SearchResult, display_path
from finder.ui.views.photo_facts import facts

PathRole = Qt.ItemDataRole.UserRole + 1
KindRole = Qt.ItemDataRole.UserRole + 2
ScoreRole = Qt.ItemDataRole.UserRole + 3
SnippetRole = Qt.ItemDataRole.UserRole + 4
PageRole = Qt.ItemDataRole.UserRole + 5
ResultRole = Qt.ItemDataRole.UserRole + 6
ThumbnailStateRole = Qt.ItemDataRole.UserRole + 7  # "loading", "ready", "none"
# Lines of small text under a tile's name; None: its score (and page). A model may say more.
DetailRole = Qt.ItemDataRole.UserRole + 8
# True on the last row that reveals the folded weaker matches (it has no result).
MoreRole = Qt.ItemDataRole.UserRole + 9

# Best first: a strong match is never shown after a weak one.
LEVEL_ORDER = {"strong": 0, "weak": 1, "": 1, "tail": 2}

AnyIndex = QModelIndex | QPersistentModelIndex
MATCH_WORDS = {"strong": "strong match", "weak": "weak match", "tail": "barely related"}


def thumbnail_key(result: SearchResult) -> str:
    return f"{result.path}\0{result.page or 0}"


def count_text(results: list[SearchResult], elapsed_ms: float, limit: int) -> str:
    """How many results, said plainly: the weaker ones folded away and any cap."""
    relevant = sum(1 for r in results if r.match != "tail")
    weaker = len(results) - relevant
    text = f"{relevant:,} {'result' if relevant == 1 else 'results'} in {elapsed_ms:.0f} ms"
    if weaker:
        text += f" (+{weaker:,} weaker)"
    if len(results) >= limit:
        text += f" \u2014 first {limit:,} shown"
    return text


class ResultsModel(QAbstractListModel):
    """Rows are SearchResults. Asking for a row's picture requests its thumbnail once.

    `fold_weaker`: the "tail" results wait behind a last row until `reveal_weaker`.
    """

    # key, path, page; object, not str: a QString would lose a name that is not UTF-8
    thumbnail_wanted = Signal(object, object, object)

    def __init__(self, parent: Any = None, *, fold_weaker: bool = False) -> None:
        super().__init__(parent)
        self.fold_weaker = fold_weaker
        # Whether the rows answer the same question as before (a refresh after indexing):
        # the view then keeps its place instead of starting at the top.
        self.same_question = False
        # The results come sorted by date: keep their order (only the tail is folded).
        self.keep_order = False
        self._results: list[SearchResult] = []  # the rows shown
        self._folded: list[SearchResult] = []  # behind the "Show N weaker matches" row
        self._duplicate_names: set[str] = set()
        self._rows_by_key: dict[str, list[int]] = {}
        self._pixmaps: dict[str, QPixmap | None] = {}  # None: no preview exists
        self._requested: set[str] = set()

    # -- content ------------------------------------------------------------------------

    def set_results(self, results: list[SearchResult], *, same_question: bool = False) -> None:
        results = list(results)
        if self.fold_weaker and not self.keep_order:
            results.sort(key=lambda r: LEVEL_ORDER.get(r.match, 1))  # stable: keeps ranks
        self.beginResetModel()
        self.same_question = same_question
        if self.fold_weaker:
            self._results = [r for r in results if r.match != "tail"]
            self._folded = [r for r in results if r.match == "tail"]
        else:
            self._results, self._folded = results, []
        names = Counter(Path(r.path).name for r in results)
        self._duplicate_names = {name for name, n in names.items() if n > 1}
        self._index_rows()
        self.endResetModel()

    def reveal_weaker(self) -> None:
        """Show the folded results after the others, in place of the "Show N" row."""
        if not self._folded:
            return
        first, last = len(self._results), len(self._results) + len(self._folded) - 1
        self.beginRemoveRows(QModelIndex(), first, first)
        folded, self._folded = self._folded, []
        self.endRemoveRows()
        self.beginInsertRows(QModelIndex(), first, last)
        self._results += folded
        self._index_rows()
        self.endInsertRows()

    def _index_rows(self) -> None:
        self._rows_by_key = {}
        for row, result in enumerate(self._results):
            self._rows_by_key.setdefault(thumbnail_key(result), []).append(row)

    def result(self, row: int) -> SearchResult:
        return self._results[row]

    def results(self) -> list[SearchResult]:
        """The results shown (without the folded ones)."""
        return list(self._results)

    def folded_count(self) -> int:
        return len(self._folded)

    def is_more_row(self, row: int) -> bool:
        return bool(self._folded) and row == len(self._results)

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
        if parent.isValid():
            return 0
        return len(self._results) + (1 if self._folded else 0)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        if self.is_more_row(index.row()):
            return self._more_row_data(role)
        r = self._results[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return display_path(Path(r.path).name)
        if role == DetailRole:
            return self._detail(r)
        if role == MoreRole:
            return False
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = "\n".join([display_path(r.path), *facts(r)])  # when, where, which camera
            if r.match:
                tip += f"\n{MATCH_WORDS.get(r.match, r.match)}"
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

    def _more_row_data(self, role: int) -> Any:
        n = len(self._folded)
        text = f"Show {n:,} weaker {'match' if n == 1 else 'matches'}"
        if role == MoreRole:
            return True
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{text}: results that barely relate to the query"
        if role == DetailRole:
            return []
        if role == KindRole:
            return "more"
        return None

    def _detail(self, r: SearchResult) -> list[str]:
        """One line under the name: how well it matches, its page, and its folder and
        the day it was taken when other results share its name (ten green_star.jpg are
        told apart by where and when)."""
        parts = [r.match] if r.match in ("strong", "weak") else []
        if r.page:
            parts.append(f"page {r.page}")
        name = Path(r.path).name
        if name in self._duplicate_names:
            parts.append(f"in {display_path(Path(r.path).parent.name or str(Path(r.path).parent))}")
            if r.taken:
                parts.append(r.taken[:10])  # the day, ISO: sorts and reads the same anywhere
        return [" \u00b7 ".join(parts)] if parts else []

    def _pixmap(self, r: SearchResult) -> QPixmap | None:
        key = thumbnail_key(r)
        if key in self._pixmaps:
            return self._pixmaps[key]
        if key not in self._requested:
            self._requested.add(key)
            self.thumbnail_wanted.emit(key, r.path, r.page if r.kind is FileKind.DOCUMENT else None)
        return None
