"""The results in the real window: what is shown always reflects the index and the
question, a capped list says so, a random-weights model is called out, and the layout
holds at a narrow width."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from finder.core.types import FileKind, SearchResult
from finder.ui.controller import RESULT_LIMIT
from finder.ui.model_lifecycle import ModelPhase


def _indexed_window(make_window, tiny_embedder, photo_folder, qtbot):  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    controller.start()
    assert controller.model_phase is ModelPhase.READY
    with qtbot.waitSignal(controller.indexing_finished, timeout=60_000):
        controller.add_folder(str(photo_folder))
    return window, controller


def test_a_removed_folder_leaves_the_grid_and_a_cleared_image_leaves_no_count(
    make_window, tiny_embedder, photo_folder: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = _indexed_window(make_window, tiny_embedder, photo_folder, qtbot)
    QApplication.clipboard().setImage(QImage(str(photo_folder / "red-circle.jpg")))
    window.paste_image()
    qtbot.waitUntil(lambda: controller.results.rowCount() > 0, timeout=10_000)
    qtbot.waitUntil(lambda: "results in" in window.status_label.text(), timeout=10_000)
    window.query_bar.chip.click()
    assert controller.results.rowCount() == 0
    assert "result" not in window.status_label.text()  # no count of a grid now empty

    controller.search_text("a red circle")
    qtbot.waitUntil(lambda: controller.results.rowCount() > 0, timeout=10_000)
    catalog = controller.library._catalog
    indexed = sum(catalog.root_counts(catalog.roots()[0].id).values())
    with qtbot.waitSignal(controller.indexing_finished, timeout=60_000):
        controller.remove_folder(str(photo_folder))
    qtbot.waitUntil(lambda: controller.results.rowCount() == 0, timeout=10_000)
    # The status counts the removed folder's files (it said "0 removed").
    assert indexed > 0
    qtbot.waitUntil(lambda: f"{indexed:,} removed" in window.status_label.text(), timeout=10_000)


def test_results_of_a_random_weights_model_carry_a_loud_warning(
    make_window, tiny_embedder, photo_folder: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = _indexed_window(make_window, tiny_embedder, photo_folder, qtbot)
    controller.search_text("a red circle")
    qtbot.waitUntil(lambda: controller.results.rowCount() > 0, timeout=10_000)
    assert window.random_banner.isVisible()
    assert "random weights: results are meaningless" in window.random_banner.text()


def test_a_capped_list_says_so(make_window, tiny_embedder, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    results = [
        SearchResult(f"/p/{i}.jpg", FileKind.PHOTO, 0.5, match="weak") for i in range(RESULT_LIMIT)
    ]
    controller._on_results(controller._request_id, results)
    assert f"first {RESULT_LIMIT} shown" in window.status_label.text()


def test_a_narrow_window_keeps_a_usable_search_field_and_no_empty_band(
    make_window, tiny_embedder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    assert window.banner_area.isHidden()  # no banner: no grey band under the bar
    window.resize(480, 600)
    QApplication.processEvents()
    assert window.width() <= 500
    assert window.query_bar.edit.width() >= 150
    bar_bottom = window.query_bar.mapTo(window, window.query_bar.rect().bottomLeft()).y()
    assert window.pages.mapTo(window, window.pages.rect().topLeft()).y() - bar_bottom < 12
