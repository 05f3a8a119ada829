"""The window end to end with the tiny random model: real workers, real index."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QFileDialog

from finder.core.models.onnx_runtime import OnnxEmbedder
from finder.core.models.spec import resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.types import FileKind, SearchKind
from finder.ui.model_lifecycle import ModelPhase
from finder.ui.views.main_window import (
    PAGE_MESSAGE,
    PAGE_OVERVIEW,
    PAGE_RESULTS,
    PAGE_WELCOME,
    MainWindow,
)

SCREENSHOT_DIR = (
    Path(os.environ.get("FINDER_SCREENSHOT_DIR", ""))
    if os.environ.get("FINDER_SCREENSHOT_DIR")
    else None
)


def _indexed_window(make_window, tiny_embedder, photo_folder, qtbot):  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    controller.start()
    assert controller.model_phase is ModelPhase.READY
    with qtbot.waitSignal(controller.indexing_finished, timeout=60_000):
        controller.add_folder(str(photo_folder))
    return window, controller


def _drop(window: MainWindow, mime: QMimeData) -> None:
    event = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def test_first_run_shows_the_welcome_page(make_window, tiny_embedder) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    assert window.pages.currentIndex() == PAGE_WELCOME
    assert window.welcome_add.isVisible()
    assert window.windowTitle() == "finder"


def test_typing_a_query_fills_the_grid(
    make_window, tiny_embedder, photo_folder, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    window, controller = _indexed_window(make_window, tiny_embedder, photo_folder, qtbot)
    # Indexed, nothing asked: what the library holds, not a blank pane.
    assert window.pages.currentIndex() == PAGE_OVERVIEW
    # Once loaded, the model was exported and now runs on ONNX Runtime (same vectors).
    assert isinstance(controller.library.embedder, OnnxEmbedder)
    qtbot.keyClicks(window.query_bar.edit, "a red circle")
    qtbot.waitUntil(lambda: controller.results.rowCount() == 7, timeout=10_000)
    assert {r.kind for r in controller.results.results()} == {FileKind.PHOTO, FileKind.DOCUMENT}
    assert "results in" in window.status_label.text()
    # The Photos tab narrows the grid.
    window.query_bar.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: controller.results.rowCount() == 5, timeout=10_000)
    assert controller.kind is SearchKind.PHOTOS
    # Thumbnails load from the disk cache into the model.
    qtbot.waitUntil(
        lambda: all(
            controller.results.data(controller.results.index(r), Qt.ItemDataRole.DecorationRole)
            is not None
            for r in range(5)
        ),
        timeout=10_000,
    )
    window.resize(1000, 640)
    shot = (SCREENSHOT_DIR or tmp_path) / "main-window-results.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(shot))
    # Escape clears the query and the grid; Up brings the query back from history.
    window.query_bar.edit.setFocus()
    qtbot.keyClick(window.query_bar.edit, Qt.Key.Key_Return)
    qtbot.keyClick(window.query_bar.edit, Qt.Key.Key_Escape)
    assert window.query_bar.text() == "" and controller.results.rowCount() == 0
    assert window.pages.currentIndex() == PAGE_OVERVIEW  # Esc comes back to the overview
    qtbot.keyClick(window.query_bar.edit, Qt.Key.Key_Up)
    assert window.query_bar.text() == "a red circle"


def test_dropping_an_image_searches_with_it(
    make_window, tiny_embedder, photo_folder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = _indexed_window(make_window, tiny_embedder, photo_folder, qtbot)
    window.query_bar.tabs.setCurrentIndex(1)  # photos
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo_folder / "blue-circle.jpg"))])
    said: list[str] = []
    controller.status.connect(said.append)
    _drop(window, mime)
    assert window.query_bar.has_image()
    assert "blue-circle.jpg" in window.query_bar.chip.text()
    # The picture's own matches come first, while the text in it is read (OCR); then
    # the final list. (Not qtbot.waitSignal on the worker's signals: they are emitted on
    # its thread, and pytest-qt would stop its timer from there.)
    qtbot.waitUntil(lambda: any(s.endswith(" ms") for s in said), timeout=10_000)
    assert any("reading the text in the image" in s for s in said)
    assert controller.results.rowCount() > 0
    assert Path(controller.results.result(0).path).name == "blue-circle.jpg"
    # Removing the chip clears the image query.
    window.query_bar.chip.click()
    assert controller.query_image is None and controller.results.rowCount() == 0


def test_a_pasted_screenshot_searches_with_it(
    make_window, tiny_embedder, photo_folder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = _indexed_window(make_window, tiny_embedder, photo_folder, qtbot)
    image = QImage(str(photo_folder / "orange-square.jpg"))
    QApplication.clipboard().setImage(image)
    window.paste_image()
    assert window.query_bar.chip.text().startswith("pasted image")
    qtbot.waitUntil(lambda: controller.results.rowCount() > 0, timeout=10_000)


def test_dropping_a_non_image_explains_why_nothing_happened(
    make_window, tiny_embedder, photo_folder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = _indexed_window(make_window, tiny_embedder, photo_folder, qtbot)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo_folder / "notes" / "receipt.txt"))])
    _drop(window, mime)
    assert "not an image" in window.status_label.text()
    assert not window.query_bar.has_image()
    mime = QMimeData()
    mime.setText("just some words")
    _drop(window, mime)
    assert "not an image" in window.status_label.text().lower()


def test_adding_a_folder_through_the_dialog_indexes_it(
    make_window, tiny_embedder, photo_folder, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    controller.start()
    window.show_folders()
    dialog = window._folders_dialog
    assert dialog is not None and dialog.model.rowCount() == 0
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(photo_folder))
    )
    with qtbot.waitSignal(controller.indexing_finished, timeout=60_000):
        dialog.add_button.click()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1)
    assert dialog.model.item(0, 1).text() == "5" and dialog.model.item(0, 2).text() == "2"
    assert window.pages.currentIndex() == PAGE_OVERVIEW
    qtbot.keyClicks(window.query_bar.edit, "tax")
    qtbot.keyClick(window.query_bar.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: controller.results.rowCount() == 7, timeout=10_000)
    # Removing it drops it from the index, never the files.
    monkeypatch.setattr(
        "finder.ui.dialogs.folders.QMessageBox.question", staticmethod(lambda *a, **k: dialog_yes())
    )
    dialog.table.selectRow(0)
    with qtbot.waitSignal(controller.folders_changed, timeout=30_000):
        dialog.remove_button.click()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 0)
    assert (photo_folder / "red-circle.jpg").is_file()


def dialog_yes():  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    return QMessageBox.StandardButton.Yes


def test_opening_and_acting_on_a_result(make_window, tiny_embedder, photo_folder, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller = _indexed_window(make_window, tiny_embedder, photo_folder, qtbot)
    controller.search_text("green")
    qtbot.waitUntil(lambda: controller.results.rowCount() > 0, timeout=10_000)
    first = controller.results.result(0)
    window.results.activated.emit(controller.results.index(0))  # double click / Enter
    assert make_window.opened[-1] == QUrl.fromLocalFile(first.path)
    controller.copy_path(first)
    assert QApplication.clipboard().text() == first.path
    photo = next(r for r in controller.results.results() if r.kind is FileKind.PHOTO)
    controller.find_similar(photo)
    assert window.query_bar.has_image()
    qtbot.waitUntil(
        lambda: (
            controller.results.rowCount() > 0 and controller.results.result(0).path == photo.path
        ),
        timeout=10_000,
    )


def test_indexing_can_pause_and_the_window_closes_cleanly(
    make_window, tiny_embedder, photo_folder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    controller.start()
    assert controller.toggle_pause() is True  # paused before the run starts: it waits
    controller.add_folder(str(photo_folder))
    qtbot.waitUntil(lambda: controller.indexing)
    assert controller.toggle_pause() is False
    qtbot.waitUntil(lambda: not controller.indexing, timeout=60_000)
    window.close()
    assert not controller._indexer.thread.isRunning()
    assert not controller._searcher.thread.isRunning()


def test_missing_model_offers_download_and_keeps_keyword_search(
    make_window, photo_folder, qtbot, tiny_embedder
) -> None:  # type: ignore[no-untyped-def]
    # First index with the tiny model, then reopen with real weights that are not on disk.
    window, controller = _indexed_window(make_window, tiny_embedder, photo_folder, qtbot)
    window.close()
    missing = ClipEmbedder(resolve_model_spec("ViT-B-32", "laion2b_s34b_b79k"))
    window, controller = make_window(missing)
    controller.start()
    assert controller.model_phase is ModelPhase.MISSING
    assert window.banner.isVisible()
    assert "ViT-B-32" in window.banner_text.text()
    assert window.download_button.isVisible() and window.checkpoint_button.isVisible()
    controller.search_text("receipt")
    qtbot.waitUntil(lambda: controller.results.rowCount() == 1, timeout=10_000)
    assert controller.results.result(0).path.endswith("receipt.txt")
    assert window.pages.currentIndex() == PAGE_RESULTS and window.banner.isVisible()
    controller.search_text("no such words anywhere")
    qtbot.waitUntil(lambda: window.pages.currentIndex() == PAGE_MESSAGE, timeout=10_000)
    assert "No matches" in window.message.text()


def test_new_files_appear_live_while_the_window_is_open(
    make_window, tiny_embedder, photo_folder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import draw_photo

    window, controller = _indexed_window(make_window, tiny_embedder, photo_folder, qtbot)
    qtbot.waitUntil(lambda: controller.watcher is not None and controller.watcher.running)
    controller.watcher.wait_idle(30)  # the reconciliation scan after start
    window.query_bar.tabs.setCurrentIndex(1)
    controller.search_text("a teal circle")
    qtbot.waitUntil(lambda: controller.results.rowCount() == 5, timeout=10_000)
    draw_photo(photo_folder / "new" / "teal-circle.png", "teal")
    qtbot.waitUntil(
        lambda: any(r.path.endswith("teal-circle.png") for r in controller.results.results()),
        timeout=30_000,
    )
    (photo_folder / "green-square.jpg").unlink()
    qtbot.waitUntil(
        lambda: not any(r.path.endswith("green-square.jpg") for r in controller.results.results()),
        timeout=30_000,
    )
    window.show_folders()
    state = window._folders_dialog.model.item(0, 4).text()
    assert state == "watched" or state.startswith("checked every")  # inotify, or polling


def test_loading_a_checkpoint_file_switches_the_model(
    make_window, tiny_embedder, photo_folder, qtbot, tmp_path: Path, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    import shutil

    import torch

    from finder.core.library import Library
    from tests.helpers import TINY_CONFIG

    window, controller = _indexed_window(make_window, tiny_embedder, photo_folder, qtbot)
    config = tmp_path / "my-clip.json"
    shutil.copy(TINY_CONFIG, config)
    torch.save(tiny_embedder._model.state_dict(), tmp_path / "my-clip.pt")
    controller.library_factory = lambda spec: Library(data_dir, ClipEmbedder(spec), writable=True)
    controller.use_checkpoint(str(tmp_path / "my-clip.pt"))  # as "Load checkpoint file..."
    assert controller.model_phase is ModelPhase.READY
    assert controller.library.embedder.key.startswith("my-clip@file-")
    assert controller.settings.model == str(config)
    qtbot.waitUntil(lambda: not controller.indexing, timeout=60_000)
    controller.search_text("a red circle")
    qtbot.waitUntil(lambda: controller.results.rowCount() == 7, timeout=10_000)


def test_a_model_switch_runs_beside_searches_and_resumes_after_a_restart(
    make_window, tiny_embedder, tiny24_spec, photo_folder, qtbot, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    from finder.core.library import Library
    from finder.core.models.switching import ModelChoice, begin_switch, load_state

    def factory(spec):  # type: ignore[no-untyped-def]
        return Library(data_dir, ClipEmbedder(spec), writable=True)

    window, controller = _indexed_window(make_window, tiny_embedder, photo_folder, qtbot)
    controller.library_factory = factory
    a = tiny_embedder.spec
    with qtbot.waitSignal(controller.switch_finished, timeout=60_000):
        controller.choose_model(tiny24_spec)
    assert controller.library.embedder.key == tiny24_spec.key  # B took over when complete
    controller.choose_model(a)  # back to a complete index: at once
    assert controller.library.embedder.key == a.key

    # A switch left unfinished (the app was closed mid-way) goes on at the next start.
    from tests.helpers import draw_photo

    draw_photo(photo_folder / "later" / "yellow-circle.jpg", "yellow")  # only A has it
    controller.reindex()
    qtbot.waitUntil(lambda: not controller.indexing, timeout=60_000)
    state = begin_switch(
        data_dir, controller.library._catalog, ModelChoice.of(a), ModelChoice.of(tiny24_spec)
    )
    assert state.target is not None and state.target.key == tiny24_spec.key
    controller.shutdown()
    window.close()
    _, again = make_window(tiny_embedder)
    again.library_factory = factory
    with qtbot.waitSignal(again.switch_finished, timeout=60_000):
        again.start()
    assert again.library.embedder.key == tiny24_spec.key
    assert load_state(data_dir).target is None


def test_the_overview_shows_what_the_library_holds(
    make_window, tiny_embedder, photo_folder, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """After the first index run (and after Esc) the main area says what there is: the
    counts, the newest photos with their thumbnails, queries to try and how to search
    with a picture (it was a blank white pane)."""
    window, controller = _indexed_window(make_window, tiny_embedder, photo_folder, qtbot)
    overview = window.overview
    assert window.pages.currentIndex() == PAGE_OVERVIEW
    assert "5 photos and 2 documents in 1 folder" in overview.summary.text()
    assert overview.recent_model.rowCount() == 5
    assert {Path(r.path).parent for r in overview.recent_model.results()} == {photo_folder}
    qtbot.waitUntil(
        lambda: (
            overview.recent_model.data(
                overview.recent_model.index(0), Qt.ItemDataRole.DecorationRole
            )
            is not None
        ),
        timeout=10_000,
    )
    window.resize(1000, 640)
    shot = (SCREENSHOT_DIR or tmp_path) / "main-window-overview.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(shot))
    # An example query is typed into the box and asked.
    assert '<a href="sunset over the sea">' in overview.examples.text()
    overview.examples.linkActivated.emit("sunset over the sea")  # what a click on it sends
    assert window.query_bar.text() == "sunset over the sea"
    qtbot.waitUntil(lambda: window.pages.currentIndex() == PAGE_RESULTS, timeout=10_000)
    assert controller.results.rowCount() > 0
