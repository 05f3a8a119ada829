"""The filters end to end in the window, over a real small library: photos with EXIF
dates indexed, the years they were taken in shown in the strip, a year clicked shows only
that year's photos, a year typed in the words does the same as a chip."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import Qt

from finder.core.models.torch_runtime import ClipEmbedder
from finder.ui.views.main_window import PAGE_OVERVIEW, PAGE_RESULTS
from tests.exif_photos import exif_for

TAKEN = {
    "red-2018.jpg": "2018:05:02 10:00:00",
    "blue-2018.jpg": "2018:11:20 10:00:00",
    "red-2019.jpg": "2019:07:14 10:00:00",
    "green-2019.jpg": "2019:08:01 10:00:00",
    "orange-2019.jpg": "2019:12:30 10:00:00",
    "red-2021.jpg": "2021:03:03 10:00:00",
}


def _distinct_photo(path: Path, seed: int, taken: str) -> None:
    """A picture unlike the others (random blocks), so none is taken for another's copy."""
    rng = random.Random(seed)
    img = Image.new("RGB", (320, 240))
    draw = ImageDraw.Draw(img)
    for x in range(0, 320, 40):
        for y in range(0, 240, 40):
            fill = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            draw.rectangle((x, y, x + 39, y + 39), fill=fill)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, exif=exif_for(taken).tobytes())


@pytest.fixture
def dated_photos(tmp_path: Path) -> Path:
    root = tmp_path / "Dated"
    for seed, (name, taken) in enumerate(TAKEN.items()):
        _distinct_photo(root / name, seed, taken)
    return root


def _names(controller) -> set[str]:  # type: ignore[no-untyped-def]
    """The results shown, and those folded behind "Show N weaker matches"."""
    controller.results.reveal_weaker()
    return {Path(r.path).name for r in controller.results.results()}


def _indexed(make_window, tiny_embedder, dated_photos: Path, qtbot):  # type: ignore[no-untyped-def]
    """The window over a library of the dated photos, indexed."""
    window, controller = make_window(tiny_embedder)
    controller.start()
    with qtbot.waitSignal(controller.indexing_finished, timeout=60_000):
        controller.add_folder(str(dated_photos))
    return window, controller


def test_a_year_clicked_shows_only_that_years_photos(
    make_window, tiny_embedder: ClipEmbedder, dated_photos: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = _indexed(make_window, tiny_embedder, dated_photos, qtbot)
    qtbot.waitUntil(lambda: window.year_strip.years() == [2018, 2019, 2021], timeout=10_000)
    assert window.year_strip.button(2019).toolTip().startswith("2019: 3 photos")

    controller.search_text("a red circle")
    qtbot.waitUntil(lambda: len(_names(controller)) == len(TAKEN), timeout=10_000)
    qtbot.mouseClick(window.year_strip.button(2019), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: _names(controller) == {"red-2019.jpg", "green-2019.jpg", "orange-2019.jpg"},
        timeout=10_000,
    )
    assert window.filter_bar.labels() == ["2019"]
    qtbot.mouseClick(window.year_strip.button(2019), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(_names(controller)) == len(TAKEN), timeout=10_000)
    assert window.filter_bar.isHidden()


def test_a_year_in_the_words_is_a_chip_and_narrows_the_search(
    make_window, tiny_embedder: ClipEmbedder, dated_photos: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = _indexed(make_window, tiny_embedder, dated_photos, qtbot)
    controller.search_text("a red circle 2018")
    qtbot.waitUntil(lambda: window.filter_bar.labels() == ["2018"], timeout=10_000)
    qtbot.waitUntil(lambda: _names(controller) == {"red-2018.jpg", "blue-2018.jpg"})
    assert window.year_strip.checked_years() == [2018]
    window.filter_bar.buttons[0].click()  # the chip's ✕: every year again
    qtbot.waitUntil(lambda: len(_names(controller)) == len(TAKEN), timeout=10_000)
    assert window.year_strip.checked_years() == []


def test_a_year_clicked_before_any_words_shows_that_years_photos(
    make_window, tiny_embedder: ClipEmbedder, dated_photos: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    """From the overview, a click on a year browses its photos, newest first (it only
    set a chip for a search still to be typed)."""
    window, controller = _indexed(make_window, tiny_embedder, dated_photos, qtbot)
    qtbot.waitUntil(lambda: window.year_strip.years() == [2018, 2019, 2021], timeout=10_000)
    assert window.pages.currentIndex() == PAGE_OVERVIEW
    qtbot.mouseClick(window.year_strip.button(2019), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.results.rowCount() == 3, timeout=10_000)
    assert window.pages.currentIndex() == PAGE_RESULTS
    taken = [r.taken for r in controller.results.results()]
    assert all(t and t.startswith("2019") for t in taken)
    assert taken == sorted(taken, reverse=True)  # newest first
    qtbot.mouseClick(window.year_strip.button(2019), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.pages.currentIndex() == PAGE_OVERVIEW, timeout=10_000)
