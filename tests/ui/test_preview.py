"""The preview: a document's text with its passage marked, PDF pages at screen
resolution, and Left/Right walking the results."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from finder.core.ingest.thumbnails import ThumbnailCache
from finder.core.types import FileKind, SearchResult
from finder.ui.dialogs.preview import PASSAGE_COLOR, PreviewDialog
from tests.helpers import write_pdf, write_text

FILLER = "\n".join(f"line {i} of the filler before the passage" for i in range(300))


def _doc(path: Path, snippet: str | None = None, page: int | None = None) -> SearchResult:
    return SearchResult(str(path), FileKind.DOCUMENT, 0.5, snippet=snippet, page=page)


def _marked_text(dialog: PreviewDialog) -> str:
    """The text whose background is the passage colour."""
    out = []
    block = dialog.text_view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().background().color() == PASSAGE_COLOR:
                out.append(fragment.text())
            it += 1
        block = block.next()
    return " ".join(out)


def _dialog(qtbot: QtBot, tmp_path: Path, results: list[SearchResult], at: int) -> PreviewDialog:
    dialog = PreviewDialog(results[at], ThumbnailCache(tmp_path / "thumbs"), None, results)
    qtbot.addWidget(dialog)
    dialog.resize(1000, 1200)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_a_text_result_shows_its_text_with_the_passage_marked_and_in_view(
    qtbot: QtBot, tmp_path: Path
) -> None:
    notes = write_text(
        tmp_path / "notes.txt", FILLER + "\nthe quarterly\n  budget review\nis due\n" + FILLER
    )
    dialog = _dialog(qtbot, tmp_path, [_doc(notes, "the quarterly budget review is due")], 0)
    assert "line 299 of the filler" in dialog.text_view.toPlainText()
    assert _marked_text(dialog).split() == ["the", "quarterly", "budget", "review", "is", "due"]
    assert dialog.text_view.verticalScrollBar().value() > 0  # scrolled to the passage
    assert not dialog.passage.isVisible()


def test_an_html_result_shows_its_text(qtbot: QtBot, tmp_path: Path) -> None:
    page = write_text(
        tmp_path / "page.html", "<html><body><p>Hello <b>tidy</b> world</p></body></html>"
    )
    dialog = _dialog(qtbot, tmp_path, [_doc(page, "Hello tidy world")], 0)
    assert "<b>" not in dialog.text_view.toPlainText()
    assert _marked_text(dialog).split() == ["Hello", "tidy", "world"]


def test_a_pdf_page_renders_at_the_dialog_size(qtbot: QtBot, tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "report.pdf", ["first page", "second page"])
    dialog = _dialog(qtbot, tmp_path, [_doc(pdf, "second page", page=2)], 0)
    pixmap = dialog.picture.pixmap()
    assert not pixmap.isNull()
    assert pixmap.height() / pixmap.devicePixelRatio() >= 800


def test_right_and_left_walk_the_results(qtbot: QtBot, tmp_path: Path) -> None:
    first = write_text(tmp_path / "first.txt", "alpha words here")
    second = write_text(tmp_path / "second.txt", "beta words there")
    pdf = write_pdf(tmp_path / "third.pdf", ["gamma"])
    results = [_doc(first, "alpha words"), _doc(second, "beta words"), _doc(pdf, "gamma", 1)]
    dialog = _dialog(qtbot, tmp_path, results, 0)
    qtbot.keyClick(dialog.text_view, Qt.Key.Key_Right)
    assert dialog.current == results[1]
    assert "beta words there" in dialog.text_view.toPlainText()
    assert "second.txt" in dialog.windowTitle()
    qtbot.keyClick(dialog.text_view, Qt.Key.Key_Right)
    assert dialog.stack.currentWidget() is dialog.picture
    assert not dialog.picture.pixmap().isNull()
    qtbot.keyClick(dialog, Qt.Key.Key_Right)  # the last: stays
    assert dialog.current == results[2]
    qtbot.keyClick(dialog, Qt.Key.Key_Left)
    qtbot.keyClick(dialog.text_view, Qt.Key.Key_Left)
    assert dialog.current == results[0]
    assert "alpha words here" in dialog.text_view.toPlainText()


def test_the_preview_fits_the_screen(qtbot: QtBot, tmp_path: Path) -> None:
    """It opened 1000 px tall whatever the screen, hiding its path and buttons on a
    laptop's 768-860 px."""
    notes = write_text(tmp_path / "notes.txt", "a short note")
    dialog = PreviewDialog(_doc(notes), ThumbnailCache(tmp_path / "thumbs"), None, [_doc(notes)])
    qtbot.addWidget(dialog)
    free = dialog.screen().availableGeometry()
    assert dialog.height() <= free.height() and dialog.width() <= free.width()
