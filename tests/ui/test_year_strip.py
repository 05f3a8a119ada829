"""The year strip and the sort (finder/ui/views/year_strip.py): the years that have photos,
a click narrows the search to one (a chip), a second click shows all years again; the sort
box and its shortcut order the results; no dates, no strip."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.search.filters import Filters, Sort
from finder.core.types import FileKind, SearchResult
from finder.ui.views.year_strip import SORT_SHORTCUT
from tests.ui.filter_fakes import searching, wait_for_search

YEARS = [(2017, 3), (2019, 120), (2020, 40)]


def test_no_dates_no_strip_then_the_years_from_the_library(
    make_window, tiny_embedder: ClipEmbedder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    assert window.year_strip.isHidden()
    controller.library.years = lambda: list(reversed(YEARS))  # the library's answer
    controller.folders_changed.emit()  # an index run ended: the years are asked again
    qtbot.waitUntil(lambda: window.year_strip.isVisible())
    assert window.year_strip.years() == [2017, 2019, 2020]
    button = window.year_strip.button(2019)
    assert button.toolTip().startswith("2019: 120 photos")
    assert window.year_strip.button(2017).share < button.share == 1.0
    controller.library.years = lambda: []
    controller.folders_changed.emit()
    qtbot.waitUntil(lambda: window.year_strip.isHidden())


def test_a_year_clicked_narrows_the_search_and_a_second_click_widens_it(
    make_window, tiny_embedder: ClipEmbedder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    searches, _ = searching(controller, qtbot)
    controller.filters.set_years(YEARS)
    controller.search_text("a red circle")
    wait_for_search(qtbot, searches, 1)
    assert searches.last_filters == Filters()

    qtbot.mouseClick(window.year_strip.button(2019), Qt.MouseButton.LeftButton)
    wait_for_search(qtbot, searches, 2)
    assert searches.last_filters == Filters(after=date(2019, 1, 1), before=date(2019, 12, 31))
    assert window.filter_bar.labels() == ["2019"]
    assert window.year_strip.checked_years() == [2019]

    qtbot.mouseClick(window.year_strip.button(2020), Qt.MouseButton.LeftButton)
    wait_for_search(qtbot, searches, 3)
    assert window.filter_bar.labels() == ["2020"]
    assert window.year_strip.checked_years() == [2020]

    qtbot.mouseClick(window.year_strip.button(2020), Qt.MouseButton.LeftButton)
    wait_for_search(qtbot, searches, 4)
    assert searches.last_filters == Filters()
    assert window.filter_bar.isHidden() and window.year_strip.checked_years() == []


def test_words_that_say_a_range_light_its_years_and_a_click_picks_one(
    make_window, tiny_embedder: ClipEmbedder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    searches, words = searching(controller, qtbot)
    controller.filters.set_years(YEARS)
    span = Filters(after=date(2017, 1, 1), before=date(2019, 12, 31))
    words.understood["beach 2017-2019"] = ("beach", span)
    controller.search_text("beach 2017-2019")
    wait_for_search(qtbot, searches, 1)
    qtbot.waitUntil(lambda: window.filter_bar.labels() == ["2017\u20132019"])
    assert window.year_strip.checked_years() == [2017, 2019]
    qtbot.mouseClick(window.year_strip.button(2019), Qt.MouseButton.LeftButton)
    wait_for_search(qtbot, searches, 2)
    assert searches.last_filters == Filters(after=date(2019, 1, 1), before=date(2019, 12, 31))
    assert window.filter_bar.labels() == ["2019"]
    # The only year shown, clicked again: neither the click's year nor the words' range.
    qtbot.mouseClick(window.year_strip.button(2019), Qt.MouseButton.LeftButton)
    wait_for_search(qtbot, searches, 3)
    assert searches.last_filters == Filters()
    assert window.filter_bar.isHidden()


def test_the_sort_box_and_its_shortcut_order_the_results(
    make_window, tiny_embedder: ClipEmbedder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    searches, _ = searching(controller, qtbot)
    controller.filters.set_years(YEARS)
    controller.search_text("a red circle")
    wait_for_search(qtbot, searches, 1)
    box = window.year_strip.sort_box
    assert box.currentText() == "Relevance"
    box.setCurrentIndex(box.findText("Newest first"))
    wait_for_search(qtbot, searches, 2)
    assert searches.last_filters.sort is Sort.DATE
    [sort_action] = [a for a in window.actions() if a.shortcut() == QKeySequence(SORT_SHORTCUT)]
    sort_action.trigger()
    wait_for_search(qtbot, searches, 3)
    assert searches.last_filters.sort is Sort.DATE_ASC
    assert box.currentText() == "Oldest first"
    sort_action.trigger()
    wait_for_search(qtbot, searches, 4)
    assert searches.last_filters.sort is Sort.RELEVANCE and box.currentText() == "Relevance"
    assert window.filter_bar.isHidden()  # the sort is no chip


def test_sorted_by_date_the_grid_keeps_the_order_and_folds_only_the_tail(
    make_window, tiny_embedder: ClipEmbedder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    newest_weak = SearchResult("/p/2021.jpg", FileKind.PHOTO, 0.2, match="weak")
    older_strong = SearchResult("/p/2019.jpg", FileKind.PHOTO, 0.4, match="strong")
    unrelated = SearchResult("/p/2018.jpg", FileKind.PHOTO, 0.1, match="tail")
    answer = [newest_weak, older_strong, unrelated]
    controller.results.set_results(answer)
    assert controller.results.results() == [older_strong, newest_weak]  # by relevance
    controller.filters.set_sort(Sort.DATE)
    controller.results.set_results(answer)
    assert controller.results.results() == [newest_weak, older_strong]
    assert controller.results.folded_count() == 1


def test_a_year_clicked_before_any_words_is_a_chip_and_a_question(
    make_window, tiny_embedder: ClipEmbedder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    """No words needed: the year's photos are shown (test_filters_in_window.py)."""
    window, controller = make_window(tiny_embedder)
    controller.filters.set_years(YEARS)
    qtbot.mouseClick(window.year_strip.button(2019), Qt.MouseButton.LeftButton)
    assert window.filter_bar.labels() == ["2019"]
    assert controller.has_query()
