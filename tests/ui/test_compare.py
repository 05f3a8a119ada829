"""The Compare window: two tiny models indexed here, their results side by side."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QPushButton

from finder.core.library import Library
from finder.core.models.spec import ModelUnavailableError
from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.search import compare as core_compare
from finder.core.types import SearchKind
from finder.ui.dialogs.compare import CompareDialog
from finder.ui.views.main_window import MainWindow
from finder.ui.views.results_model import DetailRole, ResultsModel, ThumbnailStateRole
from tests.helpers import index_with_two_models

SCREENSHOT_DIR = (
    Path(os.environ["FINDER_SCREENSHOT_DIR"]) if os.environ.get("FINDER_SCREENSHOT_DIR") else None
)


@pytest.fixture
def two_models(
    data_dir: Path, photo_folder: Path, tiny_embedder: ClipEmbedder, tiny24_embedder: ClipEmbedder
) -> Path:
    """7 files (5 photos, a note, a PDF) indexed by both tiny models; the 32-d one active."""
    index_with_two_models(data_dir, photo_folder, tiny_embedder, tiny24_embedder)
    return photo_folder


def _open(window: MainWindow, qtbot) -> CompareDialog:  # type: ignore[no-untyped-def]
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)  # shortcuts need it
    # From the results grid: its own Copy path shortcut must not shadow Ctrl+Shift+C.
    window.results.setFocus()
    qtbot.keyClick(
        window.results,
        Qt.Key.Key_C,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    dialog = window._compare_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=5_000)
    return dialog


def _thumbnails_in(model: ResultsModel) -> bool:
    """Asks for every tile's picture, as painting does; True once each has come (or has
    none: a text file)."""
    return all(
        model.data(model.index(r), Qt.ItemDataRole.DecorationRole) is not None
        or model.data(model.index(r), ThumbnailStateRole) == "none"
        for r in range(model.rowCount())
    )


def test_both_grids_fill_with_each_models_results(
    two_models: Path, make_window, tiny_embedder, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    controller.query_text = "a red circle"
    dialog = _open(window, qtbot)  # the controller's pool is None: the run is done already

    assert dialog.query.text() == "a red circle"
    assert [p.currentText() for p in dialog.pickers] == [
        "tiny-random (random weights) \u2014 active",
        "tiny-random-24 (random weights)",
    ]
    a, b = dialog.columns
    assert a.title.text() == "<b>A</b> \u00b7 tiny-random (random weights)"
    assert b.title.text() == "<b>B</b> \u00b7 tiny-random-24 (random weights)"
    assert a.results.rowCount() == b.results.rowCount() == 7
    assert a.summary.text().startswith("7 results") and "7 also in B" in a.summary.text()
    assert not dialog.busy.isVisible() and not dialog.running
    # Every file is in both top lists: each tile says where the other model put it.
    detail = a.results.data(a.results.index(0), DetailRole)
    assert detail[0].count(".") == 1 and detail[1].startswith("also #")
    tip = b.results.data(b.results.index(0), Qt.ItemDataRole.ToolTipRole)
    assert "score" in tip and "relevance" in tip and "in A" in tip

    # Typing compares again (debounced, like the main window's query bar).
    asked = dialog._request
    qtbot.keyClicks(dialog.query.edit, " on grass")
    qtbot.waitUntil(lambda: dialog._request > asked and not dialog.running, timeout=5_000)
    assert dialog.query.text() == "a red circle on grass" and a.results.rowCount() == 7

    # Photos only; the same pair, so the loaded model is reused.
    comparison = dialog._comparison
    dialog.query.tabs.setCurrentIndex(1)
    assert dialog.kind is SearchKind.PHOTOS and dialog._comparison is comparison
    assert a.results.rowCount() == b.results.rowCount() == 5

    # Double-click opens the file like the main grid; selecting it marks it in B.
    view = a.view
    view.setCurrentIndex(a.results.index(0))
    path = a.results.result(0).path
    assert b.results.result(b.view.currentIndex().row()).path == path
    qtbot.waitUntil(lambda: not view.visualRect(a.results.index(0)).isEmpty(), timeout=5_000)
    rect = view.visualRect(a.results.index(0))
    # The press a real double click starts with (QTest's double click sends none).
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert [u.toLocalFile() for u in make_window.opened] == [path]
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)  # Copy path
    assert QApplication.clipboard().text() == path

    qtbot.waitUntil(lambda: _thumbnails_in(a.results), timeout=10_000)
    shot = (SCREENSHOT_DIR or tmp_path) / "compare-dialog.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    assert dialog.grab().save(str(shot))

    loaded = comparison._owned[dialog.candidates[1].key]  # type: ignore[union-attr]
    dialog.close()
    assert comparison.closed and not loaded.loaded  # the second model is released


def test_an_image_query_is_taken_from_the_main_window(
    two_models: Path, make_window, tiny_embedder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    from finder.ui.drop_zone import image_from_file

    window, controller = make_window(tiny_embedder)
    picture = two_models / "green-square.jpg"
    controller.query_image = image_from_file(str(picture)).image
    controller.kind = SearchKind.PHOTOS  # random models: a PDF page may beat any photo
    window.show_compare()
    dialog = window._compare_dialog
    assert dialog is not None and dialog.query.has_image() and dialog.query.text() == ""
    for column in dialog.columns:
        assert column.results.result(0).path == str(picture)  # the picture itself first
    dialog.close()


def test_with_one_model_indexed_it_says_how_to_build_another(
    data_dir: Path, photo_folder: Path, make_window, tiny_embedder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    library = Library(data_dir, tiny_embedder, writable=True, ocr=False)
    library.add_folder(photo_folder)
    library._indexer.run()
    library.close()
    window, controller = make_window(tiny_embedder)
    window.show_compare()
    dialog = window._compare_dialog
    assert dialog is not None
    assert dialog.notice.isVisible() and not dialog.splitter.isVisible()
    text = dialog.notice_text.text()
    assert "only tiny-random (random weights) has one" in text and "Use this model" in text
    assert not dialog.compare_button.isEnabled()
    dialog.close()


def test_the_models_dialog_opens_it(two_models: Path, make_window, tiny_embedder, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, _ = make_window(tiny_embedder)
    window.show_models()
    models = window._models_dialog
    assert models is not None
    models.compare_requested.emit()
    assert window._compare_dialog is not None and window._compare_dialog.isVisible()
    assert QKeySequence("Ctrl+Shift+C") in [a.shortcut() for a in window.actions()]
    window._compare_dialog.close()
    models.close()
    # And the button beside Models… in the main window.
    button = next(b for b in window.findChildren(QPushButton) if b.text() == "Compare\u2026")
    button.click()
    assert window._compare_dialog.isVisible()
    window._compare_dialog.close()


def _opened_as(cls: type[ClipEmbedder]):  # type: ignore[no-untyped-def]
    """Compare's model opener, making every second model a `cls`."""
    return lambda spec, data_dir, **settings: cls(spec)


