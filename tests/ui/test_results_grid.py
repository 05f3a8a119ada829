"""The results grid: where a new answer starts, relevance in words, the folded weaker
matches, duplicate names told apart, tiles filling the row, a wheel notch a row."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QToolTip

from finder.core.types import FileKind, SearchResult
from finder.ui.views.results_model import DetailRole, MoreRole, ResultsModel
from finder.ui.views.results_view import ResultsView
from finder.ui.views.thumbnail_delegate import TILE


def _photos(n: int, folder: str = "p", match: str = "weak") -> list[SearchResult]:
    return [
        SearchResult(path=f"/{folder}/{i}.jpg", kind=FileKind.PHOTO, score=0.5, match=match)
        for i in range(n)
    ]


def _grid(qtbot, width: int = 900, height: int = 600) -> tuple[ResultsModel, ResultsView]:  # type: ignore[no-untyped-def]
    model = ResultsModel(fold_weaker=True)
    view = ResultsView()
    view.setModel(model)
    view.resize(width, height)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    return model, view


def test_a_new_question_starts_at_the_top_with_the_first_result_current(qtbot) -> None:  # type: ignore[no-untyped-def]
    model, view = _grid(qtbot)
    model.set_results(_photos(300))
    bar = view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 5_000)
    view.setCurrentIndex(model.index(250, 0))
    bar.setValue(3_000)
    assert bar.value() == 3_000
    model.set_results(_photos(300, folder="q"))  # another query, or another tab
    assert view.currentIndex().row() == 0
    assert bar.value() == 0
    # The same question answered again (the index changed) keeps the place.
    view.setCurrentIndex(model.index(120, 0))
    model.set_results(_photos(300, folder="r"), same_question=True)
    assert view.currentIndex().row() == 120


def test_relevance_in_words_weaker_matches_folded_behind_a_last_row(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = ResultsModel(fold_weaker=True)
    results = [
        SearchResult("/a/weak.jpg", FileKind.PHOTO, 0.6, relevance=0.6, match="weak"),
        SearchResult("/a/strong.jpg", FileKind.PHOTO, 0.99, relevance=0.99, match="strong"),
        SearchResult("/a/tail1.jpg", FileKind.PHOTO, 0.1, relevance=0.1, match="tail"),
        SearchResult("/a/tail2.pdf", FileKind.DOCUMENT, 0.05, page=3, match="tail"),
    ]
    model.set_results(results)
    # Strong before weak: the order agrees with the words shown.
    assert [r.path for r in model.results()] == ["/a/strong.jpg", "/a/weak.jpg"]
    assert model.data(model.index(0), DetailRole) == ["strong"]
    assert model.data(model.index(1), DetailRole) == ["weak"]
    assert model.rowCount() == 3
    more = model.index(2)
    assert model.data(more, MoreRole) is True
    assert model.data(more, Qt.ItemDataRole.DisplayRole) == "Show 2 weaker matches"
    assert model.data(model.index(0), MoreRole) is False
    model.reveal_weaker()
    assert model.rowCount() == 4 and model.folded_count() == 0
    assert model.data(model.index(3), DetailRole) == ["page 3"]  # no raw score
    # The Compare window's grid shows every result as it came.
    plain = ResultsModel()
    plain.set_results(results)
    assert plain.rowCount() == 4 and plain.results()[0].path == "/a/weak.jpg"


def test_the_last_row_reveals_the_weaker_matches_on_a_click(qtbot) -> None:  # type: ignore[no-untyped-def]
    model, view = _grid(qtbot)
    model.set_results(_photos(2) + _photos(3, folder="t", match="tail"))
    assert model.rowCount() == 3
    rect = view.visualRect(model.index(2))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert model.rowCount() == 5 and view.currentIndex().row() == 2


def test_duplicate_names_show_their_folder(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = ResultsModel(fold_weaker=True)
    model.set_results(
        [
            SearchResult("/x/Holidays/green_star.jpg", FileKind.PHOTO, 0.9, match="strong"),
            SearchResult("/x/Work/green_star.jpg", FileKind.PHOTO, 0.8, match="weak"),
            SearchResult("/x/Work/unique.jpg", FileKind.PHOTO, 0.7, match="weak"),
        ]
    )
    assert model.data(model.index(0), DetailRole) == ["strong \u00b7 in Holidays"]
    assert model.data(model.index(1), DetailRole) == ["weak \u00b7 in Work"]
    assert model.data(model.index(2), DetailRole) == ["weak"]
    # The day it was taken, when known, tells copies in one folder apart.
    model.set_results(
        [
            SearchResult("/x/A/IMG_1.jpg", FileKind.PHOTO, 0.9, match="strong", taken=day)
            for day in ("2019-07-14T18:03:00+01:00", "2021-03-02T09:00:00")
        ]
    )
    assert model.data(model.index(0), DetailRole) == ["strong \u00b7 in A \u00b7 2019-07-14"]
    assert model.data(model.index(1), DetailRole) == ["strong \u00b7 in A \u00b7 2021-03-02"]


def test_a_tooltip_does_not_outlive_its_results(qtbot) -> None:  # type: ignore[no-untyped-def]
    model, view = _grid(qtbot)
    model.set_results(_photos(3))
    QToolTip.showText(view.mapToGlobal(QPoint(20, 20)), "/p/0.jpg", view)
    qtbot.waitUntil(QToolTip.isVisible)
    model.set_results(_photos(3, folder="other"))
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=1_000)  # not after 10 s
    tip = model.data(model.index(0), Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("/other/0.jpg")


def test_tiles_fill_the_row(qtbot) -> None:  # type: ignore[no-untyped-def]
    model, view = _grid(qtbot, width=900)
    model.set_results(_photos(40))
    for width in (900, 700, 1000, 1234, 480):
        view.resize(width, 600)
        QApplication.processEvents()
        first_row = [
            r
            for r in range(40)
            if view.visualRect(model.index(r)).top() == view.visualRect(model.index(0)).top()
        ]
        right = view.visualRect(model.index(first_row[-1])).right()
        # What is left at the right is at most a scroll bar's room and rounding.
        assert (
            view.viewport().width() - right
            <= view.verticalScrollBar().sizeHint().width() + len(first_row) + 1
        )
        assert view.gridSize().width() >= TILE.width()
        assert (
            view.visualRect(model.index(0)).width() == view.gridSize().width()
        )  # tile fills its cell


def test_one_wheel_notch_scrolls_about_one_row(qtbot) -> None:  # type: ignore[no-untyped-def]
    model, view = _grid(qtbot)
    model.set_results(_photos(400))
    bar = view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 5_000)
    viewport = view.viewport()
    event = QWheelEvent(
        QPointF(50, 50),
        QPointF(viewport.mapToGlobal(QPoint(50, 50))),
        QPoint(0, 0),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, event)
    row = view.gridSize().height()
    assert 0.6 * row <= bar.value() <= 1.4 * row


def test_documents_without_a_page_picture_show_their_passage(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Text, HTML and Word tiles were one generic page icon each: now the matching
    passage is set on the page, with the file's type in a corner."""
    from PySide6.QtGui import QImage

    from finder.ui.views.results_model import thumbnail_key

    model, view = _grid(qtbot)
    docs = [
        SearchResult("/d/a.txt", FileKind.DOCUMENT, 0.9, snippet="nails, glue and a hammer"),
        SearchResult("/d/b.txt", FileKind.DOCUMENT, 0.8, snippet="minutes of the board meeting"),
        SearchResult("/d/c.txt", FileKind.DOCUMENT, 0.7, snippet="minutes of the board meeting"),
        SearchResult("/d/d.html", FileKind.DOCUMENT, 0.7, snippet="minutes of the board meeting"),
    ]
    model.set_results(docs)
    for result in docs:
        model.set_thumbnail(thumbnail_key(result), QImage())  # no page picture exists
    view.clearSelection()
    view.setCurrentIndex(model.index(0, 0).siblingAtRow(-1))  # no tile highlighted
    qtbot.wait(50)
    shot = view.viewport().grab().toImage()

    def page(row: int) -> QImage:
        rect = view.visualRect(model.index(row))
        return shot.copy(rect.adjusted(20, 14, -20, -60))  # the page, not the name

    assert page(0) != page(1)  # different passages, different pages
    assert page(1) == page(2)  # the same passage, the same page
    assert page(2) != page(3)  # .txt and .html say which they are
