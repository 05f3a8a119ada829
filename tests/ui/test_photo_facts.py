"""When, where and with what a result was taken, in its tooltip and its preview
(finder/ui/views/photo_facts.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from finder.core.ingest.thumbnails import ThumbnailCache
from finder.core.types import FileKind, SearchResult
from finder.ui.dialogs.preview import PreviewDialog
from finder.ui.views.photo_facts import date_words, facts
from finder.ui.views.results_model import ResultsModel

LISBON = SearchResult(
    "/p/tram.jpg",
    FileKind.PHOTO,
    0.3,
    match="strong",
    taken="2019-07-14T18:32:05+01:00",
    taken_source="exif",
    place="Lisbon, Portugal",
    camera="Google Pixel 7",
)


def test_dates_read_as_people_read_them() -> None:
    assert date_words("2019-07-14T18:32:05+01:00", "exif") == "Taken 14 Jul 2019, 18:32"
    assert date_words("2019-07-14", "exif") == "Taken 14 Jul 2019"
    assert date_words("2021-03-02T00:00:00", "document") == "Dated 2 Mar 2021"
    assert date_words("2020-01-05T09:15:00", "file") == "File date 5 Jan 2020, 09:15"
    assert date_words("sometime", None) == "Taken sometime"


def test_only_what_is_known_is_said() -> None:
    assert facts(LISBON) == [
        "Taken 14 Jul 2019, 18:32",
        "Lisbon, Portugal",
        "Camera: Google Pixel 7",
    ]
    assert facts(SearchResult("/p/a.jpg", FileKind.PHOTO, 0.3, place="Oslo, Norway")) == [
        "Oslo, Norway"
    ]
    assert facts(SearchResult("/p/a.jpg", FileKind.PHOTO, 0.3)) == []


def test_the_tooltip_says_when_where_and_which_camera(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = ResultsModel()
    model.set_results([LISBON, SearchResult("/p/b.jpg", FileKind.PHOTO, 0.2)])
    tip = model.data(model.index(0), Qt.ItemDataRole.ToolTipRole)
    assert tip.splitlines()[:4] == [
        "/p/tram.jpg",
        "Taken 14 Jul 2019, 18:32",
        "Lisbon, Portugal",
        "Camera: Google Pixel 7",
    ]
    plain = model.data(model.index(1), Qt.ItemDataRole.ToolTipRole)
    assert plain.splitlines()[0] == "/p/b.jpg" and "Taken" not in plain


def test_the_preview_says_them_under_the_picture(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    dialog = PreviewDialog(LISBON, ThumbnailCache(tmp_path / "thumbs"))
    qtbot.addWidget(dialog)
    assert dialog.details.text() == (
        "/p/tram.jpg  \u00b7  Taken 14 Jul 2019, 18:32  \u00b7  Lisbon, Portugal"
        "  \u00b7  Camera: Google Pixel 7"
    )