class _NoWeights(ClipEmbedder):
    def load(self) -> None:
        raise ModelUnavailableError("CLIP weights for tiny-random-24 are not on disk")


def test_a_model_that_cannot_load_shows_why_in_its_column(
    two_models: Path,
    make_window,
    tiny_embedder,
    qtbot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(core_compare, "open_embedder", _opened_as(_NoWeights))
    window, controller = make_window(tiny_embedder)
    controller.query_text = "tax return"
    window.show_compare()
    dialog = window._compare_dialog
    assert dialog is not None
    a, b = dialog.columns
    assert a.results.rowCount() == 7 and a.pages.currentWidget() is a.view
    assert b.pages.currentWidget() is b.message and b.results.rowCount() == 0
    assert b.message.text().endswith("<br>CLIP weights for tiny-random-24 are not on disk")
    assert b.summary.text() == "No results" and "also in" not in a.summary.text()
    qtbot.waitUntil(lambda: _thumbnails_in(a.results), timeout=10_000)
    assert dialog.grab().save(str((SCREENSHOT_DIR or tmp_path) / "compare-error.png"))
    dialog.close()


class _GatedEmbedder(ClipEmbedder):
    """Loads only once the test says so: a second model that takes its time."""

    gate = threading.Event()
    made: list[_GatedEmbedder] = []

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        _GatedEmbedder.made.append(self)

    def load(self) -> None:
        assert self.gate.wait(30)
        super().load()


def _comparing_with_a_slow_second_model(  # type: ignore[no-untyped-def]
    make_window, tiny_embedder, monkeypatch: pytest.MonkeyPatch
) -> tuple[CompareDialog, QThreadPool]:
    """A Compare window running "a red circle", its second model held at loading."""
    monkeypatch.setattr(core_compare, "open_embedder", _opened_as(_GatedEmbedder))
    _GatedEmbedder.gate.clear()
    _GatedEmbedder.made.clear()
    window, controller = make_window(tiny_embedder)
    controller.query_text = "a red circle"
    pool = QThreadPool.globalInstance()
    dialog = CompareDialog(controller, window, pool=pool)
    dialog.prepare()
    dialog.show()
    dialog.run()
    return dialog, pool


def test_closing_while_the_second_model_loads_leaves_nothing_running(
    two_models: Path, make_window, tiny_embedder, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    dialog, pool = _comparing_with_a_slow_second_model(make_window, tiny_embedder, monkeypatch)
    assert dialog.busy.isVisible()
    qtbot.waitUntil(
        lambda: dialog.state.text().startswith("Loading tiny-random-24"), timeout=10_000
    )
    comparison = dialog._comparison
    assert comparison is not None
    dialog.close()  # mid-load: the window goes, the load finishes on its own
    _GatedEmbedder.gate.set()
    assert pool.waitForDone(30_000)
    qtbot.wait(50)  # let the late answer arrive: it is ignored
    assert comparison.closed and not comparison._owned
    assert [e.loaded for e in _GatedEmbedder.made] == [False]  # released after loading
    # Column A came at once; B's late answer is ignored.
    assert not dialog.busy.isVisible() and dialog.columns[1].results.rowCount() == 0


def test_column_a_shows_while_the_second_model_loads(
    two_models: Path, make_window, tiny_embedder, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The active model's column does not wait for the other model to load (it took
    5-20 s with real models before anything showed)."""
    dialog, pool = _comparing_with_a_slow_second_model(make_window, tiny_embedder, monkeypatch)
    a, b = dialog.columns
    qtbot.waitUntil(lambda: a.results.rowCount() == 7, timeout=10_000)
    assert dialog.busy.isVisible() and b.results.rowCount() == 0
    assert b.summary.text() == "Searching\u2026" and "also in" not in a.summary.text()
    _GatedEmbedder.gate.set()
    qtbot.waitUntil(lambda: b.results.rowCount() == 7, timeout=30_000)
    assert "also in B" in a.summary.text() and not dialog.busy.isVisible()
    dialog.close()
    assert pool.waitForDone(30_000)
