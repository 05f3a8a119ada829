from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from finder.core.types import FileKind, SearchResult
from finder.ui.views.results_model import (
    PathRole,
    ResultsModel,
    ThumbnailStateRole,
    thumbnail_key,
)


def _results(n: int) -> list[SearchResult]:
    return [
        SearchResult(path=f"/p/{i}.jpg", kind=FileKind.PHOTO, score=1 - i / 100) for i in range(n)
    ] + [SearchResult(path="/d/a.pdf", kind=FileKind.DOCUMENT, score=0.5, snippet="tax", page=2)]


def test_model_passes_qtmodeltester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = ResultsModel()
    model.set_results(_results(20))
    qtmodeltester.check(model)
    model.set_results([])
    qtmodeltester.check(model)


def test_rows_roles_and_tooltips() -> None:
    model = ResultsModel()
    model.set_results(_results(3))
    assert model.rowCount() == 4
    assert model.data(model.index(0), Qt.ItemDataRole.DisplayRole) == "0.jpg"
    assert model.data(model.index(3), PathRole) == "/d/a.pdf"
    tip = model.data(model.index(3), Qt.ItemDataRole.ToolTipRole)
    assert "page 2" in tip and "tax" in tip


def test_thumbnails_are_requested_once_and_fill_in(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = ResultsModel()
    results = _results(2)
    model.set_results(results)
    wanted: list[tuple[str, str, object]] = []
    model.thumbnail_wanted.connect(lambda *args: wanted.append(args))
    index = model.index(0)
    assert model.data(index, Qt.ItemDataRole.DecorationRole) is None
    assert model.data(index, Qt.ItemDataRole.DecorationRole) is None
    assert len(wanted) == 1 and wanted[0][1] == "/p/0.jpg"
    assert model.data(index, ThumbnailStateRole) == "loading"
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.red)
    with qtbot.waitSignal(model.dataChanged):
        model.set_thumbnail(thumbnail_key(results[0]), image)
    assert model.data(index, ThumbnailStateRole) == "ready"
    assert not model.data(index, Qt.ItemDataRole.DecorationRole).isNull()
    model.set_thumbnail(thumbnail_key(results[1]), QImage())  # nothing to show
    assert model.data(model.index(1), ThumbnailStateRole) == "none"


def test_ten_thousand_results_request_only_visible_thumbnails(qtbot) -> None:  # type: ignore[no-untyped-def]
    from finder.ui.views.results_view import ResultsView

    model = ResultsModel()
    view = ResultsView()
    view.setModel(model)
    view.resize(900, 600)
    qtbot.addWidget(view)
    view.show()
    wanted: list[str] = []
    model.thumbnail_wanted.connect(lambda key, path, page: wanted.append(path))
    model.set_results(
        [SearchResult(path=f"/p/{i}.jpg", kind=FileKind.PHOTO, score=0.5) for i in range(10_000)]
    )
    qtbot.waitUntil(lambda: len(wanted) > 0)
    first_screen = len(wanted)
    assert first_screen < 60  # a screenful, not ten thousand
    bar = view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 100_000)  # batched layout of all rows is done
    bar.setValue(bar.maximum())
    qtbot.waitUntil(lambda: "/p/9999.jpg" in wanted)
    assert len(wanted) < 2 * first_screen + 20


def test_preview_highlights_the_matched_words() -> None:
    from finder.ui.dialogs.preview import highlight

    assert (
        highlight("Invoice 4471 <paid>", ["invoice", "4471"])
        == "<b>Invoice</b> <b>4471</b> &lt;paid&gt;"
    )
    assert highlight("nothing here", []) == "nothing here"
