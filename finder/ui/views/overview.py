"""What the main area shows when folders are indexed and nothing is asked (after the
first index run, or after Esc): what the library holds, its newest photos, a few
queries to try and how to search with a picture. Never a blank pane."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from finder.core.types import FileKind, SearchResult
from finder.ui.views.results_model import ResultsModel
from finder.ui.views.results_view import ResultsView

EXAMPLE_QUERIES = (
    "sunset over the sea",
    "a receipt",
    "people at the beach",
    "a screenshot of a chart",
    "a handwritten note",
)


@dataclass
class LibraryOverview:
    photos: int = 0
    documents: int = 0
    folders: int = 0
    errors: int = 0
    indexing: bool = False
    recent: list[str] = field(default_factory=list)  # newest photos first

    @property
    def summary(self) -> str:
        folders = f"{self.folders:,} folder" + ("" if self.folders == 1 else "s")
        text = (
            f"{self.photos:,} photo{'' if self.photos == 1 else 's'} and "
            f"{self.documents:,} document{'' if self.documents == 1 else 's'} in {folders}"
        )
        if self.errors:
            text += f" \u00b7 {self.errors:,} could not be read (see Log)"
        if self.indexing:
            text += " \u00b7 indexing\u2026 what is indexed can already be searched"
        return text


class OverviewPage(QWidget):
    def __init__(self, parent: QWidget, on_example: Callable[[str], None]) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 8)
        self.title = QLabel("<h2>Your library</h2>", self)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        hint = QLabel(
            "Describe what you are looking for in the box above, or paste (Ctrl+V) or "
            "drop a screenshot or photo onto this window to find related documents and "
            "similar pictures. Esc comes back here.",
            self,
        )
        hint.setWordWrap(True)
        # Links in a wrapping label, not a row of buttons: a narrow window keeps its width.
        links = " \u00b7 ".join(
            f'<a href="{html.escape(q)}">\u201c{html.escape(q)}\u201d</a>' for q in EXAMPLE_QUERIES
        )
        self.examples = QLabel(f"Try: {links}", self)
        self.examples.setWordWrap(True)
        self.examples.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByKeyboard
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        self.examples.linkActivated.connect(on_example)
        self.recent_title = QLabel("<b>Newest photos</b>", self)
        self.recent_model = ResultsModel(self)
        self.recent = ResultsView(self)
        self.recent.setModel(self.recent_model)
        self.recent.setAccessibleName("Newest photos")
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addSpacing(6)
        layout.addWidget(hint)
        layout.addWidget(self.examples)
        layout.addSpacing(8)
        layout.addWidget(self.recent_title)
        layout.addWidget(self.recent, 1)

    def show_overview(self, overview: LibraryOverview) -> None:
        self.summary.setText(overview.summary)
        results = [SearchResult(path, FileKind.PHOTO, 0.0) for path in overview.recent]
        if results != self.recent_model.results():
            self.recent_model.set_results(results)
        self.recent_title.setVisible(bool(results))
        self.recent.setVisible(bool(results))
