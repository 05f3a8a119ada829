"""The chips under the query bar (finder/ui/views/filter_bar.py): one per filter, understood
from the words or set by the person; removing one searches again with the rest; Backspace
at the start of the box and Delete on a chip remove them; no chips, no row."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt

from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.search.filters import Filters
from finder.core.types import FileKind, SearchResult
from tests.ui.filter_fakes import searching, wait_for_search

LISBON_SUMMER = Filters(
    after=date(2019, 6, 1), before=date(2019, 8, 31), place="Lisbon", exclude=("dogs",)
)


def _typed(window, controller, qtbot, searches, words, text: str, filters: Filters) -> None:  # type: ignore[no-untyped-def]
    words.understood[text] = ("at the beach", filters)
    before = len(searches.calls)
    window.query_bar.set_text(text)
    controller.search_text(text)
    wait_for_search(qtbot, searches, before + 1)
    qtbot.waitUntil(lambda: len(window.filter_bar.buttons) == len(filters.exclude) + 2)


def test_no_filter_no_row(make_window, tiny_embedder: ClipEmbedder, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    assert window.filter_bar.isHidden()
    controller.filters.toggle_year(2019)
    assert window.filter_bar.isVisible() and window.filter_bar.labels() == ["2019"]
    assert "chosen in the years" in window.filter_bar.buttons[0].toolTip()
    window.filter_bar.buttons[0].click()
    assert window.filter_bar.isHidden() and window.filter_bar.buttons == []


def test_the_words_understood_show_as_chips_and_a_removed_one_searches_with_the_rest(
    make_window, tiny_embedder: ClipEmbedder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    searches, words = searching(controller, qtbot)
    text = "at the beach in Lisbon summer 2019 -dogs"
    _typed(window, controller, qtbot, searches, words, text, LISBON_SUMMER)
    assert searches.calls[-1] == ("at the beach", searches.calls[-1][1], LISBON_SUMMER)
    assert window.filter_bar.labels() == ["Jun\u2013Aug 2019", "in Lisbon", "not: dogs"]

    place = window.filter_bar.buttons[1]
    assert "in Lisbon" in place.text() and "\u2715" in place.text()
    assert "understood from \u201cin Lisbon\u201d" in place.toolTip()
    place.click()
    wait_for_search(qtbot, searches, 2)
    assert searches.last_filters == Filters(
        after=date(2019, 6, 1), before=date(2019, 8, 31), exclude=("dogs",)
    )
    # The same words answered again: the removed chip stays removed.
    assert window.filter_bar.labels() == ["Jun\u2013Aug 2019", "not: dogs"]
    controller.search_text(text)
    wait_for_search(qtbot, searches, 3)
    assert window.filter_bar.labels() == ["Jun\u2013Aug 2019", "not: dogs"]
    assert searches.last_filters.place is None


def test_backspace_at_the_start_of_the_box_removes_the_last_chip(
    make_window, tiny_embedder: ClipEmbedder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    searches, words = searching(controller, qtbot)
    _typed(window, controller, qtbot, searches, words, "beach", LISBON_SUMMER)
    edit = window.query_bar.edit
    edit.setFocus()
    edit.setCursorPosition(len(edit.text()))
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)  # deletes a letter, not a chip
    assert edit.text() == "beac" and len(window.filter_bar.buttons) == 3
    edit.clear()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    assert window.filter_bar.labels() == ["Jun\u2013Aug 2019", "in Lisbon"]
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    assert window.filter_bar.isHidden()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)  # nothing left: nothing happens
    assert controller.filters.chips() == []


def test_tab_reaches_the_chips_and_delete_removes_one_keeping_the_focus_near(
    make_window, tiny_embedder: ClipEmbedder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    searches, words = searching(controller, qtbot)
    _typed(window, controller, qtbot, searches, words, "beach", LISBON_SUMMER)
    edit = window.query_bar.edit
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_Tab)
    first = window.filter_bar.buttons[0]
    assert window.focusWidget() is first  # offscreen: no active window
    qtbot.keyClick(first, Qt.Key.Key_Tab)
    second = window.filter_bar.buttons[1]
    assert window.focusWidget() is second
    qtbot.keyClick(second, Qt.Key.Key_Delete)
    wait_for_search(qtbot, searches, 2)
    assert window.filter_bar.labels() == ["Jun\u2013Aug 2019", "not: dogs"]
    assert window.focusWidget() is window.filter_bar.buttons[1]  # the next chip
    assert searches.last_filters.place is None
    qtbot.keyClick(window.filter_bar.buttons[1], Qt.Key.Key_Delete)
    qtbot.keyClick(window.filter_bar.buttons[0], Qt.Key.Key_Backspace)
    assert window.filter_bar.isHidden()
    assert window.focusWidget() is edit  # no chip left: back to the box


def test_a_results_folder_from_its_menu_becomes_a_folder_chip(
    make_window, tiny_embedder: ClipEmbedder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    searches, _ = searching(controller, qtbot)
    controller.search_text("a red circle")
    wait_for_search(qtbot, searches, 1)
    result = SearchResult("/home/ann/Pictures/2019/lisbon/tram.jpg", FileKind.PHOTO, 0.3)
    controller.results.set_results([result])
    menu = window.results.menu_for(controller.results.index(0))
    [only_here] = [a for a in menu.actions() if a.text().startswith("Search only in")]
    assert only_here.text() == "Search only in \u201clisbon\u201d"
    only_here.trigger()
    wait_for_search(qtbot, searches, 2)
    assert searches.last_filters == Filters(folder="/home/ann/Pictures/2019/lisbon")
    assert window.filter_bar.labels() == ["Folder: \u2026/2019/lisbon"]
