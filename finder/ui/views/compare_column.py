"""One column of the Compare window: a model's name, what it answered, and its grid."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from finder.core.search.compare import ComparedColumn, ranks_by_path
from finder.core.types import SearchResult
from finder.ui.controller import Controller
from finder.ui.views.results_model import DetailRole, ResultsModel
from finder.ui.views.results_view import ResultsView
from finder.ui.views.thumbnail_delegate import DETAIL_LINE, TILE

COMPARE_TILE = QSize(TILE.width(), TILE.height() + DETAIL_LINE)  # room for "also #3 in B"


class ComparedResults(ResultsModel):
    """One column's results; each tile also says its score, relevance and where the
    other model ranked the same file."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.other_ranks: dict[str, int] = {}
        self.other = "B"

    def set_column(
        self, results: list[SearchResult], other_ranks: dict[str, int], other: str
    ) -> None:
        self.other_ranks, self.other = other_ranks, other
        self.set_results(results)
        self.forget_thumbnails()

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role not in (DetailRole, Qt.ItemDataRole.ToolTipRole)
            or not index.isValid()
            or not 0 <= index.row() < self.rowCount()
        ):
            return super().data(index, role)
        r = self.result(index.row())
        rank = self.other_ranks.get(r.path)
        also = f"also #{rank} in {self.other}" if rank else ""
        if role == DetailRole:
            score = f"{r.score:.3f}" + (f" \u00b7 {r.relevance_label}" if r.match else "")
            return [f"p. {r.page} \u00b7 {score}" if r.page else score, also]
        tip = f"#{index.row() + 1}  score {r.score:.4f}"
        if r.relevance is not None:
            tip += f"  \u00b7  relevance {r.relevance:.2f} ({r.relevance_label})"
        tip += "\n" + (also or f"not in {self.other}'s top {len(self.other_ranks)}")
        return f"{tip}\n\n{super().data(index, role)}"


class ColumnView(QWidget):
    """A model's name, a line about its answer, and its grid (or why it has none)."""

    def __init__(self, letter: str, controller: Controller, parent: QWidget) -> None:
        super().__init__(parent)
        self.letter = letter
        self.title = QLabel(self)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.results = ComparedResults(self)
        self._feeder = controller.feed_thumbnails(self.results)
        self.view = ResultsView(self, COMPARE_TILE)
        self.view.setModel(self.results)
        self.view.setAccessibleName(f"Results of model {letter}")
        self.message = QLabel(self)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.view)
        self.pages.addWidget(self.message)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addWidget(self.pages, 1)

    def start(self, label: str) -> None:
        self.title.setText(f"<b>{self.letter}</b> \u00b7 {label}")
        self.summary.setText("Searching\u2026")

    def show_message(self, text: str) -> None:
        self.results.set_column([], {}, "")
        self.message.setText(text)
        self.pages.setCurrentWidget(self.message)

    def show_column(
        self, column: ComparedColumn, other: ComparedColumn | None, other_letter: str, hint: str
    ) -> None:
        """`column`'s results, each marked with its rank in `other` (None: the other
        model is still searching; its ranks come with its answer)."""
        self.title.setText(f"<b>{self.letter}</b> \u00b7 {column.label}")
        if column.error:
            self.summary.setText("No results")
            why = html.escape(column.error)
            self.show_message(
                f"<b>This model cannot answer</b><br>{why}.<br><br>{hint}"
                if column.no_index
                else f"<b>This model cannot answer</b><br>{why}"
            )
            return
        others = ranks_by_path(other.results) if other is not None else {}
        self.results.set_column(column.results, others, other_letter)
        strong = sum(1 for r in column.results if r.match == "strong")
        noun = "result" if len(column.results) == 1 else "results"
        parts = [f"{len(column.results)} {noun}, {strong} strong"]
        if other is not None and not other.error:
            parts.append(
                f"{sum(1 for r in column.results if r.path in others)} also in {other_letter}"
            )
        ms = 1000 * column.search_s
        parts.append(f"{ms:.0f} ms" if ms >= 1 else "under 1 ms")
        self.summary.setText(" \u00b7 ".join(parts))
        if column.results:
            self.pages.setCurrentWidget(self.view)
        else:
            self.show_message("No results: nothing is indexed with this model yet.")
